"""The workload is generated from the event schemas and the consumers' keys, for any domain.

No cloud here: these check the plan itself (schema validity, entity chains, volumes, routing).
"""

from __future__ import annotations

import json
import random
import re
import shutil
from collections import Counter, defaultdict
from types import SimpleNamespace

import pytest
from jsonschema import Draft202012Validator

from localcloud.flow import routed_to
from localcloud.schema_samples import SampleError, Sampler
from localcloud.workload import POISON_FIELD, Ledger, Mix, plan
from settings.load import (
    SCHEMAS_VARIABLE,
    from_stack_file,
    parse,
    schema_path,
    schema_root,
    stack_values,
)

STACKS = ["local", "dev", "prod"]


def validators(config) -> dict[tuple[str, str], Draft202012Validator]:
    """As the handlers validate (handlers/runtime/schemas.py): 2020-12, formats checked."""
    return {
        (name, detail_type): Draft202012Validator(
            json.loads(schema_path(name, detail_type).read_text()),
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        for name, domain in config.domains.items()
        for detail_type in domain.event_types
    }


def assert_valid(config, planned) -> None:
    checks = validators(config)
    for p in planned:
        errors = [e.message for e in checks[(p.domain, p.detail_type)].iter_errors(p.detail)]
        if p.poison:
            assert errors, f"poison {p.detail_type} is schema-valid: {p.detail}"
        else:
            assert not errors, f"{p.detail_type} {p.detail}: {errors}"


def chains(planned, domain: str, id_field: str, step_field: str) -> dict[str, list]:
    """Per entity id, its (type, version) in plan order."""
    found = defaultdict(list)
    for p in planned:
        if p.domain == domain:
            found[p.detail[id_field]].append((p.detail_type, p.detail[step_field]))
    return found


@pytest.fixture(scope="module")
def plans():
    return {stack: (config := from_stack_file(stack), plan(config, Mix())) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_every_detail_validates_against_its_schema(plans, stack):
    config, planned = plans[stack]
    assert_valid(config, planned)
    assert sum(p.poison for p in planned) == round(len(planned) * Mix().poison)
    assert all(POISON_FIELD in p.detail for p in planned if p.poison)


@pytest.mark.parametrize("path", sorted(schema_root().glob("*/*.json")), ids=lambda p: p.stem)
def test_every_shipped_schema_yields_valid_details(path):
    schema = json.loads(path.read_text())
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    sampler = Sampler(schema, path.name)
    rng = random.Random(3)
    for index in range(50):
        detail = sampler.detail(rng, index)
        assert not list(validator.iter_errors(detail)), detail


def test_the_plan_is_reproducible_for_a_seed():
    config = from_stack_file("local")
    assert plan(config, Mix(seed=5)) == plan(config, Mix(seed=5))
    assert plan(config, Mix(seed=5)) != plan(config, Mix(seed=6))


def test_counts_are_proportional_to_the_volumes(plans):
    config, planned = plans["local"]
    volumes = {
        t: e.monthly_volume for d in config.domains.values() for t, e in d.event_types.items()
    }
    total = sum(volumes.values())
    counts = Counter(p.detail_type for p in planned)
    assert counts == {t: max(1, round(2_000 * v / total)) for t, v in volumes.items()}
    assert counts["InventoryReconcileRequested"] == 1  # 30 a month still gets its one event


@pytest.mark.parametrize("stack", STACKS)
def test_an_order_is_created_then_updated_in_increasing_versions(plans, stack):
    _, planned = plans[stack]
    orders = chains(planned, "orders", "orderId", "version")
    for order, steps in orders.items():
        assert steps[0] == ("OrderCreated", 1), f"{order} starts with {steps[0]}"
        assert [v for _, v in steps] == list(range(1, len(steps) + 1)), order
        assert all(t == "OrderUpdated" for t, _ in steps[1:]), order
    assert max(len(s) for s in orders.values()) >= 3  # updates chain onto updates


@pytest.mark.parametrize("stack", STACKS)
def test_a_payment_s_steps_are_sequenced_in_the_declared_type_order(plans, stack):
    config, planned = plans[stack]
    declared = list(config.domains["payments"].event_types)
    for payment, steps in chains(planned, "payments", "paymentId", "sequence").items():
        assert [s for _, s in steps] == list(range(1, len(steps) + 1)), payment
        assert [t for t, _ in steps] == declared[: len(steps)], payment


def test_a_movement_key_is_fresh_in_every_event(plans):
    _, planned = plans["local"]
    movements = [p.detail["movementId"] for p in planned if p.domain == "inventory"]
    assert len(set(movements)) == len(movements)


@pytest.mark.parametrize("stack", STACKS)
def test_every_consumer_is_routed_events(plans, stack):
    config, planned = plans[stack]
    cloud, ledger = SimpleNamespace(config=config), Ledger(events=planned)
    for domain_name, domain in config.domains.items():
        for consumer_name in domain.consumers:
            routed = routed_to(cloud, domain_name, consumer_name, ledger)
            routed = [p for p in routed if not p.poison]
            assert routed, f"{stack}: {domain_name}/{consumer_name} is routed no event"


SHIPMENT_CREATED = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["shipmentId", "version", "orderId", "carrier", "createdAt"],
    "additionalProperties": False,
    "properties": {
        # Ids of another shape than `<field>-000123`: drawn from the pattern, still distinct.
        "shipmentId": {"type": "string", "pattern": "^SHP[0-9]{6}$"},
        "version": {"type": "integer", "const": 1},
        "orderId": {"type": "string", "minLength": 1},
        "carrier": {"type": "string", "enum": ["DHL", "UPS", "FEDEX"]},
        "createdAt": {"type": "string", "format": "date-time"},
        "labels": {"type": "array", "minItems": 2, "items": {"type": "string", "format": "uuid"}},
        "dimensions": {
            "type": "object",
            "required": ["weightKg"],
            "additionalProperties": False,
            "properties": {"weightKg": {"type": "number", "exclusiveMinimum": 0, "maximum": 30}},
        },
    },
}
SHIPMENT_DELIVERED = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["shipmentId", "version", "deliveredAt"],
    "additionalProperties": False,
    "properties": {
        "shipmentId": {"type": "string", "pattern": "^SHP[0-9]{6}$"},
        "version": {"type": "integer", "minimum": 2},
        "deliveredAt": {"type": "string", "format": "date-time"},
        "signedBy": {"type": "string", "format": "email"},
        "deliveredOn": {"type": "string", "format": "date"},
    },
}


