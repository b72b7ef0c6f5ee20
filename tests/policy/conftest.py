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
def build_dir(tmp_path_factory) -> Path:
    """The program packages a dependency layer per architecture; empty folders stand in for it."""
    build = tmp_path_factory.mktemp("build")
    for architecture in ("arm64", "x86_64"):
        (build / f"layer-{architecture}").mkdir()
    return build


@pytest.fixture(scope="session")
def evaluate(build_dir):
    """evaluate(stack, config=None) -> a fresh Inventory (cached per stack; callers may mutate)."""
    from offline.program import run

    cache = {}
    patch = pytest.MonkeyPatch()
    patch.setenv("EDA_BUILD_DIR", str(build_dir))

    def _evaluate(stack: str, config: dict[str, str] | None = None):
        if config is not None:
            return run(stack, config=config)
        if stack not in cache:
            cache[stack] = run(stack)
        return copy.deepcopy(cache[stack])

    yield _evaluate
    patch.undo()
