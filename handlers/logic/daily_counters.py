"""Per-type, per-day event counts: one conditional guard item per business key is the count.

The guard item (`<function>#<key hash>`) carries the event's `detailType` and `day` (the
EventBridge `time`, UTC); a conditional PutItem writes it only if the key was not seen within the
window, so a duplicate writes nothing and costs the one failed write. A count is the number of
guard items of a type and day, derived when it is read (`daily_counts`, and the queries in
handlers/README.md) instead of being incremented: one write unit per event instead of a
two-item transaction's four, and no hot counter item, so a batch's records run concurrently.
A re-send on another day is still caught: the guard is keyed on the business key alone.

Guard items expire with the idempotency window, and the table answers counts for those days;
older days are read from the table's exports (handlers/README.md). Counter items written by the
earlier design (`<function>#count#<type>#<day>`, `count` = N, no expiry) are still summed in.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from handlers.observation import Effects, Observation, Routed
from handlers.runtime.aws import attribute, conditional
from handlers.runtime.envelope import Incoming, digest
from handlers.runtime.errors import PayloadMismatch
from handlers.runtime.guards import ID_SEPARATOR, Outcome, expires_at, item_id, item_suffix

DETAIL_TYPE, DAY = "detailType", "day"
# The earlier design's counter items: read, never written.
COUNTER = "count"


def guard_id(function_name: str, key_hash: str) -> str:
    """One guard item per business key: its presence is the event's applied mark and count."""
    return item_id(function_name, key_hash)


def guarded_key_hash(item: str, function_name: str) -> str | None:
    """The key hash of a guard item's key; None for counters and other keys."""
    rest = item_suffix(item, function_name)
    return rest if rest is not None and ID_SEPARATOR not in rest else None


def is_counter(item: str, function_name: str) -> bool:
    """A counter item of the earlier design (no longer written)."""
    return item_suffix(item, function_name, COUNTER) is not None


def daily_counts(items: Iterable[dict[str, Any]], function_name: str) -> Counter:
    """(detail type, day) -> events counted, from the table's items (low-level format).

    Guard items count one each; counter items of the earlier design add their `count`. Guard
    items written by the earlier design (no type or day) are already in its counters.
    """
    counts: Counter = Counter()
    for item in items:
        key = item["id"]["S"]
        if guarded_key_hash(key, function_name) is not None and DETAIL_TYPE in item:
            counts[(item[DETAIL_TYPE]["S"], item[DAY]["S"])] += 1
        elif is_counter(key, function_name) and COUNTER in item:
            counts[(item[DETAIL_TYPE]["S"], item[DAY]["S"])] += int(item[COUNTER]["N"])
    return counts


def utc_day(timestamp: str) -> str:
    """YYYY-MM-DD in UTC of an ISO 8601 time (the envelope check has parsed it already)."""
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date().isoformat()


def counter(
    *, client: Any, table: str, function_name: str, window_s: int
) -> Callable[[Incoming], Outcome]:
    def count(incoming: Incoming) -> Outcome:
        payload_hash = digest(incoming.detail)
        stored = conditional(
            client.put_item,
            TableName=table,
            Item={
                "id": {"S": guard_id(function_name, incoming.key_hash)},
                "expiration": attribute(expires_at(window_s)),
                "payloadHash": attribute(payload_hash),
                DETAIL_TYPE: attribute(incoming.detail_type),
                DAY: attribute(utc_day(incoming.event["time"])),
            },
            # An expired guard the TTL sweeper has not yet removed counts as absent.
            ConditionExpression="attribute_not_exists(#id) OR #expiration < :now",
            ExpressionAttributeNames={"#id": "id", "#expiration": "expiration"},
            ExpressionAttributeValues={":now": attribute(int(time.time()))},
        )
        if stored is None:
            return Outcome.APPLIED
        if stored.get("payloadHash", {}).get("S") != payload_hash:
            raise PayloadMismatch(incoming.key)
        return Outcome.DUPLICATE

    return count


def observed(effects: Effects, *, domain: str, function: str, routed: dict[str, Routed]) -> Observation:
    """One guard item per event, carrying the event's type and payload hash."""
    seen = Observation()
    for item in effects.table_items():
        key_hash = guarded_key_hash(item["id"]["S"], function)
        if key_hash is None:
            continue
        seen.applied[key_hash] += 1
        event = routed.get(key_hash)
        if event is None:
            continue
        held = (item.get(DETAIL_TYPE, {}).get("S"), item.get("payloadHash", {}).get("S"))
        if held != (event.incoming.detail_type, digest(event.incoming.detail)):
            seen.disagree(key_hash, f"guard item holds type and payload hash {held}, not the event's")
    return seen
