"""Fulfilment hands off by publishing a follow-up event, never by calling a service and waiting.

A synchronous call would hold the message while the downstream service is slow, time out, and
call the same overloaded service again on every redelivery. The follow-up event goes to the
domain's bus; its `fulfillmentId` is derived from the trigger's business key. EventBridge cannot
deduplicate, so the hand-off is at-least-once: it is published again when the consumer crashes
after PutEvents and before its guard records it, or (with the one-write guard) when two copies
of the trigger run at once. Every copy carries the same `fulfillmentId`, which downstream keys on
to apply the hand-off once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handlers.observation import Effects, Observation, Routed
from handlers.producer import Event, publish
from handlers.runtime.envelope import Incoming, digest
from handlers.runtime.guards import Outcome

FOLLOW_UP = "FulfillmentRequested"
FOLLOW_UP_DOMAIN = "fulfillment"
CARRIED_FIELDS = ("orderId", "status", "movementId", "sku", "warehouseId", "quantity", "scope")


def fulfillment_id(source: str, key: Any) -> str:
    """Deterministic per business event: a downstream keyed on it can drop repeated hand-offs."""
    return digest([source, key])


def carried(incoming: Incoming) -> dict[str, Any]:
    """What a hand-off says about its trigger, besides the trigger's event id."""
    return {
        "fulfillmentId": fulfillment_id(incoming.event["source"], incoming.key),
        **{k: incoming.detail[k] for k in CARRIED_FIELDS if k in incoming.detail},
    }


def follow_up(incoming: Incoming) -> Event:
    event = incoming.event
    trigger = {"source": event["source"], "detailType": incoming.detail_type, "eventId": event["id"]}
    detail = {**carried(incoming), "trigger": trigger}
    return Event(FOLLOW_UP, detail, resources=tuple(event.get("resources", ())))


def publisher(*, client: Any, bus_name: str, source: str) -> Callable[[Incoming], Outcome]:
    def hand_off(incoming: Incoming) -> Outcome:
        publish(
            [follow_up(incoming)],
            bus_name=bus_name,
            source=source,
            domain=FOLLOW_UP_DOMAIN,
            client=client,
        ).raise_for_failures()
        return Outcome.APPLIED

    return hand_off


def observed(effects: Effects, *, domain: str, function: str, routed: dict[str, Routed]) -> Observation:
    """One FulfillmentRequested per event on the domain's bus, by its fulfillmentId, carrying
    the trigger's fields."""
    by_id = {fulfillment_id(r.event["source"], r.key): (h, r) for h, r in routed.items()}
    seen = Observation()
    for event in effects.follow_ups(domain):
        detail = event["detail"]
        key_hash, trigger = by_id.get(detail["fulfillmentId"], (detail["fulfillmentId"], None))
        seen.applied[key_hash] += 1
        if trigger is None:
            continue
        held = {k: v for k, v in detail.items() if k != "trigger"}
        said = detail.get("trigger", {})
        named = (said.get("source"), said.get("detailType"))
        if held != carried(trigger.incoming) or named != (trigger.event["source"], trigger.incoming.detail_type):
            seen.disagree(key_hash, f"hand-off {detail} does not carry the trigger's fields")
    return seen
