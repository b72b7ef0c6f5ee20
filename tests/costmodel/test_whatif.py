"""What-if without editing files: --scale, --set and --assume on estimate and diff; every bad
argument exits 2 with one line naming what is wrong and what is allowed."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

import costmodel.__main__ as cli
from costmodel.estimate import load_model
from costmodel.scenarios import model_from_values
from settings.load import stack_values


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def estimate_json(capsys, *options: str) -> dict:
    code, out, err = run(capsys, "estimate", "--stack", "prod", "--format", "json", *options)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def prod():
    return load_model("prod")


def test_scale_multiplies_every_volume(capsys, prod):
    document = estimate_json(capsys, "--scale", "10")
    assert document["scale"] == 10
    assert document["monthly_events"] == pytest.approx(10 * prod.monthly_events)
    assert document["total_monthly_cost"] == pytest.approx(prod.scaled(10).estimate().total)
    # volume-driven lines grow tenfold; fixed ones (keys, alarms, idle polling) do not
    by_line = {(i["service"], i["resource"], i["component"]): i for i in document["items"]}
    base = {(i.service, i.resource, i.component): i for i in prod.estimate().items}
    send = ("SQS", "prod-orders-processor", "send")
    assert by_line[send]["quantity"] == pytest.approx(10 * base[send].quantity)
    key = ("KMS", "platform-key", "customer-managed keys")
    assert by_line[key]["quantity"] == base[key].quantity


def test_set_changes_a_config_value_and_runs_the_program_again(capsys, prod):
    document = estimate_json(capsys, "--set", "orders.OrderCreated.monthly_volume=20M")
    assert document["what_if"] == ["orders.OrderCreated.monthly_volume = 20,000,000"]
    assert document["monthly_events"] == pytest.approx(prod.monthly_events + 18_000_000)
    values = copy.deepcopy(stack_values("prod"))
    values["eda-platform:domains"]["orders"]["event_types"]["OrderCreated"]["monthly_volume"] = 20_000_000
    expected = model_from_values("prod", values, origin="test").estimate()
    assert document["total_monthly_cost"] == pytest.approx(expected.total)


def test_set_reaches_consumer_settings_and_top_level_keys(capsys, prod):
    document = estimate_json(
        capsys, "--set", "orders.processor.batch_size=100", "--set", "orders.processor.batching_window_s=1",
        "--set", "retention.log_days=30",
    )
    values = copy.deepcopy(stack_values("prod"))
    processor = values["eda-platform:domains"]["orders"]["consumers"]["processor"]
    processor.update(batch_size=100, batching_window_s=1)
    values["eda-platform:retention"]["log_days"] = 30
    expected = model_from_values("prod", values, origin="test").estimate()
    assert document["total_monthly_cost"] == pytest.approx(expected.total)
    invocations = [i for i in document["items"] if (i["resource"], i["component"]) == ("prod-orders-processor", "requests")]
    assert invocations[0]["quantity"] == pytest.approx(6_060_000 * 1.02 / 60)


def test_assume_changes_an_assumption_without_the_program(capsys, prod):
    document = estimate_json(capsys, "--assume", "duplicate_rate=0.05", "--assume", "batch_fill=1")
    assert document["assumptions"]["duplicate_rate"] == 0.05
    config = prod.config.model_copy(
        update={"assumptions": prod.config.assumptions.model_copy(update={"duplicate_rate": 0.05, "batch_fill": 1})}
    )
    assert document["total_monthly_cost"] == pytest.approx(
        dataclasses.replace(prod, config=config).estimate().total
    )
    assert document["what_if"] == ["assume duplicate_rate = 0.05", "assume batch_fill = 1"]


def test_diff_prices_the_what_if_against_the_stack_as_it_is(capsys, prod):
    code, out, _ = run(capsys, "diff", "prod", "prod", "--scale", "2", "--format", "json")
    document = json.loads(out)
    assert code == 0
    assert document["total_before"] == pytest.approx(prod.estimate().total)
    assert document["total_after"] == pytest.approx(prod.scaled(2).estimate().total)
    code, out, _ = run(capsys, "diff", "prod", "prod", "--assume", "failure_rate=0.1", "--format", "table")
    assert code == 0 and "head: what if assume failure_rate = 0.1" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_the_terminal_report_reads_at_80_columns(capsys):
    for options in ([], ["--details"], ["--scale", "3"]):
        code, out, _ = run(capsys, "estimate", "--stack", "prod", *options)
        assert code == 0 and max(len(line) for line in out.splitlines()) <= 80
    assert out.index("By service") < out.index("By resource")
    assert "What if: volume × 3" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--scale", "0"], "--scale '0' is not a positive number: --scale takes a positive number"),
        (["--scale", "lots"], "--scale 'lots' is not a positive number"),
        (["--set", "orders"], "--set 'orders' is not KEY=VALUE: e.g. --set orders.OrderCreated.monthly_volume=20M"),
        (["--set", "shop.Sale.monthly_volume=1"], "'shop' is neither a domain of stack 'prod' (inventory, orders, payments) nor a config key"),
        (["--set", "orders.Sale.monthly_volume=1"], "domain 'orders' has no 'Sale'; allowed: event type OrderCreated, event type OrderUpdated"),
        (["--set", "orders.OrderCreated.monthly_volume=-1"], "monthly_volume = -1: Input should be greater than or equal to 0"),
        (["--set", "orders.OrderCreated.colour=red"], "OrderCreated.colour"),
        (["--assume", "duplicate_rate=2"], "--assume duplicate_rate: Input should be less than or equal to 1 (got 2)"),
        (["--assume", "weather=sunny"], "--assume weather: unknown assumption; allowed: duplicate_rate, failure_rate"),
        (["--assume", "free_tier=true"], "--assume free_tier: use --free-tier"),
        (["--assume", "entity_keys.orders.Sale=0"], "has no event type orders/Sale; allowed: orders.OrderCreated"),
        (["--sections", "charts"], "'charts' names no known section (charts); allowed: sweep, levers, seedcheck"),
        (["--format", "csv", "--sections", "levers"], "--sections applies to --format html or md (got csv)"),
        (["--format", "md", "--details"], "--details applies to --format table (got md"),
        (["--set", "orders.OrderCreated.monthly_volume=1", "--preview-json", "p.json"], "--set cannot be combined with --preview-json"),
    ],
)
def test_every_bad_argument_exits_2_on_one_line(capsys, argv, message):
    try:
        code, out, err = run(capsys, "estimate", "--stack", "prod", *argv)
    except SystemExit as stop:  # argparse's own refusals
        code, (out, err) = stop.code, capsys.readouterr()
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1, err


def test_an_unwritable_out_file_exits_2(capsys, tmp_path):
    target = tmp_path / "missing-folder" / "prod.json"
    code, out, err = run(capsys, "estimate", "--stack", "dev", "--format", "json", "--out", str(target))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"cannot write --out {target}: No such file or directory" in err


def test_what_if_on_a_diff_needs_head_to_be_a_stack(capsys, tmp_path):
    head = tmp_path / "head.json"
    assert cli.main(["estimate", "--stack", "dev", "--format", "json", "--out", str(head)]) == 0
    capsys.readouterr()
    code, out, err = run(capsys, "diff", "dev", str(head), "--scale", "2")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"{head} is an estimate file (allowed: a stack" in err
