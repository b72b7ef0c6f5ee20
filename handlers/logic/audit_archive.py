"""The append-only audit archive in S3: one object per Lambda batch, or one per event.

Objects live under `<prefix>dt=<YYYY-MM-DD>/`: the Athena table projects `dt` from the key. The
date is the business event's own timestamp (ARCHIVE_DATE_PATH, default `detail.occurredAt`), not
the EventBridge `time`, which a producer's re-send changes. Every PUT is conditional
(`If-None-Match: *`) at a name derived from what it holds, so a retry never overwrites.

- `per-batch` (ARCHIVE_OBJECTS, the catalogue's default): `batch-<sha256>.json`, one JSON line
  per event of the batch and day, each the EventBridge event plus `key_hash` and `payload_hash`;
  the name is the digest of those pairs, so a batch retried as it was adds nothing. A batch that
  SQS regroups can put an event in a second object: the audit_events_unique view (README) keeps
  one row per key_hash. One PUT per batch instead of one per event.
- `per-event`: `<sha256 of the business key>.json` holding the event alone, its payload's hash in
  the object's metadata; a duplicate is refused by the PUT, a different payload fails the record.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import jmespath
from botocore.exceptions import ClientError

from handlers.observation import Effects, Observation, Routed
from handlers.runtime.aws import error_code
from handlers.runtime.batch import BatchEffect
from handlers.runtime.envelope import Incoming, digest
from handlers.runtime.errors import PayloadMismatch, PoisonRecord
from handlers.runtime.guards import Outcome

PAYLOAD_HASH = "payload-sha256"
SUFFIX = ".json"
BATCH_PREFIX = "batch-"
KEY_HASH_FIELD, PAYLOAD_HASH_FIELD = "key_hash", "payload_hash"


def partition(incoming: Incoming, *, prefix: str, date_path: str) -> str:
    """`<prefix>dt=<day>/` of the event's business date; poison if it has none."""
    stamp = jmespath.search(date_path, incoming.event)
    try:
        day = datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).date().isoformat()
    except ValueError as exc:
        raise PoisonRecord(
            f"archive date {date_path} is missing or not ISO 8601: {stamp!r}"
        ) from exc
    return f"{prefix}dt={day}/"


def object_key(incoming: Incoming, *, prefix: str, date_path: str) -> str:
    """The per-event layout's object for this event."""
    return f"{partition(incoming, prefix=prefix, date_path=date_path)}{incoming.key_hash}{SUFFIX}"


def key_hash_of(object_key: str) -> str | None:
    """The business key hash a per-event object is named by; None for a batch object."""
    name = object_key.rsplit("/", 1)[-1]
    return None if name.startswith(BATCH_PREFIX) else name.removesuffix(SUFFIX)


def archived_events(object_key: str, body: bytes) -> list[tuple[str, str, dict[str, Any]]]:
    """(key hash, payload hash, event) of each event an archive object holds, in either layout."""
    key_hash = key_hash_of(object_key)
    if key_hash is not None:
        event = json.loads(body)
        return [(key_hash, digest(event["detail"]), event)]
    lines = [json.loads(line) for line in body.splitlines() if line.strip()]
    return [(line[KEY_HASH_FIELD], line[PAYLOAD_HASH_FIELD], line) for line in lines]


def archived_pairs(object_key: str, body: bytes) -> list[tuple[str, str]]:
    """(key hash, payload hash) of each event an archive object holds, in either layout."""
    return [(key_hash, payload) for key_hash, payload, _ in archived_events(object_key, body)]


def archived_key_counts(objects: Iterable[tuple[str, bytes]]) -> Counter:
    """Key hash -> distinct payloads archived under it, from (object key, body) pairs.

    What the audit_events_unique view shows: one event per key, however many objects repeat
    it. A count above 1 is a key archived with different payloads (the view's conflict query).
    """
    payloads: dict[str, set[str]] = defaultdict(set)
    for name, body in objects:
        for key_hash, payload_hash in archived_pairs(name, body):
            payloads[key_hash].add(payload_hash)
    return Counter({key_hash: len(hashes) for key_hash, hashes in payloads.items()})


