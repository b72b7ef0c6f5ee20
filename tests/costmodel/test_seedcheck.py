"""The seed scenario (the design brief's minimal stack) through the real program, and the seed
check's three columns: the brief's figure, its stack at its prices, the reported stack."""

from __future__ import annotations

import json

import pytest

from costmodel.estimate import load_model
from costmodel.scale import sweep
from costmodel.scenarios import scenario_model, scenario_values
from costmodel.seedcheck import seed_check
from settings.load import ConfigError

M = 1_000_000
MONTH_DAYS = 730 / 24
# The seed preset's prices (the brief's cost table; DynamoDB before 2024-11-01)
SEED_EVENTBRIDGE_PER_M, SEED_SQS_PER_M, SEED_LAMBDA_REQUEST_PER_M = 1.00, 0.40, 0.20
SEED_X86_GB_S, SEED_DDB_WRITE_PER_M = 0.0000166667, 1.25
ARCHIVE_GB, ARCHIVE_GB_MONTH, DDB_GB_MONTH, DDB_PITR_GB_MONTH = 0.10, 0.023, 0.25, 0.20


@pytest.fixture(scope="module")
def seed():
    return scenario_model("seed", preset="seed")


@pytest.fixture(scope="module")
def full():
    return load_model("prod", preset="aws-current")


@pytest.fixture(scope="module")
def check(seed, full):
    return seed_check(full, scenario=seed)


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
    archive_gb = 10 * M * 1_024 / 2**30  # the archive the platform adds: 30 days by default
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
    # the order processor keeps one item per order: the 5M OrderCreated start one each, the
    # OrderUpdated change existing ones (costmodel/assumptions.yaml, entity_keys.orders)
    keys_stored = 5 * M * window_s / (730 * 3_600)
    table_gb_months = keys_stored * 300 / 2**30
    assert r["DynamoDB"].scenario == pytest.approx(
        10 * SEED_DDB_WRITE_PER_M
        + table_gb_months * DDB_GB_MONTH
        + table_gb_months * DDB_PITR_GB_MONTH  # the platform's table has point-in-time recovery
    )


def test_seed_figures_and_the_reported_stack_at_10m(check, full):
    r = rows(check)
    assert [(x.service, x.seed_figure, x.seed_low, x.seed_high) for x in check.rows] == [
        ("EventBridge", "~$10", 10, 10),
        ("SQS", "~$8", 8, 8),
        ("Lambda", "~$5–20", 5, 20),
        ("DynamoDB", "~$2", 2, 2),
    ]
    at_10m = sweep(full, [10 * M]).iloc[0]
    for service, row in r.items():
        assert row.this_stack == pytest.approx(at_10m[service])
    assert check.stack == "prod"


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
        "this_stack",
        "explanation",
    ]
    json.dumps(frame.to_dict(orient="records"))


def test_unknown_scenario_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"unknown scenario 'nope'.*seed"):
        scenario_values("nope")


def test_the_check_compares_the_stack_being_reported_not_prod(seed):
    """The third column is whatever stack is reported (dev here), at its own prices; the
    check runs no program for it."""
    dev = load_model("dev")
    dev_check = seed_check(dev, scenario=seed)
    at_10m = sweep(dev, [10 * M]).iloc[0]
    assert dev_check.stack == "dev"
    for row in dev_check.rows:
        assert row.this_stack == pytest.approx(at_10m[row.service])
        assert "Stack dev" in row.explanation or "stack dev" in row.explanation
