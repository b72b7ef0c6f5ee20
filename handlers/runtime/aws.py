"""boto3 clients, shared by every function the process serves and by the record threads, and
the few helpers every consumer's AWS calls need.

Keyed by the region and endpoint in the environment at call time, so the emulator's swapped
environments each get a client for their own endpoint. boto3 clients are thread-safe.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# Standard retry mode backs off on throttling; short timeouts leave the invocation time to
# report the record as failed instead of being killed mid-batch.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


def client(service: str) -> Any:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return _client(service, region, os.environ.get("AWS_ENDPOINT_URL"))


@cache
def _client(service: str, region: str | None, endpoint_url: str | None) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=_CONFIG)


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def attribute(value: str | int | float | bool) -> dict[str, Any]:
    """A DynamoDB attribute value in the low-level format."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": str(value)}
    return {"S": value}


def conditional(write: Callable[..., Any], **request: Any) -> dict[str, Any] | None:
    """One conditional DynamoDB write (`write`: a client's put_item or update_item): None when it
    landed, else the item as it stood when the condition failed (empty if there was none)."""
    try:
        write(**request, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        return exc.response.get("Item", {})
    return None
