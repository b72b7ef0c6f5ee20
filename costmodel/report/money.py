"""The one place that turns numbers into text: money, unit prices, changes, quantities.

Every format (terminal, Markdown, HTML, diff) goes through these, so a figure reads the same
in a PR comment as in the terminal.
"""

from __future__ import annotations

import math

CENT = 0.005  # below this a cost rounds to $0.00; shown as "<$0.01" so it is not mistaken for free


def usd(amount: float) -> str:
    """A monthly cost: `$1,234.56`; a positive cost under half a cent is `<$0.01`."""
    if 0 < amount < CENT:
        return "<$0.01"
    return f"${amount:,.2f}"


def usd_rate(price: float) -> str:
    """A unit price in full (Lambda's GB-second is $0.0000133334), at least to the cent."""
    if price >= 1000 or round(price, 2) == price:
        return f"${price:,.2f}"
    return f"${price:.10f}".rstrip("0")


def usd_change(change: float) -> str:
    """A signed change: `+$78.53`, `-$1.20`, `$0.00`; tiny changes keep their sign."""
    if abs(change) < CENT:
        return "$0.00" if change == 0 else ("+<$0.01" if change > 0 else "-<$0.01")
    sign = "+" if change > 0 else "-"
    return f"{sign}${abs(change):,.2f}"


def percent_change(percent: float | None) -> str:
    """A signed percentage; None (nothing to compare with) and infinity (from $0) read as such."""
    if percent is None:
        return "n/a"
    if math.isinf(percent):
        return "+∞%" if percent > 0 else "-∞%"
    return f"{percent:+.1f}%"


def quantity(value: float) -> str:
    """A monthly quantity, compact but exact enough to check a formula by hand."""
    if value == 0:
        return "0"
    if abs(value) >= 1e6:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.1f}".removesuffix(".0")
    return f"{value:.4g}"


def share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def compact(count: float) -> str:
    """A count for prose: `11.7M`, `2.5B`, `950k`, `30`."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(count) >= size:
            return f"{count / size:.3g}{suffix}"
    return f"{count:.3g}"
