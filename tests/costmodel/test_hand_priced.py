"""Whole stacks priced by hand, per service, within 1 %.

Each stack is described here by hand from its stack file (volumes, sizes, which consumer gets
which events, batch sizes, retention) and priced with AWS's published prices (hand_prices,
typed from reference/aws-prices.md), through the billing facts one line each: SQS calls carry at
most 10 messages, a GB is 2^30 bytes, storage is the steady state under its retention, Lambda's
logs are vended logs, free allowances come off the account's totals. What the program and the
handlers declare is read from them, never from the cost model: counts of declared resources
(alarms, topics), each function's environment, and what its handler does per event
(handlers.catalog: write units, S3 requests, custom metrics). The estimate must agree per
service within 1 %.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import pytest
from hand_prices import (
    ALARM_MONTH,
    ARCHIVE_GB,
    ARCHIVE_GB_MONTH,
    ARM_GB_S,
    DDB_GB_MONTH,
    DDB_PITR_GB_MONTH,
    DDB_READ_PER_M,
    DDB_WRITE_PER_M,
    EVENTBRIDGE_PER_M,
    FREE_ALARMS,
    FREE_DDB_GB,
    FREE_KMS_REQUESTS,
    FREE_LAMBDA_GB_S,
    FREE_LAMBDA_REQUESTS,
    FREE_LOG_GB,
    FREE_METRICS,
    FREE_SCHEDULER,
    FREE_SNS_PUBLISHES,
    FREE_SQS_REQUESTS,
    GB,
    KMS_KEY_MONTH,
    KMS_PER_10K,
    LAMBDA_REQUEST_PER_M,
    LOG_GB_MONTH,
    LOG_INGEST_GB,
    METRIC_MONTH,
    MONTH_DAYS,
    MONTH_MIN,
    MONTH_S,
    PIPES_PER_M,
    S3_GB_MONTH,
    S3_GET_PER_1000,
    S3_PUT_PER_1000,
    SCHEDULER_PER_M,
    SNS_PUBLISH_PER_M,
    SQS_FIFO_PER_M,
    SQS_STANDARD_PER_M,
    X86_GB_S,
    M,
    figures,
    handoff_event_bytes,
    powertools_emf_line,
    sample_event,
)

from costmodel.scenarios import model_from_values, scenario_model
from offline.program import stack_config
from tests.cross_domain import from_cli, without_domains

# The domains the figures below price by hand. A domain a user adds to a stack file is left out
# (with the feeds other consumers take from it), so it cannot break these sums; a change to one of
# these domains does, as it should: the hand figures then need the same change.
HAND_PRICED = ("orders", "payments", "inventory")


def shipped_model(stack: str):
    """The stack file's model, restricted to the domains priced by hand."""
    values = from_cli(stack_config(stack))
    domains = values["eda-platform:domains"]
    values["eda-platform:domains"] = without_domains(domains, set(domains) - set(HAND_PRICED))
    return model_from_values(stack, values, origin=f"Pulumi.{stack}.yaml ({', '.join(HAND_PRICED)})")


@dataclass
class Consumer:
    service: str  # <domain>-<consumer>: Powertools' service and the function's name suffix
    handler: str
    events: float  # unique events a month it receives
    batch: int = 10
    fifo: bool = False
    staged: bool = False  # behind a staging FIFO queue and a pipe
    kms: bool = False  # its queues on the customer key
    keys: float | None = None  # items a month in its store (default: one per event)
    object_bytes: float = 0  # audit: the event JSON + newline
    handoff: tuple[float, float] = (0, 0)  # hand-off events a month, their bytes


@dataclass
class Stack:
    name: str
    dup: float = 0.01
    fail: float = 0.02
    fill: float = 0.6
    idle: float = 12
    log_bytes: int = 700
    log_days: float = 14
    archive_days: float = 30
    window_days: float = 18
    object_days: float = 365 + 30  # bucket expiry + 30 days as a noncurrent version
    memory_gb: float = 0.25
    duration_s: float = 0.120
    x86: bool = False
    buses: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # (events, bytes)
    topic_events: float = 0  # events EventBridge publishes to SNS topics
    notifications: float = 0  # SNS publishes by the notification consumer
    consumers: list[Consumer] = field(default_factory=list)
    alarms: int = 0
    dashboards: int = 0
    topics_and_tables: int = 0  # resources on the platform key (KMS requests)
    schedule_runs: float = 0
    free_tier: bool = False
    prices: dict[str, float] = field(default_factory=dict)  # overrides (the seed preset)
    # function name -> its environment, from the program: which catalogue entry it runs
    environments: dict[str, dict[str, str]] = field(default_factory=dict)


