"""Projected monthly volume, propagated through the routing the stack declares.

Each domain's event mix (event types × monthly volume × average size, split into samples of
representative content) is put on its bus; each rule's real pattern decides which samples it
forwards; each subscription's filter policy decides what reaches each queue.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from costmodel.topology import Queue, Topic, Topology
from settings.load import schema_path
from settings.model import StackConfig

MAX_SAMPLES = 64  # per event type; the enum product of a detail schema is capped here


@dataclass(frozen=True)
class Flow:
    """`volume` events a month of one detail type, all shaped like `event`."""

    domain: str
    detail_type: str
    volume: float
    size_bytes: int
    event: dict[str, Any]

    def scaled(self, factor: float) -> "Flow":
        return Flow(self.domain, self.detail_type, self.volume * factor, self.size_bytes, self.event)


@dataclass
class Propagation:
    published: dict[str, list[Flow]] = field(default_factory=dict)  # bus -> flows put on it
    rule_matched: dict[str, list[Flow]] = field(default_factory=dict)  # rule -> flows
    topic_in: dict[str, list[Flow]] = field(default_factory=dict)  # topic -> flows published
    queue_in: dict[str, list[Flow]] = field(default_factory=dict)  # queue -> flows delivered
    unrouted: dict[str, float] = field(default_factory=dict)  # "domain/type" -> events no rule took


def total(flows: list[Flow]) -> float:
    return sum(f.volume for f in flows)


def propagate(topology: Topology, config: StackConfig) -> Propagation:
    result = Propagation()
    for domain_name, domain in config.domains.items():
        bus = topology.bus_of(domain_name)
        if bus is None:
            continue
        bus_name = bus.name
        flows = [f for t in domain.event_types for f in event_flows(config, domain_name, t)]
        result.published[bus_name] = flows
        routed: dict[str, float] = {}
        for rule in bus.rules:
            matched = [f for f in flows if rule.compiled.matches(f.event)]
            result.rule_matched[rule.name] = matched
            for f in matched:
                routed[f.detail_type] = routed.get(f.detail_type, 0) + f.volume
            for target in rule.targets:
                _deliver(result, target, matched)
        for t, e in domain.event_types.items():
            if e.monthly_volume and not routed.get(t):
                result.unrouted[f"{domain_name}/{t}"] = e.monthly_volume
    return result


def _deliver(result: Propagation, target: Queue | Topic, flows: list[Flow]) -> None:
    if isinstance(target, Queue):
        result.queue_in.setdefault(target.name, []).extend(flows)
        return
    result.topic_in.setdefault(target.name, []).extend(flows)
    for sub in target.subscriptions:
        # Raw delivery: the queue gets the EventBridge event, which the filter scope reads.
        passed = [f for f in flows if sub.filter is None or sub.filter.matches(f.event)]
        result.queue_in.setdefault(sub.queue.name, []).extend(passed)


def event_flows(config: StackConfig, domain_name: str, detail_type: str) -> list[Flow]:
    domain = config.domains[domain_name]
    event_type = domain.event_types[detail_type]
    if event_type.samples is not None:
        samples = [(s.share, s.detail) for s in event_type.samples]
    else:
        schema = json.loads(schema_path(domain_name, detail_type, event_type.schema_file).read_text())
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
