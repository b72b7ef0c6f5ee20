"""The issue's guarantees 1-10, against moto, through each consumer's real entry point.

Parametrised over every configuration the catalogue offers (`ALL_SCENARIOS`: each consumer's
shipped default and its alternatives), plus issue #12's B (the crash window between a side effect
and its guard's record), C (FIFO held-back records in the log) and D (poison classified as such).
"""

from __future__ import annotations

import json
import time

import pytest
from handler_kit import (
    ALL_SCENARIOS,
    SCENARIOS,
    SimulatedTimeout,
    batch_lines,
    eb_event,
    fail_calls,
    failed_ids,
    failure_reasons,
    failures,
    invoke,
    order_created,
    payment,
    sqs_record,
)

from handlers import audit_logger, notification_sender, order_processor
from handlers.catalog import HANDLERS
from handlers.logic import notify
from handlers.logic.audit_archive import archived_key_counts
from handlers.logic.notify import KEY_HASH_ATTRIBUTE
from handlers.runtime.envelope import MAX_DEPTH

BY_NAME = {s.name: s for s in SCENARIOS}
BY_ID = {s.id: s for s in ALL_SCENARIOS}
AUDIT = [s for s in ALL_SCENARIOS if s.name == "audit_logger"]


def effect_call(scenario) -> tuple[str, str]:
    """The call that is the consumer's side effect (for the self-guarded, also its guard), as
    its catalogue entry declares it."""
    return scenario.spec.effect[0]


@pytest.fixture(params=ALL_SCENARIOS, ids=lambda s: s.id)
def scenario(request, cloud):
    request.param.prepare(cloud)
    return request.param


# 1 ------------------------------------------------------------------------------------------------
def test_failed_first_delivery_then_retry_applies_exactly_once(cloud, meter):
    """Powertools removes its in-progress mark when processing raises, so the retry runs."""
    s = BY_NAME["notification_sender"]
    env = s.env(cloud)
    event = s.event()
    record = s.record(event)

    # First delivery: the topic does not exist yet, so publishing fails.
    assert failed_ids(invoke(notification_sender, env, record)) == [record["messageId"]]
    assert cloud.items() == [], "the mark must be gone, or every retry would 'skip' the event"

    s.prepare(cloud)
    assert failed_ids(invoke(notification_sender, env, record)) == []
    assert len(cloud.deliveries(cloud.notifications)) == 1

    assert failed_ids(invoke(notification_sender, env, record)) == []
    assert len(cloud.deliveries(cloud.notifications)) == 1


def test_a_failed_side_effect_is_retried_and_applied_once(scenario, cloud, meter, caplog):
    env = scenario.env(cloud)
    event = scenario.event()
    record = scenario.record(event)
    fail_calls(*effect_call(scenario), RuntimeError("connection reset"))

    assert failed_ids(invoke(scenario.module, env, record)) == [record["messageId"]]
    assert failures(caplog)[record["messageId"]]["kind"] == "retryable"
    assert scenario.effects(cloud) == 0
    retried = scenario.record(event, message_id=record["messageId"], receive_count=2)
    assert failed_ids(invoke(scenario.module, env, retried)) == []
    assert failed_ids(invoke(scenario.module, env, retried)) == []
    assert scenario.effects(cloud) == 1


# 2 ------------------------------------------------------------------------------------------------
def test_duplicates_cause_no_second_side_effect(scenario, cloud, meter):
    env = scenario.env(cloud)
    event = scenario.event()
    first = scenario.record(event)
    assert failed_ids(invoke(scenario.module, env, first)) == []
    assert scenario.effects(cloud) == 1

    redelivered = scenario.record(event, message_id=first["messageId"], receive_count=2)
    resent = {**event, "id": "a-new-eventbridge-id", "time": "2026-03-02T09:00:00Z"}
    assert failed_ids(invoke(scenario.module, env, redelivered)) == []
    assert failed_ids(invoke(scenario.module, env, scenario.record(resent))) == []
    assert scenario.effects(cloud) == 1


