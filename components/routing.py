"""Routing tier: a domain's custom bus, its schemas, rules, targets, archive, policy and schedules.

Rules are created first and targets later (`connect`), because a target's queue or topic policy
names the rule's ARN as the only allowed sender. A bus also carries the rules of other domains'
consumers that read it (`also_from`, `settings.feeds`): each is a rule like any other here (the
bus's retries, delivery DLQ and alarms), its target another domain's queue.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarms import alarm
from components.iam import policy_document
from components.queue import DeadLetterQueue, Encryption, Sender
from settings.feeds import rules_on
from settings.model import DomainConfig, InputTransformer, StackConfig
from settings.naming import DomainNames
from settings.patterns import event_pattern

# EventBridge's own retry ceiling: 24 h and 185 attempts before the target DLQ takes the event.
TARGET_RETRY = aws.cloudwatch.EventTargetRetryPolicyArgs(
    maximum_event_age_in_seconds=86_400, maximum_retry_attempts=185
)


def openapi_schema(source: str, detail_type: str, json_schema: dict[str, Any]) -> str:
    """The registry's OpenAPI 3 form of a JSON Schema, wrapped in the EventBridge envelope."""
    detail = _to_openapi(json_schema)
    detail.pop("title", None)
    envelope_fields = ["account", "detail-type", "id", "region", "source", "time", "version"]
    document = {
        "openapi": "3.0.0",
        "info": {"version": "1.0.0", "title": detail_type},
        "paths": {},
        "components": {
            "schemas": {
                "AWSEvent": {
                    "type": "object",
                    "required": [*envelope_fields, "detail", "resources"],
                    "x-amazon-events-detail-type": detail_type,
                    "x-amazon-events-source": source,
                    "properties": {
                        **{f: {"type": "string"} for f in envelope_fields},
                        "time": {"type": "string", "format": "date-time"},
                        "resources": {"type": "array", "items": {"type": "string"}},
                        "detail": {"$ref": f"#/components/schemas/{detail_type}"},
                    },
                },
                detail_type: detail,
            }
        },
    }
    return json.dumps(document, sort_keys=True)


