"""Regenerate the documentation's examples with the tool itself, so they cannot drift by hand.

    python -m costmodel.examples

Writes the outputs for the shipped stacks to `docs/examples/`, and refreshes every block

    <!-- generated: NAME [lines=N] -->
    ...
    <!-- /generated -->

in docs/costmodel.md and README.md. NAME is a file of docs/examples (Markdown is embedded as
is, so it renders; other files are fenced, the first N lines when `lines=` is given), or
`schema:estimate`, `schema:diff` (field tables read from the JSON Schema files).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from costmodel.diff import diff
from costmodel.estimate import load_model
from costmodel.report.document import schema, to_csv, to_json
from costmodel.report.html_page import estimate_html
from costmodel.report.markdown import cell, diff_markdown, estimate_markdown, table
from costmodel.report.sections import gather
from costmodel.report.terminal import estimate_view, to_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "docs" / "examples"
DOCUMENTS = (ROOT / "docs" / "costmodel.md", ROOT / "README.md")
BLOCK = re.compile(
    r"(?P<open><!-- generated: (?P<name>\S+)(?: lines=(?P<lines>\d+))? -->\n).*?(?P<close><!-- /generated -->)",
    re.S,
)
FENCE_LANGUAGE = {".json": "json", ".csv": "csv", ".txt": "text", ".html": "html"}


def example_outputs() -> dict[str, str]:
    """File name -> content: what `costmodel estimate` / `diff` print for the shipped stacks."""
    dev_model, prod_model = load_model("dev"), load_model("prod")
    dev, prod = dev_model.estimate(), prod_model.estimate()
    sections = gather(prod_model)
    return {
        "dev-to-prod-diff.md": diff_markdown(diff(dev, prod)),
        "prod-estimate.md": estimate_markdown(prod, levers=sections.levers),
        "prod-estimate.json": to_json(prod),
        "prod-items.csv": to_csv(prod),
        "prod-table.txt": to_text(estimate_view(prod), width=200),
        "prod-report.html": estimate_html(prod, sections),
    }


def schema_fields(kind: str) -> str:
    """A Markdown table of a JSON Schema's fields, read from the schema file's own descriptions.

    Top-level fields first, then each object of `$defs` under its `title` (where it appears).
    """
    document = schema(kind)
    parts = [("", document)] + [
        (f"{part['title']}: ", part) for part in document["$defs"].values() if "properties" in part
    ]
    rows = []
    for where, part in parts:
        for name, spec in part["properties"].items():
            required = "yes" if name in part.get("required", ()) else "no"
            rows.append([f"{cell(where)}`{name}`", cell(_type_of(spec, document['$defs'])), required, cell(spec.get("description", ""))])
    return table(["Field", "Type", "Required", "Meaning"], "llll", rows) + "\n"


def _type_of(spec: dict, defs: dict) -> str:
    if "$ref" in spec:
        target = defs[spec["$ref"].rsplit("/", 1)[-1]]
        return _type_of(target, defs) if "enum" in target else f"object ({target['title']})"
    if "const" in spec:
        return f"always {json.dumps(spec['const'])}"
    if "enum" in spec:
        return " or ".join(json.dumps(v) for v in spec["enum"])
    if spec.get("type") == "array" and "items" in spec:
        return f"array of {_type_of(spec['items'], defs)}"
    kinds = spec.get("type", "")
    return kinds if isinstance(kinds, str) else " or ".join(kinds)


def render_block(name: str, lines: int | None, outputs: dict[str, str]) -> str:
    generators: dict[str, Callable[[], str]] = {
        "schema:estimate": lambda: schema_fields("estimate"),
        "schema:diff": lambda: schema_fields("diff"),
    }
    if name in generators:
        return generators[name]()
    if name not in outputs:
        raise SystemExit(f"unknown generated block {name!r}; known: {', '.join([*outputs, *generators])}")
    text = outputs[name]
    suffix = Path(name).suffix
    if suffix == ".md":
        return text
    if lines is not None:
        kept = text.splitlines()[:lines]
        text = "\n".join(kept) + f"\n... ({len(outputs[name].splitlines()) - lines} more lines in docs/examples/{name})\n"
    return f"```{FENCE_LANGUAGE.get(suffix, '')}\n{text}```\n"


def regenerate(check: bool) -> list[Path]:
    """Write (or with `check`, only compare) every example; the paths that were out of date."""
    outputs = example_outputs()
    stale = []
    wanted = {EXAMPLES_DIR / name: text for name, text in outputs.items()}
    for document in DOCUMENTS:
        if document.is_file():
            text = document.read_text()
            wanted[document] = BLOCK.sub(
                lambda m: m["open"] + render_block(m["name"], int(m["lines"]) if m["lines"] else None, outputs) + m["close"],
                text,
            )
    for path, text in wanted.items():
        if not path.is_file() or path.read_text() != text:
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    return stale


def main(argv: list[str] | None = None) -> int:
    args_parser = argparse.ArgumentParser(prog="python -m costmodel.examples", description=__doc__.splitlines()[0])
    args_parser.add_argument("--check", action="store_true", help="only report what is out of date (exit 1)")
    args = args_parser.parse_args(argv)
    stale = regenerate(args.check)
    for path in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
