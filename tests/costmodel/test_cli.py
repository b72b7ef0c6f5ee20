"""`python -m costmodel`: each command and format, threshold exit codes, and each bad input's
one-line message (exit 2).

Commands run in-process through `main(argv)`; conftest.py runs each stack's program once.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

import costmodel.__main__ as cli
from costmodel.estimate import load_model
from costmodel.report.document import SCHEMA_DIR, estimate_from_json
from costmodel.report.money import usd
from settings.load import from_stack_file

REPO = Path(__file__).resolve().parents[2]
NULLABLE = {"first_month_quantity": [""], "first_month_cost": [""]}  # empty when null


@pytest.fixture(scope="module")
def estimate_files(tmp_path_factory):
    """dev and prod estimates written by `estimate --format json --out`, as the PR workflow does."""
    folder = tmp_path_factory.mktemp("estimates")
    paths = {}
    for stack in ("dev", "prod"):
        paths[stack] = folder / f"{stack}.json"
        argv = ["estimate", "--stack", stack, "--format", "json", "--out", str(paths[stack])]
        assert cli.main(argv) == 0
    return paths


def files(estimate_files) -> list[str]:
    return [str(estimate_files["dev"]), str(estimate_files["prod"])]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- estimate --------------------------------------------------------------------------------


def test_estimate_table_is_the_default(capsys):
    code, out, _ = run(capsys, "estimate", "--stack", "dev")
    total = load_model("dev").estimate().total
    assert code == 0 and f"dev: {usd(total)} a month" in out and "By resource" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_estimate_json_and_csv_to_stdout(capsys):
    code, out, _ = run(capsys, "estimate", "--stack", "dev", "--format", "json")
    document = json.loads(out)
    jsonschema.validate(document, json.loads((SCHEMA_DIR / "estimate.schema.json").read_text()))
    estimate = estimate_from_json(out)
    code, out, _ = run(capsys, "estimate", "--stack", "dev", "--format", "csv")
    assert code == 0
    read = pd.read_csv(io.StringIO(out), keep_default_na=False, na_values=NULLABLE)
    pd.testing.assert_frame_equal(read, estimate.frame())


def test_estimate_md_has_levers(capsys):
    code, out, _ = run(capsys, "estimate", "--stack", "prod", "--format", "md")
    assert code == 0 and "### By service" in out and "### Levers" in out


def test_estimate_html_to_a_file_with_and_without_the_sweep(capsys, tmp_path):
    page = tmp_path / "prod.html"
    html = ["estimate", "--stack", "prod", "--format", "html", "--out", str(page)]
    code, out, err = run(capsys, *html)
    assert code == 0 and out == "" and f"wrote {page}" in err
    text = page.read_text()
    assert text.count("<svg") == 2 and 'id="headroom"' in text and 'id="levers"' in text
    assert 'id="seed-check"' not in text  # opt-in: it runs a second program
    run(capsys, *html, "--no-sweep")
    assert page.read_text().count("<svg") == 1


def test_the_seed_check_is_an_opt_in_section_for_the_reported_stack(capsys, tmp_path):
    page = tmp_path / "dev.html"
    argv = ["estimate", "--stack", "dev", "--format", "html", "--out", str(page)]
    code, _, _ = run(capsys, *argv, "--sections", "seedcheck")
    text = page.read_text()
    assert code == 0 and 'id="seed-check"' in text and 'id="levers"' not in text
    assert "this stack (dev)" in text and text.count("<svg") == 1  # no sweep asked for
    code, out, _ = run(capsys, "estimate", "--stack", "dev", "--format", "md", "--sections", "seedcheck,levers")
    assert code == 0 and "### Check against the design brief" in out and "### Levers" in out


def test_estimate_preset_and_free_tier_options(capsys):
    options = ["--preset", "seed", "--free-tier"]
    code, out, _ = run(capsys, "estimate", "--stack", "dev", "--format", "json", *options)
    document = json.loads(out)
    assert code == 0 and document["preset"] == "seed" and document["free_tier"] is True


# --- diff ------------------------------------------------------------------------------------


def test_diff_of_two_json_files_is_the_diff_of_the_stacks(capsys, estimate_files):
    code, from_files, _ = run(capsys, "diff", *files(estimate_files))
    assert code == 0
    code, from_stacks, _ = run(capsys, "diff", "dev", "prod", "--format", "md")
    assert from_files == from_stacks
    assert from_files.startswith("**Monthly cost will increase by $")


def test_diff_table_and_json_formats(capsys, estimate_files):
    code, out, _ = run(capsys, "diff", str(estimate_files["dev"]), "prod", "--format", "table")
    assert code == 0 and "Monthly cost will increase by" in out and "By resource" in out
    code, out, _ = run(capsys, "diff", *files(estimate_files), "--format", "json")
    jsonschema.validate(json.loads(out), json.loads((SCHEMA_DIR / "diff.schema.json").read_text()))


@pytest.mark.parametrize(
    "limits, code, tripped",
    [
        ([], 0, []),
        (["--fail-above", "1000000"], 0, []),
        (["--fail-above", "$10"], 1, ["exceeds the $10.00 limit"]),
        (["--fail-above-percent", "50%"], 1, ["exceeds the 50% limit"]),
        (["--fail-above-percent", "1000000"], 0, []),
        (
            ["--fail-above", "10", "--fail-above-percent", "50"],
            1,
            ["exceeds the $10.00 limit", "exceeds the 50% limit"],
        ),
    ],
)
def test_fail_above_exits_1_and_names_the_limit(capsys, estimate_files, limits, code, tripped):
    got, out, err = run(capsys, "diff", *files(estimate_files), *limits)
    assert got == code
    assert "| **Total** |" in out  # the comment is still written
    lines = err.splitlines()
    assert len(lines) == len(tripped)
    for line, expected in zip(lines, tripped):
        assert line.startswith("costmodel: cost check failed: the increase of +")
        assert line.endswith(expected)


# --- prices ----------------------------------------------------------------------------------


def test_prices_show_lists_items_with_verify_flags_sources_and_dates():
    # The one subprocess: `python -m costmodel` itself (prices show runs no program).
    result = subprocess.run(
        [sys.executable, "-m", "costmodel", "prices", "show", "--preset", "seed"],
        cwd=REPO, capture_output=True, text=True, env={"COLUMNS": "250", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert "Prices: seed, us-east-1" in result.stdout and "2024-10-31" in result.stdout
    assert "sqs.standard.requests" in result.stdout
    assert "verify (sources disagree):" in result.stdout


# --- bad input: exit 2, one line naming what is wrong and what is allowed ------------------------


def no_volume(stack):
    config = from_stack_file(stack)
    def silent(domain):
        types = {
            name: event.model_copy(update={"monthly_volume": 0})
            for name, event in domain.event_types.items()
        }
        return domain.model_copy(update={"event_types": types})

    domains = {name: silent(domain) for name, domain in config.domains.items()}
    return config.model_copy(update={"domains": domains})


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["estimate", "--stack", "staging"],
            "unknown stack 'staging': no Pulumi.staging.yaml (stacks: dev, local, prod)",
        ),
        (
            ["prices", "show", "--preset", "cheap"],
            "unknown price preset 'cheap'; available: aws-current, seed",
        ),
        (
            ["prices", "show", "--region", "eu-west-9"],
            "preset 'aws-current' has no prices for region 'eu-west-9'; available: us-east-1",
        ),
        (["diff", "dev", "staging"], "unknown stack 'staging'"),
    ],
)
def test_bad_names_are_refused_with_what_exists(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("costmodel: error: ") and message in err and err.count("\n") == 1


def test_a_stack_without_volume_is_refused(capsys, monkeypatch):
    monkeypatch.setattr("costmodel.estimate.from_stack_file", no_volume)
    code, _, err = run(capsys, "estimate", "--stack", "local")
    assert code == 2
    assert err == (
        "costmodel: error: stack 'local' projects no events: set monthly_volume on its event types "
        "(eda-platform:domains.<domain>.event_types.<Type>.monthly_volume)\n"
    )


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "does not exist"),
        ("{not json", "is not JSON"),
        ('{"resources": []}', "has no 'steps' list: expected the output of `pulumi preview"),
        ('{"steps": [{"op": "create"}]}', "steps[0] has no newState with urn and type"),
    ],
)
def test_a_malformed_preview_file_is_refused(capsys, tmp_path, content, message):
    preview = tmp_path / "preview.json"
    if content is not None:
        preview.write_text(content)
    code, _, err = run(capsys, "estimate", "--stack", "dev", "--preview-json", str(preview))
    assert code == 2 and err.startswith("costmodel: error: ") and message in err


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "cannot read estimate file"),
        ("[1, 2", "is not JSON"),
        (
            '{"schema_version": 1, "kind": "estimate"}',
            "is not a valid estimate document: top level: 'stack' is a required property",
        ),
        ('{"schema_version": 7}', "has schema_version 7; this costmodel reads version 1 and 2"),
    ],
)
def test_an_invalid_estimate_file_in_diff_is_refused(
    capsys, tmp_path, estimate_files, content, message
):
    base = tmp_path / "base.json"
    if content is not None:
        base.write_text(content)
    code, out, err = run(capsys, "diff", str(base), str(estimate_files["prod"]))
    assert code == 2 and out == "" and message in err and str(base) in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--fail-above", "lots"],
            "argument --fail-above: 'lots' is not a non-negative number: "
            "--fail-above takes a monthly increase in USD",
        ),
        (["--fail-above", "-5"], "argument --fail-above: '-5' is not a non-negative number"),
        (
            ["--fail-above-percent", "nan"],
            "argument --fail-above-percent: 'nan' is not a non-negative number: "
            "--fail-above-percent takes a percentage",
        ),
        (["--format", "pdf"], "argument --format: invalid choice: 'pdf'"),
    ],
)
def test_bad_options_exit_2_on_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exit:
        cli.main(["diff", "dev", "prod", *argv])
    err = capsys.readouterr().err
    assert exit.value.code == 2 and message in err and err.count("\n") == 1
