"""Routing tier: a domain's custom bus, its schemas, rules, targets, archive, policy and schedules.

Rules are created first and targets later (`connect`), because a target's queue or topic policy
names the rule's ARN as the only allowed sender.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import assume_role_policy, policy_document
from components.queue import DeadLetterQueue, Encryption, Sender
from settings.model import DomainConfig, InputTransformer
from settings.patterns import event_pattern
from settings.naming import DomainNames

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
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`subscriptions` maps each subscriber (consumer or topic) to its deployed pattern."""
        super().__init__("eda:routing:Routing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._name = name
        self._child = child
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
                tags=tags,
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

        for schedule_name, schedule in domain.schedules.items():
            role = aws.iam.Role(
                f"{name}-schedule-{schedule_name}-role",
                assume_role_policy=assume_role_policy("scheduler.amazonaws.com"),
                tags=tags,
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{name}-schedule-{schedule_name}-policy",
                role=role.id,
                policy=policy_document(
                    [
                        {"Effect": "Allow", "Action": "events:PutEvents", "Resource": self.bus.arn},
                        {
                            "Effect": "Allow",
                            "Action": "sqs:SendMessage",
                            "Resource": self.delivery_dlq.queue.arn,
                        },
                    ]
                ),
                opts=child,
            )
            aws.scheduler.Schedule(
                f"{name}-schedule-{schedule_name}",
                name=names.schedule(schedule_name),
                schedule_expression=schedule.expression,
                schedule_expression_timezone=schedule.timezone,
                flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
                target=aws.scheduler.ScheduleTargetArgs(
                    arn=self.bus.arn,
                    role_arn=role.arn,
                    eventbridge_parameters=aws.scheduler.ScheduleTargetEventbridgeParametersArgs(
                        detail_type=schedule.detail_type, source=domain.source
                    ),
                    input=json.dumps(schedule.detail, sort_keys=True),
                    retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                        maximum_event_age_in_seconds=3_600, maximum_retry_attempts=10
                    ),
                    dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(
                        arn=self.delivery_dlq.queue.arn
                    ),
                ),
                opts=child,
            )

        self.register_outputs({"bus_arn": self.bus.arn, "bus_name": self.bus.name})

    def connect(
        self,
        subscriber: str,
        target_arn: pulumi.Input[str],
        *,
        message_group_path: str | None = None,
        input_transformer: InputTransformer | None = None,
    ) -> aws.cloudwatch.EventTarget:
        """Point a subscriber's rule at its queue or topic, with retries and the delivery DLQ."""
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
            # A JSON path here is resolved per event (dynamic path parameter), so each payment
            # is its own message group: ordered per payment, parallel across payments.
            sqs_target=aws.cloudwatch.EventTargetSqsTargetArgs(message_group_id=message_group_path)
            if message_group_path
            else None,
            input_transformer=transformer,
            opts=self._child,
        )


def rule_patterns(domain: DomainConfig) -> dict[str, dict[str, Any]]:
    """Every subscriber fed by a rule on the domain's bus (topics and direct consumers)."""
    patterns = {name: event_pattern(t.subscribe, domain.source) for name, t in domain.topics.items()}
    for name, consumer in domain.consumers.items():
        if consumer.subscribe.topic is None:
            patterns[name] = event_pattern(consumer.subscribe, domain.source)
    return patterns
