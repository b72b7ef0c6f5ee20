"""The routes a stack declares, each with a canary event that takes it.

A route is one way an event reaches one consumer: a rule straight to its queue (or through the
per-entity grouping pipe), a rule to a topic and the topic's subscription, or a schedule's event
type. Its canary is a representative event of a declared type (from the type's schema) that the
route's pattern and filter policy accept, checked with the project's own matcher.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from costmodel.volume import schema_samples
from settings.load import schema_path
from settings.model import DomainConfig, StackConfig
from settings.patterns import EVENTBRIDGE, SNS_MESSAGE_BODY, compile_pattern, event_pattern


@dataclass(frozen=True)
class Route:
    domain: str
    consumer: str
    via: str  # "rule", "pipe", "topic <name>", "schedule <name>"
    detail_type: str | None  # None: no declared event matches the route's pattern
    detail: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.consumer} via {self.via}"


def routes(config: StackConfig) -> list[Route]:
    found = []
    for domain_name, domain in config.domains.items():
        for consumer_name, consumer in domain.consumers.items():
            sub = consumer.subscribe
            if sub.topic is not None:
                rule, via = domain.topics[sub.topic].subscribe, f"topic {sub.topic}"
            else:
                rule = sub
                via = "pipe" if consumer.queue.message_group_path else "rule"
            pattern = compile_pattern(event_pattern(rule, domain.source), EVENTBRIDGE)
            policy = compile_pattern(sub.filter_policy, SNS_MESSAGE_BODY) if sub.filter_policy else None
            detail_type, detail = _canary(domain_name, domain, pattern, policy)
            found.append(Route(domain_name, consumer_name, via, detail_type, detail))
            for schedule_name, schedule in domain.schedules.items():
                event = _event(domain.source, schedule.detail_type, schedule.detail)
                if pattern.matches(event) and (policy is None or policy.matches(event)):
                    found.append(
                        Route(domain_name, consumer_name, f"schedule {schedule_name}",
                              schedule.detail_type, schedule.detail)
                    )
    return found


def _event(source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {"source": source, "detail-type": detail_type, "detail": detail, "resources": []}


@cache
def _samples(domain_name: str, detail_type: str, schema_file: str | None) -> list[dict[str, Any]]:
    """Representative details of one event type (read once, whatever number of routes use it)."""
    schema = json.loads(schema_path(domain_name, detail_type, schema_file).read_text())
    return [detail for _, detail in schema_samples(schema)]


def _canary(domain_name: str, domain: DomainConfig, pattern, policy) -> tuple[str | None, dict]:
    for detail_type, event_type in domain.event_types.items():
        for detail in _samples(domain_name, detail_type, event_type.schema_file):
            event = _event(domain.source, detail_type, detail)
            if pattern.matches(event) and (policy is None or policy.matches(event)):
                return detail_type, detail
    return None, {}
