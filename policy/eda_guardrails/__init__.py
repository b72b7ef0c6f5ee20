"""The platform's guardrails as pulumi-policy policies, one module per concern.

Every check is a plain function over the resources the engine sends (camelCase property names,
outputs for stack policies), so the tests run the very same functions on the offline inventory.
"""

from . import budget, delivery, encryption, iam, idempotency, mappings, names, queues, routing

POLICIES = [
    *queues.POLICIES,
    *mappings.POLICIES,
    *idempotency.POLICIES,
    *routing.POLICIES,
    *encryption.POLICIES,
    *iam.POLICIES,
    *delivery.POLICIES,
    *names.POLICIES,
    *budget.POLICIES,
]
