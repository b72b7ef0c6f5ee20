"""`actual`'s comparison (and calibration) as a report: rows for a template, Markdown for a PR
comment, JSON, and the terminal view."""

from __future__ import annotations

import json
import math
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from costmodel.actual.calibrate import Calibration
from costmodel.actual.comparison import (
    NOT_ESTIMATED,
    OVER,
    THRESHOLD,
    UNDER,
    Comparison,
    Row,
    basis,
    headline,
    summary,
)
from costmodel.actual.cost_explorer import METRIC
from costmodel.report import markdown, terminal
from costmodel.report.markdown import cell
from costmodel.report.money import compact, percent_change, usd, usd_change
from costmodel.report.terminal import LEFT, RIGHT

MARKS = {OVER: "▲", UNDER: "▼"}


# -- rows for reports -----------------------------------------------------------------------------


def _percent_text(row: Row) -> str:
    return NOT_ESTIMATED if row.estimate is None else percent_change(row.percent)


def _row_dict(row: Row, total: bool = False) -> dict[str, Any]:
    return {
        "name": row.name,
        "estimate": None if row.estimate is None else round(row.estimate, 6),
        "actual": round(row.actual, 6),
        "difference": round(row.difference, 6),
        "percent": (
            None if row.percent is None or math.isinf(row.percent) else round(row.percent, 3)
        ),
        "flag": row.flag,
        "flagged": row.flagged,
        "sources": list(row.sources),
        "total": total,
        "estimate_text": "–" if row.estimate is None else usd(row.estimate),
        "actual_text": usd(row.actual),
        "difference_text": usd_change(row.difference),
        "percent_text": _percent_text(row),
    }


def estimate_vs_actual_rows(comparison: Comparison) -> dict[str, list[dict[str, Any]]]:
    """The two tables as rows for a report template: {"service": [...], "domain": [...]}, each
    row with figures (None where there is none) and their text, the total last (`total`: True).
    `flag` is over / under (more than 25% off), not priced (billed, not in the estimate), or
    empty."""
    return {
        "service": [
            *(_row_dict(r) for r in comparison.services), _row_dict(comparison.total, True)
        ],
        "domain": [
            *(_row_dict(r) for r in comparison.domains), _row_dict(comparison.domain_total(), True)
        ],
    }


# -- Markdown -------------------------------------------------------------------------------------


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _md_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for r in rows:
        cells = [cell(r["name"]), r["estimate_text"], r["actual_text"], r["difference_text"]]
        off = r["percent_text"] + (f" {MARKS[r['flag']]}" if r["flag"] in MARKS else "")
        cells.append(f"**{off}**" if r["flag"] in (OVER, UNDER) else off)
        if r["total"]:
            cells = [f"**{c.strip('*')}**" for c in cells]
        out.append(cells)
    return out


def estimate_vs_actual_markdown(comparison: Comparison) -> str:
    """An "Estimate vs actual" section (per service, per domain, notes; the calibration when
    there is one) for a Markdown report or a PR comment."""
    rows = estimate_vs_actual_rows(comparison)
    headers = ["Estimate", "Actual", "Difference", "Off by"]
    parts = [
        f"### Estimate vs actual: {cell(comparison.stack)}, {comparison.month}",
        f"**{cell(_sentence(summary(comparison)))}**. {cell(basis(comparison))}.",
        "#### By service\n\n"
        + markdown.table(["Service", *headers], "lrrrr", _md_rows(rows["service"])),
        "#### By domain\n\n"
        + markdown.table(["Domain", *headers], "lrrrr", _md_rows(rows["domain"])),
        f"{MARKS[OVER]} / {MARKS[UNDER]}: more than {THRESHOLD:.0%} above / below the estimate; "
        f"{NOT_ESTIMATED}: billed, but the estimate does not price the service.",
    ]
    if comparison.notes:
        parts.append("\n".join(f"- {cell(n)}" for n in comparison.notes))
    if comparison.calibration is not None:
        parts.append(_calibration_markdown(comparison.calibration, _written(comparison)))
    return "\n\n".join(parts) + "\n"


def _calibration_markdown(cal: Calibration, written: str | None) -> str:
    queues = [
        [cell(o.source.queue), compact(o.sent), compact(o.received), compact(o.invocations),
         str(o.source.batch_size), _rate(o.failure_rate), _rate(o.batch_fill)]
        for o in cal.observations
    ]
    proposals = [
        [p.assumption, _rate(p.configured), _rate(p.observed), _rate(p.proposed), cell(p.note)]
        for p in cal.proposals
    ]
    text = (
        f"#### Calibration from {cal.month}'s metrics\n\n"
        + markdown.table(["Queue", "Sent", "Received", "Invocations", "Batch", "Retries", "Fill"],
                    "lrrrrrr", queues)
        + "\n\n"
        + markdown.table(
            ["Assumption", "Configured", "Observed", "Proposed", "Note"], "lrrrl", proposals
        )
    )
    if cal.notes:
        text += "\n\n" + "\n".join(f"- {cell(n)}" for n in cal.notes)
    if written:
        text += f"\n\n{cell(written)}."
    return text


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def _written(c: Comparison) -> str | None:
    if not c.written:
        return None
    values = ", ".join(f"{k}: {v:g}" for k, v in c.written_values.items())
    return f"Wrote {values} to {c.written} (eda-platform:assumptions)"


