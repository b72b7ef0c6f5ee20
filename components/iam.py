"""Policy documents, built from Outputs so ARNs stay exact (never `*` on a data-plane resource)."""

from __future__ import annotations

from typing import Any

import pulumi


def policy_document(statements: list[dict[str, Any]]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})


def assume_role_policy(service: str) -> pulumi.Output[str]:
    return policy_document(
        [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]
    )
