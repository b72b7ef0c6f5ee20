"""Checks that need the event schemas: business keys, group paths and the schemas themselves.

A consumer's `idempotency_key` is evaluated on every event it receives; a path to a field the
event may lack fails that event on every delivery until it reaches the DLQ, and an unparsable one
fails all of them. So the key is compiled here, and every field it names must be a required
field of every event type the consumer can receive. The same holds for a FIFO consumer's
`message_group_path`, and every schema must itself be valid JSON Schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from settings.model import ConsumerConfig, DomainConfig, StackConfig, SubscriptionConfig
from settings.patterns import EVENTBRIDGE, compile_pattern, event_pattern

# Envelope fields EventBridge sets on every event (a key may name them).
ENVELOPE = {"id", "source", "detail-type", "time", "account", "region", "resources", "version"}
KEY_EXAMPLE = "'[detail.orderId, detail.version]' or 'detail.movementId'"


def schema_error(schema: dict[str, Any]) -> str | None:
    """Why `schema` is not valid JSON Schema 2020-12, or None."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(map(str, error.absolute_path)) or "(top level)"
        return f"not a valid JSON Schema (2020-12) at {where}: {error.message}"
    return None


def key_errors(
    config: StackConfig, schemas: dict[tuple[str, str], dict[str, Any]]
) -> Iterator[tuple[str, str]]:
    """(key path, problem) for every consumer whose key or group path does not fit its events."""
    for domain_name, domain in config.domains.items():
        for consumer_name, consumer in domain.consumers.items():
            where = f"domains.{domain_name}.consumers.{consumer_name}"
            received = received_types(domain, consumer)
            yield from _idempotency_key(where, domain_name, consumer, received, schemas)
            group = consumer.queue.message_group_path
            if group is not None:
                path = tuple(group.removeprefix("$.").split("."))
                for problem in _missing(path, domain_name, received, schemas):
                    yield f"{where}.queue.message_group_path", (
                        f"{group!r}: {problem}; use a required field, e.g. $.detail.paymentId"
                    )


def _idempotency_key(where, domain_name, consumer, received, schemas):
    key = consumer.idempotency_key
    at = f"{where}.idempotency_key"
    if key.lstrip().startswith("$"):
        yield at, (
            f"{key!r} is JSONPath; idempotency_key is JMESPath, without '$.': e.g. {KEY_EXAMPLE}"
        )
        return
    try:
        tree = jmespath.compile(key).parsed
    except JMESPathError as error:
        yield at, f"{key!r} is not JMESPath ({error}); e.g. {KEY_EXAMPLE}"
        return
    paths = list(field_paths(tree))
    if not paths:
        yield at, f"{key!r} names no field of the event; e.g. {KEY_EXAMPLE}"
    for path in paths:
        for problem in _missing(path, domain_name, received, schemas):
            yield at, f"{key!r}: {problem}; every delivery of such an event would fail"


def field_paths(node: dict[str, Any]) -> Iterator[tuple[str, ...]]:
    """The field paths (detail.orderId → ("detail", "orderId")) a JMESPath expression reads."""
    kind = node.get("type")
    if kind == "field":
        yield (node["value"],)
    elif kind == "subexpression":
        left, right = node["children"]
        heads = list(field_paths(left))
        tails = list(field_paths(right))
        if heads and tails and right.get("type") in ("field", "subexpression"):
            yield from (h + t for h in heads for t in tails)
        else:
            yield from heads
    else:
        for child in node.get("children", []):
            if isinstance(child, dict):
                yield from field_paths(child)


def _missing(path, domain_name, received, schemas) -> Iterator[str]:
    if path[0] != "detail":
        if path[0] not in ENVELOPE:
            yield f"{path[0]!r} is no field of an EventBridge event ({', '.join(sorted(ENVELOPE))})"
        return
    for detail_type in received:
        schema = schemas[(domain_name, detail_type)]
        node, walked = schema, ["detail"]
        for name in path[1:]:
            walked.append(name)
            if name not in node.get("properties", {}):
                yield f"{'.'.join(walked)} is not a field of {detail_type}"
                break
            if name not in node.get("required", []):
                yield f"{'.'.join(walked)} is optional in {detail_type}"
                break
            node = node["properties"][name]


def received_types(domain: DomainConfig, consumer: ConsumerConfig) -> list[str]:
    """The declared event types whose source and detail-type the consumer's rule accepts
    (content conditions are not evaluated: any event of such a type may arrive)."""
    sub: SubscriptionConfig = consumer.subscribe
    rule = domain.topics[sub.topic].subscribe if sub.topic is not None else sub
    pattern = event_pattern(rule, domain.source)
    envelope_only = {k: v for k, v in pattern.items() if k in ("source", "detail-type")}
    matcher = compile_pattern(envelope_only, EVENTBRIDGE)
    return [
        t for t in domain.event_types if matcher.matches({"source": domain.source, "detail-type": t})
    ]
