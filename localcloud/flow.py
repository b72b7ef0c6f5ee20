"""Where every published event ended up, read from the services, not from counters of our own.

For each consumer: which business events the declared routing should bring it (rule pattern,
and for topic subscribers the SNS filter policy, evaluated on the ledger by the project's own
matcher `settings.patterns`, independently of moto's routing), which of them its side effect
shows as applied, field by field, and which sit in its DLQ. The side effects are read by the
observer each handler's catalogue entry names (`handlers.observation`), from what the emulated
services hold (`CloudEffects`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from handlers.logic.daily_counters import daily_counts
from handlers.observation import observer_for, routed_by_key
from localcloud.emulator import LocalCloud
from localcloud.records import name_of
from localcloud.workload import Ledger, Planned
from ops.dlq import DlqEntry, inspect
from settings.feeds import event_domains, feeds
from settings.model import SubscriptionConfig
from settings.naming import archive_prefix
from settings.patterns import EVENTBRIDGE, SNS_MESSAGE_BODY, compile_pattern, event_pattern


@dataclass
class ConsumerFlow:
    domain: str
    consumer: str
    handler: str
    function: str
    routed: set[str] = field(default_factory=set)  # key hashes the routing should deliver
    applied: set[str] = field(default_factory=set)
    applied_twice: set[str] = field(default_factory=set)  # a side effect seen more than once
    dlq: list[DlqEntry] = field(default_factory=list)
    dlq_keys: set[str] = field(default_factory=set)
    # Key hash -> how the effect disagrees with the event (fields lost or not the event's).
    disagreements: dict[str, list[str]] = field(default_factory=dict)

    @property
    def missing(self) -> set[str]:
        return self.routed - self.applied - self.dlq_keys

    @property
    def unexpected(self) -> set[str]:
        """Side effects or dead letters for events the routing should not have delivered."""
        return (self.applied | self.dlq_keys) - self.routed

    @property
    def conserved(self) -> bool:
        return (
            not self.missing
            and not self.unexpected
            and not self.applied_twice
            and not self.disagreements
            and not (self.applied & self.dlq_keys)
        )


def envelope(p: Planned, source: str) -> dict[str, Any]:
    return {"source": source, "detail-type": p.detail_type, "detail": p.detail}


def routed_to(cloud: LocalCloud, domain_name: str, consumer_name: str, ledger: Ledger) -> list[Planned]:
    """The ledger's events the consumer's feeds deliver (`settings.feeds`): an event is put on
    one bus, so the feeds' matches never overlap."""
    return [
        p
        for feed in feeds(cloud.config, domain_name, consumer_name)
        for p in matching(cloud, feed.bus_domain, feed.rule, ledger, filter_policy=feed.filter_policy)
    ]


def matching(
    cloud: LocalCloud, domain_name: str, rule: SubscriptionConfig, ledger: Ledger, *, filter_policy: dict | None = None
) -> list[Planned]:
    """The ledger's events a rule's deployed pattern (and a subscription's filter policy) accept."""
    domain = cloud.config.domains[domain_name]
    pattern = compile_pattern(event_pattern(rule, domain.source), EVENTBRIDGE)
    policy = compile_pattern(filter_policy, SNS_MESSAGE_BODY) if filter_policy else None
    chosen = []
    for p in ledger.events:
        if p.domain != domain_name:
            continue
        event = envelope(p, domain.source)
        if pattern.matches(event) and (policy is None or policy.matches(event)):
            chosen.append(p)
    return chosen


def flows(cloud: LocalCloud, ledger: Ledger) -> list[ConsumerFlow]:
    effects = CloudEffects(cloud)
    result = []
    for domain_name, domain in cloud.config.domains.items():
        exports = cloud.deployment.exports[domain_name]
        for consumer_name, consumer in domain.consumers.items():
            function = exports["function_names"][consumer_name]
            flow = ConsumerFlow(domain_name, consumer_name, consumer.handler, function)
            routed = routed_by_key(
                (envelope(p, cloud.config.domains[p.domain].source)
                 for p in routed_to(cloud, domain_name, consumer_name, ledger)),
                consumer.idempotency_key,
            )  # fmt: skip
            flow.routed = set(routed)
            domains = event_domains(cloud.config, domain_name, consumer_name)
            flow.dlq = inspect(cloud.sqs, exports["dlq_urls"][consumer_name], domains=domains, key_path=consumer.idempotency_key)
            flow.dlq_keys = {e.key_hash for e in flow.dlq if e.key_hash}
            observe = observer_for(consumer.handler, consumer.environment)
            seen = observe(effects, domain=domain_name, function=function, routed=routed)
            flow.applied = set(seen.applied) | (seen.implied - flow.dlq_keys)
            flow.applied_twice = {k for k, n in seen.applied.items() if n > 1}
            # An event in the DLQ was never applied: that its fields are absent is expected.
            flow.disagreements = {k: v for k, v in seen.disagreements.items() if k not in flow.dlq_keys}
            result.append(flow)
    return result


class CloudEffects:
    """`handlers.observation.Effects` over the emulator's services, each read once."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    @cached_property
    def _items(self) -> list[dict]:
        ddb = self.cloud.session.client("dynamodb")
        table = self.cloud.deployment.exports["idempotency_table"]
        return [item for page in ddb.get_paginator("scan").paginate(TableName=table) for item in page["Items"]]

    def table_items(self) -> list[dict]:
        return self._items

    def archive_objects(self, domain: str) -> Iterator[tuple[str, bytes]]:
        s3 = self.cloud.session.client("s3")
        bucket = self.cloud.deployment.exports["archive_bucket"]
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=archive_prefix(domain))
        for page in pages:
            for listed in page.get("Contents", []):
                yield listed["Key"], s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()

    def notifications(self, domain: str) -> list[dict]:
        topic = self.cloud.deployment.exports[domain]["notifications_topic_arn"]
        return self.cloud.read_tap(name_of(topic)) if topic else []

    def follow_ups(self, domain: str) -> list[dict]:
        return follow_ups(self.cloud, self.cloud.deployment.exports[domain]["bus_name"])


def follow_ups(cloud: LocalCloud, bus: str) -> list[dict]:
    """Follow-up events the consumers published on `bus`; an archive replay's copies are not new."""
    return [e for e in cloud.read_tap(f"{bus}-follow-ups") if "replay-name" not in e]


def counters_total(cloud: LocalCloud, function: str) -> int:
    """Sum of the analytics function's per-type, per-day counts, derived as its queries do."""
    return sum(daily_counts(CloudEffects(cloud).table_items(), function).values())
