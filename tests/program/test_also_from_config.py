"""`also_from`: what a consumer that reads other domains receives, and every entry refused at load
(exit 2, key path, what is wrong, what is allowed)."""

from __future__ import annotations

import copy

import pytest

from offline.program import stack_config
from settings.feeds import Feed, feeds, rules_on
from settings.keys import received_types
from settings.load import ConfigError, parse
from settings.naming import feed_subscriber
from tests.cross_domain import DOMAINS, from_cli, shipping_schemas, with_shipping


@pytest.fixture(scope="module", autouse=True)
def schemas(tmp_path_factory):
    with shipping_schemas(tmp_path_factory.mktemp("schemas")) as root:
        orders_ana = root / "orders-ana"  # a domain whose readers' names collide with orders'
        orders_ana.mkdir()
        (orders_ana / "OrderAnalysed.json").write_text((root / "orders" / "OrderUpdated.json").read_text())
        yield root


def values(edit=None) -> dict:
    """dev with shipping, read by orders' analytics and payments' audit; `edit` changes domains."""
    shipped = with_shipping(from_cli(stack_config("dev")))
    if edit is not None:
        edit(shipped[DOMAINS])
    return shipped


def load(edit=None, stack="dev"):
    return parse(values(edit), stack=stack, origin=f"Pulumi.{stack}.yaml")


def analytics(domains) -> dict:
    return domains["orders"]["consumers"]["analytics"]


def audit(domains) -> dict:
    return domains["payments"]["consumers"]["audit"]


def reader(detail_type: str, also_from: dict) -> dict:
    """A consumer keyed like analytics, of its domain's `detail_type`, that also reads `also_from`."""
    return {
        "handler": "analytics",
        "subscribe": {"detail_types": [detail_type]},
        "idempotency_key": "[source, detail.orderId, detail.version]",
        "reserved_concurrency": 5,
        "also_from": also_from,
    }


def colliding_readers(domains):
    """orders/ana-lytics and orders-ana/lytics are both `orders-ana-lytics` on shipping's bus."""
    domains["orders"]["consumers"]["ana-lytics"] = reader(
        "OrderUpdated", {"shipping": {"detail_types": ["ShipmentDelivered"]}}
    )
    domains["orders-ana"] = {
        "source": "com.ascendion.orders-ana",
        "event_types": {"OrderAnalysed": {"monthly_volume": 10}},
        "consumers": {
            "lytics": reader("OrderAnalysed", {"shipping": {"detail_types": ["ShipmentDelivered"]}})
        },
    }


