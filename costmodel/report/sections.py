"""The optional report sections computed from the model, not from one estimate: cost against
volume (sweep), capacity headroom, cost levers and, on request, the check against the cost
table of the platform's original design brief (`costmodel.seedcheck`).

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

# What `--sections` accepts, and what each format shows unless told otherwise.
SECTIONS = ("sweep", "levers", "seedcheck")
DEFAULT_SECTIONS = {"html": ("sweep", "levers"), "md": ("levers",)}


@dataclass
class Sections:
    sweep: pd.DataFrame | None = None  # volume, total, one column per service
    # check, scope, needed, available, unit, utilisation, limit_at (exact volume)
    headroom: pd.DataFrame | None = None
    first_limit: dict[str, Any] | None = None  # volume, check, scope, ... of the first quota hit
    levers: list[Lever] | None = None  # largest saving first
    seed_check: Any = None  # costmodel.seedcheck.SeedCheck


def gather(
    model: Model, *, sweep: bool = True, levers: bool = True, seed_check: bool = False
) -> Sections:
    """Compute the requested sections. The seed check is opt-in and the slowest: it runs the
    program for the seed scenario, and compares it with `model` (the stack being reported)."""
    sections = Sections()
    if sweep:
        sections.sweep = scale.sweep(model)
        sections.headroom = scale.capacity(model)
        sections.first_limit = scale.first_limit(sections.headroom)
    if levers:
        by_saving = sorted(find_levers(model), key=lambda lever: lever.monthly_saving, reverse=True)
        sections.levers = by_saving
    if seed_check:
        from costmodel.seedcheck import seed_check as check_seed  # runs a program: only on request

        sections.seed_check = check_seed(full=model)
    return sections
