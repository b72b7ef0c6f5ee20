"""Scenarios that each need their own cloud: FIFO order, routing changes, redrive, replay.

Real handlers and the real producer throughout, each function running its deployed code in its
sandboxed worker; a test observes what a poller's invocations completed, never replaces a handler.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

from handlers.logic import order_state
from handlers.runtime.guards import Outcome
from localcloud.flow import flows, follow_ups
from localcloud.inprocess import load_handler
from localcloud.workload import Ledger, Mix, Planned, drive
from ops.dlq import inspect, redrive
from ops.replay import replay
from tests.localcloud.conftest import local_config

INVENTORY = {"com.ascendion.inventory": "inventory"}

STEPS = ["PaymentAuthorized", "PaymentCaptured", "PaymentRefunded"]


def payment_steps(payments: int) -> list[Planned]:
    """Each payment's three steps, published step by step across payments."""
    return [
        Planned("payments", t, {"paymentId": f"pay-{n}", "sequence": s + 1, "orderId": f"o-{n}",
                                "amount": 10.0 + n, "currency": "EUR", "occurredAt": "2026-01-02T03:04:05Z"})
        for s, t in enumerate(STEPS)
        for n in range(payments)
    ]


def test_fifo_order_per_payment_holds_and_other_payments_proceed_past_a_failure(fresh_cloud):
    completed: list[tuple[str, int]] = []

    def record(delivered: list[dict], failed: set[str]) -> None:
        """What the sandboxed audit logger completed, batch by batch, in batch order."""
        for message in delivered:
            if message["MessageId"] not in failed:
                detail = json.loads(message["Body"])["detail"]
                completed.append((detail["paymentId"], detail["sequence"]))

    # One object per event: a per-batch archive's PUT carries the whole batch, so its failure
    # fails every record of the batch (as it would on AWS), which is not what this test is about.
    per_event = local_config(**{"payments/audit": {"environment": {"ARCHIVE_OBJECTS": "per-event"}}})
    with fresh_cloud(per_event) as cloud:
        poller = cloud.poller("local-payments-audit")
        poller.observers.append(record)
        planned = payment_steps(4)
        # The second step of pay-1 fails once in its archive PUT, in the middle of a batch of ten.
        failing = [p for p in planned if (p.detail["paymentId"], p.detail["sequence"]) == ("pay-1", 2)]
        cloud.faults.transient = {p.digest for p in failing}
        _drive(cloud, planned)
        cloud.drain(timeout_s=60)
        assert poller.stats.injected_transient == 1 and poller.stats.succeeded_after_retry >= 1
        (pipe,) = cloud.pipes
        assert pipe.forwarded == len(planned) and pipe.failed == 0
    for n in range(4):
        assert [s for pid, s in completed if pid == f"pay-{n}"] == [1, 2, 3]
    # The pipe gave each payment its own message group: the others' later steps completed
    # while pay-1's second step waited for its retry.
    retried = completed.index(("pay-1", 2))
    assert {("pay-0", 2), ("pay-2", 2), ("pay-3", 2)} <= set(completed[:retried])


def test_routing_follows_the_pattern_in_config(fresh_cloud):
    statuses = ["CONFIRMED", "PACKED", "SHIPPED", "DELIVERED"]
    planned = [
        Planned("orders", "OrderUpdated", {"orderId": f"r-{n}", "version": 2, "status": status,
                                           "updatedAt": "2026-01-02T03:04:05Z"})
        for n, status in enumerate(statuses)
    ]

    def fulfilled(config) -> list[str]:
        with fresh_cloud(config) as cloud:
            _drive(cloud, planned)
            cloud.drain(timeout_s=60)
            return sorted(e["detail"]["status"] for e in follow_ups(cloud, "local-orders"))

    assert fulfilled(local_config()) == ["CONFIRMED"]
    shipped = {"subscribe": {"pattern": {"detail-type": ["OrderUpdated"], "detail": {"status": ["SHIPPED", "DELIVERED"]}}}}
    assert fulfilled(local_config(**{"orders/fulfillment": shipped})) == ["DELIVERED", "SHIPPED"]


def test_redrive_after_the_fix_applies_dlq_events_exactly_once(fresh_cloud):
    with fresh_cloud() as cloud:
        planned = [
            Planned("inventory", "InventoryReserved", {"movementId": f"m-{n}", "sku": "sku-1", "warehouseId": "wh-1",
                                                       "quantity": n + 1, "occurredAt": "2026-01-02T03:04:05Z"})
            for n in range(6)
        ]
        cloud.faults.outage = {"local-inventory-fulfillment"}  # its downstream is down
        _drive(cloud, planned)
        cloud.drain(timeout_s=60)
        dlq = cloud.deployment.exports["inventory"]["dlq_urls"]["fulfillment"]
        entries = inspect(cloud.sqs, dlq, domains=INVENTORY, key_path="detail.movementId")
        assert sorted(e.key for e in entries) == [f"m-{n}" for n in range(6)]
        assert all(e.reason.startswith("valid event") for e in entries)
        assert not follow_ups(cloud, "local-inventory")

        cloud.faults.outage = set()  # the fix
        assert redrive(cloud.ops_sqs(), dlq, poll_s=0) == 6
        cloud.drain(timeout_s=60)
        published = [e["detail"]["movementId"] for e in follow_ups(cloud, "local-inventory")]
        assert sorted(published) == [f"m-{n}" for n in range(6)]
        assert not inspect(cloud.sqs, dlq, domains=INVENTORY, key_path="detail.movementId")

        # A second redrive finds nothing, and a replay of the archive changes no side effect.
        assert redrive(cloud.ops_sqs(), dlq, poll_s=0) == 0
        now = datetime.now(timezone.utc)
        state = replay(cloud.ops_events(), bus_name="local-inventory", archive_name="local-inventory-archive",
                           start=now - timedelta(minutes=5), end=now + timedelta(minutes=1), poll_s=0)
        assert state == "COMPLETED"
        cloud.drain(timeout_s=60)
        published = [e["detail"]["movementId"] for e in follow_ups(cloud, "local-inventory")]
        assert sorted(published) == [f"m-{n}" for n in range(6)]


