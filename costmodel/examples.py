"""Regenerate the documentation's examples with the tool itself, so they are never typed by hand.

    python -m costmodel.examples

Writes the outputs for the shipped stacks to `docs/examples/`, and refreshes every block

    <!-- generated: NAME [lines=N] -->
    ...
    <!-- /generated -->

in docs/costmodel.md and README.md. NAME is a file of docs/examples (Markdown is embedded as
is, so it renders; other files are fenced, the first N lines when `lines=` is given), or
`schema:estimate` / `schema:diff` (field tables read from the JSON Schema files).
"""

from __future__ import annotations

import json
import re
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
    r"(?P<open><!-- generated: (?P<name>\S+)(?: lines=(?P<lines>\d+))? -->\n)"
    r".*?(?P<close><!-- /generated -->)",
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
        "prod-table.txt": to_text(estimate_view(prod), width=80),
        "prod-report.html": estimate_html(prod, sections),
        "prod-coverage.md": coverage_markdown(prod),
    }


def coverage_markdown(estimate) -> str:
    """Every resource type the program registers for the stack, and how the estimate treats it."""
    rows = [
        [f"`{cell(row.type)}`", str(row.count), row.status, cell(row.reason)]
        for row in sorted(estimate.coverage, key=lambda r: (r.status, r.type))
    ]
    return table(["Type", "Count", "Status", "Why"], "lrll", rows) + "\n"


def schema_fields(kind: str) -> str:
    """A Markdown table of a JSON Schema's fields, read from the schema file's own descriptions.

    Top-level fields first, then each object of `$defs` under its `title` (where it appears).
    """
    document = schema(kind)
    defs = document["$defs"]
    parts = [("", document)] + [(f"{d['title']}: ", d) for d in defs.values() if "properties" in d]
    rows = []
    for where, part in parts:
        for name, spec in part["properties"].items():
            required = "yes" if name in part.get("required", ()) else "no"
            meaning = cell(spec.get("description", ""))
            rows.append([f"{cell(where)}`{name}`", cell(_type_of(spec, defs)), required, meaning])
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
    if name.startswith("schema:"):
        return schema_fields(name.removeprefix("schema:"))
    if name not in outputs:
        known = ", ".join([*outputs, "schema:estimate", "schema:diff"])
        raise SystemExit(f"unknown generated block {name!r}; known: {known}")
    text, suffix = outputs[name], Path(name).suffix
    if suffix == ".md":
        return text
    if lines is not None:
        rest = len(text.splitlines()) - lines
        more = f"... {rest} more lines in docs/examples/{name}"
        text = "\n".join([*text.splitlines()[:lines], more]) + "\n"
    return f"```{FENCE_LANGUAGE.get(suffix, '')}\n{text}```\n"


def stale() -> dict[Path, str]:
    """Every example file and generated document whose content differs from a fresh run:
    path -> the content it should have."""
    outputs = example_outputs()
    wanted = {EXAMPLES_DIR / name: text for name, text in outputs.items()}

    def fill(match: re.Match) -> str:
        lines = int(match["lines"]) if match["lines"] else None
        return match["open"] + render_block(match["name"], lines, outputs) + match["close"]

    for document in DOCUMENTS:
        if document.is_file():
            wanted[document] = BLOCK.sub(fill, document.read_text())
    return {p: text for p, text in wanted.items() if not p.is_file() or p.read_text() != text}


def regenerate() -> list[Path]:
    """Write every example and generated block; the paths whose content changed."""
    changed = stale()
    for path, text in changed.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(changed)

if __name__ == "__main__":
    for path in regenerate():
        print(f"wrote {path.relative_to(ROOT)}")
