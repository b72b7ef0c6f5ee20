"""Schema-valid event details, generated reproducibly from JSON Schema (2020-12).

The generator covers what event schemas say about a value: `type`, `const`, `enum`, `required`
and `properties` (optional ones included at random; only declared ones, so
`additionalProperties: false` holds), `items`/`minItems`/`maxItems`, numeric bounds,
`minLength`/`maxLength`, `format` (date-time, date, time, email, uuid, uri) and `pattern`s made of
literals, character classes and quantifiers (`^[A-Z]{3}$`, `^[0-9a-f]{64}$`). Every detail is
then validated as the handlers validate it, so a keyword it does not cover fails here, naming
the schema and the field, not in `publish` halfway through a run.
"""

from __future__ import annotations

import math
import random
import re
import string
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER  # as handlers/runtime/schemas.py checks
OPTIONAL_SHARE = 0.5  # optional properties appear in about half the events
SPAN = 100  # width of a numeric range the schema leaves open
ATTEMPTS = 50  # draws for a distinct key value before giving up
REPEAT = 8  # extra repetitions `*`, `+` and `{n,}` may add
ALPHABET = string.ascii_letters + string.digits  # what `.` and padding draw from
OTHERS = ALPHABET + "-_.:~"  # what a negated class draws from
ESCAPES = {"d": string.digits, "w": ALPHABET + "_", "s": " "}
QUANTIFIER = re.compile(r"\?|\*|\+|\{(\d+)(,(\d*))?\}")
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
FORMATS = {
    "date-time": lambda rng, stem: _moment(rng).isoformat().replace("+00:00", "Z"),
    "date": lambda rng, stem: _moment(rng).date().isoformat(),
    "time": lambda rng, stem: _moment(rng).strftime("%H:%M:%SZ"),
    "email": lambda rng, stem: f"{stem}{rng.randrange(10_000)}@example.com",
    "uuid": lambda rng, stem: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "uri": lambda rng, stem: f"https://example.com/{stem}/{rng.randrange(10_000)}",
}

Path = tuple[str, ...]


class SampleError(ValueError):
    """A schema the generator cannot satisfy, naming the schema, the field and why."""


