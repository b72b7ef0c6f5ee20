"""handlers/catalog.py is what the program and the cost model read: it must match the handlers."""

from __future__ import annotations

import importlib

import pytest
from handler_kit import SCENARIOS, failed_ids, invoke

from handlers.catalog import HANDLERS


def test_every_catalogued_handler_has_a_scenario():
    assert sorted(HANDLERS) == sorted(s.name for s in SCENARIOS)


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_module_is_the_catalogued_consumer(name):
    """The module's consumer takes its duplicate guard from its own catalogue entry."""
    module = importlib.import_module(f"handlers.{name}")
    assert module.CONSUMER.name == name
    assert module.CONSUMER.idempotency == HANDLERS[name].idempotency
    assert callable(module.handler)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_measured_write_units_match_the_catalogue(scenario, cloud, meter):
    scenario.prepare(cloud)
    env = scenario.env(cloud)
    event = scenario.event()
    assert failed_ids(invoke(scenario.module, env, scenario.record(event))) == []
    assert meter.units == HANDLERS[scenario.name].ddb_writes_per_event

    meter.reset()
    assert (
        failed_ids(invoke(scenario.module, env, scenario.record({**event, "id": "re-sent"}))) == []
    )
    assert meter.units == HANDLERS[scenario.name].ddb_writes_per_duplicate