def observed(effects: Effects, *, domain: str, function: str, routed: dict[str, Routed]) -> Observation:
    """Each event once as the audit_events_unique view shows it, holding the event's detail and
    type under its payload hash (a second payload under one key counts as a second effect)."""
    seen = Observation()
    objects = list(effects.archive_objects(domain))
    seen.applied.update(archived_key_counts(objects))
    for name, body in objects:
        for key_hash, payload_hash, event in archived_events(name, body):
            expected = routed.get(key_hash)
            if expected is None:
                continue
            held = (event.get("detail-type"), event.get("detail"), payload_hash)
            wanted = expected.incoming
            if held != (wanted.detail_type, wanted.detail, digest(wanted.detail)):
                seen.disagree(key_hash, f"{name} holds {held[0]} {held[1]} (hash {payload_hash[:12]}), not the event")
    return seen


def archiver(
    *, client: Any, bucket: str, prefix: str, date_path: str
) -> Callable[[Incoming], Outcome]:
    """Per-event layout: the conditional PUT is the guard and the effect."""

    def archive(incoming: Incoming) -> Outcome:
        key = object_key(incoming, prefix=prefix, date_path=date_path)
        payload_hash = digest(incoming.detail)
        try:
            client.put_object(
                Bucket=bucket,
                Key=key,
                # One JSON object per line: the layout Athena's JSON SerDe reads.
                Body=json.dumps(incoming.event, separators=(",", ":")).encode() + b"\n",
                ContentType="application/json",
                Metadata={PAYLOAD_HASH: payload_hash},
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if error_code(exc) != "PreconditionFailed":
                raise
            stored = client.head_object(Bucket=bucket, Key=key)["Metadata"].get(PAYLOAD_HASH)
            if stored != payload_hash:
                raise PayloadMismatch(incoming.key) from exc
            return Outcome.DUPLICATE
        return Outcome.APPLIED

    return archive


class BatchArchiver(BatchEffect):
    """Per-batch layout: each record is checked on its own, the batch is written in one PUT."""

    def __init__(self, *, client: Any, bucket: str, prefix: str, date_path: str) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix
        self._date_path = date_path

    def check(self, incoming: Incoming) -> None:
        partition(incoming, prefix=self._prefix, date_path=self._date_path)

    def commit(self, staged: list[Incoming]) -> list[Outcome]:
        days: dict[str, list[Incoming]] = defaultdict(list)
        for incoming in staged:
            days[partition(incoming, prefix=self._prefix, date_path=self._date_path)].append(
                incoming
            )
        outcomes: dict[str, Outcome] = {}
        for directory, events in days.items():
            lines: list[bytes] = []
            pairs: set[tuple[str, str]] = set()
            for incoming in events:
                pair = (incoming.key_hash, digest(incoming.detail))
                # The same event twice in one batch: one line is enough.
                outcomes[incoming.message_id] = Outcome.DUPLICATE if pair in pairs else None
                if pair in pairs:
                    continue
                pairs.add(pair)
                line = {**incoming.event, KEY_HASH_FIELD: pair[0], PAYLOAD_HASH_FIELD: pair[1]}
                lines.append(json.dumps(line, separators=(",", ":")).encode() + b"\n")
            written = self._put(f"{directory}{BATCH_PREFIX}{digest(sorted(pairs))}{SUFFIX}", lines)
            for incoming in events:
                if outcomes[incoming.message_id] is None:
                    outcomes[incoming.message_id] = (
                        Outcome.APPLIED if written else Outcome.DUPLICATE
                    )
        return [outcomes[incoming.message_id] for incoming in staged]

    def _put(self, key: str, lines: list[bytes]) -> bool:
        """Whether the object was written; False when a retry finds it already there."""
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=b"".join(lines),
                ContentType="application/x-ndjson",
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if error_code(exc) != "PreconditionFailed":
                raise
            # The name is the digest of its (key, payload) pairs: the same lines are stored.
            return False
        return True

