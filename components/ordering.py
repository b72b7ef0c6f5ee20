"""Ordering tier: one FIFO message group per entity, through an EventBridge Pipe.

An EventBridge rule target can only send a fixed `MessageGroupId` (EventBridge API reference,
`SqsParameters`: "The ID of the message group to use as the target", a static string). Per-entity
groups need a hop that reads the group from each event: the rule delivers to a FIFO *staging*
queue under one fixed group (so the pipe receives events in the order EventBridge delivered
them), and a pipe forwards each event to the consumer's FIFO queue with `MessageGroupId` taken
from the event by a dynamic path ("Amazon EventBridge Pipes targets", dynamic path parameters:
`$.body.<key>` for an Amazon SQS source whose body is JSON). The same pattern is AWS's sample
serverless-patterns/eventbridge-pipes-dynamic-message-group-id.

Every rule that feeds the consumer targets the staging queue: its own, and one on each other
domain's bus it reads (`also_from`), all under the same fixed group.

The pipe has no dead-letter queue of its own for an SQS source: "A pipe inherits dead-letter queue
(DLQ) behavior from the source" ("Amazon EventBridge Pipes error handling"), so the staging queue
redrives to its own DLQ, alarmed like every other; AWS asks for maxReceiveCount >= 5 there.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.alarms import alarm
from components.iam import assume_role_policy, policy_document
from components.queue import ConsumerQueue, Encryption, Sender
from settings.model import QueueConfig

# The staging hop only forwards: a short visibility timeout retries a failed forward quickly,
# and five receives before its DLQ is AWS's guidance for an SQS pipe source.
STAGING_VISIBILITY_S = 60
STAGING_MAX_RECEIVES = 5
# An SQS target takes at most 10 messages per batch ("Pipes batching and concurrency").
PIPE_BATCH_SIZE = 10


def pipe_path(message_group_path: str) -> str:
    """`$.detail.paymentId` as the pipe reads it from an SQS record: the event is the body."""
    return "$.body." + message_group_path.removeprefix("$.")


class EntityOrdering(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        staging_name: str,
        staging_dlq_name: str,
        pipe_name: str,
        role_name: str,
        message_group_path: str,
        static_group: str,
        target_queue_arn: pulumi.Input[str],
        consumer_queue: QueueConfig,
        encryption: Encryption,
        dlq_retention_days: int,
        rule_arns: list[pulumi.Input[str]],
        account_id: pulumi.Input[str],
        region: str,
        alarm_topic_arn: pulumi.Input[str],
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eda:ordering:EntityOrdering", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.static_group = static_group
        self.staging = ConsumerQueue(
            f"{name}-staging",
            queue_name=staging_name,
            dlq_name=staging_dlq_name,
            settings=QueueConfig(
                kind="fifo",
                message_group_id=static_group,
                visibility_timeout_s=STAGING_VISIBILITY_S,
                max_receive_count=STAGING_MAX_RECEIVES,
                retention_s=consumer_queue.retention_s,
                encryption=consumer_queue.encryption,
                age_alarm_s=consumer_queue.age_alarm_s,
            ),
            dlq_retention_days=dlq_retention_days,
            encryption=encryption,
            senders=[Sender("events.amazonaws.com", rule_arns)],
            alarm_topic_arn=alarm_topic_arn,
            tags=tags,
            opts=child,
        )
        pipe_arn = pulumi.Output.concat(
            f"arn:aws:pipes:{region}:", account_id, f":pipe/{pipe_name}"
        )
        role = aws.iam.Role(
            f"{name}-pipe-role",
            name=role_name,
            # Only this account's pipe of this name may assume it.
            assume_role_policy=assume_role_policy(
                "pipes.amazonaws.com", account_id=account_id, source_arn=pipe_arn
            ),
            tags=tags,
            opts=child,
        )
        statements = [
            {
                "Sid": "ReadStaging",
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": self.staging.queue.arn,
            },
            {
                "Sid": "SendToConsumer",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": target_queue_arn,
            },
        ]
        if encryption.kind == "kms":
            # A customer-key queue: the pipe decrypts what it reads and encrypts what it sends.
            statements.append(
                {
                    "Sid": "QueueKey",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": encryption.key_arn,
                }
            )
        policy = aws.iam.RolePolicy(
            f"{name}-pipe-policy", role=role.id, policy=policy_document(statements), opts=child
        )
        self.pipe = aws.pipes.Pipe(
            f"{name}-pipe",
            name=pipe_name,
            role_arn=role.arn,
            source=self.staging.queue.arn,
            target=target_queue_arn,
            source_parameters=aws.pipes.PipeSourceParametersArgs(
                sqs_queue_parameters=aws.pipes.PipeSourceParametersSqsQueueParametersArgs(
                    batch_size=PIPE_BATCH_SIZE, maximum_batching_window_in_seconds=0
                )
            ),
            target_parameters=aws.pipes.PipeTargetParametersArgs(
                # The consumer receives the EventBridge event itself, as from a rule target.
                input_template="<$.body>",
                sqs_queue_parameters=aws.pipes.PipeTargetParametersSqsQueueParametersArgs(
                    message_group_id=pipe_path(message_group_path),
                    # The event id: a re-forwarded event is dropped by the FIFO queue's dedup.
                    message_deduplication_id="$.body.id",
                ),
            ),
            desired_state="RUNNING",
            tags=tags,
            # The role must be able to read and send before the pipe starts polling.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        alarm(
            f"{name}-pipe-failures",
            watched=pipe_name,
            what="failed",
            description=f"{pipe_name} failed to forward events: they wait in {staging_name} and "
            f"reach {staging_dlq_name} after {STAGING_MAX_RECEIVES} attempts.",
            namespace="AWS/EventBridge/Pipes",
            metric="ExecutionFailed",
            dimensions={"PipeName": pipe_name},
            topic_arn=alarm_topic_arn,
            tags=tags,
            parent=self,
        )
        self.register_outputs(
            {"staging_url": self.staging.queue.url, "pipe_arn": self.pipe.arn}
        )
