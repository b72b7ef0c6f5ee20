"""What changes in the monthly cost between two estimates: per component, resource and service.

The PR workflow diffs one stack on two revisions, where resource names match. Names also carry
the stack (`dev-orders-processor`, `prod-orders-processor`), so a diff of two stacks matches
resources by their name without the `<stack>-` prefix; otherwise every resource of dev -> prod
would read as removed and re-added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from costmodel.estimate import Estimate
from costmodel.report.money import percent_change, usd, usd_change

UNCHANGED = 1e-9  # USD a month; float noise below this is not a change

COMPONENT_COLUMNS = [
    "service", "resource", "component", "status", "quantity_before", "quantity_after", "unit",
    "before", "after", "change",
]
RESOURCE_COLUMNS = ["service", "resource", "status", "before", "after", "change"]
SERVICE_COLUMNS = ["service", "before", "after", "change"]


@dataclass(frozen=True)
class Threshold:
    """Largest monthly increase a change may bring: in USD, in percent, or both (either trips)."""

    usd: float | None = None
    percent: float | None = None


@dataclass
class Diff:
    base: Estimate
    head: Estimate
    components: pd.DataFrame  # COMPONENT_COLUMNS, largest absolute change first
    resources: pd.DataFrame  # RESOURCE_COLUMNS, largest absolute change first
    services: pd.DataFrame  # SERVICE_COLUMNS, largest absolute change first

    @property
    def total_before(self) -> float:
        return self.base.total

    @property
    def total_after(self) -> float:
        return self.head.total

    @property
    def change(self) -> float:
        return self.total_after - self.total_before

    @property
    def percent(self) -> float | None:
        """Change in percent of the base; None when both are $0, infinity when only the base is."""
        if self.total_before:
            return 100 * self.change / self.total_before
        return math.inf if self.change > 0 else None

    def status(self, status: str) -> list[str]:
        """Resources with `status` ('new', 'removed', 'changed', 'unchanged')."""
        return self.resources.loc[self.resources["status"] == status, "resource"].tolist()

    def headline(self) -> str:
        """Infracost's sentence: `Monthly cost will increase by $X (+Y%) from $A to $B`."""
        if abs(self.change) <= UNCHANGED:
            return f"Monthly cost will not change from {usd(self.total_before)}"
        direction = "increase" if self.change > 0 else "decrease"
        by = f"{usd(abs(self.change))} ({percent_change(self.percent)})"
        return (
            f"Monthly cost will {direction} by {by} "
            f"from {usd(self.total_before)} to {usd(self.total_after)}"
        )

    def tripped(self, threshold: Threshold) -> list[str]:
        """Each limit the increase exceeds, said in words; empty when within all of them."""
        reasons = []
        if threshold.usd is not None and self.change > threshold.usd:
            reasons.append(
                f"the increase of {usd_change(self.change)} a month "
                f"exceeds the {usd(threshold.usd)} limit"
            )
        percent = self.percent
        if threshold.percent is not None and percent is not None and percent > threshold.percent:
            reasons.append(
                f"the increase of {percent_change(percent)} "
                f"exceeds the {threshold.percent:g}% limit"
            )
        return reasons


def diff(base: Estimate, head: Estimate) -> Diff:
    components = _compare(_components(base), _components(head))
    return Diff(
        base=base,
        head=head,
        components=components[COMPONENT_COLUMNS],
        resources=_resources(components),
        services=_by_largest_change(
            components.groupby("service", as_index=False)[["before", "after", "change"]].sum()
        )[SERVICE_COLUMNS],
    )


def _components(estimate: Estimate) -> pd.DataFrame:
    frame = estimate.frame()
    prefix = f"{estimate.stack}-"
    frame["match"] = frame["resource"].map(lambda name: name.removeprefix(prefix))
    return frame.groupby(["service", "match", "component"], as_index=False).agg(
        resource=("resource", "first"),
        unit=("unit", "first"),
        quantity=("quantity", "sum"),
        cost=("monthly_cost", "sum"),
    )


def _compare(base: pd.DataFrame, head: pd.DataFrame) -> pd.DataFrame:
    both = base.merge(
        head, on=["service", "match", "component"], how="outer", suffixes=("_base", "_head"),
        indicator=True,
    )
    both["resource"] = both["resource_head"].fillna(both["resource_base"])
    both["unit"] = both["unit_head"].fillna(both["unit_base"])
    both["quantity_before"] = both["quantity_base"].fillna(0.0)
    both["quantity_after"] = both["quantity_head"].fillna(0.0)
    both["before"] = both["cost_base"].fillna(0.0)
    both["after"] = both["cost_head"].fillna(0.0)
    both["change"] = both["after"] - both["before"]
    sides = {"left_only": "removed", "right_only": "new", "both": "changed"}
    both["status"] = both["_merge"].map(sides).astype(str)
    same = (both["status"] == "changed") & (both["change"].abs() <= UNCHANGED)
    both.loc[same, "status"] = "unchanged"
    return _by_largest_change(both)


def _resources(components: pd.DataFrame) -> pd.DataFrame:
    grouped = components.groupby(["service", "match"], as_index=False).agg(
        resource=("resource", "first"),
        statuses=("status", set),
        before=("before", "sum"),
        after=("after", "sum"),
        change=("change", "sum"),
    )

    def status(row) -> str:
        # A resource is new (removed) only when none of its components existed before (after).
        if row.statuses == {"new"}:
            return "new"
        if row.statuses == {"removed"}:
            return "removed"
        return "unchanged" if row.statuses == {"unchanged"} else "changed"

    grouped["status"] = grouped.apply(status, axis=1)
    return _by_largest_change(grouped)[RESOURCE_COLUMNS]


def _by_largest_change(frame: pd.DataFrame) -> pd.DataFrame:
    # Ties (and float noise below a nano-dollar) are ordered by name, so the same two estimates
    # always list rows in the same order.
    names = [c for c in ("service", "resource", "component") if c in frame.columns]
    size = frame["change"].abs().round(9).rename("size")
    order = pd.concat([size, frame[names]], axis=1).sort_values(
        ["size", *names], ascending=[False] + [True] * len(names)
    ).index
    return frame.loc[order].reset_index(drop=True)
