"""costmodel.behaviour against the handler code it describes: a change in handlers/ that moves
the bill (an outcome, a metric, the hand-off event, an item's key) fails here first."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from hand_prices import handoff_event_bytes, powertools_emf_line, sample_event
from moto import mock_aws

from costmodel import behaviour
from handlers.catalog import HANDLERS

HANDLERS_DIR = Path(__file__).resolve().parents[2] / "handlers"


def outcomes_in_code(handler: str) -> set[str]:
    """Every `return Outcome.X` in the logic modules the handler module imports, plus the
    duplicate that every guard answers for a key it has seen."""
    tree = ast.parse((HANDLERS_DIR / f"{handler}.py").read_text())
    logic = [
        node.module for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("handlers.logic.")
    ]
    found = {"duplicate"}
    for module in logic:
        path = HANDLERS_DIR.parent / (module.replace(".", "/") + ".py")
        for node in ast.walk(ast.parse(path.read_text())):
            value = getattr(node, "value", None) if isinstance(node, ast.Return) else None
            if isinstance(value, ast.Attribute) and getattr(value.value, "id", None) == "Outcome":
                found.add(value.attr.lower())
    return found


CHOICES = [
    pytest.param(handler, spec, id=f"{handler}-{spec.choice.value if spec.choice else 'only'}")
    for handler, entry in sorted(HANDLERS.items())
    for spec in entry.choices
]


@pytest.mark.parametrize(("handler", "spec"), CHOICES)
def test_each_consumers_outcomes_are_those_its_code_returns(handler, spec):
    # The estimate counts one custom metric per outcome the catalogue states.
    assert set(spec.outcomes) == outcomes_in_code(handler)


@pytest.mark.parametrize(("handler", "spec"), CHOICES)
def test_the_metric_names_are_those_the_runtime_publishes(handler, spec):
    """Run the runtime's own publishing step with a recorder for metrics."""
    from handlers.runtime.consumer import _Runtime

    published: list[str] = []
    runtime = SimpleNamespace(
        logger=SimpleNamespace(info=lambda *a, **k: None, warning=lambda *a, **k: None),
        metrics=SimpleNamespace(
            add_metric=lambda name, unit, value, into=published: into.append(name),
            flush_metrics=lambda: None,
        ),
    )
    summary = {
        "records": 10, "outcomes": {o: 1 for o in spec.outcomes}, "failed": 0, "poison": 0,
        "skipped": 0, "failures": [],
    }
    _Runtime._publish(runtime, summary, None)
    assert published == list(spec.custom_metrics), handler


@pytest.mark.parametrize("records", [1, 6, 60, 600])
def test_the_emf_line_is_the_size_powertools_prints(records):
    for namespace, service in (("eda/prod", "orders-processor"), ("eda/dev", "payments-audit")):
        assert behaviour.emf_line_bytes(namespace, service, records) == powertools_emf_line(
            namespace, service, records
        )


def test_the_hand_off_is_the_event_the_fulfillment_handler_puts():
    from handlers.logic import handoff

    spec = behaviour.HANDOFFS["fulfillment"]
    assert (spec.detail_type, spec.schema_domain, spec.carried) == (
        handoff.FOLLOW_UP, handoff.FOLLOW_UP_DOMAIN, handoff.CARRIED_FIELDS
    )
    assert "event_bus" in HANDLERS["fulfillment"].needs
    for detail in ({"orderId": "o-1", "status": "SHIPPED"}, {"movementId": "m-1", "sku": "s", "quantity": 3}):
        trigger = sample_event("com.ascendion.orders", "OrderUpdated", detail)
        ours = behaviour.follow_up_event(trigger, spec, "com.ascendion.orders")
        assert behaviour.event_bytes(ours) == handoff_event_bytes(trigger, "com.ascendion.orders")


def dynamodb_table(calls: list[str]):
    """A moto table `t`, and its client recording every operation called on it in `calls`."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="t", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    return client


def test_the_order_processor_keeps_one_item_per_order():
    from handlers.logic import order_state
    from handlers.runtime.envelope import Incoming

    # one state item per order: the key names the order, not the event
    assert behaviour.ENTITY_STORES == {"order_processor": "order"}
    assert "o-1" in order_state.order_item_id("f", "o-1")
    with mock_aws():
        calls: list[str] = []
        client = dynamodb_table(calls)
        apply = order_state.applier(client=client, table="t", function_name="f", window_s=3_600)
        for version, detail_type in ((1, "OrderCreated"), (2, "OrderUpdated")):
            event = sample_event("com.ascendion.orders", detail_type, {"orderId": "o-1", "version": version})
            assert apply(Incoming(event=event, key=["o-1", version], message_id=str(version))) == "applied"
        items = client.scan(TableName="t")["Items"]
    assert [i["id"]["S"] for i in items] == [order_state.order_item_id("f", "o-1")]
    assert calls == ["UpdateItem", "UpdateItem", "Scan"]  # the scan is this test's


def test_no_item_is_written_by_every_event_of_a_kind():
    """Why capacity checks DynamoDB per table and not per partition key (costmodel/scale.py):
    analytics derives its counts from one guard item per event, so events of one type and day
    write items of their own (one write unit each), not a shared counter item."""
    from handlers.logic import daily_counters
    from handlers.runtime.envelope import Incoming

    with mock_aws():
        calls: list[str] = []  # put_item only: no transaction, no update of a counter
        client = dynamodb_table(calls)
        count = daily_counters.counter(client=client, table="t", function_name="f", window_s=3_600)
        for order in ("o-1", "o-2", "o-3"):
            event = sample_event("com.ascendion.orders", "OrderCreated", {"orderId": order})
            assert count(Incoming(event=event, key=[order, 1], message_id=order)) == "applied"
        written = [i["id"]["S"] for i in client.scan(TableName="t")["Items"]]
    assert calls == ["PutItem"] * 3 + ["Scan"]  # the scan is this test's
    assert len(written) == len(set(written)) == 3
    assert [spec.ddb_writes_per_event for spec in HANDLERS["analytics"].choices] == [1]
