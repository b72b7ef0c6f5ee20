"""Make the repository importable when pytest is started as `.venv/bin/pytest` (no rootdir ini).

Kept local to tests/costmodel: tests/conftest.py belongs to the shared test setup.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
