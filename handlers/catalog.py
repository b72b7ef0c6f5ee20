"""What each consumer needs and how it guards against duplicates: read by the program and the cost model.

Plain data with no imports beyond the standard library, so the Pulumi program and the cost model
can read it without loading the Lambda runtime's dependencies. `tests/handlers` checks that each
handler module agrees with its entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Idempotency = Literal["powertools", "conditional-write", "s3-conditional-put"]
Need = Literal["event_bus", "archive_bucket", "notify_topic", "ses"]


@dataclass(frozen=True)
class HandlerSpec:
    idempotency: Idempotency
    # DynamoDB write units per successfully processed event (records under 1 KB), guard included.
    ddb_writes_per_event: float
    # DynamoDB write units a duplicate costs: a failed conditional write still consumes one.
    ddb_writes_per_duplicate: float
    needs: frozenset[Need] = frozenset()
    description: str = ""


HANDLERS: dict[str, HandlerSpec] = {
    "order_processor": HandlerSpec(
        idempotency="conditional-write",
        ddb_writes_per_event=1,
        ddb_writes_per_duplicate=1,
        description="Applies order state; one conditional write is both guard and side effect.",
    ),
    "notification_sender": HandlerSpec(
        idempotency="powertools",
        ddb_writes_per_event=2,
        ddb_writes_per_duplicate=1,
        needs=frozenset({"notify_topic", "ses"}),
        description="Renders a template and sends it through SNS or SES.",
    ),
    "audit_logger": HandlerSpec(
        idempotency="s3-conditional-put",
        ddb_writes_per_event=0,
        ddb_writes_per_duplicate=0,
        needs=frozenset({"archive_bucket"}),
        description="One append-only S3 object per event at a deterministic key.",
    ),
    "analytics": HandlerSpec(
        idempotency="conditional-write",
        ddb_writes_per_event=4,
        ddb_writes_per_duplicate=2,
        description="Per-type, per-day counters; guard and increment in one transaction.",
    ),
    "fulfillment": HandlerSpec(
        idempotency="powertools",
        ddb_writes_per_event=2,
        ddb_writes_per_duplicate=1,
        needs=frozenset({"event_bus"}),
        description="Hands off by publishing a follow-up event instead of a synchronous call.",
    ),
}
