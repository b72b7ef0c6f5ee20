"""Order state, applied by one conditional write that is both the duplicate guard and the effect.

One item per order holds its latest version and, per field, the version that set it
(`<field>@v`). The write succeeds only for a version newer than the stored one, so a redelivery or
a re-send of an applied version changes nothing. An older version arriving late (say OrderCreated
v1 failed once, then OrderUpdated v2 was applied, then v1 is redelivered) is not dropped: a second
conditional write sets the fields it carries that the item lacks or holds from a version older
still, and never one a newer version set. Whatever order the versions arrive in, each field ends
up with the value of the newest version that carried it.

The item lives in the idempotency table (the only table the function is given) and expires with
the consumer's idempotency window after its last newer version, by which time no redelivery of it
can arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handlers.observation import Effects, Observation, Routed
from handlers.runtime.aws import attribute, conditional
from handlers.runtime.envelope import Incoming, digest
from handlers.runtime.errors import PayloadMismatch, PoisonRecord
from handlers.runtime.guards import Outcome, expires_at, item_id, item_suffix

SCALARS = (str, int, float, bool)
# Attributes the write sets itself; a detail field of the same name must not overwrite them.
RESERVED = frozenset({"id", "version", "expiration", "lastEventType", "payloadHash"})
# `<field>@v`: the version whose value the field holds. Detail fields containing "@" are not kept.
PROVENANCE = "@v"
# Attempts at filling an older version's fields while newer writes keep changing the item.
MERGE_ATTEMPTS = 3


class OrderItemChanged(RuntimeError):
    """The item changed under every attempt to merge an older version: retry the record later."""


def provenance(field: str) -> str:
    return field + PROVENANCE


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


def state_fields(incoming: Incoming) -> dict[str, Any]:
    """The detail fields the state keeps: scalars (order lines stay in the event archive)."""
    return {
        k: v
        for k, v in incoming.detail.items()
        if isinstance(v, SCALARS) and k not in RESERVED and "@" not in k
    }


def applier(
    *, client: Any, table: str, function_name: str, window_s: int
) -> Callable[[Incoming], Outcome]:
    def apply(incoming: Incoming) -> Outcome:
        order_id, version = versioned_key(incoming)
        key = {"id": {"S": order_item_id(function_name, order_id)}}
        payload_hash = digest(incoming.detail)
        fields = state_fields(incoming)
        update = _Update(version)
        update.assignments.append("#version = :version")
        update.set("expiration", expires_at(window_s))
        update.set("lastEventType", incoming.detail_type)
        update.set("payloadHash", payload_hash)
        for name, value in sorted(fields.items()):
            update.set(name, value)
            update.set(provenance(name), version)
        condition = "attribute_not_exists(#id) OR #version < :version"
        stored = conditional(client.update_item, TableName=table, Key=key, **update.request(condition))
        if stored is None:
            return Outcome.APPLIED
        if int(stored["version"]["N"]) == version:
            if stored.get("payloadHash", {}).get("S") != payload_hash:
                raise PayloadMismatch(incoming.key)
            return Outcome.DUPLICATE
        return _merge(client, table, key, stored, fields, version)

    return apply


def _merge(
    client: Any,
    table: str,
    key: dict[str, Any],
    stored: dict[str, Any],
    fields: dict[str, Any],
    version: int,
) -> Outcome:
    """Give an older version's fields to a newer item, where no newer version set them."""
    for _ in range(MERGE_ATTEMPTS):
        if not stored or int(stored["version"]["N"]) <= version:
            raise OrderItemChanged(f"{key['id']['S']} expired or went back while merging")
        gaps = {k: v for k, v in fields.items() if _older(stored, k, version)}
        if not gaps:
            return Outcome.SUPERSEDED
        update = _Update(version)
        conditions = ["#version > :version"]
        for name, value in sorted(gaps.items()):
            field_ref = update.set(name, value)
            source_ref = update.set(provenance(name), version)
            # The same test as `_older`, evaluated on the item as it is when the write lands.
            conditions.append(f"(attribute_not_exists({field_ref}) OR {source_ref} < :version)")
        condition = " AND ".join(conditions)
        stored = conditional(client.update_item, TableName=table, Key=key, **update.request(condition))
        if stored is None:
            return Outcome.MERGED
    raise OrderItemChanged(f"{key['id']['S']} changed under {MERGE_ATTEMPTS} merge attempts")


def _older(stored: dict[str, Any], name: str, version: int) -> bool:
    """Whether `version` may set field `name`: the item lacks it, or an older version set it.

    A field without its `@v` (an item written before it was kept) counts as newer: it is kept.
    """
    if name not in stored:
        return True
    source = stored.get(provenance(name), {}).get("N")
    return source is not None and int(source) < version


class _Update:
    """A SET expression and its placeholders; `#version` and `:version` are always bound."""

    def __init__(self, version: int) -> None:
        self.names = {"#version": "version"}
        self.values = {":version": attribute(version)}
        self.assignments: list[str] = []

    def set(self, name: str, value: Any) -> str:
        """Add `name = value`; returns the name's placeholder for use in the condition."""
        ref, placeholder = f"#a{len(self.assignments)}", f":a{len(self.assignments)}"
        self.names[ref] = name
        self.values[placeholder] = attribute(value)
        self.assignments.append(f"{ref} = {placeholder}")
        return ref

    def request(self, condition: str) -> dict[str, Any]:
        # DynamoDB refuses placeholders the expressions do not use.
        names = {**self.names, **({"#id": "id"} if "#id" in condition else {})}
        return {
            "UpdateExpression": "SET " + ", ".join(self.assignments),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": self.values,
        }


def observed(effects: Effects, *, domain: str, function: str, routed: dict[str, Routed]) -> Observation:
    """Per event: every state field it carries is held from it or from a newer version that
    carried it too, with that version's value. A field held from no version or an older one is
    lost; the event then does not count as applied. An order's state that no routed event names
    counts once, under its item id."""
    states = {}
    for item in effects.table_items():
        order = order_of(item["id"]["S"], function)
        if order is not None:
            states[order] = item
    by_version = {versioned_key(r.incoming): r for r in routed.values()}
    seen = Observation()
    for key_hash, event in routed.items():
        order, version = versioned_key(event.incoming)
        state = states.get(order)
        if state is None or int(state["version"]["N"]) < version:
            continue
        lost, own = [], False
        for name in state_fields(event.incoming):
            source = state.get(provenance(name), {}).get("N")
            if name not in state or source is None or int(source) < version:
                lost.append(name)
                continue
            own |= int(source) == version
            setter = by_version.get((order, int(source)))
            if setter is None or attribute(setter.incoming.detail.get(name)) != state[name]:
                said = "no routed event" if setter is None else repr(setter.incoming.detail.get(name))
                seen.disagree(key_hash, f"{name} holds {state[name]} from v{source}; that version: {said}")
        if lost:
            seen.disagree(key_hash, f"{', '.join(sorted(lost))} lost (held from no version or an older one)")
        elif own or int(state["version"]["N"]) == version:
            seen.applied[key_hash] += 1
        else:
            seen.implied.add(key_hash)
    # State for an order no routed event names is an effect of its own (unexpected, to a check).
    routed_orders = {order for order, _ in by_version}
    seen.applied.update(s["id"]["S"] for order, s in states.items() if order not in routed_orders)
    return seen
