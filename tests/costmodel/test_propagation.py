"""Volume follows the routing the program declares: change the config, the bill moves by hand-computed amounts.

Each variant is a stack config run through the real program; prices are typed from
reference/aws-prices.md. Assumptions are simple (no duplicates, failures or idle polling; full
batches) so each amount is a line of arithmetic.
"""

from __future__ import annotations

import copy

import pytest
from hand_prices import (
    ARCHIVE_GB,
    ARCHIVE_GB_MONTH,
    ARM_GB_S,
    DDB_WRITE_PER_M,
    EVENTBRIDGE_PER_M,
    EXACT_TRAFFIC,
    GB,
    LAMBDA_REQUEST_PER_M,
    M,
    figures,
    handoff_event_bytes,
    retained,
    sample_event,
)
from hand_prices import SQS_STANDARD_PER_M as SQS_PER_M

from costmodel.scenarios import model_from_values

BASE = {
    "aws:region": "us-east-1",
    "eda-platform:assumptions": EXACT_TRAFFIC,
    "eda-platform:domains": {
        "orders": {
            "source": "com.ascendion.orders",
            "event_types": {
                "OrderCreated": {"monthly_volume": 1 * M},
                "OrderUpdated": {
                    "monthly_volume": 4 * M,
                    "samples": [
                        {"share": 0.25, "detail": {"orderId": "o", "status": "CONFIRMED"}},
                        {"share": 0.75, "detail": {"orderId": "o", "status": "SHIPPED"}},
                    ],
                },
            },
            "topics": {
                "lifecycle": {"subscribe": {"detail_types": ["OrderCreated", "OrderUpdated"]}}
            },
            "consumers": {
                "processor": {
                    "handler": "order_processor",
                    "idempotency_key": "[detail.orderId, detail.version]",
                    "subscribe": {"detail_types": ["OrderCreated"]},
                },
                "fulfillment": {
                    "handler": "fulfillment",
                    "idempotency_key": "detail.orderId",
                    "subscribe": {
                        "pattern": {
                            "detail-type": ["OrderUpdated"],
                            "detail": {"status": ["CONFIRMED"]},
                        }
                    },
                },
                "notification": {
                    "handler": "notification_sender",
                    "idempotency_key": "detail.orderId",
                    "subscribe": {
                        "topic": "lifecycle",
                        "filter_policy": {"detail-type": ["OrderCreated"]},
                    },
                },
                "analytics": {
                    "handler": "analytics",
                    "idempotency_key": "detail.orderId",
                    "subscribe": {"topic": "lifecycle"},
                },
            },
        }
    },
}


def variant(edit) -> dict:
    values = copy.deepcopy(BASE)
    edit(values["eda-platform:domains"]["orders"])
    return values


def estimate(values):
    return model_from_values("flow", values, origin="test_propagation").estimate()


def by_service(frame, service, item_prefix=""):
    rows = frame[(frame.service == service) & frame.price_item.str.startswith(item_prefix)]
    return rows.monthly_cost.sum()


def sends(frame, queue):
    rows = frame[(frame.resource == queue) & (frame.component == "send")]
    return rows.quantity.sum()


@pytest.fixture(scope="module")
def base():
    return estimate(BASE)


def test_base_routes_by_pattern_and_filter_policy(base):
    frame = base.frame()
    assert sends(frame, "flow-orders-processor") == pytest.approx(1 * M)
    assert sends(frame, "flow-orders-fulfillment") == pytest.approx(1 * M)  # 25 % CONFIRMED
    assert sends(frame, "flow-orders-notification") == pytest.approx(1 * M)  # filter: OrderCreated
    assert sends(frame, "flow-orders-analytics") == pytest.approx(5 * M)  # no filter: all
    assert not any("match no rule" in w for w in base.warnings)


