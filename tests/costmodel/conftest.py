"""Make the repository importable when pytest is started as `.venv/bin/pytest` (no rootdir ini),
and run the program once per distinct (stack, config) for the whole of tests/costmodel.

Kept local to tests/costmodel: tests/conftest.py belongs to the shared test setup.
"""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import offline.program

# (stack, its config as the program receives it) -> Inventory. Keyed by the config itself, not
# the stack name, so a stack file or scenario edited mid-session is run afresh.
_INVENTORIES: dict = {}


@pytest.fixture(scope="module", autouse=True)
def each_program_runs_once():
    """Evaluating the program takes most of a second and is deterministic for a given config;
    the inventories are only read. Patched per module, so nothing outside this folder sees it."""
    run = offline.program.run

    def cached(stack, *, config=None, state=None, preview=False):
        if state is not None:
            return run(stack, config=config, state=state, preview=preview)
        values = offline.program.stack_config(stack) if config is None else config
        key = (stack, preview, tuple(sorted(values.items())))
        if key not in _INVENTORIES:
            _INVENTORIES[key] = run(stack, config=config, preview=preview)
        return _INVENTORIES[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(offline.program, "run", cached)
        yield
