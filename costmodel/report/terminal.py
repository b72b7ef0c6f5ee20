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

from costmodel.catalogue import Catalogue
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


def estimate_view(estimate: Estimate) -> list[RenderableType]:
    total = estimate.total
    services = Table(title="By service", title_justify="left")
    for name, justify in (("Service", "left"), ("Monthly cost", "right"), ("Share", "right"), ("Items", "right")):
        services.add_column(name, justify=justify)
    for _, row in breakdown(estimate, "service").iterrows():
        mark = f" {VERIFY_MARK}" if row["to_verify"] else ""
        services.add_row(row["service"] + mark, usd(row["monthly_cost"]), share(row["monthly_cost"], total), str(row["items"]))
    services.add_section()
    services.add_row(Text("Total", style="bold"), Text(usd(total), style="bold"), "100%", str(len(estimate.items)))

    items = Table(title="Line items", title_justify="left", show_lines=False)
    for name, justify in (
        ("Service", "left"), ("Resource", "left"), ("Component", "left"), ("Quantity", "right"),
        ("Unit", "left"), ("Unit price", "right"), ("Monthly cost", "right"), ("Formula", "left"),
    ):
        items.add_column(name, justify=justify, overflow="fold")
    previous = None
    for item in line_items(estimate):
        if previous is not None and item.service != previous:
            items.add_section()
        previous = item.service
        price = f"{usd_rate(item.unit_price)} {item.price_unit}" + (f" {VERIFY_MARK}" if item.verify else "")
        items.add_row(
            item.service, item.resource, item.component, quantity(item.quantity), item.unit, price,
            usd(item.monthly_cost), item.formula,
        )
    items.add_section()
    items.add_row(Text("Total", style="bold"), "", "", "", "", "", Text(usd(total), style="bold"), "")

    view: list[RenderableType] = [
        Text(
            f"{estimate.stack}: {usd(total)} a month for {compact(estimate.monthly_events)} events "
            f"({price_basis(estimate)})",
            style="bold",
        ),
        services,
        items,
    ]
    view += [Text(f"warning: {w}", style="yellow") for w in estimate.warnings]
    view += _notes(estimate)
    return view


def diff_view(diff: Diff) -> list[RenderableType]:
    base, head = diff.base.stack, diff.head.stack
    labels = (base, head) if base != head else ("base", "head")
    services = Table(title="By service (changed)", title_justify="left")
    for name, justify in (("Service", "left"), (labels[0], "right"), (labels[1], "right"), ("Change", "right")):
        services.add_column(name, justify=justify)
    for row in diff.services[diff.services["change"].abs() > UNCHANGED].itertuples():
        services.add_row(row.service, usd(row.before), usd(row.after), _signed(row.change))
    services.add_section()
    services.add_row("Total", usd(diff.total_before), usd(diff.total_after), _signed(diff.change))

    resources = Table(title="By resource (changed, new, removed)", title_justify="left")
    for name, justify in (("Resource", "left"), ("Service", "left"), ("Status", "left"), (labels[0], "right"), (labels[1], "right"), ("Change", "right")):
        resources.add_column(name, justify=justify)
    for row in diff.resources[diff.resources["status"] != "unchanged"].itertuples():
        resources.add_row(row.resource, row.service, row.status, usd(row.before), usd(row.after), _signed(row.change))
    return [
        Text(diff.headline(), style="bold"),
        services,
        resources,
        Text(f"{labels[0]} ({base}): {price_basis(diff.base)}", style="dim"),
        Text(f"{labels[1]} ({head}): {price_basis(diff.head)}", style="dim"),
    ]


def prices_view(catalogue: Catalogue) -> list[RenderableType]:
    table = Table(title=f"Prices: {catalogue.preset}, {catalogue.region} ({catalogue.currency})", title_justify="left")
    for name, justify in (
        ("Item", "left"), ("Service", "left"), ("Price", "right"), ("Tiers", "left"), ("Free tier", "left"),
        ("Verify", "left"), ("From preset", "left"), ("Effective", "left"), ("Source", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")
    for item_id, item in sorted(catalogue.items.items()):
        tiers = ", ".join(
            f"{usd_rate(t.price)} ≤{quantity(t.up_to)}" if t.up_to else f"{usd_rate(t.price)} above" for t in item.tiers
        ) if item.tiers else ""
        free = f"{quantity(item.free_tier.monthly)} {item.unit}/month" if item.free_tier else ""
        table.add_row(
            item_id, item.service, f"{usd_rate(item.unit_price)} {item.price_unit}", tiers, free,
            VERIFY_MARK if item.verify else "", catalogue.origin(item_id), str(item.effective), item.source,
        )
    flagged = catalogue.to_verify()
    note = f"{VERIFY_MARK} verify (sources disagree): {', '.join(flagged)}" if flagged else "No prices flagged verify."
    return [table, Text(note, style="dim")]


def to_text(view: Iterable[RenderableType], width: int = WIDTH) -> str:
    """The view as plain text (no colour codes), e.g. for `--out`."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    for renderable in view:
        console.print(renderable)
    return buffer.getvalue()


def _signed(change: float) -> Text:
    return Text(usd_change(change), style="red" if change > UNCHANGED else "green" if change < -UNCHANGED else "")


def _notes(estimate: Estimate) -> list[RenderableType]:
    notes = [f"Assumptions: {', '.join(assumption_lines(estimate))}"]
    flagged = verify_note(estimate)
    if flagged:
        notes.append(flagged)
    return [Text(n, style="dim") for n in notes]