def months(days):
    return days / MONTH_DAYS


def hand_bill(s: Stack) -> dict[str, float]:
    """Monthly USD per service, by hand."""
    p = {
        "eventbridge": EVENTBRIDGE_PER_M, "sqs": SQS_STANDARD_PER_M, "lambda_request": LAMBDA_REQUEST_PER_M,
        "gb_s": X86_GB_S if s.x86 else ARM_GB_S, "ddb_write": DDB_WRITE_PER_M, **s.prices,
    }
    q: dict[str, float] = {}  # quantities a month per price item

    def add(item, quantity):
        q[item] = q.get(item, 0) + quantity

    stored_gb = 0.0
    for bus, events in s.buses.items():
        put = sum(n for n, _ in events) * (1 + s.dup)
        archived = sum(n * size for n, size in events) * (1 + s.dup) / GB
        archived += sum(c.handoff[0] * c.handoff[1] for c in s.consumers if c.service.startswith(bus)) / GB
        add("events", put)
        add("archive_gb", archived)
        add("archive_gb_month", archived * months(s.archive_days))
    add("sns_publish", s.topic_events * (1 + s.dup) + s.notifications)
    for c in s.consumers:
        arrivals = c.events * (1 + s.dup)
        attempts = arrivals * (1 + s.fail)
        per_batch = max(1, c.batch * s.fill)
        invocations = attempts / per_batch
        calls = invocations * math.ceil(per_batch / 10)
        queue = "sqs_fifo" if c.fifo else "sqs_standard"
        add(queue, arrivals + 2 * calls + s.idle * MONTH_MIN)
        if c.staged:  # the staging FIFO queue, polled by the pipe in batches of 10
            staging_batch = 10 * s.fill
            add("sqs_fifo", arrivals + 2 * arrivals / staging_batch * math.ceil(staging_batch / 10) + s.idle * MONTH_MIN)
            add("pipes", arrivals)
        add("kms_requests", (2 if c.staged else 1) * MONTH_S / 300 * 3 if c.kms else 0)
        add("lambda_requests", invocations)
        add("gb_s", invocations * s.duration_s * s.memory_gb)
        does = figures(c.handler, s.environments.get(f"{s.name}-{c.service}", {}))
        emf = powertools_emf_line(f"eda/{s.name}", c.service, per_batch) if does.metrics_on else 0
        log_gb = invocations * (s.log_bytes + emf) / GB
        add("log_gb", log_gb)
        add("log_gb_month", log_gb * months(s.log_days))
        add("metrics", does.metrics)
        duplicates, failed = arrivals - c.events, attempts - arrivals
        add("ddb_writes", c.events * does.writes + duplicates * does.duplicate_writes + failed * does.writes)
        add("ddb_reads", c.events * does.reads + duplicates * does.duplicate_reads + failed * does.reads)
        if does.writes or does.duplicate_writes:
            gb_months = (c.keys if c.keys is not None else c.events) * 300 / GB * months(s.window_days)
            add("ddb_gb_month", gb_months)
            stored_gb += gb_months
        if c.handler == "audit_logger":
            add("s3_put", (c.events + failed) * does.puts + duplicates * does.duplicate_puts + invocations * does.batch_puts)
            add("s3_head", duplicates * does.duplicate_heads)
            add("s3_gb_month", c.events * c.object_bytes / GB * months(s.object_days))
        add("events", c.handoff[0])
    add("ddb_pitr", stored_gb)
    add("kms_requests", s.topics_and_tables * 2 * MONTH_S / 300)
    add("alarms", s.alarms)
    add("scheduler", s.schedule_runs)

    def free(item, allowance):
        return min(q.get(item, 0), allowance) if s.free_tier else 0

    sqs_total = q.get("sqs_standard", 0) + q.get("sqs_fifo", 0)
    sqs_free = min(sqs_total, FREE_SQS_REQUESTS) if s.free_tier else 0
    standard_free = sqs_free * q.get("sqs_standard", 0) / sqs_total if sqs_total else 0
    return {
        "EventBridge": (
            q["events"] * p["eventbridge"] / M + q["archive_gb"] * ARCHIVE_GB
            + q["archive_gb_month"] * ARCHIVE_GB_MONTH
        ),
        "EventBridge Pipes": q.get("pipes", 0) * PIPES_PER_M / M,
        "EventBridge Scheduler": (q["scheduler"] - free("scheduler", FREE_SCHEDULER)) * SCHEDULER_PER_M / M,
        "SQS": (
            (q.get("sqs_standard", 0) - standard_free) * p["sqs"] / M
            + (q.get("sqs_fifo", 0) - (sqs_free - standard_free)) * SQS_FIFO_PER_M / M
        ),
        "SNS": (q["sns_publish"] - free("sns_publish", FREE_SNS_PUBLISHES)) * SNS_PUBLISH_PER_M / M,
        "Lambda": (
            (q["lambda_requests"] - free("lambda_requests", FREE_LAMBDA_REQUESTS)) * p["lambda_request"] / M
            + (q["gb_s"] - free("gb_s", FREE_LAMBDA_GB_S)) * p["gb_s"]
        ),
        "CloudWatch Logs": (
            (q["log_gb"] - free("log_gb", FREE_LOG_GB)) * LOG_INGEST_GB + q["log_gb_month"] * LOG_GB_MONTH
        ),
        "CloudWatch": (
            (q["alarms"] - free("alarms", FREE_ALARMS)) * ALARM_MONTH
            + (q["metrics"] - free("metrics", FREE_METRICS)) * METRIC_MONTH
            + max(0, s.dashboards - 3) * 3.00
        ),
        "DynamoDB": (
            q["ddb_writes"] * p["ddb_write"] / M + q["ddb_reads"] * DDB_READ_PER_M / M
            + (q.get("ddb_gb_month", 0) - free("ddb_gb_month", FREE_DDB_GB)) * DDB_GB_MONTH
            + q["ddb_pitr"] * DDB_PITR_GB_MONTH
        ),
        "S3": (
            q.get("s3_put", 0) / 1000 * S3_PUT_PER_1000 + q.get("s3_head", 0) / 1000 * S3_GET_PER_1000
            + q.get("s3_gb_month", 0) * S3_GB_MONTH
        ),
        "KMS": KMS_KEY_MONTH + (q["kms_requests"] - free("kms_requests", FREE_KMS_REQUESTS)) / 10_000 * KMS_PER_10K,
    }


