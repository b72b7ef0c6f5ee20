"""Schedules tier: a domain's EventBridge Scheduler schedules, which put events on its bus.

The schedules live in the domain's own schedule group: Scheduler publishes its failure metrics
per group, so the group's alarms watch exactly this domain's schedules.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components.alarms import alarm
from components.iam import assume_role_policy, policy_document
from settings.model import ScheduleConfig
from settings.naming import DomainNames

# Scheduler's retries before the delivery DLQ takes the event: an hour, ten attempts.
SCHEDULE_RETRY = aws.scheduler.ScheduleTargetRetryPolicyArgs(
    maximum_event_age_in_seconds=3_600, maximum_retry_attempts=10
)


class DomainSchedules(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        names: DomainNames,
        source: str,
        schedules: dict[str, ScheduleConfig],
        bus_arn: pulumi.Input[str],
        delivery_dlq_arn: pulumi.Input[str],
        account_id: pulumi.Input[str],
        region: str,
        alarm_topic_arn: pulumi.Input[str],
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eda:schedules:DomainSchedules", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        group = aws.scheduler.ScheduleGroup(
            f"{name}-group", name=names.schedule_group, tags=tags, opts=child
        )
        group_arn = pulumi.Output.concat(
            f"arn:aws:scheduler:{region}:", account_id, f":schedule-group/{names.schedule_group}"
        )
        for schedule_name, schedule in schedules.items():
            role = aws.iam.Role(
                f"{name}-{schedule_name}-role",
                name=names.schedule_role(schedule_name),
                # Only this account's schedule group ("Preventing cross-service confused
                # deputy", EventBridge Scheduler User Guide).
                assume_role_policy=assume_role_policy(
                    "scheduler.amazonaws.com", account_id=account_id, source_arn=group_arn
                ),
                tags=tags,
                opts=child,
            )
            policy = aws.iam.RolePolicy(
                f"{name}-{schedule_name}-policy",
                role=role.id,
                policy=policy_document(
                    [
                        {"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus_arn},
                        {
                            "Effect": "Allow",
                            "Action": "sqs:SendMessage",
                            "Resource": delivery_dlq_arn,
                        },
                    ]
                ),
                opts=child,
            )
            aws.scheduler.Schedule(
                f"{name}-{schedule_name}",
                name=names.schedule(schedule_name),
                group_name=group.name,
                schedule_expression=schedule.expression,
                schedule_expression_timezone=schedule.timezone,
                flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
                target=aws.scheduler.ScheduleTargetArgs(
                    arn=bus_arn,
                    role_arn=role.arn,
                    eventbridge_parameters=aws.scheduler.ScheduleTargetEventbridgeParametersArgs(
                        detail_type=schedule.detail_type, source=source
                    ),
                    input=json.dumps(schedule.detail, sort_keys=True),
                    retry_policy=SCHEDULE_RETRY,
                    dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(
                        arn=delivery_dlq_arn
                    ),
                ),
                # The first run must find its role able to put events.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
            )
        for metric, what, outcome in (
            ("InvocationDroppedCount", "dropped", "these events were never put"),
            (
                "InvocationsFailedToBeSentToDeadLetterCount",
                "dlq-refused",
                "the delivery DLQ refused them: lost",
            ),
        ):
            alarm(
                f"{name}-{what}",
                watched=names.schedule_group,
                what=what,
                description=f"schedule group {names.schedule_group}: {metric} > 0, {outcome}.",
                namespace="AWS/Scheduler",
                metric=metric,
                dimensions={"ScheduleGroup": names.schedule_group},
                topic_arn=alarm_topic_arn,
                tags=tags,
                parent=self,
            )
        self.register_outputs({})
