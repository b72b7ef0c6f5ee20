"""What-if changes on the command line, without editing a file: `--scale`, `--set`, `--assume`.

    --scale 10                                   every event type's monthly volume × 10
    --set orders.OrderCreated.monthly_volume=20M a stack config value (the program runs again)
    --assume duplicate_rate=0.05                 a traffic assumption (no program run)

`--set PATH=VALUE` addresses the stack file's `eda-platform:` config. PATH starts with a domain
(`orders.OrderCreated.monthly_volume`, `orders.processor.batch_size`: an event type, consumer,
topic or schedule of that domain; or `orders.event_types.OrderCreated...` spelled out) or with
a top-level key (`retention.log_days`). VALUE is a number (`20M`, `1.5k`, `0.3`), true/false,
JSON, or text. `--assume KEY=VALUE` sets one of the stack's assumptions
(`settings.model.Assumptions`) or of the cost model's own (`costmodel.assumptions`, e.g.
`entity_keys.orders.OrderUpdated=0.2`).

Every bad argument is a `WhatIfError`: the CLI prints it on one line and exits 2, naming what
is wrong and what is allowed.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from costmodel.assumptions import CostAssumptions
from costmodel.estimate import Model, load_model
from settings.load import PROJECT, stack_values
from settings.model import Assumptions, DomainConfig, StackConfig

DOMAINS = f"{PROJECT}:domains"
SUFFIXES = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9}
# Set on the command line by their own options: --preset and --free-tier.
PRICING_ASSUMPTIONS = {"price_preset": "--preset", "free_tier": "--free-tier"}
DOMAIN_PARTS = {
    "event_types": "event type",
    "consumers": "consumer",
    "topics": "topic",
    "schedules": "schedule",
}


class WhatIfError(ValueError):
    """A what-if argument that cannot be applied; the message says what is allowed."""


@dataclass(frozen=True)
class WhatIf:
    scale: float = 1.0
    sets: tuple[tuple[str, Any], ...] = ()  # (path as given, value)
    assumes: tuple[tuple[str, Any], ...] = ()

    @property
    def empty(self) -> bool:
        return self.scale == 1 and not self.sets and not self.assumes

    def described(self) -> tuple[str, ...]:
        """The --set and --assume changes in words (the scale is reported on its own)."""
        return tuple(
            [f"{path} = {_shown(value)}" for path, value in self.sets]
            + [f"assume {key} = {_shown(value)}" for key, value in self.assumes]
        )


def parse_scale(text: str) -> float:
    """`--scale`: a positive factor on every event type's monthly volume."""
    allowed = "--scale takes a positive number, the factor on every event type's monthly volume, e.g. 10 or 0.5"
    value = number(text.strip().removesuffix("x").removesuffix("×"))
    if value is None or not math.isfinite(value) or value <= 0:
        raise WhatIfError(f"--scale {text!r} is not a positive number: {allowed}")
    return value


def parse_assignment(option: str, text: str) -> tuple[str, Any]:
    """`PATH=VALUE` of --set / --assume."""
    path, sep, raw = text.partition("=")
    path = path.strip()
    if not sep or not path or not re.fullmatch(r"[A-Za-z0-9_.-]+", path):
        example = (
            "orders.OrderCreated.monthly_volume=20M" if option == "--set" else "duplicate_rate=0.05"
        )
        raise WhatIfError(f"{option} {text!r} is not KEY=VALUE: e.g. {option} {example}")
    return path, value_of(raw.strip())


def value_of(raw: str) -> Any:
    """A command-line value: 20M -> 20000000, 0.5 -> 0.5, true -> True, JSON, else text."""
    as_number = number(raw)
    if as_number is not None:
        return int(as_number) if as_number.is_integer() and "." not in raw else as_number
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if raw[:1] in "[{\"":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            pass
    return raw


def number(text: str) -> float | None:
    """A number with an optional k/M/B suffix and thousands separators; None if it is not one."""
    text = text.replace(",", "").replace("_", "")
    factor = 1.0
    if text[-1:] in SUFFIXES:
        factor, text = SUFFIXES[text[-1]], text[:-1]
    try:
        value = float(text) * factor
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def whatif(scale: float | None, sets: list | None, assumes: list | None) -> WhatIf:
    return WhatIf(scale or 1.0, tuple(sets or ()), tuple(assumes or ()))


