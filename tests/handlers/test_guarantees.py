"""The issue's guarantees 1-10, against moto, through each consumer's real entry point."""

from __future__ import annotations

import time

import pytest
from handler_kit import (
    SCENARIOS,
    eb_event,
    failed_ids,
    failure_reasons,
    invoke,
    payment,
    sqs_record,
)

from handlers import audit_logger, notification_sender, order_processor
from handlers.catalog import HANDLERS
from handlers.runtime import aws as runtime_aws

BY_NAME = {s.name: s for s in SCENARIOS}


class SimulatedTimeout(BaseException):
    """Lambda killing the process mid-record: no `except Exception` gets to clean up."""


def fail_calls(service: str, operation: str, exc: BaseException, times: int = 1):
    """Make the consumers' next `times` calls of one operation raise `exc`."""
    left = [times]

    def hook(**_):
        if left[0] > 0:
            left[0] -= 1
            raise exc

    runtime_aws.client(service).meta.events.register_first(
        f"before-call.{service}.{operation}", hook
    )


@pytest.fixture(params=SCENARIOS, ids=lambda s: s.name)
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


def test_failed_conditional_write_then_retry_applies_exactly_once(cloud, meter):
    s = BY_NAME["order_processor"]
    env = s.env(cloud)
    record = s.record(s.event())
    fail_calls("dynamodb", "UpdateItem", RuntimeError("connection reset"))

    assert failed_ids(invoke(order_processor, env, record)) == [record["messageId"]]
    assert s.effects(cloud, meter) == 0
    assert failed_ids(invoke(order_processor, env, record)) == []
    assert failed_ids(invoke(order_processor, env, record)) == []
    assert s.effects(cloud, meter) == 1


# 2 ------------------------------------------------------------------------------------------------
def test_duplicates_cause_no_second_side_effect(scenario, cloud, meter):
    env = scenario.env(cloud)
    event = scenario.event()
    first = scenario.record(event)
    assert failed_ids(invoke(scenario.module, env, first)) == []
    assert scenario.effects(cloud, meter) == 1

    redelivered = scenario.record(event, message_id=first["messageId"], receive_count=2)
    resent = {**event, "id": "a-new-eventbridge-id", "time": "2026-03-02T09:00:00Z"}
    assert failed_ids(invoke(scenario.module, env, redelivered)) == []
    assert failed_ids(invoke(scenario.module, env, scenario.record(resent))) == []
    assert scenario.effects(cloud, meter) == 1


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


# 5 ------------------------------------------------------------------------------------------------
def test_partial_batch_reports_exactly_the_failed_ids(cloud, meter):
    s = BY_NAME["order_processor"]
    env = s.env(cloud)
    good = [s.record(s.event(orderId=f"o-{i}")) for i in range(4)]
    not_json = sqs_record("{not json")
    invalid = s.record(s.event(orderId="o-bad", currency="euro"))
    response = invoke(order_processor, env, good[0], not_json, good[1], invalid, *good[2:])
    assert sorted(failed_ids(response)) == sorted([not_json["messageId"], invalid["messageId"]])
    assert s.effects(cloud, meter) == 4

    assert invoke(order_processor, env, s.record(s.event(orderId="o-9"))) == {
        "batchItemFailures": []
    }


# 6 ------------------------------------------------------------------------------------------------
def test_fifo_failure_at_k_returns_k_to_n_unprocessed(cloud):
    s = BY_NAME["audit_logger"]
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
    assert len(cloud.archive()) == k, "records after the failure must never reach the handler"


def test_fifo_can_hold_back_only_the_failing_group(cloud):
    s = BY_NAME["audit_logger"]
    env = s.env(cloud, FIFO_SKIP_GROUP_ON_ERROR="true")
    a1 = s.record(eb_event("PaymentCaptured", payment("p-a", 1, amount=-1), domain="payments"))
    b1 = s.record(eb_event("PaymentCaptured", payment("p-b", 1), domain="payments"))
    a2 = s.record(eb_event("PaymentCaptured", payment("p-a", 2), domain="payments"))
    b2 = s.record(eb_event("PaymentCaptured", payment("p-b", 2), domain="payments"))

    response = invoke(audit_logger, env, a1, b1, a2, b2)
    assert failed_ids(response) == [a1["messageId"], a2["messageId"]]
    assert len(cloud.archive()) == 2


# 7 ------------------------------------------------------------------------------------------------
def test_same_key_with_different_payload_fails_visibly(scenario, cloud, meter, caplog):
    env = scenario.env(cloud)
    assert failed_ids(invoke(scenario.module, env, scenario.record(scenario.event()))) == []
    changed = scenario.record(scenario.changed_event())

    assert failed_ids(invoke(scenario.module, env, changed)) == [changed["messageId"]]
    assert scenario.effects(cloud, meter) == 1
    assert failure_reasons(caplog)[changed["messageId"]].startswith("PayloadMismatch")


# 8 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "key",
    ["detail.notThere", "[detail.orderId, detail.notThere]", "[detail.paymentId, detail.notThere]"],
)
def test_missing_business_key_fails_the_record(scenario, key, cloud, meter, caplog):
    env = scenario.env(cloud, IDEMPOTENCY_KEY_PATH=key)
    record = scenario.record(scenario.event())
    assert failed_ids(invoke(scenario.module, env, record)) == [record["messageId"]]
    assert scenario.effects(cloud, meter) == 0
    assert cloud.items() == [] and cloud.archive() == {}
    assert "business key" in failure_reasons(caplog)[record["messageId"]]


# 9 ------------------------------------------------------------------------------------------------
# The audit logger writes no DynamoDB item (its guard is the S3 conditional put).
@pytest.mark.parametrize(
    "scenario",
    [s for s in SCENARIOS if s.name != "audit_logger"],
    ids=lambda s: s.name,
    indirect=True,
)
def test_dynamodb_errors_fail_the_record(scenario, cloud, meter):
    env = scenario.env(cloud, IDEMPOTENCY_TABLE="no-such-table")
    records = [scenario.record(scenario.event(orderId=f"o-{i}")) for i in range(3)]
    assert sorted(failed_ids(invoke(scenario.module, env, *records))) == sorted(
        r["messageId"] for r in records
    )
    assert scenario.effects(cloud, meter) == 0


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
    assert bool(items) == (HANDLERS[scenario.name].ddb_writes_per_event > 0)
    assert all(i["id"]["S"].startswith("fn-under-test") for i in items)
