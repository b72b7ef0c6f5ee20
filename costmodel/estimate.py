"""Price a stack: usages × the catalogue, with tiers and free tier applied as AWS applies them.

AWS applies tier bounds and free allowances to the account's monthly total of an item (all
queues' SQS requests together, all arm64 GB-seconds together), so usages are priced per item
in aggregate and each line takes its share, in proportion to quantity, of every tier and of the
free allowance: a line's tiers (quantity × price each) sum to its cost. Pricing functions accept
a scale array, so a sweep of volumes is a single pass.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from costmodel.assumptions import CostAssumptions
from costmodel.assumptions import load as load_facts
from costmodel.catalogue import Catalogue, load_catalogue
from costmodel.resources import Resource, from_offline, from_preview
from costmodel.topology import Topology, build
from costmodel.usage import Usage
from costmodel.usage.model import UsageModel
from costmodel.volume import Propagation, propagate
from settings.load import ConfigError, from_stack_file
from settings.model import StackConfig

COLUMNS = [
    "service", "resource", "domain", "component", "price_item", "quantity", "unit",
    "unit_price", "list_price", "price_unit", "free_quantity", "tiers", "monthly_cost",
    "first_month_quantity", "first_month_cost", "formula", "verify", "price_source",
]


@dataclass(frozen=True)
class TierCost:
    """The part of a line item's quantity billed at one tier's price."""

    quantity: float  # in the item's unit
    unit_price: float  # USD per one unit
    cost: float  # quantity × unit_price


@dataclass(frozen=True)
class LineItem:
    service: str
    resource: str
    domain: str
    component: str
    price_item: str
    quantity: float  # a month, in `unit`
    unit: str
    unit_price: float  # USD per one `unit`, first tier (the list price)
    list_price: float  # USD per `price_unit`, first tier: how AWS quotes it
    price_unit: str
    free_quantity: float  # units covered by the free tier (0 when it is off)
    tiers: tuple[TierCost, ...]  # the rest, by tier: Σ quantity = quantity - free_quantity
    monthly_cost: float  # Σ tiers' cost
    first_month_quantity: float | None  # storage: what the first month holds (None: the same)
    first_month_cost: float | None
    formula: str
    verify: bool  # the catalogue flags this price: sources disagree
    price_source: str  # the preset that priced it


@dataclass(frozen=True)
class CoverageRow:
    """A resource type the program registers and how the estimate treats it."""

    type: str
    count: int
    status: str  # priced, free, not priced
    reason: str


@dataclass
class Estimate:
    stack: str
    region: str
    preset: str
    free_tier: bool
    monthly_events: float
    assumptions: dict[str, Any]
    items: list[LineItem]
    warnings: list[str] = field(default_factory=list)
    coverage: list[CoverageRow] = field(default_factory=list)
    scale: float = 1.0  # × the configured volume (--scale)
    what_if: list[str] = field(default_factory=list)  # --set / --assume changes applied

    @property
    def total(self) -> float:
        return float(sum(i.monthly_cost for i in self.items))

    @property
    def first_month_total(self) -> float:
        """The bill of the stack's first month, when storage is still filling up."""
        return float(
            sum(i.monthly_cost if i.first_month_cost is None else i.first_month_cost for i in self.items)
        )

    @property
    def not_priced(self) -> list[str]:
        """What the estimate leaves out, each with its reason: warnings, then resource types."""
        types = [
            f"{row.count} × {row.type}: {row.reason}" for row in self.coverage if row.status == "not priced"
        ]
        return [*self.warnings, *types]

    def frame(self) -> pd.DataFrame:
        rows = []
        for item in self.items:
            row = asdict(item)
            row["tiers"] = json.dumps(list(row["tiers"]), separators=(",", ":"))
            rows.append(row)
        return pd.DataFrame(rows, columns=COLUMNS)

    def by(self, column: str) -> pd.Series:
        """Monthly cost grouped by `service`, `domain` or `resource`, largest first."""
        return self.frame().groupby(column)["monthly_cost"].sum().sort_values(ascending=False)


