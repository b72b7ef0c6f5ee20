"""The shipped price data and the catalogue loader that reads it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costmodel.catalogue import (
    PRICES_DIR,
    CatalogueError,
    available_presets,
    available_regions,
    load_catalogue,
    read_preset_file,
)
from costmodel.quotas import load_quotas

M = 1_000_000

ALL_CATALOGUES = [
    (preset, region) for preset in available_presets() for region in available_regions(preset)
]


@pytest.fixture(scope="module")
def current():
    return load_catalogue("aws-current", "us-east-1")


@pytest.fixture(scope="module")
def seed():
    return load_catalogue("seed", "us-east-1")


# --- the shipped data ---------------------------------------------------------------------


def test_presets_ship_for_us_east_1():
    assert ("aws-current", "us-east-1") in ALL_CATALOGUES
    assert ("seed", "us-east-1") in ALL_CATALOGUES


@pytest.mark.parametrize(("preset", "region"), ALL_CATALOGUES)
def test_every_item_is_sourced_dated_and_priced(preset, region):
    catalogue = load_catalogue(preset, region)
    for item in catalogue.items.values():
        assert item.source.strip(), item.id
        assert item.effective.year >= 2024, item.id
        bounds = [t.up_to for t in item.price_tiers]
        assert bounds[-1] is None and all(b is not None for b in bounds[:-1]), item.id
        assert bounds[:-1] == sorted(bounds[:-1]), item.id
        if item.verify:
            # A flagged figure says why, so the report can show the reason with the flag.
            assert item.note or "seed" in item.source, item.id


def test_sources_are_only_those_aws_prices_md_lists(current):
    allowed = (
        "aws.amazon.com/",
        'AWS Compute Blog, "Introducing tiered pricing for AWS Lambda"',
        "AWS What's New, 2024-11-01",
        "reference/aws-prices.md",
    )
    for item in current.items.values():
        for part in item.source.split("; "):
            assert part.startswith(allowed), (item.id, part)


# Every row of aws-prices.md's "Current AWS prices" table: item id -> first-tier USD per `per`.
AWS_PRICES_MD = {
    "eventbridge.events.put": (1.00, M),
    "eventbridge.events.cross_account": (0.05, M),
    "eventbridge.archive.processing": (0.10, 1),
    "eventbridge.archive.storage": (0.023, 1),
    "eventbridge.schema_discovery": (0.10, M),
    "eventbridge.scheduler.invocations": (1.00, M),
    "eventbridge.pipes.requests": (0.40, M),
    "sqs.standard.requests": (0.40, M),
    "sqs.fifo.requests": (0.50, M),
    "sns.publish": (0.50, M),
    "sns.delivery.http": (0.60, M),
    "sns.delivery.email": (2.00, 100_000),
    "sns.delivery.sqs": (0.0, M),
    "sns.delivery.lambda": (0.0, M),
    "lambda.requests": (0.20, M),
    "lambda.duration.x86_64": (0.0000166667, 1),
    "lambda.duration.arm64": (0.0000133334, 1),
    "lambda.ephemeral_storage": (0.0000000309, 1),
    "dynamodb.ondemand.write": (0.625, M),
    "dynamodb.ondemand.read": (0.125, M),
    "dynamodb.storage": (0.25, 1),
    "s3.standard.storage": (0.023, 1),
    "s3.requests.put": (0.005, 1_000),
    "s3.requests.get": (0.0004, 1_000),
    "athena.data_scanned": (5.00, 1),
    "kms.key": (1.00, 1),
    "kms.requests": (0.03, 10_000),
    "cloudwatch.alarm.standard": (0.10, 1),
    "cloudwatch.metric.custom": (0.30, 1),
    "logs.ingestion": (0.50, 1),
    "logs.storage": (0.03, 1),
    "firehose.ingestion": (0.029, 1),
}


# Items aws-prices.md does not list, each from the AWS pricing page in its source: first-tier
# USD per `per`, and their tiers where they have some.
BEYOND_AWS_PRICES_MD = {
    "cloudwatch.dashboard": (0.0, 1),  # $0 for the first three, then $3.00
    "logs.ingestion.vended": (0.50, 1),  # Lambda logs since 2025-05-01
    "dynamodb.pitr": (0.20, 1),
}


def test_aws_current_covers_aws_prices_md_and_names_the_rest(current):
    assert set(current.items) == set(AWS_PRICES_MD) | set(BEYOND_AWS_PRICES_MD)
    for item_id, (price, per) in {**AWS_PRICES_MD, **BEYOND_AWS_PRICES_MD}.items():
        item = current.item(item_id)
        assert (item.unit_price, item.per) == (price, per), item_id
    for item_id in BEYOND_AWS_PRICES_MD:
        assert current.item(item_id).note, item_id  # says where the figure comes from


def test_tiers_beyond_the_first(current):
    dashboards = current.item("cloudwatch.dashboard")
    assert [(t.up_to, t.price) for t in dashboards.price_tiers] == [(3, 0.0), (None, 3.00)]
    vended = current.item("logs.ingestion.vended")
    assert [(t.up_to, t.price) for t in vended.price_tiers] == [
        (10 * 1024, 0.50), (30 * 1024, 0.25), (50 * 1024, 0.10), (None, 0.05),
    ]
    metrics = current.item("cloudwatch.metric.custom")
    assert [(t.up_to, t.price) for t in metrics.price_tiers] == [
        (10_000, 0.30), (250_000, 0.10), (1_000_000, 0.05), (None, 0.02),
    ]
    for item in (dashboards, vended, metrics):
        assert item.tiers_account_wide


def test_verify_flags_follow_aws_prices_md(current):
    assert set(current.to_verify()) == {
        # marked "verify" in aws-prices.md
        "eventbridge.events.cross_account",
        "eventbridge.archive.processing",
        "eventbridge.archive.storage",
        "eventbridge.schema_discovery",
        "athena.data_scanned",
        "firehose.ingestion",
        # tier bounds beyond what aws-prices.md states
        "sqs.standard.requests",
        "sqs.fifo.requests",
        "logs.ingestion.vended",
        # not in aws-prices.md, not cross-checked
        "dynamodb.pitr",
    }


def test_free_tiers_from_aws_prices_md(current):
    free = {i: item.free_tier.monthly for i, item in current.items.items() if item.free_tier}
    assert free == {
        "eventbridge.schema_discovery": 5 * M,
        "eventbridge.scheduler.invocations": 14 * M,
        "sqs.standard.requests": M,
        "sqs.fifo.requests": M,
        "sns.publish": M,
        "sns.delivery.http": 100_000,
        "sns.delivery.email": 1_000,
        "lambda.requests": M,
        "lambda.duration.x86_64": 400_000,
        "lambda.duration.arm64": 400_000,
        "dynamodb.storage": 25,
        "kms.requests": 20_000,
        "cloudwatch.alarm.standard": 10,
        "cloudwatch.metric.custom": 10,
        "logs.ingestion": 5,
        "logs.ingestion.vended": 5,
    }
    pools = current.free_tier_pools()
    assert pools["sqs.requests"] == ["sqs.standard.requests", "sqs.fifo.requests"]
    assert pools["lambda.duration"] == ["lambda.duration.x86_64", "lambda.duration.arm64"]
    assert pools["logs.ingestion"] == ["logs.ingestion", "logs.ingestion.vended"]  # 5 GB in all


def test_quotas_load_with_region_fallbacks():
    quotas = load_quotas()
    assert quotas.value("eventbridge.put_events.tps", "us-east-1") == 10_000
    assert quotas.value("eventbridge.put_events.tps", "ap-south-1") == 400  # lowest elsewhere
    assert quotas.value("eventbridge.target_invocations.rate", "us-east-2") == 4_500
    assert quotas.value("eventbridge.target_invocations.rate", "ap-south-1") is None  # unknown
    assert quotas.value("sns.publish.rate", "eu-west-1") == 9_000
    assert quotas.quota("sns.publish.rate").verify
    with pytest.raises(CatalogueError, match="Did you mean sqs.in_flight"):
        quotas.quota("sqs.inflight")


# --- the seed preset ----------------------------------------------------------------------


def test_seed_overrides_only_what_the_seed_prices(seed, current):
    from_seed = {i for i in seed.items if seed.origin(i) == "seed"}
    assert from_seed == {
        "eventbridge.events.put",
        "sqs.standard.requests",
        "lambda.requests",
        "lambda.duration.x86_64",
        "lambda.duration.arm64",
        "dynamodb.ondemand.write",
        "dynamodb.ondemand.read",
    }
    for item_id in set(seed.items) - from_seed:
        assert seed.item(item_id) == current.item(item_id)
        assert seed.origin(item_id) == "aws-current"
    assert set(seed.to_verify()) >= {
        "dynamodb.ondemand.write",
        "lambda.duration.x86_64",
        "lambda.duration.arm64",
    }


def test_seed_reproduces_its_own_table(seed):
    # "EventBridge $1.00 per million events: ~$10 at 10M events"
    assert seed.cost("eventbridge.events.put", 10 * M) == pytest.approx(10.0)
    # Flat $0.40/M: ~$8 is 20M requests; the seed has no volume tiers.
    assert seed.item("sqs.standard.requests").tiers is None
    assert seed.cost("sqs.standard.requests", 20 * M) == pytest.approx(8.0)
    assert seed.cost("dynamodb.ondemand.write", M) == pytest.approx(1.25)
    # "arm64 20% cheaper than x86"
    ratio = seed.item("lambda.duration.arm64").price / seed.item("lambda.duration.x86_64").price
    assert ratio == pytest.approx(0.8, abs=1e-5)


def test_seed_keeps_base_unit_and_free_tier(seed, current):
    for item_id in ("sqs.standard.requests", "lambda.duration.arm64"):
        s, c = seed.item(item_id), current.item(item_id)
        assert (s.unit, s.per, s.free_tier) == (c.unit, c.per, c.free_tier)


# --- pricing through tiers and free tier ---------------------------------------------------


def test_sqs_tiers_price_each_band_at_its_own_rate(current):
    cost = current.cost("sqs.standard.requests", 250e9)
    assert cost == pytest.approx(100e3 * 0.40 + 100e3 * 0.30 + 50e3 * 0.24)


def test_lambda_duration_tiers(current):
    x86 = current.item("lambda.duration.x86_64")
    assert x86.cost(6e9) == pytest.approx(6e9 * 0.0000166667)
    assert x86.cost(20e9) == pytest.approx(6e9 * 0.0000166667 + 9e9 * 0.000015 + 5e9 * 0.0000133334)


def test_free_tier_is_off_by_default_and_takes_the_first_units(current):
    assert current.cost("lambda.requests", 3 * M) == pytest.approx(0.60)
    assert current.cost("lambda.requests", 3 * M, free_tier=True) == pytest.approx(0.40)
    assert current.cost("lambda.requests", 0.5 * M, free_tier=True) == 0.0
    # Free units are the first units: the tier bounds still count them.
    sqs = current.item("sqs.standard.requests")
    assert sqs.cost(150e9, free_tier=True) == pytest.approx(sqs.cost(150e9) - 0.40)
    # An item without a free tier ignores the option.
    assert current.cost("kms.key", 3, free_tier=True) == pytest.approx(3.0)


def test_cost_is_vectorised(current):
    volumes = np.linspace(0, 300e9, 50)
    swept = current.cost("sqs.fifo.requests", volumes, free_tier=True)
    assert isinstance(swept, np.ndarray) and swept.shape == (50,)
    assert swept == pytest.approx([current.cost("sqs.fifo.requests", v, True) for v in volumes])
    assert isinstance(current.cost("sqs.fifo.requests", 5.0), float)


@settings(max_examples=200, deadline=None)
@given(
    item_id=st.sampled_from(sorted(AWS_PRICES_MD)),
    a=st.floats(0, 1e12),
    b=st.floats(0, 1e12),
    free=st.booleans(),
)
def test_cost_is_monotonic_and_never_negative(current, item_id, a, b, free):
    lo, hi = sorted((a, b))
    assert 0 <= current.cost(item_id, lo, free) <= current.cost(item_id, hi, free) + 1e-9


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), [1.0, -2.0]])
def test_bad_quantities_are_rejected(current, bad):
    with pytest.raises(ValueError, match="lambda.requests: quantity must be finite and >= 0"):
        current.cost("lambda.requests", np.asarray(bad))


# --- errors name what exists -----------------------------------------------------------------


def test_unknown_preset_region_and_item_name_what_exists(current):
    with pytest.raises(CatalogueError, match=r"unknown price preset 'aws'; available: aws-current, seed"):
        load_catalogue("aws", "us-east-1")
    with pytest.raises(CatalogueError, match=r"no prices for region 'eu-west-9'; available: us-east-1"):
        load_catalogue("seed", "eu-west-9")
    with pytest.raises(CatalogueError, match=r"Did you mean sqs.standard.requests.*Known: athena"):
        current.cost("sqs.standard.request", 1)
    with pytest.raises(CatalogueError, match="unknown price item"):
        current.origin("nope.nope")


ITEM = """
  - id: sqs.standard.requests
    service: SQS
    description: d
    unit: request
    per: 1000000
    {price}
    source: aws.amazon.com/sqs/pricing
    effective: 2026-11-01