def handoff(events, source, detail_type, detail):
    """(events, bytes) of the follow-ups the real fulfillment handler puts for them."""
    return events, handoff_event_bytes(sample_event(source, detail_type, detail), source)


# The schemas' example values, which the estimate uses for content it does not know.
INVENTORY = {"movementId": "sample", "sku": "sample", "warehouseId": "sample", "orderId": "sample", "quantity": 1, "occurredAt": "2026-01-01T00:00:00Z"}
CONFIRMED = {"orderId": "sample", "version": 2, "status": "CONFIRMED", "customerEmail": "sample", "updatedAt": "2026-01-01T00:00:00Z"}


def shipped_stack(name: str, volumes: dict[str, float], **overrides) -> Stack:
    """dev and prod share the topology (Pulumi.<stack>.yaml) at their own volumes."""
    v = volumes
    orders = v["OrderCreated"] + v["OrderUpdated"]
    payments = v["PaymentAuthorized"] + v["PaymentCaptured"] + v["PaymentRefunded"]
    inventory = v["InventoryReserved"] + v["InventoryDepleted"] + 30  # + the nightly reconcile
    inv_handoffs = (
        handoff(v["InventoryReserved"], "com.ascendion.inventory", "InventoryReserved", INVENTORY)[1] * v["InventoryReserved"]
        + handoff(v["InventoryDepleted"], "com.ascendion.inventory", "InventoryDepleted", INVENTORY)[1] * v["InventoryDepleted"]
        + 15 * handoff(15, "com.ascendion.inventory", "InventoryReconcileRequested", {"movementId": "sample", "scope": "all"})[1]
        + 15 * handoff(15, "com.ascendion.inventory", "InventoryReconcileRequested", {"movementId": "sample", "scope": "stale-reservations"})[1]
    )
    confirmed = v["OrderUpdated"] / 5  # status CONFIRMED: 1 of the schema's 5 statuses
    audit = overrides.pop("audit", {})
    # dev routes orders' consumers through the order-lifecycle topic; prod routes them by rules.
    topic_events = overrides.pop("topic_events", orders)
    return Stack(
        name=name,
        buses={
            "orders": [(v["OrderCreated"], 1500), (v["OrderUpdated"], 600)],
            "payments": [(payments, 500)],
            "inventory": [(v["InventoryReserved"] + v["InventoryDepleted"], 400), (30, 200)],
        },
        topic_events=topic_events,
        notifications=v["OrderCreated"],
        consumers=[
            Consumer("orders-processor", "order_processor", orders, keys=v["OrderCreated"]),
            Consumer("orders-notification", "notification_sender", v["OrderCreated"]),
            Consumer("orders-analytics", "analytics", orders, batch=100),
            Consumer(
                "orders-fulfillment", "fulfillment", confirmed,
                handoff=handoff(confirmed, "com.ascendion.orders", "OrderUpdated", CONFIRMED),
            ),
            Consumer("payments-analytics", "analytics", payments, batch=100),
            Consumer("payments-audit", "audit_logger", payments, fifo=True, staged=True, object_bytes=501, **audit),
            Consumer(
                "inventory-fulfillment", "fulfillment", inventory,
                handoff=(inventory, inv_handoffs / inventory),
            ),
        ],
        dashboards=3,
        schedule_runs=MONTH_DAYS,  # cron(0 2 * * ? *): once a day
        **overrides,
    )


