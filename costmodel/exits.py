"""How `python -m costmodel` ends: its exit codes, and bad input said on one line."""

from __future__ import annotations

import sys

EXIT_OK, EXIT_OVER_LIMIT, EXIT_BAD_INPUT = 0, 1, 2


def one_line(message: str) -> str:
    """A message on one line: a config error's list of problems joined with semicolons."""
    first, *rest = message.splitlines() or [""]
    return first + (": " + "; ".join(line.strip() for line in rest if line.strip()) if rest else "")


def bad_input(message: str) -> int:
    """Say what is wrong (`costmodel: error: ...`, one line, on standard error): exit 2."""
    print(f"costmodel: error: {one_line(message)}", file=sys.stderr)
    return EXIT_BAD_INPUT
