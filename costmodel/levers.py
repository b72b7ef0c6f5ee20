"""Cost levers: what one change to the stack would save, each priced by re-pricing a variant.

Every lever changes a deep copy of the model (its topology or its config) the way the stack
would change, then prices it with the same usages, tiers and free tier as the baseline, so
interactions (an account-wide tier, a shared free allowance) are counted, never assumed away.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

from costmodel.estimate import Model, price
from costmodel.topology import Queue
from costmodel.usage import DAYS_PER_MONTH, GB, Usage
from costmodel.volume import propagate

# The retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
BIG_BATCH = 100
BIG_BATCH_WINDOW_S = 1  # AWS requires a batching window of at least 1 s above 10
DYNAMODB_WRITE_UNIT_BYTES = 1_024
DYNAMODB_ITEM_OVERHEAD_BYTES = 100  # attribute names and the key, stored with every item


@dataclass(frozen=True)
class Lever:
    name: str
    description: str
    baseline_total: float
    variant_total: float
    monthly_saving: float  # baseline - variant; negative: the variant costs more
    detail: str  # what was changed in the variant


def levers(model: Model) -> list[Lever]:
    """Every lever, priced against `model` at its configured volume."""
    return [
        big_batches(model),
        no_batching(model),
        flip_architecture(model),
        halve_retention(model),
        single_conditional_write(model),
        queue_encryption(model),
        cold_events_in_s3(model),
    ]


def big_batches(model: Model) -> Lever:
    def change(variant: Model) -> str:
        changed = []
        for queue in _consumer_queues(variant):
            if not queue.fifo and queue.batch_size < BIG_BATCH:
                changed.append(f"{queue.name} ({queue.batch_size} -> {BIG_BATCH})")
                queue.batch_size = BIG_BATCH
                queue.batching_window_s = max(queue.batching_window_s, BIG_BATCH_WINDOW_S)
        return (
            f"standard queues' batch size set to {BIG_BATCH} with a {BIG_BATCH_WINDOW_S} s window: "
            f"{', '.join(changed) or 'none below ' + str(BIG_BATCH)}. Fewer invocations; SQS "
            f"receives and deletes still carry at most 10 messages a call, so only the "
            f"half-empty calls of small batches go. Assumes batches "
            f"fill to batch_fill={model.config.assumptions.batch_fill:g}: at a low arrival rate "
            f"a {BIG_BATCH_WINDOW_S} s window gathers fewer messages and saves less"
        )

    return _priced(
        model,
        "batch size 100",
        "Standard queues batch 100 messages per invocation (1 s batching window)",
        change,
    )


def no_batching(model: Model) -> Lever:
    def change(variant: Model) -> str:
        queues = _consumer_queues(variant)
        for queue in queues:
            queue.batch_size, queue.batching_window_s = 1, 0
        return (
            f"batch size 1 on all {len(queues)} consumer queues (was "
            f"{', '.join(sorted({str(q.batch_size) for q in _consumer_queues(model)}))}): "
            "a negative saving is what batching saves today"
        )

    return _priced(
        model,
        "batch size 1",
        "One message per invocation and per receive: what batching saves",
        change,
    )


def flip_architecture(model: Model) -> Lever:
    def change(variant: Model) -> str:
        flips = []
        for function in variant.topology.functions.values():
            new = "x86_64" if function.architecture == "arm64" else "arm64"
            flips.append(f"{function.name} {function.architecture} -> {new}")
            function.architecture = new
        return "every function flipped: " + "; ".join(flips)

    return _priced(
        model,
        "architecture flip",
        "Every function on the other architecture "
        "(arm64 <-> x86_64); a negative saving is what the current choice saves",
        change,
    )


def halve_retention(model: Model) -> Lever:
    def change(variant: Model) -> str:
        notes = []
        for function in variant.topology.functions.values():
            days = function.log_retention_days
            if days is None:
                continue  # no log group declared: nothing to halve
            function.log_retention_days = _log_retention(days / 2)
            notes.append(f"{function.name} logs {days} -> {function.log_retention_days} d")
        for bus in variant.topology.buses.values():
            if bus.archive_days is not None:
                # 0 keeps events forever, which the estimate prices as 12 months.
                days = bus.archive_days or round(12 * DAYS_PER_MONTH)
                bus.archive_days = max(1, days // 2)
                notes.append(f"{bus.name} archive {days} -> {bus.archive_days} d")
        for bucket in variant.topology.buckets:
            if bucket.expire_days is not None:
                days = bucket.expire_days
                bucket.expire_days = max(1, days // 2)
                notes.append(f"{bucket.name} objects expire {days} -> {bucket.expire_days} d")
        variant.config = _halve_queue_retention(variant)
        notes.append(
            "consumer queues' retention halved (SQS storage is free; it shortens the "
            "default idempotency window, so DynamoDB storage)"
        )
        return "; ".join(notes) + "; log retention rounded down to a value CloudWatch Logs accepts"

    return _priced(
        model, "halve retention", "Half the log, archive, bucket and queue retention", change
    )


def single_conditional_write(model: Model) -> Lever:
    def change(variant: Model) -> str:
        changed = []
        for function in variant.topology.functions.values():
            spec = function.spec
            if spec is None or spec.idempotency != "powertools":
                continue
            # Powertools writes an in-progress record and then completes it (2 units); one
            # conditional write that is also the side effect keeps the first and drops the second.
            # A duplicate still costs its failed conditional write.
            function.spec = dataclasses.replace(
                spec,
                idempotency="conditional-write",
                ddb_writes_per_event=spec.ddb_writes_per_event - 1,
                ddb_writes_per_duplicate=1,
            )
            changed.append(
                f"{function.name} ({spec.ddb_writes_per_event:g} -> "
                f"{function.spec.ddb_writes_per_event:g} WRU per event)"
            )
        return "Powertools consumers on one conditional write: " + (
            ", ".join(changed) or "none use Powertools"
        )

    return _priced(
        model,
        "conditional-write idempotency",
        "Powertools consumers guard with a single conditional write instead",
        change,
    )


def queue_encryption(model: Model) -> Lever:
    """Customer-key queues to SSE-SQS when there are any; otherwise what a key would cost."""
    to_sse = any(q.customer_key for q in _consumer_queues(model))

    def change(variant: Model) -> str:
        changed = [q for q in variant.topology.queues.values() if q.customer_key == to_sse]
        for queue in changed:
            queue.customer_key = not to_sse
        names = ", ".join(q.name for q in changed) or "none"
        return (
            f"{'SSE-SQS instead of the customer KMS key' if to_sse else 'customer KMS key instead of SSE-SQS'}"
            f" on: {names}. The platform key stays (topics and the table use it), so only "
            "the queues' KMS requests change"
        )

    name = "SSE-SQS queues" if to_sse else "customer KMS key on queues"
    return _priced(
        model, name, "Queue encryption flipped between SSE-SQS and the customer KMS key", change
    )


def cold_events_in_s3(model: Model) -> Lever:
    """N months of published events kept in DynamoDB (baseline) or S3 Standard (variant)."""
    config = model.config
    months = config.retention.bucket_expire_after_days / DAYS_PER_MONTH
    usages, _ = model.usages()
    in_dynamodb, in_s3 = [], []
    for bus, flows in propagate(model.topology, config).published.items():
        events = sum(f.volume for f in flows)
        item_gb = sum(f.volume * (f.size_bytes + DYNAMODB_ITEM_OVERHEAD_BYTES) for f in flows) / GB
        object_gb = sum(f.volume * f.size_bytes for f in flows) / GB
        write_units = sum(
            f.volume
            * math.ceil((f.size_bytes + DYNAMODB_ITEM_OVERHEAD_BYTES) / DYNAMODB_WRITE_UNIT_BYTES)
            for f in flows
        )
        in_dynamodb += [
            Usage(
                "DynamoDB",
                bus,
                "platform",
                "cold events: writes",
                "dynamodb.ondemand.write",
                write_units,
                0,
                "one item per event, 1 WRU per started KB",
            ),
            Usage(
                "DynamoDB",
                bus,
                "platform",
                "cold events: storage",
                "dynamodb.storage",
                item_gb * months,
                0,
                f"{months:.3g} months of events",
            ),
        ]
        in_s3 += [
            Usage(
                "S3",
                bus,
                "platform",
                "cold events: PUT",
                "s3.requests.put",
                events,
                0,
                "one object per event",
            ),
            Usage(
                "S3",
                bus,
                "platform",
                "cold events: storage",
                "s3.standard.storage",
                object_gb * months,
                0,
                f"{months:.3g} months of events",
            ),
        ]
    baseline = _total(model, usages + in_dynamodb)
    variant = _total(model, usages + in_s3)
    return Lever(
        name="cold events in S3",
        description="Keep cold events in S3 Standard (Athena-queryable) instead of DynamoDB",
        baseline_total=baseline,
        variant_total=variant,
        monthly_saving=baseline - variant,
        detail=(
            f"{months:.3g} months of every published event (retention.bucket_expire_after_days="
            f"{config.retention.bucket_expire_after_days}) added to the stack, steady state: "
            f"baseline in DynamoDB on-demand (1 WRU per started KB, items +"
            f"{DYNAMODB_ITEM_OVERHEAD_BYTES} B), variant in S3 Standard (one PUT per event; "
            "no storage-class transition: archive objects are far below S3's 128 KB minimum)"
        ),
    )


# -- helpers --------------------------------------------------------------------------------


def _priced(model: Model, name: str, description: str, change: Callable[[Model], str]) -> Lever:
    variant = dataclasses.replace(model, topology=copy.deepcopy(model.topology))
    detail = change(variant)
    baseline, changed = float(model.total()), float(variant.total())
    return Lever(name, description, baseline, changed, baseline - changed, detail)


def _total(model: Model, usages: list[Usage]) -> float:
    """Usages priced at the model's own volume (`--scale` included), like every other lever."""
    return float(sum(price(usages, model.catalogue, model.free_tier, model.scale)))


def _consumer_queues(model: Model) -> list[Queue]:
    return [q for q in model.topology.queues.values() if q.function is not None]


def _log_retention(days: float) -> int:
    """The longest retention CloudWatch Logs accepts that is at most `days` (at least 1)."""
    return max([d for d in LOG_RETENTION_DAYS if d <= days], default=LOG_RETENTION_DAYS[0])


def _halve_queue_retention(model: Model):
    config = model.config
    domains = {
        name: domain.model_copy(
            update={
                "consumers": {
                    cname: consumer.model_copy(
                        update={
                            "queue": consumer.queue.model_copy(
                                update={"retention_s": max(60, consumer.queue.retention_s // 2)}
                            )
                        }
                    )
                    for cname, consumer in domain.consumers.items()
                }
            }
        )
        for name, domain in config.domains.items()
    }
    return config.model_copy(update={"domains": domains})
