"""The standalone HTML report: one file, inline CSS, charts as inline SVG.

Jinja2 autoescapes every value (resource names and formulas are data, not markup); only the
SVG that matplotlib wrote is marked safe.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from costmodel.estimate import Estimate
from costmodel.report import charts, money
from costmodel.report.sections import Sections
from costmodel.report.tables import (
    VERIFY_MARK,
    assumption_lines,
    breakdown,
    line_items,
    price_basis,
    verify_note,
)

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,  # a misspelt field fails the render instead of printing nothing
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(
    usd=money.usd, usd_rate=money.usd_rate, usd_change=money.usd_change, quantity=money.quantity,
    compact=money.compact,
    percent=lambda fraction: "–" if pd.isna(fraction) else f"{100 * fraction:.1f}%",
)


def estimate_html(estimate: Estimate, sections: Sections | None = None) -> str:
    sections = sections or Sections()
    services = breakdown(estimate, "service")
    volume_chart = None
    if sections.sweep is not None:
        volume_chart = Markup(
            charts.cost_by_volume(sections.sweep, estimate.monthly_events, sections.first_limit)
        )
    return _ENV.get_template("estimate.html").render(
        e=estimate,
        items=line_items(estimate),
        total=estimate.total,
        basis=price_basis(estimate),
        assumptions=assumption_lines(estimate),
        verify_note=verify_note(estimate),
        mark=VERIFY_MARK,
        services=services.to_dict("records"),
        domains=breakdown(estimate, "domain").to_dict("records"),
        service_chart=Markup(charts.service_bars(services)),
        volume_chart=volume_chart,
        first_limit=sections.first_limit,
        headroom=None if sections.headroom is None else headroom_table(sections).to_dict("records"),
        levers=sections.levers,
        seed=sections.seed_check,
    )


def headroom_table(sections: Sections) -> pd.DataFrame:
    """Each capacity check at the stack's volume, most used first, with the swept volume at
    which it first goes over its quota (NaN: not within the sweep, or no known quota)."""
    now = sections.headroom_now.drop(columns="volume")
    over = sections.headroom[sections.headroom["utilisation"] > 1]
    limit_at = over.groupby(["check", "scope"], as_index=False)["volume"].min()
    limit_at = limit_at.rename(columns={"volume": "limit_at"})
    table = now.merge(limit_at, on=["check", "scope"], how="left")
    return table.sort_values("utilisation", ascending=False, na_position="last", ignore_index=True)
