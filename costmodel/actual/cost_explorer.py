"""What AWS Cost Explorer says a month of the stack cost: the month asked for, the check that the
stack's tags are active cost-allocation tags, and the month's UnblendedCost of everything tagged
`eda:stack=<stack>` (GetCostAndUsage, MONTHLY), grouped once by SERVICE and once by the
`eda:domain` tag."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from costmodel.actual.aws import pages
from settings.naming import TAG_DOMAIN, TAG_STACK

CE_REGION = "us-east-1"  # Cost Explorer's one endpoint
METRIC = "UnblendedCost"
TAG_KEYS = (TAG_STACK, TAG_DOMAIN)


class ActualError(ValueError):
    """Bad input or an AWS refusal: exit 2 with this message."""


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """The first day of the next month: Cost Explorer's End is exclusive."""
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def hours(self, now: datetime) -> float:
        """Hours of the month up to `now` (all of them once it is over)."""
        start, end = utc(self.start), utc(self.end)
        return (min(end, max(now, start)) - start).total_seconds() / 3_600

    def full_hours(self) -> float:
        return (self.end - self.start).days * 24.0


def utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def parse_month(text: str, today: date) -> Month:
    """YYYY-MM, not after the current month."""
    last = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    allowed = f"allowed: YYYY-MM up to {today:%Y-%m}, e.g. {last} (the last complete month)"
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ActualError(f"--month {text!r} is not a month: {allowed}")
    month = Month(int(match[1]), int(match[2]))
    if (month.year, month.month) > (today.year, today.month):
        raise ActualError(f"--month {month.label} is in the future (today is {today}): {allowed}")
    return month


@dataclass
class Actuals:
    """A month's cost of the stack's tagged resources, as Cost Explorer reports it."""

    services: dict[str, float]  # SERVICE -> cost
    domains: dict[str, float]  # eda:domain value ("" untagged) -> cost
    estimated: bool = False  # Cost Explorer's flag: the month's bill is not final yet
    unit: str = "USD"
    warnings: list[str] = field(default_factory=list)


def activation_help(month: Month) -> str:
    keys = " ".join(f"TagKey={k},Status=Active" for k in TAG_KEYS)
    return (
        "activate them as cost-allocation tags in the Billing and Cost Management console → "
        "Cost allocation tags (from the management account, if the account is in an AWS "
        "Organization), or: aws ce update-cost-allocation-tags-status "
        f"--cost-allocation-tags-status {keys}. Activation applies from then on, not "
        "retroactively: Cost Explorer shows the tags up to 24 hours later, and earlier months "
        "stay untagged unless a backfill is requested (aws ce start-cost-allocation-tag-backfill "
        f"--backfill-from {month.start.isoformat()}T00:00:00Z; at most 12 months back, once a "
        "day). AWS lists "
        "a tag key only once it has seen it on billed usage: a key 'not found' needs a deployed, "
        "billed stack first"
    )


def check_tags(ce: Any, month: Month) -> list[str]:
    """Both tags active as cost-allocation tags (else ActualError); warnings when one was
    activated after `month` ended (that month's cost shows untagged unless backfilled)."""
    found = {
        tag["TagKey"]: tag
        for page in pages(ce.list_cost_allocation_tags, {"TagKeys": list(TAG_KEYS)}, "NextToken")
        for tag in page.get("CostAllocationTags", [])
    }
    problems = [
        f"{key}: {found[key]['Status']}" if key in found else f"{key}: not found"
        for key in TAG_KEYS
        if found.get(key, {}).get("Status") != "Active"
    ]
    if problems:
        raise ActualError(
            f"the cost-allocation tags are not active ({'; '.join(problems)}): Cost Explorer "
            f"can filter and group only by activated tags; {activation_help(month)}"
        )
    warnings = []
    for key in TAG_KEYS:
        changed = _day(found[key].get("LastUpdatedDate"))
        if changed is not None and changed >= month.end:
            warnings.append(
                f"{key} was activated on {changed}, after {month.label}: that month's cost "
                "shows without the tag (and is missing here) unless a backfill was requested"
            )
    return warnings


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def cost_request(stack: str, month: Month, group: dict[str, str]) -> dict[str, Any]:
    return {
        "TimePeriod": {"Start": month.start.isoformat(), "End": month.end.isoformat()},
        "Granularity": "MONTHLY",
        "Metrics": [METRIC],
        "Filter": {"Tags": {"Key": TAG_STACK, "Values": [stack], "MatchOptions": ["EQUALS"]}},
        "GroupBy": [group],
    }


def _grouped_cost(
    ce: Any, stack: str, month: Month, group: dict[str, str]
) -> tuple[dict[str, float], bool, str]:
    """The month's cost per value of `group`, whether Cost Explorer marks it estimated, and
    its unit."""
    costs: dict[str, float] = {}
    estimated, unit = False, "USD"
    request = cost_request(stack, month, group)
    for page in pages(ce.get_cost_and_usage, request, "NextPageToken"):
        for result in page.get("ResultsByTime", []):
            estimated = estimated or bool(result.get("Estimated"))
            for row in result.get("Groups", []):
                metric = row["Metrics"][METRIC]
                costs[row["Keys"][0]] = costs.get(row["Keys"][0], 0.0) + float(metric["Amount"])
                unit = metric.get("Unit", unit)
    return costs, estimated, unit


def fetch_actuals(ce: Any, stack: str, month: Month) -> Actuals:
    """Check the tags, then the month's cost by SERVICE and by the eda:domain tag."""
    warnings = check_tags(ce, month)
    by_service = {"Type": "DIMENSION", "Key": "SERVICE"}
    services, estimated, unit = _grouped_cost(ce, stack, month, by_service)
    tagged, estimated_too, _ = _grouped_cost(ce, stack, month, {"Type": "TAG", "Key": TAG_DOMAIN})
    domains: dict[str, float] = {}
    for key, cost in tagged.items():  # "eda:domain$orders"; "eda:domain$" for untagged cost
        value = key.split("$", 1)[1] if key.startswith(f"{TAG_DOMAIN}$") else key
        domains[value] = domains.get(value, 0.0) + cost
    return Actuals(services, domains, estimated or estimated_too, unit, warnings)

