"""End to end on the emulator with the real handlers and the real producer.

Every assertion reads the services (DynamoDB, S3, SNS taps, SQS DLQs), never the poller's own
counters alone.
"""

from __future__ import annotations

import json

from localcloud.flow import counters_total
from localcloud.poller import detail_digest


def test_conservation_every_event_applied_once_or_in_a_dlq(faulty_run):
    _, ledger, observed = faulty_run
    assert ledger.poison and ledger.republished and ledger.faults.transient
    for flow in observed:
        assert flow.routed, f"{flow.consumer} received nothing: the workload does not exercise it"
        assert not flow.missing, f"{flow.domain}/{flow.consumer} lost {len(flow.missing)} event(s)"
        assert not flow.unexpected and not flow.applied_twice
        assert flow.applied | flow.dlq_keys == flow.routed
        # Read back per event: every effect holds its own event's fields (order state: each
        # field from the newest version that carried it, none lost).
        assert not flow.disagreements, flow.disagreements


def test_duplicates_are_delivered_but_applied_once(faulty_run):
    cloud, ledger, observed = faulty_run
    redelivered = sum(p.stats.injected_redelivery for p in cloud.pollers)
    assert redelivered > 0
    for flow in observed:
        poller = next(p for p in cloud.pollers if p.name == flow.function)
        # More successful deliveries than side effects: the guard absorbed the duplicates.
        if flow.handler != "order_processor":  # superseded versions also count as absorbed there
            assert poller.stats.records_succeeded >= len(flow.applied)
        assert not flow.applied_twice
    analytics = next(f for f in observed if f.domain == "payments" and f.consumer == "analytics")
    assert counters_total(cloud, analytics.function) == len(analytics.applied)


def test_transient_failure_is_applied_once_after_the_retry(faulty_run):
    cloud, ledger, observed = faulty_run
    # The faults hit the side effect itself: the services answered the consumers' downstream
    # calls with their server error, the handlers logged it and reported the record failed.
    injected = [p for p in cloud.pollers if p.stats.injected_transient]
    assert injected
    for poller in injected:
        assert cloud.downstream.failed[poller.name] >= 1, poller.name
        assert any("injected by localcloud" in line for line in poller.logs.lines), poller.name
    retried = sum(p.stats.succeeded_after_retry for p in cloud.pollers)
    assert retried >= sum(p.stats.injected_transient for p in cloud.pollers) - sum(len(f.dlq) for f in observed)
    transient_keys = {p.digest for p in ledger.events if p.digest in ledger.faults.transient}
    assert transient_keys
    # None of the transiently failed events is in a DLQ: one retry cured each.
    dead = {detail_digest(e.body) for f in observed for e in f.dlq}
    assert not transient_keys & dead


def test_poison_reaches_the_dlq_after_max_receive_count_and_raises_the_alarm(faulty_run):
    cloud, ledger, observed = faulty_run
    poison = {p.digest for p in ledger.poison}
    for flow in observed:
        entries = flow.dlq
        assert all(e.reason.startswith("poison:") for e in entries), entries
        if not entries:
            continue
        # SQS received each exactly maxReceiveCount times before moving it: the DLQ keeps the
        # count, and inspecting adds one.
        assert {e.receive_count for e in entries} == {5 + 1}
        dlq_name = flow_dlq_name(cloud, flow)
        assert f"{dlq_name}-depth" in {name for name, _ in cloud.alarms.raised}
    dead = {detail_digest(e.body) for f in observed for e in f.dlq}
    assert dead and dead <= poison
    alarms = cloud.read_tap("local-alarms")
    assert any(json.loads(n["Message"])["NewStateValue"] == "ALARM" for n in alarms)


def flow_dlq_name(cloud, flow) -> str:
    return cloud.deployment.exports[flow.domain]["dlq_urls"][flow.consumer].rsplit("/", 1)[1]


def test_each_function_ran_its_deployed_code_and_logged_to_its_own_stream(faulty_run):
    cloud, _, _ = faulty_run
    for poller in cloud.pollers:
        lines = poller.logs.lines
        assert poller.runtime.cold_starts >= 1  # a sandboxed worker, not this process
        # Powertools' structured lines, written by the worker to stdout, under the function's name.
        structured = [json.loads(line) for line in lines if line.startswith("{")]
        batches = [entry for entry in structured if entry.get("message") == "batch done"]
        assert len(batches) == poller.stats.invocations
        service = poller.function.environment["POWERTOOLS_SERVICE_NAME"]
        assert {b["service"] for b in batches} == {service}
        reports = [line for line in lines if line.startswith("REPORT RequestId: ")]
        assert len(reports) == poller.stats.invocations
        assert poller.stats.max_in_flight <= poller.limit
