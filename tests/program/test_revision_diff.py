"""What a change does, by name: `python -m offline STACK --diff [REF]` and `costmodel diff REF:STACK`."""

from __future__ import annotations

import json

import pytest

import offline.__main__ as offline_cli
from costmodel.__main__ import main as costmodel_main
from offline.program import run


def test_added_changed_and_removed_are_listed_by_type_and_name(monkeypatch, capsys):
    now = offline_cli.declared(run("dev"))
    before = json.loads(json.dumps(now))
    before.pop("aws:sqs/queue:Queue::orders-processor-queue")
    before["aws:sqs/queue:Queue::orders-processor-dlq-queue"]["messageRetentionSeconds"] = 60.0
    before["aws:sqs/queue:Queue::orders-gone-queue"] = {"name": "dev-orders-gone"}
    monkeypatch.setattr(offline_cli, "declared_at", lambda ref, stack: before)
    assert offline_cli.main(["dev", "--diff", "main"]) == 0
    out = capsys.readouterr().out
    assert "added    aws:sqs/queue:Queue::orders-processor-queue" in out
    assert "changed  aws:sqs/queue:Queue::orders-processor-dlq-queue" in out
    assert "removed  aws:sqs/queue:Queue::orders-gone-queue" in out
    assert "dev against main: 1 added, 1 removed, 1 changed" in out


def test_an_unknown_revision_exits_2_naming_what_is_allowed(capsys):
    assert offline_cli.main(["dev", "--diff", "no-such-ref-xyz"]) == 2
    out = capsys.readouterr().out
    assert "'no-such-ref-xyz' is not a revision of this repository" in out
    assert "allowed: a commit, branch or tag" in out


def test_costmodel_diff_prices_a_revision_with_its_own_code(capsys, tmp_path):
    out = tmp_path / "diff.json"
    assert costmodel_main(["diff", "HEAD:dev", "dev", "--format", "json", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["base"]["stack"] == document["head"]["stack"] == "dev"
    assert document["base"]["total_monthly_cost"] > 0


@pytest.mark.parametrize("side", ["no-such-ref-xyz:dev"])
def test_costmodel_diff_with_a_bad_revision_exits_2(side, capsys):
    assert costmodel_main(["diff", side, "dev"]) == 2
    assert "is not a revision of this repository" in capsys.readouterr().err
