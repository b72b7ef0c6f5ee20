"""`ops verify` has a route, and a canary, for each feed of a consumer: its own, and each domain it
reads `also_from`, whose canary is one of that domain's events put on that domain's bus."""

from __future__ import annotations

import pytest

from offline.program import stack_config
from ops.routes import routes
from settings.load import parse
from tests.cross_domain import from_cli, shipping_schemas, with_shipping


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    with shipping_schemas(tmp_path_factory.mktemp("schemas")):
        values = with_shipping(from_cli(stack_config("local")))
        yield parse(values, stack="local", origin="test")


def test_each_consumer_has_a_route_per_feed(config):
    found = {r.name: r for r in routes(config)}
    analytics = found["orders/analytics via rule from shipping"]
    assert (analytics.detail_type, analytics.feed.bus_domain) == ("ShipmentDelivered", "shipping")
    assert analytics.feed.subscriber == "orders-analytics" and analytics.feed.topic is None
    audit = found["payments/audit via pipe from shipping"]
    assert audit.detail_type == "ShippingFeeCharged"
    # The own routes stay as they were.
    assert found["orders/analytics via topic order-lifecycle"].feed.bus_domain == "orders"
    assert found["payments/audit via pipe"].detail_type.startswith("Payment")
    assert sum(r.via.endswith("from shipping") for r in found.values()) == 2


def test_a_canary_can_be_a_declared_sample_the_schema_does_not_enumerate():
    """A rule routing on a value only the type's declared `samples` carry still gets a canary,
    as the cost model routes the same samples."""
    values = from_cli(stack_config("dev"))
    orders = values["eda-platform:domains"]["orders"]
    vip = {"orderId": "o-1", "version": 2, "status": "CONFIRMED", "customerEmail": "vip@example.com",
           "updatedAt": "2026-01-01T00:00:00Z"}  # fmt: skip
    orders["event_types"]["OrderUpdated"]["samples"] = [
        {"share": 0.9, "detail": {**vip, "customerEmail": "someone@example.com"}},
        {"share": 0.1, "detail": vip},
    ]
    orders["consumers"]["fulfillment"]["subscribe"] = {
        "pattern": {"detail-type": ["OrderUpdated"], "detail": {"customerEmail": ["vip@example.com"]}}
    }
    (route,) = [r for r in routes(parse(values, stack="dev", origin="test")) if r.consumer == "fulfillment"
                and r.domain == "orders"]  # fmt: skip
    assert (route.detail_type, route.detail) == ("OrderUpdated", vip)
