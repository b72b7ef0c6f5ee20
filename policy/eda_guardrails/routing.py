"""Delivery from EventBridge and the Scheduler: retried, dead-lettered, and never a polling loop."""

from __future__ import annotations

import re

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .props import known, value
from .stack import EVENT_TARGET, SCHEDULE

RULE = "aws:cloudwatch/eventRule:EventRule"
UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3_600, "day": 86_400}


def _delivery_settings(args: ResourceValidationArgs) -> tuple[object, object, str] | None:
    """(retry policy, DLQ ARN, what to call it) for a rule target or a schedule's target."""
    if args.resource_type == EVENT_TARGET:
        where = f"event target {args.name} (rule {value(args.props, 'rule')})"
        return value(args.props, "retryPolicy"), value(args.props, "deadLetterConfig", "arn"), where
    if args.resource_type == SCHEDULE:
        return (
            value(args.props, "target", "retryPolicy"),
            value(args.props, "target", "deadLetterConfig", "arn"),
            f"schedule {args.name}",
        )
    return None


def check_target_retry_and_dlq(args: ResourceValidationArgs, report: ReportViolation) -> None:
    settings = _delivery_settings(args)
    if settings is None:
        return
    retry, dead_letter_arn, where = settings
    if known(retry) and not retry:
        report(
            f"{where} has no retry policy: set retry_policy (maximum_event_age_in_seconds, "
            "maximum_retry_attempts) so a throttled target is retried for as long as the event "
            "is still worth delivering."
        )
    if known(dead_letter_arn) and not dead_letter_arn:
        report(
            f"{where} has no dead-letter queue: an event that still fails after the retries is "
            "dropped without a trace. Set dead_letter_config.arn to the domain's delivery DLQ."
        )


def interval_s(expression: str) -> int | None:
    """Shortest time between two firings of a rate() or cron() expression; None for at().

    cron: the first field that is not a fixed value sets the pace ("*", "*/5", "0,30", "10-20");
    with fixed minute and hour the schedule fires at most daily.
    """
    rate = re.fullmatch(r"rate\((\d+)\s+(second|minute|hour|day)s?\)", expression.strip())
    if rate:
        return int(rate.group(1)) * UNIT_SECONDS[rate.group(2)]
    cron = re.fullmatch(r"cron\((.+)\)", expression.strip())
    if not cron:
        return None
    minute, hour = cron.group(1).split()[:2]
    for field, unit, span in ((minute, 60, 60), (hour, 3_600, 24)):
        step = _cron_step(field, span)
        if step is not None:
            return step * unit
    return UNIT_SECONDS["day"]


def _cron_step(field: str, span: int) -> int | None:
    """Smallest gap between two values of one cron field; None when the field is one fixed value."""
    if field == "*" or "-" in field:
        return 1
    if "/" in field:
        return int(field.split("/")[1])
    if "," in field:
        marks = sorted(int(m) for m in field.split(","))
        return min(
            [b - a for a, b in zip(marks, marks[1:], strict=False)] + [span - marks[-1] + marks[0]]
        )
    return None


def check_no_fast_polling(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (SCHEDULE, RULE):
        return
    expression = value(args.props, "scheduleExpression")
    if not isinstance(expression, str):
        return
    seconds = interval_s(expression)
    minimum = args.get_config().get("min_interval_s", 60)
    if seconds is not None and seconds < minimum:
        report(
            f"{args.name} fires every {seconds} s ({expression}): a function woken this often is "
            "polling for changes (load grows with every poller and changes still arrive "
            "late). Publish an event when the state changes instead, "
            f"or fire no more often than every {minimum} s."
        )


POLICIES = [
    ResourceValidationPolicy(
        name="event-target-retry-and-dlq",
        description="Every EventBridge rule target and schedule target has a retry policy and a "
        "dead-letter queue.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_target_retry_and_dlq,
    ),
    ResourceValidationPolicy(
        name="no-fast-polling-schedule",
        description="No schedule drives a function faster than once a minute (polling).",
        enforcement_level=EnforcementLevel.ADVISORY,
        validate=check_no_fast_polling,
        config_schema=PolicyConfigSchema(
            properties={"min_interval_s": {"type": "integer", "minimum": 1, "default": 60}}
        ),
    ),
]