class Sampler:
    """Details for one event type's schema; `name` says which schema in every error."""

    def __init__(self, schema: dict[str, Any], name: str) -> None:
        self.schema, self.name = schema, name
        self.validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)

    def detail(self, rng: random.Random, index: int) -> dict[str, Any]:
        """A detail; the `index`-th of its type, so enum values take turns."""
        return self._value(self.schema, rng, index, "detail")

    def check(self, detail: dict[str, Any]) -> None:
        error = best_match(self.validator.iter_errors(detail))
        if error is not None:
            where = ".".join(["detail", *map(str, error.absolute_path)])
            raise SampleError(
                f"{self.name}: {where}: cannot generate a valid value: {error.message}"
            )

    def node(self, path: Path) -> dict[str, Any]:
        node = self.schema
        for name in path:
            node = node.get("properties", {}).get(name, {})
        return node

    def unique(self, path: Path, n: int, taken: set[Any]) -> Any:
        """The `n`-th distinct value of a key field: `<field>-000042` where the schema allows it."""
        node, where = self.node(path), ".".join(["detail", *path])
        if node.get("type") in ("integer", "number"):
            low, _ = bounds(node)
            return (1 if low is None else low) + n
        stem = _stem(path[-1])
        candidate = f"{stem}-{n:0{max(6, node.get('minLength', 0) - len(stem) - 1)}d}"
        fits = Draft202012Validator(node, format_checker=FORMAT_CHECKER).is_valid(candidate)
        if fits and candidate not in taken:
            return candidate
        rng = random.Random(f"{where}:{n}")  # a key's values must not depend on the other fields
        for _ in range(ATTEMPTS):
            value = self._value(node, rng, n, where)
            if value not in taken:
                return value
        raise SampleError(
            f"{self.name}: {where}: a key field needs {n + 1} distinct values; {node} has fewer"
        )

    def _value(self, node: dict[str, Any], rng: random.Random, index: int, where: str) -> Any:
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return node["enum"][index % len(node["enum"])]
        kind = node.get("type", "object" if "properties" in node else "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object":
            properties, required = node.get("properties", {}), node.get("required", [])
            return {
                name: self._value(properties.get(name, {}), rng, index, f"{where}.{name}")
                for name in dict.fromkeys([*properties, *required])
                if name in required or rng.random() < OPTIONAL_SHARE
            }
        if kind == "array":
            low = node.get("minItems", min(1, node.get("maxItems", 1)))
            count = rng.randint(low, min(node.get("maxItems", low + 2), low + 2))
            items = node.get("items", {})
            return [self._value(items, rng, index + i, f"{where}[]") for i in range(count)]
        if kind in ("integer", "number"):
            return self._number(node, rng, where, kind)
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "null":
            return None
        return self._string(node, rng, where)

    def _number(self, node: dict[str, Any], rng: random.Random, where: str, kind: str) -> float:
        scale = 1 if kind == "integer" else 100  # numbers in cents: readable amounts
        low, high = bounds(node, scale)
        if low is None:
            low = scale if high is None or high >= scale else high - SPAN * scale
        high = low + SPAN * scale if high is None else high
        if low > high:
            raise SampleError(f"{self.name}: {where}: no {kind} within {node}")
        units = rng.randint(low, high)
        return units if kind == "integer" else units / scale

    def _string(self, node: dict[str, Any], rng: random.Random, where: str) -> str:
        stem = _stem(where.rsplit(".", 1)[-1].removesuffix("[]"))
        if node.get("format") in FORMATS:
            return FORMATS[node["format"]](rng, stem)
        if "pattern" in node:
            return self._matching(node, rng, where)
        text = f"{stem}-{rng.randrange(1_000):03d}"
        return text.ljust(node.get("minLength", 0), "0")[: node.get("maxLength")]

    def _matching(self, node: dict[str, Any], rng: random.Random, where: str) -> str:
        pattern = node["pattern"]
        shortest, longest = node.get("minLength", 0), node.get("maxLength", math.inf)

        def fail(reason: str) -> SampleError:
            return SampleError(
                f"{self.name}: {where}: cannot generate a string matching pattern "
                f"{pattern!r}: {reason}"
            )

        starts = pattern.startswith("^")
        ends = pattern.endswith("$") and not pattern.endswith("\\$")
        atoms = _atoms(pattern[starts : len(pattern) - ends], fail)
        counts = [rng.randint(low, high) for _, low, high in atoms]
        for i, (_, low, high) in enumerate(atoms):  # grow or shrink repeats into the length bounds
            counts[i] += max(0, min(high - counts[i], shortest - sum(counts)))
            counts[i] -= max(0, min(counts[i] - low, sum(counts) - longest))
        # An unanchored end (or start) matches inside a longer string: pad there if too short.
        padding = max(0, shortest - sum(counts)) if not (starts and ends) else 0
        if not shortest <= sum(counts) + padding <= longest:
            raise fail(f"its length cannot be within minLength {shortest} and maxLength {longest}")
        text = "".join(
            rng.choice(chars) for (chars, _, _), count in zip(atoms, counts) for _ in range(count)
        )
        pad = "".join(rng.choice(ALPHABET) for _ in range(padding))
        return pad + text if ends else text + pad


def bounds(node: dict[str, Any], scale: int = 1) -> tuple[int | None, int | None]:
    """The lowest and highest multiples of 1/`scale` (in those units) `node` allows; None: open."""
    if "const" in node:
        return node["const"] * scale, node["const"] * scale
    lows = [math.ceil(node["minimum"] * scale)] if "minimum" in node else []
    lows += [math.floor(node["exclusiveMinimum"] * scale) + 1] if "exclusiveMinimum" in node else []
    highs = [math.floor(node["maximum"] * scale)] if "maximum" in node else []
    highs += [math.ceil(node["exclusiveMaximum"] * scale) - 1] if "exclusiveMaximum" in node else []
    return max(lows, default=None), min(highs, default=None)


def _atoms(body: str, fail: Callable[[str], SampleError]) -> list[tuple[str, int, int]]:
    """A pattern without its anchors as (characters to draw from, fewest, most) per position."""
    atoms, i = [], 0
    while i < len(body):
        char = body[i]
        if char == "[":
            end = body.find("]", i + 2)
            if end < 0:
                raise fail("a character class is not closed")
            chars = _class(body[i + 1 : end], fail)
            if not chars:
                raise fail(f"the class {body[i : end + 1]!r} leaves no character to draw")
            i = end + 1
        elif char == "\\" and i + 1 < len(body):
            escaped = body[i + 1]
            if escaped.isalnum() and escaped not in ESCAPES:
                raise fail(f"unsupported escape \\{escaped}")
            chars, i = ESCAPES.get(escaped, escaped), i + 2
        elif char == ".":
            chars, i = ALPHABET, i + 1
        elif char in "()|^$*+?{}\\":
            raise fail(f"only literals, classes and quantifiers are supported, not {char!r}")
        else:
            chars, i = char, i + 1
        low = high = 1
        quantifier = QUANTIFIER.match(body, i)
        if quantifier:
            token, i = quantifier.group(0), quantifier.end()
            if token in "?*+":
                low, high = {"?": (0, 1), "*": (0, REPEAT), "+": (1, 1 + REPEAT)}[token]
            else:
                low = int(quantifier.group(1))
                upper = quantifier.group(3)
                high = low if quantifier.group(2) is None else int(upper) if upper else low + REPEAT
        atoms.append((chars, low, high))
    return atoms


def _class(body: str, fail: Callable[[str], SampleError]) -> str:
    """The characters of a class body such as `A-Z`, `0-9a-f`, `^,` or `\\d_`."""
    negated, body = body.startswith("^"), body.removeprefix("^")
    chars, i = "", 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            chars, i = chars + ESCAPES.get(body[i + 1], body[i + 1]), i + 2
        elif i + 2 < len(body) and body[i + 1] == "-":
            if body[i] > body[i + 2]:
                raise fail(f"empty range {body[i : i + 3]}")
            chars, i = chars + "".join(map(chr, range(ord(body[i]), ord(body[i + 2]) + 1))), i + 3
        else:
            chars, i = chars + body[i], i + 1
    if negated:
        return "".join(c for c in OTHERS if c not in chars)
    return "".join(dict.fromkeys(chars))


def _stem(name: str) -> str:
    """`orderId` -> `order`, `warehouse_id` -> `warehouse`, `customerEmail` -> `customer-email`."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).replace("_", "-").lower()
    return re.sub(r"-?id$", "", words) or words or "value"


def _moment(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.randrange(86_400 * 30))