PROD = {
    "OrderCreated": 2 * M, "OrderUpdated": 4 * M, "PaymentAuthorized": 1.5 * M,
    "PaymentCaptured": 1.4 * M, "PaymentRefunded": 0.1 * M, "InventoryReserved": 2.5 * M,
    "InventoryDepleted": 0.2 * M,
}
DEV = {
    "OrderCreated": 200_000, "OrderUpdated": 400_000, "PaymentAuthorized": 150_000,
    "PaymentCaptured": 140_000, "PaymentRefunded": 10_000, "InventoryReserved": 300_000,
    "InventoryDepleted": 20_000,
}


def declared(model, type_):
    return model.topology.declared.get(type_, 0)


def check(model, stack: Stack):
    stack.environments = {f.name: f.environment for f in model.topology.functions.values()}
    stack.alarms = declared(model, "aws:cloudwatch/metricAlarm:MetricAlarm")
    stack.topics_and_tables = declared(model, "aws:sns/topic:Topic") + declared(model, "aws:dynamodb/table:Table")
    by_hand = {k: v for k, v in hand_bill(stack).items() if v}
    estimated = model.estimate().by("service").to_dict()
    estimated = {k: v for k, v in estimated.items() if v > 1e-9}
    assert set(estimated) == set(by_hand)
    for service, cost in by_hand.items():
        assert estimated[service] == pytest.approx(cost, rel=0.01), service
    assert sum(estimated.values()) == pytest.approx(sum(by_hand.values()), rel=0.01)
    return by_hand


def test_prod_by_hand():
    model = shipped_model("prod")
    stack = shipped_stack(
        "prod", PROD, log_days=90, archive_days=365, object_days=2555 + 30, audit={"kms": True},
        topic_events=0,
    )
    check(model, stack)


def test_dev_by_hand_with_the_free_tier():
    model = dataclasses.replace(shipped_model("dev"), free_tier=True)
    stack = shipped_stack("dev", DEV, log_days=7, archive_days=7, object_days=90 + 30, free_tier=True)
    bill = check(model, stack)
    assert "Lambda" not in bill  # dev's invocations and GB-seconds fit the free allowance


def test_the_seed_scenario_by_hand_at_the_seed_prices():
    """The design brief's one-queue stack: x86 at 128 MB, full batches, no duplicates, no
    failures, no idle polling, the brief's unit prices (the `seed` preset)."""
    model = scenario_model("seed", preset="seed")
    stack = Stack(
        name="seed", dup=0, fail=0, fill=1, idle=0, x86=True, memory_gb=0.125,
        buses={"orders": [(5 * M, 1024), (5 * M, 1024)]},
        consumers=[Consumer("orders-processor", "order_processor", 10 * M, keys=5 * M)],
        dashboards=1,
        prices={"ddb_write": 1.25},  # the brief's DynamoDB price: before the 2024-11-01 cut
    )
    check(model, stack)
