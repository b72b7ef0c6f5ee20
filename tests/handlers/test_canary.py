"""`ops verify` canaries: every consumer records the receipt and applies nothing."""

from __future__ import annotations

import json

import pytest
from handler_kit import ALL_SCENARIOS, failed_ids, invoke

from handlers.runtime.canary import MARKER, receipt_id


@pytest.mark.parametrize("scenario", ALL_SCENARIOS, ids=lambda s: s.id)
def test_a_canary_is_acknowledged_with_a_receipt_and_no_business_effect(scenario, cloud):
    scenario.prepare(cloud)
    env = scenario.env(cloud)
    (event,) = scenario.events(1)
    before_items = cloud.items()
    before_archive = cloud.archive()
    canary = {**event, "resources": [MARKER + "run-1"]}
    assert failed_ids(invoke(scenario.module, env, scenario.record(canary))) == []
    receipt = cloud.item(receipt_id(scenario.function_name, "run-1"))
    assert receipt is not None and int(receipt["expiration"]["N"]) > 0
    new_items = [i for i in cloud.items() if i not in before_items]
    assert [i["id"]["S"] for i in new_items] == [receipt_id(scenario.function_name, "run-1")]
    assert cloud.archive() == before_archive


def test_a_canary_with_an_invalid_detail_is_still_only_a_receipt(cloud):
    """Canaries are judged before the schema: verify may send any event its route accepts."""
    from handler_kit import SCENARIOS

    scenario = next(s for s in SCENARIOS if s.name == "order_processor")
    scenario.prepare(cloud)
    (event,) = scenario.events(1)
    canary = {**event, "detail": {"orderId": 7}, "resources": [MARKER + "run-2"]}
    assert failed_ids(invoke(scenario.module, scenario.env(cloud), scenario.record(canary))) == []
    assert cloud.item(receipt_id(scenario.function_name, "run-2")) is not None


def test_a_body_that_only_mentions_the_marker_is_not_a_canary(cloud):
    from handler_kit import SCENARIOS

    scenario = next(s for s in SCENARIOS if s.name == "order_processor")
    scenario.prepare(cloud)
    (event,) = scenario.events(1)
    sneaky = {**event, "detail": {**event["detail"], "customerName": MARKER + "x"}}
    record = scenario.record(sneaky)
    assert json.loads(record["body"])["resources"] == event.get("resources", [])
    assert failed_ids(invoke(scenario.module, scenario.env(cloud), record)) == []
    assert cloud.item(receipt_id(scenario.function_name, "x")) is None
    # Applied as the business event it is: its order item exists, no canary receipt at all.
    ids = [i["id"]["S"] for i in cloud.items()]
    assert any("#order#" in i for i in ids) and not any("#canary#" in i for i in ids)
