"""The routes a stack declares, each with a canary event that takes it.

A route is one way an event reaches one consumer: one of its feeds (`settings.feeds`: a rule
straight to its queue or through the per-entity grouping pipe, on its own domain's bus or on one
it reads `also_from`; a rule to a topic and the topic's subscription), or a schedule's event
type that one of those feeds takes. Its canary is a representative event of a type the bus's
domain declares (from the type's schema) that the route's pattern and filter policy accept,
checked with the project's own matcher.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from costmodel.volume import event_flows
from settings.feeds import Feed, feeds
from settings.model import StackConfig
from settings.patterns import EVENTBRIDGE, SNS_MESSAGE_BODY, compile_pattern, event_pattern


@dataclass(frozen=True)
class Route:
    domain: str
    consumer: str
    # "rule", "pipe", "topic <name>", "schedule <name>"; "... from <domain>" on another's bus
    via: str
    detail_type: str | None  # None: no declared event matches the route's pattern
    detail: dict[str, Any]
    feed: Feed  # the rule (on `feed.bus_domain`'s bus) the canary takes

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.consumer} via {self.via}"


def routes(config: StackConfig) -> list[Route]:
    return [
        route
        for domain_name, domain in config.domains.items()
        for consumer_name in domain.consumers
        for feed in feeds(config, domain_name, consumer_name)
        for route in _feed_routes(config, domain_name, consumer_name, feed)
    ]


def _feed_routes(
    config: StackConfig, domain_name: str, consumer_name: str, feed: Feed
) -> list[Route]:
    """The feed's route, and one per schedule on its bus whose event the feed takes."""
    bus = config.domains[feed.bus_domain]
    if feed.topic is not None:
        via = f"topic {feed.topic}"
    else:
        grouped = config.domains[domain_name].consumers[consumer_name].queue.message_group_path
        via = "pipe" if grouped else "rule"
    elsewhere = "" if feed.bus_domain == domain_name else f" from {feed.bus_domain}"
    pattern = compile_pattern(event_pattern(feed.rule, bus.source), EVENTBRIDGE)
    policy = compile_pattern(feed.filter_policy, SNS_MESSAGE_BODY) if feed.filter_policy else None
    detail_type, detail = _canary(config, feed.bus_domain, pattern, policy)
    found = [Route(domain_name, consumer_name, via + elsewhere, detail_type, detail, feed)]
    for schedule_name, schedule in bus.schedules.items():
        event = _event(bus.source, schedule.detail_type, schedule.detail)
        if pattern.matches(event) and (policy is None or policy.matches(event)):
            found.append(
                Route(domain_name, consumer_name, f"schedule {schedule_name}{elsewhere}",
                      schedule.detail_type, schedule.detail, feed)
            )
    return found


def _event(source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {"source": source, "detail-type": detail_type, "detail": detail, "resources": []}


def _canary(config: StackConfig, domain_name: str, pattern, policy) -> tuple[str | None, dict]:
    """The first representative event of the domain (its declared `samples`, else ones read
    from its schemas, as the cost model routes them) that the rule and filter policy accept."""
    for detail_type in config.domains[domain_name].event_types:
        for flow in event_flows(config, domain_name, detail_type):
            if pattern.matches(flow.event) and (policy is None or policy.matches(flow.event)):
                return detail_type, flow.event["detail"]
    return None, {}