def apply(
    stack: str,
    change: WhatIf,
    *,
    preset: str | None = None,
    free_tier: bool | None = None,
    preview: Path | None = None,
) -> Model:
    """The model of `stack` with `change` applied: --set values re-run the program with the
    changed config; --assume and --scale re-price the same resources."""
    if change.sets and preview is not None:
        raise WhatIfError(
            "--set cannot be combined with --preview-json: the preview's resources would not "
            "follow the changed config (price the stack offline, or preview the change)"
        )
    if change.sets:
        from costmodel.scenarios import model_from_values

        values = set_values(stack, stack_values(stack), change.sets)
        model = model_from_values(stack, values, origin="--set", preset=preset, free_tier=free_tier)
    else:
        model = load_model(stack, preset=preset, free_tier=free_tier, preview=preview)
    model = assume(model, change.assumes)
    return replace(model, scale=change.scale, what_if=change.described())


def set_values(stack: str, values: dict[str, Any], sets) -> dict[str, Any]:
    """`values` (a stack file's namespaced config) with each (path, value) of --set applied."""
    values = copy.deepcopy(values)
    for path, value in sets:
        keys = _config_path(stack, values, path)
        node: Any = values
        for key in keys[:-1]:
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            if not isinstance(child, dict):
                raise WhatIfError(f"--set {path}: {key} is not a mapping ({child!r})")
            node = child
        node[keys[-1]] = value
    return values


def _config_path(stack: str, values: dict[str, Any], path: str) -> list[str]:
    """The keys into namespaced `values` that `path` names, shorthands resolved."""
    first, *rest = path.split(".")
    domains = values.get(DOMAINS) or {}
    top = [f for f in StackConfig.model_fields if f not in ("stack", "domains")]
    if first in domains:
        if not rest:
            raise WhatIfError(
                f"--set {path}: name a field of domain {first!r}, e.g. "
                f"{first}.<EventType>.monthly_volume"
            )
        domain = domains[first]
        second = rest[0]
        if second in DomainConfig.model_fields:
            return [DOMAINS, first, *rest]
        for part, label in DOMAIN_PARTS.items():
            if second in (domain.get(part) or {}):
                if len(rest) < 2:
                    raise WhatIfError(f"--set {path}: name a field of {label} {second!r}")
                return [DOMAINS, first, part, *rest]
        names = [
            f"{label} {name}" for part, label in DOMAIN_PARTS.items()
            for name in sorted(domain.get(part) or {})
        ]
        raise WhatIfError(
            f"--set {path}: domain {first!r} has no {second!r}; allowed: "
            + ", ".join(names + [f"field {f}" for f in DomainConfig.model_fields])
        )
    if first in top:
        return [f"{PROJECT}:{first}", *rest] if rest else [f"{PROJECT}:{first}"]
    raise WhatIfError(
        f"--set {path}: {first!r} is neither a domain of stack {stack!r} "
        f"({', '.join(sorted(domains)) or 'none'}) nor a config key ({', '.join(top)})"
    )


def assume(model: Model, assumes) -> Model:
    """`model` with each (key, value) of --assume applied to its assumptions."""
    if not assumes:
        return model
    settings = model.config.assumptions.model_dump()
    facts = model.facts.model_dump()
    for key, value in assumes:
        if key in PRICING_ASSUMPTIONS:
            raise WhatIfError(
                f"--assume {key}: use {PRICING_ASSUMPTIONS[key]} to change how the estimate is priced"
            )
        if key in settings:
            settings[key] = value
        elif key.startswith("entity_keys."):
            parts = key.split(".")
            if len(parts) != 3:
                raise WhatIfError(
                    f"--assume {key}: write entity_keys.<domain>.<EventType>=RATIO, e.g. "
                    "entity_keys.orders.OrderUpdated=0.2"
                )
            _, domain, detail_type = parts
            known = model.config.domains.get(domain)
            if known is None or detail_type not in known.event_types:
                raise WhatIfError(
                    f"--assume {key}: stack {model.config.stack!r} has no event type "
                    f"{domain}/{detail_type}; allowed: "
                    + ", ".join(f"{d}.{t}" for d, c in model.config.domains.items() for t in c.event_types)
                )
            facts["entity_keys"].setdefault(domain, {})[detail_type] = value
        else:
            allowed = [k for k in settings if k not in PRICING_ASSUMPTIONS] + [
                "entity_keys.<domain>.<EventType>"
            ]
            raise WhatIfError(f"--assume {key}: unknown assumption; allowed: {', '.join(allowed)}")
    try:
        assumptions = Assumptions.model_validate(settings)
        cost_facts = CostAssumptions.model_validate(facts)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise WhatIfError(f"--assume {where}: {error['msg']} (got {error.get('input')!r})") from None
    config = model.config.model_copy(update={"assumptions": assumptions})
    return replace(model, config=config, facts=cost_facts)


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1000:
        return f"{value:,}"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
