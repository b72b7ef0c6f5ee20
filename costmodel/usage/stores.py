"""Usage of what consumers store: DynamoDB capacity and items of the idempotency table (guards
and, for the order processor, one state item per order) and its continuous backups, and the S3
objects of the audit archive under the bucket's lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from costmodel.behaviour import ENTITY_STORES
from costmodel.topology import Bucket, Function
from costmodel.usage import GB, Deliveries, amount, gigabytes
from costmodel.volume import total

if TYPE_CHECKING:
    from costmodel.usage.model import UsageModel

# A Powertools idempotency record (id, status, expiration, data, validation hash, in-progress
# expiration: about 190 B of names and values) plus the 100 B DynamoDB adds to every item.
IDEMPOTENCY_ITEM_BYTES = 300


def idempotency(model: UsageModel, d: Deliveries, window_s: float) -> None:
    """The read and write units the handler's guard (and effect) takes per event, duplicate and
    retry, and its items, kept for the idempotency window."""
    function, spec = d.function, d.function.spec
    unique, duplicates, failed = d.unique, d.duplicates, d.failed
    per_write, per_read = spec.ddb_writes_per_event, spec.ddb_reads_per_event
    writes = unique * per_write + duplicates * spec.ddb_writes_per_duplicate + failed * per_write
    reads = unique * per_read + duplicates * spec.ddb_reads_per_duplicate + failed * per_read
    if reads:
        model.add("DynamoDB", function.name, f"reads ({spec.idempotency})", "dynamodb.ondemand.read",
                  reads, 0,
                  f"{amount(unique)} events × {per_read:g} RRU + {amount(duplicates)} duplicates × "
                  f"{spec.ddb_reads_per_duplicate:g} + {amount(failed)} retries × {per_read:g}")
    if not writes:
        return
    model.add("DynamoDB", function.name, f"writes ({spec.idempotency})", "dynamodb.ondemand.write",
              writes, 0,
              f"{amount(unique)} events × {per_write:g} WRU + {amount(duplicates)} duplicates × "
              f"{spec.ddb_writes_per_duplicate:g} (failed conditional writes bill) + {amount(failed)} retries × "
              f"{per_write:g}")
    entity = ENTITY_STORES.get(function.handler)
    if entity:
        keys = sum(f.volume * model.keys_per_event(f) for f in d.flows)
        counted = (
            f"{amount(keys)} {entity}s/month (one item per {entity}; "
            f"{amount(unique)} events × entity_keys per type)"
        )
    else:
        keys, counted = unique, f"{amount(unique)} keys/month"
    gb = keys * IDEMPOTENCY_ITEM_BYTES / GB
    usage = model.storage(
        "DynamoDB", function.name, "dynamodb.storage", gb, window_s / 86_400,
        f"{counted} × {IDEMPOTENCY_ITEM_BYTES} B = {gb:.3g} GB/month",
        component="storage (idempotency window)",
    )
    table = function.environment.get("IDEMPOTENCY_TABLE", "")
    model.table_storage.setdefault(table, []).append(usage)


def backups(model: UsageModel) -> None:
    """Continuous backups (point-in-time recovery) of each table, on the items stored in it."""
    for table in model.topology.tables:
        stored = model.table_storage.get(table.name, [])
        if not table.point_in_time_recovery or not stored:
            continue
        gb_months = sum(u.per_scale for u in stored)
        first = sum(u.first_month_quantity() for u in stored) / gb_months if gb_months else 1
        model.add("DynamoDB", table.name, "point-in-time recovery", "dynamodb.pitr", gb_months, 0,
                  f"continuous backups of the table's {gb_months:.3g} GB (steady state, "
                  f"{len(stored)} consumers' items); first month {gb_months * first:.3g}",
                  first if abs(first - 1) > 1e-12 else None)


def archive(model: UsageModel, d: Deliveries) -> None:
    """The archive's PUT (and HEAD) requests, per the catalogue entry's figures, and its objects
    stored until the bucket's lifecycle deletes them."""
    function, spec = d.function, d.function.spec
    unique, duplicates, failed, batches = d.unique, d.duplicates, d.failed, d.invocations
    per_event, per_batch = spec.s3_puts_per_event, spec.s3_puts_per_batch
    per_duplicate, heads_per_duplicate = spec.s3_puts_per_duplicate, spec.s3_heads_per_duplicate
    puts = unique * per_event + duplicates * per_duplicate + failed * per_event + batches * per_batch
    # The object is the event's JSON plus a newline (handlers/logic/audit_archive.py).
    object_gb = gigabytes(d.flows, extra_bytes=1)
    size = object_gb * GB / total(d.flows) if total(d.flows) else 0
    how = (f"{amount(unique)} events × {per_event:g} + {amount(duplicates)} duplicates × "
           f"{per_duplicate:g} + {amount(failed)} retries × {per_event:g}")
    if per_batch:
        how = f"{amount(batches)} batches × {per_batch:g} objects + {how}"
    else:
        how += " conditional PUTs (a rejected PUT still bills)"
    model.add("S3", function.name, "PUT requests", "s3.requests.put", puts, 0, how)
    if duplicates * heads_per_duplicate:
        model.add("S3", function.name, "HEAD (duplicates)", "s3.requests.get",
                  duplicates * heads_per_duplicate, 0,
                  f"{amount(duplicates)} duplicates × {heads_per_duplicate:g} read the stored object's hash")
    bucket = _bucket_of(model, function)
    if bucket is None:
        model.warnings.append(f"function {function.name}: its ARCHIVE_BUCKET is not a bucket of the stack")
        days = None
    else:
        days = _object_days(model, bucket, size)
    model.storage("S3", function.name, "s3.standard.storage", object_gb, days,
                  f"{amount(unique)} events × {size:,.0f} B = {object_gb:.3g} GB/month")


def _bucket_of(model: UsageModel, function: Function) -> Bucket | None:
    name = function.environment.get("ARCHIVE_BUCKET")
    buckets = model.topology.buckets
    return next((b for b in buckets if b.name == name), buckets[0] if len(buckets) == 1 else None)


def _object_days(model: UsageModel, bucket: Bucket, size: float) -> float | None:
    """How long an object is stored: until its expiry, then as a noncurrent version."""
    for days, storage_class in bucket.transitions:
        if size >= bucket.transition_min_bytes:
            model.warnings.append(
                f"bucket {bucket.name}: objects move to {storage_class} after {days} days; "
                "priced at S3 Standard throughout (the catalogue has no other storage class)"
            )
    if bucket.expire_days is None:
        return None
    if not bucket.versioned:
        return bucket.expire_days
    if bucket.noncurrent_days is None:
        return None  # expired objects stay as noncurrent versions forever
    return bucket.expire_days + bucket.noncurrent_days
