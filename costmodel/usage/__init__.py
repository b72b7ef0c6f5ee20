"""Monthly usage per resource and cost component, each with the formula that produced it.

A usage's quantity is `per_scale × s + fixed`, where `s` scales every domain's projected volume
(1 = as configured): the volume sweep is then one vectorised pricing call, not 50 estimates.

Storage is priced the same way everywhere: the steady state under the resource's retention
(a month's inflow × the months it is kept), with the first month's quantity alongside where it
differs (storage that has only been filling for a month). Data kept forever has no steady state;
it is priced at `FOREVER_HORIZON_MONTHS` of inflow and says so.

This module holds what every part shares (`Usage`, the units, the helpers); `usage.model` turns
a topology into usages, one module per service family:

- `usage.events`: EventBridge (puts, archive, Scheduler, Pipes) and SNS
- `usage.queues`: SQS requests and the KMS data keys of encrypted queues
- `usage.functions`: Lambda, its logs and custom metrics, and what each handler's needs produce
- `usage.stores`: DynamoDB (capacity, items, backups) and the S3 archive
- `usage.shared`: the platform's keys, alarms and dashboards
"""

from __future__ import annotations

from dataclasses import dataclass

from costmodel.topology import Function
from costmodel.volume import Flow

HOURS_PER_MONTH = 730  # AWS prices a month as 730 hours
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3_600
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
GB = 2**30  # AWS bills a GB as 2^30 bytes (data processed, ingested and stored)
KMS_DATA_KEY_REUSE_S = 300
FOREVER_HORIZON_MONTHS = 12  # storage kept forever is priced at one year of inflow

# SQS components other modules (capacity checks, seed check) look up by name.
SQS_SEND = "send"
SQS_RECEIVE = "receive (batched)"
SQS_DELETE = "delete (batched)"
SQS_IDLE = "empty receives (idle polling)"
STORAGE = "storage (steady state)"


@dataclass(frozen=True)
class Usage:
    service: str
    resource: str
    domain: str  # "platform" for shared pieces
    component: str
    price_item: str
    per_scale: float  # quantity at the configured volume that grows with it
    fixed: float  # quantity that does not depend on volume
    formula: str
    # Storage: the first month's quantity as a share of the steady state (None: no difference).
    first_month_share: float | None = None

    def quantity(self, scale=1.0):
        return self.per_scale * scale + self.fixed

    def first_month_quantity(self, scale=1.0):
        share = 1.0 if self.first_month_share is None else self.first_month_share
        return self.quantity(scale) * share


@dataclass(frozen=True)
class Deliveries:
    """A month of a queue's messages to the function that polls it."""

    function: Function
    flows: list[Flow]  # the events routed to the queue
    unique: float  # distinct events
    arrivals: float  # messages: the events and their producer re-sends (duplicates)
    attempts: float  # deliveries: arrivals and their retries after a failure
    invocations: float  # the batches the deliveries arrive in

    @property
    def duplicates(self) -> float:
        return self.arrivals - self.unique

    @property
    def failed(self) -> float:
        return self.attempts - self.arrivals


def chunks(flows: list[Flow]) -> float:
    """Billed 64 KB chunks: a 65 KB event is two requests."""
    return sum(f.volume * f.chunks for f in flows)


def gigabytes(flows: list[Flow], extra_bytes: int = 0) -> float:
    """GB (2^30 bytes) of `flows`, each event `extra_bytes` longer than its size."""
    return sum(f.volume * (f.size_bytes + extra_bytes) for f in flows) / GB


def retention(days: float | None) -> tuple[float, float, str]:
    """Months of inflow stored in the steady state, the first month's share of that, and how
    to say it. Inflow at a steady rate r kept D days: r·D stored once full; the first month
    (T days) averages r·T/2 when D >= T, r·(D - D²/2T) when shorter."""
    if days is None:
        months = FOREVER_HORIZON_MONTHS
        return months, 0.5 / months, f"kept forever: {months} months priced"
    months = days / DAYS_PER_MONTH
    share = 0.5 / months if days >= DAYS_PER_MONTH else 1 - days / (2 * DAYS_PER_MONTH)
    return months, share, f"{days:g} days retained"


def amount(x: float) -> str:
    """Quantities in formulas: 1.2M, 35k, 12."""
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.3g}M"
    if abs(x) >= 1e3:
        return f"{x / 1e3:,.3g}k"
    return f"{x:,.3g}"