# 3, 4 ---------------------------------------------------------------------------------------------
def test_duplicate_during_processing_is_failed_then_stale_mark_is_reexecuted(cloud):
    s = BY_NAME["notification_sender"]
    s.prepare(cloud)
    env = s.env(cloud)
    event = s.event()
    fail_calls("sns", "Publish", SimulatedTimeout())

    with pytest.raises(SimulatedTimeout):
        invoke(notification_sender, env, s.record(event), remaining_ms=300)
    [mark] = cloud.items()
    assert mark["status"]["S"] == "INPROGRESS"

    # 3: the same event (here a re-send) while the first attempt may still be running.
    duplicate = s.record({**event, "id": "re-sent"})
    assert failed_ids(invoke(notification_sender, env, duplicate)) == [duplicate["messageId"]]
    assert cloud.deliveries(cloud.notifications) == []

    # 4: once the mark outlives the invocation that set it, a retry runs the side effect.
    time.sleep(0.35)
    assert failed_ids(invoke(notification_sender, env, duplicate)) == []
    assert len(cloud.deliveries(cloud.notifications)) == 1
    assert [i["status"]["S"] for i in cloud.items()] == ["COMPLETED"]


# B: the crash window ------------------------------------------------------------------------------
# What the target holds after: a crash right after the side effect's call returned (before the
# guard records it), then SQS redelivering the message. From the declared semantics: an
# exactly-once effect is there once (guard and effect are one write, the redelivery finds it);
# an at-least-once one twice (standard SNS, EventBridge cannot deduplicate), except where the
# target deduplicates within the redelivery's delay:
DEDUPLICATED_BY_THE_TARGET = {
    # SNS FIFO drops the repeat: same MessageDeduplicationId within its 5-minute interval.
    "notification_sender-conditional-write",
}


def after_crash_and_redelivery(scenario) -> int:
    once = scenario.spec.delivery == "exactly-once effect" or scenario.id in DEDUPLICATED_BY_THE_TARGET
    return 1 if once else 2


def test_crash_after_the_side_effect_then_redelivery(scenario, cloud, meter):
    """Issue #12 B: what each consumer's declared delivery semantics mean, observed."""
    assert DEDUPLICATED_BY_THE_TARGET <= {s.id for s in ALL_SCENARIOS}
    env = scenario.env(cloud)
    event = scenario.event()
    first = scenario.record(event)
    fail_calls(*effect_call(scenario), SimulatedTimeout(), when="after")

    with pytest.raises(SimulatedTimeout):
        invoke(scenario.module, env, first, remaining_ms=300)
    if scenario.name == "notification_sender":
        # Not drained: moto's FIFO queue (standing in for the FIFO topic) only drops a repeated
        # MessageDeduplicationId while the first message is still there.
        assert cloud.pending(cloud.notifications) == 1, "sent before the crash"
    else:
        assert scenario.effects(cloud) == 1, "the side effect happened before the crash"

    time.sleep(0.35)  # SQS redelivers after the visibility timeout: any in-progress mark is stale
    redelivered = scenario.record(event, message_id=first["messageId"], receive_count=2)
    assert failed_ids(invoke(scenario.module, env, redelivered)) == []
    assert scenario.effects(cloud, event) == after_crash_and_redelivery(scenario)

    exactly_once = scenario.spec.delivery == "exactly-once effect"
    assert exactly_once == scenario.module.CONSUMER.self_guarded
    if exactly_once:
        return
    # At-least-once: every repeat carries the identity a deduplicating target keys on.
    if scenario.name == "fulfillment":
        ids = [json.loads(b)["detail"]["fulfillmentId"] for b in cloud.deliveries(cloud.follow_ups)]
        assert len(ids) == 2 and len(set(ids)) == 1, "a downstream keyed on it applies it once"
    else:
        attributes = cloud.delivered_attributes[cloud.notifications]
        keys = {a[KEY_HASH_ATTRIBUTE]["StringValue"] for a in attributes}
        assert len(keys) == 1


