"""Queue tier: a consumer's SQS queue, its dead-letter queue, the policies and the alarms.

Every queue that can hold a failed event has a depth alarm: a DLQ nobody watches loses its
events silently when their retention (at most 14 days) runs out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarms import alarm
from settings.model import DAY, QueueConfig


@dataclass(frozen=True)
class Encryption:
    """SSE-SQS (no key fee, no KMS calls) unless a customer key is asked for."""

    kind: str  # "sse-sqs" | "kms"
    key_arn: pulumi.Input[str] | None = None

    def queue_args(self) -> dict:
        if self.kind == "kms":
            # 300 s data key reuse: the KMS request bill scales with 1/reuse (see costmodel).
            return {"kms_master_key_id": self.key_arn, "kms_data_key_reuse_period_seconds": 300}
        return {"sqs_managed_sse_enabled": True}


@dataclass(frozen=True)
class Sender:
    """The AWS service resources of one service allowed to send to a queue (`aws:SourceArn`)."""

    service: str  # "events.amazonaws.com" | "sns.amazonaws.com" | "scheduler.amazonaws.com"
    source_arns: list[pulumi.Input[str]]


def queue_policy(queue_arn: pulumi.Input[str], senders: list[Sender]) -> pulumi.Output[str]:
    """Admit the declared AWS service senders only, one statement per service (a consumer fed
    by its domain's topic and by rules on other domains' buses has two), each resource by its
    ARN: a rule's is `aws:SourceArn` when EventBridge sends ("Using resource-based policies for
    Amazon EventBridge", Amazon SQS permissions, EventBridge User Guide), whichever bus it is on.
    Without any (a pipe's role in this account sends under its IAM policy), the policy only
    refuses insecure transport."""
    admit = [
        {
            "Sid": "OnlyDeclaredSenders" if i == 0 else f"OnlyDeclaredSenders{i + 1}",
            "Effect": "Allow",
            "Principal": {"Service": sender.service},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": sender.source_arns}},
        }
        for i, sender in enumerate(senders)
    ]
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                *admit,
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:*",
                    "Resource": queue_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )


class DeadLetterQueue(pulumi.ComponentResource):
    """A DLQ with an alarm at depth > 0: every message in it is an incident."""

    def __init__(
        self,
        name: str,
        *,
        queue_name: str,
        fifo: bool,
        retention_days: int,
        encryption: Encryption,
        alarm_topic_arn: pulumi.Input[str],
        tags: dict[str, str],
        sender: Sender | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eda:queue:DeadLetterQueue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.queue = aws.sqs.Queue(
            f"{name}-queue",
            name=queue_name,
            fifo_queue=fifo,
            message_retention_seconds=retention_days * DAY,
            **encryption.queue_args(),
            tags=tags,
            opts=child,
        )
        self.policy: aws.sqs.QueuePolicy | None = None
        if sender is not None:
            self.policy = aws.sqs.QueuePolicy(
                f"{name}-queue-policy",
                queue_url=self.queue.url,
                policy=queue_policy(self.queue.arn, [sender]),
                opts=child,
            )
        self.depth_alarm = alarm(
            f"{name}-depth",
            watched=queue_name,
            what="depth",
            description=f"{queue_name} holds failed events: inspect, fix, redrive.",
            metric="ApproximateNumberOfMessagesVisible",
            namespace="AWS/SQS",
            dimensions={"QueueName": self.queue.name},
            statistic="Maximum",
            threshold=0,
            periods=1,
            topic_arn=alarm_topic_arn,
            tags=tags,
            parent=self,
        )
        self.register_outputs({"url": self.queue.url, "arn": self.queue.arn})


class ConsumerQueue(pulumi.ComponentResource):
    """The queue between a rule (or topic) and one consumer, with redrive to its own DLQ."""

    def __init__(
        self,
        name: str,
        *,
        queue_name: str,
        dlq_name: str,
        settings: QueueConfig,
        dlq_retention_days: int,
        encryption: Encryption,
        senders: list[Sender],
        alarm_topic_arn: pulumi.Input[str],
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eda:queue:ConsumerQueue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        fifo = settings.kind == "fifo"
        self.dlq = DeadLetterQueue(
            f"{name}-dlq",
            queue_name=dlq_name,
            fifo=fifo,
            retention_days=dlq_retention_days,
            encryption=encryption,
            alarm_topic_arn=alarm_topic_arn,
            tags=tags,
            opts=child,
        )
        self.queue = aws.sqs.Queue(
            f"{name}-queue",
            name=queue_name,
            fifo_queue=fifo,
            # EventBridge sends FIFO messages without a deduplication id: content-based
            # deduplication is required, and the event id in the body makes it per event.
            content_based_deduplication=fifo or None,
            visibility_timeout_seconds=settings.visibility_timeout_s,
            message_retention_seconds=settings.retention_s,
            # Long polling: fewer empty receives, which are billed.
            receive_wait_time_seconds=20,
            redrive_policy=self.dlq.queue.arn.apply(
                lambda arn: json.dumps(
                    {"deadLetterTargetArn": arn, "maxReceiveCount": settings.max_receive_count}
                )
            ),
            **encryption.queue_args(),
            tags=tags,
            opts=child,
        )
        aws.sqs.RedriveAllowPolicy(
            f"{name}-dlq-redrive-allow",
            queue_url=self.dlq.queue.url,
            redrive_allow_policy=self.queue.arn.apply(
                lambda arn: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]})
            ),
            opts=child,
        )
        self.policy = aws.sqs.QueuePolicy(
            f"{name}-queue-policy",
            queue_url=self.queue.url,
            policy=queue_policy(self.queue.arn, senders),
            opts=child,
        )
        self.age_alarm = alarm(
            f"{name}-age",
            watched=queue_name,
            what="oldest-message-age",
            description=f"{queue_name} is falling behind: the consumer is failing or throttled.",
            metric="ApproximateAgeOfOldestMessage",
            namespace="AWS/SQS",
            dimensions={"QueueName": self.queue.name},
            statistic="Maximum",
            threshold=settings.age_alarm_s,
            periods=5,
            topic_arn=alarm_topic_arn,
            tags=tags,
            parent=self,
        )
        self.register_outputs(
            {"url": self.queue.url, "arn": self.queue.arn, "dlq_url": self.dlq.queue.url}
        )
