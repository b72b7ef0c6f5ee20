"""Cost and capacity across monthly volumes: one vectorised pass per question, no loop over points.

Every usage is linear in the volume scale `s` (`per_scale × s + fixed`, see `costmodel.usage`),
so a sweep prices the usages once with an array of scales, and each capacity check is a rate
`per_scale × s + fixed` compared with a quota.

Capacity is checked at the peak: `peak_factor` × the average rate over a 730-hour month. Rates
are taken from the same usages the bill is priced from, so a check and a line item never
disagree about how much traffic a resource sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel.estimate import Model, price
from costmodel.quotas import load_quotas
from costmodel.usage import SECONDS_PER_MONTH, SQS_SEND
from costmodel.volume import propagate, total

VOLUMES = np.geomspace(1e6, 1e10, 50)  # 1M -> 10B events a month

HEADROOM_COLUMNS = ["volume", "check", "scope", "needed", "available", "unit", "utilisation"]
# AWS keeps this much of the account's concurrency unreserved: reservations may use the rest.
UNRESERVED_MINIMUM = 100


def sweep(model: Model, volumes=VOLUMES) -> pd.DataFrame:
    """Monthly USD at each volume: `volume`, `total` and one column per service."""
    volumes = _volumes(volumes)
    usages, _ = model.usages()
    costs = price(usages, model.catalogue, model.free_tier, volumes / model.monthly_events)
    by_service: dict[str, np.ndarray] = {}
    for usage, cost in zip(usages, costs):
        by_service[usage.service] = by_service.get(usage.service, 0) + cost
    columns = {"volume": volumes, "total": np.sum(costs, axis=0)}
    columns.update({service: by_service[service] for service in sorted(by_service)})
    return pd.DataFrame(columns)


@dataclass(frozen=True)
class Demand:
    """A rate at the peak, `per_scale × s + fixed`, against what is available (None: unknown)."""

    check: str
    scope: str
    per_scale: float
    fixed: float
    available: float | None
    unit: str


def headroom(model: Model, volumes=VOLUMES) -> pd.DataFrame:
    """One row per (volume, check): peak need, what is available and their ratio."""
    volumes = _volumes(volumes)
    demands = demands_at_peak(model)
    scale = volumes / model.monthly_events
    needed = np.outer([d.per_scale for d in demands], scale) + np.array(
        [[d.fixed] for d in demands]
    )
    available = np.array(
        [np.nan if d.available is None else d.available for d in demands], dtype=float
    )
    n = len(volumes)
    frame = pd.DataFrame(
        {
            "volume": np.tile(volumes, len(demands)),
            "check": np.repeat([d.check for d in demands], n),
            "scope": np.repeat([d.scope for d in demands], n),
            "needed": needed.ravel(),
            "available": np.repeat(available, n),
            "unit": np.repeat([d.unit for d in demands], n),
        },
        columns=HEADROOM_COLUMNS[:-1],
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["utilisation"] = frame["needed"] / frame["available"]
    return frame.sort_values(["volume", "check", "scope"], ignore_index=True)


def first_limit(headroom_df: pd.DataFrame) -> dict | None:
    """The lowest volume at which a check exceeds 100 %, with the check that does (None: none).

    When several checks exceed at that volume, the most utilised one is named.
    """
    missing = set(HEADROOM_COLUMNS) - set(headroom_df.columns)
    if missing:
        raise ValueError(f"not a headroom() frame: missing columns {sorted(missing)}")
    over = headroom_df[headroom_df["utilisation"] > 1]
    if over.empty:
        return None
    at_lowest = over[over["volume"] == over["volume"].min()]
    row = at_lowest.loc[at_lowest["utilisation"].idxmax()]
    return {column: _plain(row[column]) for column in HEADROOM_COLUMNS}


def demands_at_peak(model: Model) -> list[Demand]:
    """Every capacity check of the model, as a peak rate linear in the volume scale."""
    usages, _ = model.usages()
    config, topology = model.config, model.topology
    region, quotas = config.region, load_quotas()
    peak = config.assumptions.peak_factor / SECONDS_PER_MONTH  # monthly quantity -> peak per second

    def per_second(item: str, resource: str | None = None, component: str | None = None) -> float:
        return peak * sum(
            u.per_scale
            for u in usages
            if u.price_item == item
            and resource in (None, u.resource)
            and component in (None, u.component)
        )

    demands = [
        # PutEvents: every entry counted as one request. Producers batch up to 10 entries per
        # request, so the real request rate can be up to 10x lower; this errs on the safe side.
        # Entries are the billed 64 KB chunks: equal for events up to 64 KB, more above.
        Demand(
            "EventBridge PutEvents",
            "account",
            per_second("eventbridge.events.put"),
            0,
            quotas.value("eventbridge.put_events.tps", region),
            "entries/s",
        ),
        Demand(
            "EventBridge target invocations",
            "account",
            _target_invocations(model) * peak,
            0,
            quotas.value("eventbridge.target_invocations.rate", region),
            "invocations/s",
        ),
        Demand(
            "SNS publish",
            "account",
            per_second("sns.publish"),
            0,
            quotas.value("sns.publish.rate", region),
            "messages/s",
        ),
    ]
    account_limit = quotas.value("lambda.concurrent_executions", region)
    concurrency_total = 0.0
    for queue in topology.queues.values():
        if queue.fifo and queue.function is not None:
            # EventBridge sends one message per SendMessage call: the batched 3,000/s never applies.
            demands.append(
                Demand(
                    "SQS FIFO sends",
                    queue.name,
                    per_second("sqs.fifo.requests", queue.name, SQS_SEND),
                    0,
                    quotas.value("sqs.fifo.api_tps", region),
                    "messages/s",
                )
            )
        function = queue.function
        if function is None:
            continue
        gb_seconds = per_second(f"lambda.duration.{function.architecture}", function.name)
        # Little's law: concurrency = invocations/s × mean duration, and GB-seconds/s are exactly
        # invocations/s × duration × memory GB.
        concurrency = gb_seconds / (function.memory_mb / 1024)
        concurrency_total += concurrency
        if function.reserved_concurrency is not None:
            demands.append(
                Demand(
                    "Lambda concurrency vs reserved",
                    function.name,
                    concurrency,
                    0,
                    function.reserved_concurrency,
                    "executions",
                )
            )
        if queue.maximum_concurrency is not None:
            demands.append(
                Demand(
                    "Lambda concurrency vs maximum_concurrency",
                    function.name,
                    concurrency,
                    0,
                    queue.maximum_concurrency,
                    "executions",
                )
            )
    demands.append(
        Demand(
            "Lambda concurrency (all functions)",
            "account",
            concurrency_total,
            0,
            account_limit,
            "executions",
        )
    )
    reserved = sum(f.reserved_concurrency or 0 for f in topology.functions.values())
    if reserved:
        demands.append(
            Demand(
                "Lambda reserved concurrency (sum)",
                "account",
                0,
                reserved,
                None if account_limit is None else account_limit - UNRESERVED_MINIMUM,
                "executions",
            )
        )
    # Every consumer writes to the platform's one idempotency table.
    table = topology.tables[0] if len(topology.tables) == 1 else "all tables"
    demands.append(
        Demand(
            "DynamoDB write units",
            table,
            per_second("dynamodb.ondemand.write"),
            0,
            quotas.value("dynamodb.ondemand.table_wru", region),
            "WRU/s",
        )
    )
    return demands


def _target_invocations(model: Model) -> float:
    """Rule target invocations a month at scale 1: each matched event once per target."""
    flows = propagate(model.topology, model.config)
    resends = 1 + model.config.assumptions.duplicate_rate
    return resends * sum(
        total(flows.rule_matched.get(rule.name, [])) * len(rule.targets)
        for bus in model.topology.buses.values()
        for rule in bus.rules
    )


def _plain(value):
    """numpy scalars as Python numbers, so the result serialises as JSON."""
    return value.item() if isinstance(value, np.generic) else value


def _volumes(volumes) -> np.ndarray:
    array = np.asarray(volumes, dtype=float)
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(
            f"volumes must be a non-empty 1-D sequence of positive events/month, got {volumes!r}"
        )
    return array
