"""The machine-readable formats: CSV line items and the versioned JSON documents.

The JSON is the interface between revisions: the PR workflow estimates the base checkout and the
PR head, each to a JSON file, and `costmodel diff` reads both back. So the document carries
everything an `Estimate` holds (`estimate_from_json` rebuilds it exactly) and a
`schema_version`; its shape is fixed by `costmodel/schema/estimate.schema.json`, and a reader
refuses a version it does not know instead of misreading it. The base checkout of a pull
request may still write version 1 (`estimate.v1.schema.json`), which is read too.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pandas as pd

from costmodel.estimate import CoverageRow, Estimate, LineItem, TierCost
from costmodel.report.tables import breakdown

if TYPE_CHECKING:
    from costmodel.diff import Diff

# Bump only for a change an older reader would misread (see docs/costmodel.md).
SCHEMA_VERSION = 2  # estimate documents written
DIFF_SCHEMA_VERSION = 1  # diff documents written
READABLE = (1, 2)  # estimate versions read back
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"


class EstimateFileError(ValueError):
    """An estimate JSON file that cannot be read back: missing, not JSON, or not the schema."""


@cache
def schema(kind: str, version: int | None = None) -> dict[str, Any]:
    """The JSON Schema of `kind` ('estimate' or 'diff'); `version` 1 for an old estimate."""
    name = f"{kind}.v{version}" if version is not None and version != SCHEMA_VERSION else kind
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())


def to_csv(estimate: Estimate) -> str:
    """The line items, one row each, columns in `COLUMNS` order (floats at full precision;
    `tiers` as JSON text)."""
    return estimate.frame().to_csv(index=False, lineterminator="\n")


def estimate_document(estimate: Estimate) -> dict[str, Any]:
    """The estimate as a schema-version-2 JSON object, validated so a drift fails here."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "kind": "estimate",
        "stack": estimate.stack,
        "region": estimate.region,
        "currency": "USD",
        "preset": estimate.preset,
        "free_tier": estimate.free_tier,
        "monthly_events": estimate.monthly_events,
        "scale": estimate.scale,
        "what_if": list(estimate.what_if),
        "total_monthly_cost": estimate.total,
        "first_month_cost": estimate.first_month_total,
        "assumptions": estimate.assumptions,
        "warnings": list(estimate.warnings),
        "coverage": [asdict(row) for row in estimate.coverage],
        # Derived from items and ignored on reading: the summary for consumers without pandas.
        "by_service": _records(breakdown(estimate, "service"), "service"),
        "by_domain": _records(breakdown(estimate, "domain"), "domain"),
        "items": [_item_dict(item) for item in estimate.items],
    }
    jsonschema.validate(document, schema("estimate"))
    return document


def to_json(estimate: Estimate) -> str:
    return json.dumps(estimate_document(estimate), indent=2, ensure_ascii=False) + "\n"


def estimate_from_json(document: str | dict[str, Any], origin: str = "estimate JSON") -> Estimate:
    """Rebuild the `Estimate` a `to_json` document was made from; `origin` names it in errors.

    A version-1 document (no tiers, free quantities or coverage) becomes an estimate whose items
    carry their cost as one tier at the average price: enough to diff it."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise EstimateFileError(
                f"{origin} is not JSON ({exc}); expected `costmodel estimate --format json` output"
            ) from None
    version = _check(document, "estimate", origin)
    items = [(_item_v1 if version == 1 else _item)(row) for row in document["items"]]
    estimate = Estimate(
        stack=document["stack"],
        region=document["region"],
        preset=document["preset"],
        free_tier=document["free_tier"],
        monthly_events=document["monthly_events"],
        assumptions=document["assumptions"],
        items=items,
        warnings=document["warnings"],
        coverage=[CoverageRow(**row) for row in document.get("coverage", [])],
        scale=document.get("scale", 1.0),
        what_if=document.get("what_if", []),
    )
    # A hand-edited or truncated file would otherwise diff as a real cost change.
    if not math.isclose(estimate.total, document["total_monthly_cost"], rel_tol=1e-9, abs_tol=1e-9):
        raise EstimateFileError(
            f"{origin}: total_monthly_cost {document['total_monthly_cost']} is not the sum of its "
            f"items ({estimate.total}); the file was edited or truncated"
        )
    return estimate


def _item_dict(item: LineItem) -> dict[str, Any]:
    row = asdict(item)
    row["tiers"] = list(row["tiers"])
    return row


def _item(row: dict[str, Any]) -> LineItem:
    fields = {name: row[name] for name in LineItem.__dataclass_fields__}
    fields["tiers"] = tuple(TierCost(**tier) for tier in row["tiers"])
    return LineItem(**fields)


def _item_v1(row: dict[str, Any]) -> LineItem:
    """A version-1 item: `unit_price` was per `price_unit` ('per 1,000,000 request')."""
    per = _per(row["price_unit"])
    cost, quantity = row["monthly_cost"], row["quantity"]
    tiers = (TierCost(quantity, cost / quantity, cost),) if quantity > 0 and cost > 0 else ()
    return LineItem(
        service=row["service"],
        resource=row["resource"],
        domain=row["domain"],
        component=row["component"],
        price_item=row["price_item"],
        quantity=quantity,
        unit=row["unit"],
        unit_price=row["unit_price"] / per,
        list_price=row["unit_price"],
        price_unit=row["price_unit"],
        free_quantity=0.0,
        tiers=tiers,
        monthly_cost=cost,
        first_month_quantity=None,
        first_month_cost=None,
        formula=row["formula"],
        verify=row["verify"],
        price_source=row["price_source"],
    )


def _per(price_unit: str) -> float:
    """How many units a version-1 `price_unit` label names: 'per 1,000,000 request' -> 1e6."""
    match = re.match(r"per ([\d,]+) ", price_unit)
    return float(match[1].replace(",", "")) if match else 1.0


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
        "schema_version": DIFF_SCHEMA_VERSION,
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


def _check(document: Any, kind: str, origin: str) -> int:
    """Validate `document` against its version's schema; the version."""
    if isinstance(document, dict) and document.get("kind", kind) != kind:
        raise EstimateFileError(f"{origin} is a {document['kind']!r} document; expected {kind!r}")
    version = document.get("schema_version") if isinstance(document, dict) else None
    readable = READABLE if kind == "estimate" else (DIFF_SCHEMA_VERSION,)
    if isinstance(version, int) and version not in readable:
        raise EstimateFileError(
            f"{origin} has schema_version {version}; this costmodel reads version "
            + " and ".join(str(v) for v in readable)
        )
    try:
        jsonschema.validate(document, schema(kind, version if isinstance(version, int) else None))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise EstimateFileError(
            f"{origin} is not a valid {kind} document: {where}: {exc.message}"
        ) from None
    return version
