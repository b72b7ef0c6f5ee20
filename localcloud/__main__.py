"""`python -m localcloud demo`: deploy a stack into moto, drive a workload, print the flow report.

Operations on the emulated (or a real) stack are `python -m ops` commands.
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from localcloud import demo
from localcloud.workload import Mix
from settings.load import ConfigError


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "demo", help="deploy a stack into moto, drive a workload, print the flow report"
    )
    run.add_argument("--stack", default="local")
    # Ranges are Mix's to check: one rule for the CLI and for programs.
    run.add_argument("--events", type=int, default=Mix.events)
    run.add_argument("--duplicates", type=float, default=Mix.duplicates)
    run.add_argument("--failures", type=float, default=Mix.failures)
    run.add_argument("--poison", type=float, default=Mix.poison)
    run.add_argument("--seed", type=int, default=Mix.seed)
    return root


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    # Rich falls back to 80 columns when piped (CI logs); the flow report needs more.
    console = Console() if sys.stdout.isatty() else Console(width=150)
    try:
        mix = Mix(args.events, args.duplicates, args.failures, args.poison, args.seed)
    except ValueError as exc:
        cli.error(str(exc))
    try:
        return 0 if demo.run(args.stack, mix, console) else 1
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
