"""Every pricing formula against arithmetic done by hand.

Unit prices are typed from reference/aws-prices.md, never read back from the catalogue. One small
stack (run once through the real program) exercises the per-resource formulas; synthetic usages
exercise the account-wide tiers and the pooled free tier.
"""

from __future__ import annotations

import pytest
from hand_prices import (
    ALARM_MONTH,
    ARM_GB_S,
    DDB_WRITE_PER_M,
    EVENTBRIDGE_PER_M,
    GB,
    KMS_PER_10K,
    LAMBDA_REQUEST_PER_M,
    LOG_INGEST_GB,
    MONTH_MIN,
    MONTH_S,
    S3_PUT_PER_1000,
    SNS_PUBLISH_PER_M,
    SQS_FIFO_PER_M,
    SQS_STANDARD_PER_M,
    X86_GB_S,
    X86_GB_S_TIER2,
    M,
    figures,
    powertools_emf_line,
)

from costmodel.catalogue import load_catalogue
from costmodel.estimate import price
from costmodel.scenarios import model_from_values
from costmodel.usage import Usage

DUP, FILL, IDLE_PER_MIN, LOG_BYTES = 0.1, 0.5, 10, 1_000

# Two domains: a 70 KB event type, an SNS fan-out with a filter policy, an x86 consumer, a
# batch of 100, and a FIFO queue on the customer key whose consumer writes to S3.
MINI = {
    "aws:region": "us-east-1",
    "eda-platform:assumptions": {
        "duplicate_rate": DUP,
        "failure_rate": 0,
        "batch_fill": FILL,
        "idle_receives_per_minute": IDLE_PER_MIN,
        "log_bytes_per_invocation": LOG_BYTES,
    },
    "eda-platform:domains": {
        "orders": {
            "source": "com.ascendion.orders",
            "event_types": {
                "OrderCreated": {"monthly_volume": 1_000_000, "avg_size_bytes": 70 * 1_024},
                "OrderUpdated": {"monthly_volume": 2_000_000, "avg_size_bytes": 1_000},
            },
            "topics": {
                "lifecycle": {"subscribe": {"detail_types": ["OrderCreated", "OrderUpdated"]}}
            },
            "consumers": {
                "processor": {
                    "handler": "order_processor",
                    "idempotency_key": "[detail.orderId, detail.version]",
                    "subscribe": {"detail_types": ["OrderUpdated"]},
                    "architecture": "x86_64",
                    "memory_mb": 512,
                    "expected_duration_ms": 200,
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
                    "batch_size": 100,
                    "batching_window_s": 5,
                },
            },
        },
        "payments": {
            "source": "com.ascendion.payments",
            "event_types": {
                "PaymentAuthorized": {"monthly_volume": 500_000, "avg_size_bytes": 500}
            },
            "consumers": {
                "audit": {
                    "handler": "audit_logger",
                    "idempotency_key": "detail.paymentId",
                    "subscribe": {"detail_types": ["PaymentAuthorized"]},
                    "queue": {
                        "kind": "fifo",
                        "message_group_path": "$.detail.paymentId",
                        "encryption": "kms",
                    },
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def mini():
    model = model_from_values("mini", MINI, origin="test_formulas.MINI")
    return model, model.estimate().frame()


def line(frame, resource, component):
    rows = frame[(frame.resource == resource) & (frame.component == component)]
    assert len(rows) == 1, (
        resource,
        component,
        frame[frame.resource == resource].component.tolist(),
    )
    return rows.iloc[0]


def item_cost(frame, price_item):
    return frame[frame.price_item == price_item].monthly_cost.sum()


# -- EventBridge and SNS --------------------------------------------------------------------


def test_a_70_kb_event_bills_two_chunks(mini):
    _, frame = mini
    puts = line(frame, "mini-orders", "custom events put")
    # 1M × 2 chunks (70 KB) + 2M × 1 chunk, each put 1.1 times (producer re-sends)
    assert puts.quantity == pytest.approx((1 * M * 2 + 2 * M * 1) * 1.1)
    assert puts.monthly_cost == pytest.approx(4.4 * EVENTBRIDGE_PER_M)


def test_sns_publishes_bill_and_deliveries_to_sqs_are_free(mini):
    _, frame = mini
    publish = line(frame, "mini-orders-lifecycle", "publishes (from EventBridge)")
    assert publish.quantity == pytest.approx(4 * M * 1.1)  # same chunks as the bus puts
    deliveries = line(frame, "mini-orders-lifecycle", "deliveries to SQS (free)")
    # notification gets OrderCreated only (filter policy), analytics all 3M
    assert deliveries.quantity == pytest.approx((1 * M + 3 * M) * 1.1)
    assert deliveries.monthly_cost == 0
    # + the notification consumer's own 1M publishes (one per unique event)
    assert item_cost(frame, "sns.publish") == pytest.approx((4.4 + 1.0) * SNS_PUBLISH_PER_M)


# -- SQS ------------------------------------------------------------------------------------


def test_standard_queue_send_receive_delete_and_empty_receives(mini):
    _, frame = mini
    q = "mini-orders-processor"  # 2M OrderUpdated of 1 KB, batch 10 at fill 0.5
    assert line(frame, q, "send").quantity == pytest.approx(2 * M * 1.1)
    assert line(frame, q, "receive (batched)").quantity == pytest.approx(2.2 * M / 5)
    assert line(frame, q, "delete (batched)").quantity == pytest.approx(2.2 * M / 5)
    assert line(frame, q, "empty receives (idle polling)").quantity == pytest.approx(
        IDLE_PER_MIN * MONTH_MIN
    )


def test_a_batch_of_100_still_receives_at_most_10_messages_a_call(mini):
    _, frame = mini
    q = "mini-orders-analytics"  # 1M × 2 chunks + 2M × 1 chunk; 3.3M messages delivered
    assert line(frame, q, "send").quantity == pytest.approx(4 * M * 1.1)
    # a batch of 100 × 0.5 = 50 messages takes ceil(50 / 10) = 5 receives and 5 deletes
    batches = 3.3 * M / (100 * FILL)
    assert line(frame, q, "receive (batched)").quantity == pytest.approx(batches * 5)
    assert line(frame, q, "delete (batched)").quantity == pytest.approx(batches * 5)
    assert line(frame, q, "requests").quantity == pytest.approx(batches)


def test_standard_and_fifo_requests_priced_apart(mini):
    _, frame = mini
    idle = IDLE_PER_MIN * MONTH_MIN
    # analytics: 3.3M delivered in batches of 100 × 0.5 = 50, each ceil(50 / 10) = 5 calls
    standard = (
        (2.2 * M + 0.88 * M + idle) + (2.2 * M + 0.44 * M + idle) + (4.4 * M + 2 * 3.3 * M / 10 + idle)
    )
    # the consumer's FIFO queue (Lambda: 5 per batch), and the staging FIFO queue its pipe
    # polls (batches of 10 × 0.5 = 5, no consumer retries there)
    fifo = (0.55 * M + 0.22 * M + idle) + (0.55 * M + 0.22 * M + idle)
    assert item_cost(frame, "sqs.standard.requests") == pytest.approx(
        standard / M * SQS_STANDARD_PER_M
    )
    assert item_cost(frame, "sqs.fifo.requests") == pytest.approx(fifo / M * SQS_FIFO_PER_M)


# -- Lambda and logs ------------------------------------------------------------------------


def test_lambda_requests_and_gb_seconds_per_architecture(mini):
    _, frame = mini
    x86 = line(frame, "mini-orders-processor", "duration (x86_64)")
    assert x86.quantity == pytest.approx(440_000 * 0.200 * 0.5)  # batches × s × GB
    assert x86.monthly_cost == pytest.approx(44_000 * X86_GB_S)
    arm_gb_s = (220_000 + 66_000 + 110_000) * 0.120 * 0.25
    assert item_cost(frame, "lambda.duration.arm64") == pytest.approx(arm_gb_s * ARM_GB_S)
    invocations = 440_000 + 220_000 + 66_000 + 110_000
    assert item_cost(frame, "lambda.requests") == pytest.approx(
        invocations / M * LAMBDA_REQUEST_PER_M
    )


def test_log_ingestion_counts_the_log_lines_and_the_emf_metrics_line(mini):
    _, frame = mini
    # (service = <domain>-<consumer>, invocations, records per batch); namespace eda/<stack>
    functions = [
        ("orders-processor", 440_000, 5),
        ("orders-notification", 220_000, 5),
        ("orders-analytics", 66_000, 50),
        ("payments-audit", 110_000, 5),
    ]
    model, _ = mini
    expected = 0.0
    for service, invocations, per_batch in functions:
        function = model.topology.functions[f"mini-{service}"]
        on = figures(function.handler, function.environment).metrics_on  # EMF only when published
        line = LOG_BYTES + (powertools_emf_line("eda/mini", service, per_batch) if on else 0)
        expected += invocations * line / GB * LOG_INGEST_GB
    assert item_cost(frame, "logs.ingestion.vended") == pytest.approx(expected)


# -- DynamoDB, S3, KMS, alarms --------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "handler", "unique"),
    [
        ("mini-orders-processor", "order_processor", 2 * M),
        ("mini-orders-notification", "notification_sender", 1 * M),
        ("mini-orders-analytics", "analytics", 3 * M),
    ],
)
def test_dynamodb_writes_per_idempotency_pattern(mini, function, handler, unique):
    model, frame = mini
    does = figures(handler, model.topology.functions[function].environment)
    writes = frame[(frame.resource == function) & (frame.price_item == "dynamodb.ondemand.write")]
    # a duplicate costs what recognising it costs (a failed conditional write still bills)
    expected = unique * does.writes + unique * DUP * does.duplicate_writes
    assert writes.quantity.sum() == pytest.approx(expected)
    assert writes.monthly_cost.sum() == pytest.approx(expected / M * DDB_WRITE_PER_M)


def test_s3_conditional_puts_bill_duplicates_too(mini):
    model, frame = mini
    does = figures("audit_logger", model.topology.functions["mini-payments-audit"].environment)
    put = line(frame, "mini-payments-audit", "PUT requests")
    batches = 0.55 * M / 5  # deliveries in batches of 10 × fill 0.5
    expected = 0.5 * M * does.puts + 0.05 * M * does.duplicate_puts + batches * does.batch_puts
    assert put.quantity == pytest.approx(expected)
    assert put.monthly_cost == pytest.approx(expected / 1_000 * S3_PUT_PER_1000)


def test_kms_requests_for_a_queue_on_the_customer_key(mini):
    _, frame = mini
    kms = line(frame, "mini-payments-audit.fifo", "requests (queue data keys)")
    b, d, producers, consumers = MONTH_S, 300, 1, 1
    assert kms.quantity == pytest.approx(b / d * (2 * producers + consumers))
    assert kms.monthly_cost == pytest.approx(26_280 / 10_000 * KMS_PER_10K)
    assert frame[frame.resource == "mini-orders-processor"].price_item.ne("kms.requests").all()


def test_alarms_each_cost_a_standard_alarm_month(mini):
    model, frame = mini
    alarms = line(frame, "mini-alarms", "alarms")
    declared = model.topology.declared["aws:cloudwatch/metricAlarm:MetricAlarm"]
    assert alarms.quantity == declared > 0
    assert alarms.monthly_cost == pytest.approx(declared * ALARM_MONTH)


# -- account-wide tiers and the pooled free tier --------------------------------------------


@pytest.fixture(scope="module")
def current():
    return load_catalogue("aws-current", "us-east-1")


def usage(resource, item, quantity):
    return Usage("svc", resource, "d", "c", item, quantity, 0, "")


def test_lambda_tiers_apply_to_the_account_total_not_per_function(current):
    usages = [usage(f, "lambda.duration.x86_64", 4e9) for f in ("a", "b")]  # 8B GB-s together
    costs = price(usages, current, False, 1.0)
    account = 6e9 * X86_GB_S + 2e9 * X86_GB_S_TIER2
    assert sum(costs) == pytest.approx(account)
    assert costs[0] == pytest.approx(account / 2)
    assert sum(costs) < 8e9 * X86_GB_S  # what per-function tiers (Infracost) would charge


def test_free_tier_off_charges_from_the_first_unit(current):
    usages = [usage("f", "lambda.requests", 3 * M), usage("q", "sqs.standard.requests", 3 * M)]
    costs = price(usages, current, False, 1.0)
    assert costs[0] == pytest.approx(3 * LAMBDA_REQUEST_PER_M)
    assert costs[1] == pytest.approx(3 * SQS_STANDARD_PER_M)


def test_free_tier_on_lambda_requests_and_gb_seconds_shared_by_architectures(current):
    usages = [
        usage("f", "lambda.requests", 3 * M),
        usage("f", "lambda.duration.x86_64", 300_000),
        usage("g", "lambda.duration.arm64", 300_000),
    ]
    requests, x86, arm = price(usages, current, True, 1.0)
    assert requests == pytest.approx((3 - 1) * LAMBDA_REQUEST_PER_M)
    # 400k GB-s free for both architectures together, shared in proportion: 200k each
    assert x86 == pytest.approx(100_000 * X86_GB_S)
    assert arm == pytest.approx(100_000 * ARM_GB_S)


def test_free_tier_on_sqs_million_pooled_over_standard_and_fifo(current):
    usages = [usage("s", "sqs.standard.requests", 3 * M), usage("f", "sqs.fifo.requests", 1 * M)]
    standard, fifo = price(usages, current, True, 1.0)
    # 1M free for both: 750k to standard (3/4 of the use), 250k to FIFO
    assert standard == pytest.approx(2.25 * SQS_STANDARD_PER_M)
    assert fifo == pytest.approx(0.75 * SQS_FIFO_PER_M)
