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
