"""`python -m offline <stack>`: evaluate the program without the engine and list what it registers.

`--diff [REF]` lists the resources added, changed and removed against the program at a git
revision (default HEAD), by type and logical name, as `pulumi preview` would show them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter

from rich.console import Console
from rich.table import Table

from offline.program import Inventory, run
from offline.revision import RevisionError, declared_at, encode
from settings.load import ConfigError


def declared(inventory: Inventory) -> dict[str, dict]:
    """"type::logical name" -> inputs, for every resource the program would create (as JSON
    sees them, like the revision's side)."""
    return json.loads(json.dumps(
        {f"{r.type}::{r.name}": r.inputs for r in inventory.resources if r.custom},
        sort_keys=True, default=encode,
    ))


def changes(before: dict[str, dict], after: dict[str, dict]) -> dict[str, list[str]]:
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline", description=__doc__)
    parser.add_argument("stack", help="stack name: Pulumi.<stack>.yaml must exist")
    parser.add_argument(
        "--diff", nargs="?", const="HEAD", metavar="REF",
        help="list what changes against the program at git revision REF (default HEAD)",
    )
    args = parser.parse_args(argv)
    console = Console()
    started = time.perf_counter()
    try:
        inventory = run(args.stack)
        before = declared_at(args.diff, args.stack) if args.diff else None
    except (ConfigError, RevisionError) as error:
        console.print(f"[red]{error}[/red]")
        return 2
    if before is not None:
        found = changes(before, declared(inventory))
        for kind, style in (("added", "green"), ("changed", "yellow"), ("removed", "red")):
            for key in found[kind]:
                console.print(f"[{style}]{kind:8}[/{style}] {key}", soft_wrap=True)
        counts = ", ".join(f"{len(v)} {k}" for k, v in found.items())
        console.print(f"{args.stack} against {args.diff}: {counts}")
        return 0
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