# 5 ------------------------------------------------------------------------------------------------
def test_partial_batch_reports_exactly_the_failed_ids(cloud, meter):
    s = BY_NAME["order_processor"]
    env = s.env(cloud)
    good = [s.record(s.event(orderId=f"o-{i}")) for i in range(4)]
    not_json = sqs_record("{not json")
    invalid = s.record(s.event(orderId="o-bad", currency="euro"))
    response = invoke(order_processor, env, good[0], not_json, good[1], invalid, *good[2:])
    assert sorted(failed_ids(response)) == sorted([not_json["messageId"], invalid["messageId"]])
    assert s.effects(cloud) == 4

    assert invoke(order_processor, env, s.record(s.event(orderId="o-9"))) == {
        "batchItemFailures": []
    }


# 6, C ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("s", AUDIT, ids=lambda s: s.id)
def test_fifo_failure_at_k_returns_k_to_n_unprocessed_and_logs_each_with_its_blocker(
    s, cloud, meter, caplog
):
    env = s.env(cloud)
    records = [
        s.record(eb_event("PaymentCaptured", payment(sequence=i), domain="payments"))
        for i in range(1, 6)
    ]
    k = 2
    records[k] = s.record(
        eb_event("PaymentCaptured", payment(sequence=3, amount=-1), domain="payments")
    )

    response = invoke(audit_logger, env, *records)
    assert failed_ids(response) == [r["messageId"] for r in records[k:]]
    assert s.effects(cloud) == k, "records after the failure must never reach the handler"

    [line] = batch_lines(caplog)
    assert line.levelname == "WARNING" and line.skipped == 2
    blocker = records[k]["messageId"]
    assert line.heldBack == [
        {"messageId": r["messageId"], "messageGroupId": "p-1", "blockedBy": blocker}
        for r in records[k + 1 :]
    ]
    assert [f["messageId"] for f in line.failures] == [blocker]


@pytest.mark.parametrize("s", AUDIT, ids=lambda s: s.id)
def test_fifo_can_hold_back_only_the_failing_group(s, cloud, meter, caplog):
    env = s.env(cloud, FIFO_SKIP_GROUP_ON_ERROR="true")
    a1 = s.record(eb_event("PaymentCaptured", payment("p-a", 1, amount=-1), domain="payments"))
    b1 = s.record(eb_event("PaymentCaptured", payment("p-b", 1), domain="payments"))
    a2 = s.record(eb_event("PaymentCaptured", payment("p-a", 2), domain="payments"))
    b2 = s.record(eb_event("PaymentCaptured", payment("p-b", 2), domain="payments"))
    b3 = s.record(eb_event("PaymentCaptured", payment("p-b", 3, amount=-1), domain="payments"))
    a3 = s.record(eb_event("PaymentCaptured", payment("p-a", 3), domain="payments"))
    b4 = s.record(eb_event("PaymentCaptured", payment("p-b", 4), domain="payments"))

    response = invoke(audit_logger, env, a1, b1, a2, b2, b3, a3, b4)
    assert failed_ids(response) == [r["messageId"] for r in (a1, a2, b3, a3, b4)]
    assert s.effects(cloud) == 2

    [line] = batch_lines(caplog)
    # Each held-back message names the failure in its own group that held it back.
    assert [(h["messageId"], h["messageGroupId"], h["blockedBy"]) for h in line.heldBack] == [
        (a2["messageId"], "p-a", a1["messageId"]),
        (a3["messageId"], "p-a", a1["messageId"]),
        (b4["messageId"], "p-b", b3["messageId"]),
    ]


# 7 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "scenario",
    [s for s in ALL_SCENARIOS if s.id != "audit_logger"],
    ids=lambda s: s.id,
    indirect=True,
)
def test_same_key_with_different_payload_fails_visibly(scenario, cloud, meter, caplog):
    env = scenario.env(cloud)
    assert failed_ids(invoke(scenario.module, env, scenario.record(scenario.event()))) == []
    changed = scenario.record(scenario.changed_event())

    assert failed_ids(invoke(scenario.module, env, changed)) == [changed["messageId"]]
    assert scenario.effects(cloud) == 1
    assert failure_reasons(caplog)[changed["messageId"]].startswith("PayloadMismatch")


