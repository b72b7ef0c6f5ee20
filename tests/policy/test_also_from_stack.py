"""A stack whose consumers also read other domains (`also_from`) passes every guard: its extra
rules have targets that wait for the policies admitting them, a DLQ and both alarms, within the
name limits and the budget."""

from __future__ import annotations

import pytest
from policy_harness import GUARDS, run_policy

import settings.load
from offline.program import stack_config
from tests.cross_domain import as_cli, from_cli, shipping_schemas, with_shipping


@pytest.fixture(scope="module")
def inventory(evaluate, tmp_path_factory):
    values = with_shipping(from_cli(stack_config("dev")))
    with shipping_schemas(tmp_path_factory.mktemp("schemas")), pytest.MonkeyPatch.context() as patch:
        # The cost policies read the stack's config as a preview would: this one's.
        patch.setattr(settings.load, "stack_values", lambda name, root=None: values)
        yield evaluate("dev", config=as_cli(values))


@pytest.mark.parametrize("policy", GUARDS)
def test_a_stack_reading_other_domains_passes(inventory, policy):
    assert run_policy(policy, inventory) == []

