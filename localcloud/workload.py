"""A reproducible workload across every domain of a stack, in the shapes its schemas declare.

Events are spread over the event types in proportion to their projected monthly volume (at least
one each), and shaped per domain so the consumers' business keys behave as in production: an
order's versions increase, a payment's steps are sequenced, a stock movement has its own id.

Injected on top (all labelled as injected in the report):
- duplicates: half re-published through the producer (a new event id, the same business event),
  half "lost deletes" (the same SQS message delivered again, see `poller.Faults`);
- transient failures: the first attempt of chosen events fails in the poller;
- poison: schema-invalid events put on the bus directly with PutEvents, as a producer without
  this library could (`publish` itself refuses them). They keep their business ids, so routing
  and the DLQ report still name them.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from handlers.producer import Event, publish
from localcloud.poller import Faults, detail_digest
from settings.model import StackConfig

POISON_FIELD = "injectedPoison"  # every schema forbids additional properties


@dataclass(frozen=True)
class Mix:
    events: int = 2_000
    duplicates: float = 0.05
    failures: float = 0.02
    poison: float = 0.01
    seed: int = 7

    def __post_init__(self) -> None:
        if self.events < 1:
            raise ValueError(f"--events {self.events}: allowed: a whole number >= 1")
        for name in ("duplicates", "failures", "poison"):
            share = getattr(self, name)
            if not 0 <= share <= 0.5:
                raise ValueError(f"--{name} {share}: allowed: a share between 0 and 0.5")


@dataclass(frozen=True)
class Planned:
    domain: str
    detail_type: str
    detail: dict[str, Any]
    poison: bool = False

    @property
    def digest(self) -> str:
        return detail_digest(json.dumps({"detail": self.detail})) or ""


@dataclass
class Ledger:
    """What was published: the ground truth conservation is checked against."""

    events: list[Planned] = field(default_factory=list)  # each business event once
    republished: list[Planned] = field(default_factory=list)
    published_at: dict[str, float] = field(default_factory=dict)  # digest -> first publish time
    faults: Faults = field(default_factory=Faults)
    put_calls: int = 0

    @property
    def poison(self) -> list[Planned]:
        return [e for e in self.events if e.poison]


def plan(config: StackConfig, mix: Mix) -> list[Planned]:
    rng = random.Random(mix.seed)
    total_volume = sum(t.monthly_volume for d in config.domains.values() for t in d.event_types.values())
    planned: list[Planned] = []
    for domain_name, domain in config.domains.items():
        for detail_type, event_type in domain.event_types.items():
            count = max(1, round(mix.events * event_type.monthly_volume / max(total_volume, 1)))
            planned += [_shape(domain_name, detail_type, i, rng) for i in range(count)]
    rng.shuffle(planned)
    # Order versions and payment steps must reach the bus in order for ordering to mean anything.
    planned.sort(key=_sequence)
    poison = set(rng.sample(range(len(planned)), round(len(planned) * mix.poison)))
    return [
        Planned(p.domain, p.detail_type, {**p.detail, POISON_FIELD: True}, poison=True) if i in poison else p
        for i, p in enumerate(planned)
    ]


def _sequence(p: Planned) -> int:
    return int(p.detail.get("version") or p.detail.get("sequence") or 0)


def _stamp(rng: random.Random) -> str:
    moment = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(86_400 * 30))
    return moment.isoformat().replace("+00:00", "Z")


STATUSES = ["CONFIRMED", "PACKED", "SHIPPED", "DELIVERED"]


def _shape(domain: str, detail_type: str, i: int, rng: random.Random) -> Planned:
    """One schema-valid detail; ids derive from `i`, so versions and steps line up per entity."""
    if detail_type == "OrderCreated":
        quantity, price = rng.randint(1, 3), round(rng.uniform(5, 200), 2)
        detail = {
            "orderId": f"o-{i:06d}",
            "version": 1,
            "customerId": f"c-{rng.randrange(500):04d}",
            "customerEmail": f"customer{i}@example.com",
            "items": [{"sku": f"sku-{rng.randrange(100):03d}", "quantity": quantity, "unitPrice": price}],
            "total": round(quantity * price, 2),
            "currency": "EUR",
            "createdAt": _stamp(rng),
        }
    elif detail_type == "OrderUpdated":
        # Several updates per order: versions 2, 3, ... of a smaller set of orders.
        order, step = divmod(i, len(STATUSES))
        detail = {
            "orderId": f"o-{order:06d}",
            "version": step + 2,
            "status": STATUSES[step],
            "updatedAt": _stamp(rng),
        }
    elif detail_type.startswith("Payment"):
        step = {"PaymentAuthorized": 1, "PaymentCaptured": 2, "PaymentRefunded": 3}.get(detail_type, 1)
        detail = {
            "paymentId": f"p-{i:06d}",
            "sequence": step,
            "orderId": f"o-{i:06d}",
            "amount": round(rng.uniform(5, 500), 2),
            "currency": "EUR",
            "occurredAt": _stamp(rng),
        }
    elif detail_type == "InventoryReconcileRequested":
        detail = {"movementId": f"reconcile-{i:06d}", "scope": "stale-reservations"}
    else:
        detail = {
            "movementId": f"{detail_type}-{i:06d}",
            "sku": f"sku-{rng.randrange(100):03d}",
            "warehouseId": f"wh-{rng.randrange(4)}",
            "quantity": rng.randint(1, 20),
            "occurredAt": _stamp(rng),
        }
    return Planned(domain, detail_type, detail)


def drive(
    config: StackConfig,
    mix: Mix,
    *,
    events_client: Any,
    buses: dict[str, str],
    faults: Faults,
    published_at: dict[str, float],
    planned: list[Planned] | None = None,
    chunk: int = 20,
    progress: Any = None,
) -> Ledger:
    """Publish the plan: valid events through `publish`, poison straight to PutEvents.

    The chosen faults are written into `faults` and publish times into `published_at`: the
    pollers read both. `progress(n)` is called after each chunk, so the caller can consume
    between chunks: moto scans a queue's every message on each receive, so small chunks (shallow
    queues) are what keeps the emulator fast.
    """
    rng = random.Random(mix.seed + 1)
    planned = plan(config, mix) if planned is None else planned
    ledger = Ledger(events=list(planned), faults=faults, published_at=published_at)
    valid = [p for p in planned if not p.poison]
    chosen = rng.sample(valid, round(len(valid) * mix.duplicates))
    ledger.republished = chosen[: len(chosen) // 2]
    ledger.faults.lost_delete |= {p.digest for p in chosen[len(chosen) // 2 :]}
    ledger.faults.transient |= {p.digest for p in rng.sample(valid, round(len(valid) * mix.failures))}
    queue = planned + ledger.republished
    for start in range(0, len(queue), chunk):
        part = queue[start : start + chunk]
        now = time.time()
        for p in part:
            ledger.published_at.setdefault(p.digest, now)
        for domain_name in {p.domain for p in part}:
            mine = [p for p in part if p.domain == domain_name]
            source = config.domains[domain_name].source
            good = [Event(p.detail_type, p.detail) for p in mine if not p.poison]
            if good:
                result = publish(good, bus_name=buses[domain_name], source=source, domain=domain_name, client=events_client)
                result.raise_for_failures()
                ledger.put_calls += result.calls
            bad = [p for p in mine if p.poison]
            for offset in range(0, len(bad), 10):
                entries = [
                    {"EventBusName": buses[domain_name], "Source": source, "DetailType": p.detail_type,
                     "Detail": json.dumps(p.detail)}
                    for p in bad[offset : offset + 10]
                ]
                events_client.put_events(Entries=entries)
                ledger.put_calls += 1
        if progress is not None:
            progress(start + len(part))
    return ledger
