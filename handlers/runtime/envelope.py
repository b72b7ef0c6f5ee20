"""From an SQS record to a validated EventBridge event and its business key.

The body is the full EventBridge event, whether it came straight from a rule target or through
SNS with raw message delivery. Everything that makes a record unusable raises `PoisonRecord`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jmespath

from handlers.runtime.errors import PoisonRecord
from handlers.runtime.schemas import SchemaError, validate_detail

ENVELOPE_KEYS = ("id", "detail-type", "source", "time", "detail")
# The EventBridge event id changes when a producer re-sends, so keying on it lets re-sends through.
EVENT_ID_PATH = "id"


@dataclass(frozen=True)
class Incoming:
    """One event to process, with the business key its consumer deduplicates on."""

    event: dict[str, Any]
    key: Any
    message_id: str

    @property
    def detail(self) -> dict[str, Any]:
        return self.event["detail"]

    @property
    def detail_type(self) -> str:
        return self.event["detail-type"]

    @property
    def key_hash(self) -> str:
        return digest(self.key)


def digest(value: Any) -> str:
    """Stable across processes and re-sends: canonical JSON, then SHA-256."""
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


@lru_cache(maxsize=64)
def _compiled(path: str) -> jmespath.parser.ParsedResult:
    return jmespath.compile(path)


def parse(body: str, *, domain: str) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except (TypeError, ValueError) as exc:
        raise PoisonRecord(f"body is not JSON: {exc}") from exc
    if not isinstance(event, dict) or any(k not in event for k in ENVELOPE_KEYS):
        raise PoisonRecord(f"body is not an EventBridge event (needs {', '.join(ENVELOPE_KEYS)})")
    if not isinstance(event["detail"], dict):
        raise PoisonRecord("body is not an EventBridge event: detail is not an object")
    try:
        validate_detail(domain, event["detail-type"], event["detail"])
    except SchemaError as exc:
        raise PoisonRecord(f"schema-invalid: {exc}") from exc
    return event


def business_key(event: dict[str, Any], path: str) -> Any:
    """The producer's id for this business event; any missing element fails the record."""
    key = _compiled(path).search(event)
    elements = key if isinstance(key, list) else [key]
    if not elements or any(e is None or e == "" for e in elements):
        raise PoisonRecord(f"business key {path} is missing or incomplete in this event: {key!r}")
    return key
