"""Publish domain events to an EventBridge bus: validated, batched, retried, never dropped silently.

    result = publish([Event("OrderCreated", detail)], bus_name="orders",
                     source="com.ascendion.orders", domain="orders")
    result.raise_for_failures()   # or inspect result.failed

Every event is checked against `schemas/<domain>/<DetailType>.json` before anything is sent; an
invalid one raises `EventValidationError` naming the event and the field. Entries go out in
PutEvents calls of at most 10 entries and `max_batch_bytes`; when a call partly fails, only the
failed entries are sent again, with exponential backoff and jitter, and those that still fail
(or fail for a reason no retry cures) come back in `PublishResult.failed` with their reason.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handlers.runtime import aws
from handlers.runtime.schemas import SchemaError, validate_detail

MAX_ENTRIES_PER_CALL = 10
# PutEvents' request limit; the size of an entry is counted as EventBridge documents it.
MAX_BATCH_BYTES = 256 * 1024
TIME_ENTRY_BYTES = 14
# Per-entry error codes that a resend cannot fix.
PERMANENT_ERRORS = frozenset(
    {
        "MalformedDetail",
        "InvalidArgument",
        "AccessDeniedException",
        "NotAuthorizedForSourceException",
    }
)


@dataclass(frozen=True)
class Event:
    detail_type: str
    detail: Mapping[str, Any]
    resources: Sequence[str] = ()


@dataclass(frozen=True)
class Sent:
    event: Event
    event_id: str


@dataclass(frozen=True)
class Failed:
    event: Event
    code: str
    message: str


class EventValidationError(ValueError):
    """An event that does not match its schema; raised before any event is sent."""


class PublishError(RuntimeError):
    def __init__(self, failed: Sequence[Failed]) -> None:
        self.failed = list(failed)
        reasons = "; ".join(f"{f.event.detail_type}: {f.code} {f.message}" for f in self.failed)
        super().__init__(f"{len(self.failed)} event(s) not sent: {reasons}")


@dataclass
class PublishResult:
    sent: list[Sent] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    calls: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def raise_for_failures(self) -> None:
        if self.failed:
            raise PublishError(self.failed)


def publish(
    events: Iterable[Event],
    *,
    bus_name: str,
    source: str,
    domain: str,
    client: Any = None,
    max_attempts: int = 4,
    base_delay_s: float = 0.1,
    max_batch_bytes: int = MAX_BATCH_BYTES,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishResult:
    events = list(events)
    for index, event in enumerate(events):
        try:
            validate_detail(domain, event.detail_type, event.detail)
        except SchemaError as exc:
            raise EventValidationError(f"event #{index} ({domain}): {exc}") from exc

    client = client or aws.client("events")
    # Time is fixed once, so a resent entry keeps the event's original timestamp.
    now = datetime.now(UTC)
    pending = [
        _Pending(event, _entry(event, bus_name=bus_name, source=source, time=now))
        for event in events
    ]
    result = PublishResult()
    for attempt in range(max_attempts):
        if attempt:
            sleep(random.uniform(0, base_delay_s * 2**attempt))
        retry: list[_Pending] = []
        for batch in _batches(pending, max_batch_bytes, result):
            retry.extend(_put(client, batch, result))
        pending = retry
        if not pending:
            break
    result.failed.extend(Failed(p.event, *p.error) for p in pending)
    return result


@dataclass
class _Pending:
    event: Event
    entry: dict[str, Any]
    error: tuple[str, str] = ("", "")


def _entry(event: Event, *, bus_name: str, source: str, time: datetime) -> dict[str, Any]:
    entry = {
        "EventBusName": bus_name,
        "Source": source,
        "DetailType": event.detail_type,
        "Detail": json.dumps(event.detail, separators=(",", ":")),
        "Time": time,
    }
    if event.resources:
        entry["Resources"] = list(event.resources)
    return entry


def entry_size(entry: Mapping[str, Any]) -> int:
    size = TIME_ENTRY_BYTES if "Time" in entry else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(entry[name].encode())
    return size + sum(len(r.encode()) for r in entry.get("Resources", ()))


def _batches(
    pending: list[_Pending], max_batch_bytes: int, result: PublishResult
) -> Iterator[list[_Pending]]:
    batch: list[_Pending] = []
    size = 0
    for item in pending:
        item_bytes = entry_size(item.entry)
        if item_bytes > max_batch_bytes:
            result.failed.append(
                Failed(item.event, "EntryTooLarge", f"{item_bytes} bytes > {max_batch_bytes}")
            )
            continue
        if batch and (len(batch) == MAX_ENTRIES_PER_CALL or size + item_bytes > max_batch_bytes):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item_bytes
    if batch:
        yield batch


def _put(client: Any, batch: list[_Pending], result: PublishResult) -> list[_Pending]:
    """Send one batch; return the entries worth resending, each with its last error."""
    result.calls += 1
    try:
        response = client.put_events(Entries=[item.entry for item in batch])
    except (ClientError, BotoCoreError) as exc:
        # botocore has already retried what it considers transient; what is left is reported.
        code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
        result.failed.extend(Failed(item.event, code, str(exc)) for item in batch)
        return []
    retry = []
    for item, outcome in zip(batch, response["Entries"], strict=True):
        code = outcome.get("ErrorCode")
        if not code:
            result.sent.append(Sent(item.event, outcome["EventId"]))
        elif code in PERMANENT_ERRORS:
            result.failed.append(Failed(item.event, code, outcome.get("ErrorMessage", "")))
        else:
            item.error = (code, outcome.get("ErrorMessage", ""))
            retry.append(item)
    return retry