def _to_openapi(schema: Any) -> Any:
    """JSON Schema 2020-12 → OpenAPI 3.0 schema object (no `$schema`, no `const`)."""
    if isinstance(schema, list):
        return [_to_openapi(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {k: _to_openapi(v) for k, v in schema.items() if k != "$schema"}
    if "const" in converted:
        converted["enum"] = [converted.pop("const")]
    return converted


class Routing(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        names: DomainNames,
        domain: DomainConfig,
        schemas: dict[str, dict[str, Any]],
        subscriptions: dict[str, dict[str, Any]],
        archive_days: int,
        dlq_retention_days: int,
        encryption: Encryption,
        alarm_topic_arn: pulumi.Input[str],
        tags: dict[str, str],
        rule_tags: dict[str, dict[str, str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`subscriptions` maps each subscriber (topic, consumer, or another domain's consumer)
        to its deployed pattern; `rule_tags` the subscribers whose rule and alarms are tagged
        otherwise than `tags` (another domain's consumers: theirs)."""
        super().__init__("eda:routing:Routing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._name = name
        self.bus = aws.cloudwatch.EventBus(f"{name}-bus", name=names.bus, tags=tags, opts=child)

        registry = aws.schemas.Registry(
            f"{name}-registry",
            name=names.registry,
            description=f"Event schemas of {domain.source}",
            tags=tags,
            opts=child,
        )
        for detail_type, schema in schemas.items():
            aws.schemas.Schema(
                f"{name}-schema-{detail_type}",
                name=f"{domain.source}@{detail_type}",
                registry_name=registry.name,
                type="OpenApi3",
                content=openapi_schema(domain.source, detail_type, schema),
                tags=tags,
                opts=child,
            )

        aws.cloudwatch.EventArchive(
            f"{name}-archive",
            name=names.archive,
            event_source_arn=self.bus.arn,
            retention_days=archive_days,
            description=f"Replay source for {domain.source}",
            opts=child,
        )

        if domain.producer_accounts:
            aws.cloudwatch.EventBusPolicy(
                f"{name}-bus-policy",
                event_bus_name=self.bus.name,
                policy=policy_document(
                    [
                        {
                            "Sid": "AdmittedProducerAccounts",
                            "Effect": "Allow",
                            "Principal": {
                                "AWS": [f"arn:aws:iam::{a}:root" for a in domain.producer_accounts]
                            },
                            "Action": "events:PutEvents",
                            "Resource": self.bus.arn,
                            # A producer account may speak only for this domain.
                            "Condition": {"StringEquals": {"events:source": domain.source}},
                        }
                    ]
                ),
                opts=child,
            )

        self.rules = {
            subscriber: aws.cloudwatch.EventRule(
                f"{name}-rule-{subscriber}",
                name=names.rule(subscriber),
                event_bus_name=self.bus.name,
                event_pattern=json.dumps(pattern, sort_keys=True),
                description=f"Routes {domain.source} events to {subscriber}",
                tags=rule_tags.get(subscriber, tags),
                opts=child,
            )
            for subscriber, pattern in subscriptions.items()
        }

        # Where EventBridge and the Scheduler put what they could not deliver after retries.
        self.delivery_dlq = DeadLetterQueue(
            f"{name}-delivery-dlq",
            queue_name=names.delivery_dlq,
            fifo=False,  # EventBridge target DLQs must be standard queues, even for FIFO targets
            retention_days=dlq_retention_days,
            encryption=encryption,
            alarm_topic_arn=alarm_topic_arn,
            tags=tags,
            sender=Sender("events.amazonaws.com", [rule.arn for rule in self.rules.values()]),
            opts=child,
        )

        for subscriber in subscriptions:
            self._rule_alarms(
                subscriber, names.rule(subscriber), alarm_topic_arn, rule_tags.get(subscriber, tags)
            )

        self.register_outputs({"bus_arn": self.bus.arn, "bus_name": self.bus.name})

    def _rule_alarms(
        self, subscriber: str, rule_name: str, topic_arn: pulumi.Input[str], tags: dict[str, str]
    ) -> None:
        """A rule's two silent-loss counts: events its target refused for good (they went to the
        delivery DLQ, or nowhere), and events the delivery DLQ refused too (lost)."""
        dimensions = {"EventBusName": self.bus.name, "RuleName": self.rules[subscriber].name}
        for metric, what, outcome in (
            ("FailedInvocations", "failed-invocations", "see the delivery DLQ"),
            ("InvocationsFailedToBeSentToDlq", "dlq-refused", "these events are lost"),
        ):
            alarm(
                f"{self._name}-rule-{subscriber}-{what}",
                watched=rule_name,
                what=what,
                description=f"{rule_name}: {metric} > 0, {outcome}.",
                namespace="AWS/Events",
                metric=metric,
                dimensions=dimensions,
                topic_arn=topic_arn,
                tags=tags,
                parent=self,
            )

    def connect(
        self,
        subscriber: str,
        target_arn: pulumi.Input[str],
        *,
        admitted_by: list[pulumi.Resource],
        message_group_id: str | None = None,
        input_transformer: InputTransformer | None = None,
    ) -> aws.cloudwatch.EventTarget:
        """Point a subscriber's rule at its queue or topic, with retries and the delivery DLQ.

        The target waits for `admitted_by`, the policies that let the rule send to its
        destination, and for the delivery DLQ's: EventBridge does not retry a permission error,
        it sends the event to the DLQ, and drops it when the DLQ refuses too ("Event retry
        policy and using dead-letter queues", EventBridge User Guide).
        """
        transformer = None
        if input_transformer is not None:
            transformer = aws.cloudwatch.EventTargetInputTransformerArgs(
                input_paths=input_transformer.input_paths,
                input_template=input_transformer.template,
            )
        return aws.cloudwatch.EventTarget(
            f"{self._name}-target-{subscriber}",
            rule=self.rules[subscriber].name,
            event_bus_name=self.bus.name,
            target_id=subscriber,
            arn=target_arn,
            retry_policy=TARGET_RETRY,
            dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(
                arn=self.delivery_dlq.queue.arn
            ),
            # A fixed group, sent as given (rule targets resolve no paths): per-entity groups go
            # through components.ordering.
            sqs_target=aws.cloudwatch.EventTargetSqsTargetArgs(message_group_id=message_group_id)
            if message_group_id
            else None,
            input_transformer=transformer,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*admitted_by, *filter(None, [self.delivery_dlq.policy])],
            ),
        )


def rule_patterns(config: StackConfig, domain_name: str) -> dict[str, dict[str, Any]]:
    """Every subscriber fed by a rule on the domain's bus, with its deployed pattern: topics,
    consumers fed by a rule, other domains' consumers that also read it (`settings.feeds`)."""
    source = config.domains[domain_name].source
    return {s: event_pattern(rule, source) for s, rule in rules_on(config, domain_name).items()}
