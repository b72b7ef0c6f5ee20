"""The cost floor (costmodel.floor) on the shipped dev stack: never above the model, and each
thing the floor does without (the KMS key, the SNS hop, custom metrics) gone from it."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from costmodel.estimate import load_model
from costmodel.floor import compare, dlq_depth_alarms, floor_model
from handlers.catalog import CUSTOM_METRICS_VARIABLE, spec_for


@pytest.fixture(scope="module")
def dev():
    return load_model("dev")


@pytest.fixture(scope="module")
def comparison(dev):
    return compare(dev)


def lines(estimate, **match):
    return [i for i in estimate.items if all(getattr(i, k) == v for k, v in match.items())]


def test_floor_is_at_most_the_model_per_service(comparison):
    by_service = comparison.by_service()
    assert (by_service.floor <= by_service.modelled * (1 + 1e-9)).all(), by_service
    assert 0 < comparison.floor.total < comparison.modelled.total
    assert comparison.ratio == pytest.approx(comparison.modelled.total / comparison.floor.total)


def test_no_kms_key_or_requests(dev, comparison):
    assert dev.topology.customer_keys  # dev has the platform key: the model prices it
    assert lines(comparison.modelled, service="KMS")
    assert not lines(comparison.floor, service="KMS")


def test_no_sns_hop_but_notifications_at_list_price(comparison):
    hop = "publishes (from EventBridge)"
    assert lines(comparison.modelled, service="SNS", component=hop)
    assert not lines(comparison.floor, service="SNS", component=hop)
    assert not lines(comparison.floor, service="SNS", component="deliveries to SQS (free)")
    notify = "notification publishes"
    assert [i.monthly_cost for i in lines(comparison.floor, component=notify)] == [
        i.monthly_cost for i in lines(comparison.modelled, component=notify)
    ]


def test_only_dlq_depth_alarms(dev, comparison):
    (alarms,) = lines(comparison.floor, service="CloudWatch", component="alarms")
    (modelled,) = lines(comparison.modelled, service="CloudWatch", component="alarms")
    names = dlq_depth_alarms(dev.topology)
    assert alarms.quantity == len(names) < modelled.quantity
    assert all(name.endswith("-depth") and "dlq" in name for name in names)
    assert not [n for n in names if "order-lifecycle" in n]  # the SNS hop's DLQ goes with it


def test_one_conditional_write_per_delivery_and_no_reads(dev, comparison):
    assert not lines(comparison.floor, price_item="dynamodb.ondemand.read")
    batch = {q.function.name: q.batch_size for q in dev.topology.queues.values() if q.function}
    writes = lines(comparison.floor, price_item="dynamodb.ondemand.write")
    # every consumer but the ones archiving to S3 (the audit logger)
    expected = [c for d in dev.config.domains.values() for c in d.consumers.values()
                if spec_for(c.handler, c.environment).idempotency != "s3-conditional-put"]  # fmt: skip
    assert len(writes) == len(expected)
    for item in writes:
        # one write per delivery: the function's invocations × a full batch (standard queues)
        (requests,) = lines(comparison.floor, resource=item.resource, component="requests")
        assert item.quantity == pytest.approx(requests.quantity * batch[item.resource])


def test_custom_metrics_removed(dev):
    variant = dataclasses.replace(dev, topology=copy.deepcopy(dev.topology))
    for function in variant.topology.functions.values():
        function.environment[CUSTOM_METRICS_VARIABLE] = "on"
    modelled = variant.estimate()
    assert lines(modelled, component="custom metrics (EMF)")
    floor = floor_model(variant).estimate()
    assert not lines(floor, component="custom metrics (EMF)")
    # with metrics off everywhere, the floor is the same whatever the stack publishes (the
    # EMF line in the logs goes too)
    assert floor.total == pytest.approx(floor_model(dev).estimate().total)
    assert floor.total < modelled.total


def test_untouched_lines_are_the_models(comparison):
    for service in ("EventBridge", "EventBridge Pipes", "S3"):
        floor, modelled = (
            [(i.resource, i.component, i.monthly_cost) for i in lines(estimate, service=service)]
            for estimate in (comparison.floor, comparison.modelled)
        )
        assert floor == modelled
