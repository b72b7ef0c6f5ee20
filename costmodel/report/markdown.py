"""Markdown for a PR comment: an estimate, or the change a PR brings (Infracost's layout).

GitHub renders HTML inside Markdown tables, so every cell is escaped (`<`, `&`, `|`); long
tables sit in `<details>` so the comment opens on the totals.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

from costmodel.diff import UNCHANGED, Diff
from costmodel.estimate import Estimate
from costmodel.levers import Lever
from costmodel.report.money import compact, quantity, share, usd, usd_change, usd_rate
from costmodel.report.tables import (
    VERIFY_MARK,
    assumption_lines,
    breakdown,
    first_month,
    line_items,
    price_basis,
    verify_note,
    what_if,
)

TOP_LEVERS = 5


def estimate_markdown(
    estimate: Estimate, levers: Sequence[Lever] | None = None, seed_check: Any = None
) -> str:
    """Total, per-service and per-domain tables, levers and the seed check (when given), line
    items, what is not priced, footnote."""
    note = _footnote_label("prices", estimate.stack)
    headline = (
        f"**Monthly cost: {usd(estimate.total)}** for {compact(estimate.monthly_events)} events "
        f"a month in {cell(estimate.region)}[^{note}]"
    )
    first = first_month(estimate)
    if first is not None:
        headline += f" (first month {usd(first)}, while storage fills up)"
    parts = [f"## Cost estimate: {cell(estimate.stack)}", headline]
    changes = what_if(estimate)
    if changes:
        parts.append("**What if:** " + "; ".join(cell(c) for c in changes))
    parts += [_breakdown_section(estimate, "service"), _breakdown_section(estimate, "domain")]
    if levers:
        parts.append(_levers_section(levers))
    if seed_check is not None:
        parts.append(_seed_section(seed_check))
    parts.append(_line_items(estimate))
    if estimate.not_priced:
        parts.append("**Not priced**\n\n" + "\n".join(f"- {cell(w)}" for w in estimate.not_priced))
    parts.append(_footnote(note, [estimate]))
    return "\n\n".join(parts) + "\n"


def diff_markdown(diff: Diff) -> str:
    """Headline, changed services, changed resources (folded), footnote with both sides' basis.

    No heading: the PR comment script puts each stack's diff under its own.
    """
    base, head = diff.base, diff.head
    sides = [base.stack, head.stack] if base.stack != head.stack else ["base", "head"]
    note = _footnote_label("cost", base.stack, head.stack)
    parts = [f"**{diff.headline()}**[^{note}]"]
    for label, side in zip(sides, (base, head)):
        changes = what_if(side)
        if changes:
            parts.append(f"**What if** ({cell(label)}): " + "; ".join(cell(c) for c in changes))

    services = diff.services[diff.services["change"].abs() > UNCHANGED]
    if services.empty:
        parts.append("No service changes in cost.")
    else:
        rows = [
            [cell(r.service), usd(r.before), usd(r.after), usd_change(r.change)]
            for r in services.itertuples()
        ]
        totals = (usd(diff.total_before), usd(diff.total_after), usd_change(diff.change))
        rows.append(["**Total**", *(f"**{t}**" for t in totals)])
        parts.append(table(["Service", *sides, "Change"], "lrrr", rows))

    resources = diff.resources[diff.resources["status"] != "unchanged"]
    if not resources.empty:
        counts = resources["status"].value_counts()
        kinds = [s for s in ("changed", "new", "removed") if s in counts]
        summary = ", ".join(f"{counts[s]} {s}" for s in kinds)
        rows = [
            [cell(r.resource), cell(r.service), r.status]
            + [usd(r.before), usd(r.after), usd_change(r.change)]
            for r in resources.itertuples()
        ]
        headers = ["Resource", "Service", "Status", *sides, "Change"]
        parts.append(_details(f"Resources ({summary})", table(headers, "lllrrr", rows)))
    parts.append(_footnote(note, [base, head], labels=sides))
    return "\n\n".join(parts) + "\n"


def table(headers: Sequence[str], align: str, rows: Iterable[Sequence[str]]) -> str:
    """A GitHub table; `align` has one letter (l or r) per column. Cells must already be escaped."""
    marks = {"l": "---", "r": "---:"}
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def cell(text: object) -> str:
    """Text made safe for a table cell: no HTML, no column breaks, no line breaks."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")


