"""The price catalogue: dated, sourced unit prices read from `costmodel/prices/<preset>/<region>.yaml`.

Prices are data, not code: each preset is a directory, each region one YAML file. A preset file
either lists complete items (`items:`) or overlays another preset (`base:` + `overrides:`); the
`seed` preset (the four unit prices of the platform's original design brief, kept to reproduce
its cost table) is such an overlay on `aws-current`, and `Catalogue.origin()` tells which preset
priced each item.

Quantities are always counted in the item's `unit` (requests, GB-seconds, ...); `price` buys
`per` units. `Catalogue.cost()` prices a quantity through the item's tiers and, when asked,
its monthly free tier. It accepts a scalar or a numpy array, so a sweep over many volume points
is one call.
"""

from __future__ import annotations

import difflib
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PRICES_DIR = Path(__file__).parent / "prices"

ItemId = str  # e.g. "sqs.standard.requests"; see PriceItem.id for the allowed shape
Quantity = float | np.ndarray


class CatalogueError(LookupError):
    """A preset, region or item that does not exist, or a data file that is not valid."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(_Frozen):
    """Units up to `up_to` (cumulative monthly usage; None = no upper bound) cost `price` per `per`."""

    up_to: float | None = Field(gt=0)
    price: float = Field(ge=0)


class FreeTier(_Frozen):
    monthly: float = Field(gt=0, description="Free units a month, in the item's unit")
    account_wide: bool = Field(description="True when the allowance is per account, not per resource")
    pool: str | None = Field(
        default=None,
        description="Items naming the same pool share one allowance (e.g. SQS standard + FIFO)",
    )


class PriceItem(_Frozen):
    id: ItemId = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    service: str = Field(min_length=1)
    description: str = Field(min_length=1)
    unit: str = Field(min_length=1, description="What quantities are counted in")
    per: int = Field(gt=0, description="How many units one price buys")
    price: float | None = Field(default=None, ge=0)
    tiers: tuple[Tier, ...] | None = None
    tiers_account_wide: bool = Field(
        default=False,
        description="AWS applies the tier bounds to the account's monthly total of this item",
    )
    free_tier: FreeTier | None = None
    verify: bool = Field(default=False, description="Sources disagree; show the flag in reports")
    note: str | None = None
    source: str = Field(min_length=1)
    effective: date

    @model_validator(mode="after")
    def _one_price_shape(self) -> PriceItem:
        if (self.price is None) == (self.tiers is None):
            raise ValueError(f"{self.id}: give exactly one of price or tiers")
        if self.tiers is not None:
            bounds = [t.up_to for t in self.tiers]
            if len(bounds) < 2 or bounds[-1] is not None or None in bounds[:-1]:
                raise ValueError(
                    f"{self.id}: tiers need at least two entries, only the last with up_to: null "
                    f"(got up_to {bounds}); a single price is written as price:"
                )
            if any(a >= b for a, b in zip(bounds[:-2], bounds[1:-1])):
                raise ValueError(f"{self.id}: tier bounds must ascend (got {bounds})")
        return self

    @property
    def price_tiers(self) -> tuple[Tier, ...]:
        """The price as tiers; a flat price is one unbounded tier."""
        return self.tiers if self.tiers is not None else (Tier(up_to=None, price=self.price),)

    @property
    def unit_price(self) -> float:
        """The first-tier price per `per` units: the list price most people quote."""
        return self.price_tiers[0].price

    @property
    def price_unit(self) -> str:
        """Human label of what `price` buys, e.g. 'per 1,000,000 request'."""
        return f"per {self.unit}" if self.per == 1 else f"per {self.per:,.0f} {self.unit}"

    def cost(self, quantity: Quantity, free_tier: bool = False) -> Quantity:
        """USD for `quantity` units in one month, through the tiers.

        With `free_tier`, the first `free_tier.monthly` units are free: they are the first units
        used, so they fall in the first tier and tier bounds still count them (AWS's reading for
        Lambda GB-seconds). The whole allowance is granted to this call; a caller pricing several
        resources or items of one pool must split it (see `FreeTier.pool`).
        """
        free = self.free_tier.monthly if free_tier and self.free_tier is not None else 0.0
        total = np.asarray(sum(units * price for units, price in self.tier_amounts(quantity, free)))
        return float(total) if total.ndim == 0 else total

    def tier_amounts(self, quantity: Quantity, free: Quantity = 0.0) -> list[tuple[np.ndarray, float]]:
        """(billed units, USD per unit) in each tier for `quantity` units of which `free` are free.

        The free units are the first used: they fill the lowest tiers and still count toward the
        tier bounds.
        """
        q = np.asarray(quantity, dtype=float)
        if not np.all(np.isfinite(q)) or np.any(q < 0):
            raise ValueError(
                f"{self.id}: quantity must be finite and >= 0 ({self.unit}), got {quantity!r}"
            )
        amounts = []
        lower, remaining = 0.0, np.minimum(q, free)
        for tier in self.price_tiers:
            upper = np.inf if tier.up_to is None else tier.up_to
            amount = np.clip(q, lower, upper) - lower
            taken = np.minimum(amount, remaining)
            remaining = remaining - taken
            amounts.append((amount - taken, tier.price / self.per))
            lower = upper
        return amounts


class RefreshStamp(_Frozen):
    """Written by `costmodel.refresh`: when it ran and which items it could not refresh (and why)."""

    at: date
    kept: dict[ItemId, str] = {}


class CatalogueFile(_Frozen):
    """A preset file that lists complete items."""

    preset: str
    region: str
    currency: Literal["USD"] = "USD"
    notes: tuple[str, ...] = ()
    refreshed: RefreshStamp | None = None
    items: tuple[PriceItem, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> CatalogueFile:
        reject_duplicate_ids([i.id for i in self.items])
        return self


class PriceOverride(_Frozen):
    """An overlay's price for a base item. It restates the price (and its source and date), so
    the base's verify flag and note, which describe the base's price, do not carry over; the
    service, unit and `per` always do, so both presets count quantities the same way."""

    id: ItemId
    price: float | None = Field(default=None, ge=0)
    tiers: tuple[Tier, ...] | None = None
    free_tier: FreeTier | None = None
    verify: bool = False
    note: str | None = None
    source: str = Field(min_length=1)
    effective: date

    def apply_to(self, base: PriceItem) -> PriceItem:
        inherited = base.model_dump(include={"service", "description", "unit", "per", "tiers_account_wide"})
        own = self.model_dump(exclude={"id"}, exclude_unset=True)
        # free_tier is inherited unless the overlay states its own.
        return PriceItem.model_validate(
            {"id": base.id, "free_tier": base.free_tier, "verify": False, **inherited, **own}
        )


class OverlayFile(_Frozen):
    """A preset file that overrides some items of a base preset for the same region."""

    preset: str
    region: str
    base: str
    notes: tuple[str, ...] = ()
    overrides: tuple[PriceOverride, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> OverlayFile:
        reject_duplicate_ids([o.id for o in self.overrides])
        return self


def reject_duplicate_ids(ids: list[str]) -> None:
    # PyYAML keeps the last of two equal mapping keys silently; ids live in lists so that a
    # repeated id is seen and rejected here instead.
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"ids repeated: {', '.join(repeated)}")


def unknown_id_error(what: str, wanted: str, known: list[str]) -> CatalogueError:
    """An error naming the unknown id, the closest known ones and all known ones."""
    close = difflib.get_close_matches(wanted, known, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return CatalogueError(f"unknown {what} {wanted!r}.{hint} Known: {', '.join(sorted(known))}")


class Catalogue(_Frozen):
    """The resolved prices of one preset in one region."""

    preset: str
    region: str
    currency: str
    items: dict[ItemId, PriceItem]
    origins: dict[ItemId, str] = Field(description="Item id -> the preset whose file priced it")
    notes: tuple[str, ...] = ()

    def item(self, item_id: ItemId) -> PriceItem:
        if item_id not in self.items:
            raise unknown_id_error(
                f"price item (preset {self.preset}, {self.region})", item_id, list(self.items)
            )
        return self.items[item_id]

    def cost(self, item_id: ItemId, quantity: Quantity, free_tier: bool = False) -> Quantity:
        """USD for `quantity` (scalar or numpy array, in the item's unit) of one item in a month."""
        return self.item(item_id).cost(quantity, free_tier)

    def origin(self, item_id: ItemId) -> str:
        """The preset whose data priced this item (e.g. 'aws-current' for an item seed leaves alone)."""
        self.item(item_id)
        return self.origins[item_id]

    def to_verify(self) -> list[ItemId]:
        """Items whose price is flagged `verify` (sources disagree): reports should mark them."""
        return sorted(i for i, item in self.items.items() if item.verify)

    def free_tier_pools(self) -> dict[str, list[ItemId]]:
        """Free-tier allowance name -> the items drawing on it (an unpooled item is its own pool)."""
        pools: dict[str, list[ItemId]] = {}
        for item in self.items.values():
            if item.free_tier is not None:
                pools.setdefault(item.free_tier.pool or item.id, []).append(item.id)
        return pools


def available_presets(prices_dir: Path = PRICES_DIR) -> list[str]:
    return sorted(p.name for p in prices_dir.iterdir() if p.is_dir())


def available_regions(preset: str, prices_dir: Path = PRICES_DIR) -> list[str]:
    return sorted(p.stem for p in (prices_dir / preset).glob("*.yaml"))


def preset_path(preset: str, region: str, prices_dir: Path = PRICES_DIR) -> Path:
    """The data file of one preset and region; a clear error names what exists."""
    presets = available_presets(prices_dir)
    if preset not in presets:
        raise CatalogueError(f"unknown price preset {preset!r}; available: {', '.join(presets)}")
    regions = available_regions(preset, prices_dir)
    if region not in regions:
        raise CatalogueError(
            f"preset {preset!r} has no prices for region {region!r}; available: "
            f"{', '.join(regions) or 'none'}"
        )
    return prices_dir / preset / f"{region}.yaml"


def read_preset_file(path: Path) -> CatalogueFile | OverlayFile:
    """Parse and validate one preset file; errors name the file and the bad field."""
    try:
        raw: Any = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path}: expected a mapping with preset, region and items")
    model = OverlayFile if "base" in raw else CatalogueFile
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        raise CatalogueError(f"{path}: {exc}") from exc
    # The path is what callers ask for; a copied file whose header was not edited would
    # otherwise price one region with another's numbers.
    if (parsed.preset, parsed.region) != (path.parent.name, path.stem):
        raise CatalogueError(
            f"{path}: header says preset {parsed.preset!r}, region {parsed.region!r}; the file's "
            f"location says preset {path.parent.name!r}, region {path.stem!r}"
        )
    return parsed


