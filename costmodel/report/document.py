"""The machine-readable formats: CSV line items and the versioned JSON documents.

The JSON is the interface between revisions: the PR workflow estimates the base checkout and the
PR head, each to a JSON file, and `costmodel diff` reads both back. So the document carries
everything an `Estimate` holds (`estimate_from_json` rebuilds it exactly) and a
`schema_version`; its shape is fixed by `costmodel/schema/estimate.schema.json`, and a reader
refuses a version it does not know instead of misreading it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pandas as pd

from costmodel.estimate import COLUMNS, Estimate, LineItem
from costmodel.report.tables import breakdown

if TYPE_CHECKING:
    from costmodel.diff import Diff

SCHEMA_VERSION = 1  # bump only for a change an older reader would misread (see docs/costmodel.md)
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"


class EstimateFileError(ValueError):
    """An estimate JSON file that cannot be read back: missing, not JSON, or not the schema."""


@cache
def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of `kind` ('estimate' or 'diff')."""
    return json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text())


def to_csv(estimate: Estimate) -> str:
    """The line items, one row each, columns in `COLUMNS` order (floats at full precision)."""
    return estimate.frame().to_csv(index=False, lineterminator="\n")


def estimate_document(estimate: Estimate) -> dict[str, Any]:
    """The estimate as a schema-version-1 JSON object, validated so a drift fails here."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "kind": "estimate",
        "stack": estimate.stack,
        "region": estimate.region,
        "currency": "USD",
        "preset": estimate.preset,
        "free_tier": estimate.free_tier,
        "monthly_events": estimate.monthly_events,
        "total_monthly_cost": estimate.total,
        "assumptions": estimate.assumptions,
        "warnings": list(estimate.warnings),
        # Derived from items and ignored on reading: the summary for consumers without pandas.
        "by_service": _records(breakdown(estimate, "service"), "service"),
        "by_domain": _records(breakdown(estimate, "domain"), "domain"),
        "items": [asdict(item) for item in estimate.items],
    }
    jsonschema.validate(document, schema("estimate"))
    return document


def to_json(estimate: Estimate) -> str:
    return json.dumps(estimate_document(estimate), indent=2, ensure_ascii=False) + "\n"


def estimate_from_json(document: str | dict[str, Any], origin: str = "estimate JSON") -> Estimate:
    """Rebuild the `Estimate` a `to_json` document was made from; `origin` names it in errors."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise EstimateFileError(
                f"{origin} is not JSON ({exc}); expected `costmodel estimate --format json` output"
            ) from None
    _check(document, "estimate", origin)
    items = [LineItem(**{column: row[column] for column in COLUMNS}) for row in document["items"]]
    estimate = Estimate(
        stack=document["stack"],
        region=document["region"],
        preset=document["preset"],
        free_tier=document["free_tier"],
        monthly_events=document["monthly_events"],
        assumptions=document["assumptions"],
        items=items,
        warnings=document["warnings"],
    )
    # A hand-edited or truncated file would otherwise diff as a real cost change.
    if not math.isclose(estimate.total, document["total_monthly_cost"], rel_tol=1e-9, abs_tol=1e-9):
        raise EstimateFileError(
            f"{origin}: total_monthly_cost {document['total_monthly_cost']} is not the sum of its "
            f"items ({estimate.total}); the file was edited or truncated"
        )
    return estimate


def read_estimate(path: Path) -> Estimate:
    """An estimate JSON file, with errors that name the file and what is wrong with it."""
    try:
        text = Path(path).read_text()
    except (FileNotFoundError, IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        reason = exc.strerror or exc
        raise EstimateFileError(f"cannot read estimate file {path}: {reason}") from None
    return estimate_from_json(text, origin=str(path))


def diff_document(diff: Diff) -> dict[str, Any]:
    """A diff as a schema-version-1 JSON object (`costmodel/schema/diff.schema.json`)."""

    def side(estimate: Estimate) -> dict[str, Any]:
        return {
            "stack": estimate.stack,
            "region": estimate.region,
            "preset": estimate.preset,
            "free_tier": estimate.free_tier,
            "total_monthly_cost": estimate.total,
        }

    document = {
        "schema_version": SCHEMA_VERSION,
        "kind": "diff",
        "currency": "USD",
        "base": side(diff.base),
        "head": side(diff.head),
        "total_before": diff.total_before,
        "total_after": diff.total_after,
        "change": diff.change,
        # JSON has no infinity: a change from $0 has no percentage.
        "percent": None if diff.percent is None or math.isinf(diff.percent) else diff.percent,
        "services": diff.services.to_dict("records"),
        "resources": diff.resources.to_dict("records"),
        "components": diff.components.to_dict("records"),
    }
    jsonschema.validate(document, schema("diff"))
    return document


def diff_to_json(diff: Diff) -> str:
    return json.dumps(diff_document(diff), indent=2, ensure_ascii=False) + "\n"


def _records(table: pd.DataFrame, key: str) -> list[dict[str, Any]]:
    return table[[key, "monthly_cost"]].to_dict("records")


def _check(document: Any, kind: str, origin: str) -> None:
    if isinstance(document, dict) and document.get("kind", kind) != kind:
        raise EstimateFileError(f"{origin} is a {document['kind']!r} document; expected {kind!r}")
    version = document.get("schema_version") if isinstance(document, dict) else None
    if isinstance(version, int) and version != SCHEMA_VERSION:
        raise EstimateFileError(
            f"{origin} has schema_version {version}; this costmodel reads version {SCHEMA_VERSION}"
        )
    try:
        jsonschema.validate(document, schema(kind))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise EstimateFileError(
            f"{origin} is not a valid {kind} document: {where}: {exc.message}"
        ) from None