"""


def write(root: Path, preset: str, region: str, text: str) -> Path:
    path = root / preset / f"{region}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def catalogue_text(preset: str = "p", region: str = "r", price: str = "price: 0.4") -> str:
    return f"preset: {preset}\nregion: {region}\nitems:" + ITEM.format(price=price)


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("tiers: [{up_to: 200, price: 1}, {up_to: 100, price: 1}, {up_to: null, price: 1}]", "must ascend"),
        ("tiers: [{up_to: 100, price: 1}, {up_to: 200, price: 1}]", "only the last with up_to: null"),
        ("tiers: [{up_to: null, price: 1}]", "at least two"),
        ("price: 0.4\n    tiers: [{up_to: 1, price: 1}, {up_to: null, price: 1}]", "exactly one of price or tiers"),
        ("price: -1", "greater than or equal to 0"),
        ("price: 0.4\n    colour: red", "colour"),
    ],
)
def test_bad_items_are_rejected_with_the_file_and_reason(tmp_path, price, message):
    path = write(tmp_path, "p", "r", catalogue_text(price=price))
    with pytest.raises(CatalogueError, match=message) as err:
        load_catalogue("p", "r", prices_dir=tmp_path)
    assert str(path) in str(err.value)


def test_missing_source_or_date_is_rejected(tmp_path):
    text = catalogue_text().replace("    source: aws.amazon.com/sqs/pricing\n", "")
    write(tmp_path, "p", "r", text)
    with pytest.raises(CatalogueError, match="source"):
        load_catalogue("p", "r", prices_dir=tmp_path)
    write(tmp_path, "p", "r", catalogue_text().replace("    effective: 2026-11-01\n", ""))
    with pytest.raises(CatalogueError, match="effective"):
        load_catalogue("p", "r", prices_dir=tmp_path)


def test_repeated_ids_and_misplaced_files_are_rejected(tmp_path):
    text = catalogue_text() + ITEM.format(price="price: 0.5")
    write(tmp_path, "p", "r", text)
    with pytest.raises(CatalogueError, match="ids repeated: sqs.standard.requests"):
        load_catalogue("p", "r", prices_dir=tmp_path)
    write(tmp_path, "p", "r", catalogue_text(region="eu-west-1"))
    with pytest.raises(CatalogueError, match="header says .* region 'eu-west-1'"):
        load_catalogue("p", "r", prices_dir=tmp_path)


def overlay_text(preset: str, base: str, item_id: str = "sqs.standard.requests") -> str:
    return f"""
        preset: {preset}
        region: r
        base: {base}
        overrides:
          - {{id: {item_id}, price: 0.1, source: s, effective: 2020-01-01}}
    """


def test_overlays_resolve_and_reject_bad_references(tmp_path):
    write(tmp_path, "base", "r", catalogue_text(preset="base"))
    write(tmp_path, "cheap", "r", overlay_text("cheap", "base"))
    cheap = load_catalogue("cheap", "r", prices_dir=tmp_path)
    assert cheap.cost("sqs.standard.requests", M) == pytest.approx(0.1)
    assert cheap.origin("sqs.standard.requests") == "cheap"

    write(tmp_path, "typo", "r", overlay_text("typo", "base", "sqs.standard.reqs"))
    with pytest.raises(CatalogueError, match="override 'sqs.standard.reqs' names no item"):
        load_catalogue("typo", "r", prices_dir=tmp_path)

    write(tmp_path, "a", "r", overlay_text("a", "b"))
    write(tmp_path, "b", "r", overlay_text("b", "a"))
    with pytest.raises(CatalogueError, match="cycle: a -> b -> a"):
        load_catalogue("a", "r", prices_dir=tmp_path)


def test_shipped_files_parse_as_their_declared_kind():
    assert read_preset_file(PRICES_DIR / "seed" / "us-east-1.yaml").base == "aws-current"
    assert read_preset_file(PRICES_DIR / "aws-current" / "us-east-1.yaml").refreshed is None