def load_catalogue(preset: str, region: str, prices_dir: Path = PRICES_DIR) -> Catalogue:
    """The prices of `preset` in `region`, with overlays resolved onto their base preset."""
    return _resolve(preset, region, prices_dir, seen=())


def _resolve(preset: str, region: str, prices_dir: Path, seen: tuple[str, ...]) -> Catalogue:
    if preset in seen:
        raise CatalogueError(f"preset overlays form a cycle: {' -> '.join((*seen, preset))}")
    path = preset_path(preset, region, prices_dir)
    data = read_preset_file(path)
    if isinstance(data, CatalogueFile):
        return Catalogue(
            preset=preset,
            region=region,
            currency=data.currency,
            items={i.id: i for i in data.items},
            origins={i.id: preset for i in data.items},
            notes=data.notes,
        )
    base = _resolve(data.base, region, prices_dir, (*seen, preset))
    items, origins = dict(base.items), dict(base.origins)
    for override in data.overrides:
        if override.id not in items:
            raise CatalogueError(
                f"{path}: override {override.id!r} names no item of base preset {data.base!r}; "
                f"known: {', '.join(sorted(items))}"
            )
        try:
            items[override.id] = override.apply_to(items[override.id])
        except ValidationError as exc:
            raise CatalogueError(f"{path}: override {override.id!r}: {exc}") from exc
        origins[override.id] = preset
    return Catalogue(
        preset=preset,
        region=region,
        currency=base.currency,
        items=items,
        origins=origins,
        notes=(*base.notes, *data.notes),
    )

