"""Every consumer can record what it has processed: SQS delivers at least once, so without an
idempotency store a redelivered event charges, ships or notifies twice."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from .props import known, not_granted, value
from .stack import ROLE, TABLE, Stack, label

STORE_VARIABLE = "IDEMPOTENCY_TABLE"
# Powertools' DynamoDB persistence layer: read the record, put it "in progress", update it to
# "completed", delete it when processing raises (so the retry runs).
STORE_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
]
# A table under a customer key is read and written with the caller's permission on that key.
KEY_ACTIONS = ["kms:Decrypt"]


def check_consumer_has_idempotency_store(
    args: StackValidationArgs, report: ReportViolation
) -> None:
    stack = Stack(args.resources)
    tables = stack.of_type(TABLE)
    for _, queue, function in stack.consumers():
        if function is None:
            continue
        name = label(function)
        table_name = value(function.props, "environment", "variables", STORE_VARIABLE)
        if not known(table_name):
            continue
        table = stack.find(TABLE, table_name, "name")
        if table_name is None:
            report(
                f"function {name} consumes queue {label(queue)} without an idempotency store: a "
                f"redelivered event would be processed twice. Set {STORE_VARIABLE} to the stack's "
                "idempotency table and guard each record with it.",
                function.urn,
            )
            continue
        if table is None:
            if not known(*(value(t.props, "name") for t in tables)):
                continue  # the table may be the new one
            declared = ", ".join(sorted(str(value(t.props, "name")) for t in tables)) or "none"
            report(
                f"function {name} consumes queue {label(queue)} but {STORE_VARIABLE}="
                f"{table_name!r} names no DynamoDB table of this stack (tables: {declared}): a "
                "redelivered event would be processed twice. Point it at the idempotency table.",
                function.urn,
            )
            continue
        role = stack.find(ROLE, value(function.props, "role"), "arn")
        granted = stack.role_statements(role) if role is not None else None
        if granted is None or not known(granted):
            continue  # role outside the stack (not ours to judge) or new in this preview
        table_arn = value(table.props, "arn")
        key_arn = value(table.props, "serverSideEncryption", "kmsKeyArn")
        missing = not_granted(granted, STORE_ACTIONS, table_arn) if known(table_arn) else []
        if isinstance(key_arn, str):
            missing += not_granted(granted, KEY_ACTIONS, key_arn)
        if missing:
            report(
                f"function {name} cannot write its idempotency store: role {label(role)} does not "
                f"allow {', '.join(missing)} (table {table_name}"
                + (f", encrypted with key {key_arn}" if isinstance(key_arn, str) else "")
                + "). Grant them on the table ARN (and the key ARN) in the function's role policy.",
                function.urn,
            )


POLICIES = [
    StackValidationPolicy(
        name="consumer-has-idempotency-store",
        description="Every consumer function has an idempotency table it can write.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_consumer_has_idempotency_store,
    ),
]
