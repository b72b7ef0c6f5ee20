"""Reading the stack config: from the Pulumi runtime (the program) or a stack file (tools).

Both paths end in `parse`, so `pulumi up`, the cost model and the emulator see one validated
model, and a bad value fails before any resource is registered.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from settings.keys import key_errors, schema_error
from settings.model import PATTERNS, StackConfig
from settings.naming import PROJECT

ROOT = Path(__file__).resolve().parent.parent
# Where schemas/<domain>/<DetailType>.json are read from, for every layer (the config checks, the
# program's registry and code archive, the cost model, ops): the repository's schemas/ unless
# EDA_SCHEMAS_DIR names another tree (tests and tools pricing or deploying other domains).
SCHEMAS_VARIABLE = "EDA_SCHEMAS_DIR"


class ConfigError(ValueError):
    """A stack config problem, phrased as key path, bad value and what is allowed."""


def parse(values: dict[str, Any], *, stack: str, origin: str) -> StackConfig:
    """Validate namespaced config values (`eda-platform:domains`, `aws:region`, ...)."""
    project_values: dict[str, Any] = {}
    for key, value in values.items():
        namespace, _, name = key.partition(":")
        if namespace == PROJECT:
            project_values[name] = value
    if "stack" in project_values:
        raise ConfigError(f"{origin}: {PROJECT}:stack is not a config key; the stack name is used")
    if "aws:region" in values:
        project_values.setdefault("region", values["aws:region"])
    try:
        config = StackConfig.model_validate({**project_values, "stack": stack})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from None
    _check_schema_files(config, origin)
    return config


def stack_values(stack: str, root: Path = ROOT, *, path: Path | None = None) -> dict[str, Any]:
    """The `config:` block of `Pulumi.<stack>.yaml` (or of the stack file at `path`), keys
    namespaced as in the file."""
    path = path or root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise ConfigError(f"unknown stack {stack!r}: no {path.name} (stacks: {', '.join(known)})")
    try:
        return (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML ({' '.join(str(exc).split())})") from None


def from_stack_file(stack: str, root: Path = ROOT) -> StackConfig:
    return parse(stack_values(stack, root), stack=stack, origin=f"Pulumi.{stack}.yaml")


def from_pulumi() -> StackConfig:
    """The running program's config, as the engine passed it (structured values arrive as JSON)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return parse_cli(raw, stack=pulumi.get_stack(), origin=f"stack {pulumi.get_stack()!r}")


def parse_cli(values: dict[str, Any], *, stack: str, origin: str) -> StackConfig:
    """`parse` for config as the CLI passes it: structured values arrive as JSON strings."""
    return parse({key: _decode(value) for key, value in values.items()}, stack=stack, origin=origin)


def schema_root() -> Path:
    return Path(os.environ.get(SCHEMAS_VARIABLE) or ROOT / "schemas")


def schema_path(domain: str, detail_type: str) -> Path:
    return schema_root() / domain / f"{detail_type}.json"


def _shown(path: Path) -> str:
    """A schema file as a reader finds it: relative to the repository when it is inside."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _decode(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _describe(exc: ValidationError, origin: str) -> str:
    lines = [f"{origin}: invalid stack config ({exc.error_count()} problem(s))"]
    for error in exc.errors():
        path = ".".join(str(p) for p in error["loc"])
        key = f"{PROJECT}:{path}" if path else PROJECT
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (check its spelling and level)"
        if error["type"] == "string_pattern_mismatch":
            pattern = error["ctx"]["pattern"]
            message = f"allowed: {PATTERNS.get(pattern, f'a value matching {pattern}')}"
        if error["type"] == "value_error":  # our validators name the bad value themselves
            lines.append(f"  {key}: {message}")
        else:
            value = json.dumps(error.get("input"), default=str)[:120]
            lines.append(f"  {key} = {value}: {message}")
    return "\n".join(lines)


def _check_schema_files(config: StackConfig, origin: str) -> None:
    """Every declared type has a valid JSON Schema, and every key and group path fits it."""
    schemas = {}
    problems = []
    for domain_name, domain in config.domains.items():
        for detail_type in domain.event_types:
            path = schema_path(domain_name, detail_type)
            where = f"{origin}: {PROJECT}:domains.{domain_name}.event_types.{detail_type}"
            if not path.is_file():
                raise ConfigError(f"{where}: schema file {_shown(path)} does not exist")
            try:
                schema = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{where}: {_shown(path)} is not JSON: {exc}") from None
            problem = schema_error(schema)
            if problem is not None:
                problems.append(
                    f"  {PROJECT}:domains.{domain_name}.event_types.{detail_type}: "
                    f"{_shown(path)} is {problem}"
                )
            schemas[(domain_name, detail_type)] = schema
    if not problems:
        problems = [f"  {PROJECT}:{at}: {problem}" for at, problem in key_errors(config, schemas)]
    if problems:
        raise ConfigError(
            f"{origin}: invalid stack config ({len(problems)} problem(s))\n" + "\n".join(problems)
        )
