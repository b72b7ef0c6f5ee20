"""Entry point the Pulumi CLI runs: `pulumi preview --policy-pack policy`."""

from eda_guardrails import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="eda-guardrails",
    # Each policy sets its own level; this is only the fallback for one that does not.
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
