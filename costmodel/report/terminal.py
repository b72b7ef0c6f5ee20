"""The terminal view (rich): per-service totals, every line item, warnings and the price basis.

Functions return renderables; `to_text` prints them to a string (for `--out` and tests), the CLI
prints them to the terminal with colour.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from costmodel.catalogue import Catalogue, PriceItem
from costmodel.diff import UNCHANGED, Diff
from costmodel.estimate import Estimate
from costmodel.report.money import compact, quantity, share, usd, usd_change, usd_rate
from costmodel.report.tables import (
    VERIFY_MARK,
    assumption_lines,
    breakdown,
    line_items,
    price_basis,
    verify_note,
)

WIDTH = 160  # for text written to a file, where there is no terminal to measure
LEFT, RIGHT = "left", "right"


def summary_view(estimate: Estimate) -> list[RenderableType]:
    """The headline and the per-service table: what a user reads first."""
    total = estimate.total
    services = _table(
        "By service",
        [("Service", LEFT), ("Monthly cost", RIGHT), ("Share", RIGHT), ("Items", RIGHT)],
    )
    for _, row in breakdown(estimate, "service").iterrows():
        cost = row["monthly_cost"]
        name = _marked(row["service"], row["to_verify"])
        services.add_row(name, usd(cost), share(cost, total), str(row["item_count"]))
    services.add_section()
    services.add_row(_bold("Total"), _bold(usd(total)), "100%", str(len(estimate.items)))
    headline = (
        f"{estimate.stack}: {usd(total)} a month for {compact(estimate.monthly_events)} events "
        f"({price_basis(estimate)})"
    )
    return [_bold(headline), services]


def estimate_view(estimate: Estimate) -> list[RenderableType]:
    total = estimate.total
    items = _table(
        "Line items",
        [
            ("Service", LEFT), ("Resource", LEFT), ("Component", LEFT), ("Quantity", RIGHT),
            ("Unit", LEFT), ("Unit price", RIGHT), ("Monthly cost", RIGHT), ("Formula", LEFT),
        ],
    )
    previous = None
    for item in line_items(estimate):
        if previous is not None and item.service != previous:
            items.add_section()
        previous = item.service
        items.add_row(
            item.service, item.resource, item.component, quantity(item.quantity), item.unit,
            _marked(f"{usd_rate(item.unit_price)} {item.price_unit}", item.verify),
            usd(item.monthly_cost), item.formula,
        )
    items.add_section()
    items.add_row(_bold("Total"), "", "", "", "", "", _bold(usd(total)), "")

    view: list[RenderableType] = [*summary_view(estimate), items]
    view += [Text(f"warning: {w}", style="yellow") for w in estimate.warnings]
    view.append(Text(f"Assumptions: {', '.join(assumption_lines(estimate))}", style="dim"))
    flagged = verify_note(estimate)
    if flagged:
        view.append(Text(flagged, style="dim"))
    return view


def diff_view(diff: Diff) -> list[RenderableType]:
    base, head = diff.base.stack, diff.head.stack
    before, after = (base, head) if base != head else ("base", "head")
    money = [(before, RIGHT), (after, RIGHT), ("Change", RIGHT)]
    services = _table("By service (changed)", [("Service", LEFT), *money])
    for row in diff.services[diff.services["change"].abs() > UNCHANGED].itertuples():
        services.add_row(row.service, usd(row.before), usd(row.after), _signed(row.change))
    services.add_section()
    services.add_row("Total", usd(diff.total_before), usd(diff.total_after), _signed(diff.change))

    resources = _table(
        "By resource (changed, new, removed)",
        [("Resource", LEFT), ("Service", LEFT), ("Status", LEFT), *money],
    )
    for row in diff.resources[diff.resources["status"] != "unchanged"].itertuples():
        money_cells = (usd(row.before), usd(row.after), _signed(row.change))
        resources.add_row(row.resource, row.service, row.status, *money_cells)
    return [
        _bold(diff.headline()),
        services,
        resources,
        Text(f"{before} ({base}): {price_basis(diff.base)}", style="dim"),
        Text(f"{after} ({head}): {price_basis(diff.head)}", style="dim"),
    ]


def prices_view(catalogue: Catalogue) -> list[RenderableType]:
    table = _table(
        f"Prices: {catalogue.preset}, {catalogue.region} ({catalogue.currency})",
        [
            ("Item", LEFT), ("Service", LEFT), ("Price", RIGHT), ("Tiers", LEFT),
            ("Free tier", LEFT), ("Verify", LEFT), ("From preset", LEFT), ("Effective", LEFT),
            ("Source", LEFT),
        ],
    )
    for item_id, item in sorted(catalogue.items.items()):
        free = f"{quantity(item.free_tier.monthly)} {item.unit}/month" if item.free_tier else ""
        table.add_row(
            item_id, item.service, f"{usd_rate(item.unit_price)} {item.price_unit}", _tiers(item),
            free, VERIFY_MARK if item.verify else "", catalogue.origin(item_id),
            str(item.effective), item.source,
        )
    flagged = catalogue.to_verify()
    note = "No prices flagged verify."
    if flagged:
        note = f"{VERIFY_MARK} verify (sources disagree): {', '.join(flagged)}"
    return [table, Text(note, style="dim")]


def to_text(view: Iterable[RenderableType], width: int = WIDTH) -> str:
    """The view as plain text (no colour codes), e.g. for `--out`."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    for renderable in view:
        console.print(renderable)
    return buffer.getvalue()


def _table(title: str, columns: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")
    return table


def _tiers(item: PriceItem) -> str:
    if not item.tiers:
        return ""
    return ", ".join(
        f"{usd_rate(t.price)} " + (f"up to {quantity(t.up_to)}" if t.up_to else "beyond")
        for t in item.tiers
    )


def _marked(text: str, verify: bool) -> str:
    return f"{text} {VERIFY_MARK}" if verify else text


def _bold(text: str) -> Text:
    return Text(text, style="bold")


def _signed(change: float) -> Text:
    colour = "red" if change > UNCHANGED else "green" if change < -UNCHANGED else ""
    return Text(usd_change(change), style=colour)
