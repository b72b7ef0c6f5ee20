"""Price a stack: usages × the catalogue, with tiers and free tier applied as AWS applies them.

AWS applies tier bounds and free allowances to the account's monthly total of an item (all
queues' SQS requests together, all arm64 GB-seconds together), so usages are priced per item
in aggregate and the cost is shared out in proportion to quantity. Pricing functions accept a
scale array, so a sweep of volumes is a single pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from costmodel.catalogue import Catalogue, load_catalogue
from costmodel.resources import Resource, from_offline, from_preview
from costmodel.topology import Topology, build
from costmodel.usage import Usage, UsageModel
from costmodel.volume import propagate
from settings.load import ConfigError, from_stack_file
from settings.model import StackConfig

COLUMNS = [
    "service", "resource", "domain", "component", "price_item", "quantity", "unit",
    "unit_price", "price_unit", "monthly_cost", "formula", "verify", "price_source",
]


@dataclass(frozen=True)
class LineItem:
    service: str
    resource: str
    domain: str
    component: str
    price_item: str
    quantity: float
    unit: str
    unit_price: float  # list price per `price_unit` (first tier)
    price_unit: str
    monthly_cost: float
    formula: str
    verify: bool  # the catalogue flags this price: sources disagree
    price_source: str  # the preset that priced it


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

    @property
    def total(self) -> float:
        return float(sum(i.monthly_cost for i in self.items))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(i) for i in self.items], columns=COLUMNS)

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

    def usages(self) -> tuple[list[Usage], list[str]]:
        usage = UsageModel(self.topology, propagate(self.topology, self.config), self.config)
        return usage.build(), usage.warnings

    @property
    def monthly_events(self) -> float:
        return float(sum(e.monthly_volume for d in self.config.domains.values() for e in d.event_types.values()))

    def estimate(self) -> Estimate:
        usages, warnings = self.usages()
        costs = price(usages, self.catalogue, self.free_tier, 1.0)
        items = []
        for usage, cost in zip(usages, costs):
            item = self.catalogue.item(usage.price_item)
            items.append(
                LineItem(
                    service=usage.service,
                    resource=usage.resource,
                    domain=usage.domain,
                    component=usage.component,
                    price_item=usage.price_item,
                    quantity=float(usage.quantity()),
                    unit=item.unit,
                    unit_price=item.unit_price,
                    price_unit=item.price_unit,
                    monthly_cost=float(cost),
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
        )

    def total(self, scale=1.0):
        """Monthly total at `scale` × the configured volume (scalar or array)."""
        usages, _ = self.usages()
        return sum(price(usages, self.catalogue, self.free_tier, scale))


def price(usages: list[Usage], catalogue: Catalogue, free_tier: bool, scale) -> list:
    """Cost of each usage at `scale`; tiers and free allowances applied to account totals."""
    quantities = [np.asarray(u.quantity(np.asarray(scale, dtype=float)), dtype=float) for u in usages]
    totals: dict[str, Any] = {}
    for usage, q in zip(usages, quantities):
        totals[usage.price_item] = totals.get(usage.price_item, 0) + q
    pool_totals: dict[str, Any] = {}
    for item_id, q in totals.items():
        pool = catalogue.item(item_id).free_tier
        if pool is not None:
            name = pool.pool or item_id
            pool_totals[name] = pool_totals.get(name, 0) + q
    item_costs = {}
    for item_id, q in totals.items():
        item = catalogue.item(item_id)
        cost = item.cost(q)
        if free_tier and item.free_tier is not None:
            pool = pool_totals[item.free_tier.pool or item_id]
            # A shared allowance is split in proportion to each item's use of it.
            free = item.free_tier.monthly * np.divide(q, pool, out=np.zeros_like(q), where=pool > 0)
            cost = cost - item.cost(np.minimum(q, free))
        item_costs[item_id] = np.asarray(cost, dtype=float)
    costs = []
    for usage, q in zip(usages, quantities):
        share = np.divide(q, totals[usage.price_item], out=np.zeros_like(q), where=totals[usage.price_item] > 0)
        costs.append(item_costs[usage.price_item] * share)
    return costs


def load_model(
    stack: str,
    *,
    preset: str | None = None,
    free_tier: bool | None = None,
    preview: Path | None = None,
    config: StackConfig | None = None,
    resources: list[Resource] | None = None,
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
    )
