"""The diff between two real estimates (dev -> prod), checked by hand against the estimates."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math

import jsonschema
import pytest

from costmodel.diff import Threshold, diff
from costmodel.estimate import load_model
from costmodel.report.document import SCHEMA_DIR, diff_document
from costmodel.report.markdown import diff_markdown
from costmodel.report.money import percent_change, usd, usd_change


@pytest.fixture(scope="module")
def dev():
    return load_model("dev").estimate()


@pytest.fixture(scope="module")
def prod():
    return load_model("prod").estimate()


@pytest.fixture(scope="module")
def change(dev, prod):
    return diff(dev, prod)


def test_totals_are_the_two_estimates(change, dev, prod):
    assert change.total_before == dev.total and change.total_after == prod.total
    assert change.change == pytest.approx(prod.total - dev.total)
    assert change.percent == pytest.approx(100 * (prod.total - dev.total) / dev.total)


def test_per_service_changes_are_the_service_totals_and_sum_to_the_total(change, dev, prod):
    before, after = dev.by("service"), prod.by("service")
    for row in change.services.itertuples():
        assert row.before == pytest.approx(before.get(row.service, 0.0))
        assert row.after == pytest.approx(after.get(row.service, 0.0))
        assert row.change == pytest.approx(row.after - row.before)
    assert set(change.services["service"]) == set(before.index) | set(after.index)
    assert change.services["change"].sum() == pytest.approx(change.change)
    assert change.resources["change"].sum() == pytest.approx(change.change)
    assert change.components["change"].sum() == pytest.approx(change.change)


def test_resources_are_matched_across_stacks_without_the_stack_prefix(change, dev, prod):
    # dev-orders-processor and prod-orders-processor are one resource of two stacks.
    row = change.resources.set_index(["service", "resource"]).loc[("SQS", "prod-orders-processor")]
    def mine(estimate, name):
        lines = [i for i in estimate.items if (i.service, i.resource) == ("SQS", name)]
        return sum(i.monthly_cost for i in lines)

    assert row.before == pytest.approx(mine(dev, "dev-orders-processor"))
    assert row.after == pytest.approx(mine(prod, "prod-orders-processor"))
    assert row.status == "changed"
    # Removed: exactly the resources dev has under a name prod has not (shipped: the SNS topic
    # prod replaces by rules).
    prod_names = {i.resource.replace("prod-", "dev-", 1) for i in prod.items}
    dev_only = sorted({i.resource for i in dev.items} - prod_names)
    assert sorted(set(change.status("removed"))) == dev_only and dev_only


def test_new_and_removed_resources(prod):
    kept = [i for i in prod.items if "payments-audit" not in i.resource]
    without_audit = dataclasses.replace(prod, items=kept)
    added = diff(without_audit, prod)
    removed = diff(prod, without_audit)
    audit = sorted({i.resource for i in prod.items if "payments-audit" in i.resource})
    assert sorted(set(added.status("new"))) == audit
    assert sorted(set(removed.status("removed"))) == audit
    gone = sum(i.monthly_cost for i in prod.items if "payments-audit" in i.resource)
    assert added.change == pytest.approx(gone) and removed.change == pytest.approx(-gone)
    assert set(added.components.loc[added.components["status"] == "new", "resource"]) == set(audit)


def test_an_estimate_against_itself_does_not_change(prod):
    same = diff(prod, prod)
    assert same.change == 0 and set(same.resources["status"]) == {"unchanged"}
    assert same.headline() == f"Monthly cost will not change from {usd(prod.total)}"
    assert "No service changes in cost." in diff_markdown(same)
    assert same.tripped(Threshold(usd=0, percent=0)) == []


def test_headline_reads_like_infracost(change, dev, prod):
    assert change.headline() == (
        f"Monthly cost will increase by {usd(prod.total - dev.total)} "
        f"({percent_change(change.percent)}) from {usd(dev.total)} to {usd(prod.total)}"
    )
    decrease = f"Monthly cost will decrease by {usd(prod.total - dev.total)} (-"
    assert diff(prod, dev).headline().startswith(decrease)


def test_percent_from_nothing_is_infinite(prod):
    nothing = dataclasses.replace(prod, items=[])
    assert math.isinf(diff(nothing, prod).percent)
    assert diff(nothing, nothing).percent is None
    assert diff(nothing, prod).tripped(Threshold(percent=1000))


@pytest.mark.parametrize(
    "threshold, tripped",
    [
        (Threshold(), []),
        (Threshold(usd=1e6), []),
        (Threshold(usd=10), ["a month exceeds the $10.00 limit"]),
        (Threshold(percent=1e6), []),
        (Threshold(percent=50), ["exceeds the 50% limit"]),
        (
            Threshold(usd=10, percent=50),
            ["a month exceeds the $10.00 limit", "exceeds the 50% limit"],
        ),
    ],
)
def test_thresholds_say_which_limit_is_exceeded(change, threshold, tripped):
    reasons = change.tripped(threshold)
    assert len(reasons) == len(tripped)
    for reason, expected in zip(reasons, tripped):
        assert reason.startswith("the increase of +") and reason.endswith(expected)


def test_a_decrease_never_trips(change, dev, prod):
    assert diff(prod, dev).tripped(Threshold(usd=0, percent=0)) == []


def test_pr_comment_for_dev_to_prod(change, dev, prod):
    text = diff_markdown(change)
    assert text.startswith(f"**{change.headline()}**[^cost-dev-prod]")
    after_header = text.split("| Service | dev | prod | Change |", 1)[1].splitlines()[2:]
    service_rows = list(itertools.takewhile(lambda line: line.startswith("|"), after_header))
    *services, total = service_rows
    totals = (usd(dev.total), usd(prod.total), usd_change(change.change))
    assert total == "| **Total** | " + " | ".join(f"**{t}**" for t in totals) + " |"
    changed = change.services[change.services["change"].abs() > 1e-9]
    assert [row.split(" | ")[0].removeprefix("| ") for row in services] == list(changed["service"])
    assert "<details><summary>Resources (" in text
    assert "| prod-orders-processor | SQS | changed |" in text
    footnote = text.split("[^cost-dev-prod]: ", 1)[1]
    assert footnote.startswith("dev (dev): aws-current prices for us-east-1")
    assert "prod (prod): aws-current prices" in footnote


def test_diff_json_validates_against_its_schema(change):
    document = json.loads(json.dumps(diff_document(change)))
    schema = json.loads((SCHEMA_DIR / "diff.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert list(document) == list(schema["properties"])
    for part in ("service", "resource", "component"):
        fields = list(schema["$defs"][part]["properties"])
        assert all(list(row) == fields for row in document[f"{part}s"])
    assert document["change"] == pytest.approx(change.change)
    assert sum(s["change"] for s in document["services"]) == pytest.approx(change.change)
