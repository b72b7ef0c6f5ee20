"""Compute tier: one consumer's function, its least-privilege role, log group and SQS mapping."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import assume_role_policy, policy_document
from settings.model import ConsumerConfig

RUNTIME = "python3.14"


class ConsumerFunction(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        function_name: str,
        role_name: str,
        log_group_name: str,
        handler: str,
        consumer: ConsumerConfig,
        queue_arn: pulumi.Input[str],
        table_arn: pulumi.Input[str],
        environment: dict[str, pulumi.Input[str]],
        grants: list[dict[str, Any]],
        code: pulumi.Archive,
        layers: list[pulumi.Input[str]],
        log_days: int,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`grants` are the statements this handler's side effects need beyond queue and table."""
        super().__init__("eda:compute:ConsumerFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # Created before the function so Lambda never auto-creates it without a retention.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name,
            retention_in_days=log_days,
            tags=tags,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=role_name,
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=self.role.id,
            policy=policy_document(
                [
                    {
                        "Sid": "WriteOwnLogs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": pulumi.Output.concat(self.log_group.arn, ":*"),
                    },
                    {
                        "Sid": "ConsumeOwnQueue",
                        "Effect": "Allow",
                        "Action": [
                            "sqs:ReceiveMessage",
                            "sqs:DeleteMessage",
                            "sqs:ChangeMessageVisibility",
                            "sqs:GetQueueAttributes",
                        ],
                        "Resource": queue_arn,
                    },
                    {
                        # Shared table, own keys only: every key starts with the function's name.
                        "Sid": "OwnIdempotencyKeys",
                        "Effect": "Allow",
                        "Action": [
                            "dynamodb:GetItem",
                            "dynamodb:PutItem",
                            "dynamodb:UpdateItem",
                            "dynamodb:DeleteItem",
                            "dynamodb:ConditionCheckItem",
                        ],
                        "Resource": table_arn,
                        "Condition": {
                            "ForAllValues:StringLike": {
                                "dynamodb:LeadingKeys": [f"{function_name}*"]
                            }
                        },
                    },
                    *grants,
                ]
            ),
            opts=child,
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            role=self.role.arn,
            runtime=RUNTIME,
            handler=f"handlers.{handler}.handler",
            code=code,
            layers=layers,
            architectures=[consumer.architecture],
            memory_size=consumer.memory_mb,
            timeout=consumer.timeout_s,
            reserved_concurrent_executions=consumer.reserved_concurrency,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON",
                log_group=self.log_group.name,
                # Per-record lines are DEBUG: log ingestion is billed per GB.
                application_log_level="INFO",
                system_log_level="WARN",
            ),
            tags=tags,
            # The role's policy must exist before the first poll, or early batches fail.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]),
        )
        fifo = consumer.queue.kind == "fifo"
        self.mapping = aws.lambda_.EventSourceMapping(
            f"{name}-mapping",
            event_source_arn=queue_arn,
            function_name=self.function.arn,
            batch_size=consumer.batch_size,
            maximum_batching_window_in_seconds=None if fifo else consumer.batching_window_s,
            # Without this, one failed record returns the whole batch to the queue.
            function_response_types=["ReportBatchItemFailures"],
            # The supported cap on pollers; reserved concurrency alone throttles, and throttled
            # receives count toward maxReceiveCount and push valid messages to the DLQ.
            scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(
                maximum_concurrency=consumer.poller_concurrency
            )
            if consumer.poller_concurrency
            else None,
            tags=tags,
            opts=child,
        )
        self.register_outputs({"function_name": self.function.name})
