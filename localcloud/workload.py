"""A reproducible workload across every domain of a stack, generated from its event schemas.

Events are spread over the event types in proportion to their projected monthly volume (at least
one each). Each detail is generated from its type's JSON Schema (`schema_samples`), enum values
taking turns so content routing (e.g. status CONFIRMED) gets its share. The fields the domain's
consumers key on (`idempotency_key`, a FIFO queue's `message_group_path`) are then set so the
keys behave as in production:
- a key of an id and an integer (`[detail.orderId, detail.version]`) is an entity and its version:
  the types sharing the id form one chain per entity, ordered by the lowest version each allows,
  then as declared (OrderCreated 1, OrderUpdated 2, 3, ...; PaymentAuthorized 1, PaymentCaptured 2,
  PaymentRefunded 3), and each entity's events reach the bus in that order;
- any other key field (`detail.movementId`) is fresh in every event.

Injected on top (all labelled as injected in the report):
- duplicates: half re-published through the producer (a new event id, the same business event),
  half "lost deletes" (the same SQS message delivered again, see `poller.Faults`);
- transient failures: the side effect of chosen events fails on their first delivery to each
  consumer (the downstream call gets the service's server error, `localcloud.downstream`);
- poison: schema-invalid events put on the bus directly with PutEvents, as a producer without
  this library could (`publish` itself refuses them). They keep their business ids, so routing
  and the DLQ report still name them.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jmespath

from handlers.producer import Event, publish
from localcloud.poller import Faults, detail_digest
from localcloud.schema_samples import Path, Sampler, bounds
from settings.keys import field_paths, received_types
from settings.load import schema_path
from settings.model import StackConfig

POISON_FIELD = "injectedPoison"  # every schema forbids additional properties
TypeId = tuple[str, str]  # (domain, detail type)


@dataclass(frozen=True)
class Mix:
    events: int = 2_000
    duplicates: float = 0.05
    # Each chosen event's side effect fails once at every consumer that receives it; each such
    # failure costs what it costs on AWS (the SDK's retries with backoff, then SQS's redelivery).
    failures: float = 0.01
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
    samplers = {
        (domain_name, detail_type): _sampler(domain_name, detail_type)
        for domain_name, domain in config.domains.items()
        for detail_type in domain.event_types
    }
    keys, ids = _keys(config, samplers), _Ids()
    total_volume = sum(
        t.monthly_volume for d in config.domains.values() for t in d.event_types.values()
    )
    ordered: list[tuple[int, Planned]] = []
    for domain_name, domain in config.domains.items():
        counts = {
            detail_type: max(1, round(mix.events * t.monthly_volume / max(total_volume, 1)))
            for detail_type, t in domain.event_types.items()
        }
        mine = {t: (samplers[domain_name, t], keys[domain_name, t]) for t in counts}
        ordered += _domain_events(domain_name, counts, mine, ids, rng)
    rng.shuffle(ordered)
    # Versions and sequences must reach the bus in order per entity for ordering to mean anything.
    ordered.sort(key=lambda step_and_event: step_and_event[0])
    planned = [p for _, p in ordered]
    poison = set(rng.sample(range(len(planned)), round(len(planned) * mix.poison)))
    return [
        Planned(p.domain, p.detail_type, {**p.detail, POISON_FIELD: True}, poison=True)
        if i in poison
        else p
        for i, p in enumerate(planned)
    ]


def _sampler(domain_name: str, detail_type: str) -> Sampler:
    path = schema_path(domain_name, detail_type)
    return Sampler(json.loads(path.read_text()), f"{domain_name}/{detail_type} ({path})")


class _Keys(NamedTuple):
    """The detail fields an event type's consumers key on, by the values they need."""

    ids: tuple[Path, ...]  # an entity's id: the same in each event of its chain
    steps: tuple[Path, ...]  # its version or sequence: increasing along the chain
    single: tuple[Path, ...]  # fresh in every event


class _Ids:
    """Key values handed out per field over the whole stack: an id never names two entities,
    not even for a consumer that also reads another domain's events."""

    def __init__(self) -> None:
        self.serial: Counter[Path] = Counter()
        self.taken: defaultdict[Path, set[Any]] = defaultdict(set)

    def fresh(self, sampler: Sampler, path: Path) -> Any:
        value = sampler.unique(path, self.serial[path], self.taken[path])
        self.serial[path] += 1
        self.taken[path].add(value)
        return value


