"""The estimate against hand pricing, one billing fact at a time (issue #13).

One small stack run through the real program: an order processor (one item per order), a
fulfillment consumer that hands off by event, an audit logger behind a per-entity FIFO queue
(staging queue → EventBridge Pipe → FIFO queue) writing one S3 object per event, and analytics
in batches of 100. Prices and billing facts come from hand_prices (reference/aws-prices.md), the
quantities from the stack below, typed here; nothing is read back from the catalogue.
"""

from __future__ import annotations

import copy
import dataclasses
import math

import pytest
from hand_prices import (
    ARCHIVE_GB,
    ARCHIVE_GB_MONTH,
    DASHBOARD_MONTH,
    DDB_GB_MONTH,
    DDB_PITR_GB_MONTH,
    FREE_METRICS,
    GB,
    LOG_GB_MONTH,
    METRIC_MONTH,
    MONTH_DAYS,
    PIPES_PER_M,
    S3_GB_MONTH,
    S3_GET_PER_1000,
    S3_PUT_PER_1000,
    SQS_FIFO_PER_M,
    SQS_STANDARD_PER_M,
    VENDED_LOG_TIERS,
    M,
    figures,
    handoff_event_bytes,
    powertools_emf_line,
    retained,
    sample_event,
    tiered,
)

from costmodel import whatif
from costmodel.catalogue import load_catalogue
from costmodel.coverage import COVERAGE
from costmodel.estimate import load_model, price
from costmodel.resources import Resource, from_offline
from costmodel.scenarios import cli_config, model_from_values
from costmodel.topology import Dashboard, build
from costmodel.usage import Usage
from handlers.catalog import CUSTOM_METRICS_VARIABLE
from settings.load import parse

DUP, FAIL, LOG_BYTES = 0.02, 0.1, 500
LOG_DAYS, ARCHIVE_DAYS, EXPIRE_DAYS = 7, 365, 400
WINDOW_DAYS = 4 + 14  # queue retention (default 4 days) + DLQ retention
NONCURRENT_DAYS = 30  # the bucket's lifecycle keeps an expired (noncurrent) version 30 days
UPDATED = {"orderId": "o-1", "version": 2, "status": "SHIPPED"}

EXACT = {
    "aws:region": "us-east-1",
    "eda-platform:retention": {
        "log_days": LOG_DAYS,
        "archive_days": ARCHIVE_DAYS,
        "dlq_days": 14,
        "bucket_expire_after_days": EXPIRE_DAYS,
    },
    "eda-platform:assumptions": {
        "duplicate_rate": DUP,
        "failure_rate": FAIL,
        "batch_fill": 1,
        "idle_receives_per_minute": 0,
        "log_bytes_per_invocation": LOG_BYTES,
    },
    "eda-platform:domains": {
        "orders": {
            "source": "com.ascendion.orders",
            "event_types": {
                "OrderCreated": {"monthly_volume": 1 * M, "avg_size_bytes": 2000},
                "OrderUpdated": {
                    "monthly_volume": 3 * M,
                    "avg_size_bytes": 800,
                    "samples": [{"share": 1, "detail": UPDATED}],
                },
            },
            "consumers": {
                "processor": {
                    "handler": "order_processor",
                    "subscribe": {"detail_types": ["OrderCreated", "OrderUpdated"]},
                    "idempotency_key": "[detail.orderId, detail.version]",
                },
                "fulfillment": {
                    "handler": "fulfillment",
                    "subscribe": {"detail_types": ["OrderUpdated"]},
                    "idempotency_key": "[detail.orderId, detail.version]",
                },
            },
        },
        "payments": {
            "source": "com.ascendion.payments",
            "event_types": {"PaymentAuthorized": {"monthly_volume": 2 * M, "avg_size_bytes": 700}},
            "consumers": {
                "audit": {
                    "handler": "audit_logger",
                    "subscribe": {"detail_types": ["PaymentAuthorized"]},
                    "idempotency_key": "[detail.paymentId, detail.sequence]",
                    "queue": {
                        "kind": "fifo",
                        "message_group_path": "$.detail.paymentId",
                        "encryption": "kms",
                    },
                },
                "analytics": {
                    "handler": "analytics",
                    "subscribe": {"pattern": {"detail-type": [{"prefix": "Payment"}]}},
                    "idempotency_key": "[detail.paymentId, detail.sequence]",
                    "batch_size": 100,
                    "batching_window_s": 5,
                },
            },
        },
    },
}

