"""The standalone HTML report: one file, inline CSS, charts as inline SVG.

Jinja2 autoescapes every value (resource names and formulas are data, not markup); only the
SVG that matplotlib wrote is marked safe.
"""

from __future__ import annotations

import math
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from costmodel.estimate import Estimate
from costmodel.report import charts, money
from costmodel.report.sections import Sections
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
    percent=lambda fraction: "–" if math.isnan(fraction) else f"{100 * fraction:.1f}%",
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
        first_month=first_month(estimate),
        what_if=what_if(estimate),
        not_priced=estimate.not_priced,
        coverage=estimate.coverage,
        basis=price_basis(estimate),
        assumptions=assumption_lines(estimate),
        verify_note=verify_note(estimate),
        mark=VERIFY_MARK,
        services=services.to_dict("records"),
        domains=breakdown(estimate, "domain").to_dict("records"),
        service_chart=Markup(charts.service_bars(services)),
        volume_chart=volume_chart,
        first_limit=sections.first_limit,
        headroom=None if sections.headroom is None else sections.headroom.to_dict("records"),
        levers=sections.levers,
        seed=sections.seed_check,
    )
