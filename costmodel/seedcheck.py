"""The design brief's cost table, checked: its figures, its own stack priced, and this stack.

The platform started from a design brief (called "the seed" here; it is not part of this
repository) that priced a minimal stack (one bus, one rule, one queue, one function, one
idempotency table) at 10M events a month: EventBridge ~$10, SQS ~$8, Lambda ~$5-20, DynamoDB
~$2, from four unit prices (the `seed` price preset). For each of those services, three numbers
side by side:
- the brief's figure;
- the brief's stack (`costmodel/scenarios/seed.yaml`) run through the real program and priced
  with the brief's unit prices (`seed` preset) under the brief's traffic assumptions;
- the stack being reported, scaled to 10M events a month, at its own prices;
and an explanation of the gaps, written from the line items, not from fixed prose.

It is a report section on request (`--sections seedcheck`): it runs the program a second time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from costmodel.estimate import Model, price
from costmodel.scenarios import scenario_model
from costmodel.usage import SQS_IDLE, SQS_SEND

SEED_VOLUME = 10_000_000
# The brief's table: service -> (as written, low, high) USD a month at 10M events.
SEED_TABLE = {
    "EventBridge": ("~$10", 10.0, 10.0),
    "SQS": ("~$8", 8.0, 8.0),
    "Lambda": ("~$5–20", 5.0, 20.0),
    "DynamoDB": ("~$2", 2.0, 2.0),
}


@dataclass(frozen=True)
class SeedRow:
    service: str
    seed_figure: str  # as the brief writes it
    seed_low: float
    seed_high: float
    scenario: float  # the brief's stack, its prices and assumptions, USD a month
    this_stack: float  # the reported stack at 10M events, its own prices, USD a month
    explanation: str


@dataclass(frozen=True)
class SeedCheck:
    volume: int
    stack: str  # the stack compared with the brief
    rows: list[SeedRow]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(r) for r in self.rows])


def seed_check(full: Model, scenario: Model | None = None) -> SeedCheck:
    """Compare the brief's table with its scenario and with `full`, the stack being reported,
    each at 10M events a month. `scenario` defaults to the seed scenario at the seed preset;
    pass one to reuse a model already built."""
    scenario = scenario or scenario_model("seed", preset="seed")
    if scenario.configured_events != SEED_VOLUME:
        raise ValueError(
            f"the seed scenario must project {SEED_VOLUME:,} events a month, not "
            f"{scenario.configured_events:,.0f}: the brief's table is priced at 10M"
        )
    ours, theirs = _lines(scenario, SEED_VOLUME), _lines(full, SEED_VOLUME)
    rows = []
    for service, (figure, low, high) in SEED_TABLE.items():
        s, f = ours[ours.service == service], theirs[theirs.service == service]
        explain = EXPLAIN[service]
        rows.append(
            SeedRow(
                service,
                figure,
                low,
                high,
                float(s.cost.sum()),
                float(f.cost.sum()),
                explain(scenario, s, f, (low, high), full.config.stack),
            )
        )
    return SeedCheck(SEED_VOLUME, full.config.stack, rows)


def _lines(model: Model, volume: float) -> pd.DataFrame:
    """Every usage of `model` at `volume` events a month: quantity and cost."""
    usages, _ = model.usages()
    scale = volume / model.configured_events
    costs = price(usages, model.catalogue, model.free_tier, scale)
    return pd.DataFrame(
        [
            {
                "service": u.service,
                "resource": u.resource,
                "component": u.component,
                "price_item": u.price_item,
                "quantity": float(u.quantity(scale)),
                "cost": float(c),
            }
            for u, c in zip(usages, costs)
        ]
    )


def _units(model: Model, item: str, dollars: tuple[float, float]) -> list[float]:
    """How many units of `item` the brief's dollars buy at the brief's own unit price."""
    unit = model.catalogue.item(item)
    return [d / unit.unit_price * unit.per for d in dollars]


def _implied(model: Model, item: str, dollars: tuple[float, float]) -> str:
    unit = model.catalogue.item(item)
    low, high = _units(model, item, dollars)
    count = _n(low) if low == high else f"{_n(low)}–{_n(high)}"
    return f"{count} {unit.unit}s at ${unit.unit_price:g} {unit.price_unit}"


def _n(x: float) -> str:
    return f"{x / 1e6:.3g}M" if x >= 1e6 else f"{x / 1e3:.3g}k" if x >= 1e3 else f"{x:.3g}"


def _q(lines: pd.DataFrame, item: str | None = None, component: str | None = None) -> float:
    picked = lines
    if item is not None:
        picked = picked[picked.price_item.str.startswith(item)]
    if component is not None:
        picked = picked[picked.component == component]
    return float(picked.quantity.sum())


def _cost(lines: pd.DataFrame, item: str) -> float:
    return float(lines[lines.price_item.str.startswith(item)].cost.sum())


def _eventbridge(model, ours, full, dollars, stack) -> str:
    per_event = _q(ours, "eventbridge.events.put") / SEED_VOLUME
    producers = _q(full, "eventbridge.events.put", "custom events put") / SEED_VOLUME
    follow_ups = _q(full, "eventbridge.events.put") / SEED_VOLUME - producers
    return (
        f"The brief's figure is {_implied(model, 'eventbridge.events.put', dollars)}: one put per "
        f"event. The seed scenario puts {per_event:.2f} 64 KB chunks per event "
        f"(${_cost(ours, 'eventbridge.events.put'):.2f}) plus ${_cost(ours, 'eventbridge.archive'):.2f} "
        f"for the bus archive the platform adds. Stack {stack} puts {producers:.2f} chunks "
        f"per event from producers (re-sends, and events over 64 KB bill one chunk per 64 KB) and "
        f"{follow_ups:.2f} follow-up events per event from consumers that hand off by event, "
        f"${_cost(full, 'eventbridge.events.put'):.2f}; its archives add "
        f"${_cost(full, 'eventbridge.archive'):.2f}."
    )


def _sqs(model, ours, full, dollars, stack) -> str:
    requests = _q(ours, "sqs.")
    full_queues = full[(full.component == SQS_SEND)]
    delivered = _q(full, "sqs.", SQS_SEND)
    idle = _q(full, "sqs.", SQS_IDLE)
    idle_cost = float(full[full.component == SQS_IDLE].cost.sum())
    return (
        f"The brief's figure is {_implied(model, 'sqs.standard.requests', dollars)}, i.e. "
        f"{_units(model, 'sqs.standard.requests', dollars)[0] / SEED_VOLUME:.2g} requests per "
        f"event: it counts each message's requests unbatched. With batches of 10 the seed "
        f"scenario makes {requests / SEED_VOLUME:.2f} requests per event (a send each, then one "
        f"receive and one delete per batch; no idle polling under the brief's assumptions) = "
        f"${ours.cost.sum():.2f}. Stack {stack} delivers {delivered / SEED_VOLUME:.2f} messages "
        f"per event to {full_queues.resource.nunique()} consumer queues (fan-out), receives and "
        f"deletes in calls of at most 10, FIFO at a higher price, and its pollers' empty receives "
        f"add {_n(idle)} requests a month (${idle_cost:.2f}) "
        f"whatever the volume = ${full.cost.sum():.2f}."
    )


def _lambda(model, ours, full, dollars, stack) -> str:
    (function,) = model.topology.functions.values()  # the seed stack has one function
    item = f"lambda.duration.{function.architecture}"
    invocations = _q(ours, "lambda.requests")
    request_cost = _cost(ours, "lambda.requests")
    gb_s = _units(model, item, tuple(d - request_cost for d in dollars))
    memory_gb = function.memory_mb / 1024
    seconds = [g / invocations / memory_gb for g in gb_s]
    return (
        f"With the brief's batches of 10 there are {_n(invocations)} invocations "
        f"(${request_cost:.2f}); the rest of its ${dollars[0]:g}–{dollars[1]:g} would be "
        f"{_n(gb_s[0])}–{_n(gb_s[1])} {function.architecture} GB-seconds, "
        f"{seconds[0]:.2g}–{seconds[1]:.2g} s per batch at {function.memory_mb} MB. "
        f"The seed scenario assumes {_q(ours, 'lambda.duration') / invocations / memory_gb:.2g} s "
        f"per batch (expected_duration_ms): {_n(_q(ours, 'lambda.duration'))} GB-s = "
        f"${ours.cost.sum():.2f}. Stack {stack} runs {full.resource.nunique()} functions, "
        f"{_q(full, 'lambda.requests') / SEED_VOLUME:.3f} invocations per event (batch fill and "
        f"fan-out) at its prices = ${full.cost.sum():.2f}."
    )


def _dynamodb(model, ours, full, dollars, stack) -> str:
    writes = _q(ours, "dynamodb.ondemand.write")
    full_writes = _q(full, "dynamodb.ondemand.write")
    return (
        f"The brief's figure is {_implied(model, 'dynamodb.ondemand.write', dollars)}, "
        f"{_units(model, 'dynamodb.ondemand.write', dollars)[0] / SEED_VOLUME:.2g} per event, while its own handler "
        f"makes one conditional write per event: {_n(writes)} write units "
        f"(${_cost(ours, 'dynamodb.ondemand.write'):.2f} at the pre-2024-11-01 price) plus "
        f"${_cost(ours, 'dynamodb.storage'):.2f} of idempotency records in the window. DynamoDB "
        f"halved on-demand prices on 2024-11-01, but stack {stack} writes "
        f"{full_writes / SEED_VOLUME:.2f} units per event across its consumers (Powertools' two "
        f"writes, per-day counters, failed conditional writes for duplicates) = "
        f"${_cost(full, 'dynamodb.ondemand.write'):.2f}, plus ${_cost(full, 'dynamodb.storage'):.2f} storage."
    )


EXPLAIN = {"EventBridge": _eventbridge, "SQS": _sqs, "Lambda": _lambda, "DynamoDB": _dynamodb}
