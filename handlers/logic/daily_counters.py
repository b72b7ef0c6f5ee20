"""Per-type, per-day event counters: guard and increment in one DynamoDB transaction.

The guard item (one per business key, expiring with the window) and the counter increment
commit together or not at all, so a failure leaves nothing to clean up and a duplicate changes
no counter. The day is the EventBridge event's `time` (UTC); a re-send on another day is still
caught, because the guard is keyed on the business key alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from handlers.logic.dynamo import attribute, error_code
from handlers.runtime.envelope import Incoming, digest
from handlers.runtime.errors import PayloadMismatch
from handlers.runtime.guards import ID_SEPARATOR, Outcome, expires_at, item_id, item_suffix

COUNTER = "count"


def counter_id(function_name: str, detail_type: str, day: str) -> str:
    return item_id(function_name, COUNTER, detail_type, day)


def guard_id(function_name: str, key_hash: str) -> str:
    """One guard item per business key: its presence is the event's applied mark."""
    return item_id(function_name, key_hash)


def guarded_key_hash(item: str, function_name: str) -> str | None:
    """The key hash of a guard item's key; None for counters and other keys."""
    rest = item_suffix(item, function_name)
    return rest if rest is not None and ID_SEPARATOR not in rest else None


def is_counter(item: str, function_name: str) -> bool:
    return item_suffix(item, function_name, COUNTER) is not None


def counter(
    *, client: Any, table: str, function_name: str, window_s: int
) -> Callable[[Incoming], Outcome]:
    def count(incoming: Incoming) -> Outcome:
        day = incoming.event["time"][:10]
        payload_hash = digest(incoming.detail)
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {
                                "id": {"S": guard_id(function_name, incoming.key_hash)},
                                "expiration": attribute(expires_at(window_s)),
                                "payloadHash": attribute(payload_hash),
                            },
                            # An expired guard the TTL sweeper has not yet removed counts as absent.
                            "ConditionExpression": (
                                "attribute_not_exists(#id) OR #expiration < :now"
                            ),
                            "ExpressionAttributeNames": {"#id": "id", "#expiration": "expiration"},
                            "ExpressionAttributeValues": {":now": attribute(int(time.time()))},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    {
                        "Update": {
                            "TableName": table,
                            "Key": {
                                "id": {"S": counter_id(function_name, incoming.detail_type, day)}
                            },
                            "UpdateExpression": "ADD #count :one SET #type = :type, #day = :day",
                            "ExpressionAttributeNames": {
                                "#count": "count",
                                "#type": "detailType",
                                "#day": "day",
                            },
                            "ExpressionAttributeValues": {
                                ":one": attribute(1),
                                ":type": attribute(incoming.detail_type),
                                ":day": attribute(day),
                            },
                        }
                    },
                ]
            )
        except ClientError as exc:
            guard = _guard_rejection(exc)
            if guard is None:
                raise
            if guard.get("payloadHash", {}).get("S") != payload_hash:
                raise PayloadMismatch(incoming.key) from exc
            return Outcome.DUPLICATE
        return Outcome.APPLIED

    return count


def _guard_rejection(exc: ClientError) -> dict[str, Any] | None:
    """The stored guard item when the transaction failed only because the key was seen before."""
    if error_code(exc) != "TransactionCanceledException":
        return None
    reasons = exc.response.get("CancellationReasons", [])
    if not reasons or reasons[0].get("Code") != "ConditionalCheckFailed":
        return None
    return reasons[0].get("Item", {})