# Invocations a month (batch_fill 1): deliveries × (1 + dup) × (1 + failed) ÷ batch size
INVOCATIONS = {
    "orders-processor": 4 * M * 1.02 * 1.1 / 10,
    "orders-fulfillment": 3 * M * 1.02 * 1.1 / 10,
    "payments-audit": 2 * M * 1.02 * 1.1 / 10,
    "payments-analytics": 2 * M * 1.02 * 1.1 / 100,
}
BATCH = {"orders-processor": 10, "orders-fulfillment": 10, "payments-audit": 10, "payments-analytics": 100}


@pytest.fixture(scope="module")
def model():
    return model_from_values("exact", EXACT, origin="test_exact.EXACT")


@pytest.fixture(scope="module")
def estimate(model):
    return model.estimate()


def line(estimate, resource, component, service=None):
    (item,) = [
        i for i in estimate.items
        if (i.resource, i.component) == (resource, component) and service in (None, i.service)
    ]
    return item


def cost(estimate, price_item):
    return sum(i.monthly_cost for i in estimate.items if i.price_item == price_item)


def does(model, service):
    """What the function `exact-<service>` does per event: its handler's catalogue entry."""
    function = model.topology.functions[f"exact-{service}"]
    return figures(function.handler, function.environment)


def emf(model, service):
    """Bytes of the EMF metrics line its runtime prints per batch (0 when it publishes none)."""
    on = does(model, service).metrics_on
    return powertools_emf_line("eda/exact", service, BATCH[service]) if on else 0


def handoff_gb():
    trigger = sample_event("com.ascendion.orders", "OrderUpdated", UPDATED)
    return 3 * M * handoff_event_bytes(trigger, "com.ascendion.orders") / GB


# -- 1. a GB is 2^30 bytes --------------------------------------------------------------------


def test_every_gigabyte_line_divides_by_2_to_the_30(model, estimate):
    orders_gb = (1 * M * 2000 + 3 * M * 800) * (1 + DUP) / GB + handoff_gb()
    assert line(estimate, "exact-orders", "archive: events processed").quantity == pytest.approx(orders_gb)
    payments_gb = 2 * M * 700 * (1 + DUP) / GB
    assert line(estimate, "exact-payments", "archive: events processed").quantity == pytest.approx(payments_gb)
    log_gb = INVOCATIONS["orders-processor"] * (LOG_BYTES + emf(model, "orders-processor")) / GB
    assert line(estimate, "exact-orders-processor", "ingestion").quantity == pytest.approx(log_gb)
    guards = 2 * M * 300 / GB  # analytics: one guard item of ~300 B per payment
    assert line(estimate, "exact-payments-analytics", "storage (idempotency window)").quantity == (
        pytest.approx(retained(guards, WINDOW_DAYS))
    )
    objects = 2 * M * (700 + 1) / GB  # the event's JSON and a newline
    assert line(estimate, "exact-payments-audit", "storage (steady state)", "S3").quantity == (
        pytest.approx(retained(objects, EXPIRE_DAYS + NONCURRENT_DAYS))
    )


# -- 2. custom metrics and dashboards ------------------------------------------------------------


def metrics_on(model):
    """The model with every function publishing its custom metrics (CUSTOM_METRICS=on)."""
    on = dataclasses.replace(model, topology=copy.deepcopy(model.topology))
    for function in on.topology.functions.values():
        function.environment[CUSTOM_METRICS_VARIABLE] = "on"
    return on


def test_each_metric_name_and_dimension_set_is_a_custom_metric(model, estimate):
    # Records, Records<Outcome> per outcome, RecordsFailed, RecordsPoison, RecordsSkipped, each
    # with dimension service (handlers/runtime/consumer.py): per function, its handler's names
    for service in INVOCATIONS:  # off by default: the function publishes none
        assert does(model, service).metrics == 0
        assert not [i for i in estimate.items if (i.resource, i.component) == (f"exact-{service}", "custom metrics (EMF)")]
    assert cost(estimate, "cloudwatch.metric.custom") == 0
    model = metrics_on(model)
    estimate = model.estimate()
    total = 0
    for service in INVOCATIONS:
        count = does(model, service).metrics
        items = [i for i in estimate.items if (i.resource, i.component) == (f"exact-{service}", "custom metrics (EMF)")]
        (item,) = items
        assert count > 0 and item.quantity == count and f"service={service}" in item.formula
        total += count
    assert cost(estimate, "cloudwatch.metric.custom") == pytest.approx(total * METRIC_MONTH)
    free = dataclasses.replace(model, free_tier=True).estimate()
    assert cost(free, "cloudwatch.metric.custom") == pytest.approx(
        max(0, total - FREE_METRICS) * METRIC_MONTH
    )


