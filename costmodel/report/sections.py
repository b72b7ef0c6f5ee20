"""The optional report sections computed from the model, not from one estimate: cost against
volume (sweep), capacity headroom, cost levers and the check against the seed's figures.

They come from `costmodel.scale`, `costmodel.levers` and `costmodel.seedcheck`; this module only
gathers their results so a format can show whichever are present.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from costmodel import scale
from costmodel.estimate import Model
from costmodel.levers import Lever
from costmodel.levers import levers as find_levers
from costmodel.seedcheck import SeedCheck, full_topology
from costmodel.seedcheck import seed_check as check_seed


@dataclass
class Sections:
    sweep: pd.DataFrame | None = None  # volume, total, one column per service
    # volume, check, scope, needed, available, unit, utilisation
    headroom: pd.DataFrame | None = None
    headroom_now: pd.DataFrame | None = None  # the same columns at the stack's own volume
    first_limit: dict[str, Any] | None = None  # volume, check, scope, ... of the first quota hit
    levers: list[Lever] | None = None  # largest saving first
    seed_check: SeedCheck | None = None


def gather(
    model: Model, *, sweep: bool = True, levers: bool = True, seed_check: bool = True
) -> Sections:
    """Compute the requested sections. The seed check is the slow one: it runs the program for
    the seed's stack, and for prod unless `model` is the shipped prod stack already."""
    sections = Sections()
    if sweep:
        sections.sweep = scale.sweep(model)
        sections.headroom = scale.headroom(model)
        sections.headroom_now = scale.headroom(model, volumes=[model.monthly_events])
        sections.first_limit = scale.first_limit(sections.headroom)
    if levers:
        by_saving = sorted(find_levers(model), key=lambda lever: lever.monthly_saving, reverse=True)
        sections.levers = by_saving
    if seed_check:
        sections.seed_check = check_seed(full=full_topology(model))
    return sections
