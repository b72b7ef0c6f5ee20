"""Shared platform pieces every domain uses: the customer key, the alarm topic, and `Platform`,
the handles to them (and to storage and the Lambda artifacts) that each domain receives."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.fanout import encrypted_topic
from components.iam import policy_document

# Each AWS service that encrypts into our topics and queues on our behalf, with the statement
# the AWS page for that integration documents (no condition: none of these pages gives one,
# and a condition the service does not send would drop deliveries silently; each queue and
# topic policy already admits only its one declared sender by aws:SourceArn).
KEY_STATEMENTS = [
    {
        # EventBridge rule -> encrypted SQS queue or SNS topic: "Troubleshooting Amazon
        # EventBridge", sections on events not delivered to an encrypted SQS queue / SNS topic.
        "Sid": "EventBridgeDeliversToEncryptedTargets",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
    },
    {
        # SNS -> encrypted SQS subscriber: "Enabling server-side encryption (SSE) for an Amazon
        # SNS topic with an encrypted Amazon SQS queue subscribed", SNS Developer Guide.
        "Sid": "SnsDeliversToEncryptedQueues",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    },
    {
        # CloudWatch alarm -> encrypted SNS topic: "How do I configure a CloudWatch alarm with an
        # encrypted Amazon SNS topic?", AWS re:Post Knowledge Center.
        "Sid": "CloudWatchAlarmsPublishToEncryptedTopics",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    },
]


class PlatformKey(pulumi.ComponentResource):
    """Customer-managed key: AWS-managed SNS/SQS keys cannot be used by EventBridge, SNS or
    CloudWatch as senders, so encrypted topics (and queues that ask for KMS) need this one."""

    def __init__(self, name: str, *, alias: str, account_id: pulumi.Input[str],
                 tags: dict[str, str], retain: bool,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        """`retain` as for the table it encrypts: a retained table needs its key to outlive
        `pulumi destroy` too (retain_on_delete is not inherited from a component)."""
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
                    *KEY_STATEMENTS,
                ]
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=retain),
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
        self.topic, _ = encrypted_topic(
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
