"""Charts for the HTML report, drawn with matplotlib's object API (no pyplot global state, Agg
canvas) and returned as inline SVG text, so the report stays one self-contained file.

Text stays text in the SVG (`svg.fonttype: none`) and ids and metadata are fixed, so the same
estimate always gives the same bytes (the docs' examples are regenerated, not hand-edited).
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: no display on CI machines

import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from costmodel.report.money import compact, usd  # noqa: E402

_SVG_STYLE = {"svg.fonttype": "none", "svg.hashsalt": "costmodel", "font.size": 9}
MIN_DRAWN = 0.01  # USD a month: the floor of the cost-by-volume chart
# A white box behind labels keeps them legible where they cross a line.
_LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1}


def service_bars(services: pd.DataFrame) -> str:
    """Bars of monthly cost per service (a `breakdown(estimate, 'service')`), largest on top."""
    with matplotlib.rc_context(_SVG_STYLE):
        figure = Figure(figsize=(7, 0.35 * len(services) + 1))
        axes = figure.add_subplot()
        ordered = services.iloc[::-1]
        bars = axes.barh(ordered["service"], ordered["monthly_cost"], color="#3b73b9")
        axes.bar_label(bars, labels=[usd(v) for v in ordered["monthly_cost"]], padding=3)
        axes.set_xlabel("USD a month")
        axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.0f}"))
        axes.margins(x=0.15)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        return _svg(figure)


def cost_by_volume(sweep: pd.DataFrame, current_volume: float, first_limit: dict | None) -> str:
    """Log-log monthly cost against monthly events: the total, each service, the stack's own
    volume and the volume at which the first quota is reached."""
    with matplotlib.rc_context(_SVG_STYLE):
        figure = Figure(figsize=(9.5, 4.8))
        axes = figure.add_subplot()
        services = [c for c in sweep.columns if c not in ("volume", "total")]
        for service in services:
            # Services that stay under a cent would stretch the log axis down to nothing.
            if sweep[service].max() >= MIN_DRAWN:
                axes.plot(sweep["volume"], sweep[service], linewidth=1, label=service)
        axes.plot(sweep["volume"], sweep["total"], color="black", linewidth=2.2, label="total")
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_ylim(bottom=MIN_DRAWN)
        axes.axvline(current_volume, color="grey", linestyle=":", linewidth=1)
        axes.annotate(
            f"this stack: {compact(current_volume)}", (current_volume, 0.02),
            xycoords=("data", "axes fraction"), rotation=90, ha="right", va="bottom",
            color="grey", bbox=_LABEL_BOX,
        )
        if first_limit:
            axes.axvline(first_limit["volume"], color="#c0392b", linestyle="--", linewidth=1.4)
            axes.annotate(
                f"first limit: {first_limit['check']} ({first_limit['scope']}) "
                f"at {compact(first_limit['volume'])}",
                (first_limit["volume"], 0.98), xycoords=("data", "axes fraction"), rotation=90,
                ha="right", va="top", color="#c0392b", bbox=_LABEL_BOX,
            )
        axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.6g}"))
        axes.set_xlabel("events a month")
        axes.set_ylabel("USD a month")
        axes.grid(True, which="major", linewidth=0.4, alpha=0.6)
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        figure.tight_layout()
        return _svg(figure)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: not allowed inside HTML
