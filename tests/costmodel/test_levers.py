"""Cost levers on the shipped prod stack: each saving checked against arithmetic by hand."""

from __future__ import annotations

import pytest

from costmodel.estimate import load_model
from costmodel.levers import LOG_RETENTION_DAYS, levers

M = 1_000_000
MONTH_DAYS = 730 / 24
X86_GB_S, ARM_GB_S = 0.0000166667, 0.0000133334
LAMBDA_REQUEST_PER_M = 0.20
DDB_WRITE_PER_M, DDB_GB_MONTH = 0.625, 0.25
S3_PUT_PER_1000, S3_GB_MONTH = 0.005, 0.023
KMS_PER_10K = 0.03

# prod's assumptions: 1 % duplicates, 2 % failed attempts, batches 60 % full
DUP, FAIL, FILL = 0.01, 0.02, 0.6


@pytest.fixture(scope="module")
def prod():
    return load_model("prod")


@pytest.fixture(scope="module")
def baseline(prod):
    return prod.estimate()


@pytest.fixture(scope="module")
def by_name(prod):
    return {lever.name: lever for lever in levers(prod)}


def test_every_lever_is_a_priced_variant(prod, baseline, by_name):
    assert set(by_name) == {
        "batch size 100",
        "batch size 1",
        "architecture flip",
        "halve retention",
        "conditional-write idempotency",
        "SSE-SQS queues",
        "cold events in S3",
    }
    for lever in by_name.values():
        assert lever.monthly_saving == pytest.approx(lever.baseline_total - lever.variant_total)
        assert lever.detail
        if lever.name != "cold events in S3":  # that one adds a cold store to both sides
            assert lever.baseline_total == pytest.approx(baseline.total)
    assert prod.total() == pytest.approx(baseline.total)  # the model itself is untouched


def test_arm64_vs_x86(baseline, by_name):
    gb_s = baseline.frame().query("price_item == 'lambda.duration.arm64'").quantity.sum()
    assert by_name["architecture flip"].monthly_saving == pytest.approx(
        -gb_s * (X86_GB_S - ARM_GB_S)
    )


def test_batch_100_saves_invocations_not_sqs_requests(baseline, by_name):
    # prod queues at batch 10: processor 6M, notification 2M, orders fulfilment 0.8M,
    # inventory fulfilment 2.7M (+30 reconcile events) messages a month
    messages = (6 * M + 2 * M + 0.8 * M + 2.7 * M + 30) * (1 + DUP) * (1 + FAIL)
    fewer = messages / (10 * FILL) - messages / (100 * FILL)
    log_gb = fewer * 700 / 1e9
    log_storage_gb = log_gb * 90 / MONTH_DAYS
    expected = (
        fewer / M * LAMBDA_REQUEST_PER_M
        + fewer * 0.120 * 0.25 * ARM_GB_S
        + log_gb * 0.50
        + log_storage_gb * 0.03
    )
    assert by_name["batch size 100"].monthly_saving == pytest.approx(expected)


def test_batching_saves_money_so_batch_1_costs_more(by_name):
    assert by_name["batch size 1"].monthly_saving < -10


def test_single_conditional_write_drops_powertools_second_write(by_name):
    # Powertools consumers: notification 2M, orders fulfilment 0.8M, inventory fulfilment 2.7M
    unique = 2 * M + 0.8 * M + (2.7 * M + 30)
    # one write unit less per event, and per failed attempt (which wrote as an event would)
    fewer_writes = unique + unique * (1 + DUP) * FAIL
    assert by_name["conditional-write idempotency"].monthly_saving == pytest.approx(
        fewer_writes / M * DDB_WRITE_PER_M
    )


def test_sse_sqs_removes_only_the_queue_key_requests(by_name):
    lever = by_name["SSE-SQS queues"]
    requests = 730 * 3_600 / 300 * (2 * 1 + 1)  # B/D × (2P + C) for the one consumer queue
    assert lever.monthly_saving == pytest.approx(requests / 10_000 * KMS_PER_10K)
    assert "prod-payments-audit.fifo" in lever.detail


def test_halving_retention_saves_and_uses_accepted_log_retention(by_name):
    lever = by_name["halve retention"]
    assert lever.monthly_saving > 0
    assert "logs 90 -> 30 d" in lever.detail  # 45 is not a retention CloudWatch Logs accepts
    assert 30 in LOG_RETENTION_DAYS and 45 not in LOG_RETENTION_DAYS
    assert "archive 365 -> 182 d" in lever.detail


def test_cold_events_s3_vs_dynamodb_by_hand(by_name):
    months = 2555 / MONTH_DAYS  # prod's bucket_expire_after_days
    # prod's event mix: (events, bytes); DynamoDB items carry 100 B of key and attribute names
    mix = [
        (2 * M, 1500),
        (4 * M, 600),
        (1.5 * M, 500),
        (1.4 * M, 500),
        (0.1 * M, 500),
        (2.5 * M, 400),
        (0.2 * M, 400),
        (30, 200),
    ]
    events = sum(n for n, _ in mix)
    wru = sum(n * (2 if size + 100 > 1024 else 1) for n, size in mix)
    ddb = (
        wru / M * DDB_WRITE_PER_M
        + sum(n * (size + 100) for n, size in mix) / 1e9 * months * DDB_GB_MONTH
    )
    s3 = (
        events / 1_000 * S3_PUT_PER_1000
        + sum(n * size for n, size in mix) / 1e9 * months * S3_GB_MONTH
    )
    assert by_name["cold events in S3"].monthly_saving == pytest.approx(ddb - s3)
