"""Every pricing formula against arithmetic done by hand.

Unit prices are typed from reference/aws-prices.md, never read back from the catalogue. One small
stack (run once through the real program) exercises the per-resource formulas; synthetic usages
exercise the account-wide tiers and the pooled free tier.
"""

from __future__ import annotations

import pytest

from costmodel.catalogue import load_catalogue
from costmodel.estimate import price
from costmodel.scenarios import model_from_values
from costmodel.usage import Usage

M = 1_000_000
MONTH_S = 730 * 3_600  # AWS's 730-hour month
MONTH_MIN = 730 * 60

# aws-prices.md, "Current AWS prices" (first tiers)
EVENTBRIDGE_PER_M = 1.00
SQS_STANDARD_PER_M = 0.40
SQS_FIFO_PER_M = 0.50
SNS_PUBLISH_PER_M = 0.50
LAMBDA_REQUEST_PER_M = 0.20
X86_GB_S = 0.0000166667
X86_GB_S_TIER2 = 0.0000150000
ARM_GB_S = 0.0000133334
DDB_WRITE_PER_M = 0.625
S3_PUT_PER_1000 = 0.005
KMS_PER_10K = 0.03
ALARM_MONTH = 0.10
LOG_INGEST_GB = 0.50

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
                    "idempotency_key": "detail.orderId",
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
    assert line(frame, q, "receive (batched)").quantity == pytest.approx(3.3 * M / (10 * FILL))
    assert line(frame, q, "requests").quantity == pytest.approx(3.3 * M / (100 * FILL))


def test_standard_and_fifo_requests_priced_apart(mini):
    _, frame = mini
    idle = IDLE_PER_MIN * MONTH_MIN
    standard = (
        (2.2 * M + 0.88 * M + idle) + (2.2 * M + 0.44 * M + idle) + (4.4 * M + 1.32 * M + idle)
    )
    fifo = 0.55 * M + 0.22 * M + idle
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


def test_log_ingestion(mini):
    _, frame = mini
    invocations = 440_000 + 220_000 + 66_000 + 110_000
    assert item_cost(frame, "logs.ingestion") == pytest.approx(
        invocations * LOG_BYTES / 1e9 * LOG_INGEST_GB
    )


# -- DynamoDB, S3, KMS, alarms --------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "unique", "per_event", "per_duplicate"),
    [
        ("mini-orders-processor", 2 * M, 1, 1),  # conditional-write: the write is the guard
        ("mini-orders-notification", 1 * M, 2, 1),  # powertools: in-progress + completed
        ("mini-orders-analytics", 3 * M, 4, 2),  # guard + counters in one transaction
    ],
)
def test_dynamodb_writes_per_idempotency_pattern(mini, function, unique, per_event, per_duplicate):
    _, frame = mini
    writes = frame[(frame.resource == function) & (frame.price_item == "dynamodb.ondemand.write")]
    expected = unique * per_event + unique * DUP * per_duplicate  # a failed conditional write bills
    assert writes.quantity.sum() == pytest.approx(expected)
    assert writes.monthly_cost.sum() == pytest.approx(expected / M * DDB_WRITE_PER_M)


def test_s3_conditional_puts_bill_duplicates_too(mini):
    _, frame = mini
    put = line(frame, "mini-payments-audit", "PUT (one object per event)")
    assert put.quantity == pytest.approx(0.5 * M * 1.1)
    assert put.monthly_cost == pytest.approx(550_000 / 1_000 * S3_PUT_PER_1000)


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
    assert alarms.quantity == model.topology.alarms > 0
    assert alarms.monthly_cost == pytest.approx(model.topology.alarms * ALARM_MONTH)


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
