"""`python -m offline <stack>`: evaluate the program without the engine and list what it registers."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from rich.console import Console
from rich.table import Table

from offline.program import run
from settings.load import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline", description=__doc__)
    parser.add_argument("stack", help="stack name: Pulumi.<stack>.yaml must exist")
    args = parser.parse_args(argv)
    console = Console()
    started = time.perf_counter()
    try:
        inventory = run(args.stack)
    except ConfigError as error:
        console.print(f"[red]{error}[/red]")
        return 2
    elapsed = time.perf_counter() - started
    table = Table(title=f"Stack {args.stack!r}: what `pulumi up` would create")
    table.add_column("resource type")
    table.add_column("count", justify="right")
    for type_, count in sorted(Counter(r.type for r in inventory.resources if r.custom).items()):
        table.add_row(type_, str(count))
    console.print(table)
    custom = sum(r.custom for r in inventory.resources)
    console.print(
        f"{custom} resources in {len(inventory.resources) - custom} components, "
        f"evaluated offline in {elapsed:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
