"""The estimate beside Cost Explorer's month, per service and per domain.

The estimate prices a 730-hour month; it is prorated to the hours of the calendar month compared
(to the hours so far, for the current month), as AWS prorates monthly fees by the hour. Rows more
than 25% off either way are flagged. Cost Explorer bills some of the estimate's services together
(CloudWatch Logs under AmazonCloudWatch; Pipes and Scheduler under Amazon EventBridge): those rows
are merged. Services the estimate does not price are listed with their cost, never dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from costmodel.actual.calibrate import Calibration
from costmodel.actual.cost_explorer import METRIC, Actuals, Month
from costmodel.report.money import CENT, percent_change, usd, usd_change
from costmodel.usage import HOURS_PER_MONTH
from settings.naming import TAG_DOMAIN, TAG_STACK

THRESHOLD = 0.25  # a row more than 25% above or below the estimate is flagged
PLATFORM = "platform"  # the estimate's domain for shared pieces: they carry no eda:domain tag
UNTAGGED_LABEL = f"{PLATFORM} (no {TAG_DOMAIN} tag)"
OVER, UNDER, NOT_ESTIMATED = "over", "under", "not priced"



@dataclass(frozen=True)
class ServiceGroup:
    """One Cost Explorer SERVICE value and the estimate's services it bills."""

    ce_name: str
    services: tuple[str, ...]  # the estimate's names; the first names the row

    def label(self, present: set[str]) -> str:
        base, *rest = self.services
        extra = [s.removeprefix(base).strip() or s for s in rest if s in present]
        return f"{base} (+ {', '.join(extra)})" if extra else base


# Cost Explorer's SERVICE names (as the console and the API show them) for each service the
# price catalogue prices (costmodel/prices/*/*.yaml `service:`).
SERVICE_GROUPS = (
    ServiceGroup(
        "Amazon EventBridge", ("EventBridge", "EventBridge Pipes", "EventBridge Scheduler")
    ),
    ServiceGroup("Amazon Simple Queue Service", ("SQS",)),
    ServiceGroup("Amazon DynamoDB", ("DynamoDB",)),
    ServiceGroup("Amazon Simple Storage Service", ("S3",)),
    ServiceGroup("Amazon Simple Notification Service", ("SNS",)),
    ServiceGroup("AmazonCloudWatch", ("CloudWatch", "CloudWatch Logs")),  # Logs bill under it
    ServiceGroup("AWS Lambda", ("Lambda",)),
    ServiceGroup("AWS Key Management Service", ("KMS",)),
    ServiceGroup("Amazon Athena", ("Athena",)),
    ServiceGroup("Amazon Kinesis Firehose", ("Firehose",)),
)


@dataclass(frozen=True)
class Row:
    name: str
    estimate: float | None  # None: the estimate does not price it
    actual: float
    sources: tuple[str, ...] = ()  # what the row merges: Cost Explorer's and the estimate's names

    @property
    def difference(self) -> float:
        return self.actual - (self.estimate or 0.0)

    @property
    def percent(self) -> float | None:
        """Actual against the estimate, in percent; None when the estimate does not price it."""
        if self.estimate is None:
            return None
        if self.estimate == 0:
            return 0.0 if abs(self.actual) < CENT else math.copysign(math.inf, self.actual)
        return 100 * self.difference / self.estimate

    @property
    def flag(self) -> str:
        """over / under (more than 25% off), not priced (by the estimate), or "" (within 25%)."""
        if abs(self.difference) < CENT:
            return ""
        if self.estimate is None:
            return NOT_ESTIMATED
        if self.estimate == 0 or abs(self.difference) > THRESHOLD * abs(self.estimate):
            return OVER if self.difference > 0 else UNDER
        return ""

    @property
    def flagged(self) -> bool:
        return bool(self.flag)


@dataclass
class Comparison:
    stack: str
    month: str
    services: list[Row]
    domains: list[Row]
    hours: float  # of the month compared (so far, for the current month)
    factor: float  # the estimate's proration: hours ÷ 730
    estimated: bool = False  # Cost Explorer: the month's bill is not final
    partial: bool = False  # the current month: cost to date
    unit: str = "USD"
    notes: list[str] = field(default_factory=list)
    calibration: Calibration | None = None
    written: str | None = None  # the stack file --write edited
    written_values: dict[str, float] = field(default_factory=dict)

    @property
    def estimate_total(self) -> float:
        return sum(r.estimate or 0.0 for r in self.services)

    @property
    def actual_total(self) -> float:
        return sum(r.actual for r in self.services)

    @property
    def total(self) -> Row:
        return Row("Total", self.estimate_total, self.actual_total)

    def domain_total(self) -> Row:
        estimate = sum(r.estimate or 0.0 for r in self.domains)
        return Row("Total", estimate, sum(r.actual for r in self.domains))

    @property
    def not_estimated(self) -> list[Row]:
        return [r for r in self.services if r.estimate is None]

    @property
    def flagged(self) -> list[Row]:
        return [r for r in [*self.services, *self.domains] if r.flagged]