@dataclass
class Model:
    """Everything an estimate is computed from; levers and the sweep re-price variants of it."""

    config: StackConfig
    topology: Topology
    catalogue: Catalogue
    free_tier: bool
    facts: CostAssumptions = field(default_factory=CostAssumptions)
    scale: float = 1.0  # × every configured volume
    what_if: tuple[str, ...] = ()  # the command-line changes this model carries, in words

    def propagation(self) -> Propagation:
        return propagate(self.topology, self.config)

    def usages(self) -> tuple[list[Usage], list[str]]:
        usage = UsageModel(self.topology, self.propagation(), self.config, self.facts)
        return usage.build(), usage.warnings

    @property
    def configured_events(self) -> float:
        """Events a month the config projects (all domains), before `scale`."""
        return float(
            sum(e.monthly_volume for d in self.config.domains.values() for e in d.event_types.values())
        )

    @property
    def monthly_events(self) -> float:
        return self.configured_events * self.scale

    def estimate(self) -> Estimate:
        usages, warnings = self.usages()
        priced = price_detail(usages, self.catalogue, self.free_tier, self.scale)
        first = price_detail(usages, self.catalogue, self.free_tier, self.scale, first_month=True)
        items = []
        for usage, now, start in zip(usages, priced, first):
            item = self.catalogue.item(usage.price_item)
            storage = usage.first_month_share is not None
            items.append(
                LineItem(
                    service=usage.service,
                    resource=usage.resource,
                    domain=usage.domain,
                    component=usage.component,
                    price_item=usage.price_item,
                    quantity=now.quantity,
                    unit=item.unit,
                    unit_price=item.unit_price / item.per,
                    list_price=item.unit_price,
                    price_unit=item.price_unit,
                    free_quantity=now.free_quantity,
                    tiers=now.tiers,
                    monthly_cost=now.cost,
                    first_month_quantity=start.quantity if storage else None,
                    first_month_cost=start.cost if storage else None,
                    formula=usage.formula,
                    verify=item.verify,
                    price_source=self.catalogue.origin(usage.price_item),
                )
            )
        return Estimate(
            stack=self.config.stack,
            region=self.config.region,
            preset=self.catalogue.preset,
            free_tier=self.free_tier,
            monthly_events=self.monthly_events,
            assumptions=self.config.assumptions.model_dump(),
            items=items,
            warnings=warnings,
            coverage=[
                CoverageRow(type_, count, c.status, c.reason)
                for type_, count, c in self.topology.coverage()
            ],
            scale=self.scale,
            what_if=list(self.what_if),
        )

    def total(self, scale=None):
        """Monthly total at `scale` × the configured volume (scalar or array; default: the
        model's own scale)."""
        usages, _ = self.usages()
        return sum(price(usages, self.catalogue, self.free_tier, self.scale if scale is None else scale))

    def scaled(self, factor: float) -> Model:
        return replace(self, scale=self.scale * factor)


@dataclass(frozen=True)
class Priced:
    quantity: float
    free_quantity: float
    tiers: tuple[TierCost, ...]
    cost: float


def _free_allowances(totals: dict[str, Any], catalogue: Catalogue, free_tier: bool) -> dict[str, Any]:
    """Free units of each item's account total: a shared allowance split by each item's use."""
    if not free_tier:
        return {item_id: np.zeros_like(q) for item_id, q in totals.items()}
    pools: dict[str, Any] = {}
    for item_id, q in totals.items():
        allowance = catalogue.item(item_id).free_tier
        if allowance is not None:
            name = allowance.pool or item_id
            pools[name] = pools.get(name, 0) + q
    free = {}
    for item_id, q in totals.items():
        allowance = catalogue.item(item_id).free_tier
        if allowance is None:
            free[item_id] = np.zeros_like(q)
            continue
        pool = pools[allowance.pool or item_id]
        share = np.divide(q, pool, out=np.zeros_like(q), where=pool > 0)
        free[item_id] = np.minimum(q, allowance.monthly * share)
    return free


