"""Where every published event ended up, read from the services, not from counters of our own.

For each consumer: which business events the declared routing should bring it (rule pattern,
and for topic subscribers the SNS filter policy, evaluated on the ledger by the project's own
matcher `settings.patterns`, independently of moto's routing),
which of them its side effect shows as applied, and which sit in its DLQ. The side effects are
read where each handler leaves them:

| handler             | observed in                                                        |
|---------------------|--------------------------------------------------------------------|
| order_processor     | order state items in DynamoDB (latest version per order)           |
| analytics           | guard items (one per business key, each with its type and day)     |
| audit_logger        | S3 objects' events, one per business key as the Athena view sees   |
| notification_sender | messages on the notifications topic (tap queue), by key attribute  |
| fulfillment         | FulfillmentRequested events on the domain bus (tap rule), by id     |
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from handlers.logic.audit_archive import archived_key_counts
from handlers.logic.daily_counters import daily_counts, guarded_key_hash
from handlers.logic.handoff import fulfillment_id
from handlers.logic.notify import KEY_HASH_ATTRIBUTE
from handlers.logic.order_state import order_of
from handlers.runtime.envelope import business_key, digest
from localcloud.emulator import LocalCloud
from localcloud.records import name_of
from localcloud.workload import Ledger, Planned
from ops.dlq import DlqEntry, inspect
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

    @property
    def missing(self) -> set[str]:
        return self.routed - self.applied - self.dlq_keys

    @property
    def unexpected(self) -> set[str]:
        """Side effects or dead letters for events the routing should not have delivered."""
        return (self.applied | self.dlq_keys) - self.routed

    @property
    def conserved(self) -> bool:
        return not self.missing and not self.unexpected and not self.applied_twice and not (
            self.applied & self.dlq_keys
        )


def envelope(p: Planned, source: str) -> dict[str, Any]:
    return {"source": source, "detail-type": p.detail_type, "detail": p.detail}


def routed_to(cloud: LocalCloud, domain_name: str, consumer_name: str, ledger: Ledger) -> list[Planned]:
    domain = cloud.config.domains[domain_name]
    sub = domain.consumers[consumer_name].subscribe
    rule = domain.topics[sub.topic].subscribe if sub.topic else sub
    return matching(cloud, domain_name, rule, ledger, filter_policy=sub.filter_policy)


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
    items = _table_items(cloud)
    result = []
    for domain_name, domain in cloud.config.domains.items():
        exports = cloud.deployment.exports[domain_name]
        for consumer_name, consumer in domain.consumers.items():
            flow = ConsumerFlow(
                domain_name, consumer_name, consumer.handler, exports["function_names"][consumer_name]
            )
            keys = {}
            for p in routed_to(cloud, domain_name, consumer_name, ledger):
                key = business_key(envelope(p, domain.source), consumer.idempotency_key)
                keys[digest(key)] = key
            flow.routed = set(keys)
            flow.dlq = inspect(cloud.sqs, exports["dlq_urls"][consumer_name], domain=domain_name, key_path=consumer.idempotency_key)
            flow.dlq_keys = {e.key_hash for e in flow.dlq if e.key_hash}
            seen = _observe(cloud, flow, domain.source, keys, items)
            flow.applied = set(seen)
            flow.applied_twice = {k for k, n in seen.items() if n > 1}
            result.append(flow)
    return result


def _observe(
    cloud: LocalCloud, flow: ConsumerFlow, source: str, keys: dict[str, Any], items: list[dict]
) -> Counter:
    """Key hash -> how many times its side effect is present, read with the handler's own layout."""
    fn = flow.function
    if flow.handler == "order_processor":
        versions = {}
        for item in items:
            order = order_of(item["id"]["S"], fn)
            if order is not None:
                versions[order] = int(item["version"]["N"])
        # Order state keeps the latest version: an event is applied once the state reached it.
        return Counter(
            h for h, (order, version) in keys.items() if versions.get(order, 0) >= version
        ) - Counter({h: 1 for h in flow.dlq_keys})
    if flow.handler == "analytics":
        guarded = (guarded_key_hash(item["id"]["S"], fn) for item in items)
        return Counter(h for h in guarded if h is not None)
    if flow.handler == "audit_logger":
        s3 = cloud.session.client("s3")
        bucket = cloud.deployment.exports["archive_bucket"]
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=archive_prefix(flow.domain)
        )
        # Either layout (ARCHIVE_OBJECTS): a key counts once however many objects repeat it,
        # as the audit_events_unique view does; a key archived with two payloads counts twice.
        return archived_key_counts(
            (o["Key"], s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
            for page in pages
            for o in page.get("Contents", [])
        )
    if flow.handler == "notification_sender":
        topic = cloud.deployment.exports[flow.domain]["notifications_topic_arn"]
        return Counter(
            message["MessageAttributes"][KEY_HASH_ATTRIBUTE]["Value"]
            for message in cloud.read_tap(name_of(topic))
        )
    if flow.handler == "fulfillment":
        by_id = {fulfillment_id(source, key): h for h, key in keys.items()}
        bus = cloud.deployment.exports[flow.domain]["bus_name"]
        return Counter(
            by_id.get(event["detail"]["fulfillmentId"], event["detail"]["fulfillmentId"])
            for event in follow_ups(cloud, bus)
        )
    raise ValueError(f"no side-effect observer for handler {flow.handler!r}")


def follow_ups(cloud: LocalCloud, bus: str) -> list[dict]:
    """Follow-up events the consumers published on `bus`; an archive replay's copies are not new."""
    return [e for e in cloud.read_tap(f"{bus}-follow-ups") if "replay-name" not in e]


def counters_total(cloud: LocalCloud, function: str) -> int:
    """Sum of the analytics function's per-type, per-day counts, derived as its queries do."""
    return sum(daily_counts(_table_items(cloud), function).values())


def _table_items(cloud: LocalCloud) -> list[dict]:
    ddb = cloud.session.client("dynamodb")
    table = cloud.deployment.exports["idempotency_table"]
    return [item for page in ddb.get_paginator("scan").paginate(TableName=table) for item in page["Items"]]
