"""Cost and capacity across monthly volumes: one vectorised pass per question, no loop over points.

Every usage is linear in the volume scale `s` (`per_scale × s + fixed`, see `costmodel.usage`),
so a sweep prices the usages once with an array of scales, and each capacity check is a rate
`per_scale × s + fixed` compared with a quota: the volume at which it reaches the quota is
solved exactly, not looked up on the sweep's grid.

Capacity is checked at the peak: `peak_factor` × the average rate over a 730-hour month. Rates
are taken from the same usages the bill is priced from, so a check and a line item never
disagree about how much traffic a resource sees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel.estimate import Model, price
from costmodel.quotas import load_quotas
from costmodel.usage import SECONDS_PER_MONTH, SQS_DELETE, SQS_RECEIVE, SQS_SEND
from costmodel.volume import total

VOLUMES = np.geomspace(1e6, 1e10, 50)  # 1M -> 10B events a month

HEADROOM_COLUMNS = ["volume", "check", "scope", "needed", "available", "unit", "utilisation"]
CAPACITY_COLUMNS = ["check", "scope", "needed", "available", "unit", "utilisation", "limit_at"]
# AWS keeps this much of the account's concurrency unreserved: reservations may use the rest.
UNRESERVED_MINIMUM = 100


def sweep(model: Model, volumes=VOLUMES) -> pd.DataFrame:
    """Monthly USD at each volume: `volume`, `total` and one column per service."""
    volumes = _volumes(volumes)
    usages, _ = model.usages()
    costs = price(usages, model.catalogue, model.free_tier, volumes / model.configured_events)
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

    def scale_at_limit(self) -> float | None:
        """The volume scale at which the need reaches what is available: exact, as the need is
        linear in the scale (0 when already over at no volume; None: never, or unknown)."""
        if self.available is None:
            return None
        if self.fixed >= self.available:
            return 0.0
        if self.per_scale <= 0:
            return None
        return (self.available - self.fixed) / self.per_scale


def headroom(model: Model, volumes=VOLUMES) -> pd.DataFrame:
    """One row per (volume, check): peak need, what is available and their ratio."""
    volumes = _volumes(volumes)
    demands = demands_at_peak(model)
    scale = volumes / model.configured_events
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


def capacity(model: Model) -> pd.DataFrame:
    """Each check at the model's own volume, with the exact monthly volume at which it reaches
    its quota (`limit_at`, NaN: never, or the quota is unknown); most utilised first."""
    rows = []
    for d in demands_at_peak(model):
        needed = d.per_scale * model.scale + d.fixed
        at = d.scale_at_limit()
        rows.append(
            {
                "check": d.check,
                "scope": d.scope,
                "needed": needed,
                "available": math.nan if d.available is None else d.available,
                "unit": d.unit,
                "utilisation": needed / d.available if d.available else math.nan,
                "limit_at": math.nan if at is None else at * model.configured_events,
            }
        )
    frame = pd.DataFrame(rows, columns=CAPACITY_COLUMNS)
    return frame.sort_values(
        ["utilisation", "check", "scope"], ascending=[False, True, True], na_position="last",
        ignore_index=True,
    )


def first_limit(checks: pd.DataFrame) -> dict | None:
    """The first quota the stack reaches as its volume grows, from its `capacity` checks: the
    lowest exact crossing, with the check, its scope, the need and the quota there (where need
    and quota meet; None: no known quota is ever reached). Ties go to the check named first
    alphabetically."""
    crossing = checks.dropna(subset=["limit_at"]).sort_values(["limit_at", "check", "scope"])
    if crossing.empty:
        return None
    row = crossing.iloc[0]
    return {
        "volume": row.limit_at,
        "check": row.check,
        "scope": row.scope,
        "needed": row.available,
        "available": row.available,
        "unit": row.unit,
        "utilisation": 1.0,
    }


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
            if u.price_item.startswith(item)
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
        if queue.fifo and queue.polled:
            demands += _fifo(queue, per_second, quotas, region)
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
        if queue.fifo and queue.static_group is not None:
            # One message group is processed one batch at a time, in order: at most a batch
            # per batch duration, whatever the concurrency.
            batch = max(1.0, queue.batch_size * config.assumptions.batch_fill)
            seconds = _consumer_duration_s(model, function)
            demands.append(
                Demand(
                    "SQS FIFO one message group: one batch at a time",
                    queue.name,
                    per_second(queue_item(queue), queue.name, SQS_SEND),
                    0,
                    batch / seconds if seconds else None,
                    "messages/s",
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
    # Every consumer writes to the platform's idempotency table. Its per-partition-key limit
    # (1,000 WRU/s) is not a check: no consumer writes an item that every event of a kind
    # shares (a guard per business key, a state item per order; analytics derives its counts
    # from the guard items), so no key takes more than a few writes. test_behaviour pins that.
    tables = topology.tables
    table = tables[0].name if len(tables) == 1 else "all tables"
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


def queue_item(queue) -> str:
    return "sqs.fifo.requests" if queue.fifo else "sqs.standard.requests"


def _fifo(queue, per_second, quotas, region) -> list[Demand]:
    """A FIFO queue's throughput: per API action and queue without high-throughput mode, per
    queue and per message group with it. EventBridge targets and pipes send one message per
    SendMessage call, so the batched figures never apply to sends."""
    item = queue_item(queue)
    sends = per_second(item, queue.name, SQS_SEND)
    if not queue.high_throughput:
        tps = quotas.value("sqs.fifo.api_tps", region)
        return [
            Demand("SQS FIFO SendMessage", queue.name, sends, 0, tps, "requests/s"),
            Demand("SQS FIFO ReceiveMessage", queue.name,
                   per_second(item, queue.name, SQS_RECEIVE), 0, tps, "requests/s"),
            Demand("SQS FIFO DeleteMessageBatch", queue.name,
                   per_second(item, queue.name, SQS_DELETE), 0, tps, "requests/s"),
        ]
    demands = [
        Demand(
            "SQS FIFO high throughput", queue.name, sends, 0,
            quotas.value("sqs.fifo.high_throughput_messages", region), "messages/s",
        )
    ]
    if queue.static_group is not None:
        demands.append(
            Demand(
                "SQS FIFO one message group", f"{queue.name} ({queue.static_group})", sends, 0,
                quotas.value("sqs.fifo.message_group_tps", region), "requests/s",
            )
        )
    return demands


def _consumer_duration_s(model: Model, function) -> float:
    owner = function.owner
    domain = model.config.domains.get(owner.domain or "")
    consumer = domain.consumers.get(owner.consumer) if domain else None
    return consumer.expected_duration_ms / 1000 if consumer else 0.0


def _target_invocations(model: Model) -> float:
    """Rule target invocations a month at scale 1: each matched event once per target."""
    flows = model.propagation()
    resends = 1 + model.config.assumptions.duplicate_rate
    return resends * sum(
        total(flows.rule_matched.get(rule.name, [])) * len(rule.targets)
        for bus in model.topology.buses.values()
        for rule in bus.rules
    )


def _volumes(volumes) -> np.ndarray:
    array = np.asarray(volumes, dtype=float)
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(
            f"volumes must be a non-empty 1-D sequence of positive events/month, got {volumes!r}"
        )
    return array
