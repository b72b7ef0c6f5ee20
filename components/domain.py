"""Domain: composes routing, fan-out, queue and compute tiers for one business domain.

Built in two steps, so that domains may read each other's buses in any order (`also_from`): the
constructor builds the domain's bus and every rule on it (other domains' consumers' included),
its schedules and topics; `add_consumers`, once every domain's bus exists, builds the consumers,
whose queues admit their rules on whichever buses they are, and connects those rules to them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from components.compute import ConsumerFunction
from components.fanout import FanoutTopic, encrypted_topic
from components.ordering import EntityOrdering
from components.platform import Platform
from components.queue import ConsumerQueue, Encryption, Sender
from components.routing import Routing, rule_patterns
from components.schedules import DomainSchedules
from handlers.catalog import HANDLERS
from settings.feeds import event_domains, feeds, feeds_on
from settings.load import schema_path
from settings.model import ConsumerConfig, StackConfig
from settings.naming import DomainNames, archive_prefix, tags


class Domain(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        config: StackConfig,
        names: DomainNames,
        platform: Platform,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eda:domain:Domain", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        domain = config.domains[name]
        retention = config.retention
        self._name = name
        self._config = config
        self._platform = platform
        self._domain = domain
        self._names = names
        self._retention = retention
        domain_tags = tags(names.stack, name)

        self.routing = Routing(
            f"{name}-routing",
            names=names,
            domain=domain,
            schemas={
                t: json.loads(schema_path(name, t).read_text()) for t in domain.event_types
            },
            subscriptions=rule_patterns(config, name),
            archive_days=retention.archive_days,
            dlq_retention_days=retention.dlq_days,
            encryption=self._encryption("sse-sqs"),
            alarm_topic_arn=platform.alarm_topic_arn,
            tags=domain_tags,
            # A rule that feeds another domain's consumer is that consumer's (settings.naming.tags).
            rule_tags={
                feed.subscriber: tags(names.stack, reader, consumer)
                for reader, consumer, feed in feeds_on(config, name)
                if reader != name
            },
            opts=child,
        )

        if domain.schedules:
            DomainSchedules(
                f"{name}-schedules",
                names=names,
                source=domain.source,
                schedules=domain.schedules,
                bus_arn=self.routing.bus.arn,
                delivery_dlq_arn=self.routing.delivery_dlq.queue.arn,
                account_id=platform.account_id,
                region=platform.region,
                alarm_topic_arn=platform.alarm_topic_arn,
                tags=domain_tags,
                opts=child,
            )

        self.topics = {
            topic: FanoutTopic(
                f"{name}-{topic}",
                topic_name=names.topic(topic),
                delivery_dlq_name=names.topic_delivery_dlq(topic),
                key_arn=platform.key_arn,
                rule_arn=self.routing.rules[topic].arn,
                dlq_retention_days=retention.dlq_days,
                alarm_topic_arn=platform.alarm_topic_arn,
                tags=domain_tags,
                opts=child,
            )
            for topic in domain.topics
        }
        for topic, fanout in self.topics.items():
            self.routing.connect(topic, fanout.topic.arn, admitted_by=[fanout.policy])

        self.notifications = None
        if any("notify_topic" in HANDLERS[c.handler].needs for c in domain.consumers.values()):
            # Customer-facing messages; its subscribers (SMS, e-mail, apps) are managed elsewhere.
            self.notifications, _ = encrypted_topic(
                f"{name}-notifications",
                topic_name=names.notifications_topic,
                key_arn=platform.key_arn,
                publisher_service=None,
                publisher_condition=None,
                tags=domain_tags,
                parent=self,
            )

    def _encryption(self, kind: str) -> Encryption:
        return Encryption(kind, self._platform.key_arn if kind == "kms" else None)

    def add_consumers(self, buses: Mapping[str, Routing]) -> None:
        """Each consumer's queue, ordering hop and function, and the targets of the rules that
        feed it; `buses` is every domain's routing, by domain (a consumer's feeds may be on any)."""
        name, names, domain = self._name, self._names, self._domain
        platform, retention = self._platform, self._retention
        child = pulumi.ResourceOptions(parent=self)
        self.queues: dict[str, ConsumerQueue] = {}
        self.ingress: dict[str, pulumi.Input[str]] = {}  # the queue a consumer's rules target
        self.functions: dict[str, ConsumerFunction] = {}
        for consumer_name, consumer in domain.consumers.items():
            consumer_tags = tags(names.stack, name, consumer_name)
            fifo = consumer.queue.kind == "fifo"
            consumer_feeds = feeds(self._config, name, consumer_name)
            rules = [f for f in consumer_feeds if f.topic is None]
            rule_arns = [buses[f.bus_domain].rules[f.subscriber].arn for f in rules]
            # Per-entity groups: a pipe (same account, its role's IAM policy) sends to the queue;
            # the rules send to its staging queue.
            grouped = consumer.queue.message_group_path is not None
            senders = [
                Sender("sns.amazonaws.com", [self.topics[f.topic].topic.arn])
                for f in consumer_feeds
                if f.topic is not None
            ]
            if rules and not grouped:
                senders.append(Sender("events.amazonaws.com", rule_arns))
            queue = ConsumerQueue(
                f"{name}-{consumer_name}",
                queue_name=names.queue(consumer_name, fifo),
                dlq_name=names.dlq(consumer_name, fifo),
                settings=consumer.queue,
                dlq_retention_days=retention.dlq_days,
                encryption=self._encryption(consumer.queue.encryption),
                senders=senders,
                alarm_topic_arn=platform.alarm_topic_arn,
                tags=consumer_tags,
                opts=child,
            )
            sub = consumer.subscribe
            if sub.topic is not None:
                self.topics[sub.topic].subscribe(
                    consumer_name, queue.queue.arn, sub.filter_policy, admitted_by=[queue.policy]
                )
            if grouped:
                ordering = EntityOrdering(
                    f"{name}-{consumer_name}-ordering",
                    staging_name=names.staging_queue(consumer_name),
                    staging_dlq_name=names.staging_dlq(consumer_name),
                    pipe_name=names.pipe(consumer_name),
                    role_name=names.pipe_role(consumer_name),
                    message_group_path=consumer.queue.message_group_path,
                    static_group=consumer_name,
                    target_queue_arn=queue.queue.arn,
                    consumer_queue=consumer.queue,
                    encryption=self._encryption(consumer.queue.encryption),
                    dlq_retention_days=retention.dlq_days,
                    rule_arns=rule_arns,
                    account_id=platform.account_id,
                    region=platform.region,
                    alarm_topic_arn=platform.alarm_topic_arn,
                    tags=consumer_tags,
                    opts=child,
                )
                ingress, group = ordering.staging, ordering.static_group
            else:
                ingress, group = queue, consumer.queue.message_group_id
            if rules:
                self.ingress[consumer_name] = ingress.queue.url
            for feed in rules:
                buses[feed.bus_domain].connect(
                    feed.subscriber,
                    ingress.queue.arn,
                    admitted_by=[ingress.policy],
                    message_group_id=group,
                    input_transformer=feed.rule.input_transformer,
                )
            self.queues[consumer_name] = queue
            self.functions[consumer_name] = ConsumerFunction(
                f"{name}-{consumer_name}",
                function_name=names.function(consumer_name),
                role_name=names.function_role(consumer_name),
                log_group_name=names.log_group(consumer_name),
                handler=consumer.handler,
                consumer=consumer,
                queue_arn=queue.queue.arn,
                table_arn=platform.table_arn,
                environment=self._environment(name, consumer_name, consumer),
                grants=self._grants(name, consumer),
                code=platform.code,
                layers=[platform.layers[consumer.architecture]],
                log_days=retention.log_days,
                tags=consumer_tags,
                opts=child,
            )

        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=names.dashboard,
            dashboard_body=self._dashboard_body(platform.region),
            opts=child,
        )
        # What operators need (also the stack's export per domain). The rules are those on this
        # domain's bus, by subscriber: other domains' consumers that read it included.
        self.outputs = {
            "bus_arn": self.routing.bus.arn,
            "bus_name": self.routing.bus.name,
            "queue_urls": {c: q.queue.url for c, q in self.queues.items()},
            "dlq_urls": {c: q.dlq.queue.url for c, q in self.queues.items()},
            "delivery_dlq_url": self.routing.delivery_dlq.queue.url,
            "topic_delivery_dlq_urls": {
                t: f.delivery_dlq.queue.url for t, f in self.topics.items()
            },
            "rule_names": {s: r.name for s, r in self.routing.rules.items()},
            "rule_arns": {s: r.arn for s, r in self.routing.rules.items()},
            "ingress_urls": self.ingress,
            "function_names": {c: f.function.name for c, f in self.functions.items()},
            "notifications_topic_arn": self.notifications.arn if self.notifications else None,
            "dashboard": self.dashboard.dashboard_name,
        }
        self.register_outputs(self.outputs)

    def _environment(self, domain_name: str, consumer_name: str, consumer: ConsumerConfig) -> dict:
        platform, domain = self._platform, self._domain
        env: dict[str, pulumi.Input[str]] = {
            "POWERTOOLS_SERVICE_NAME": f"{domain_name}-{consumer_name}",
            "POWERTOOLS_METRICS_NAMESPACE": f"eda/{self._names.stack}",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "IDEMPOTENCY_TABLE": platform.table_name,
            "IDEMPOTENCY_KEY_PATH": consumer.idempotency_key,
            "IDEMPOTENCY_WINDOW_SECONDS": str(self._config.window_s(consumer)),
            "QUEUE_KIND": consumer.queue.kind,
            "FIFO_SKIP_GROUP_ON_ERROR": str(consumer.queue.fifo_on_failure == "hold-group").lower(),
            "EVENT_DOMAINS": json.dumps(
                event_domains(self._config, domain_name, consumer_name), sort_keys=True
            ),
            "EVENT_SOURCE": domain.source,
            "EVENT_BUS_NAME": self.routing.bus.name,
        }
        needs = HANDLERS[consumer.handler].needs
        if "archive_bucket" in needs:
            env["ARCHIVE_BUCKET"] = platform.bucket_name
            env["ARCHIVE_PREFIX"] = archive_prefix(domain_name)
        if "notify_topic" in needs and self.notifications is not None:
            env["NOTIFY_TOPIC_ARN"] = self.notifications.arn
        return {**env, **consumer.environment}

    def _grants(self, domain_name: str, consumer: ConsumerConfig) -> list[dict[str, Any]]:
        platform = self._platform
        needs = HANDLERS[consumer.handler].needs
        channel = consumer.environment.get("NOTIFY_CHANNEL", "sns")
        # The platform key, only through the services this consumer uses it with: the table
        # (every consumer is given it; under the key, used with the caller's permissions), a
        # customer-key queue it reads, the encrypted notifications topic it publishes to.
        services = ["dynamodb"]
        if consumer.queue.encryption == "kms":
            services.append("sqs")
        if "notify_topic" in needs and channel == "sns":
            services.append("sns")
        grants: list[dict[str, Any]] = [
            {
                "Sid": "PlatformKeyViaItsServices",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": platform.key_arn,
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": [
                            f"{service}.{platform.region}.amazonaws.com" for service in services
                        ]
                    }
                },
            }
        ]
        if "event_bus" in needs:
            grants.append(
                {"Effect": "Allow", "Action": "events:PutEvents", "Resource": self.routing.bus.arn}
            )
        if "archive_bucket" in needs:
            grants.append(
                {
                    "Effect": "Allow",
                    "Action": ["s3:PutObject", "s3:GetObject"],
                    "Resource": pulumi.Output.concat(
                        platform.bucket_arn, "/", archive_prefix(domain_name), "*"
                    ),
                }
            )
        if "notify_topic" in needs and channel == "sns" and self.notifications is not None:
            grants.append(
                {"Effect": "Allow", "Action": "sns:Publish", "Resource": self.notifications.arn}
            )
        if "ses" in needs and channel == "ses":
            sender = consumer.environment.get("NOTIFY_FROM", "")
            identity = sender.rpartition("@")[2]
            grants.append(
                {
                    "Effect": "Allow",
                    "Action": ["ses:SendEmail", "ses:SendRawEmail"],
                    "Resource": pulumi.Output.concat(
                        f"arn:aws:ses:{platform.region}:",
                        platform.account_id,
                        f":identity/{identity}",
                    ),
                }
            )
        return grants

    def _dashboard_body(self, region: str) -> pulumi.Output[str]:
        """One row per consumer: its queue, its DLQ and its function, side by side."""
        widgets: list[dict[str, Any]] = []

        def widget(title: str, metrics: list[list[Any]], x: int, y: int) -> dict[str, Any]:
            return {
                "type": "metric",
                "x": x,
                "y": y,
                "width": 8,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": region,
                    "stat": "Sum",
                    "period": 300,
                    "metrics": metrics,
                },
            }

        for row, (consumer_name, queue) in enumerate(self.queues.items()):
            function = self.functions[consumer_name].function
            y = row * 6
            widgets += [
                widget(
                    f"{consumer_name}: queue",
                    [
                        ["AWS/SQS", "NumberOfMessagesSent", "QueueName", queue.queue.name],
                        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName",
                         queue.queue.name, {"stat": "Maximum", "yAxis": "right"}],
                    ],
                    0,
                    y,
                ),
                widget(
                    f"{consumer_name}: dead letters",
                    [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName",
                      queue.dlq.queue.name, {"stat": "Maximum"}]],
                    8,
                    y,
                ),
                widget(
                    f"{consumer_name}: function",
                    [
                        ["AWS/Lambda", "Invocations", "FunctionName", function.name],
                        ["AWS/Lambda", "Errors", "FunctionName", function.name],
                        ["AWS/Lambda", "Throttles", "FunctionName", function.name],
                    ],
                    16,
                    y,
                ),
            ]
        return pulumi.Output.json_dumps({"widgets": widgets})
