"""Checks that need the event schemas: business keys, group paths and the schemas themselves.

A consumer's `idempotency_key` is evaluated on every event it receives; a path to a field the
event may lack fails that event on every delivery until it reaches the DLQ, and an unparsable one
fails all of them. So the key is compiled here, and every field it names must be a required
field of every event type the consumer can receive, from its own domain and from each domain it
reads `also_from` (`settings.feeds`). The same holds for a FIFO consumer's `message_group_path`,
and every schema must itself be valid JSON Schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from handlers.catalog import HANDLERS
from settings.feeds import feeds
from settings.model import StackConfig
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
            received = received_types(config, domain_name, consumer_name)
            yield from _idempotency_key(where, domain_name, consumer, received, schemas)
            group = consumer.queue.message_group_path
            if group is not None:
                path = tuple(group.removeprefix("$.").split("."))
                for _, problem in _missing(path, domain_name, received, schemas):
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
    fields = list(key_fields(tree))
    if not fields:
        yield at, f"{key!r} names no field of the event; e.g. {KEY_EXAMPLE}"
    for alternatives in fields:
        # `a || b` takes the first that is there: one of them must be, in every received type.
        for problem in _unmet(alternatives, domain_name, received, schemas):
            yield at, f"{key!r}: {problem}; every delivery of such an event would fail"
    if HANDLERS[consumer.handler].key_shape == "entity-version":
        yield from ((at, p) for p in _entity_version(key, tree, received, schemas))
    domains = sorted({source_domain for source_domain, _ in received})
    if len(domains) > 1 and ("source",) not in {p for a in fields for p in a}:
        yield at, (
            f"{key!r}: the consumer receives events of {', '.join(domains)}, whose producers "
            "choose their ids independently: the key must name `source`, so that two domains' "
            "events never share a key, e.g. '[source, detail.shipmentId || detail.orderId, "
            "detail.version]'"
        )


def _entity_version(key, tree, received, schemas) -> Iterator[str]:
    """A handler that keeps one item per entity reads its key as [entity id, integer version]."""
    shape = "needs [entity id, integer version], e.g. '[detail.shipmentId, detail.version]'"
    parts = tree.get("children", []) if tree.get("type") == "multi_select_list" else []
    if len(parts) != 2:
        yield f"{key!r}: this handler keeps one state item per entity and {shape}"
        return
    versions = list(field_paths(parts[1]))
    lacking = [
        t for d, t in received
        if len(versions) != 1 or _type_of(schemas[(d, t)], versions[0]) != "integer"
    ]  # fmt: skip
    if lacking:
        yield f"{key!r}: its second element is no integer field of {', '.join(lacking)}; this handler {shape}"


def _type_of(schema: dict[str, Any], path: tuple[str, ...]) -> str | None:
    """The JSON type a detail path has in `schema`; None for envelope fields."""
    if path[0] != "detail":
        return None
    node = schema
    for name in path[1:]:
        node = node.get("properties", {}).get(name, {})
    return node.get("type")


def key_fields(node: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], ...]]:
    """Each value a key is made of, as the field paths that can supply it: one path per plain
    field, several for `a || b` (the first of them the event has)."""
    if node.get("type") == "or_expression":
        yield tuple(field_paths(node))
    elif node.get("type") in ("field", "subexpression"):
        yield from ((path,) for path in field_paths(node))
    else:
        for child in node.get("children", []):
            if isinstance(child, dict):
                yield from key_fields(child)


def _unmet(alternatives, domain_name, received, schemas) -> Iterator[str]:
    """What keeps each received type from supplying the value: every problem of a single path;
    for `a || b`, the types none of the alternatives fits."""
    problems = [dict(_missing(path, domain_name, received, schemas)) for path in alternatives]
    if len(alternatives) == 1:
        yield from dict.fromkeys(problems[0].values())  # an envelope problem is every type's
        return
    named = " || ".join(".".join(path) for path in alternatives)
    for received_type in received:
        if all(received_type in found for found in problems):
            reasons = "; ".join(found[received_type] for found in problems)
            yield f"none of {named} is a required field of {received_type[1]} ({reasons})"


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


def _missing(path, domain_name, received, schemas) -> Iterator[tuple[tuple[str, str], str]]:
    """(received type, problem) for each type that lacks `path` or leaves it optional."""
    if path[0] != "detail":
        if path[0] not in ENVELOPE:
            problem = f"{path[0]!r} is no field of an EventBridge event ({', '.join(sorted(ENVELOPE))})"
            yield from ((t, problem) for t in received)
        return
    for source_domain, detail_type in received:
        schema = schemas[(source_domain, detail_type)]
        shown = detail_type if source_domain == domain_name else f"{source_domain}'s {detail_type}"
        node, walked = schema, ["detail"]
        for name in path[1:]:
            walked.append(name)
            if name not in node.get("properties", {}):
                yield (source_domain, detail_type), f"{'.'.join(walked)} is not a field of {shown}"
                break
            if name not in node.get("required", []):
                yield (source_domain, detail_type), f"{'.'.join(walked)} is optional in {shown}"
                break
            node = node["properties"][name]


def received_types(
    config: StackConfig, domain_name: str, consumer_name: str
) -> list[tuple[str, str]]:
    """(domain, detail type) of every declared event type whose source and detail-type one of
    the consumer's feeds accepts (content conditions and filter policies are not evaluated: any
    event of such a type may arrive)."""
    received = []
    for feed in feeds(config, domain_name, consumer_name):
        domain = config.domains[feed.bus_domain]
        pattern = event_pattern(feed.rule, domain.source)
        envelope_only = {k: v for k, v in pattern.items() if k in ("source", "detail-type")}
        matcher = compile_pattern(envelope_only, EVENTBRIDGE)
        received += [
            (feed.bus_domain, t)
            for t in domain.event_types
            if matcher.matches({"source": domain.source, "detail-type": t})
        ]
    return received
