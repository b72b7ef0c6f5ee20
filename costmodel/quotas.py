"""Default AWS service quotas, read from `costmodel/prices/quotas.yaml`, for capacity checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from costmodel.catalogue import (
    PRICES_DIR,
    CatalogueError,
    reject_duplicate_ids,
    unknown_id_error,
)

QUOTAS_FILE = PRICES_DIR / "quotas.yaml"


class Quota(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    service: str
    description: str
    unit: str
    scope: str = Field(description="What the limit counts over: account, bus, queue, table, ...")
    values: dict[str, float] = Field(
        min_length=1, description="Region -> quota; 'default' covers regions not listed"
    )
    verify: bool = False
    note: str | None = None

    def value(self, region: str) -> float | None:
        """The quota in `region`, or None when it is not known there (report it as unknown)."""
        return self.values.get(region, self.values.get("default"))


class Quotas(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    collected: date
    quotas: tuple[Quota, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Quotas:
        reject_duplicate_ids([q.id for q in self.quotas])
        return self

    def quota(self, quota_id: str) -> Quota:
        by_id = {q.id: q for q in self.quotas}
        if quota_id not in by_id:
            raise unknown_id_error("quota", quota_id, list(by_id))
        return by_id[quota_id]

    def value(self, quota_id: str, region: str) -> float | None:
        return self.quota(quota_id).value(region)


def load_quotas(path: Path = QUOTAS_FILE) -> Quotas:
    try:
        return Quotas.model_validate(yaml.safe_load(path.read_text()))
    except (ValidationError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: {exc}") from exc
