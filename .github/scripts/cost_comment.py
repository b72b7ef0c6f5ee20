"""Render the pull request's cost comment: the cost model's diff for each stack, one section each.

    python .github/scripts/cost_comment.py --stack dev BASE.json HEAD.json [--stack prod ...]

BASE.json and HEAD.json come from `python -m costmodel estimate --stack <s> --format json`, run
on the base branch and on the pull request. The workflow posts the output as one sticky comment.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def diff_markdown(base: str, head: str) -> str:
    """The cost model's own Markdown diff: the comment never re-implements pricing."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "costmodel",
            "diff",
            *(str(Path(p).resolve()) for p in (base, head)),
            "--format",
            "md",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"costmodel diff {base} {head} failed:\n{result.stderr}")
    return result.stdout.strip()


def render(stacks: list[tuple[str, str, str]]) -> str:
    sections = [f"### {name}\n\n{diff_markdown(base, head)}" for name, base, head in stacks]
    return (
        "\n\n".join(
            [
                "## Monthly cost change",
                "Priced by `costmodel` from each revision's own program and stack files "
                "(projected volume; formulas and assumptions in each line).",
                *sections,
            ]
        )
        + "\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stack",
        nargs=3,
        action="append",
        required=True,
        metavar=("NAME", "BASE_JSON", "HEAD_JSON"),
        help="a section: its title, the base estimate and the head estimate",
    )
    sys.stdout.write(render([tuple(s) for s in parser.parse_args(argv).stack]))


if __name__ == "__main__":
    main()
