"""A consumer that also reads another domain, on the emulator: the local stack plus `shipping`,
whose ShipmentDelivered orders' analytics reads and whose ShippingFeeCharged payments' audit
reads (through its staging queue and pipe). The extra rules and targets are deployed into moto
from the program's registrations, route, and pass `ops verify`; an event put on shipping's bus
is applied by orders' analytics function."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from handlers.logic.daily_counters import daily_counts
from localcloud.emulator import LocalCloud
from localcloud.report import rules_section
from localcloud.workload import Ledger, Planned
from ops.verify import Clients, verify
from tests.cross_domain import SHIPPING_SOURCE, as_cli, from_cli, shipping_schemas, with_shipping
from tests.localcloud.conftest import local_config


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    with shipping_schemas(tmp_path_factory.mktemp("schemas")):
        values = as_cli(with_shipping(from_cli(local_config())))
        with LocalCloud("local", config=values) as local:
            yield local


def test_the_rules_on_shippings_bus_target_the_readers_queues(cloud):
    exports = cloud.deployment.exports
    emulated = {line.name for line in cloud.deployment.report.emulated}
    for subscriber, ingress in (("orders-analytics", ("orders", "analytics")),
                                ("payments-audit", ("payments", "audit"))):
        assert {f"shipping-routing-rule-{subscriber}", f"shipping-routing-target-{subscriber}"} <= emulated
        rule = exports["shipping"]["rule_names"][subscriber]
        (target,) = cloud.events.list_targets_by_rule(Rule=rule, EventBusName="local-shipping")["Targets"]
        domain, consumer = ingress
        queue = exports[domain]["ingress_urls"][consumer].rsplit("/", 1)[1]
        assert target["Arn"].endswith(f":{queue}")
        assert target["DeadLetterConfig"]["Arn"].endswith(":local-shipping-delivery-dlq")


def test_ops_verify_delivers_a_canary_down_every_route_the_cross_domain_ones_included(cloud):
    session = cloud.session
    clients = Clients(cloud.events, session.client("dynamodb"), cloud.sqs, session.client("cloudwatch"))
    results = verify(cloud.config, cloud.deployment.exports, clients,
                     timeout_s=60, poll_s=0.05, pump=cloud.settle)
    assert {r.route.name: r.problems for r in results if not r.delivered} == {}
    names = {r.route.name for r in results}
    assert {"orders/analytics via rule from shipping", "payments/audit via pipe from shipping"} <= names


def test_the_demo_counts_what_each_rule_on_shippings_bus_matched(cloud):
    ledger = Ledger(events=[
        Planned("shipping", "ShipmentDelivered", {"orderId": "o-1"}),
        Planned("shipping", "ShippingFeeCharged", {"paymentId": "p-1"}),
        Planned("shipping", "ShippingFeeCharged", {"paymentId": "p-2"}),
    ])
    console = Console(width=200, record=True)
    console.print(rules_section(cloud, ledger))
    rows = [" ".join(line.replace("│", " ").split()) for line in console.export_text().splitlines()]
    assert "shipping orders-analytics SQS standard of orders/analytics 1" in rows
    assert "shipping payments-audit SQS fifo of payments/audit 2" in rows
    assert "orders order-lifecycle SNS -> notification, analytics 0" in rows


DELIVERIES = 3


@pytest.fixture(scope="module")
def shipped(cloud):
    """ShipmentDelivered put on shipping's bus, drained; the bodies orders' analytics received."""
    received: list[dict] = []

    def record(delivered: list[dict], failed: set[str]) -> None:
        received.extend(json.loads(m["Body"]) for m in delivered)

    function = cloud.deployment.exports["orders"]["function_names"]["analytics"]
    cloud.poller(function).observers.append(record)
    entries = [
        {
            "EventBusName": cloud.deployment.exports["shipping"]["bus_name"],
            "Source": SHIPPING_SOURCE,
            "DetailType": "ShipmentDelivered",
            "Detail": json.dumps({"shipmentId": f"s-{n}", "orderId": f"o-{n}", "version": 3,
                                  "deliveredAt": "2026-01-02T03:04:05Z"}),
        }
        for n in range(DELIVERIES)
    ]
    assert cloud.events.put_events(Entries=entries)["FailedEntryCount"] == 0
    cloud.drain(timeout_s=60)
    return function, received


def test_an_event_on_shippings_bus_reaches_orders_analytics_function(shipped):
    _, received = shipped
    orders = {e["detail"]["orderId"] for e in received if e["detail-type"] == "ShipmentDelivered"}
    assert orders == {f"o-{n}" for n in range(DELIVERIES)}
    assert {e["source"] for e in received} == {SHIPPING_SOURCE}


def test_an_event_on_shippings_bus_is_applied_by_orders_analytics(cloud, shipped):
    function, _ = shipped
    table = cloud.deployment.exports["idempotency_table"]
    items = cloud.session.client("dynamodb").scan(TableName=table)["Items"]
    counted = daily_counts(items, function)
    assert sum(n for (detail_type, _), n in counted.items() if detail_type == "ShipmentDelivered") == DELIVERIES
    dlq = cloud.deployment.exports["orders"]["dlq_urls"]["analytics"]
    assert not cloud.sqs.receive_message(QueueUrl=dlq).get("Messages")
