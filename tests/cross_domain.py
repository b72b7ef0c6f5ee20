"""A stack whose consumers also read another domain (`also_from`), for the tests of every layer.

A `shipping` domain, declared after the domains that read it, feeds two consumers declared
elsewhere: orders' analytics (a topic subscriber on a standard queue) takes ShipmentDelivered,
and payments' audit (per-entity FIFO, through its staging queue and pipe) takes
ShippingFeeCharged. Its schemas are written into a temporary tree with copies of the repository's
(`schema_tree`), named by EDA_SCHEMAS_DIR, so nothing in schemas/ is needed or written.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from settings.load import PROJECT, ROOT, SCHEMAS_VARIABLE

DOMAINS = f"{PROJECT}:domains"
SHIPPING_SOURCE = "com.ascendion.shipping"
DELIVERED_VOLUME = 100_000
FEE_VOLUME = 20_000

SHIPPING_SCHEMAS = {
    "ShipmentDelivered": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ShipmentDelivered",
        "description": "An order's parcel reached the customer; version is the order's.",
        "type": "object",
        "required": ["shipmentId", "orderId", "version", "deliveredAt"],
        "additionalProperties": False,
        "properties": {
            "shipmentId": {"type": "string", "minLength": 1},
            "orderId": {"type": "string", "minLength": 1, "maxLength": 64},
            "version": {"type": "integer", "minimum": 1},
            "carrier": {"type": "string"},
            "deliveredAt": {"type": "string", "format": "date-time"},
        },
    },
    "ShippingFeeCharged": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ShippingFeeCharged",
        "description": "A shipping fee charged on a payment, as one more step of that payment.",
        "type": "object",
        "required": ["paymentId", "sequence", "orderId", "amount", "currency", "occurredAt"],
        "additionalProperties": False,
        "properties": {
            "paymentId": {"type": "string", "minLength": 1, "maxLength": 64},
            "sequence": {"type": "integer", "minimum": 1},
            "orderId": {"type": "string", "minLength": 1},
            "amount": {"type": "number", "minimum": 0},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "occurredAt": {"type": "string", "format": "date-time"},
        },
    },
}

SHIPPING = {
    "source": SHIPPING_SOURCE,
    "event_types": {
        "ShipmentDelivered": {"monthly_volume": DELIVERED_VOLUME, "avg_size_bytes": 400},
        "ShippingFeeCharged": {"monthly_volume": FEE_VOLUME, "avg_size_bytes": 400},
    },
}
ANALYTICS_ALSO_FROM = {"shipping": {"detail_types": ["ShipmentDelivered"]}}
AUDIT_ALSO_FROM = {"shipping": {"detail_types": ["ShippingFeeCharged"]}}


def schema_tree(root: Path) -> Path:
    """The repository's schemas and shipping's, under `root`; returns `root`."""
    shutil.copytree(ROOT / "schemas", root, dirs_exist_ok=True)
    (root / "shipping").mkdir(exist_ok=True)
    for detail_type, schema in SHIPPING_SCHEMAS.items():
        (root / "shipping" / f"{detail_type}.json").write_text(json.dumps(schema, indent=2))
    return root


@contextmanager
def shipping_schemas(root: Path) -> Iterator[Path]:
    """While open, every layer reads its schemas (EDA_SCHEMAS_DIR) from `schema_tree(root)`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SCHEMAS_VARIABLE, str(schema_tree(root)))
        yield root


def with_shipping(values: dict[str, Any]) -> dict[str, Any]:
    """Namespaced stack values (structured, not JSON strings) plus shipping, read by orders'
    analytics and payments' audit."""
    values = copy.deepcopy(values)
    domains = values[DOMAINS]
    domains["shipping"] = copy.deepcopy(SHIPPING)
    # A consumer reading two domains keys on `source` too: two producers' ids may coincide.
    analytics = domains["orders"]["consumers"]["analytics"]
    analytics["also_from"] = copy.deepcopy(ANALYTICS_ALSO_FROM)
    analytics["idempotency_key"] = "[source, detail.orderId, detail.version]"
    audit = domains["payments"]["consumers"]["audit"]
    audit["also_from"] = copy.deepcopy(AUDIT_ALSO_FROM)
    audit["idempotency_key"] = "[source, detail.paymentId, detail.sequence]"
    return values


def without_domains(domains: dict[str, Any], gone: set[str]) -> dict[str, Any]:
    """Stack-file domains (structured) without `gone`, and without the feeds others take from
    them (`also_from`), so what is left still loads."""
    kept = copy.deepcopy({name: domain for name, domain in domains.items() if name not in gone})
    for domain in kept.values():
        for consumer in domain.get("consumers", {}).values():
            for name in gone & set(consumer.get("also_from", {})):
                del consumer["also_from"][name]
    return kept


def as_cli(values: dict[str, Any]) -> dict[str, str]:
    """Values as the CLI passes them to the program: structured ones as JSON strings."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def from_cli(values: dict[str, str]) -> dict[str, Any]:
    return {k: json.loads(v) if k.startswith(f"{PROJECT}:") else v for k, v in values.items()}
