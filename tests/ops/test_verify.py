"""`python -m ops verify` against the emulated local stack: every declared route delivers its
canary; a broken route is reported failed, with the reason, and the command exits 1."""

from __future__ import annotations

import json
import threading

import pytest

from localcloud.emulator import LocalCloud
from ops.__main__ import main
from ops.routes import routes
from ops.verify import Clients, verify


@pytest.fixture(scope="module")
def cloud():
    with LocalCloud("local") as local:
        yield local


def clients(cloud) -> Clients:
    session = cloud.session
    return Clients(cloud.events, session.client("dynamodb"), cloud.sqs, session.client("cloudwatch"))


def run(cloud, **kwargs):
    return verify(
        cloud.config, cloud.deployment.exports, clients(cloud),
        timeout_s=60, poll_s=0.05, pump=cloud.settle, **kwargs,
    )


def by_route(results):
    return {r.route.name: r for r in results}


def test_routes_cover_every_consumer_rule_topic_and_schedule(cloud):
    names = {r.name for r in routes(cloud.config)}
    config = cloud.config
    for domain_name, domain in config.domains.items():
        for consumer_name, consumer in domain.consumers.items():
            via = f"topic {consumer.subscribe.topic}" if consumer.subscribe.topic else (
                "pipe" if consumer.queue.message_group_path else "rule")
            assert f"{domain_name}/{consumer_name} via {via}" in names
    assert "inventory/fulfillment via schedule nightly-reconcile" in names


def test_every_route_of_the_local_stack_delivers_and_nothing_is_applied(cloud):
    results = run(cloud)
    failed = {r.route.name: r.problems for r in results if not r.delivered}
    assert failed == {}
    assert all(r.latency_s is not None and r.latency_s >= 0 for r in results)
    # Canaries leave no business effect: no order state, no archive object.
    items = cloud.session.client("dynamodb").scan(TableName=cloud.deployment.exports["idempotency_table"])["Items"]
    assert all("#canary#" in i["id"]["S"] for i in items)


def test_a_queue_policy_that_no_longer_admits_the_rule_fails_its_route(cloud):
    url = cloud.deployment.exports["orders"]["ingress_urls"]["processor"]
    policy = cloud.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    cloud.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    try:
        result = by_route(run(cloud))["orders/processor via rule"]
    finally:
        cloud.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    assert not result.delivered
    assert any("does not admit rule local-orders-processor" in p for p in result.problems)


def test_a_rule_without_its_target_fails_with_where_the_canary_stopped(cloud):
    exports = cloud.deployment.exports["inventory"]
    rule, bus = exports["rule_names"]["fulfillment"], exports["bus_name"]
    (target,) = cloud.events.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"]
    cloud.events.remove_targets(Rule=rule, EventBusName=bus, Ids=[target["Id"]])
    try:
        results = verify(cloud.config, cloud.deployment.exports, clients(cloud),
                         timeout_s=3, poll_s=0.05, pump=cloud.settle)
    finally:
        cloud.events.put_targets(Rule=rule, EventBusName=bus, Targets=[target])
    result = by_route(results)["inventory/fulfillment via rule"]
    assert not result.delivered
    assert f"rule {rule} has no target: every matching event is dropped" in result.problems
    assert "no receipt within 3 s" in result.problems
    assert any("not in any DLQ" in p for p in result.problems)
    others = [r for r in results if not r.route.name.startswith("inventory/")]
    assert all(r.delivered for r in others)


def test_the_command_against_the_emulator_endpoint(cloud, tmp_path, capsys):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(cloud.deployment.exports))
    code: list[int] = []
    argv = ["verify", "--stack", "local", "--outputs", str(outputs),
            "--endpoint-url", cloud.server.endpoint, "--emulator", "--timeout", "60"]
    worker = threading.Thread(target=lambda: code.append(main(argv)))
    worker.start()
    while worker.is_alive():  # the emulator's Lambda pollers run in this thread
        cloud.settle()
        worker.join(0.05)
    out = capsys.readouterr().out
    assert code == [0], out
    assert f"{len(routes(cloud.config))} of {len(routes(cloud.config))} routes delivered" in out
