"""Queues that hold failed events: every consumer queue has a DLQ, every DLQ is watched, and the
queue gives its consumer enough time and attempts before a message is declared dead."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .props import json_value, known, value
from .stack import ALARM, QUEUE, Stack, label

# AWS: "set the source queue's visibility timeout to at least six times the function timeout".
VISIBILITY_FACTOR = 6
# Throttled or failed polls count as receives; below 5 a valid message can reach the DLQ.
MIN_RECEIVE_COUNT = 5
LAMBDA_DEFAULT_TIMEOUT_S = 3
SQS_DEFAULT_VISIBILITY_S = 30
DEPTH_METRIC = "ApproximateNumberOfMessagesVisible"


def check_consumer_queue_has_dlq(args: StackValidationArgs, report: ReportViolation) -> None:
    for _, queue, _ in Stack(args.resources).consumers():
        redrive = json_value(queue.props, "redrivePolicy")
        if known(redrive) and not value(redrive or {}, "deadLetterTargetArn"):
            report(
                f"queue {label(queue)} feeds a function but has no redrive policy: a poison "
                "message "
                "is retried until retention ends and then lost without a trace. Give it a "
                "dead-letter queue (redrive_policy with deadLetterTargetArn and maxReceiveCount).",
                queue.urn,
            )


def _fires_on_first_message(alarm_props) -> bool:
    threshold = value(alarm_props, "threshold")
    operator = value(alarm_props, "comparisonOperator")
    if not known(threshold, operator):
        return True  # not known in preview: no violation we can prove
    if operator == "GreaterThanThreshold":
        return threshold < 1
    if operator == "GreaterThanOrEqualToThreshold":
        return threshold <= 1
    return False


def _notifies(alarm_props) -> bool:
    actions, enabled = value(alarm_props, "alarmActions"), value(alarm_props, "actionsEnabled")
    return not known(actions, enabled) or (bool(actions) and enabled is not False)


def check_dlq_depth_alarm(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    depth_alarms = [
        a
        for a in stack.of_type(ALARM)
        if value(a.props, "namespace") == "AWS/SQS" and value(a.props, "metricName") == DEPTH_METRIC
    ]
    watched = [value(a.props, "dimensions", "QueueName") for a in depth_alarms]
    if not known(*watched):
        return  # a new alarm's queue name is not known in preview: it may be the missing one
    for arn in stack.dead_letter_arns():
        dlq = stack.find(QUEUE, arn, "arn")
        name = value(dlq.props, "name") if dlq else None
        if not isinstance(name, str):
            continue
        alarms = [
            a for a, watched_name in zip(depth_alarms, watched, strict=True) if watched_name == name
        ]
        fix = (
            f"alarm on AWS/SQS {DEPTH_METRIC} for QueueName={name} with GreaterThanThreshold 0 "
            "and alarm_actions set to the alarm topic"
        )
        if not alarms:
            report(
                f"dead-letter queue {name} has no depth alarm: failed events would sit there "
                f"unnoticed until retention deletes them. Add an {fix}.",
                dlq.urn,
            )
        elif not any(_notifies(a.props) and _fires_on_first_message(a.props) for a in alarms):
            report(
                f"dead-letter queue {name}: its depth alarm {label(alarms[0])} notifies nobody or "
                f"waits for more than one message. Every dead letter is an incident: use an {fix}.",
                alarms[0].urn,
            )


def check_visibility_timeout(args: StackValidationArgs, report: ReportViolation) -> None:
    for _, queue, function in Stack(args.resources).consumers():
        if function is None:
            continue
        visibility = value(
            queue.props, "visibilityTimeoutSeconds", default=SQS_DEFAULT_VISIBILITY_S
        )
        timeout = value(function.props, "timeout", default=LAMBDA_DEFAULT_TIMEOUT_S)
        if known(visibility, timeout) and visibility < VISIBILITY_FACTOR * timeout:
            needed = int(VISIBILITY_FACTOR * timeout)
            report(
                f"queue {label(queue)}: visibilityTimeoutSeconds={int(visibility)} < "
                f"{VISIBILITY_FACTOR} x {int(timeout)} s timeout of function {label(function)}; "
                f"a batch still being processed (or retried after throttling) becomes visible "
                f"again and runs twice. Set queue.visibility_timeout_s >= {needed} (or lower "
                f"timeout_s) in Pulumi.<stack>.yaml.",
                queue.urn,
            )


def check_max_receive_count(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != QUEUE:
        return
    redrive = json_value(args.props, "redrivePolicy")
    count = value(redrive, "maxReceiveCount") if isinstance(redrive, dict) else None
    if isinstance(count, (int, float)) and count < MIN_RECEIVE_COUNT:
        report(
            f"queue {label(args)}: maxReceiveCount={int(count)} moves a message to the DLQ after "
            f"{int(count)} receives, and throttled polls count as receives, so valid messages "
            f"land in the DLQ under load. Set queue.max_receive_count >= {MIN_RECEIVE_COUNT} in "
            "Pulumi.<stack>.yaml."
        )


POLICIES = [
    StackValidationPolicy(
        name="consumer-queue-has-dlq",
        description="Every queue that feeds a function redrives to a dead-letter queue.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_consumer_queue_has_dlq,
    ),
    StackValidationPolicy(
        name="dlq-depth-alarm",
        description="Every dead-letter queue has a depth alarm (> 0) with an alarm action.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_dlq_depth_alarm,
    ),
    StackValidationPolicy(
        name="visibility-timeout-covers-function",
        description="A consumer queue's visibility timeout is at least 6 x its function's timeout.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_visibility_timeout,
    ),
    ResourceValidationPolicy(
        name="max-receive-count",
        description=f"Redrive policies allow at least {MIN_RECEIVE_COUNT} receives before the DLQ.",
        enforcement_level=EnforcementLevel.ADVISORY,
        validate=check_max_receive_count,
    ),
]
