"""Policy documents, built from Outputs so ARNs stay exact (never `*` on a data-plane resource)."""

from __future__ import annotations

from typing import Any

import pulumi


def policy_document(statements: list[dict[str, Any]]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})


def assume_role_policy(
    service: str,
    *,
    account_id: pulumi.Input[str] | None = None,
    source_arn: pulumi.Input[str] | None = None,
) -> pulumi.Output[str]:
    """Trust for a service principal; with the account and the one resource that may assume the
    role (the cross-service confused deputy guard AWS documents for Scheduler and Pipes)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if account_id is not None and source_arn is not None:
        statement["Condition"] = {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnEquals": {"aws:SourceArn": source_arn},
        }
    return policy_document([statement])
