"""Reading resource properties the way the policy engine hands them over.

During `pulumi preview` a value that depends on a resource not created yet is *unknown*:
pulumi_policy's proxy raises `UnknownValueError` when it is read. A guardrail must not report a
violation it cannot know about, and must not give up on the whole stack because one value is
unknown either; so every read goes through `value()`, which turns unknowns into `UNKNOWN` and
lets each check skip exactly the comparison it cannot make.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy.proxy import UnknownValueError


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def value(props: Mapping[str, Any], *path: str, default: Any = None) -> Any:
    """props[path[0]][path[1]]... as plain Python; `default` when absent or null, `UNKNOWN` when
    the value (or anything inside it) is not known yet."""
    current: Any = props
    try:
        for key in path:
            if not isinstance(current, Mapping) or key not in current:
                return default
            current = current[key]
        current = _plain(current)
    except UnknownValueError:
        return UNKNOWN
    return default if current is None else current


def _plain(item: Any) -> Any:
    """Copy out of pulumi_policy's proxies; reading every element raises on any unknown inside."""
    if isinstance(item, Mapping):
        return {k: _plain(item[k]) for k in item}
    if isinstance(item, Sequence) and not isinstance(item, str):
        return [_plain(item[i]) for i in range(len(item))]
    return item


def known(*values: Any) -> bool:
    return all(v is not UNKNOWN for v in values)


def as_list(item: Any) -> list[Any]:
    """IAM fields take a string or a list of strings."""
    if item is None:
        return []
    if isinstance(item, str):
        return [item]
    return list(item)


def json_value(props: Mapping[str, Any], key: str) -> Any:
    """A property that holds a JSON document (policies, redrive policies): parsed, or UNKNOWN."""
    raw = value(props, key)
    if not known(raw) or raw is None:
        return raw
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            # Not JSON: the provider rejects it at deploy; there is nothing here to judge.
            return UNKNOWN
    return raw  # already structured (e.g. passed as a dict by hand-written programs)


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: list[str]
    resources: list[str]
    principal: Any
    condition: Mapping[str, Any]
    sid: str

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    def grants(self, action: str, resource: str) -> bool:
        """Does this statement allow `action` on `resource` (IAM wildcards honoured)?"""
        return (
            self.allows
            and any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in self.actions)
            and any(fnmatch.fnmatchcase(resource, r) for r in self.resources)
        )

    def condition_keys(self) -> set[str]:
        return {key.lower() for block in self.condition.values() for key in block}


def statements(document: Any) -> Iterator[Statement]:
    """The statements of a policy document (one statement or a list; unknown documents: none)."""
    if not isinstance(document, Mapping):
        return
    for raw in as_list(document.get("Statement")):
        if not isinstance(raw, Mapping):
            continue
        yield Statement(
            effect=raw.get("Effect", ""),
            actions=as_list(raw.get("Action")),
            resources=[r for r in as_list(raw.get("Resource")) if isinstance(r, str)],
            principal=raw.get("Principal"),
            condition=raw.get("Condition") or {},
            sid=raw.get("Sid", ""),
        )


def not_granted(granted: Iterable[Statement], actions: Iterable[str], resource: str) -> list[str]:
    """The actions of `actions` that no statement allows on `resource` (empty: all allowed)."""
    listed = list(granted)
    return [a for a in actions if not any(s.grants(a, resource) for s in listed)]
