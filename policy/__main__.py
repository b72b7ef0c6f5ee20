"""Entry point the Pulumi CLI runs: `pulumi preview --policy-pack policy`."""

import sys
from pathlib import Path

# The pack shares the program's AWS limits (settings/limits.py, standard library only): the CLI
# runs the pack from policy/, so the repository root is put on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eda_guardrails import POLICIES  # noqa: E402
from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

PolicyPack(
    name="eda-guardrails",
    # Each policy sets its own level; this is only the fallback for one that does not.
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