AT = "eda-platform: domains.orders.consumers.analytics.also_from"
REFUSED = {
    "unknown-domain": (
        lambda d: analytics(d).update(also_from={"shiping": {"detail_types": ["ShipmentDelivered"]}}),
        [f"{AT}.shiping: no domain 'shiping' is declared",
         "(declared: inventory, orders, payments, shipping)",
         "also_from names another domain of this stack",
         "e.g. also_from: {payments: {detail_types: [PaymentAuthorized]}}"],
    ),
    "own-domain": (
        lambda d: analytics(d).update(also_from={"orders": {"detail_types": ["OrderCreated"]}}),
        [f"{AT}.orders: 'orders' is the consumer's own domain",
         "receives through `subscribe`", "(allowed: payments, inventory, shipping)"],
    ),
    "type-the-domain-does-not-declare": (
        lambda d: analytics(d)["also_from"]["shipping"].update(detail_types=["ShipmentLost"]),
        [f"{AT}.shipping: subscribes to event type 'ShipmentLost', which domain 'shipping' does "
         "not declare (declared: ShipmentDelivered, ShippingFeeCharged)"],
    ),
    "type-in-a-pattern-the-domain-does-not-declare": (
        lambda d: analytics(d)["also_from"].update(
            shipping={"pattern": {"detail-type": ["OrderCreated"]}}),
        [f"{AT}.shipping: subscribes to event type 'OrderCreated', which domain 'shipping'"],
    ),
    "pattern-for-another-source": (
        lambda d: analytics(d)["also_from"].update(shipping={"pattern": {
            "source": ["com.ascendion.orders"], "detail-type": ["ShipmentDelivered"]}}),
        [f"{AT}.shipping: pattern names source ['com.ascendion.orders']",
         "this rule is on shipping's bus, which carries only 'com.ascendion.shipping' events",
         "it could never match", "Drop `source` from the pattern"],
    ),
    "pattern-aws-would-reject": (
        lambda d: analytics(d)["also_from"].update(shipping={"pattern": {
            "detail-type": ["ShipmentDelivered"], "detail": {"carrier": [{"prefixx": "D"}]}}}),
        [f"{AT}.shipping:", "unknown operator 'prefixx'"],
    ),
    "topic": (
        lambda d: analytics(d)["also_from"].update(shipping={"topic": "parcels"}),
        ["eda-platform:domains.orders.consumers.analytics.also_from: shipping: topic 'parcels'",
         "give detail_types or pattern (a rule on shipping's bus)",
         "e.g. {shipping: {detail_types: [<DetailType>]}}"],
    ),
    "topic-with-filter-policy": (
        lambda d: analytics(d)["also_from"].update(
            shipping={"topic": "parcels", "filter_policy": {"detail-type": ["ShipmentDelivered"]}}),
        ["also_from: shipping: topic 'parcels'", "give detail_types or pattern"],
    ),
    "filter-policy-without-topic": (
        lambda d: analytics(d)["also_from"]["shipping"].update(
            filter_policy={"detail-type": ["ShipmentDelivered"]}),
        ["consumers.analytics.also_from.shipping", "filter_policy applies to topic subscriptions only"],
    ),
    "clash-with-the-buses-own-consumer": (
        lambda d: d["shipping"].setdefault("consumers", {}).update(
            {"orders-analytics": reader("ShipmentDelivered", {})}),
        [f"{AT}.shipping: its rule on shipping's bus would be named "
         "'dev-shipping-orders-analytics' (subscriber 'orders-analytics'), which shipping's own "
         "consumer 'orders-analytics' already uses: rename one of them"],
    ),
    "clash-with-the-buses-own-topic": (
        lambda d: d["shipping"].setdefault("topics", {}).update(
            {"orders-analytics": {"subscribe": {"detail_types": ["ShipmentDelivered"]}}}),
        [f"{AT}.shipping: its rule on shipping's bus would be named "
         "'dev-shipping-orders-analytics'", "which shipping's own topic 'orders-analytics' already uses"],
    ),
    "clash-with-another-domains-reader": (
        colliding_readers,
        ["domains.orders-ana.consumers.lytics.also_from.shipping: its rule on shipping's bus would "
         "be named 'dev-shipping-orders-ana-lytics'",
         "which the rule of domains.orders.consumers.ana-lytics already uses"],
    ),
    "key-names-a-field-the-other-domains-type-lacks": (
        lambda d: analytics(d)["also_from"]["shipping"].update(detail_types=["ShippingFeeCharged"]),
        ["eda-platform:domains.orders.consumers.analytics.idempotency_key",
         "detail.version is not a field of shipping's ShippingFeeCharged",
         "every delivery of such an event would fail"],
    ),
    "key-names-a-field-optional-in-the-other-domains-type": (
        lambda d: analytics(d).update(idempotency_key="[source, detail.orderId, detail.carrier]"),
        ["detail.carrier is optional in shipping's ShipmentDelivered"],
    ),
    "key-without-source-for-two-domains": (
        lambda d: analytics(d).update(idempotency_key="[detail.orderId, detail.version]"),
        ["eda-platform:domains.orders.consumers.analytics.idempotency_key",
         "receives events of orders, shipping, whose producers choose their ids independently",
         "the key must name `source`", "e.g. '[source, detail.shipmentId || detail.orderId, detail.version]'"],
    ),
    "key-alternatives-none-of-which-a-type-has": (
        lambda d: analytics(d).update(idempotency_key="[source, detail.shipmentId || detail.parcelId, detail.version]"),
        ["none of detail.shipmentId || detail.parcelId is a required field of OrderCreated",
         "detail.shipmentId is not a field of OrderCreated; detail.parcelId is not a field of OrderCreated"],
    ),
    "group-path-the-other-domains-type-lacks": (
        lambda d: audit(d)["also_from"]["shipping"].update(detail_types=["ShipmentDelivered"]),
        ["eda-platform:domains.payments.consumers.audit.queue.message_group_path",
         "'$.detail.paymentId': detail.paymentId is not a field of shipping's ShipmentDelivered"],
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_an_also_from_entry_that_could_not_work_is_refused_at_load(case):
    edit, expected = REFUSED[case]
    with pytest.raises(ConfigError) as error:
        load(edit)
    message = str(error.value)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_the_generated_rule_name_is_checked_against_awss_limit():
    """Each part is legal, and the consumer's own names fit: only its rule on shipping's bus
    (<stack>-shipping-orders-<consumer>) would be over 64 characters."""
    def long_consumer(domains):
        domains["orders"]["consumers"]["analytics-for-warehouse1"] = domains["orders"]["consumers"].pop(
            "analytics")

    with pytest.raises(ConfigError) as error:
        load(long_consumer, stack="production-eu-central-xx")
    message = str(error.value)
    assert ("domains.orders.consumers.analytics-for-warehouse1.also_from.shipping: the AWS name "
            "'production-eu-central-xx-shipping-orders-analytics-for-warehouse1' has 65 characters; "
            "AWS allows at most 64") in message
    assert message.count("the AWS name") == 1
    assert load(long_consumer, stack="dev")


def test_the_loader_exits_2_naming_the_entry(monkeypatch, capsys):
    import offline.__main__
    import settings.load

    broken = values(REFUSED["unknown-domain"][0])
    monkeypatch.setattr(settings.load, "stack_values", lambda stack, root=None: broken)
    monkeypatch.setattr("offline.program.stack_values", lambda stack, root=None: broken)
    assert offline.__main__.main(["dev"]) == 2
    out = capsys.readouterr()
    assert "domains.orders.consumers.analytics.also_from.shiping" in out.out + out.err
    assert "Traceback" not in out.out + out.err


def test_a_key_may_take_each_value_from_whichever_field_a_type_has():
    """`a || b`: shipping's events supply the shipment id, orders' the order id."""
    config = load(lambda d: analytics(d).update(
        idempotency_key="[source, detail.shipmentId || detail.orderId, detail.version]"))
    assert config.domains["orders"].consumers["analytics"].also_from


def test_feeds_list_the_own_subscription_then_each_other_domain():
    config = load()
    domains = config.domains
    lifecycle = domains["orders"].topics["order-lifecycle"].subscribe
    also = domains["orders"].consumers["analytics"].also_from["shipping"]
    assert feeds(config, "orders", "analytics") == [
        Feed("orders", lifecycle, None, "order-lifecycle", "order-lifecycle"),
        Feed("shipping", also, None, "orders-analytics", None),
    ]
    audit_config = domains["payments"].consumers["audit"]
    assert feeds(config, "payments", "audit") == [
        Feed("payments", audit_config.subscribe, None, "audit", None),
        Feed("shipping", audit_config.also_from["shipping"], None, "payments-audit", None),
    ]
    notification = domains["orders"].consumers["notification"].subscribe
    assert feeds(config, "orders", "notification") == [
        Feed("orders", lifecycle, notification.filter_policy, "order-lifecycle", "order-lifecycle")
    ]
    assert feed_subscriber("orders", "analytics") == "orders-analytics"


def test_a_bus_carries_its_own_rules_then_its_readers():
    config = load()
    assert list(rules_on(config, "shipping")) == ["orders-analytics", "payments-audit"]
    assert list(rules_on(config, "orders")) == ["order-lifecycle", "processor", "fulfillment"]


def test_received_types_span_every_domain_the_consumer_reads():
    config = load()
    assert received_types(config, "orders", "analytics") == [
        ("orders", "OrderCreated"), ("orders", "OrderUpdated"), ("shipping", "ShipmentDelivered")
    ]
    assert received_types(config, "payments", "audit") == [
        ("payments", "PaymentAuthorized"), ("payments", "PaymentCaptured"),
        ("payments", "PaymentRefunded"), ("shipping", "ShippingFeeCharged"),
    ]


def test_domains_may_read_each_other_declared_in_any_order():
    def both_ways(domains):
        domains["shipping"]["consumers"] = {
            "tracking": reader("ShipmentDelivered", {"orders": {"detail_types": ["OrderUpdated"]}})
        }

    config = load(both_ways)
    assert feeds(config, "shipping", "tracking")[1].bus_domain == "orders"
    assert "shipping-tracking" in rules_on(config, "orders")
    first = copy.deepcopy(values(both_ways))
    first[DOMAINS] = {"shipping": first[DOMAINS].pop("shipping"), **first[DOMAINS]}
    assert parse(first, stack="dev", origin="Pulumi.dev.yaml")
