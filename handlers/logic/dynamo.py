"""Small helpers for the low-level DynamoDB client used by the conditional-write consumers."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


def attribute(value: str | int | float | bool) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": str(value)}
    return {"S": value}


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")
