"""handlers/catalog.py is what the program and the cost model read: it must match the handlers.

Every figure of every choice is measured: DynamoDB capacity units from the sizes of the items
actually written (the meter reads each item before and after the write) and S3 requests by
operation, for a batch of new events and for the same batch re-sent.
"""

from __future__ import annotations

import importlib
import typing

import pytest
from handler_kit import ALL_SCENARIOS, SCENARIOS, DynamoMeter, failed_ids, invoke, item_bytes

from handlers.catalog import (
    CUSTOM_METRICS_DEFAULT,
    HANDLERS,
    Delivery,
    HandlerSpec,
    spec_for,
)
from handlers.observation import observer_for
from handlers.runtime.guards import Outcome

BATCH = 3


def test_every_catalogued_handler_and_choice_has_a_scenario():
    assert sorted(HANDLERS) == sorted(s.name for s in SCENARIOS)
    assert sorted((s.name, repr(s.spec.choice)) for s in ALL_SCENARIOS) == sorted(
        (name, repr(spec.choice)) for name, entry in HANDLERS.items() for spec in entry.choices
    )


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_module_is_the_catalogued_consumer(name):
    """The module's consumer takes its duplicate guard from its own catalogue entry."""
    module = importlib.import_module(f"handlers.{name}")
    assert module.CONSUMER.name == name
    assert module.CONSUMER.idempotency == HANDLERS[name].idempotency
    assert callable(module.handler)


@pytest.mark.parametrize("scenario", ALL_SCENARIOS, ids=lambda s: s.id)
def test_measured_capacity_and_requests_match_the_catalogue(scenario, cloud, meter, s3_meter):
    scenario.prepare(cloud)
    env = scenario.env(cloud)
    spec = scenario.spec
    events = scenario.events(BATCH)
    assert failed_ids(invoke(scenario.module, env, *map(scenario.record, events))) == []
    assert meter.units == BATCH * spec.ddb_writes_per_event
    assert meter.read_units == BATCH * spec.ddb_reads_per_event
    assert s3_meter.calls["PutObject"] == BATCH * spec.s3_puts_per_event + spec.s3_puts_per_batch
    assert s3_meter.calls["HeadObject"] == 0
    assert meter.largest_item < 1024

    meter.reset()
    s3_meter.reset()
    resent = [scenario.record({**e, "id": f"re-sent-{i}"}) for i, e in enumerate(events)]
    assert failed_ids(invoke(scenario.module, env, *resent)) == []
    assert meter.units == BATCH * spec.ddb_writes_per_duplicate
    assert meter.read_units == BATCH * spec.ddb_reads_per_duplicate
    assert (
        s3_meter.calls["PutObject"] == BATCH * spec.s3_puts_per_duplicate + spec.s3_puts_per_batch
    )
    assert s3_meter.calls["HeadObject"] == BATCH * spec.s3_heads_per_duplicate


def test_the_meter_prices_by_size_and_refuses_what_it_does_not_know(cloud):
    """The figures above are only as exact as the meter: check it on known items."""
    assert item_bytes({"id": {"S": "abc"}}) == 2 + 3
    assert item_bytes({"n": {"N": "12345"}}) == 1 + 1 + 3  # 1 byte + 1 per two digits
    meter = DynamoMeter()
    from handlers.runtime import aws

    client = aws.client("dynamodb")
    client.put_item(
        TableName="platform-idempotency", Item={"id": {"S": "a"}, "b": {"S": "x" * 1500}}
    )
    assert meter.units == 2, "1.5 KB: two write units"
    client.get_item(TableName="platform-idempotency", Key={"id": {"S": "a"}})
    assert meter.read_units == 0.5, "eventually consistent, under 4 KB"
    with pytest.raises(AssertionError, match="does not price BatchWriteItem"):
        client.batch_write_item(RequestItems={})


@pytest.mark.parametrize(
    "spec", [s for entry in HANDLERS.values() for s in entry.choices], ids=repr
)
def test_every_choice_declares_its_delivery_semantics(spec: HandlerSpec):
    assert spec.delivery in typing.get_args(Delivery)
    assert len(spec.delivery_reason) > 80
    assert set(spec.outcomes) <= {o.value for o in Outcome}
    assert spec.custom_metrics[0] == "Records" and len(set(spec.custom_metrics)) == len(
        spec.custom_metrics
    )


@pytest.mark.parametrize(
    ("name", "spec"), [(n, s) for n, entry in HANDLERS.items() for s in entry.choices], ids=repr
)
def test_every_choice_names_its_side_effect_and_where_to_observe_it(name: str, spec: HandlerSpec):
    """The emulator fails `effect` calls to inject a failing dependency, and the flow check reads
    the effect back with `observer`: a new handler plugs in through these two declarations."""
    services = {"dynamodb", "s3", "sns", "ses", "events"}
    assert spec.effect and all(service in services and op[:1].isupper() for service, op in spec.effect)
    environment = {spec.choice.variable: spec.choice.value} if spec.choice else {}
    assert callable(observer_for(name, environment))


def test_a_functions_environment_selects_its_entry():
    assert spec_for("fulfillment", {}) is HANDLERS["fulfillment"]
    powertools = spec_for("fulfillment", {"IDEMPOTENCY_GUARD": "powertools"})
    assert (powertools.idempotency, powertools.ddb_writes_per_event) == ("powertools", 2)
    assert spec_for("audit_logger", {"ARCHIVE_OBJECTS": "per-event"}).s3_puts_per_event == 1
    assert spec_for("analytics", {"IDEMPOTENCY_GUARD": "powertools"}) is HANDLERS["analytics"]
    with pytest.raises(ValueError, match="IDEMPOTENCY_GUARD='none'; allowed: powertools, "):
        spec_for("notification_sender", {"IDEMPOTENCY_GUARD": "none"})
    assert CUSTOM_METRICS_DEFAULT == "off"
