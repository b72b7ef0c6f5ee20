"""The routing graph a stack declares: buses → rules → queues or topics → queues → functions.

Built from `Resource`s only (never from config), so the estimate prices what is deployed; a
rule whose pattern changes, or a subscription that is added, changes the graph and the bill.
Inputs are read by `offline.readers`, the one reader the emulator uses too; which domain and
consumer a resource belongs to comes from its tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from costmodel.resources import Resource
from handlers.catalog import HANDLERS, HandlerSpec
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
    owners: dict[str, Owner] = field(default_factory=dict)  # physical name -> tags' owner

    def bus_of(self, domain: str) -> Bus | None:
        return next((b for b in self.buses.values() if b.owner.domain == domain), None)


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
        queues[r.key] = Queue(q.name, q.fifo, q.customer_key, owner=q.owner)
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

    topics = {r.key: Topic(r.name, readers.owner(r.inputs)) for r in index.of(TOPIC)}
    for r in index.of(SUBSCRIPTION):
        sub = readers.subscription(r.inputs)
        if sub.protocol != "sqs":
            continue  # e-mail alarm recipients: priced as negligible, not routed
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
        rule = rules.get(readers.target(r.inputs).key())
        queue = index.follow(r, "arn", QUEUE)
        topic = index.follow(r, "arn", TOPIC)
        if rule is None or (queue is None and topic is None):
            warnings.append(f"target {r.name}: rule, queue or topic not found")
            continue
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
        alarms=len(index.of(ALARM)),
        customer_keys=len(index.of(KEY)),
        dashboards=len(index.of(DASHBOARD)),
        tables=[r.name for r in index.of(TABLE)],
        buckets=[r.name for r in index.of(BUCKET)],
        warnings=warnings,
        owners=owners,
    )


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
        spec=HANDLERS.get(declared.module),
    )
