"""Projected monthly volume, propagated through the routing the stack declares.

Each domain's event mix (event types × monthly volume × average size, split into samples of
representative content) is put on its bus; each rule's real pattern decides which samples it
forwards; each subscription's filter policy decides what reaches each queue; a pipe forwards
what it polls from one queue to another (through its filter, if it has one); and a consumer
that hands off by event puts a follow-up event on its bus for each event it receives, which is
routed (and archived) like any other.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from costmodel.behaviour import HANDOFFS, event_bytes, follow_up_event
from costmodel.topology import Bus, Queue, Topic, Topology
from settings.load import schema_path
from settings.model import StackConfig

MAX_SAMPLES = 64  # per event type; the enum product of a detail schema is capped here
MAX_HOPS = 8  # hand-off generations and pipe chains followed before a cycle is assumed
CHUNK = 65_536  # EventBridge, SQS, SNS and Pipes bill payloads in 64 KB chunks


@dataclass(frozen=True)
class Flow:
    """`volume` events a month of one detail type, all shaped like `event`."""

    domain: str
    detail_type: str
    volume: float
    size_bytes: int
    event: dict[str, Any]

    @property
    def chunks(self) -> int:
        """Billed 64 KB chunks per event: a 65 KB event is two requests."""
        return math.ceil(self.size_bytes / CHUNK)


@dataclass
class Propagation:
    published: dict[str, list[Flow]] = field(default_factory=dict)  # bus -> producers' flows
    # function -> the follow-up events it puts on `handoff_bus[function]`
    handed_off: dict[str, list[Flow]] = field(default_factory=dict)
    handoff_bus: dict[str, str] = field(default_factory=dict)
    rule_matched: dict[str, list[Flow]] = field(default_factory=dict)  # rule -> flows
    topic_in: dict[str, list[Flow]] = field(default_factory=dict)  # topic -> flows published
    queue_in: dict[str, list[Flow]] = field(default_factory=dict)  # queue -> flows delivered
    pipe_in: dict[str, list[Flow]] = field(default_factory=dict)  # pipe -> flows it forwards
    unrouted: dict[str, float] = field(default_factory=dict)  # "domain/type" -> events no rule took
    warnings: list[str] = field(default_factory=list)

    def handoffs_on(self, bus: str) -> list[Flow]:
        """Follow-up events consumers put on `bus`."""
        return [
            f for function, flows in self.handed_off.items()
            if self.handoff_bus.get(function) == bus for f in flows
        ]


def total(flows: list[Flow]) -> float:
    return sum(f.volume for f in flows)


def propagate(topology: Topology, config: StackConfig) -> Propagation:
    result = Propagation()
    delivered: dict[str, list[Flow]] = defaultdict(list)
    for domain_name, domain in config.domains.items():
        bus = topology.bus_of(domain_name)
        if bus is None:
            continue
        flows = [f for t in domain.event_types for f in event_flows(config, domain_name, t)]
        result.published[bus.name] = flows
        routed = _route(result, bus, flows, delivered)
        for t, e in domain.event_types.items():
            if e.monthly_volume and not routed.get(t):
                result.unrouted[f"{domain_name}/{t}"] = e.monthly_volume
    for _ in range(MAX_HOPS):
        if not delivered:
            break
        delivered = _hand_off(result, topology, config, delivered)
    else:
        if delivered:
            result.warnings.append(
                f"hand-off events route back to the consumers that put them for more than "
                f"{MAX_HOPS} generations: volume beyond that is not counted"
            )
    return result


def _route(
    result: Propagation, bus: Bus, flows: list[Flow], delivered: dict[str, list[Flow]]
) -> dict[str, float]:
    """Match `flows` against the bus's rules and deliver them; volume routed per detail type."""
    routed: dict[str, float] = {}
    for rule in bus.rules:
        matched = [f for f in flows if rule.compiled.matches(f.event)]
        result.rule_matched.setdefault(rule.name, []).extend(matched)
        for f in matched:
            routed[f.detail_type] = routed.get(f.detail_type, 0) + f.volume
        for target in rule.targets:
            _deliver(result, target, matched, delivered)
    return routed


