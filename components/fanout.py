"""Fan-out tier: an encrypted SNS topic fed by one rule, with one queue subscribed per consumer.

One producer, many consumers → SNS + SQS: each consumer keeps its
own queue, DLQ and pace, and a filter policy decides what each one receives.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import policy_document


def encrypted_topic(
    name: str,
    *,
    topic_name: str,
    key_arn: pulumi.Input[str],
    publisher_service: str | None,
    publisher_condition: dict[str, Any] | None,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.sns.Topic:
    """A topic under the platform's customer key (AWS-managed SNS keys refuse EventBridge and
    CloudWatch as publishers), writable only by the named service resource."""
    child = pulumi.ResourceOptions(parent=parent)
    topic = aws.sns.Topic(
        f"{name}-topic", name=topic_name, kms_master_key_id=key_arn, tags=tags, opts=child
    )
    if publisher_service is not None:
        aws.sns.TopicPolicy(
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
    return topic


class FanoutTopic(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        topic_name: str,
        key_arn: pulumi.Input[str],
        rule_arn: pulumi.Input[str],
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eda:fanout:FanoutTopic", name, None, opts)
        self._name = name
        self.topic = encrypted_topic(
            name,
            topic_name=topic_name,
            key_arn=key_arn,
            publisher_service="events.amazonaws.com",
            publisher_condition={"ArnEquals": {"aws:SourceArn": rule_arn}},
            tags=tags,
            parent=self,
        )
        self.register_outputs({"topic_arn": self.topic.arn})

    def subscribe(
        self, consumer: str, queue_arn: pulumi.Input[str], filter_policy: dict[str, Any] | None
    ) -> aws.sns.TopicSubscription:
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
            opts=pulumi.ResourceOptions(parent=self),
        )
