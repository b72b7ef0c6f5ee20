"""Event JSON Schemas, where the deployment zip puts them: `schemas/<domain>/<DetailType>.json`."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMAS = Path(__file__).resolve().parent.parent.parent / "schemas"


class SchemaError(ValueError):
    """An event detail that does not match its schema, or an event type without one."""


@cache
def _validator(domain: str, detail_type: str) -> Draft202012Validator:
    path = SCHEMAS / domain / f"{detail_type}.json"
    if not path.is_file():
        raise SchemaError(
            f"no schema for {domain}/{detail_type} (looked for {path.name} in schemas/{domain}/)"
        )
    return Draft202012Validator(
        json.loads(path.read_text()), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def validate_detail(domain: str, detail_type: str, detail: Any) -> None:
    """Raise `SchemaError` naming the first offending field, e.g. `detail.customerEmail: ...`."""
    error = best_match(_validator(domain, detail_type).iter_errors(detail))
    if error is not None:
        where = ".".join(["detail", *map(str, error.absolute_path)])
        raise SchemaError(f"{detail_type}: {where}: {error.message}")
