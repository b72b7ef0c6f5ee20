"""Delivery paths that lose events without a trace: a rule or subscription delivering before the
policy that admits it exists, an SNS subscription with no dead-letter queue, and a failure count
(rules, topics, schedules) nobody is alarmed on."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from .props import json_value, known, value
from .stack import ALARM, EVENT_TARGET, QUEUE, SCHEDULE, TOPIC, Stack, label

SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
RULE = "aws:cloudwatch/eventRule:EventRule"

RULE_METRICS = ("FailedInvocations", "InvocationsFailedToBeSentToDlq")
TOPIC_METRIC = "NumberOfNotificationsFailed"
SCHEDULE_METRICS = ("InvocationDroppedCount", "InvocationsFailedToBeSentToDeadLetterCount")


def _admitting_policy(stack: Stack, destination_arn) -> PolicyResource | None:
    """The queue or topic policy that admits senders to `destination_arn`."""
    queue = stack.find(QUEUE, destination_arn, "arn")
    if queue is not None:
        return stack.find(QUEUE_POLICY, value(queue.props, "url"), "queueUrl")
    return stack.find(TOPIC_POLICY, destination_arn, "arn")


def _waits_for(resource: PolicyResource, policy: PolicyResource | None) -> bool:
    return policy is None or any(d.urn == policy.urn for d in resource.dependencies)


def check_delivery_waits_for_permission(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    deliveries = [
        (target, value(target.props, "arn"), value(target.props, "deadLetterConfig", "arn"))
        for target in stack.of_type(EVENT_TARGET)
    ] + [
        (sub, value(sub.props, "endpoint"), value(json_value(sub.props, "redrivePolicy") or {}, "deadLetterTargetArn"))
        for sub in stack.of_type(SUBSCRIPTION)
        if value(sub.props, "protocol") == "sqs"
    ]
    for resource, destination, dead_letters in deliveries:
        for arn in (destination, dead_letters):
            policy = _admitting_policy(stack, arn) if known(arn) and arn else None
            if not _waits_for(resource, policy):
                report(
                    f"{resource.name} can deliver before {label(policy)} admits it: EventBridge "
                    "and SNS do not retry a permission error (the event goes to the DLQ, or is "
                    f"dropped when the DLQ refuses it too). Add depends_on=[{policy.name}].",
                    resource.urn,
                )


def check_subscription_has_dlq(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    for sub in stack.of_type(SUBSCRIPTION):
        if value(sub.props, "protocol") != "sqs":
            continue
        redrive = json_value(sub.props, "redrivePolicy")
        if not known(redrive):
            continue
        arn = value(redrive or {}, "deadLetterTargetArn")
        if not arn or (known(arn) and stack.find(QUEUE, arn, "arn") is None):
            report(
                f"SNS subscription {sub.name} has no dead-letter queue of this stack: SNS drops a "
                "message it cannot deliver for a client-side reason (the queue's policy or key "
                "refuses it). Set redrive_policy with deadLetterTargetArn (a standard queue whose "
                "policy admits sns.amazonaws.com) and alarm on its depth.",
                sub.urn,
            )


def _watched(stack: Stack, namespace: str, metric: str, dimension: str) -> set | None:
    """Dimension values with an alarm that notifies; None while one of them is unknown."""
    found = set()
    for alarm in stack.of_type(ALARM):
        if value(alarm.props, "namespace") != namespace or value(alarm.props, "metricName") != metric:
            continue
        watched, actions = value(alarm.props, "dimensions", dimension), value(alarm.props, "alarmActions")
        if not known(watched, actions):
            return None
        if actions:
            found.add(watched)
    return found


def check_silent_loss_alarms(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    fed_topics = {value(s.props, "topic") for s in stack.of_type(SUBSCRIPTION) if value(s.props, "protocol") == "sqs"}
    checks = [
        *[("AWS/Events", m, "RuleName", stack.of_type(RULE), "rule") for m in RULE_METRICS],
        ("AWS/SNS", TOPIC_METRIC, "TopicName",
         [t for t in stack.of_type(TOPIC) if value(t.props, "arn") in fed_topics], "topic"),
    ]
    for namespace, metric, dimension, resources, kind in checks:
        watched = _watched(stack, namespace, metric, dimension)
        for resource in resources:
            name = value(resource.props, "name")
            if watched is not None and known(name) and name not in watched:
                report(
                    f"{kind} {name} has no alarm on {namespace} {metric}: events it fails to "
                    f"deliver are lost or dead-lettered silently. Add an alarm on {metric} "
                    f"({dimension}={name}, Sum > 0) notifying the alarm topic.",
                    resource.urn,
                )
    for metric in SCHEDULE_METRICS:
        watched = _watched(stack, "AWS/Scheduler", metric, "ScheduleGroup")
        for schedule in stack.of_type(SCHEDULE):
            group = value(schedule.props, "groupName", default="default")
            if watched is not None and known(group) and group not in watched:
                report(
                    f"schedule {label(schedule)} (group {group}) has no alarm on AWS/Scheduler "
                    f"{metric}: a dropped run is never seen. Put it in its own schedule group and "
                    f"alarm on {metric} (ScheduleGroup={group}, Sum > 0).",
                    schedule.urn,
                )


POLICIES = [
    StackValidationPolicy(
        name="delivery-waits-for-permission",
        description="Rule targets and SNS subscriptions depend on the policies that admit them "
        "and their dead-letter queues.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_delivery_waits_for_permission,
    ),
    StackValidationPolicy(
        name="sns-subscription-has-dlq",
        description="Every SQS subscription of an SNS topic redrives to a dead-letter queue.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_subscription_has_dlq,
    ),
    StackValidationPolicy(
        name="silent-loss-alarms",
        description="Every rule, fan-out topic and schedule group has alarms on its failure "
        "counts.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_silent_loss_alarms,
    ),
]