def _totals(usages: list[Usage], quantities: list[np.ndarray]) -> dict[str, Any]:
    totals: dict[str, Any] = {}
    for usage, q in zip(usages, quantities):
        totals[usage.price_item] = totals.get(usage.price_item, 0) + q
    return totals


def _account_tiers(
    usages: list[Usage], quantities: list[np.ndarray], catalogue: Catalogue, free_tier: bool
) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[tuple[Any, float]]]]:
    """Per price item: the account total of `quantities`, its free units, and its billed units
    and USD per unit in each tier."""
    totals = _totals(usages, quantities)
    free = _free_allowances(totals, catalogue, free_tier)
    tiers = {}
    for item_id, q in totals.items():
        tiers[item_id] = catalogue.item(item_id).tier_amounts(q, free[item_id])
    return totals, free, tiers


def price(usages: list[Usage], catalogue: Catalogue, free_tier: bool, scale) -> list:
    """Cost of each usage at `scale` (scalar or array); tiers and free allowances applied to
    account totals."""
    quantities = [np.asarray(u.quantity(np.asarray(scale, dtype=float)), dtype=float) for u in usages]
    totals, _, tiers = _account_tiers(usages, quantities, catalogue, free_tier)
    item_costs = {item_id: sum(a * p for a, p in amounts) for item_id, amounts in tiers.items()}
    costs = []
    for usage, q in zip(usages, quantities):
        total = totals[usage.price_item]
        share = np.divide(q, total, out=np.zeros_like(q), where=total > 0)
        costs.append(np.asarray(item_costs[usage.price_item] * share, dtype=float))
    return costs


def price_detail(
    usages: list[Usage], catalogue: Catalogue, free_tier: bool, scale: float = 1.0,
    first_month: bool = False,
) -> list[Priced]:
    """Each usage's quantity, free units, tiers and cost at one `scale`: its share of its item's
    account total, so Σ tiers' cost is its cost. `first_month`: storage at its first month."""
    quantities = [
        np.asarray(u.first_month_quantity(scale) if first_month else u.quantity(scale), dtype=float)
        for u in usages
    ]
    totals, free, amounts = _account_tiers(usages, quantities, catalogue, free_tier)
    result = []
    for usage, q in zip(usages, quantities):
        total = float(totals[usage.price_item])
        share = float(q) / total if total > 0 else 0.0
        tiers = tuple(
            TierCost(float(a) * share, p, float(a) * share * p)
            for a, p in amounts[usage.price_item]
            if float(a) * share > 0
        )
        cost = 0.0
        for tier in tiers:
            cost += tier.cost
        result.append(Priced(float(q), float(free[usage.price_item]) * share, tiers, cost))
    return result


def load_model(
    stack: str,
    *,
    preset: str | None = None,
    free_tier: bool | None = None,
    preview: Path | None = None,
    config: StackConfig | None = None,
    resources: list[Resource] | None = None,
    facts: CostAssumptions | None = None,
) -> Model:
    """The stack's config and declared resources (offline program run, or a preview file)."""
    config = config or from_stack_file(stack)
    if not any(e.monthly_volume for d in config.domains.values() for e in d.event_types.values()):
        raise ConfigError(
            f"stack {stack!r} projects no events: set monthly_volume on its event types "
            "(eda-platform:domains.<domain>.event_types.<Type>.monthly_volume)"
        )
    if resources is None:
        resources = from_preview(preview) if preview else from_offline(stack)
    return Model(
        config=config,
        topology=build(resources),
        catalogue=load_catalogue(preset or config.assumptions.price_preset, config.region),
        free_tier=config.assumptions.free_tier if free_tier is None else free_tier,
        facts=facts or load_facts(),
    )
