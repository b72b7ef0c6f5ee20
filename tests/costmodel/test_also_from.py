"""A consumer that also reads another domain (`also_from`) is priced with every feed's volume.

shipping puts 100,000 ShipmentDelivered a month on its bus; orders' analytics reads them through
one more rule there. Its queue, function and guard writes then carry exactly those 100,000 more
deliveries beside its own domain's, and the rule's two alarms are priced; `costmodel diff` shows
the change. Assumptions are simple (no duplicates, failures or idle polling; full batches) so
each amount is a line of arithmetic; prices are typed by hand (hand_prices).
"""

from __future__ import annotations

import copy
import json

import pytest
from hand_prices import (
    ALARM_MONTH,
    ARM_GB_S,
    DDB_WRITE_PER_M,
    EXACT_TRAFFIC,
    LAMBDA_REQUEST_PER_M,
    SQS_STANDARD_PER_M,
    M,
)

from costmodel.__main__ import main
from costmodel.diff import diff
from costmodel.scenarios import model_from_values
from tests.cross_domain import ANALYTICS_ALSO_FROM, DELIVERED_VOLUME, SHIPPING, shipping_schemas

STACK = "flow"
BATCH = 10
DURATION_S, MEMORY_GB = 0.120, 0.25  # the consumer defaults: 120 ms per batch, 256 MB
BASE = {
    "aws:region": "us-east-1",
    "eda-platform:assumptions": EXACT_TRAFFIC,
    "eda-platform:domains": {
        "orders": {
            "source": "com.ascendion.orders",
            "event_types": {"OrderCreated": {"monthly_volume": 1 * M}},
            "topics": {"lifecycle": {"subscribe": {"detail_types": ["OrderCreated"]}}},
            "consumers": {
                "analytics": {
                    "handler": "analytics",
                    "idempotency_key": "detail.orderId",
                    "subscribe": {"topic": "lifecycle"},
                },
            },
        },
        "shipping": SHIPPING,
    },
}


def reading_shipping(values: dict) -> dict:
    values = copy.deepcopy(values)
    analytics = values["eda-platform:domains"]["orders"]["consumers"]["analytics"]
    analytics["also_from"] = copy.deepcopy(ANALYTICS_ALSO_FROM)
    analytics["idempotency_key"] = "[source, detail.orderId]"  # two producers: source keeps them apart
    return values


@pytest.fixture(scope="module", autouse=True)
def schemas(tmp_path_factory):
    with shipping_schemas(tmp_path_factory.mktemp("schemas")) as root:
        yield root


@pytest.fixture(scope="module")
def before():
    return model_from_values(STACK, BASE, origin="test_also_from").estimate()


@pytest.fixture(scope="module")
def after():
    return model_from_values(STACK, reading_shipping(BASE), origin="test_also_from").estimate()


def line(estimate, service, component, resource=f"{STACK}-orders-analytics"):
    frame = estimate.frame()
    rows = frame[
        (frame.service == service) & (frame.resource == resource) & (frame.component == component)
    ]
    assert len(rows) == 1, (service, resource, component)
    return rows.iloc[0]


# (service, component): (extra quantity, extra USD) for 100,000 more deliveries.
BATCHES = DELIVERED_VOLUME / BATCH
EXTRA = {
    ("SQS", "send"): (DELIVERED_VOLUME, DELIVERED_VOLUME * SQS_STANDARD_PER_M / M),
    ("SQS", "receive (batched)"): (BATCHES, BATCHES * SQS_STANDARD_PER_M / M),
    ("SQS", "delete (batched)"): (BATCHES, BATCHES * SQS_STANDARD_PER_M / M),
    ("Lambda", "requests"): (BATCHES, BATCHES * LAMBDA_REQUEST_PER_M / M),
    ("Lambda", "duration (arm64)"): (
        BATCHES * DURATION_S * MEMORY_GB,
        BATCHES * DURATION_S * MEMORY_GB * ARM_GB_S,
    ),
    # analytics guards with one conditional write per event: 1 write unit (item under 1 KB).
    ("DynamoDB", "writes (conditional-write)"): (
        DELIVERED_VOLUME,
        DELIVERED_VOLUME * DDB_WRITE_PER_M / M,
    ),
}


@pytest.mark.parametrize(("service", "component"), EXTRA)
def test_the_shared_consumer_gets_exactly_the_other_domains_matched_events(
    before, after, service, component
):
    quantity, cost = EXTRA[(service, component)]
    old, new = line(before, service, component), line(after, service, component)
    assert new.quantity - old.quantity == pytest.approx(quantity)
    assert new.monthly_cost - old.monthly_cost == pytest.approx(cost)


def test_without_the_feed_shippings_deliveries_reach_no_one(before, after):
    assert before.frame().query("resource == 'flow-orders-analytics' and component == 'send'")[
        "quantity"
    ].sum() == pytest.approx(1 * M)
    assert any("ShipmentDelivered" in w for w in before.warnings)
    assert not any("ShipmentDelivered" in w for w in after.warnings)


def test_the_feeds_rule_is_priced_by_its_two_alarms(before, after):
    alarms_before = line(before, "CloudWatch", "alarms", f"{STACK}-alarms")
    alarms_after = line(after, "CloudWatch", "alarms", f"{STACK}-alarms")
    assert alarms_after.quantity - alarms_before.quantity == 2
    assert alarms_after.monthly_cost - alarms_before.monthly_cost == pytest.approx(2 * ALARM_MONTH)


def test_diff_shows_the_consumers_new_deliveries(before, after):
    change = diff(before, after)
    resources = change.resources.set_index(["service", "resource"])
    sqs = resources.loc[("SQS", f"{STACK}-orders-analytics")]
    assert sqs.status == "changed"
    assert sqs.change == pytest.approx(sum(c for (s, _), (_, c) in EXTRA.items() if s == "SQS"))
    assert resources.loc[("Lambda", f"{STACK}-orders-analytics")].change == pytest.approx(
        sum(c for (s, _), (_, c) in EXTRA.items() if s == "Lambda")
    )
    assert change.change > sum(c for _, c in EXTRA.values())  # plus alarms, logs, storage


def test_the_cli_estimates_and_diffs_the_stack(monkeypatch, capsys, tmp_path):
    """`costmodel estimate` and `costmodel diff` read stack files: here two, as the CLI finds them."""
    import offline.program
    import settings.load

    stacks = {"before": BASE, "after": reading_shipping(BASE)}

    def values(stack, root=None):
        return copy.deepcopy(stacks[stack])

    monkeypatch.setattr(settings.load, "stack_values", values)
    monkeypatch.setattr(offline.program, "stack_values", values)
    assert main(["estimate", "--stack", "after", "--format", "json"]) == 0
    estimate = json.loads(capsys.readouterr().out)
    routed = {(i["service"], i["resource"], i["component"]) for i in estimate["items"]}
    assert ("SQS", "after-orders-analytics", "send") in routed
    assert main(["diff", "before", "after", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    changed = {(r["service"], r["resource"]): r for r in document["resources"]}
    assert changed[("SQS", "after-orders-analytics")]["change"] == pytest.approx(
        sum(c for (s, _), (_, c) in EXTRA.items() if s == "SQS")
    )
