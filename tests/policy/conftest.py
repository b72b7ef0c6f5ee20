"""Shared fixtures for the policy pack tests: the shipped stacks, evaluated offline once."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The pack imports its package as the CLI runs it (`policy/` is the working directory).
for path in (REPO, REPO / "policy"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture(scope="session")
def evaluate():
    """evaluate(stack, config=None) -> a fresh Inventory (cached per stack; callers may mutate)."""
    from offline.program import run

    cache = {}

    def _evaluate(stack: str, config: dict[str, str] | None = None):
        if config is not None:
            return run(stack, config=config)
        if stack not in cache:
            cache[stack] = run(stack)
        return copy.deepcopy(cache[stack])

    return _evaluate
