"""Tables and facts every format shows: one builder each, so the formats cannot disagree.

`breakdown` is the per-service (or per-domain / per-resource) table behind the terminal,
Markdown and HTML reports, and `line_items` the order they list items in; `price_basis` and
`assumption_lines` are the footnote a reader needs to judge the numbers.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from costmodel.catalogue import CatalogueError, load_catalogue
from costmodel.estimate import Estimate, LineItem
from costmodel.report.money import CENT

VERIFY_MARK = "†"  # next to a price the catalogue flags `verify` (its sources disagree)

# Shown with the price basis rather than as assumptions: the estimate's own preset and free-tier
# setting are what priced it (the stack's defaults may have been overridden on the command line).
_PRICING_KEYS = {"price_preset", "free_tier"}


def what_if(estimate: Estimate) -> list[str]:
    """The changes an estimate carries, in words: the volume scale first, then --set/--assume."""
    return ([f"volume × {estimate.scale:g}"] if estimate.scale != 1 else []) + list(estimate.what_if)


def first_month(estimate: Estimate) -> float | None:
    """The first month's total, where storage still filling up makes it differ by a cent."""
    first = estimate.first_month_total
    return first if abs(first - estimate.total) >= CENT else None


def breakdown(estimate: Estimate, by: str) -> pd.DataFrame:
    """Monthly cost grouped by `service`, `domain` or `resource`, largest first.

    Columns: <by>, monthly_cost, share (0..1 of the total), item_count, to_verify
    (line items whose price is flagged verify).
    """
    frame = estimate.frame()
    table = (
        frame.groupby(by, sort=False)
        .agg(
            monthly_cost=("monthly_cost", "sum"),
            item_count=("monthly_cost", "size"),
            to_verify=("verify", "sum"),
        )
        .reset_index()
        .sort_values("monthly_cost", ascending=False, kind="stable", ignore_index=True)
    )
    total = estimate.total
    table.insert(2, "share", table["monthly_cost"] / total if total else 0.0)
    table["to_verify"] = table["to_verify"].astype(int)
    return table


def line_items(estimate: Estimate) -> list[LineItem]:
    """The items in reading order: services as in `breakdown` (largest first), then by resource
    and component. The estimate's own order follows the program's resource registration, which
    Pulumi's mocks do not keep stable from run to run."""
    rank = {service: n for n, service in enumerate(breakdown(estimate, "service")["service"])}
    return sorted(estimate.items, key=lambda i: (rank[i.service], i.resource, i.component))


def price_dates(estimate: Estimate) -> tuple[date, date] | None:
    """Earliest and latest `effective` date of the prices the estimate used.

    Read from this checkout's catalogue: an estimate read back from JSON made on another revision
    gets today's catalogue dates (None when its preset or region no longer exists here).
    """
    try:
        catalogue = load_catalogue(estimate.preset, estimate.region)
        dates = [catalogue.item(i.price_item).effective for i in estimate.items]
    except CatalogueError:
        return None
    return (min(dates), max(dates)) if dates else None


def price_basis(estimate: Estimate) -> str:
    """E.g. `aws-current prices for us-east-1 (effective 2024-11-01 to 2026-11-01), free tier off`.
    """
    dates = price_dates(estimate)
    when = ""
    if dates:
        first, last = dates
        when = f" (effective {first})" if first == last else f" (effective {first} to {last})"
    free = "on" if estimate.free_tier else "off"
    return f"{estimate.preset} prices for {estimate.region}{when}, free tier {free}"


def assumption_lines(estimate: Estimate) -> list[str]:
    """`name = value` for each traffic assumption, in the config's order."""
    return [f"{k} = {v}" for k, v in estimate.assumptions.items() if k not in _PRICING_KEYS]


def verify_note(estimate: Estimate) -> str | None:
    """The footnote explaining the verify mark, naming the flagged price items; None if none."""
    flagged = sorted({i.price_item for i in estimate.items if i.verify})
    if not flagged:
        return None
    return (
        f"{VERIFY_MARK} price flagged verify in the catalogue (sources disagree): "
        + ", ".join(flagged)
    )