@pytest.fixture
def shipping(tmp_path, monkeypatch):
    """The local stack plus a `shipping` domain declared only by its schema files and config."""
    schemas = tmp_path / "schemas"
    shutil.copytree(schema_root(), schemas)
    monkeypatch.setenv(SCHEMAS_VARIABLE, str(schemas))

    def stack(created: dict = SHIPMENT_CREATED, delivered: dict = SHIPMENT_DELIVERED):
        (schemas / "shipping").mkdir(exist_ok=True)
        (schemas / "shipping" / "ShipmentCreated.json").write_text(json.dumps(created))
        (schemas / "shipping" / "ShipmentDelivered.json").write_text(json.dumps(delivered))
        values = stack_values("local")
        values["eda-platform:domains"]["shipping"] = {
            "source": "com.ascendion.shipping",
            "event_types": {
                "ShipmentCreated": {"monthly_volume": 100_000},
                "ShipmentDelivered": {"monthly_volume": 90_000},
            },
            "consumers": {
                "tracking": {
                    "handler": "analytics",
                    "subscribe": {"detail_types": ["ShipmentCreated", "ShipmentDelivered"]},
                    "idempotency_key": "[detail.shipmentId, detail.version]",
                }
            },
        }
        return parse(values, stack="local", origin="test")

    return stack


def test_a_domain_declared_only_by_files_gets_valid_chained_events(shipping):
    config = shipping()
    planned = plan(config, Mix(poison=0))
    assert_valid(config, planned)
    mine = [p for p in planned if p.domain == "shipping"]
    counts = Counter(p.detail_type for p in mine)
    assert 0 < counts["ShipmentDelivered"] < counts["ShipmentCreated"]
    shipments = chains(planned, "shipping", "shipmentId", "version")
    assert len(shipments) == counts["ShipmentCreated"]
    for shipment, steps in shipments.items():
        assert steps[0] == ("ShipmentCreated", 1), shipment
        assert steps[1:] in ([], [("ShipmentDelivered", 2)]), shipment
    assert {p.detail["carrier"] for p in mine if "carrier" in p.detail} == {"DHL", "UPS", "FEDEX"}
    assert any("dimensions" in p.detail for p in mine) and any("labels" in p.detail for p in mine)
    assert any("signedBy" not in p.detail for p in mine if p.detail_type == "ShipmentDelivered")
    cloud, ledger = SimpleNamespace(config=config), Ledger(events=planned)
    assert len(routed_to(cloud, "shipping", "tracking", ledger)) == len(mine)


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ({"type": "string", "pattern": "^[0-9]{3}$", "maxLength": 2}, "maxLength 2"),
        ({"type": "string", "pattern": "^(DHL|UPS)$"}, "not '('"),
        ({"type": "string", "pattern": "^\\bx$"}, "unsupported escape \\b"),
        ({"type": "string", "pattern": "^[^a-zA-Z0-9_.:~-]$"}, "leaves no character"),
    ],
)
def test_an_unsatisfiable_pattern_names_the_schema_field_and_pattern(shipping, field, reason):
    created = json.loads(json.dumps(SHIPMENT_CREATED))
    created["properties"]["dimensions"]["properties"]["code"] = field
    created["properties"]["dimensions"]["required"].append("code")
    config = shipping(created=created)
    with pytest.raises(SampleError) as caught:
        plan(config, Mix())
    message = str(caught.value)
    assert "shipping/ShipmentCreated" in message and "ShipmentCreated.json" in message
    assert "detail.dimensions.code" in message and repr(field["pattern"]) in message
    assert reason in message


def test_a_keyword_the_generator_does_not_cover_fails_naming_the_field(shipping):
    created = json.loads(json.dumps(SHIPMENT_CREATED))
    created["properties"]["orderId"] = {"type": "string", "not": {"minLength": 1}}
    with pytest.raises(SampleError, match=r"shipping/ShipmentCreated .*: detail\.orderId: "):
        plan(shipping(created=created), Mix())


@pytest.mark.parametrize(
    ("pattern", "min_length", "max_length"),
    [
        ("^[A-Z]{3}$", 0, None),
        ("^[0-9a-f]{64}$", 0, None),
        ("^ord-\\d{4,6}$", 0, None),
        ("^[a-z]+\\.[a-z]{2,}$", 0, 12),
        ("[A-Z]", 5, None),
        ("^x?[^0-9]*$", 4, 6),
    ],
)
def test_simple_patterns_are_matched(pattern, min_length, max_length):
    node = {"type": "string", "pattern": pattern, "minLength": min_length}
    if max_length is not None:
        node["maxLength"] = max_length
    sampler = Sampler({"type": "object", "required": ["f"], "properties": {"f": node}}, "t")
    rng = random.Random(1)
    for index in range(30):
        value = sampler.detail(rng, index)["f"]
        assert re.search(pattern, value) and min_length <= len(value) <= (max_length or 999), value
