"""Typed readers of what the program registers: one per resource type the tools read.

Inputs arrive as a provider sees them (camelCase keys, numbers as floats, policies and patterns
as JSON strings), from the mocks or from a `pulumi preview --json` file. The cost model's
topology and the emulator's deployment both read them through here, so an absent input gets
AWS's own default in one place, and a resource's owner comes from its tags, never from its name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from settings.naming import TAG_CONSUMER, TAG_DOMAIN, TAG_STACK

BUS = "aws:cloudwatch/eventBus:EventBus"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ARCHIVE = "aws:cloudwatch/eventArchive:EventArchive"
QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
KEY = "aws:kms/key:Key"
TABLE = "aws:dynamodb/table:Table"
BUCKET = "aws:s3/bucket:Bucket"
SCHEDULE = "aws:scheduler/schedule:Schedule"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"

# AWS's defaults where an input is absent (the API references of CreateEventSourceMapping,
# CreateFunction and PutRule).
SQS_MAPPING_BATCH_SIZE = 10
FUNCTION_TIMEOUT_S = 3
FUNCTION_MEMORY_MB = 128
FUNCTION_ARCHITECTURE = "x86_64"
DEFAULT_BUS = "default"


def whole(value: Any) -> int:
    """A number the mocks deliver as a float, as the integer AWS expects."""
    return round(float(value))


def document(value: Any) -> dict[str, Any] | None:
    """A JSON document input (pattern, policy), parsed; None when absent."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        return json.loads(value)
    return None


@dataclass(frozen=True)
class Owner:
    """Who a resource belongs to, from the cost-allocation tags the program puts on it."""

    stack: str | None
    domain: str | None
    consumer: str | None


def owner(inputs: dict[str, Any]) -> Owner:
    tags = inputs.get("tags") or {}
    return Owner(tags.get(TAG_STACK), tags.get(TAG_DOMAIN), tags.get(TAG_CONSUMER))


@dataclass(frozen=True)
class FunctionInputs:
    name: str
    handler: str  # "handlers.<module>.handler", as Lambda loads it
    role: str
    runtime: str
    architecture: str
    memory_mb: int
    timeout_s: int
    reserved_concurrency: int | None  # None: no reservation (absent, or AWS's -1)
    environment: dict[str, str]
    log_group: str
    owner: Owner

    @property
    def module(self) -> str:
        return self.handler.removeprefix("handlers.").removesuffix(".handler")


def function(inputs: dict[str, Any], name: str) -> FunctionInputs:
    reserved = inputs.get("reservedConcurrentExecutions")
    physical = inputs.get("name") or name
    return FunctionInputs(
        name=physical,
        handler=str(inputs.get("handler", "")),
        role=str(inputs.get("role", "")),
        runtime=str(inputs.get("runtime", "")),
        architecture=(inputs.get("architectures") or [FUNCTION_ARCHITECTURE])[0],
        memory_mb=whole(inputs.get("memorySize", FUNCTION_MEMORY_MB)),
        timeout_s=whole(inputs.get("timeout", FUNCTION_TIMEOUT_S)),
        reserved_concurrency=None if reserved is None or reserved < 0 else whole(reserved),
        environment=dict((inputs.get("environment") or {}).get("variables") or {}),
        # Without a logging config, Lambda writes to /aws/lambda/<function name>.
        log_group=(inputs.get("loggingConfig") or {}).get("logGroup") or f"/aws/lambda/{physical}",
        owner=owner(inputs),
    )


@dataclass(frozen=True)
class MappingInputs:
    """An SQS event source mapping as declared: what the poller must honour."""

    queue_arn: str
    function_arn: str  # the function's ARN (or name), as the program gave it
    batch_size: int
    batching_window_s: int
    maximum_concurrency: int | None
    report_batch_item_failures: bool
    owner: Owner


def mapping(inputs: dict[str, Any]) -> MappingInputs:
    maximum = (inputs.get("scalingConfig") or {}).get("maximumConcurrency")
    return MappingInputs(
        queue_arn=str(inputs.get("eventSourceArn", "")),
        function_arn=str(inputs.get("functionName", "")),
        batch_size=whole(inputs.get("batchSize") or SQS_MAPPING_BATCH_SIZE),
        batching_window_s=whole(inputs.get("maximumBatchingWindowInSeconds") or 0),
        maximum_concurrency=whole(maximum) if maximum else None,
        report_batch_item_failures="ReportBatchItemFailures"
        in (inputs.get("functionResponseTypes") or []),
        owner=owner(inputs),
    )


@dataclass(frozen=True)
class QueueInputs:
    name: str
    fifo: bool
    customer_key: bool  # a KMS key of ours rather than SSE-SQS
    owner: Owner


