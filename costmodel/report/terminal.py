"""The terminal view (rich), readable at 80 columns: the summary first (total, per service),
then a per-resource breakdown in Infracost's layout (each resource, its cost components with
monthly quantity, unit and cost), what is not priced, and with `details` every line item with
its price, tiers and formula.

Functions return renderables; `to_text` prints them to a string (for `--out` and tests), the CLI
prints them to the terminal with colour.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich import box
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from costmodel.catalogue import Catalogue, PriceItem
from costmodel.diff import UNCHANGED, Diff
from costmodel.estimate import Estimate, LineItem
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

WIDTH = 80  # for text written to a file, where there is no terminal to measure
LEFT, RIGHT = "left", "right"
BLANK = Text("")
BRANCH, LAST = "├─ ", "└─ "


def summary_view(estimate: Estimate) -> list[RenderableType]:
    """The headline and the per-service table: what a user reads first."""
    total = estimate.total
    services = styled_table(
        "By service",
        [("Service", LEFT), ("Monthly cost", RIGHT), ("Share", RIGHT), ("Items", RIGHT)],
    )
    for _, row in breakdown(estimate, "service").iterrows():
        cost = row["monthly_cost"]
        name = _marked(row["service"], row["to_verify"])
        services.add_row(name, usd(cost), share(cost, total), str(row["item_count"]))
    services.add_section()
    services.add_row(_bold("Total"), _bold(usd(total)), "100%", str(len(estimate.items)))
    lines: list[RenderableType] = [
        _bold(
            f"{estimate.stack}: {usd(total)} a month for {compact(estimate.monthly_events)} events"
        ),
        Text(price_basis(estimate), style="dim"),
    ]
    first = first_month(estimate)
    if first is not None:
        lines.append(
            Text(f"First month {usd(first)}: storage fills up over its retention period", style="dim")
        )
    lines += [Text(f"What if: {change}", style="yellow") for change in what_if(estimate)]
    return [*lines, BLANK, services]


def resources_view(estimate: Estimate) -> Table:
    """Infracost's breakdown: each resource (largest first) and its cost components."""
    table = styled_table(
        "By resource",
        [("Name", LEFT), ("Monthly qty", RIGHT), ("Unit", LEFT), ("Monthly cost", RIGHT)],
    )
    # Fixed widths for the figures (the longest unit is dashboard-month, 15): at 80 columns the
    # name keeps the rest, 36 characters.
    for column, width in zip(table.columns[1:], (11, 15, 12)):
        column.width = width
    groups: dict[tuple[str, str], list[LineItem]] = {}
    for item in estimate.items:
        groups.setdefault((item.resource, item.service), []).append(item)
    ordered = sorted(
        groups.items(), key=lambda kv: (-sum(i.monthly_cost for i in kv[1]), kv[0])
    )
    for (resource, service), items in ordered:
        cost = sum(i.monthly_cost for i in items)
        table.add_row(_bold(f"{resource} ({service})"), "", "", _bold(usd(cost)))
        items = sorted(items, key=lambda i: (-i.monthly_cost, i.component))
        for n, item in enumerate(items):
            branch = LAST if n == len(items) - 1 else BRANCH
            table.add_row(
                f"{branch}{_marked(item.component, item.verify)}", quantity(item.quantity),
                SHORT_UNITS.get(item.unit, item.unit), usd(item.monthly_cost),
            )
    table.add_section()
    table.add_row(_bold("Total"), "", "", _bold(usd(estimate.total)))
    return table


def details_view(estimate: Estimate) -> list[RenderableType]:
    """Every line item: quantity × price = cost, its tiers and free units, and its formula."""
    view: list[RenderableType] = [_bold("Line items")]
    for item in line_items(estimate):
        view.append(Text(f"{item.service} · {item.resource} · {item.component}", style="bold"))
        price = _marked(f"{usd_rate(item.list_price)} {item.price_unit}", item.verify)
        lines = [f"{quantity(item.quantity)} {item.unit} at {price} = {usd(item.monthly_cost)}"]
        if item.free_quantity:
            lines.append(f"free tier: {quantity(item.free_quantity)} {item.unit}")
        if len(item.tiers) > 1 or item.free_quantity:
            lines += [
                f"tier: {quantity(t.quantity)} × {usd_rate(t.unit_price)} = {usd(t.cost)}"
                for t in item.tiers
            ]
        if item.first_month_cost is not None:
            lines.append(
                f"first month: {quantity(item.first_month_quantity)} {item.unit} = "
                f"{usd(item.first_month_cost)}"
            )
        lines.append(item.formula)
        view += [Padding(Text(line), (0, 0, 0, 2)) for line in lines]
    return view


def estimate_view(estimate: Estimate, details: bool = False) -> list[RenderableType]:
    view: list[RenderableType] = [*summary_view(estimate), BLANK, resources_view(estimate)]
    if details:
        view += [BLANK, *details_view(estimate)]
    unpriced = estimate.not_priced
    if unpriced:
        view += [BLANK, _bold("Not priced")]
        view += [Padding(Text(f"- {line}", style="yellow"), (0, 0, 0, 0)) for line in unpriced]
    view += [BLANK, Text(f"Assumptions: {', '.join(assumption_lines(estimate))}", style="dim")]
    flagged = verify_note(estimate)
    if flagged:
        view.append(Text(flagged, style="dim"))
    if not details:
        view.append(Text("Every line item with its price, tiers and formula: --details", style="dim"))
    return view


def diff_view(diff: Diff) -> list[RenderableType]:
    base, head = diff.base.stack, diff.head.stack
    before, after = (base, head) if base != head else ("base", "head")
    money = [(before, RIGHT), (after, RIGHT), ("Change", RIGHT)]
    services = styled_table("By service (changed)", [("Service", LEFT), *money])
    for row in diff.services[diff.services["change"].abs() > UNCHANGED].itertuples():
        services.add_row(row.service, usd(row.before), usd(row.after), _signed(row.change))
    services.add_section()
    services.add_row("Total", usd(diff.total_before), usd(diff.total_after), _signed(diff.change))

    resources = styled_table("By resource (changed, new, removed)", [("Resource", LEFT), *money])
    for row in diff.resources[diff.resources["status"] != "unchanged"].itertuples():
        money_cells = (usd(row.before), usd(row.after), _signed(row.change))
        status = "" if row.status == "changed" else f" [{row.status}]"
        resources.add_row(f"{row.resource} ({row.service}){status}", *money_cells)
    view: list[RenderableType] = [_bold(diff.headline()), BLANK, services, BLANK, resources, BLANK]
    for label, side in ((before, diff.base), (after, diff.head)):
        view.append(Text(f"{label} ({side.stack}): {price_basis(side)}", style="dim"))
        view += [Text(f"{label}: what if {change}", style="yellow") for change in what_if(side)]
    return view


def prices_view(catalogue: Catalogue) -> list[RenderableType]:
    table = styled_table(
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


def styled_table(title: str, columns: list[tuple[str, str]]) -> Table:
    """A table in the terminal views' style: `columns` are (name, LEFT or RIGHT)."""
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
        padding=(0, 1), collapse_padding=True,
    )
    for n, (name, justify) in enumerate(columns):
        # The first column gives way (folds) so the numbers keep their full width.
        table.add_column(name, justify=justify, overflow="fold", no_wrap=n > 0 and justify == RIGHT)
    return table


# Units shortened in the 80-column breakdown; the details and other formats spell them out.
SHORT_UNITS = {"write request unit": "write unit", "read request unit": "read unit"}


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