def test_dashboards_cost_3_dollars_each_beyond_the_first_three(model, estimate):
    assert line(estimate, "exact-alarms", "dashboards").quantity == 2  # one per domain
    assert cost(estimate, "cloudwatch.dashboard") == 0
    more = dataclasses.replace(model, topology=copy.deepcopy(model.topology))
    more.topology.dashboards += [Dashboard(f"extra-{n}", 6) for n in range(3)]
    assert cost(more.estimate(), "cloudwatch.dashboard") == pytest.approx(2 * DASHBOARD_MONTH)
    assert not [w for w in estimate.warnings if "dashboard" in w]  # priced, not warned about


# -- 3. storage: steady state under the retention, first month beside it -------------------------


@pytest.mark.parametrize(
    ("resource", "component", "monthly_gb", "days"),
    [
        # archive: 365 days, longer than a month: the first month averages half its inflow
        ("exact-payments", "archive: storage (steady state)", 2 * M * 700 * (1 + DUP) / GB, ARCHIVE_DAYS),
        # logs: 7 days, shorter than a month
        (
            "exact-payments-audit",
            "storage (steady state)",
            None,
            LOG_DAYS,
        ),
        ("exact-orders-processor", "storage (idempotency window)", 1 * M * 300 / GB, WINDOW_DAYS),
    ],
)
def test_storage_is_steady_state_with_the_first_month_alongside(
    model, estimate, resource, component, monthly_gb, days
):
    items = [
        i for i in estimate.items
        if (i.resource, i.component) == (resource, component)
        and (monthly_gb is not None or i.service == "CloudWatch Logs")
    ]
    (item,) = items
    if monthly_gb is None:  # the audit function's logs
        monthly_gb = INVOCATIONS["payments-audit"] * (LOG_BYTES + emf(model, "payments-audit")) / GB
    assert item.quantity == pytest.approx(retained(monthly_gb, days))
    month = MONTH_DAYS
    per_day = monthly_gb / month
    first = monthly_gb / 2 if days >= month else per_day * (days - days**2 / (2 * month))
    assert item.first_month_quantity == pytest.approx(first)
    assert item.first_month_cost < item.monthly_cost


def test_s3_storage_is_bounded_by_the_bucket_expiry_and_puts_count_retries(model, estimate):
    objects_gb = 2 * M * 701 / GB
    storage = line(estimate, "exact-payments-audit", "storage (steady state)", "S3")
    assert storage.monthly_cost == pytest.approx(
        retained(objects_gb, EXPIRE_DAYS + NONCURRENT_DAYS) * S3_GB_MONTH
    )
    assert storage.first_month_quantity == pytest.approx(objects_gb / 2)
    # the handler's PUTs per event (retries PUT again) and per duplicate (rejected, still
    # billed), or per batch; a HEAD per duplicate where it reads the stored hash
    audit = does(model, "payments-audit")
    events, duplicates, retries = 2 * M, 2 * M * DUP, 2 * M * (1 + DUP) * FAIL
    expected = (
        (events + retries) * audit.puts + duplicates * audit.duplicate_puts
        + INVOCATIONS["payments-audit"] * audit.batch_puts
    )
    puts = line(estimate, "exact-payments-audit", "PUT requests")
    assert puts.quantity == pytest.approx(expected)
    assert puts.monthly_cost == pytest.approx(expected / 1000 * S3_PUT_PER_1000)
    # Shipped: one object per Lambda batch, no PUT per event.
    assert (audit.puts, audit.batch_puts) == (0, 1)
    assert expected == pytest.approx(INVOCATIONS["payments-audit"])
    heads = [i for i in estimate.items if i.component == "HEAD (duplicates)"]
    assert sum(i.monthly_cost for i in heads) == pytest.approx(
        duplicates * audit.duplicate_heads / 1000 * S3_GET_PER_1000
    )