@dataclass
class _Entity:
    ids: dict[Path, Any]
    last: int  # its latest version (or sequence)


def _domain_events(
    domain_name: str,
    counts: dict[str, int],
    types: dict[str, tuple[Sampler, _Keys]],
    ids: _Ids,
    rng: random.Random,
) -> list[tuple[int, Planned]]:
    """(version or sequence, event) for each event of one domain, chained per entity."""
    chains: defaultdict[tuple[Path, ...], list[str]] = defaultdict(list)
    for detail_type, (_, key) in types.items():
        chains[key.ids].append(detail_type)
    events = []
    for entity_fields, chained in chains.items():
        entities: list[_Entity] = []
        # A creation (version const 1) comes before updates (minimum 2); equals keep declared order.
        for detail_type in sorted(chained, key=lambda t: _steps(*types[t])[0]):
            sampler, key = types[detail_type]
            low, high = _steps(sampler, key)
            earlier = len(entities)
            for index in range(counts[detail_type]):
                detail, step = sampler.detail(rng, index), 0
                if entity_fields:
                    # Continue the entities earlier types started, in turn; a new one if none fits.
                    entity = entities[index % earlier] if earlier else None
                    if entity is None or max(entity.last + 1, low) > high:
                        entity = _Entity({p: ids.fresh(sampler, p) for p in entity_fields}, low - 1)
                        entities.append(entity)
                    entity.last = step = max(entity.last + 1, low)
                    for path in entity_fields:
                        _put(detail, path, entity.ids[path])
                    for path in key.steps:
                        _put(detail, path, step)
                for path in key.single:
                    _put(detail, path, ids.fresh(sampler, path))
                sampler.check(detail)
                events.append((step, Planned(domain_name, detail_type, detail)))
    return events


def _keys(config: StackConfig, samplers: dict[TypeId, Sampler]) -> dict[TypeId, _Keys]:
    """Per (domain, event type), the detail fields the consumers receiving it key on
    (`idempotency_key`, FIFO `message_group_path`).

    A key of string ids and integers (`[detail.orderId, detail.version]`) versions an entity; any
    other key field (`detail.movementId`, a FIFO group alone) identifies one event.
    """
    declared: defaultdict[TypeId, list[list[Path]]] = defaultdict(list)
    for domain_name, domain in config.domains.items():
        for consumer_name, consumer in domain.consumers.items():
            paths = field_paths(jmespath.compile(consumer.idempotency_key).parsed)
            key = [p[1:] for p in paths if p[0] == "detail" and len(p) > 1]
            group = consumer.queue.message_group_path
            for received in received_types(config, domain_name, consumer_name):
                declared[received].append(key)
                if group is not None:
                    declared[received].append([tuple(group.removeprefix("$.detail.").split("."))])
    found = {}
    for event_type, sampler in samplers.items():
        ids, steps, single = {}, {}, {}  # insertion-ordered sets
        for key in declared[event_type]:
            kinds = {path: sampler.node(path).get("type") for path in key}
            key_ids = [p for p in key if kinds[p] == "string"]
            key_steps = [p for p in key if kinds[p] == "integer"]
            if key_ids and key_steps:
                ids |= dict.fromkeys(key_ids)
                steps |= dict.fromkeys(key_steps)
            else:
                single |= dict.fromkeys(key)
        single = {p: None for p in single if p not in ids and p not in steps}
        found[event_type] = _Keys(tuple(sorted(ids)), tuple(steps), tuple(single))
    return found


def _steps(sampler: Sampler, key: _Keys) -> tuple[int, float]:
    """The lowest and highest version (or sequence) an event type's schema allows."""
    spans = [bounds(sampler.node(path)) for path in key.steps]
    low = max((lo for lo, _ in spans if lo is not None), default=1)
    return low, min((hi for _, hi in spans if hi is not None), default=math.inf)


def _put(detail: dict[str, Any], path: Path, value: Any) -> None:
    for name in path[:-1]:
        detail = detail.setdefault(name, {})
    detail[path[-1]] = value


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
