"""From an SQS record to a validated EventBridge event and its business key.

The body is the full EventBridge event, whether it came straight from a rule target or through
SNS with raw message delivery. Everything that makes a record unusable raises `PoisonRecord`,
including what would otherwise surface as a Python error and look retryable: envelope fields of
the wrong type (a list as `detail-type` is unhashable in the schema lookup's cache), JSON nested
too deeply to parse or to walk (RecursionError), a key path that fails on this event's values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from handlers.runtime.errors import PoisonRecord
from handlers.runtime.schemas import SchemaError, validate_detail

ENVELOPE_KEYS = ("id", "detail-type", "source", "time", "detail")
# Envelope fields the consumers use as strings (schema file name, guard attributes, the day).
STRING_FIELDS = ("id", "detail-type", "source", "time")
# The EventBridge event id changes when a producer re-sends, so keying on it lets re-sends through.
EVENT_ID_PATH = "id"
# Far deeper than any schema in schemas/ (an order line sits at depth 4); far shallower than what
# recursive code (schema validation, error messages, hashing, templates) can walk.
MAX_DEPTH = 32


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

    @cached_property  # read several times per record (guard id, message attributes, archive line)
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


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether JSON `value` nests deeper than `limit` containers (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def parse(body: str, *, domains: Mapping[str, str]) -> dict[str, Any]:
    """The EventBridge event in `body`, its detail checked against the schema of its type in the
    domain its source belongs to (`domains`: source -> domain, the ones the consumer reads)."""
    try:
        event = json.loads(body)
    except RecursionError as exc:
        raise PoisonRecord(
            f"body is JSON nested too deeply to parse (more than {MAX_DEPTH} levels are refused)"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise PoisonRecord(f"body is not JSON: {exc}") from exc
    if depth_exceeds(event, MAX_DEPTH):
        raise PoisonRecord(f"body is JSON nested more than {MAX_DEPTH} levels deep")
    if not isinstance(event, dict) or any(k not in event for k in ENVELOPE_KEYS):
        raise PoisonRecord(f"body is not an EventBridge event (needs {', '.join(ENVELOPE_KEYS)})")
    for name in STRING_FIELDS:
        if not isinstance(event[name], str) or not event[name]:
            raise PoisonRecord(
                f"body is not an EventBridge event: {name} is {type(event[name]).__name__} "
                f"{_short(event[name])}, not a non-empty string"
            )
    if not isinstance(event["detail"], dict):
        raise PoisonRecord("body is not an EventBridge event: detail is not an object")
    resources = event.get("resources", [])
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        raise PoisonRecord("body is not an EventBridge event: resources is not a list of strings")
    try:
        datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    except ValueError as exc:
        raise PoisonRecord(
            f"body is not an EventBridge event: time {_short(event['time'])} is not ISO 8601"
        ) from exc
    domain = domains.get(event["source"])
    if domain is None:
        raise PoisonRecord(
            f"source {_short(event['source'])} is not one this consumer reads "
            f"({', '.join(sorted(domains))})"
        )
    try:
        validate_detail(domain, event["detail-type"], event["detail"])
    except SchemaError as exc:
        raise PoisonRecord(f"schema-invalid: {exc}") from exc
    return event


def business_key(event: dict[str, Any], path: str) -> Any:
    """The producer's id for this business event; any missing element fails the record."""
    try:
        key = _compiled(path).search(event)
    except JMESPathError as exc:
        # A function in the path (join, to_number...) given values of the wrong type.
        raise PoisonRecord(f"business key {path} cannot be evaluated on this event: {exc}") from exc
    elements = key if isinstance(key, list) else [key]
    if not elements or any(e is None or e == "" for e in elements):
        raise PoisonRecord(f"business key {path} is missing or incomplete in this event: {key!r}")
    return key


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