def queue(inputs: dict[str, Any], name: str) -> QueueInputs:
    return QueueInputs(
        name=inputs.get("name") or name,
        fifo=bool(inputs.get("fifoQueue")),
        customer_key=bool(inputs.get("kmsMasterKeyId")),
        owner=owner(inputs),
    )


@dataclass(frozen=True)
class RuleInputs:
    name: str
    bus: str
    pattern: dict[str, Any] | None
    owner: Owner


def rule(inputs: dict[str, Any], name: str) -> RuleInputs:
    return RuleInputs(
        name=inputs.get("name") or name,
        bus=inputs.get("eventBusName") or DEFAULT_BUS,
        pattern=document(inputs.get("eventPattern")),
        owner=owner(inputs),
    )


@dataclass(frozen=True)
class TargetInputs:
    rule: str
    bus: str
    target_id: str
    arn: str
    dead_letter_arn: str | None
    message_group_id: str | None
    input_path: str | None

    def key(self) -> tuple[str, str]:
        return self.bus, self.rule


def target(inputs: dict[str, Any]) -> TargetInputs:
    return TargetInputs(
        rule=str(inputs.get("rule", "")),
        bus=inputs.get("eventBusName") or DEFAULT_BUS,
        target_id=str(inputs.get("targetId", "")),
        arn=str(inputs.get("arn", "")),
        dead_letter_arn=(inputs.get("deadLetterConfig") or {}).get("arn"),
        message_group_id=(inputs.get("sqsTarget") or {}).get("messageGroupId"),
        input_path=inputs.get("inputPath"),
    )


@dataclass(frozen=True)
class SubscriptionInputs:
    topic: str
    protocol: str
    endpoint: str
    raw_message_delivery: bool
    filter_policy: dict[str, Any] | None
    filter_policy_scope: str  # AWS's default scope is MessageAttributes
    dead_letter_arn: str | None  # the subscription's redrive policy target


def subscription(inputs: dict[str, Any]) -> SubscriptionInputs:
    return SubscriptionInputs(
        topic=str(inputs.get("topic", "")),
        protocol=str(inputs.get("protocol", "")),
        endpoint=str(inputs.get("endpoint", "")),
        raw_message_delivery=bool(inputs.get("rawMessageDelivery")),
        filter_policy=document(inputs.get("filterPolicy")),
        filter_policy_scope=inputs.get("filterPolicyScope") or "MessageAttributes",
        dead_letter_arn=(document(inputs.get("redrivePolicy")) or {}).get("deadLetterTargetArn"),
    )


@dataclass(frozen=True)
class AlarmInputs:
    name: str
    namespace: str
    metric: str
    dimensions: dict[str, str]
    statistic: str
    period_s: int
    evaluation_periods: int
    threshold: float
    comparison: str
    treat_missing_data: str
    alarm_actions: tuple[str, ...]
    ok_actions: tuple[str, ...]
    description: str


def alarm(inputs: dict[str, Any], name: str) -> AlarmInputs:
    return AlarmInputs(
        name=inputs.get("name") or name,
        namespace=str(inputs.get("namespace", "")),
        metric=str(inputs.get("metricName", "")),
        dimensions=dict(inputs.get("dimensions") or {}),
        statistic=str(inputs.get("statistic", "")),
        period_s=whole(inputs.get("period", 60)),
        evaluation_periods=whole(inputs.get("evaluationPeriods", 1)),
        threshold=float(inputs.get("threshold", 0)),
        comparison=str(inputs.get("comparisonOperator", "")),
        treat_missing_data=inputs.get("treatMissingData") or "missing",
        alarm_actions=tuple(inputs.get("alarmActions") or ()),
        ok_actions=tuple(inputs.get("okActions") or ()),
        description=inputs.get("alarmDescription") or "",
    )


def log_retention_days(inputs: dict[str, Any]) -> int | None:
    """A log group's retention; None means the logs never expire."""
    days = inputs.get("retentionInDays")
    return whole(days) if days else None


def archive_retention_days(inputs: dict[str, Any]) -> int:
    """An archive's retention; 0 means the events are kept indefinitely."""
    return whole(inputs.get("retentionDays") or 0)


@dataclass(frozen=True)
class ScheduleInputs:
    name: str
    expression: str
    target_arn: str


def schedule(inputs: dict[str, Any], name: str) -> ScheduleInputs:
    return ScheduleInputs(
        name=inputs.get("name") or name,
        expression=str(inputs.get("scheduleExpression", "")),
        target_arn=str((inputs.get("target") or {}).get("arn", "")),
    )
