"""Canary events: how `python -m ops verify` proves a route delivers without a business effect.

A canary is a normal event of a declared type whose `resources` carry `eda:canary:<id>`. A
consumer that receives one records its receipt in the idempotency table (an item that expires
after a day) instead of applying the event, and acknowledges it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from handlers.runtime.aws import attribute
from handlers.runtime.guards import expires_at, item_id

MARKER = "eda:canary:"
RECEIPT_TTL_S = 86_400
CANARY = "canary"  # the outcome a canary record ends in


def canary_of(event: Any) -> str | None:
    """The canary id an event carries, if it is one."""
    resources = event.get("resources") if isinstance(event, dict) else None
    for resource in resources if isinstance(resources, list) else []:
        if isinstance(resource, str) and resource.startswith(MARKER):
            return resource[len(MARKER) :]
    return None


def canary_in(body: str) -> str | None:
    """The canary id an SQS record's body carries; None for every other record (including
    bodies that are not JSON: those are judged, as poison, by the normal path)."""
    if MARKER not in body:
        return None
    try:
        return canary_of(json.loads(body))
    except (ValueError, RecursionError):
        return None


def receipt_id(function_name: str, canary: str) -> str:
    return item_id(function_name, "canary", canary)


def record_receipt(client: Any, table: str, function_name: str, canary: str) -> None:
    client.put_item(
        TableName=table,
        Item={
            "id": {"S": receipt_id(function_name, canary)},
            "receivedAt": attribute(int(time.time() * 1000)),
            "expiration": attribute(expires_at(RECEIPT_TTL_S)),
        },
    )
