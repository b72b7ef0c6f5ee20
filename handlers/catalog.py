"""What each consumer needs, how it guards against duplicates and what that costs: read by the
program and the cost model.

Plain data with no imports beyond the standard library, so the Pulumi program and the cost model
can read it without loading the Lambda runtime's dependencies. `tests/handlers` checks that each
handler module agrees with its entry here and measures every figure below (DynamoDB capacity
units and S3 requests) against moto.

A consumer with a real trade-off declares it as a `Choice`: an environment variable the program
sets per function, whose values select one of the consumer's `choices`, each with its own figures
and delivery semantics. `spec_for(handler, environment)` is the entry a deployed function runs as.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

Idempotency = Literal["powertools", "conditional-write", "s3-conditional-put"]
# What a redelivery after a crash between the side effect and the guard's record does:
# "exactly-once effect": the guard and the effect are one write, so there is no such window;
# "at-least-once": the effect happens again (`delivery_reason` says what the target does with it).
Delivery = Literal["exactly-once effect", "at-least-once"]
Need = Literal["event_bus", "archive_bucket", "notify_topic", "ses"]
# What the handler needs of its business key: any value, or [entity id, integer version] (one
# state item per entity, newer versions win); the config check refuses a key of another shape.
KeyShape = Literal["any", "entity-version"]
# A downstream call, as (service, operation): e.g. ("dynamodb", "UpdateItem").
Call = tuple[str, str]

# Shared by every consumer: per-batch custom metrics (`Records*`, one per name and function) are
# published only when the function's CUSTOM_METRICS is "on". Off, the batch log line carries the
# same figures, and SQS's and Lambda's own metrics (free) cover depth, age, errors and throttles.
CUSTOM_METRICS_VARIABLE = "CUSTOM_METRICS"
CUSTOM_METRICS_DEFAULT = "off"


@dataclass(frozen=True)
class Choice:
    """The environment variable that selects this configuration, and its value for it."""

    variable: str
    value: str


@dataclass(frozen=True)
class HandlerSpec:
    idempotency: Idempotency
    delivery: Delivery
    delivery_reason: str
    # The downstream calls that are the side effect (a guard's own writes are not): where the
    # emulator injects a failing dependency, and what tests/handlers crash right after.
    effect: tuple[Call, ...]
    # "module:function" that reads the effect back per event (`handlers.observation`).
    observer: str
    # DynamoDB capacity units per event (items under 1 KB, reads strongly consistent), guard
    # included; a duplicate's figures are what it costs to be recognised. A failed conditional
    # write still consumes its write unit.
    ddb_writes_per_event: float
    ddb_writes_per_duplicate: float
    ddb_reads_per_event: float = 0
    ddb_reads_per_duplicate: float = 0
    # S3 requests: per event (and per duplicate) for object-per-event archives, per Lambda batch
    # (one object per business day present in the batch, almost always one) for batched ones.
    s3_puts_per_event: float = 0
    s3_puts_per_duplicate: float = 0
    s3_heads_per_duplicate: float = 0
    s3_puts_per_batch: float = 0
    key_shape: KeyShape = "any"
    # Outcomes a record can end in; with CUSTOM_METRICS=on each is a metric `Records<Outcome>`.
    outcomes: tuple[str, ...] = ("applied", "duplicate")
    needs: frozenset[Need] = frozenset()
    description: str = ""
    # Set when the consumer has a trade-off: this entry is `choice.value` of `choice.variable`,
    # the variable's default; `alternatives` are the other values, each a complete entry.
    choice: Choice | None = None
    alternatives: tuple[HandlerSpec, ...] = ()

    @property
    def choices(self) -> tuple[HandlerSpec, ...]:
        return (self, *self.alternatives)

    def select(self, environment: Mapping[str, str]) -> HandlerSpec:
        """The configuration a function with this environment runs."""
        if self.choice is None:
            return self
        value = (environment.get(self.choice.variable) or "").strip() or self.choice.value
        for spec in self.choices:
            if spec.choice is not None and spec.choice.value == value:
                return spec
        allowed = ", ".join(s.choice.value for s in self.choices if s.choice is not None)
        raise ValueError(f"{self.choice.variable}={value!r}; allowed: {allowed}")

    @property
    def custom_metrics(self) -> tuple[str, ...]:
        """Metric names a function publishes when CUSTOM_METRICS=on (dimension: its service)."""
        return (
            "Records",
            *(f"Records{o.title()}" for o in self.outcomes),
            "RecordsFailed",
            "RecordsPoison",
            "RecordsSkipped",
        )


def spec_for(handler: str, environment: Mapping[str, str]) -> HandlerSpec:
    """The catalogue entry a deployed function runs, given its environment variables."""
    return HANDLERS[handler].select(environment)


def _variants(default: HandlerSpec, variable: str, **others: HandlerSpec) -> HandlerSpec:
    assert default.choice is not None and default.choice.variable == variable
    return replace(
        default,
        alternatives=tuple(
            replace(spec, choice=Choice(variable, value)) for value, spec in others.items()
        ),
    )


GUARD = "IDEMPOTENCY_GUARD"
ARCHIVE_OBJECTS = "ARCHIVE_OBJECTS"

_NOTIFY_NEEDS = frozenset({"notify_topic", "ses"})
_NOTIFY_POWERTOOLS = HandlerSpec(
    idempotency="powertools",
    delivery="at-least-once",
    delivery_reason=(
        "A crash after the send and before Powertools records completion leaves an in-progress "
        "mark that expires with the invocation; the redelivery sends again. Standard SNS topics "
        "and SES cannot deduplicate, so the recipient gets it twice; the in-progress mark does "
        "stop a copy delivered while the first is still running. Each message carries the "
        "eda-key-hash attribute, so a subscriber can drop the repeat."
    ),
    effect=(("sns", "Publish"), ("ses", "SendEmail")),
    observer="handlers.logic.notify:observed",
    ddb_writes_per_event=2,
    ddb_writes_per_duplicate=1,
    needs=_NOTIFY_NEEDS,
    description="Renders a template and sends it through SNS or SES.",
    choice=Choice(GUARD, "powertools"),
)
_NOTIFY_CONDITIONAL = HandlerSpec(
    idempotency="conditional-write",
    delivery="at-least-once",
    delivery_reason=(
        "Only with an SNS FIFO topic (the handler refuses it otherwise): each publish carries "
        "MessageDeduplicationId = the business key hash, so SNS drops a repeat sent within its "
        "5-minute deduplication interval: the crash window's redelivery and concurrent copies. "
        "A repeat after that interval (a crash redelivered later) is sent twice."
    ),
    effect=(("sns", "Publish"),),
    observer="handlers.logic.notify:observed",
    ddb_writes_per_event=1,
    ddb_writes_per_duplicate=0,
    ddb_reads_per_event=1,
    ddb_reads_per_duplicate=1,
    needs=_NOTIFY_NEEDS,
    description="Renders a template and publishes it to an SNS FIFO topic, deduplicated by key.",
)

_FULFILLMENT_CONDITIONAL = HandlerSpec(
    idempotency="conditional-write",
    delivery="at-least-once",
    delivery_reason=(
        "EventBridge cannot deduplicate: a crash after PutEvents and before the completion "
        "record, or a copy delivered while the first is running, publishes the follow-up "
        "again. Every copy carries the same deterministic fulfillmentId, so a downstream that "
        "keys on it applies the hand-off exactly once."
    ),
    effect=(("events", "PutEvents"),),
    observer="handlers.logic.handoff:observed",
    ddb_writes_per_event=1,
    ddb_writes_per_duplicate=0,
    ddb_reads_per_event=1,
    ddb_reads_per_duplicate=1,
    needs=frozenset({"event_bus"}),
    description="Hands off by publishing a follow-up event instead of a synchronous call.",
    choice=Choice(GUARD, "conditional-write"),
)
_FULFILLMENT_POWERTOOLS = replace(
    _FULFILLMENT_CONDITIONAL,
    idempotency="powertools",
    delivery_reason=(
        "A crash after PutEvents and before Powertools records completion publishes the "
        "follow-up again (with the same fulfillmentId, so a downstream keyed on it applies it "
        "once); the in-progress mark only saves the copies that arrive while the first runs."
    ),
    ddb_writes_per_event=2,
    ddb_writes_per_duplicate=1,
    ddb_reads_per_event=0,
    ddb_reads_per_duplicate=0,
)

_AUDIT_PER_BATCH = HandlerSpec(
    idempotency="s3-conditional-put",
    delivery="exactly-once effect",
    delivery_reason=(
        "Read through the audit_events_unique view, which keeps one row per business key. "
        "Objects are conditional PUTs at a name derived from their lines, so a batch retried "
        "as it was adds nothing; a batch regrouped by SQS can put an event in a second object, "
        "which the view drops. A key re-sent with a different payload is not refused: the "
        "view's conflict query lists it."
    ),
    effect=(("s3", "PutObject"),),
    observer="handlers.logic.audit_archive:observed",
    ddb_writes_per_event=0,
    ddb_writes_per_duplicate=0,
    s3_puts_per_batch=1,
    needs=frozenset({"archive_bucket"}),
    description="One append-only S3 object (JSON lines) per Lambda batch at a deterministic key.",
    choice=Choice(ARCHIVE_OBJECTS, "per-batch"),
)
_AUDIT_PER_EVENT = replace(
    _AUDIT_PER_BATCH,
    delivery_reason=(
        "The conditional PUT at the business key's own object name is both the guard and the "
        "effect: a retry can neither add a second object nor overwrite the first, and a key "
        "re-sent with a different payload fails the record (PayloadMismatch). The name sits "
        "under the event's business date, so a re-send whose date changed lands in another "
        "partition: the view's conflict query lists it."
    ),
    s3_puts_per_event=1,
    s3_puts_per_duplicate=1,
    s3_heads_per_duplicate=1,
    s3_puts_per_batch=0,
    description="One append-only S3 object per event at a deterministic key.",
)

HANDLERS: dict[str, HandlerSpec] = {
    "order_processor": HandlerSpec(
        idempotency="conditional-write",
        delivery="exactly-once effect",
        delivery_reason=(
            "One conditional UpdateItem is the guard and the state change: a redelivery after "
            "a crash finds its version applied. An older version arriving late fills only the "
            "fields whose stored value comes from an older version still (a second write, "
            "rare), never a newer one."
        ),
        effect=(("dynamodb", "UpdateItem"),),
        observer="handlers.logic.order_state:observed",
        ddb_writes_per_event=1,
        ddb_writes_per_duplicate=1,
        outcomes=("applied", "duplicate", "superseded", "merged"),
        key_shape="entity-version",
        description="Applies order state; one conditional write is both guard and side effect.",
    ),
    "notification_sender": _variants(
        _NOTIFY_POWERTOOLS, GUARD, **{"conditional-write": _NOTIFY_CONDITIONAL}
    ),
    "audit_logger": _variants(_AUDIT_PER_BATCH, ARCHIVE_OBJECTS, **{"per-event": _AUDIT_PER_EVENT}),
    "analytics": HandlerSpec(
        idempotency="conditional-write",
        delivery="exactly-once effect",
        delivery_reason=(
            "The guard item is the count: one conditional PutItem per business key carries the "
            "event's type and day, and counts are derived from those items at query time."
        ),
        effect=(("dynamodb", "PutItem"),),
        observer="handlers.logic.daily_counters:observed",
        ddb_writes_per_event=1,
        ddb_writes_per_duplicate=1,
        description="Per-type, per-day counts; one conditional guard item per event.",
    ),
    "fulfillment": _variants(_FULFILLMENT_CONDITIONAL, GUARD, powertools=_FULFILLMENT_POWERTOOLS),
}
