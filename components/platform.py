"""Shared platform pieces every domain uses: the customer key, the alarm topic, and `Platform`,
the handles to them (and to storage and the Lambda artifacts) that each domain receives."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.fanout import encrypted_topic
from components.iam import policy_document

# Services that write to the platform's encrypted topics and queues on our behalf.
KEY_USERS = ["events.amazonaws.com", "sns.amazonaws.com", "cloudwatch.amazonaws.com"]


class PlatformKey(pulumi.ComponentResource):
    """Customer-managed key: AWS-managed SNS/SQS keys cannot be used by EventBridge, SNS or
    CloudWatch as senders, so encrypted topics (and queues that ask for KMS) need this one."""

    def __init__(self, name: str, *, alias: str, account_id: pulumi.Input[str],
                 tags: dict[str, str], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eda:platform:PlatformKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{alias}: topics, customer-key queues and the idempotency table",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy_document(
                [
                    {
                        # Without account administration the key becomes unmanageable.
                        "Sid": "AccountAdministers",
                        "Effect": "Allow",
                        "Principal": {"AWS": pulumi.Output.concat("arn:aws:iam::", account_id, ":root")},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Sid": "PlatformServicesEncrypt",
                        "Effect": "Allow",
                        "Principal": {"Service": KEY_USERS},
                        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                    },
                ]
            ),
            tags=tags,
            opts=child,
        )
        aws.kms.Alias(f"{name}-alias", name=alias, target_key_id=self.key.key_id, opts=child)
        self.register_outputs({"key_arn": self.key.arn})


class AlarmTopic(pulumi.ComponentResource):
    """Where every alarm of the stack notifies; e-mail recipients come from stack config."""

    def __init__(self, name: str, *, topic_name: str, alarm_prefix: str,
                 key_arn: pulumi.Input[str], account_id: pulumi.Input[str], region: str,
                 emails: list[str], tags: dict[str, str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eda:platform:AlarmTopic", name, None, opts)
        self.topic = encrypted_topic(
            name,
            topic_name=topic_name,
            key_arn=key_arn,
            publisher_service="cloudwatch.amazonaws.com",
            publisher_condition={
                "ArnLike": {
                    "aws:SourceArn": pulumi.Output.concat(
                        f"arn:aws:cloudwatch:{region}:", account_id, f":alarm:{alarm_prefix}*"
                    )
                }
            },
            tags=tags,
            parent=self,
        )
        for index, email in enumerate(emails):
            aws.sns.TopicSubscription(
                f"{name}-email-{index}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=email,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"topic_arn": self.topic.arn})


@dataclass(frozen=True)
class Platform:
    """The shared pieces `__main__` builds once and every domain uses."""

    region: str
    account_id: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    table_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    code: pulumi.Archive
    layers: dict[str, pulumi.Input[str]]  # dependency layer ARN per architecture
