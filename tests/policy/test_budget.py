"""The cost policies price the previewed resources with the project's cost model: a budget in
the stack config makes an estimate above it fail the preview, with the total, the budget and the
largest contributors in the message."""

from __future__ import annotations

import json

import pytest
from policy_harness import run_policy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

import settings.load
from costmodel.estimate import load_model
from costmodel.report.document import to_json
from offline.program import stack_config
from settings.load import from_stack_file


def with_budget(monkeypatch, stack, budget):
    values = {k: json.loads(v) if k != "aws:region" else v for k, v in stack_config(stack).items()}
    values["eda-platform:budget"] = budget
    monkeypatch.setattr(settings.load, "stack_values", lambda name, root=None: values)


def estimate_total(stack):
    return load_model(stack).estimate().total


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_shipped_stacks_are_within_their_budgets(evaluate, stack):
    config = from_stack_file(stack)
    assert config.budget is not None
    assert run_policy("cost-budget", evaluate(stack)) == []


def test_the_estimate_is_the_cost_models_own(evaluate):
    (report,) = run_policy("cost-estimate", evaluate("dev"))
    assert f"stack dev: estimated ${estimate_total('dev'):,.2f} a month" in report.message
    assert "no baseline estimate given" in report.message


def test_a_lower_budget_fails_naming_total_budget_and_contributors(evaluate, monkeypatch):
    with_budget(monkeypatch, "dev", {"monthly_usd": 1})
    (violation,) = run_policy("cost-budget", evaluate("dev"))
    total = estimate_total("dev")
    assert f"estimated ${total:,.2f} a month" in violation.message
    assert "over the budget of $1.00 (eda-platform:budget.monthly_usd)" in violation.message
    assert "largest: dev-" in violation.message


def test_an_increase_over_the_cap_fails_with_the_change_and_its_causes(evaluate, monkeypatch, tmp_path):
    base = load_model("dev").scaled(0.5).estimate()
    baseline = tmp_path / "base.json"
    baseline.write_text(to_json(base))
    monkeypatch.setenv("EDA_COST_BASELINE", str(baseline))
    with_budget(monkeypatch, "dev", {"monthly_usd": 10_000, "max_increase_usd": 0.5})
    (violation,) = run_policy("cost-budget", evaluate("dev"))
    assert f"against the baseline (${base.total:,.2f})" in violation.message
    assert "largest changes: dev-" in violation.message
    assert "exceeds max_increase_usd=$0.50" in violation.message


def test_values_unknown_in_a_preview_are_listed_not_guessed(evaluate):
    inventory = evaluate("dev")
    queue = next(r for r in inventory.of_type("aws:sqs/queue:Queue") if r.name == "orders-processor-queue")
    queue.outputs["arn"] = UNKNOWN_STRING_VALUE
    (report,) = run_policy("cost-estimate", inventory)
    assert "not priced until known" in report.message and "orders-processor-queue" in report.message


def test_an_unreadable_baseline_is_reported(evaluate, monkeypatch, tmp_path):
    broken = tmp_path / "base.json"
    broken.write_text("{not json")
    monkeypatch.setenv("EDA_COST_BASELINE", str(broken))
    (report,) = run_policy("cost-estimate", evaluate("dev"))
    assert "the cost model could not price this preview" in report.message
