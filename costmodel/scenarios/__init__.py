"""Stack configs that live beside the cost model instead of in a `Pulumi.<stack>.yaml`.

A scenario file holds the same `config:` block as a stack file. It is priced the way a stack is:
validated by `settings.load.parse`, run through the real program under mocks, and the resources
the program registers are what the estimate prices.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from costmodel.estimate import Model, load_model
from costmodel.resources import from_offline
from settings.load import ConfigError, parse

SCENARIOS = Path(__file__).parent


def scenario_values(name: str) -> dict[str, Any]:
    """The namespaced `config:` values of `costmodel/scenarios/<name>.yaml`."""
    path = SCENARIOS / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
        raise ConfigError(
            f"unknown scenario {name!r}: no {path.name} (scenarios: {', '.join(known)})"
        )
    document = yaml.safe_load(path.read_text()) or {}
    if not isinstance(document.get("config"), dict):
        raise ConfigError(f"{path}: expected a `config:` block, as in Pulumi.<stack>.yaml")
    return document["config"]


def model_from_values(
    stack: str,
    values: dict[str, Any],
    *,
    origin: str,
    preset: str | None = None,
    free_tier: bool | None = None,
) -> Model:
    """Price namespaced config `values` as stack `stack`: the real program decides the resources."""
    config = parse(values, stack=stack, origin=origin)
    resources = from_offline(stack, config=cli_config(values))
    return load_model(stack, preset=preset, free_tier=free_tier, config=config, resources=resources)


def cli_config(values: dict[str, Any]) -> dict[str, str]:
    """Config as the CLI passes it to the program: structured values as JSON strings."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def scenario_model(name: str, **options: Any) -> Model:
    """The model of scenario `name`, which is also its stack name."""
    return model_from_values(
        name, scenario_values(name), origin=f"costmodel/scenarios/{name}.yaml", **options
    )
