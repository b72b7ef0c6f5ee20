"""JSON/CSV schema version 2: every item carries its quantity in the priced unit, its price per
unit, the free quantity and its tiers, so each item's cost can be recomputed from the document
alone; `diff` still reads version 1.

The stacks: prod as shipped, and prod at 20,000 times its volume, where SQS requests pass the
100B and 200B tier bounds and Lambda's logs pass the first 10 TB, with free tier off and on.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import pytest
from hand_prices import (
    FREE_LAMBDA_GB_S,
    FREE_LAMBDA_REQUESTS,
    FREE_METRICS,
    FREE_SQS_REQUESTS,
    SQS_STANDARD_TIERS,
    M,
    tiered,
)

import costmodel.__main__ as cli
from costmodel.estimate import load_model
from costmodel.report.document import estimate_from_json, read_estimate, to_csv, to_json

FIXTURE_V1 = Path(__file__).parent / "fixtures" / "prod-estimate-v1.json"  # written by version 1
SCALE = 20_000


@pytest.fixture(scope="module")
def prod():
    return load_model("prod")


@pytest.fixture(
    scope="module",
    params=[(1, False), (1, True), (SCALE, False), (SCALE, True)],
    ids=["as-is", "as-is-free-tier", "past-first-tiers", "past-first-tiers-free-tier"],
)
def document(request, prod):
    scale, free = request.param
    model = dataclasses.replace(prod, scale=scale, free_tier=free)
    return json.loads(to_json(model.estimate()))


def per(price_unit: str) -> float:
    match = re.match(r"per ([\d,]+) ", price_unit)
    return float(match[1].replace(",", "")) if match else 1.0


def test_every_item_is_recomputed_from_its_tiers(document):
    assert document["schema_version"] == 2
    for item in document["items"]:
        recomputed = sum(t["quantity"] * t["unit_price"] for t in item["tiers"])
        assert recomputed == pytest.approx(item["monthly_cost"], rel=1e-12, abs=1e-15), item
        assert sum(t["cost"] for t in item["tiers"]) == pytest.approx(item["monthly_cost"], rel=1e-12, abs=1e-15)
        billed = sum(t["quantity"] for t in item["tiers"])
        assert item["free_quantity"] + billed == pytest.approx(item["quantity"], rel=1e-12, abs=1e-9)
        # the price per unit is the list price per price_unit, spelled per one unit
        assert item["unit_price"] == pytest.approx(item["list_price"] / per(item["price_unit"]))
        if item["tiers"]:
            assert item["tiers"][0]["unit_price"] <= item["unit_price"] or item["free_quantity"]
    total = sum(i["monthly_cost"] for i in document["items"])
    assert document["total_monthly_cost"] == pytest.approx(total, rel=1e-12)
    assert not document["free_tier"] or any(i["free_quantity"] > 0 for i in document["items"])


def test_past_the_first_tiers_items_carry_each_tier_they_reach(prod):
    estimate = dataclasses.replace(prod, scale=SCALE).estimate()
    sqs = [i for i in estimate.items if i.price_item == "sqs.standard.requests"]
    requests = sum(i.quantity for i in sqs)
    assert requests > 200e9  # past both bounds: 100B and 200B requests
    assert sum(i.monthly_cost for i in sqs) == pytest.approx(tiered(requests, SQS_STANDARD_TIERS, M))
    for item in sqs:
        prices = [t.unit_price * M for t in item.tiers]
        assert prices == pytest.approx([0.40, 0.30, 0.24])
        share = item.quantity / requests  # each item takes its share of every tier
        assert [t.quantity for t in item.tiers] == pytest.approx(
            [100e9 * share, 100e9 * share, (requests - 200e9) * share]
        )
    logs = [i for i in estimate.items if i.price_item == "logs.ingestion.vended"]
    assert sum(i.quantity for i in logs) > 10 * 1024 and all(len(i.tiers) >= 2 for i in logs)


def test_free_quantities_share_each_allowance(prod):
    estimate = dataclasses.replace(prod, free_tier=True).estimate()

    def free(*items):
        return sum(i.free_quantity for i in estimate.items if i.price_item in items)

    assert free("sqs.standard.requests", "sqs.fifo.requests") == pytest.approx(FREE_SQS_REQUESTS)
    assert free("lambda.requests") == pytest.approx(FREE_LAMBDA_REQUESTS)
    assert free("lambda.duration.arm64", "lambda.duration.x86_64") == pytest.approx(
        min(FREE_LAMBDA_GB_S, sum(i.quantity for i in estimate.items if i.price_item.startswith("lambda.duration")))
    )
    metrics = sum(i.quantity for i in estimate.items if i.price_item == "cloudwatch.metric.custom")
    assert free("cloudwatch.metric.custom") == pytest.approx(min(FREE_METRICS, metrics))


def test_csv_rows_carry_the_same_fields(prod):
    estimate = prod.estimate()
    header = to_csv(estimate).splitlines()[0]
    assert header.split(",")[:13] == [
        "service", "resource", "domain", "component", "price_item", "quantity", "unit",
        "unit_price", "list_price", "price_unit", "free_quantity", "tiers", "monthly_cost",
    ]
    frame = estimate.frame()
    for row, item in zip(frame.itertuples(), estimate.items):
        tiers = json.loads(row.tiers)
        assert sum(t["cost"] for t in tiers) == pytest.approx(item.monthly_cost, abs=1e-15)


def test_a_version_1_document_still_reads_and_diffs(capsys, prod):
    old = read_estimate(FIXTURE_V1)
    document = json.loads(FIXTURE_V1.read_text())
    assert document["schema_version"] == 1
    assert old.total == pytest.approx(document["total_monthly_cost"])
    for item, row in zip(old.items, document["items"]):
        assert item.list_price == row["unit_price"]  # version 1's unit_price was per price_unit
        assert item.unit_price == pytest.approx(row["unit_price"] / per(row["price_unit"]))
        assert math.isclose(sum(t.cost for t in item.tiers), item.monthly_cost, abs_tol=1e-12)
    code = cli.main(["diff", str(FIXTURE_V1), "prod", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["total_before"] == pytest.approx(document["total_monthly_cost"])
    assert out["total_after"] == pytest.approx(prod.estimate().total)


def test_a_version_2_document_round_trips(prod):
    estimate = dataclasses.replace(prod, scale=2, what_if=("retention.log_days = 30",)).estimate()
    again = estimate_from_json(to_json(estimate))
    assert again == estimate
    assert again.scale == 2 and again.what_if == ["retention.log_days = 30"]
