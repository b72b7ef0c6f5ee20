"""Cost levers on the shipped prod stack: each saving checked against arithmetic by hand."""

from __future__ import annotations

import pytest
from hand_prices import (
    ARM_GB_S,
    DDB_GB_MONTH,
    DDB_WRITE_PER_M,
    GB,
    KMS_PER_10K,
    LAMBDA_REQUEST_PER_M,
    LOG_GB_MONTH,
    LOG_INGEST_GB,
    MONTH_DAYS,
    S3_GB_MONTH,
    S3_PUT_PER_1000,
    SQS_STANDARD_PER_M,
    X86_GB_S,
    M,
    figures,
    powertools_emf_line,
    retained,
)

from costmodel.estimate import load_model
from costmodel.levers import LOG_RETENTION_DAYS, levers

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


def test_batch_100_saves_invocations_and_half_empty_receives(prod, by_name):
    # prod queues at batch 10, their service names and messages a month: processor 6M,
    # notification 2M, orders fulfilment 0.8M, inventory fulfilment 2.7M (+30 reconcile events)
    queues = {
        "orders-processor": 6 * M, "orders-notification": 2 * M,
        "orders-fulfillment": 0.8 * M, "inventory-fulfillment": 2.7 * M + 30,
    }
    saving = 0.0
    functions = prod.topology.functions
    for service, events in queues.items():
        function = functions[f"prod-{service}"]
        on = figures(function.handler, function.environment).metrics_on  # an EMF line, if published
        messages = events * (1 + DUP) * (1 + FAIL)
        before, after = messages / (10 * FILL), messages / (100 * FILL)  # invocations
        # each invocation logs 700 B and one EMF metrics line (its record counts: 6 vs 60)
        log_before = before * (700 + (powertools_emf_line("eda/prod", service, 6) if on else 0)) / GB
        log_after = after * (700 + (powertools_emf_line("eda/prod", service, 60) if on else 0)) / GB
        log_gb = log_before - log_after
        saving += (
            (before - after) / M * LAMBDA_REQUEST_PER_M
            + (before - after) * 0.120 * 0.25 * ARM_GB_S
            + log_gb * LOG_INGEST_GB
            + retained(log_gb, 90) * LOG_GB_MONTH
        )
        # SQS: a batch of 6 takes one receive and one delete; a batch of 60 takes 6 of each
        # (10 messages a call), so 60 messages cost 6 calls instead of 10
        saving += 2 * (before * 1 - after * 6) / M * SQS_STANDARD_PER_M
    assert by_name["batch size 100"].monthly_saving == pytest.approx(saving)


def test_batching_saves_money_so_batch_1_costs_more(by_name):
    assert by_name["batch size 1"].monthly_saving < -10


def test_single_conditional_write_drops_powertools_second_write(prod, by_name):
    # events a month of the consumers that may guard with Powertools: notification 2M, orders
    # fulfilment 0.8M, inventory fulfilment 2.7M; those whose catalogue entry is Powertools count
    events = {"orders-notification": 2 * M, "orders-fulfillment": 0.8 * M, "inventory-fulfillment": 2.7 * M + 30}
    functions = prod.topology.functions
    unique = sum(
        n for service, n in events.items()
        if figures(functions[f"prod-{service}"].handler, functions[f"prod-{service}"].environment).idempotency
        == "powertools"
    )
    # one write unit less per event, and per failed attempt (which wrote as an event would)
    fewer_writes = unique + unique * (1 + DUP) * FAIL
    assert by_name["conditional-write idempotency"].monthly_saving == pytest.approx(
        fewer_writes / M * DDB_WRITE_PER_M
    )


def test_sse_sqs_removes_only_the_queue_key_requests(by_name):
    lever = by_name["SSE-SQS queues"]
    # B/D × (2P + C) for each polled customer-key queue: the audit consumer's FIFO queue and
    # the staging queue its pipe polls
    requests = 2 * 730 * 3_600 / 300 * (2 * 1 + 1)
    assert lever.monthly_saving == pytest.approx(requests / 10_000 * KMS_PER_10K)
    assert "prod-payments-audit.fifo" in lever.detail
    assert "prod-payments-audit-staging.fifo" in lever.detail


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
        + sum(n * (size + 100) for n, size in mix) / GB * months * DDB_GB_MONTH
    )
    s3 = (
        events / 1_000 * S3_PUT_PER_1000
        + sum(n * size for n, size in mix) / GB * months * S3_GB_MONTH
    )
    assert by_name["cold events in S3"].monthly_saving == pytest.approx(ddb - s3)