def test_widening_a_rule_pattern_adds_the_newly_matched_events(base):
    def widen(domain):
        domain["consumers"]["fulfillment"]["subscribe"]["pattern"]["detail"]["status"].append(
            "SHIPPED"
        )

    wider_model = model_from_values("flow", variant(widen), origin="test_propagation")
    wider = wider_model.estimate()
    before, after = base.frame(), wider.frame()
    extra = 3 * M  # the 75 % SHIPPED share of 4M OrderUpdated now reaches fulfillment
    assert sends(after, "flow-orders-fulfillment") - sends(
        before, "flow-orders-fulfillment"
    ) == pytest.approx(extra)
    # SQS: a send each, one receive and one delete per full batch of 10
    assert by_service(after, "SQS") - by_service(before, "SQS") == pytest.approx(
        (extra + 2 * extra / 10) / M * SQS_PER_M
    )
    # Lambda: one invocation per batch, 120 ms at 256 MB on arm64
    batches = extra / 10
    assert by_service(after, "Lambda") - by_service(before, "Lambda") == pytest.approx(
        batches / M * LAMBDA_REQUEST_PER_M + batches * 0.120 * 0.25 * ARM_GB_S
    )
    # fulfillment: its guard's write units per event (handlers.catalog), one follow-up each
    fulfillment = wider_model.topology.functions["flow-orders-fulfillment"]
    does = figures("fulfillment", fulfillment.environment)
    assert by_service(after, "DynamoDB", "dynamodb.ondemand.write") - by_service(
        before, "DynamoDB", "dynamodb.ondemand.write"
    ) == pytest.approx(extra * does.writes / M * DDB_WRITE_PER_M)
    # fulfillment's hand-off events: put on the bus, and archived with every other event there
    # (the archive has no pattern; 30 days by default)
    trigger = sample_event("com.ascendion.orders", "OrderUpdated", {"orderId": "o", "status": "SHIPPED"})
    handoff_gb = extra * handoff_event_bytes(trigger, "com.ascendion.orders") / GB
    assert by_service(after, "EventBridge") - by_service(before, "EventBridge") == pytest.approx(
        extra / M * EVENTBRIDGE_PER_M
        + handoff_gb * ARCHIVE_GB
        + retained(handoff_gb, 30) * ARCHIVE_GB_MONTH
    )
    assert wider.total > base.total


def test_a_smaller_batch_costs_more_receives_deletes_and_invocations(base):
    def halve_batch(domain):
        domain["consumers"]["processor"]["batch_size"] = 5

    smaller = estimate(variant(halve_batch)).frame()
    before = base.frame()
    messages = 1 * M  # processor's OrderCreated
    more_batches = messages / 5 - messages / 10
    assert by_service(smaller, "SQS") - by_service(before, "SQS") == pytest.approx(
        2 * more_batches / M * SQS_PER_M
    )
    assert by_service(smaller, "Lambda") - by_service(before, "Lambda") == pytest.approx(
        more_batches / M * LAMBDA_REQUEST_PER_M + more_batches * 0.120 * 0.25 * ARM_GB_S
    )


def test_a_content_filter_policy_on_a_fan_out_subscription(base):
    def filter_on_status(domain):
        domain["consumers"]["notification"]["subscribe"]["filter_policy"] = {
            "detail": {"status": ["SHIPPED"]}
        }

    filtered = estimate(variant(filter_on_status)).frame()
    assert sends(filtered, "flow-orders-notification") == pytest.approx(
        3 * M
    )  # 75 % of OrderUpdated
    deliveries = filtered[filtered.component == "deliveries to SQS (free)"].quantity.sum()
    assert deliveries == pytest.approx(3 * M + 5 * M)
    # The topic publishes all it is sent regardless of its subscribers' filters.
    publishes = filtered[filtered.component == "publishes (from EventBridge)"].quantity.sum()
    assert publishes == pytest.approx(5 * M)


def test_an_event_type_no_rule_matches_is_warned_about():
    def only_processor(domain):
        domain["topics"] = {}
        domain["consumers"] = {"processor": domain["consumers"]["processor"]}

    lonely = estimate(variant(only_processor))
    assert any(
        w.startswith("orders/OrderUpdated: 4M events a month match no rule")
        for w in lonely.warnings
    )
    assert not any(w.startswith("orders/OrderCreated") for w in lonely.warnings)
    # It is still put on the bus and billed there.
    puts = lonely.frame().query("component == 'custom events put'").quantity.sum()
    assert puts == pytest.approx(5 * M)
