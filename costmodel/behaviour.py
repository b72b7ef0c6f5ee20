"""What the consumers do that the bill depends on and `handlers.catalog` does not state.

Each fact is read off the handler code and pinned by `tests/costmodel/test_behaviour.py`
against that code (the size of the metrics line the runtime prints, the hand-off event, which
store keeps one item per entity, that no item is written by every event of a kind), so a change
in handlers/ fails a test instead of drifting away from the estimate. What the catalogue states
(outcomes, custom metrics, capacity units and S3 requests per event) is read from it directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# handlers/runtime/consumer.py, _Runtime._publish: with CUSTOM_METRICS=on, after every batch,
# Powertools' EMF metrics (`HandlerSpec.custom_metrics`: Records, Records<Outcome> for each
# outcome the batch had, RecordsFailed, RecordsPoison and RecordsSkipped), each with the one
# default dimension `service` (POWERTOOLS_SERVICE_NAME) in the namespace
# POWERTOOLS_METRICS_NAMESPACE. CloudWatch bills each metric name × dimension values as one
# custom metric.
METRIC_DIMENSION = "service"


def emf_line_bytes(namespace: str, service: str, records: float) -> int:
    """The EMF log line Powertools prints after a typical batch (all records applied).

    The shape is Powertools' `serialize_metric_set` (compact JSON, one line): metric
    definitions, the dimension value and one value per metric; values are floats.
    """
    names = ["Records", "RecordsApplied", "RecordsFailed", "RecordsPoison", "RecordsSkipped"]
    values = {"Records": records, "RecordsApplied": records}
    document = {
        "_aws": {
            "Timestamp": 1_800_000_000_000,  # milliseconds: 13 digits
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [[METRIC_DIMENSION]],
                    "Metrics": [{"Name": n, "Unit": "Count"} for n in names],
                }
            ],
        },
        METRIC_DIMENSION: service,
        **{n: [float(round(values.get(n, 0.0)))] for n in names},
    }
    return len(json.dumps(document, separators=(",", ":"))) + 1  # print() adds the newline


@dataclass(frozen=True)
class HandOff:
    """A consumer that puts one follow-up event on its domain's bus per event it applies."""

    detail_type: str
    schema_domain: str  # schemas/<schema_domain>/<detail_type>.json
    carried: tuple[str, ...]  # detail fields copied from the trigger


# handlers/logic/handoff.py: FOLLOW_UP, FOLLOW_UP_DOMAIN, CARRIED_FIELDS. The event goes to
# EVENT_BUS_NAME with source EVENT_SOURCE (the function's environment).
HANDOFFS: dict[str, HandOff] = {
    "fulfillment": HandOff(
        "FulfillmentRequested",
        "fulfillment",
        ("orderId", "status", "movementId", "sku", "warehouseId", "quantity", "scope"),
    )
}
HANDOFF_ID_BYTES = 64  # fulfillmentId: a SHA-256 hex digest
EVENT_ID = "00000000-0000-0000-0000-000000000000"  # EventBridge ids are UUIDs: 36 characters


def follow_up_event(trigger: dict, handoff: HandOff, source: str) -> dict:
    """The follow-up event a trigger event leads to, as EventBridge stores and archives it."""
    detail = trigger.get("detail", {})
    return {
        "version": "0",
        "id": EVENT_ID,
        "detail-type": handoff.detail_type,
        "source": source,
        "account": trigger.get("account", "123456789012"),
        "time": trigger.get("time", "2026-01-01T00:00:00Z"),
        "region": trigger.get("region", "us-east-1"),
        "resources": list(trigger.get("resources", [])),
        "detail": {
            "fulfillmentId": "0" * HANDOFF_ID_BYTES,
            "trigger": {
                "source": trigger.get("source", ""),
                "detailType": trigger.get("detail-type", ""),
                "eventId": EVENT_ID,
            },
            **{k: detail[k] for k in handoff.carried if k in detail},
        },
    }


def event_bytes(event: dict) -> int:
    return len(json.dumps(event, separators=(",", ":")).encode())


# Consumers whose store keeps one item per entity rather than one per event, and what the
# entity is: handlers/logic/order_state.py keeps one state item per order (key
# `<function>#order#<orderId>`) that expires a window after its last change.
ENTITY_STORES: dict[str, str] = {"order_processor": "order"}

