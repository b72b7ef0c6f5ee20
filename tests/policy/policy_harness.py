"""Runs the pack's real policies on an offline Inventory, as the engine would hand it over.

Resource policies see each custom resource's inputs; stack policies see every resource's outputs
(pulumi's AnalyzeStack sends final outputs, which include the inputs). Both go through
pulumi_policy's own unknown-checking proxy, so a value marked unknown behaves as in a preview.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eda_guardrails import POLICIES
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy

from offline.program import Inventory, Registered

BY_NAME = {p.name: p for p in POLICIES}
# Policies that report information on every preview (advisory), not a violation to fix.
INFORMATIONAL = {"cost-estimate"}
GUARDS = {name: p for name, p in BY_NAME.items() if name not in INFORMATIONAL}
SHIPPED_STACKS = ["dev", "prod"]


@dataclass(frozen=True)
class Violation:
    policy: str
    message: str
    urn: str


def urn(stack: str, resource: Registered) -> str:
    return f"urn:pulumi:{stack}::eda-platform::{resource.type}::{resource.name}"


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def run_policy(
    name: str, inventory: Inventory, config: dict[str, Any] | None = None
) -> list[Violation]:
    policy = BY_NAME[name]
    found: list[Violation] = []

    def reporter(default_urn: str) -> Callable[[str, str | None], None]:
        return lambda message, at=None: found.append(Violation(name, message, at or default_urn))

    if isinstance(policy, ResourceValidationPolicy):
        for r in inventory.resources:
            if r.custom:
                args = ResourceValidationArgs(
                    r.type,
                    unknown_checking_proxy(copy.deepcopy(r.inputs)),
                    urn(inventory.stack, r),
                    r.name,
                    _options(),
                    None,
                    config,
                )
                assert policy.validate(args, reporter(args.urn)) is None
    else:
        resources = [
            PolicyResource(
                r.type,
                unknown_checking_proxy(copy.deepcopy(r.outputs)),
                urn(inventory.stack, r),
                r.name,
                _options(),
                None,
                None,
                [],
                {},
            )
            for r in inventory.resources
        ]
        # The engine hands each resource its dependencies; the explicit ones are recorded.
        by_name = {r.name: p for r, p in zip(inventory.resources, resources)}
        for r, resource in zip(inventory.resources, resources):
            resource.dependencies.extend(by_name[d] for d in r.depends_on if d in by_name)
        assert policy.validate(StackValidationArgs(resources, config), reporter("")) is None
    return found


def run_all(inventory: Inventory) -> list[Violation]:
    return [v for name in GUARDS for v in run_policy(name, inventory)]


# Mutations that build the broken variants the typed config would refuse.


def pick(inventory: Inventory, type_: str, name: str) -> Registered:
    """One resource by type and logical name (a logical name is unique per type, not overall)."""
    (found,) = [r for r in inventory.of_type(type_) if r.name == name]
    return found


def set_prop(resource: Registered, key: str, new: Any) -> None:
    """Change an input (None: remove it), and the output that mirrors it."""
    for props in (resource.inputs, resource.outputs):
        if new is None:
            props.pop(key, None)
        else:
            props[key] = new


def edit_json(resource: Registered, key: str, edit: Callable[[Any], None]) -> None:
    """Edit a property holding a JSON document (a policy, a redrive policy) in place."""
    document = json.loads(resource.inputs[key])
    edit(document)
    set_prop(resource, key, json.dumps(document))
