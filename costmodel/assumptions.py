"""Traffic facts the stack config does not state, read by the cost model only.

`costmodel/assumptions.yaml` holds them for every stack; `--assume KEY=VALUE` overrides one for
a run. They complement `settings.model.Assumptions` (duplicate_rate, failure_rate, ...), which
live in the stack files.

- `entity_keys.<domain>.<EventType>`: distinct entity keys per event of that type, for the
  consumers that keep one item per entity (`costmodel.behaviour.ENTITY_STORES`: the order
  processor keeps one state item per order). 1 (the default) counts every event as a new
  entity; 0 says the type only updates entities another type created. A stack config whose
  event type states `entity_keys_per_event` takes precedence over this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from settings.load import ConfigError

FILE = Path(__file__).parent / "assumptions.yaml"

Ratio = Annotated[float, Field(ge=0, le=1)]


class CostAssumptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    entity_keys: dict[str, dict[str, Ratio]] = Field(
        default={},
        description="domain -> event type -> distinct entity keys per event (default 1)",
    )

    def keys_per_event(self, domain: str, detail_type: str) -> float:
        return self.entity_keys.get(domain, {}).get(detail_type, 1.0)


def load(path: Path = FILE) -> CostAssumptions:
    try:
        return CostAssumptions.model_validate(yaml.safe_load(path.read_text()) or {})
    except (ValidationError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