def test_per_batch_archive_lists_a_conflicting_payload_instead_of_refusing_it(cloud):
    """The one exception to 7, declared in the catalogue: per-batch objects have no per-key
    guard to compare with, so the conflict surfaces where the archive is read."""
    s = BY_ID["audit_logger"]
    assert "not refused" in s.spec.delivery_reason
    env = s.env(cloud)
    assert failed_ids(invoke(audit_logger, env, s.record(s.event()))) == []
    assert failed_ids(invoke(audit_logger, env, s.record(s.changed_event()))) == []
    [(_, payloads)] = archived_key_counts(cloud.archive().items()).items()
    assert payloads == 2, "the view's conflict query lists this key"


# 8 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "key",
    ["detail.notThere", "[detail.orderId, detail.notThere]", "[detail.paymentId, detail.notThere]"],
)
def test_missing_business_key_fails_the_record(scenario, key, cloud, meter, caplog):
    env = scenario.env(cloud, IDEMPOTENCY_KEY_PATH=key)
    record = scenario.record(scenario.event())
    assert failed_ids(invoke(scenario.module, env, record)) == [record["messageId"]]
    assert scenario.effects(cloud) == 0
    assert cloud.items() == [] and cloud.archive() == {}
    assert "business key" in failure_reasons(caplog)[record["messageId"]]


# 9 ------------------------------------------------------------------------------------------------
# The audit logger writes no DynamoDB item (its guard is the S3 conditional put).
@pytest.mark.parametrize(
    "scenario",
    [s for s in ALL_SCENARIOS if s.name != "audit_logger"],
    ids=lambda s: s.id,
    indirect=True,
)
def test_dynamodb_errors_fail_the_record(scenario, cloud, meter):
    env = scenario.env(cloud, IDEMPOTENCY_TABLE="no-such-table")
    records = [scenario.record(scenario.event(orderId=f"o-{i}")) for i in range(3)]
    assert sorted(failed_ids(invoke(scenario.module, env, *records))) == sorted(
        r["messageId"] for r in records
    )
    assert scenario.effects(cloud) == 0


def test_throttled_update_fails_the_record(cloud):
    s = BY_NAME["order_processor"]
    fail_calls("dynamodb", "UpdateItem", RuntimeError("ProvisionedThroughputExceeded"), times=10)
    record = s.record(s.event())
    assert failed_ids(invoke(order_processor, s.env(cloud), record)) == [record["messageId"]]


# 10 -----------------------------------------------------------------------------------------------
def test_consumers_sharing_the_table_do_not_block_each_other(cloud, meter):
    s = BY_NAME["notification_sender"]
    s.prepare(cloud)
    event = s.event()
    first, second = s.env(cloud, "orders-notify-a"), s.env(cloud, "orders-notify-b")
    fail_calls("sns", "Publish", SimulatedTimeout())
    with pytest.raises(SimulatedTimeout):
        invoke(notification_sender, first, s.record(event))  # leaves an in-progress mark for a

    assert failed_ids(invoke(notification_sender, second, s.record(event))) == []
    assert len(cloud.deliveries(cloud.notifications)) == 1

    orders = BY_NAME["order_processor"]
    for name in ("orders-processor-a", "orders-processor-b"):
        assert (
            failed_ids(
                invoke(order_processor, orders.env(cloud, name), orders.record(orders.event()))
            )
            == []
        )
    ids = sorted(i["id"]["S"] for i in cloud.items())
    assert [i.split(".")[0].split("#")[0] for i in ids] == [
        "orders-notify-a",
        "orders-notify-b",
        "orders-processor-a",
        "orders-processor-b",
    ]


