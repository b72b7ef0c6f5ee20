"""Scenarios that each need their own cloud: FIFO order, routing changes, redrive, replay.

Real handlers and the real producer throughout, each function running its deployed code in its
sandboxed worker; a test observes what a poller's invocations completed, never replaces a handler.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

from ops.dlq import inspect, redrive
from ops.replay import replay
from localcloud.flow import follow_ups
from localcloud.workload import Ledger, Mix, Planned, drive
from tests.localcloud.conftest import local_config

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

    with fresh_cloud() as cloud:
        poller = cloud.poller("local-payments-audit")
        poller.observers.append(record)
        planned = payment_steps(4)
        # The second step of pay-1 fails once, in the middle of a batch of ten.
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
        entries = inspect(cloud.sqs, dlq, domain="inventory", key_path="detail.movementId")
        assert sorted(e.key for e in entries) == [f"m-{n}" for n in range(6)]
        assert all(e.reason.startswith("valid event") for e in entries)
        assert not follow_ups(cloud, "local-inventory")

        cloud.faults.outage = set()  # the fix
        assert redrive(cloud.ops_sqs(), dlq, poll_s=0) == 6
        cloud.drain(timeout_s=60)
        published = [e["detail"]["movementId"] for e in follow_ups(cloud, "local-inventory")]
        assert sorted(published) == [f"m-{n}" for n in range(6)]
        assert not inspect(cloud.sqs, dlq, domain="inventory", key_path="detail.movementId")

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
