"""What the cost model prices: the resources a stack registers, from either of two sources.

- offline: the real program evaluated under Pulumi mocks (`offline.program.run`), no CLI needed;
- a `pulumi preview --json` file, for users with the CLI (ARNs of new resources are unknown
  there, so references come from each step's `propertyDependencies` instead of values).

Both become `Resource`s whose `refs` say which other resource an input points at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SourceError(ValueError):
    """A preview file that cannot be read as Pulumi's JSON preview output."""


@dataclass(frozen=True)
class Resource:
    key: str  # unique: the URN (preview) or type::logical name (offline)
    type: str
    name: str  # physical name where the program sets one, else the logical name
    inputs: dict[str, Any]
    refs: dict[str, list[str]] = field(default_factory=dict)  # input -> keys it refers to



def from_offline(stack: str, config: dict[str, str] | None = None) -> list[Resource]:
    """Evaluate the program for `stack`; references are found by matching ARNs, URLs and names."""
    from offline.program import run

    inventory = run(stack, config=config)
    return linked(
        [(f"{r.type}::{r.name}", r.type, r.name, r.inputs, r.outputs) for r in inventory.resources if r.custom]
    )


def linked(declared: list[tuple[str, str, str, dict[str, Any], dict[str, Any]]]) -> list[Resource]:
    """Resources from (key, type, logical name, inputs, outputs), each input that holds another
    resource's ARN, URL or name linked to it: what a program run or a policy pack sees."""
    # The mocks register in whatever order the SDK's tasks finish: sort, so every estimate
    # (line order, and float sums down to the last digit) is the same run after run.
    declared = sorted(declared, key=lambda d: (d[1], d[2]))
    # A name can be shared (a rule, its queue and its function are all `dev-orders-processor`):
    # keep every candidate; the topology picks the one of the type it expects.
    by_value: dict[str, list[str]] = {}
    for key, _, _, _, outputs in declared:
        for attr in ("arn", "url", "name", "bucket"):
            value = outputs.get(attr)
            if isinstance(value, str) and key not in by_value.get(value, []):
                by_value.setdefault(value, []).append(key)
    resources = []
    for key, type_, name, inputs, _ in declared:
        values = {prop: v for prop, v in inputs.items() if isinstance(v, str)}
        if isinstance(inputs.get("target"), dict):  # Scheduler nests its target's ARN
            values["target"] = inputs["target"].get("arn")
        refs = {
            prop: [k for k in by_value[v] if k != key] for prop, v in values.items() if v in by_value
        }
        resources.append(Resource(key, type_, _physical(inputs, name), inputs, refs))
    return resources


def from_preview(path: Path) -> list[Resource]:
    """Resources a `pulumi preview --json` would create or keep (deleted ones are not priced)."""
    try:
        document = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SourceError(f"preview file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{path} is not JSON ({exc}); produce it with `pulumi preview --json > {path}`"
        ) from None
    steps = document.get("steps") if isinstance(document, dict) else None
    if not isinstance(steps, list):
        raise SourceError(
            f"{path} has no 'steps' list: expected the output of `pulumi preview --json`"
        )
    resources = []
    for index, step in enumerate(steps):
        if step.get("op") == "delete":
            continue
        state = step.get("newState")
        if not isinstance(state, dict) or "type" not in state or "urn" not in state:
            raise SourceError(f"{path}: steps[{index}] has no newState with urn and type")
        if not state.get("custom", True) or state["type"].startswith("pulumi:"):
            continue
        inputs = state.get("inputs") or {}
        refs = {prop: list(urns) for prop, urns in (state.get("propertyDependencies") or {}).items()}
        logical = state["urn"].rsplit("::", 1)[-1]
        resources.append(
            Resource(state["urn"], state["type"], _physical(inputs, logical), inputs, refs)
        )
    return resources


def _physical(inputs: dict[str, Any], logical: str) -> str:
    for prop in ("name", "bucket", "dashboardName", "layerName"):
        if isinstance(inputs.get(prop), str):
            return inputs[prop]
    return logical