def _deliver(
    result: Propagation, target: Queue | Topic, flows: list[Flow], delivered: dict[str, list[Flow]]
) -> None:
    if isinstance(target, Queue):
        _into_queue(result, target, flows, delivered, hops=0)
        return
    result.topic_in.setdefault(target.name, []).extend(flows)
    for sub in target.subscriptions:
        # Raw delivery: the queue gets the EventBridge event, which the filter scope reads.
        passed = [f for f in flows if sub.filter is None or sub.filter.matches(f.event)]
        _into_queue(result, sub.queue, passed, delivered, hops=0)


def _into_queue(
    result: Propagation, queue: Queue, flows: list[Flow], delivered: dict[str, list[Flow]], hops: int
) -> None:
    result.queue_in.setdefault(queue.name, []).extend(flows)
    delivered[queue.name].extend(flows)
    pipe = queue.pipe
    if pipe is None:
        return
    if hops >= MAX_HOPS:
        result.warnings.append(f"pipe {pipe.name}: pipes form a cycle; volume beyond it not counted")
        return
    # A pipe filters the SQS record, whose JSON body is the EventBridge event.
    passed = [
        f for f in flows
        if pipe.filters is None or any(p.matches({"body": f.event}) for p in pipe.filters)
    ]
    result.pipe_in.setdefault(pipe.name, []).extend(passed)
    _into_queue(result, pipe.target, passed, delivered, hops + 1)


def _hand_off(
    result: Propagation, topology: Topology, config: StackConfig, delivered: dict[str, list[Flow]]
) -> dict[str, list[Flow]]:
    """One generation of hand-offs: each consumer that hands off puts a follow-up per event it
    received; the follow-ups are routed on their bus. Returns what they delivered."""
    following: dict[str, list[Flow]] = defaultdict(list)
    for queue_name, flows in delivered.items():
        function = topology.queues[queue_name].function
        handoff = HANDOFFS.get(function.handler) if function is not None else None
        if handoff is None or not flows:
            continue
        bus = topology.buses.get(function.environment.get("EVENT_BUS_NAME", ""))
        if bus is None:
            result.warnings.append(
                f"function {function.name} hands off by event, but EVENT_BUS_NAME names no bus "
                "of the stack: its follow-up events are priced as puts only"
            )
        domain = function.owner.domain or ""
        source = function.environment.get("EVENT_SOURCE") or (
            config.domains[domain].source if domain in config.domains else ""
        )
        follow_ups = []
        for f in flows:
            event = follow_up_event(f.event, handoff, source)
            follow_ups.append(Flow(domain, handoff.detail_type, f.volume, event_bytes(event), event))
        result.handed_off.setdefault(function.name, []).extend(follow_ups)
        if bus is not None:
            result.handoff_bus[function.name] = bus.name
            _route(result, bus, follow_ups, following)
    return following


def event_flows(config: StackConfig, domain_name: str, detail_type: str) -> list[Flow]:
    domain = config.domains[domain_name]
    event_type = domain.event_types[detail_type]
    if event_type.samples is not None:
        samples = [(s.share, s.detail) for s in event_type.samples]
    else:
        schema = json.loads(schema_path(domain_name, detail_type).read_text())
        samples = schema_samples(schema)
    return [
        Flow(
            domain_name,
            detail_type,
            event_type.monthly_volume * share,
            event_type.avg_size_bytes,
            {
                "version": "0",
                "id": "sample",
                "detail-type": detail_type,
                "source": domain.source,
                "account": "123456789012",
                "time": "2026-01-01T00:00:00Z",
                "region": config.region,
                "resources": [],
                "detail": detail,
            },
        )
        for share, detail in samples
    ]


def schema_samples(schema: dict[str, Any]) -> list[tuple[float, dict[str, Any]]]:
    """Representative details with their shares: top-level enum values equally likely.

    Without a declared mix, an even split is the least presumptuous guess; a rule that routes
    on content (e.g. status CONFIRMED) then receives its share, not all or nothing.
    """
    properties = schema.get("properties", {})
    base = {k: _example(v) for k, v in properties.items()}
    choices = [(k, v["enum"]) for k, v in properties.items() if len(v.get("enum", [])) > 1]
    keys = [k for k, _ in choices]
    combos = list(itertools.islice(itertools.product(*(v for _, v in choices)), MAX_SAMPLES))
    return [(1 / len(combos), {**base, **dict(zip(keys, combo))}) for combo in combos]


def _example(schema: dict[str, Any]) -> Any:
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {k: _example(v) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [_example(schema.get("items", {}))]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    if schema.get("format") == "date-time":
        return "2026-01-01T00:00:00Z"
    return "sample"
