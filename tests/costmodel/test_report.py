"""Every output format of one estimate parses and shows the same numbers.

One prod model and its estimate per module (a program run takes about a second); the HTML's
sections (sweep, headroom, levers, seed check) are computed once too.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser

import jsonschema
import pandas as pd
import pytest

from costmodel.estimate import load_model
from costmodel.report.document import (
    SCHEMA_DIR,
    EstimateFileError,
    estimate_from_json,
    read_estimate,
    to_csv,
    to_json,
)
from costmodel.report.html_page import estimate_html
from costmodel.report.markdown import estimate_markdown
from costmodel.report.money import usd
from costmodel.report.sections import gather
from costmodel.report.tables import VERIFY_MARK, breakdown
from costmodel.report.terminal import estimate_view, to_text

HOSTILE = "1 < 2 & 3 > 2 | <script>alert('x')</script>"  # what escaping must survive


@pytest.fixture(scope="module")
def model():
    return load_model("prod")


@pytest.fixture(scope="module")
def estimate(model):
    return model.estimate()


@pytest.fixture(scope="module")
def sections(model):
    return gather(model, seed_check=True)


@pytest.fixture(scope="module")
def hostile(estimate):
    """The estimate with one formula and one resource name full of markup characters."""
    first, *rest = estimate.items
    return dataclasses.replace(
        estimate, items=[dataclasses.replace(first, formula=HOSTILE, resource="q<&>"), *rest]
    )


@pytest.fixture(scope="module")
def html_text(hostile, sections):
    return estimate_html(hostile, sections)


# --- CSV and JSON ----------------------------------------------------------------------------


def test_csv_reads_back_as_the_frame(estimate):
    nullable = {"first_month_quantity": [""], "first_month_cost": [""]}
    read = pd.read_csv(io.StringIO(to_csv(estimate)), keep_default_na=False, na_values=nullable)
    pd.testing.assert_frame_equal(read, estimate.frame(), check_exact=True)


def test_json_validates_against_the_published_schema(estimate):
    document = json.loads(to_json(estimate))
    schema = json.loads((SCHEMA_DIR / "estimate.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema)
    assert list(document) == list(schema["properties"])  # nothing the schema does not document
    assert document["schema_version"] == 2
    assert document["total_monthly_cost"] == pytest.approx(estimate.total)
    columns = list(estimate.frame().columns)
    assert all(list(item) == columns for item in document["items"])  # the CSV's order too
    by_service = {row["service"]: row["monthly_cost"] for row in document["by_service"]}
    assert by_service == pytest.approx(estimate.by("service").to_dict())


def test_a_reader_ignores_fields_added_by_a_newer_revision(estimate):
    document = json.loads(to_json(estimate))
    document["generated_by"] = "a later costmodel"
    document["items"][0]["carbon_g"] = 12.5
    assert estimate_from_json(document) == estimate


def test_json_round_trips_to_an_equal_estimate(estimate, tmp_path):
    assert estimate_from_json(to_json(estimate)) == estimate
    path = tmp_path / "prod.json"
    path.write_text(to_json(estimate))
    assert read_estimate(path) == estimate


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(schema_version=3), "schema_version 3; this costmodel reads version 1 and 2"),
        (lambda d: d.update(kind="diff"), "is a 'diff' document; expected 'estimate'"),
        (lambda d: d.pop("items"), "top level: 'items' is a required property"),
        (
            lambda d: d["items"][0].update(quantity="many"),
            "items/0/quantity: 'many' is not of type 'number'",
        ),
        (lambda d: d["items"].remove(max(d["items"], key=lambda i: i["monthly_cost"])),
         "is not the sum of its items"),
    ],
)
def test_a_bad_estimate_document_is_refused_with_what_is_wrong(estimate, edit, message):
    document = json.loads(to_json(estimate))
    edit(document)
    with pytest.raises(EstimateFileError, match=re.escape(message)):
        estimate_from_json(document, origin="base.json")


def test_a_file_that_is_not_json_or_missing_is_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(EstimateFileError, match=r"bad.json is not JSON"):
        read_estimate(bad)
    with pytest.raises(EstimateFileError, match=r"cannot read estimate file .*missing.json"):
        read_estimate(tmp_path / "missing.json")


# --- Markdown --------------------------------------------------------------------------------


def markdown_table(text: str, heading: str) -> list[list[str]]:
    """The rows (without header and rule) of the first table after `heading`."""
    lines = text.split(heading, 1)[1].splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_markdown_has_service_and_domain_tables_with_the_total(estimate):
    text = estimate_markdown(estimate)
    for heading, by in (("### By service", "service"), ("### By domain", "domain")):
        rows = markdown_table(text, heading)
        *body, total = rows
        assert total[:2] == ["**Total**", f"**{usd(estimate.total)}**"]
        expected = breakdown(estimate, by)
        assert [r[0].removesuffix(f" {VERIFY_MARK}") for r in body] == expected[by].tolist()
        assert [r[1] for r in body] == [usd(v) for v in expected["monthly_cost"]]
        assert [int(r[3]) for r in body] == expected["item_count"].tolist()
    assert f"**Monthly cost: {usd(estimate.total)}**" in text


def test_markdown_footnote_has_preset_date_assumptions_and_verify_flags(estimate):
    text = estimate_markdown(estimate)
    footnote = text.split("[^prices-prod]: ", 1)[1]
    assert "aws-current prices for us-east-1 (effective" in footnote
    assert "duplicate_rate = " in footnote
    flagged = sorted({i.price_item for i in estimate.items if i.verify})
    assert flagged and all(item in footnote for item in flagged)
    assert f"SQS {VERIFY_MARK}" in text  # the per-service row of a flagged price


def test_markdown_line_items_are_escaped(hostile):
    text = estimate_markdown(hostile)
    assert "<script>" not in text
    assert "1 &lt; 2 &amp; 3 &gt; 2 \\| &lt;script&gt;" in text
    rows = markdown_table(text, "Line items")
    assert len(rows) == len(hostile.items)  # the escaped pipe did not split a row


def test_markdown_levers_section_lists_the_biggest_savings(model, estimate, sections):
    text = estimate_markdown(estimate, levers=sections.levers)
    rows = markdown_table(text, "### Levers")
    assert rows[0][0] == sections.levers[0].name
    savings = [lever.monthly_saving for lever in sections.levers]
    assert savings == sorted(savings, reverse=True)


# --- terminal --------------------------------------------------------------------------------


def test_terminal_view_shows_services_items_total_warnings_and_verify_marks(estimate):
    text = to_text(estimate_view(estimate, details=True), width=220)
    assert f"prod: {usd(estimate.total)} a month" in text
    assert text.count(usd(estimate.total)) >= 3  # headline, service total, resources total
    for service in estimate.by("service").index:
        assert service in text
    for warning in estimate.warnings:
        assert warning in text
    assert f"per 1,000,000 request {VERIFY_MARK}" in text
    for item in estimate.items:
        assert item.formula in text


def test_terminal_view_fits_80_columns_summary_first_then_resources(estimate):
    for details in (False, True):
        text = to_text(estimate_view(estimate, details=details), width=80)
        assert max(len(line) for line in text.splitlines()) <= 80
        assert text.index("By service") < text.index("By resource")
        assert ("Line items" in text) == details
    text = to_text(estimate_view(estimate), width=80)
    # Infracost's layout: a resource's total, then its components with quantity, unit and cost
    lines = text.splitlines()
    head = next(n for n, line in enumerate(lines) if line.strip().startswith("prod-orders-processor (SQS)"))
    sqs = sum(i.monthly_cost for i in estimate.items if (i.resource, i.service) == ("prod-orders-processor", "SQS"))
    assert lines[head].rstrip().endswith(usd(sqs))
    assert lines[head + 1].strip().startswith("├─ send")


# --- HTML ------------------------------------------------------------------------------------


class Page(HTMLParser):
    """Element ids, the text of each table cell and row, and every <svg> and data: image."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.cells, self.rows, self.svgs, self.images, self.tags = {}, [], [], 0, 0, []
        self._text: list[str] | None = None
        self._row: list[str] = []
        self._id: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.svgs += tag == "svg"
        self.images += tag == "img" and attrs.get("src", "").startswith("data:image/png;base64,")
        if "id" in attrs and tag in ("p", "table", "div", "h2"):
            self._id, self.ids[attrs["id"]] = attrs["id"], ""
        if tag == "td":
            self._text = []

    def handle_endtag(self, tag):
        if tag == "td" and self._text is not None:
            self.cells.append("".join(self._text).strip())
            self._row.append(self.cells[-1])
            self._text = None
        if tag == "tr":
            self.rows.append(self._row)
            self._row = []
        if tag in ("p", "h2") and self._id:
            self._id = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)
        if self._id in self.ids and self._id in ("total",):
            self.ids[self._id] += data