def test_replay_window_excludes_events_outside_it(fresh_cloud):
    received: list[str] = []

    def record(delivered: list[dict], failed: set[str]) -> None:
        """Which movements reached the sandboxed fulfillment handler."""
        received.extend(json.loads(m["Body"])["detail"]["movementId"] for m in delivered)

    with fresh_cloud() as cloud:
        poller = cloud.poller("local-inventory-fulfillment")
        poller.observers.append(record)
        _drive(cloud, [Planned("inventory", "InventoryReserved", {"movementId": "early", "sku": "s", "warehouseId": "w",
                                                                  "quantity": 1, "occurredAt": "2026-01-02T03:04:05Z"})])
        cloud.drain(timeout_s=30)
        time.sleep(1.1)  # archive times have second resolution
        after = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)
        time.sleep(1.1)
        _drive(cloud, [Planned("inventory", "InventoryReserved", {"movementId": "late", "sku": "s", "warehouseId": "w",
                                                                  "quantity": 1, "occurredAt": "2026-01-02T03:04:05Z"})])
        cloud.drain(timeout_s=30)
        delivered = poller.stats.records_succeeded
        replay(cloud.ops_events(), bus_name="local-inventory", archive_name="local-inventory-archive",
                   start=after, end=after + timedelta(minutes=5), poll_s=0)
        cloud.drain(timeout_s=30)
        # Only "late" (and the follow-up it caused, which no consumer receives) was replayed.
        assert poller.stats.records_succeeded == delivered + 1
        assert received == ["early", "late", "late"]
        # The replayed copy changed no side effect: one follow-up per movement.
        assert sorted(e["detail"]["movementId"] for e in follow_ups(cloud, "local-inventory")) == ["early", "late"]


def _drive(cloud, planned: list[Planned]) -> Ledger:
    buses = {d: cloud.deployment.exports[d]["bus_name"] for d in cloud.config.domains}
    return drive(cloud.config, Mix(events=len(planned), duplicates=0, failures=0, poison=0), events_client=cloud.events,
                 buses=buses, faults=cloud.faults, published_at=cloud.published_at, planned=planned)


def _order_versions_out_of_order(cloud) -> Ledger:
    """OrderUpdated v2 applied first, OrderCreated v1 arriving after it (as after v1's failed
    first delivery): the ledger of both."""
    created = Planned("orders", "OrderCreated", {
        "orderId": "late-1", "version": 1, "customerId": "c-9", "customerEmail": "ada@example.com",
        "items": [{"sku": "sku-1", "quantity": 1, "unitPrice": 12.5}], "total": 12.5, "currency": "EUR",
        "createdAt": "2026-01-02T03:04:05Z"})
    updated = Planned("orders", "OrderUpdated", {"orderId": "late-1", "version": 2, "status": "PACKED",
                                                 "updatedAt": "2026-01-02T04:00:00Z"})
    ledger = _drive(cloud, [updated])
    cloud.drain(timeout_s=60)
    ledger.events += _drive(cloud, [created]).events
    cloud.drain(timeout_s=60)
    return ledger


def test_an_older_version_arriving_late_still_gives_its_fields(fresh_cloud):
    with fresh_cloud() as cloud:
        ledger = _order_versions_out_of_order(cloud)
        (processor,) = [f for f in flows(cloud, ledger) if (f.domain, f.consumer) == ("orders", "processor")]
    assert processor.conserved and len(processor.applied) == 2, processor


def test_the_flow_check_sees_fields_an_order_consumer_loses(fresh_cloud, monkeypatch):
    """The earlier consumer acknowledged an older version as superseded without writing: the
    flow check, reading the state back per event, names the lost fields."""
    monkeypatch.setattr(order_state, "_merge", lambda *args, **kwargs: Outcome.SUPERSEDED)
    handler = "handlers.order_processor.handler"
    with fresh_cloud(handlers={handler: load_handler(handler)}) as cloud:
        ledger = _order_versions_out_of_order(cloud)
        (processor,) = [f for f in flows(cloud, ledger) if (f.domain, f.consumer) == ("orders", "processor")]
    assert not processor.conserved and len(processor.missing) == 1
    (lost,) = processor.disagreements.values()
    assert "createdAt, currency, customerEmail, customerId, total lost" in lost[0]
