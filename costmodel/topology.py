"""The routing graph a stack declares: buses → rules → queues or topics → queues → pipes →
queues → functions, and everything else the program registers that bills by itself.

Built from `Resource`s only (never from config), so the estimate prices what is deployed; a
rule whose pattern changes, or a subscription that is added, changes the graph and the bill.
Inputs are read by `offline.readers` where it has a reader (the one reader the emulator uses
too); which domain and consumer a resource belongs to comes from its tags.

Every resource type the program registers is accounted for (`costmodel.coverage`): priced, free,
or not priced and why; a type the model does not know is reported as not priced, never dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from costmodel.coverage import LIFECYCLE, PIPE, VERSIONING, Coverage, coverage_of
from costmodel.resources import Resource
from handlers.catalog import HANDLERS, HandlerSpec, spec_for
from offline import readers
from offline.readers import (
    ALARM,
    ARCHIVE,
    BUCKET,
    BUS,
    DASHBOARD,
    FUNCTION,
    KEY,
    LOG_GROUP,
    MAPPING,
    QUEUE,
    RULE,
    SCHEDULE,
    SUBSCRIPTION,
    TABLE,
    TARGET,
    TOPIC,
    Owner,
)
from settings.patterns import EVENTBRIDGE, SNS_MESSAGE_BODY, CompiledPattern, compile_pattern

NO_OWNER = Owner(None, None, None)
# An EventBridge Pipe's SQS source defaults (CreatePipe API reference, PipeSourceSqsQueueParameters).
PIPE_SQS_BATCH_SIZE = 10
# S3 lifecycle: since 2024-09 a transition skips objects under 128 KB unless the configuration
# says otherwise (PutBucketLifecycleConfiguration, TransitionDefaultMinimumObjectSize).
S3_TRANSITION_MIN_BYTES = {"all_storage_classes_128K": 128 * 1024, "varies_by_storage_class": 0}
S3_TRANSITION_DEFAULT = "all_storage_classes_128K"

@dataclass
class Function:
    name: str
    handler: str  # module in handlers/, e.g. order_processor
    architecture: str
    memory_mb: int
    owner: Owner = NO_OWNER
    log_retention_days: int | None = None
    reserved_concurrency: int | None = None  # None: draws on the account's unreserved pool
    # How the handler guards against duplicates (handlers.catalog); a what-if may replace it.
    spec: HandlerSpec | None = None
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class Queue:
    name: str
    fifo: bool
    customer_key: bool
    function: Function | None = None
    batch_size: int = 10
    batching_window_s: int = 0
    maximum_concurrency: int | None = None  # the event source mapping's ScalingConfig cap
    owner: Owner = NO_OWNER
    pipe: Pipe | None = None  # the pipe that polls this queue, if one does
    # FIFO: high-throughput mode (deduplication per message group, throughput limit per group).
    high_throughput: bool = False
    # FIFO: the one message group every sender gives (a rule target's or a pipe's fixed id);
    # None when groups are per entity (a pipe's dynamic path) or not known.
    static_group: str | None = None

    @property
    def polled(self) -> bool:
        """A function or a pipe receives from it; otherwise it is a dead-letter queue."""
        return self.function is not None or self.pipe is not None


@dataclass
class Pipe:
    name: str
    source: Queue
    target: Queue
    batch_size: int
    filters: list[CompiledPattern] | None  # None: everything passes
    owner: Owner = NO_OWNER


@dataclass
class Subscription:
    queue: Queue
    filter: CompiledPattern | None
    filter_policy: dict[str, Any] | None


@dataclass
class Topic:
    name: str
    owner: Owner = NO_OWNER
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
    owner: Owner = NO_OWNER
    rules: list[Rule] = field(default_factory=list)
    archive_days: int | None = None  # None: no archive; 0: kept forever
    schedules: dict[str, str] = field(default_factory=dict)  # name -> expression


@dataclass
class Bucket:
    name: str
    owner: Owner = NO_OWNER
    expire_days: int | None = None  # None: objects never expire
    noncurrent_days: int | None = None  # versioned: days a noncurrent version is kept
    versioned: bool = False
    transitions: list[tuple[int, str]] = field(default_factory=list)  # (days, storage class)
    transition_min_bytes: int = S3_TRANSITION_MIN_BYTES[S3_TRANSITION_DEFAULT]


@dataclass
class Table:
    name: str
    owner: Owner = NO_OWNER
    point_in_time_recovery: bool = False


@dataclass
class Alarm:
    name: str
    period_s: int
    owner: Owner = NO_OWNER


@dataclass
class Dashboard:
    name: str
    metrics: int  # metrics its widgets graph (a free dashboard shows at most 50)


@dataclass
class Topology:
    buses: dict[str, Bus]
    queues: dict[str, Queue]
    topics: dict[str, Topic]
    functions: dict[str, Function]
    alarms: list[Alarm]
    customer_keys: int
    dashboards: list[Dashboard]
    tables: list[Table]
    buckets: list[Bucket]
    warnings: list[str]
    owners: dict[str, Owner] = field(default_factory=dict)  # physical name -> tags' owner
    pipes: dict[str, Pipe] = field(default_factory=dict)
    declared: dict[str, int] = field(default_factory=dict)  # resource type -> how many

    def bus_of(self, domain: str) -> Bus | None:
        return next((b for b in self.buses.values() if b.owner.domain == domain), None)

    def coverage(self) -> list[tuple[str, int, Coverage]]:
        """(type, count, coverage) of every type the program registers, in type order."""
        return coverage_of(self.declared)


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
        r.inputs.get("name", ""): readers.log_retention_days(r.inputs) for r in index.of(LOG_GROUP)
    }
    functions = {r.key: _function(r, log_days) for r in index.of(FUNCTION)}
    queues = {}
    for r in index.of(QUEUE):
        q = readers.queue(r.inputs, r.name)
        queues[r.key] = Queue(
            q.name, q.fifo, q.customer_key, owner=q.owner,
            # High-throughput FIFO is the pair of settings AWS documents for it.
            high_throughput=q.fifo
            and r.inputs.get("fifoThroughputLimit") == "perMessageGroupId"
            and r.inputs.get("deduplicationScope") == "messageGroup",
        )
    for r in index.of(MAPPING):
        queue = index.follow(r, "eventSourceArn", QUEUE)
        function = index.follow(r, "functionName", FUNCTION)
        if queue is None or function is None:
            warnings.append(f"event source mapping {r.name}: queue or function not found")
            continue
        m = readers.mapping(r.inputs)
        q = queues[queue.key]
        q.function = functions[function.key]
        q.batch_size, q.batching_window_s = m.batch_size, m.batching_window_s
        q.maximum_concurrency = m.maximum_concurrency

    pipes = {}
    for r in index.of(PIPE):
        # Like an event source mapping: the pipe's source and target inputs are queue ARNs.
        source = index.follow(r, "source", QUEUE)
        target = index.follow(r, "target", QUEUE)
        if source is None or target is None:
            warnings.append(
                f"pipe {r.name}: source or target is not a queue of the stack; not priced"
            )
            continue
        pipe = _pipe(r, queues[source.key], queues[target.key])
        queues[source.key].pipe = pipe
        group = ((r.inputs.get("targetParameters") or {}).get("sqsQueueParameters") or {}).get(
            "messageGroupId"
        )
        if isinstance(group, str) and not group.startswith("$."):
            queues[target.key].static_group = group
        pipes[pipe.name] = pipe

    topics = {r.key: Topic(r.name, readers.owner(r.inputs)) for r in index.of(TOPIC)}
    for r in index.of(SUBSCRIPTION):
        sub = readers.subscription(r.inputs)
        if sub.protocol != "sqs":
            continue  # e-mail alarm recipients: sent only when an alarm changes state
        topic = index.follow(r, "topic", TOPIC)
        queue = index.follow(r, "endpoint", QUEUE)
        if topic is None or queue is None:
            warnings.append(f"subscription {r.name}: topic or queue not found")
            continue
        policy = sub.filter_policy
        compiled = compile_pattern(policy, SNS_MESSAGE_BODY) if policy else None
        topics[topic.key].subscriptions.append(Subscription(queues[queue.key], compiled, policy))

    buses = {r.name: Bus(r.name, readers.owner(r.inputs)) for r in index.of(BUS)}
    rules: dict[tuple[str, str], Rule] = {}
    for r in index.of(RULE):
        declared = readers.rule(r.inputs, r.name)
        bus = buses.get(declared.bus)
        if bus is None or declared.pattern is None:
            warnings.append(f"rule {r.name}: not on a declared bus, or has no event pattern")
            continue
        rule = Rule(r.name, declared.pattern, compile_pattern(declared.pattern, EVENTBRIDGE))
        bus.rules.append(rule)
        rules[(bus.name, r.name)] = rule
    for r in index.of(TARGET):
        declared_target = readers.target(r.inputs)
        rule = rules.get(declared_target.key())
        queue = index.follow(r, "arn", QUEUE)
        topic = index.follow(r, "arn", TOPIC)
        if rule is None or (queue is None and topic is None):
            warnings.append(f"target {r.name}: rule, queue or topic not found")
            continue
        if queue is not None and declared_target.message_group_id:
            queues[queue.key].static_group = declared_target.message_group_id
        rule.targets.append(queues[queue.key] if queue else topics[topic.key])

    for r in index.of(ARCHIVE):
        bus = index.follow(r, "eventSourceArn", BUS)
        if bus is not None:
            buses[bus.name].archive_days = readers.archive_retention_days(r.inputs)
    owners = {r.name: readers.owner(r.inputs) for r in resources}
    for r in index.of(SCHEDULE):
        bus = index.follow(r, "target", BUS)
        if bus is not None:
            buses[bus.name].schedules[r.name] = readers.schedule(r.inputs, r.name).expression
            # Schedules take no tags: one belongs to the domain of the bus it puts events on.
            owners[r.name] = buses[bus.name].owner

    return Topology(
        buses=buses,
        queues={q.name: q for q in queues.values()},
        topics={t.name: t for t in topics.values()},
        functions={f.name: f for f in functions.values()},
        alarms=[_alarm(r) for r in index.of(ALARM)],
        customer_keys=len(index.of(KEY)),
        dashboards=[_dashboard(r) for r in index.of(DASHBOARD)],
        tables=[_table(r) for r in index.of(TABLE)],
        buckets=_buckets(index),
        warnings=warnings,
        owners=owners,
        pipes=pipes,
        declared=dict(Counter(r.type for r in resources)),
    )


def _spec(module: str, environment: dict[str, str]) -> HandlerSpec | None:
    """The catalogue entry the function runs: the choice its environment selects
    (`handlers.catalog.spec_for`); None for a module the catalogue does not know."""
    return spec_for(module, environment) if module in HANDLERS else None


def _function(r: Resource, log_days: dict[str, int | None]) -> Function:
    declared = readers.function(r.inputs, r.name)
    return Function(
        name=r.name,
        handler=declared.module,
        architecture=declared.architecture,
        memory_mb=declared.memory_mb,
        owner=declared.owner,
        log_retention_days=log_days.get(declared.log_group),
        reserved_concurrency=declared.reserved_concurrency,
        spec=_spec(declared.module, declared.environment),
        environment=declared.environment,
    )


def _pipe(r: Resource, source: Queue, target: Queue) -> Pipe:
    sqs = ((r.inputs.get("sourceParameters") or {}).get("sqsQueueParameters")) or {}
    criteria = ((r.inputs.get("sourceParameters") or {}).get("filterCriteria")) or {}
    patterns = [readers.document(f.get("pattern")) for f in criteria.get("filters") or []]
    compiled = [compile_pattern(p, EVENTBRIDGE) for p in patterns if p]
    return Pipe(
        name=r.inputs.get("name") or r.name,
        source=source,
        target=target,
        batch_size=readers.whole(sqs.get("batchSize") or PIPE_SQS_BATCH_SIZE),
        filters=compiled or None,
        owner=readers.owner(r.inputs),
    )


def _alarm(r: Resource) -> Alarm:
    declared = readers.alarm(r.inputs, r.name)
    return Alarm(declared.name, declared.period_s, readers.owner(r.inputs))


def _dashboard(r: Resource) -> Dashboard:
    body = readers.document(r.inputs.get("dashboardBody")) or {}
    metrics = sum(
        len((w.get("properties") or {}).get("metrics") or []) for w in body.get("widgets") or []
    )
    return Dashboard(r.name, metrics)


def _table(r: Resource) -> Table:
    pitr = (r.inputs.get("pointInTimeRecovery") or {}).get("enabled")
    return Table(r.name, readers.owner(r.inputs), bool(pitr))


def _buckets(index: _Index) -> list[Bucket]:
    buckets = {r.key: Bucket(r.name, readers.owner(r.inputs)) for r in index.of(BUCKET)}
    for r in index.of(VERSIONING):
        bucket = index.follow(r, "bucket", BUCKET)
        status = (r.inputs.get("versioningConfiguration") or {}).get("status")
        if bucket is not None:
            buckets[bucket.key].versioned = status == "Enabled"
    for r in index.of(LIFECYCLE):
        bucket = index.follow(r, "bucket", BUCKET)
        if bucket is None:
            continue
        b = buckets[bucket.key]
        minimum = r.inputs.get("transitionDefaultMinimumObjectSize") or S3_TRANSITION_DEFAULT
        b.transition_min_bytes = S3_TRANSITION_MIN_BYTES.get(minimum, 0)
        for rule in r.inputs.get("rules") or []:
            if rule.get("status") != "Enabled" or not _whole_bucket(rule):
                continue
            days = (rule.get("expiration") or {}).get("days")
            if days:
                b.expire_days = _min(b.expire_days, readers.whole(days))
            noncurrent = (rule.get("noncurrentVersionExpiration") or {}).get("noncurrentDays")
            if noncurrent:
                b.noncurrent_days = _min(b.noncurrent_days, readers.whole(noncurrent))
            for t in rule.get("transitions") or []:
                if t.get("days") is not None:
                    b.transitions.append((readers.whole(t["days"]), str(t.get("storageClass"))))
    return list(buckets.values())


def _whole_bucket(rule: dict[str, Any]) -> bool:
    """A lifecycle rule that applies to every object (no prefix, tag or size filter)."""
    scope = rule.get("filter") or {}
    return not any(v for k, v in scope.items() if k != "prefix") and not scope.get("prefix")


def _min(current: int | None, value: int) -> int:
    return value if current is None else min(current, value)

