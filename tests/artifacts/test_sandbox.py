"""The consumers as Lambda loads them: the code archive's files, the layer, the runtime's SDK."""

from __future__ import annotations

import json
from importlib.metadata import distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from handlers.catalog import HANDLERS
from offline.artifacts import Sandbox

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
ORDER_CREATED = {
    "orderId": "o-1",
    "version": 1,
    "customerId": "c-1",
    "customerEmail": "ada@example.com",
    "items": [{"sku": "sku-1", "quantity": 1, "unitPrice": 9.5}],
    "total": 9.5,
    "currency": "EUR",
    "createdAt": "2026-03-01T10:00:00Z",
}
FORMATS_PROBE = """
import json
from jsonschema import Draft202012Validator
print(json.dumps(sorted(Draft202012Validator.FORMAT_CHECKER.checkers)))
"""


def run(sandbox: Sandbox, source: str) -> str:
    done = sandbox.run(source)
    assert done.returncode == 0, done.stderr
    return done.stdout


def used_formats() -> set[str]:
    def walk(node) -> set[str]:
        if isinstance(node, dict):
            found = {node["format"]} if isinstance(node.get("format"), str) else set()
            return found.union(*map(walk, node.values()))
        if isinstance(node, list):
            return set().union(*map(walk, node))
        return set()

    return set().union(*(walk(json.loads(p.read_text())) for p in SCHEMAS.rglob("*.json")))


def format_packages(layer: Path) -> set[str]:
    """The layer's distributions that jsonschema's format extras name."""
    site = str(layer / "python")
    (jsonschema,) = [d for d in distributions(path=[site]) if d.metadata["Name"] == "jsonschema"]
    extras = [Requirement(line) for line in jsonschema.requires or []]
    named = {
        canonicalize_name(r.name)
        for r in extras
        if r.marker and any(r.marker.evaluate({"extra": e}) for e in ("format", "format-nongpl"))
    }
    return named & {canonicalize_name(d.metadata["Name"]) for d in distributions(path=[site])}


def checked_formats(sandbox: Sandbox) -> set[str]:
    return set(json.loads(run(sandbox, FORMATS_PROBE)))


def test_sandbox_sees_no_site_packages(sandbox):
    path = json.loads(run(sandbox, "import json, sys; print(json.dumps(sys.path))"))
    assert path[:3] == sandbox.path
    assert not [p for p in path[3:] if "site-packages" in p or "dist-packages" in p]


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_entry_point_imports(sandbox, name):
    run(sandbox, f"import handlers.{name}")


def test_every_schema_format_is_checked(sandbox):
    assert used_formats()
    assert used_formats() <= checked_formats(sandbox)


def test_bad_date_time_is_rejected(sandbox):
    probe = f"""
from handlers.runtime.schemas import SchemaError, validate_detail
detail = {ORDER_CREATED!r}
validate_detail("orders", "OrderCreated", detail)
try:
    validate_detail("orders", "OrderCreated", {{**detail, "createdAt": "not-a-date"}})
except SchemaError as error:
    print(error)
"""
    assert "detail.createdAt: 'not-a-date' is not a 'date-time'" in run(sandbox, probe)


def test_missing_dependency_fails_the_import_naming_it(without):
    done = without("aws-lambda-powertools").run("import handlers.order_processor")
    assert done.returncode != 0
    assert "ModuleNotFoundError: No module named 'aws_lambda_powertools'" in done.stderr


def test_each_format_package_checks_a_format_the_schemas_use(host_layer, sandbox, without):
    # jsonschema registers a format only when its package imports: without rfc3339-validator,
    # "date-time" is not checked and "not-a-date" passes silently. The reverse matters too: no
    # format package rides along that no schema needs.
    packages = format_packages(host_layer)
    assert "rfc3339-validator" in packages
    for name in packages:
        lost = checked_formats(sandbox) - checked_formats(without(name))
        assert lost & used_formats(), f"{name} checks no format that schemas/ uses"
