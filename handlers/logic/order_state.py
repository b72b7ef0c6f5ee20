"""Order state, applied by one conditional write that is both the duplicate guard and the effect.

One item per order holds its latest version. The write succeeds only for a version newer than
the stored one, so a redelivery or a re-send of an applied version changes nothing, and an older
version arriving late never overwrites a newer state. The item lives in the idempotency table (the
only table the function is given) and expires with the consumer's idempotency window after its
last change, by which time no redelivery of it can arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from handlers.logic.dynamo import attribute, error_code
from handlers.runtime.envelope import Incoming, digest
from handlers.runtime.errors import PayloadMismatch, PoisonRecord
from handlers.runtime.guards import Outcome, expires_at, item_id, item_suffix

SCALARS = (str, int, float, bool)
# Attributes the write sets itself; a detail field of the same name must not overwrite them.
RESERVED = frozenset({"id", "version", "expiration", "lastEventType", "payloadHash"})


def versioned_key(incoming: Incoming) -> tuple[str, int]:
    """The order processor's key is [order id, version], e.g. `[detail.orderId, detail.version]`."""
    key = incoming.key
    if (
        not isinstance(key, list)
        or len(key) != 2
        or not isinstance(key[1], int)
        or isinstance(key[1], bool)
    ):
        raise PoisonRecord(f"order state needs a key of [order id, integer version]; got {key!r}")
    return str(key[0]), key[1]


def order_item_id(function_name: str, order_id: str) -> str:
    """The one state item per order (the emulator's flow check reads orders back by it)."""
    return item_id(function_name, "order", order_id)


def order_of(item: str, function_name: str) -> str | None:
    """The order id of a state item's key; None for any other key."""
    return item_suffix(item, function_name, "order")


def applier(
    *, client: Any, table: str, function_name: str, window_s: int
) -> Callable[[Incoming], Outcome]:
    def apply(incoming: Incoming) -> Outcome:
        order_id, version = versioned_key(incoming)
        payload_hash = digest(incoming.detail)
        # Nested values (order lines) stay in the event archive; the state item stays under 1 KB.
        fields = {
            k: v for k, v in incoming.detail.items() if isinstance(v, SCALARS) and k not in RESERVED
        }
        fields.update(lastEventType=incoming.detail_type, payloadHash=payload_hash)
        names = {"#id": "id", "#version": "version", "#expiration": "expiration"}
        values = {":version": attribute(version), ":expiration": attribute(expires_at(window_s))}
        assignments = ["#version = :version", "#expiration = :expiration"]
        for i, (name, value) in enumerate(sorted(fields.items())):
            names[f"#f{i}"] = name
            values[f":f{i}"] = attribute(value)
            assignments.append(f"#f{i} = :f{i}")
        try:
            client.update_item(
                TableName=table,
                Key={"id": {"S": order_item_id(function_name, order_id)}},
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression="attribute_not_exists(#id) OR #version < :version",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return _already_applied(exc.response.get("Item", {}), incoming, version, payload_hash)
        return Outcome.APPLIED

    return apply


def _already_applied(
    stored: dict[str, Any], incoming: Incoming, version: int, payload_hash: str
) -> Outcome:
    stored_version = int(stored["version"]["N"])
    if stored_version > version:
        return Outcome.SUPERSEDED
    if stored.get("payloadHash", {}).get("S") != payload_hash:
        raise PayloadMismatch(incoming.key)
    return Outcome.DUPLICATE