def test_the_first_month_total_differs_only_by_storage(estimate):
    storage = [i for i in estimate.items if i.first_month_cost is not None]
    assert {i.price_item for i in storage} == {
        "eventbridge.archive.storage", "logs.storage", "dynamodb.storage", "dynamodb.pitr",
        "s3.standard.storage",
    }
    saved = sum(i.monthly_cost - i.first_month_cost for i in storage)
    assert estimate.first_month_total == pytest.approx(estimate.total - saved)


# -- 4. the archive takes the consumers' hand-off events -----------------------------------------


def test_the_archive_includes_hand_off_events_put_on_the_same_bus(estimate):
    producers_gb = (1 * M * 2000 + 3 * M * 800) * (1 + DUP) / GB
    archived = line(estimate, "exact-orders", "archive: events processed")
    assert archived.monthly_cost == pytest.approx((producers_gb + handoff_gb()) * ARCHIVE_GB)
    stored = line(estimate, "exact-orders", "archive: storage (steady state)")
    assert stored.monthly_cost == pytest.approx(
        retained(producers_gb + handoff_gb(), ARCHIVE_DAYS) * ARCHIVE_GB_MONTH
    )
    assert line(estimate, "exact-orders-fulfillment", "follow-up events put").quantity == 3 * M


# -- 6. one item per entity ----------------------------------------------------------------------


def test_the_order_processor_keeps_one_item_per_order_not_per_event(model, estimate):
    # costmodel/assumptions.yaml: every OrderCreated is a new order, OrderUpdated changes one
    item = line(estimate, "exact-orders-processor", "storage (idempotency window)")
    assert item.quantity == pytest.approx(retained(1 * M * 300 / GB, WINDOW_DAYS))
    half = whatif.assume(model, [("entity_keys.orders.OrderUpdated", 0.5)]).estimate()
    item = line(half, "exact-orders-processor", "storage (idempotency window)")
    assert item.quantity == pytest.approx(retained(2.5 * M * 300 / GB, WINDOW_DAYS))
    # a stack config that states its own figure takes precedence over costmodel/assumptions.yaml
    values = copy.deepcopy(EXACT)
    orders = values["eda-platform:domains"]["orders"]["event_types"]
    orders["OrderUpdated"]["entity_keys_per_event"] = 0.5
    stated = dataclasses.replace(model, config=parse(values, stack="exact", origin="test"))
    for variant in (stated, whatif.assume(stated, [("entity_keys.orders.OrderUpdated", 0)])):
        item = line(variant.estimate(), "exact-orders-processor", "storage (idempotency window)")
        assert item.quantity == pytest.approx(retained(2.5 * M * 300 / GB, WINDOW_DAYS))
    # the table's continuous backups follow its size
    pitr = line(estimate, "exact-idempotency", "point-in-time recovery")
    stored = sum(
        i.quantity for i in estimate.items if i.price_item == "dynamodb.storage"
    )
    assert pitr.monthly_cost == pytest.approx(stored * DDB_PITR_GB_MONTH)
    assert cost(estimate, "dynamodb.storage") == pytest.approx(stored * DDB_GB_MONTH)


# -- 7. Lambda's logs are vended logs, tiered ----------------------------------------------------


def test_vended_log_tiers_apply_to_the_account_total():
    current = load_catalogue("aws-current", "us-east-1")
    usages = [
        Usage("CloudWatch Logs", f, "d", "ingestion", "logs.ingestion.vended", 20 * 1024, 0, "")
        for f in ("a", "b")
    ]
    costs = price(usages, current, False, 1.0)
    assert sum(costs) == pytest.approx(tiered(40 * 1024, VENDED_LOG_TIERS))  # $11,264
    assert sum(costs) == pytest.approx(10_240 * 0.50 + 20_480 * 0.25 + 10_240 * 0.10)
    assert costs[0] == pytest.approx(costs[1])


def test_function_logs_are_priced_as_vended_logs(model, estimate):
    assert cost(estimate, "logs.ingestion") == 0
    ingested = sum(INVOCATIONS[s] * (LOG_BYTES + emf(model, s)) / GB for s in INVOCATIONS)
    assert cost(estimate, "logs.ingestion.vended") == pytest.approx(tiered(ingested, VENDED_LOG_TIERS))
    assert cost(estimate, "logs.storage") == pytest.approx(retained(ingested, LOG_DAYS) * LOG_GB_MONTH)