def test_html_report_parses_with_total_charts_and_sections(html_text, hostile, sections):
    page = Page()
    page.feed(html_text)
    assert page.ids["total"].strip().startswith(usd(hostile.total))
    sections_shown = {"by-service", "service-chart", "volume-chart", "headroom", "levers"}
    assert sections_shown | {"seed-check", "line-items"} <= set(page.ids)
    assert page.svgs + page.images >= 2
    limit = sections.first_limit
    assert f"{limit['check']} ({limit['scope']})" in html_text
    for lever in sections.levers:
        assert lever.name in page.cells
    for row in sections.seed_check.rows:
        assert row.service in page.cells and usd(row.this_stack) in page.cells


def test_html_breakdown_tables_match_the_estimate(html_text, hostile):
    page = Page()
    page.feed(html_text)
    for by in ("service", "domain"):
        for row in breakdown(hostile, by).itertuples():
            mark = f" {VERIFY_MARK}" if by == "service" and row.to_verify else ""
            name = getattr(row, by) + mark
            expected = [name, usd(row.monthly_cost), f"{100 * row.share:.1f}%", str(row.item_count)]
            assert expected in page.rows
    assert ["Total", usd(hostile.total), "100%", str(len(hostile.items))] in page.rows


def test_html_escapes_formulas_and_names(html_text):
    assert "<script>" not in html_text
    page = Page()
    page.feed(html_text)
    assert HOSTILE in page.cells  # the parser decodes the entities back to the original text
    assert "q<&>" in page.cells


def test_html_charts_are_well_formed_svg(html_text):
    svgs = re.findall(r"<svg.*?</svg>", html_text, flags=re.S)
    assert len(svgs) == 2
    for svg in svgs:
        root = ElementTree.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "first limit:" in svgs[1] and "this stack:" in svgs[1]


def test_html_line_items_table_has_every_item_with_its_formula(html_text, hostile):
    page = Page()
    page.feed(html_text)
    for item in hostile.items[1:]:
        assert item.formula in page.cells


def test_html_without_sections_still_renders(estimate):
    text = estimate_html(estimate)
    assert text.count("<svg") == 1 and 'id="volume"' not in text and 'id="levers"' not in text
    assert 'id="seed-check"' not in text and 'id="coverage"' in text
