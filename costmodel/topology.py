"""The routing graph a stack declares: buses → rules → queues or topics → queues → functions.

Built from `Resource`s only (never from config), so the estimate prices what is deployed; a
rule whose pattern changes, or a subscription that is added, changes the graph and the bill.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from costmodel.patterns import EVENTBRIDGE, SNS_MESSAGE_BODY, CompiledPattern, compile_pattern
from costmodel.resources import Resource
from handlers.catalog import HANDLERS, HandlerSpec

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


@dataclass
class Function:
    name: str
    handler: str  # module in handlers/, e.g. order_processor
    architecture: str
    memory_mb: int
    log_retention_days: int | None = None
    reserved_concurrency: int | None = None  # None: draws on the account's unreserved pool
    # How the handler guards against duplicates (handlers.catalog); a what-if may replace it.
    spec: HandlerSpec | None = None


@dataclass
class Queue:
    name: str
    fifo: bool
    customer_key: bool
    function: Function | None = None
    batch_size: int = 10
    batching_window_s: int = 0
    maximum_concurrency: int | None = None  # the event source mapping's ScalingConfig cap


@dataclass
class Subscription:
    queue: Queue
    filter: CompiledPattern | None
    filter_policy: dict[str, Any] | None


@dataclass
class Topic:
    name: str
    subscriptions: list[Subscription] = field(default_factory=list)


@dataclass
class Rule:
    name: str
    pattern: dict[str, Any]
    compiled: CompiledPattern
    targets: list[Queue | Topic] = field(default_factory=list)


@dataclass
class Bus:
    name: str
    rules: list[Rule] = field(default_factory=list)
    archive_days: int | None = None  # None: no archive; 0: kept forever
    schedules: dict[str, str] = field(default_factory=dict)  # name -> expression


@dataclass
class Topology:
    buses: dict[str, Bus]
    queues: dict[str, Queue]
    topics: dict[str, Topic]
    functions: dict[str, Function]
    alarms: int
    customer_keys: int
    dashboards: int
    tables: list[str]
    buckets: list[str]
    warnings: list[str]


class _Index:
    def __init__(self, resources: list[Resource]) -> None:
        self.by_key = {r.key: r for r in resources}
        self.resources = resources

    def of(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def follow(self, resource: Resource, prop: str, type_: str) -> Resource | None:
        """The `type_` resource that `resource`'s input `prop` refers to, if any."""
        for key in resource.refs.get(prop, []):
            target = self.by_key.get(key)
            if target is not None and target.type == type_:
                return target
        return None


def build(resources: list[Resource]) -> Topology:
    index = _Index(resources)
    warnings: list[str] = []

    log_days = {
        r.inputs.get("name", "").removeprefix("/aws/lambda/"): r.inputs.get("retentionInDays")
        for r in index.of(LOG_GROUP)
    }
    functions = {r.key: _function(r, log_days.get(r.name)) for r in index.of(FUNCTION)}
    queues = {
        r.key: Queue(
            name=r.name,
            fifo=bool(r.inputs.get("fifoQueue")),
            customer_key=bool(r.inputs.get("kmsMasterKeyId")),
        )
        for r in index.of(QUEUE)
    }
    for mapping in index.of(MAPPING):
        queue = index.follow(mapping, "eventSourceArn", QUEUE)
        function = index.follow(mapping, "functionName", FUNCTION)
        if queue is None or function is None:
            warnings.append(f"event source mapping {mapping.name}: queue or function not found")
            continue
        q = queues[queue.key]
        q.function = functions[function.key]
        q.batch_size = int(mapping.inputs.get("batchSize", 10))
        q.batching_window_s = int(mapping.inputs.get("maximumBatchingWindowInSeconds", 0) or 0)
        q.maximum_concurrency = _int((mapping.inputs.get("scalingConfig") or {}).get("maximumConcurrency"))

    topics = {r.key: Topic(name=r.name) for r in index.of(TOPIC)}
    for sub in index.of(SUBSCRIPTION):
        if sub.inputs.get("protocol") != "sqs":
            continue  # e-mail alarm recipients: priced as negligible, not routed
        topic = index.follow(sub, "topic", TOPIC)
        queue = index.follow(sub, "endpoint", QUEUE)
        if topic is None or queue is None:
            warnings.append(f"subscription {sub.name}: topic or queue not found")
            continue
        policy = _json(sub.inputs.get("filterPolicy"))
        topics[topic.key].subscriptions.append(
            Subscription(queues[queue.key], compile_pattern(policy, SNS_MESSAGE_BODY) if policy else None, policy)
        )

    buses = {r.name: Bus(name=r.name) for r in index.of(BUS)}
    rules: dict[tuple[str, str], Rule] = {}
    for r in index.of(RULE):
        bus = buses.get(r.inputs.get("eventBusName", "default"))
        pattern = _json(r.inputs.get("eventPattern"))
        if bus is None or pattern is None:
            warnings.append(f"rule {r.name}: not on a declared bus, or has no event pattern")
            continue
        rule = Rule(r.name, pattern, compile_pattern(pattern, EVENTBRIDGE))
        bus.rules.append(rule)
        rules[(bus.name, r.name)] = rule
    for target in index.of(TARGET):
        rule = rules.get((target.inputs.get("eventBusName", "default"), target.inputs.get("rule")))
        queue = index.follow(target, "arn", QUEUE)
        topic = index.follow(target, "arn", TOPIC)
        if rule is None or (queue is None and topic is None):
            warnings.append(f"target {target.name}: rule, queue or topic not found")
            continue
        rule.targets.append(queues[queue.key] if queue else topics[topic.key])

    for archive in index.of(ARCHIVE):
        bus = index.follow(archive, "eventSourceArn", BUS)
        if bus is not None:
            buses[bus.name].archive_days = int(archive.inputs.get("retentionDays", 0))
    for schedule in index.of(SCHEDULE):
        bus = index.follow(schedule, "target", BUS)
        if bus is not None:
            buses[bus.name].schedules[schedule.name] = schedule.inputs["scheduleExpression"]

    return Topology(
        buses=buses,
        queues={q.name: q for q in queues.values()},
        topics={t.name: t for t in topics.values()},
        functions={f.name: f for f in functions.values()},
        alarms=len(index.of(ALARM)),
        customer_keys=len(index.of(KEY)),
        dashboards=len(index.of(DASHBOARD)),
        tables=[r.name for r in index.of(TABLE)],
        buckets=[r.name for r in index.of(BUCKET)],
        warnings=warnings,
    )


def _function(r: Resource, log_retention_days: Any) -> Function:
    handler = str(r.inputs.get("handler", "")).removeprefix("handlers.").removesuffix(".handler")
    return Function(
        name=r.name,
        handler=handler,
        architecture=(r.inputs.get("architectures") or ["x86_64"])[0],
        memory_mb=int(r.inputs.get("memorySize", 128)),
        log_retention_days=_int(log_retention_days),
        # AWS's default (-1, or absent) is "no reservation".
        reserved_concurrency=_int(r.inputs.get("reservedConcurrentExecutions"), none_below=0),
        spec=HANDLERS.get(handler),
    )


def _json(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        return json.loads(value)
    return None


def _int(value: Any, none_below: float | None = None) -> int | None:
    if value is None or (none_below is not None and value < none_below):
        return None
    return int(value)