# -- JSON -----------------------------------------------------------------------------------------


def to_json(comparison: Comparison) -> str:
    rows = estimate_vs_actual_rows(comparison)
    document: dict[str, Any] = {
        "stack": comparison.stack,
        "month": comparison.month,
        "metric": METRIC,
        "unit": comparison.unit,
        "threshold_percent": THRESHOLD * 100,
        "hours": round(comparison.hours, 3),
        "estimate_factor": round(comparison.factor, 6),
        "estimated": comparison.estimated,
        "partial": comparison.partial,
        "total": rows["service"][-1],
        "services": rows["service"][:-1],
        "domains": rows["domain"][:-1],
        "notes": comparison.notes,
    }
    cal = comparison.calibration
    if cal is not None:
        document["calibration"] = {
            "queues": [
                {
                    "domain": o.source.domain, "consumer": o.source.consumer,
                    "queue": o.source.queue, "function": o.source.function,
                    "batch_size": o.source.batch_size,
                    "sent": o.sent, "received": o.received, "invocations": o.invocations,
                    "failure_rate": o.failure_rate, "batch_fill": o.batch_fill,
                }
                for o in cal.observations
            ],
            "proposals": [
                {"assumption": p.assumption, "configured": p.configured, "observed": p.observed,
                 "proposed": p.proposed, "note": p.note}
                for p in cal.proposals
            ],
            "notes": cal.notes,
            "written": comparison.written,
            "written_values": comparison.written_values,
        }
    return json.dumps(document, indent=2) + "\n"


# -- the terminal ---------------------------------------------------------------------------------


def _comparison_table(title: str, first: str) -> Table:
    money = [(name, RIGHT) for name in ("Estimate", "Actual", "Difference", "Off by")]
    return terminal.styled_table(title, [(first, LEFT), *money])


def _styled(row: dict[str, Any]) -> list[Text | str]:
    style = {OVER: "bold red", UNDER: "bold yellow", NOT_ESTIMATED: "cyan"}.get(row["flag"], "")
    mark = f" {MARKS[row['flag']]}" if row["flag"] in MARKS else "" if row["flag"] else "  "
    off = Text(row["percent_text"] + mark, style=style)  # unflagged: padded, so the % align
    cells: list[Text | str] = [
        row["name"], row["estimate_text"], row["actual_text"], row["difference_text"], off
    ]
    if row["total"]:
        cells = [Text(str(c), style="bold") for c in cells]
    return cells


def view(comparison: Comparison) -> list[RenderableType]:
    rows = estimate_vs_actual_rows(comparison)
    parts: list[RenderableType] = [
        Text(headline(comparison), style="bold"),
        Text(basis(comparison), style="dim"),
    ]
    tables = (("service", "By service", "Service"), ("domain", "By domain", "Domain"))
    for key, title, first in tables:
        rendered = _comparison_table(title, first)
        for row in rows[key]:
            if row["total"]:
                rendered.add_section()
            rendered.add_row(*_styled(row))
        parts.append(rendered)
    parts.append(Text(
        f"{MARKS[OVER]} / {MARKS[UNDER]} more than {THRESHOLD:.0%} above / below the estimate; "
        f"{NOT_ESTIMATED}: billed, but the estimate does not price the service.", style="dim",
    ))
    parts += [Text(f"• {note}", style="dim") for note in comparison.notes]
    if comparison.calibration is not None:
        parts += _calibration_view(comparison.calibration, _written(comparison))
    return parts


def _calibration_view(cal: Calibration, written: str | None) -> list[RenderableType]:
    figures = ("Sent", "Received", "Invocations", "Batch", "Retries", "Fill")
    queues = terminal.styled_table(
        f"Calibration: {cal.month}'s SQS and Lambda metrics",
        [("Consumer", LEFT), *((name, RIGHT) for name in figures)],
    )
    for o in cal.observations:
        queues.add_row(
            f"{o.source.domain}/{o.source.consumer}", compact(o.sent), compact(o.received),
            compact(o.invocations), str(o.source.batch_size), _rate(o.failure_rate),
            _rate(o.batch_fill),
        )
    proposals = terminal.styled_table(
        "Assumptions (volume-weighted over the queues)",
        [("Assumption", LEFT), *((name, RIGHT) for name in ("Configured", "Observed", "Proposed"))],
    )
    for p in cal.proposals:
        proposals.add_row(p.assumption, _rate(p.configured), _rate(p.observed),
                          Text(_rate(p.proposed), style="bold" if p.changed else ""))
    parts: list[RenderableType] = [queues, proposals]
    notes = [*cal.notes, *(f"{p.assumption}: {p.note}" for p in cal.proposals if p.note)]
    parts += [Text(f"• {n}", style="dim") for n in notes]
    if written:
        parts.append(Text(written, style="green"))
    elif any(p.changed for p in cal.proposals):
        parts.append(Text("--write puts the proposed values into the stack file", style="dim"))
    return parts

