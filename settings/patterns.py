"""EventBridge event patterns and SNS filter policies (MessageBody scope), evaluated offline.

One matcher for every layer: settings compiles each declared pattern and filter policy at load
(so a pattern AWS would reject fails the config, not the deploy), the cost model propagates
volume through the routing the program declares, and the emulator checks moto's routing against
it. Both languages share one engine; a `Dialect` says which operators each accepts.

A pattern is compiled once (`compile_pattern`); compiling validates it as AWS does at `put_rule`
/ `subscribe` and raises `PatternError` naming the key path, the bad value and what is allowed.
moto differs here: its matcher treats an unknown operator as matching everything (AWS rejects
the rule), never looks into arrays of objects, and compares with Python semantics, so exact `1`
matches `true` and numeric ranges match booleans. Tests that pass in moto can therefore hide a
rule AWS would refuse or route differently; tests/costmodel/test_event_patterns.py pins each.

Matching follows AWS's documented semantics:
- every key of a pattern must match (AND); `$or` holds alternative sub-patterns at any level;
- a list of values/operators matches when any of them matches (OR);
- an array in the event matches when any element matches; a nested pattern against an array of
  objects matches when one element matches the whole nested pattern;
- only leaf values match: a field holding an object counts as absent for a value list (AWS:
  "exists matching only works on leaf nodes").
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from settings.model import SubscriptionConfig

Json = Any
ValuePredicate = Callable[[Json], bool]  # one scalar event value -> matches?
LeafMatcher = Callable[[list[Json]], bool]  # all scalar values at a field (empty = absent)
NodeMatcher = Callable[[Json], bool]  # an event (sub)object -> matches?

_MISSING = object()
_NUMERIC_OPERATORS = {"<", "<=", "=", ">=", ">"}


class PatternError(ValueError):
    """A pattern or filter policy AWS would reject; the message names the key path and the fix."""


@dataclass(frozen=True)
class Dialect:
    """What one pattern language accepts."""

    name: str
    operators: frozenset[str]
    anything_but_operators: frozenset[str]
    # Operators whose argument may itself be {"equals-ignore-case": "..."}.
    ignore_case_variants: frozenset[str]
    allow_empty: bool  # whether {} is a valid whole pattern (matching everything)


EVENTBRIDGE = Dialect(
    name="EventBridge event pattern",
    operators=frozenset(
        {"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "cidr", "wildcard"}
    ),
    anything_but_operators=frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"}),
    ignore_case_variants=frozenset({"prefix", "suffix"}),
    allow_empty=False,
)

SNS_MESSAGE_BODY = Dialect(
    name="SNS filter policy (MessageBody)",
    operators=frozenset(
        {"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "cidr"}
    ),
    anything_but_operators=frozenset({"prefix", "suffix"}),
    ignore_case_variants=frozenset(),
    # An empty policy filters nothing: the subscriber gets every message.
    allow_empty=True,
)


@dataclass(frozen=True)
class CompiledPattern:
    """A validated pattern; `matches(event)` evaluates it."""

    source: Mapping[str, Json]
    dialect: Dialect
    _root: NodeMatcher = field(repr=False)

    def matches(self, event: Json) -> bool:
        return self._root(event)


def compile_pattern(pattern: Mapping[str, Json], dialect: Dialect = EVENTBRIDGE) -> CompiledPattern:
    """Validate `pattern` as AWS does and compile it; raises PatternError on what AWS rejects."""
    if not isinstance(pattern, Mapping):
        raise PatternError(f"{dialect.name} must be a JSON object, got {_show(pattern)}")
    if not pattern and not dialect.allow_empty:
        raise PatternError(f"{dialect.name} must name at least one field (AWS rejects {{}})")
    return CompiledPattern(pattern, dialect, _compile_object(pattern, "", dialect))


def matches(pattern: Mapping[str, Json], event: Mapping[str, Json]) -> bool:
    """Whether EventBridge would route `event` to a rule with `pattern`."""
    return compile_pattern(pattern, EVENTBRIDGE).matches(event)


def filter_matches(policy: Mapping[str, Json], message_body: Mapping[str, Json]) -> bool:
    """Whether SNS would deliver a message with this JSON body to a subscription with `policy`
    (FilterPolicyScope=MessageBody). A body that is not a JSON object never matches."""
    compiled = compile_pattern(policy, SNS_MESSAGE_BODY)
    return isinstance(message_body, Mapping) and compiled.matches(message_body)


# --- declared event shapes -------------------------------------------------------------------


@dataclass(frozen=True)
class EventShape:
    """One declared event type as a representative event (what a rule sees on the bus)."""

    source: str
    detail_type: str
    detail: Mapping[str, Json] = field(default_factory=dict)
    account: str = "123456789012"
    region: str = "us-east-1"

    def event(self) -> dict[str, Json]:
        """The EventBridge envelope around `detail`, as delivered to targets (and, with no input
        transformer, the body SNS filter policies see when a rule feeds a topic)."""
        return {
            "version": "0",
            "id": "00000000-0000-0000-0000-000000000000",
            "detail-type": self.detail_type,
            "source": self.source,
            "account": self.account,
            "time": "2026-11-01T00:00:00Z",
            "region": self.region,
            "resources": [],
            "detail": dict(self.detail),
        }


def matching_shapes(
    pattern: Mapping[str, Json], shapes: Iterable[EventShape], dialect: Dialect = EVENTBRIDGE
) -> list[EventShape]:
    """The shapes whose sample event the pattern (or, with SNS_MESSAGE_BODY, filter policy)
    matches, in the order given. The pattern is validated once, even if no shape is given."""
    compiled = compile_pattern(pattern, dialect)
    return [shape for shape in shapes if compiled.matches(shape.event())]


# --- compiling the structure -----------------------------------------------------------------


def _compile_object(node: Json, path: str, dialect: Dialect) -> NodeMatcher:
    checks: list[NodeMatcher] = []
    for key, sub in node.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            checks.append(_compile_or(sub, where, dialect))
        elif isinstance(sub, Mapping):
            if not sub:
                raise PatternError(f"{where}: a nested pattern must name at least one field")
            checks.append(_nested(key, _compile_object(sub, where, dialect)))
        elif isinstance(sub, list):
            checks.append(_leaf(key, _compile_values(sub, where, dialect)))
        else:
            raise PatternError(
                f"{where}: got {_show(sub)}; allowed: an object (nested fields) or a non-empty "
                f"array of values and operators, e.g. [{json.dumps(sub)}]"
            )
    return lambda event: all(check(event) for check in checks)


def _compile_or(alternatives: Json, where: str, dialect: Dialect) -> NodeMatcher:
    if not isinstance(alternatives, list) or not alternatives:
        raise PatternError(f"{where}: must be a non-empty array of patterns, got {_show(alternatives)}")
    compiled = []
    for i, alt in enumerate(alternatives):
        if not isinstance(alt, Mapping) or not alt:
            raise PatternError(f"{where}[{i}]: each $or alternative must be a non-empty object")
        compiled.append(_compile_object(alt, f"{where}[{i}]", dialect))
    return lambda event: any(alt(event) for alt in compiled)


def _nested(key: str, inner: NodeMatcher) -> NodeMatcher:
    def check(event: Json) -> bool:
        value = _child(event, key)
        elements = _flatten(value) if isinstance(value, list) else [value]
        # An empty array holds no fields: the nested pattern sees them all as absent.
        return any(inner(e) for e in elements) if elements else inner(_MISSING)

    return check


def _leaf(key: str, values_match: LeafMatcher) -> NodeMatcher:
    def check(event: Json) -> bool:
        value = _child(event, key)
        candidates = _flatten(value) if isinstance(value, list) else [value]
        # Objects (and absent fields) are not leaf values.
        return values_match([v for v in candidates if v is not _MISSING and not isinstance(v, Mapping)])

    return check


def _child(event: Json, key: str) -> Json:
    return event.get(key, _MISSING) if isinstance(event, Mapping) else _MISSING


def _flatten(values: list[Json]) -> list[Json]:
    flat: list[Json] = []
    for v in values:
        flat.extend(_flatten(v) if isinstance(v, list) else [v])
    return flat


def _compile_values(items: list[Json], where: str, dialect: Dialect) -> LeafMatcher:
    if not items:
        raise PatternError(f"{where}: empty arrays are not allowed; list at least one value")
    matchers = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        if isinstance(item, Mapping):
            matchers.append(_compile_operator(item, at, dialect))
        elif _is_scalar(item):
            matchers.append(_any_value(_exact(item)))
        else:
            raise PatternError(f"{at}: got {_show(item)}; allowed: a string, number, boolean, null or an operator object")
    return lambda values: any(m(values) for m in matchers)


def _any_value(predicate: ValuePredicate) -> LeafMatcher:
    return lambda values: any(predicate(v) for v in values)


# --- operators -------------------------------------------------------------------------------


def _compile_operator(item: Mapping[str, Json], where: str, dialect: Dialect) -> LeafMatcher:
    name, arg = _single_operator(item, where, dialect.operators, dialect)
    at = f"{where}.{name}"
    if name == "exists":
        if not isinstance(arg, bool):
            raise PatternError(f"{at}: got {_show(arg)}; allowed: true or false")
        return lambda values: bool(values) == arg
    if name == "anything-but":
        excluded = _compile_anything_but(arg, at, dialect)
        # Absent fields never match; an array matches when any element is not excluded.
        return _any_value(lambda v: not excluded(v))
    return _any_value(_value_predicate(name, arg, at, dialect))


def _single_operator(
    item: Mapping[str, Json], where: str, allowed: frozenset[str], dialect: Dialect
) -> tuple[str, Json]:
    if len(item) != 1:
        raise PatternError(
            f"{where}: an operator object holds exactly one operator, got {sorted(item) or 'none'}"
        )
    [(name, arg)] = item.items()
    if name not in allowed:
        raise PatternError(
            f"{where}: unknown operator {name!r} for {dialect.name}; allowed here: "
            f"{', '.join(sorted(allowed))} (AWS rejects the pattern; moto would match everything)"
        )
    return name, arg


def _value_predicate(name: str, arg: Json, at: str, dialect: Dialect) -> ValuePredicate:
    return _VALUE_OPERATORS[name](arg, at, dialect)


def _affix(name: str, arg: Json, at: str, dialect: Dialect) -> ValuePredicate:
    ends = str.startswith if name == "prefix" else str.endswith
    if isinstance(arg, Mapping) and name in dialect.ignore_case_variants:
        _, text = _single_operator(arg, at, frozenset({"equals-ignore-case"}), dialect)
        lowered = _string_arg(text, f"{at}.equals-ignore-case").lower()
        return lambda v: isinstance(v, str) and ends(v.lower(), lowered)
    text = _string_arg(arg, at)
    return lambda v: isinstance(v, str) and ends(v, text)


def _equals_ignore_case(arg: Json, at: str, dialect: Dialect) -> ValuePredicate:
    lowered = _string_arg(arg, at).lower()
    return lambda v: isinstance(v, str) and v.lower() == lowered


def _compile_anything_but(arg: Json, at: str, dialect: Dialect) -> ValuePredicate:
    """What anything-but excludes, as a predicate on one value."""
    if isinstance(arg, Mapping):
        name, inner = _single_operator(arg, at, dialect.anything_but_operators, dialect)
        if isinstance(inner, list) and name in ("equals-ignore-case", "wildcard"):
            if not inner:
                raise PatternError(f"{at}.{name}: empty arrays are not allowed")
            alternatives = [_value_predicate(name, x, f"{at}.{name}", dialect) for x in inner]
            return lambda v: any(p(v) for p in alternatives)
        return _value_predicate(name, inner, f"{at}.{name}", dialect)
    values = arg if isinstance(arg, list) else [arg]
    all_strings = all(isinstance(x, str) for x in values)
    all_numbers = all(_is_number(x) for x in values)
    if not values or not (all_strings or all_numbers):
        raise PatternError(
            f"{at}: got {_show(arg)}; allowed: a string, a number, a non-empty array of strings or "
            f"of numbers, or an object with one of {', '.join(sorted(dialect.anything_but_operators))}"
        )
    return lambda v: any(_exact(x)(v) for x in values)


def _numeric(arg: Json, at: str, dialect: Dialect) -> ValuePredicate:
    shape_hint = 'allowed: [">", 0, "<=", 5] or ["=", 3]: operators <, <=, =, >=, > each followed by a number'
    if not isinstance(arg, list) or not arg or len(arg) % 2:
        raise PatternError(f"{at}: got {_show(arg)}; {shape_hint}")
    pairs = list(zip(arg[::2], arg[1::2]))
    for op, bound in pairs:
        if op not in _NUMERIC_OPERATORS or not _is_number(bound):
            raise PatternError(f"{at}: bad pair {_show(op)}, {_show(bound)}; {shape_hint}")
    ops = [op for op, _ in pairs]
    lower = [op for op in ops if op in (">", ">=")]
    upper = [op for op in ops if op in ("<", "<=")]
    if ("=" in ops and len(ops) > 1) or len(lower) > 1 or len(upper) > 1:
        raise PatternError(f"{at}: {ops} is not a range; use one lower and/or one upper bound, or = alone")
    compare = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        "=": lambda a, b: a == b,
        ">=": lambda a, b: a >= b,
        ">": lambda a, b: a > b,
    }
    return lambda v: _is_number(v) and all(compare[op](v, bound) for op, bound in pairs)


def _cidr(arg: Json, at: str, dialect: Dialect) -> ValuePredicate:
    try:
        network = ipaddress.ip_network(_string_arg(arg, at))
    except ValueError as exc:
        raise PatternError(f"{at}: {exc}; allowed: a CIDR block such as 10.0.0.0/24") from None

    def inside(v: Json) -> bool:
        try:
            return isinstance(v, str) and ipaddress.ip_address(v) in network
        except ValueError:
            return False

    return inside


def _wildcard(arg: Json, at: str, dialect: Dialect) -> ValuePredicate:
    # `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash.
    text = _string_arg(arg, at)
    parts, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and text[i + 1 : i + 2] in ("*", "\\"):
            parts.append(re.escape(text[i + 1]))
            i += 2
            continue
        if c == "*" and text[i + 1 : i + 2] == "*":
            raise PatternError(f"{at}: consecutive wildcard characters at position {i} are not allowed")
        parts.append(".*" if c == "*" else re.escape(c))
        i += 1
    regex = re.compile("".join(parts), re.DOTALL)
    return lambda v: isinstance(v, str) and regex.fullmatch(v) is not None


# Operators that test one value at a time; `exists` and `anything-but` are built in
# _compile_operator because they look at the field as a whole.
_VALUE_OPERATORS: dict[str, Callable[[Json, str, Dialect], ValuePredicate]] = {
    "prefix": lambda arg, at, dialect: _affix("prefix", arg, at, dialect),
    "suffix": lambda arg, at, dialect: _affix("suffix", arg, at, dialect),
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
    "numeric": _numeric,
    "cidr": _cidr,
}


# --- values ----------------------------------------------------------------------------------


def _exact(expected: Json) -> ValuePredicate:
    # JSON types stay apart: true is not 1 and "1" is not 1 (Python's True == 1 would say so).
    if _is_number(expected):
        return lambda v: _is_number(v) and v == expected
    return lambda v: type(v) is type(expected) and v == expected


def _string_arg(arg: Json, at: str) -> str:
    if not isinstance(arg, str):
        raise PatternError(f"{at}: got {_show(arg)}; allowed: a string")
    return arg


def _is_number(x: Json) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_scalar(x: Json) -> bool:
    return x is None or isinstance(x, (str, bool, int, float))


def _show(x: Json) -> str:
    return json.dumps(x) if _is_scalar(x) or isinstance(x, (list, dict)) else repr(x)


__all__ = [
    "EVENTBRIDGE",
    "SNS_MESSAGE_BODY",
    "CompiledPattern",
    "Dialect",
    "EventShape",
    "PatternError",
    "compile_pattern",
    "detail_types_of",
    "event_pattern",
    "filter_matches",
    "matches",
    "matching_shapes",
]


def detail_types_of(sub: "SubscriptionConfig") -> list[str]:
    """The exact detail types a rule subscription names (prefix/wildcard matchers name none)."""
    if sub.detail_types is not None:
        return list(sub.detail_types)
    if sub.pattern is None:
        return []
    return [v for v in sub.pattern.get("detail-type", []) if isinstance(v, str)]


def event_pattern(sub: "SubscriptionConfig", source: str) -> dict[str, Any]:
    """The EventBridge pattern a rule subscription deploys, always pinned to the domain's source.

    Pinning the source keeps a rule from matching events that another (admitted) account puts
    on the bus under its own source.
    """
    if sub.detail_types is not None:
        return {"source": [source], "detail-type": list(sub.detail_types)}
    assert sub.pattern is not None
    return {"source": [source], **sub.pattern}