def _ordered(rows: list[Row]) -> list[Row]:
    return sorted(
        rows, key=lambda r: (r.estimate is None, -max(r.estimate or 0.0, r.actual), r.name)
    )


def compare(estimate: Any, actuals: Actuals, month: Month, now: datetime) -> Comparison:
    """The estimate (prorated to the month's hours) beside Cost Explorer's cost."""
    hours = month.hours(now)
    factor = hours / HOURS_PER_MONTH
    by_service: dict[str, float] = {}
    by_domain: dict[str, float] = {}
    for item in estimate.items:
        by_service[item.service] = by_service.get(item.service, 0.0) + item.monthly_cost * factor
        by_domain[item.domain] = by_domain.get(item.domain, 0.0) + item.monthly_cost * factor
    notes: list[str] = []
    services: list[Row] = []
    grouped: set[str] = set()
    for group in SERVICE_GROUPS:
        present = {s for s in group.services if s in by_service}
        grouped.update(group.services)
        if not present and group.ce_name not in actuals.services:
            continue
        services.append(
            Row(
                group.label(present),
                sum(by_service[s] for s in present),
                actuals.services.get(group.ce_name, 0.0),
                (group.ce_name, *sorted(present)),
            )
        )
    for service in sorted(set(by_service) - grouped):
        notes.append(
            f"no Cost Explorer service is mapped to the estimate's {service}: its actual reads $0"
        )
        services.append(Row(service, by_service[service], 0.0, (service,)))
    known = {g.ce_name for g in SERVICE_GROUPS}
    unmapped = [
        Row(name, None, cost, (name,))
        for name, cost in actuals.services.items() if name not in known
    ]
    domains: dict[str, Row] = {}
    for name, cost in by_domain.items():
        domains[name] = Row(_domain_label(name), cost, 0.0, (name,))
    for value, cost in actuals.domains.items():
        name = value or PLATFORM
        row = domains.get(name, Row(_domain_label(name), 0.0, 0.0, (name,)))
        domains[name] = Row(row.name, row.estimate, row.actual + cost, row.sources)
    comparison = Comparison(
        stack=estimate.stack,
        month=month.label,
        services=_ordered(services) + sorted(unmapped, key=lambda r: (-r.actual, r.name)),
        domains=_ordered(list(domains.values())),
        hours=hours,
        factor=factor,
        estimated=actuals.estimated,
        partial=hours < month.full_hours(),
        unit=actuals.unit,
    )
    dashboards = factor * sum(
        i.monthly_cost for i in estimate.items
        if i.service == "CloudWatch" and i.component == "dashboards"
    )
    comparison.notes = [*actuals.warnings, *notes, *_basis_notes(comparison, dashboards)]
    return comparison


def _domain_label(domain: str) -> str:
    return UNTAGGED_LABEL if domain == PLATFORM else domain


def _basis_notes(c: Comparison, dashboards: float = 0.0) -> list[str]:
    notes = []
    if c.partial:
        notes.append(
            f"{c.month} is the current month: cost to date ({c.hours:,.0f} hours so far; Cost "
            "Explorer lags up to a day) against the estimate for the same hours"
        )
    if c.estimated:
        notes.append(
            "Cost Explorer marks these figures as estimated: the month's bill is not final"
        )
    if c.unit != "USD":
        notes.append(f"Cost Explorer reports {c.unit}; the estimate is in USD")
    if c.not_estimated:
        listed = ", ".join(f"{r.name} {usd(r.actual)}" for r in c.not_estimated)
        notes.append(f"Billed, not in the estimate (it does not price these services): {listed}")
    untaggable = f"Untaggable usage is billed without {TAG_STACK} and is not in the actual figures"
    if dashboards >= CENT:
        untaggable += (
            f": the estimate's CloudWatch dashboards ({usd(dashboards)}) for one, which CloudWatch "
            "cannot tag"
        )
    notes.append(untaggable)
    return notes


def basis(c: Comparison) -> str:
    return (
        f"Cost Explorer {METRIC} of resources tagged {TAG_STACK}={c.stack}; estimate prorated "
        f"to {c.hours:,.0f} hours (× {c.factor:.3f} of its 730-hour month)"
    )


def summary(c: Comparison) -> str:
    total = c.total
    return (
        f"actual {usd(total.actual)} against an estimate of {usd(total.estimate)} "
        f"({usd_change(total.difference)}, {percent_change(total.percent)})"
    )


def headline(c: Comparison) -> str:
    return f"{c.stack}, {c.month}: {summary(c)}"