def test_every_item_id_starts_with_the_function_name(scenario, cloud, meter):
    env = scenario.env(cloud, "fn-under-test")
    assert failed_ids(invoke(scenario.module, env, scenario.record(scenario.event()))) == []
    items = cloud.items()
    # Every consumer but the audit logger (an S3 guard) writes an item; else the check is vacuous.
    assert bool(items) == (scenario.spec.ddb_writes_per_event > 0)
    assert all(i["id"]["S"].startswith("fn-under-test") for i in items)


# D: poison is labelled poison ---------------------------------------------------------------------
ENVELOPE = {
    "version": "0",
    "id": "e-1",
    "detail-type": "OrderCreated",
    "source": "com.ascendion.orders",
    "account": "123456789012",
    "time": "2026-03-01T10:00:01Z",
    "region": "us-east-1",
    "resources": [],
}


def _body(**fields) -> str:
    return json.dumps({**ENVELOPE, "detail": order_created(), **fields})


def _nested(depth: int) -> str:
    """An event whose detail holds `depth` nested arrays, written out as text."""
    detail = '{"orderId":"o-1","version":1,"deep":' + "[" * depth + "]" * depth + "}"
    return _body(detail=None).replace('"detail": null', f'"detail": {detail}')


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # A list is unhashable in the cached schema lookup: a TypeError, so far "retryable".
        (_body(**{"detail-type": ["OrderCreated"]}), "detail-type is list"),
        (_body(**{"detail-type": {"name": "OrderCreated"}}), "detail-type is dict"),
        (_body(**{"detail-type": 7}), "detail-type is int 7"),
        (_body(time=1767225600), "time is int 1767225600"),
        (_body(time="yesterday"), 'time "yesterday" is not ISO 8601'),
        (_body(resources="arn:aws:s3:::b"), "resources is not a list of strings"),
        # json.loads raises RecursionError (not a ValueError): so far "retryable".
        (_nested(100_000), "nested too deeply to parse"),
        # Parses, but schema validation and its error message would recurse through it.
        (_nested(MAX_DEPTH + 5), f"nested more than {MAX_DEPTH} levels deep"),
    ],
    ids=[
        "detail-type-list",
        "detail-type-dict",
        "detail-type-int",
        "time-int",
        "time-text",
        "resources-string",
        "json-too-deep-to-parse",
        "json-deeper-than-the-limit",
    ],
)
def test_unusable_envelopes_are_poison_with_their_reason(cloud, meter, caplog, body, reason):
    s = BY_NAME["order_processor"]
    record = sqs_record(body)
    assert failed_ids(invoke(order_processor, s.env(cloud), record)) == [record["messageId"]]
    failure = failures(caplog)[record["messageId"]]
    assert failure["kind"] == "poison", failure
    assert failure["reason"].startswith("PoisonRecord: ") and reason in failure["reason"]
    assert s.effects(cloud) == 0


def test_a_key_path_that_fails_on_this_event_is_poison(cloud, caplog):
    s = BY_NAME["order_processor"]
    # join() needs strings; version is a number in this event.
    env = s.env(cloud, IDEMPOTENCY_KEY_PATH="join('-', [detail.orderId, detail.version])")
    record = s.record(s.event())
    assert failed_ids(invoke(order_processor, env, record)) == [record["messageId"]]
    failure = failures(caplog)[record["messageId"]]
    assert failure["kind"] == "poison" and "cannot be evaluated on this event" in failure["reason"]


def test_recursion_anywhere_in_processing_is_poison(cloud, monkeypatch, caplog):
    """A RecursionError is deterministic for the record: retrying cannot cure it."""
    s = BY_NAME["notification_sender"]
    s.prepare(cloud)

    def render(_incoming):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(notify, "render", render)
    record = s.record(s.event())
    assert failed_ids(invoke(notification_sender, s.env(cloud), record)) == [record["messageId"]]
    failure = failures(caplog)[record["messageId"]]
    assert failure["kind"] == "poison" and "too deeply nested to process" in failure["reason"]
    assert HANDLERS["notification_sender"].idempotency == "powertools"
    assert cloud.items() == [], "the guard's mark is released like any other failure's"
