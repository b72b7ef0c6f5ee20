"""AWS's published prices and billing facts, typed by hand from reference/aws-prices.md (and,
where it says nothing, the AWS pricing pages named beside each figure), never read back from the
catalogue; and the few independent oracles the hand-priced tests need.

The tests compute expected costs from these; the code under test reads its own catalogue, so a
wrong catalogue entry or formula fails a test instead of agreeing with itself.
"""

from __future__ import annotations

import json
import math

M = 1_000_000
GB = 2**30  # AWS bills a GB as 2^30 bytes
MONTH_H = 730  # AWS's month
MONTH_S = MONTH_H * 3_600
MONTH_MIN = MONTH_H * 60
MONTH_DAYS = MONTH_H / 24
CHUNK = 64 * 1024
# Traffic assumptions that make a stack's usage exactly its declared volume: no duplicates or
# retries, full batches, no idle polling (stack files take them as eda-platform:assumptions).
EXACT_TRAFFIC = {
    "duplicate_rate": 0,
    "failure_rate": 0,
    "batch_fill": 1,
    "idle_receives_per_minute": 0,
}

# aws-prices.md, "Current AWS prices" (first tiers unless named)
EVENTBRIDGE_PER_M = 1.00
ARCHIVE_GB = 0.10
ARCHIVE_GB_MONTH = 0.023
PIPES_PER_M = 0.40
SCHEDULER_PER_M = 1.00
SQS_STANDARD_PER_M = 0.40
SQS_STANDARD_TIERS = [(100e9, 0.40), (200e9, 0.30), (math.inf, 0.24)]  # bounds: SQS pricing page
SQS_FIFO_PER_M = 0.50
SNS_PUBLISH_PER_M = 0.50
LAMBDA_REQUEST_PER_M = 0.20
X86_GB_S = 0.0000166667
X86_GB_S_TIER2 = 0.0000150000
ARM_GB_S = 0.0000133334
ARM_TIERS = [(7.5e9, 0.0000133334), (18.75e9, 0.0000120001), (math.inf, 0.0000106667)]
DDB_WRITE_PER_M = 0.625
DDB_GB_MONTH = 0.25
DDB_PITR_GB_MONTH = 0.20  # aws.amazon.com/dynamodb/pricing/on-demand (not in aws-prices.md)
S3_GB_MONTH = 0.023
S3_PUT_PER_1000 = 0.005
S3_GET_PER_1000 = 0.0004  # GET and all other requests (HEAD)
KMS_KEY_MONTH = 1.00
KMS_PER_10K = 0.03
ALARM_MONTH = 0.10
METRIC_MONTH = 0.30
DASHBOARD_MONTH = 3.00  # beyond the first three (aws.amazon.com/cloudwatch/pricing)
FREE_DASHBOARDS = 3
LOG_INGEST_GB = 0.50
# Vended (Lambda) logs, standard class: first 10 TB, next 20 TB, next 20 TB, above (1 TB = 1,024 GB)
VENDED_LOG_TIERS = [(10_240, 0.50), (30_720, 0.25), (51_200, 0.10), (math.inf, 0.05)]
LOG_GB_MONTH = 0.03

# Free tiers (aws-prices.md)
FREE_LAMBDA_REQUESTS = 1 * M
FREE_LAMBDA_GB_S = 400_000
FREE_SQS_REQUESTS = 1 * M
FREE_SNS_PUBLISHES = 1 * M
FREE_KMS_REQUESTS = 20_000
FREE_ALARMS = 10
FREE_METRICS = 10
FREE_LOG_GB = 5
FREE_DDB_GB = 25
FREE_SCHEDULER = 14 * M


def tiered(quantity: float, tiers: list[tuple[float, float]], per: float = 1) -> float:
    """USD for `quantity` through (upper bound, price per `per`) tiers."""
    cost, lower = 0.0, 0.0
    for upper, price in tiers:
        cost += (min(quantity, upper) - lower) / per * price if quantity > lower else 0.0
        lower = upper
    return cost


def retained(monthly: float, days: float) -> float:
    """Steady-state quantity stored when `monthly` flows in a month and stays `days`."""
    return monthly * days / MONTH_DAYS


def powertools_emf_line(namespace: str, service: str, records: float) -> int:
    """Bytes of the EMF line Powertools prints for a batch of `records`, all applied: made by
    Powertools itself (the same calls handlers/runtime/consumer.py makes)."""
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    metrics = Metrics(namespace=namespace, service=service)
    metrics.add_metric("Records", MetricUnit.Count, round(records))
    metrics.add_metric("RecordsApplied", MetricUnit.Count, round(records))
    for name in ("Failed", "Poison", "Skipped"):
        metrics.add_metric(f"Records{name}", MetricUnit.Count, 0)
    document = metrics.serialize_metric_set()
    metrics.clear_metrics()
    return len(json.dumps(document, separators=(",", ":"))) + 1  # print() adds a newline


def handoff_event_bytes(trigger: dict, source: str) -> int:
    """Bytes of the follow-up event the real fulfillment handler puts for `trigger`, as
    EventBridge stores and archives it (its id a 36-character UUID)."""
    from handlers.logic.handoff import follow_up
    from handlers.runtime.envelope import Incoming

    # On AWS the trigger's id (which the follow-up carries) is a UUID too.
    trigger = {**trigger, "id": "1" * 36}
    event = follow_up(Incoming(event=trigger, key=trigger["detail"].get("orderId"), message_id="m"))
    stored = {
        "version": "0",
        "id": "0" * 36,
        "detail-type": event.detail_type,
        "source": source,
        "account": trigger["account"],
        "time": trigger["time"],
        "region": trigger["region"],
        "resources": list(event.resources),
        "detail": dict(event.detail),
    }
    return len(json.dumps(stored, separators=(",", ":")).encode())


def sample_event(source: str, detail_type: str, detail: dict, region: str = "us-east-1") -> dict:
    """The EventBridge envelope of a configured sample."""
    return {
        "version": "0", "id": "sample", "detail-type": detail_type, "source": source,
        "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": region,
        "resources": [], "detail": detail,
    }


# -- what each consumer does per event: the handler catalogue's figures -------------------------
# Facts of the handlers (measured against moto by tests/handlers), not of the cost model: read
# from handlers.catalog, for the entry a function's environment selects where it offers choices.
def figures(handler: str, environment: dict[str, str]):
    from types import SimpleNamespace

    from handlers import catalog

    spec = catalog.spec_for(handler, environment)
    variable = catalog.CUSTOM_METRICS_VARIABLE
    metrics_on = (environment.get(variable) or catalog.CUSTOM_METRICS_DEFAULT).strip().lower() == "on"
    return SimpleNamespace(
        writes=spec.ddb_writes_per_event,
        duplicate_writes=spec.ddb_writes_per_duplicate,
        reads=spec.ddb_reads_per_event,
        duplicate_reads=spec.ddb_reads_per_duplicate,
        puts=spec.s3_puts_per_event,
        duplicate_puts=spec.s3_puts_per_duplicate,
        duplicate_heads=spec.s3_heads_per_duplicate,
        batch_puts=spec.s3_puts_per_batch,
        metrics=len(spec.custom_metrics) if metrics_on else 0,
        metrics_on=metrics_on,
        idempotency=spec.idempotency,
    )


DDB_READ_PER_M = 0.125
