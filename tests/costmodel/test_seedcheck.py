"""The seed scenario through the real program, and the seed check's three columns."""

from __future__ import annotations

import json

import pytest

from costmodel import seedcheck
from costmodel.estimate import load_model
from costmodel.scale import sweep
from costmodel.scenarios import scenario_model, scenario_values
from costmodel.seedcheck import full_topology, seed_check
from settings.load import ConfigError

M = 1_000_000
MONTH_DAYS = 730 / 24
# The seed preset's prices (seed file's Cost Model table; DynamoDB before 2024-11-01)
SEED_EVENTBRIDGE_PER_M, SEED_SQS_PER_M, SEED_LAMBDA_REQUEST_PER_M = 1.00, 0.40, 0.20
SEED_X86_GB_S, SEED_DDB_WRITE_PER_M = 0.0000166667, 1.25
ARCHIVE_GB, ARCHIVE_GB_MONTH, DDB_GB_MONTH = 0.10, 0.023, 0.25


@pytest.fixture(scope="module")
def seed():
    return scenario_model("seed", preset="seed")


@pytest.fixture(scope="module")
def full():
    return load_model("prod", preset="aws-current")


@pytest.fixture(scope="module")
def check(seed, full):
    return seed_check(scenario=seed, full=full)


def rows(check):
    return {r.service: r for r in check.rows}


def test_the_program_builds_the_seeds_cdk_stack(seed):
    topology = seed.topology
    (bus,) = topology.buses.values()
    (rule,) = bus.rules
    assert rule.pattern == {
        "source": ["com.ascendion.orders"],
        "detail-type": ["OrderCreated", "OrderUpdated"],
    }
    (queue,) = [q for q in topology.queues.values() if q.function is not None]
    assert (queue.batch_size, queue.fifo, queue.customer_key) == (10, False, False)
    function = queue.function
    assert (
        function.handler,
        function.architecture,
        function.memory_mb,
        function.reserved_concurrency,
    ) == ("order_processor", "x86_64", 128, 50)
    assert seed.monthly_events == 10 * M and seed.catalogue.preset == "seed"


def test_seed_scenario_by_hand(check):
    r = rows(check)
    archive_gb = 10 * M * 1_024 / 1e9  # the archive the platform adds: 30 days by default
    assert r["EventBridge"].scenario == pytest.approx(
        10 * SEED_EVENTBRIDGE_PER_M
        + archive_gb * ARCHIVE_GB
        + archive_gb * 30 / MONTH_DAYS * ARCHIVE_GB_MONTH
    )
    # a send per event; a receive and a delete per full batch of 10; no idle polling
    assert r["SQS"].scenario == pytest.approx((10 + 1 + 1) * SEED_SQS_PER_M)
    assert r["Lambda"].scenario == pytest.approx(
        1 * SEED_LAMBDA_REQUEST_PER_M + 1 * M * 0.120 * 0.125 * SEED_X86_GB_S
    )
    window_s = 4 * 86_400 + 14 * 86_400  # queue retention + DLQ retention
    keys_stored = 10 * M * window_s / (730 * 3_600)
    assert r["DynamoDB"].scenario == pytest.approx(
        10 * SEED_DDB_WRITE_PER_M + keys_stored * 300 / 1e9 * DDB_GB_MONTH
    )


def test_seed_figures_and_full_topology_at_10m(check, full):
    r = rows(check)
    assert [(x.service, x.seed_figure, x.seed_low, x.seed_high) for x in check.rows] == [
        ("EventBridge", "~$10", 10, 10),
        ("SQS", "~$8", 8, 8),
        ("Lambda", "~$5–20", 5, 20),
        ("DynamoDB", "~$2", 2, 2),
    ]
    at_10m = sweep(full, [10 * M]).iloc[0]
    for service, row in r.items():
        assert row.full_topology == pytest.approx(at_10m[service])


def test_explanations_come_from_the_line_items(check):
    r = rows(check)
    assert "2 requests per event" in r["SQS"].explanation  # $8 / $0.40 per M / 10M events
    assert "1.20 requests per event" in r["SQS"].explanation  # 12M / 10M
    assert "0.16 per event" in r["DynamoDB"].explanation  # $2 / $1.25 per M / 10M
    assert "10M write units" in r["DynamoDB"].explanation
    assert "1M invocations" in r["Lambda"].explanation
    assert "1.00 64 KB chunks per event" in r["EventBridge"].explanation
    frame = check.frame()
    assert list(frame.columns) == [
        "service",
        "seed_figure",
        "seed_low",
        "seed_high",
        "scenario",
        "full_topology",
        "explanation",
    ]
    json.dumps(frame.to_dict(orient="records"))


def test_unknown_scenario_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"unknown scenario 'nope'.*seed"):
        scenario_values("nope")


def test_a_prod_model_lends_its_topology_to_the_full_column(full, seed, monkeypatch):
    """The report's seed check reuses the prod model it already has, at any preset; the program
    does not run again, and the column is what a fresh prod model at current prices gives."""
    at_seed_prices = load_model("prod", preset="seed")
    monkeypatch.setattr(seedcheck, "load_model", lambda *a, **k: pytest.fail("prod ran again"))
    lent = full_topology(at_seed_prices)
    assert lent.topology is at_seed_prices.topology
    assert (lent.catalogue.preset, lent.free_tier) == ("aws-current", full.free_tier)
    assert lent.estimate() == full.estimate()
    with pytest.raises(pytest.fail.Exception, match="prod ran again"):
        full_topology(seed)  # another stack's model is no stand-in for prod
