"""Fan-out tier: an encrypted SNS topic fed by one rule, with one queue subscribed per consumer.

One producer, many consumers → SNS + SQS: each consumer keeps its own queue, DLQ and pace, and a
filter policy decides what each one receives. SNS drops a message it cannot deliver for a
client-side reason (the queue's policy or key refuses it) unless the subscription has a
redrive policy ("Amazon SNS dead-letter queues", SNS Developer Guide): every subscription of a
topic redrives to the topic's delivery DLQ, alarmed like every other DLQ.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarms import alarm
from components.iam import policy_document
from components.queue import DeadLetterQueue, Encryption, Sender


def encrypted_topic(
    name: str,
    *,
    topic_name: str,
    key_arn: pulumi.Input[str],
    publisher_service: str | None,
    publisher_condition: dict[str, Any] | None,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> tuple[aws.sns.Topic, aws.sns.TopicPolicy | None]:
    """A topic under the platform's customer key (AWS-managed SNS keys refuse EventBridge and
    CloudWatch as publishers), writable only by the named service resource; and its policy."""
    child = pulumi.ResourceOptions(parent=parent)
    topic = aws.sns.Topic(
        f"{name}-topic", name=topic_name, kms_master_key_id=key_arn, tags=tags, opts=child
    )
    if publisher_service is None:
        return topic, None
    policy = aws.sns.TopicPolicy(
        f"{name}-topic-policy",
        arn=topic.arn,
        policy=policy_document(
            [
                {
                    "Sid": "OnlyDeclaredPublisher",
                    "Effect": "Allow",
                    "Principal": {"Service": publisher_service},
                    "Action": "sns:Publish",
                    "Resource": topic.arn,
                    "Condition": publisher_condition,
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sns:Publish",
                    "Resource": topic.arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ]
        ),
        opts=child,
    )
    return topic, policy


class FanoutTopic(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        topic_name: str,
        delivery_dlq_name: str,
        key_arn: pulumi.Input[str],
        rule_arn: pulumi.Input[str],
        dlq_retention_days: int,
        alarm_topic_arn: pulumi.Input[str],
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eda:fanout:FanoutTopic", name, None, opts)
        self._name = name
        self.topic, self.policy = encrypted_topic(
            name,
            topic_name=topic_name,
            key_arn=key_arn,
            publisher_service="events.amazonaws.com",
            publisher_condition={"ArnEquals": {"aws:SourceArn": rule_arn}},
            tags=tags,
            parent=self,
        )
        # Standard, as the subscriptions' queues are (a standard topic delivers to standard
        # queues only); SSE-SQS needs no key grant for SNS to write to it.
        self.delivery_dlq = DeadLetterQueue(
            f"{name}-delivery-dlq",
            queue_name=delivery_dlq_name,
            fifo=False,
            retention_days=dlq_retention_days,
            encryption=Encryption("sse-sqs"),
            alarm_topic_arn=alarm_topic_arn,
            tags=tags,
            sender=Sender("sns.amazonaws.com", [self.topic.arn]),
            opts=pulumi.ResourceOptions(parent=self),
        )
        alarm(
            f"{name}-notifications-failed",
            watched=topic_name,
            what="notifications-failed",
            description=f"{topic_name} could not deliver to a subscriber: see "
            f"{delivery_dlq_name} and the subscriber queue's policy and key.",
            namespace="AWS/SNS",
            metric="NumberOfNotificationsFailed",
            dimensions={"TopicName": self.topic.name},
            topic_arn=alarm_topic_arn,
            tags=tags,
            parent=self,
        )
        self.register_outputs(
            {"topic_arn": self.topic.arn, "delivery_dlq_url": self.delivery_dlq.queue.url}
        )

    def subscribe(
        self,
        consumer: str,
        queue_arn: pulumi.Input[str],
        filter_policy: dict[str, Any] | None,
        *,
        admitted_by: list[pulumi.Resource],
    ) -> aws.sns.TopicSubscription:
        """Subscribe a consumer's queue once `admitted_by` (its queue policy) and the delivery
        DLQ's policy exist: a message SNS cannot deliver before then would be lost."""
        return aws.sns.TopicSubscription(
            f"{self._name}-sub-{consumer}",
            topic=self.topic.arn,
            protocol="sqs",
            endpoint=queue_arn,
            # The queue receives the EventBridge event itself, exactly as a direct rule target
            # would deliver it, so one consumer runtime serves both routes.
            raw_message_delivery=True,
            filter_policy=json.dumps(filter_policy, sort_keys=True) if filter_policy else None,
            filter_policy_scope="MessageBody" if filter_policy else None,
            redrive_policy=self.delivery_dlq.queue.arn.apply(
                lambda arn: json.dumps({"deadLetterTargetArn": arn})
            ),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*admitted_by, self.delivery_dlq.policy]
            ),
        )
