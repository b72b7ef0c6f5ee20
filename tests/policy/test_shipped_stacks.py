"""Every policy passes on the stacks that ship, and stays silent on values a preview cannot know."""

from __future__ import annotations

import pytest
from policy_harness import GUARDS, SHIPPED_STACKS, run_all, run_policy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

SHIPPED_CASES = [
    pytest.param(stack, name, id=f"{stack}-{name}")
    for stack in SHIPPED_STACKS
    for name in GUARDS
]


@pytest.mark.parametrize(("stack", "policy"), SHIPPED_CASES)
def test_shipped_stack_passes(evaluate, stack, policy):
    assert run_policy(policy, evaluate(stack)) == []


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_unknown_arns_report_nothing(evaluate, stack):
    """In a first preview every ARN (and every document that embeds one) is unknown."""
    inventory = evaluate(stack)
    arns = {r.outputs["arn"] for r in inventory.resources if isinstance(r.outputs.get("arn"), str)}

    def blind(item):
        if isinstance(item, dict):
            return {k: blind(v) for k, v in item.items()}
        if isinstance(item, list):
            return [blind(v) for v in item]
        if isinstance(item, str) and any(arn in item for arn in arns):
            return UNKNOWN_STRING_VALUE
        return item

    for resource in inventory.resources:
        resource.inputs, resource.outputs = blind(resource.inputs), blind(resource.outputs)
    assert run_all(inventory) == []