# -- 12. rule → staging queue → pipe → FIFO queue -----------------------------------------------


def test_the_fifo_consumer_receives_its_volume_through_the_pipe(estimate):
    staging, consumer = "exact-payments-audit-staging.fifo", "exact-payments-audit.fifo"
    messages = 2 * M * (1 + DUP)
    assert line(estimate, staging, "send").quantity == pytest.approx(messages)
    # the pipe polls in batches of 10 (full), one receive and one delete per batch
    assert line(estimate, staging, "receive (batched)").quantity == pytest.approx(messages / 10)
    assert line(estimate, staging, "delete (batched)").quantity == pytest.approx(messages / 10)
    pipe = line(estimate, "exact-payments-audit-grouping", "requests")
    assert pipe.monthly_cost == pytest.approx(messages / M * PIPES_PER_M)
    assert line(estimate, consumer, "send").quantity == pytest.approx(messages)
    assert line(estimate, consumer, "receive (batched)").quantity == pytest.approx(messages * 1.1 / 10)
    staging_requests = messages + 2 * messages / 10  # sends, receives and deletes
    consumer_requests = messages + 2 * messages * 1.1 / 10  # Lambda's retries receive again
    fifo = staging_requests + consumer_requests
    assert cost(estimate, "sqs.fifo.requests") == pytest.approx(fifo / M * SQS_FIFO_PER_M)
    assert line(estimate, "exact-payments-audit", "requests").quantity == pytest.approx(
        INVOCATIONS["payments-audit"]
    )


def test_a_standard_staging_queue_is_followed_the_same_way():
    """The pipe's source and target are queue ARNs, followed like an event source mapping,
    whatever kind the staging queue is."""
    values = cli_config(EXACT)
    resources = [
        dataclasses.replace(r, inputs={**r.inputs, "fifoQueue": False})
        if r.type == "aws:sqs/queue:Queue" and r.name == "exact-payments-audit-staging.fifo"
        else r
        for r in from_offline("exact", config=values)
    ]
    config = parse(EXACT, stack="exact", origin="test_exact.EXACT")
    estimate = load_model("exact", config=config, resources=resources).estimate()
    staging = [i for i in estimate.items if i.resource == "exact-payments-audit-staging.fifo"]
    sqs = [i for i in staging if i.service == "SQS"]
    assert {i.price_item for i in sqs} == {"sqs.standard.requests"}
    messages = 2 * M * (1 + DUP)
    assert sum(i.monthly_cost for i in sqs) == pytest.approx(
        (messages + 2 * messages / 10) / M * SQS_STANDARD_PER_M
    )
    assert line(estimate, "exact-payments-audit.fifo", "send").quantity == pytest.approx(messages)


def test_every_declared_type_is_priced_free_or_not_priced_with_a_reason(estimate):
    types = {row.type: row for row in estimate.coverage}
    assert set(types) <= set(COVERAGE)  # no type the model does not know
    assert types["aws:pipes/pipe:Pipe"].status == "priced"
    assert types["aws:iam/role:Role"].status == "free"
    for row in estimate.coverage:
        assert row.count > 0 and row.reason
    not_priced = [row for row in estimate.coverage if row.status == "not priced"]
    assert all(f"{row.count} × {row.type}" in " ".join(estimate.not_priced) for row in not_priced)


def test_an_unknown_resource_type_is_listed_as_not_priced(model):
    stranger = Resource("x::cache", "aws:elasticache/cluster:Cluster", "cache", {}, {})
    variant = dataclasses.replace(model, topology=copy.deepcopy(model.topology))
    variant.topology.declared.update(build([stranger]).declared)
    estimate = variant.estimate()
    (row,) = [r for r in estimate.coverage if r.type == "aws:elasticache/cluster:Cluster"]
    assert row.status == "not priced" and "does not know" in row.reason
    assert any(line.startswith("1 × aws:elasticache/cluster:Cluster") for line in estimate.not_priced)


def test_the_shipped_stacks_declare_nothing_unknown():
    for stack in ("dev", "prod"):
        estimate = load_model(stack).estimate()
        unknown = [r.type for r in estimate.coverage if "does not know" in r.reason]
        assert unknown == [], stack
        assert math.isclose(estimate.total, sum(i.monthly_cost for i in estimate.items))