def _breakdown_section(estimate: Estimate, by: str) -> str:
    total = estimate.total
    rows = [
        [_marked(cell(row[by]), row["to_verify"]), usd(row["monthly_cost"]),
         share(row["monthly_cost"], total), str(row["item_count"])]
        for _, row in breakdown(estimate, by).iterrows()
    ]
    rows.append(["**Total**", f"**{usd(total)}**", "100%", str(len(estimate.items))])
    headers = [by.capitalize(), "Monthly cost", "Share", "Items"]
    return f"### By {by}\n\n" + table(headers, "lrrr", rows)


def _levers_section(levers: Sequence[Lever]) -> str:
    shown = list(levers)[:TOP_LEVERS]
    rows = [
        [cell(lever.name), cell(lever.description), usd_change(-lever.monthly_saving),
         f"{usd(lever.baseline_total)} → {usd(lever.variant_total)}"]
        for lever in shown
    ]
    headers = ["Lever", "What changes", "Monthly change", "Total (as is → with lever)"]
    text = "### Levers\n\n" + table(headers, "llrr", rows)
    if len(levers) > len(shown):
        text += f"\n\n{len(levers) - len(shown)} more in the HTML report."
    return text


def _seed_section(check: Any) -> str:
    rows = [
        [cell(r.service), cell(r.seed_figure), usd(r.scenario), usd(r.this_stack), cell(r.explanation)]
        for r in check.rows
    ]
    headers = ["Service", "Brief's figure", "Brief's stack", cell(check.stack), "Why they differ"]
    return (
        f"### Check against the design brief's cost table at {compact(check.volume)} events\n\n"
        + table(headers, "lrrrl", rows)
    )


def _line_items(estimate: Estimate) -> str:
    rows = [
        [
            cell(i.service), cell(i.resource), cell(i.component),
            f"{quantity(i.quantity)} {cell(i.unit)}",
            _marked(f"{usd_rate(i.list_price)} {cell(i.price_unit)}", i.verify),
            usd(i.monthly_cost), cell(i.formula),
        ]
        for i in line_items(estimate)
    ]
    headers = ["Service", "Resource", "Component", "Quantity", "Unit price", "Monthly cost"]
    headers.append("Formula")
    return _details(f"Line items ({len(rows)})", table(headers, "llllrrl", rows))


def _marked(text: str, verify: bool) -> str:
    return f"{text} {VERIFY_MARK}" if verify else text


def _details(summary: str, body: str) -> str:
    # Blank lines around the body: GitHub renders Markdown inside <details> only with them.
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def _footnote_label(*words: str) -> str:
    # Unique per stack: one PR comment holds a section per stack, and GitHub links a repeated
    # footnote label to its first definition.
    return "-".join(re.sub(r"[^A-Za-z0-9]+", "-", w) for w in words)


def _footnote(label: str, estimates: Sequence[Estimate], labels: Sequence[str] = ()) -> str:
    lines = []
    for index, estimate in enumerate(estimates):
        prefix = f"{labels[index]} ({cell(estimate.stack)}): " if labels else ""
        assumptions = cell(", ".join(assumption_lines(estimate)))
        lines.append(f"{prefix}{cell(price_basis(estimate))}; assumptions: {assumptions}.")
    flagged = verify_note(estimates[-1])
    if flagged:
        lines.append(cell(flagged))
    return f"[^{label}]: " + " ".join(lines)
