"""The pack the CLI loads: its entry point, its policies and their enforcement levels."""

from __future__ import annotations

import runpy
from pathlib import Path

import pulumi_policy
import yaml
from eda_guardrails import POLICIES
from pulumi_policy import EnforcementLevel
from pulumi_policy.version import VERSION

PACK = Path(__file__).resolve().parents[2] / "policy"
# Advisory: two guardrails the issue marks so, and the cost estimate every preview reports; every
# other guardrail (the budget included) blocks the deployment.
ADVISORY = {"max-receive-count", "no-fast-polling-schedule", "cost-estimate"}


def test_entry_point_serves_every_policy(monkeypatch):
    served = {}
    # PolicyPack starts the analyzer's gRPC server and blocks; record its arguments instead.
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: served.update(kwargs))
    runpy.run_path(str(PACK / "__main__.py"))
    assert served["name"] == "eda-guardrails"
    assert served["policies"] is POLICIES


def test_policy_names_are_unique():
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names))


def test_enforcement_levels_follow_the_issue():
    levels = {p.name: p.enforcement_level for p in POLICIES}
    assert {n for n, level in levels.items() if level == EnforcementLevel.ADVISORY} == ADVISORY
    assert all(
        level == EnforcementLevel.MANDATORY for n, level in levels.items() if n not in ADVISORY
    )


def test_pack_manifest_names_a_python_runtime():
    manifest = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    # The pack's own venv must run the SDK version the tests ran.
    assert f"pulumi-policy=={VERSION}" in (PACK / "requirements.txt").read_text().splitlines()
