"""`also_from` under Pulumi mocks: one more rule on the other domain's bus, targeting the consumer's
queue (or staging queue) like every rule; the queue admits it; nothing that exists changes but the
policies that must admit the new rules."""

from __future__ import annotations

import json

import pytest

import offline.__main__ as offline_cli
from offline.program import run, stack_config
from tests.cross_domain import DOMAINS, as_cli, from_cli, shipping_schemas, with_shipping

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
QUEUE = "aws:sqs/queue:Queue"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@pytest.fixture(scope="module", autouse=True)
def schemas(tmp_path_factory):
    with shipping_schemas(tmp_path_factory.mktemp("schemas")):
        yield


def dev_with_shipping(read: bool = True) -> dict:
    """dev with shipping; without `read`, its readers do not read it (their keys stay)."""
    values = with_shipping(from_cli(stack_config("dev")))
    if not read:
        for consumer in ("orders", "analytics"), ("payments", "audit"):
            values[DOMAINS][consumer[0]]["consumers"][consumer[1]].pop("also_from")
    return values


@pytest.fixture(scope="module")
def inventory():
    return run("dev", config=as_cli(dev_with_shipping()))


def by_name(inventory, type_):
    return {r.inputs["name"]: r for r in inventory.of_type(type_)}


def queue_arn(inventory, name):
    return by_name(inventory, QUEUE)[name].outputs["arn"]


def admitted(inventory, policy_name, service):
    statements = json.loads(inventory.named(policy_name).inputs["policy"])["Statement"]
    return [
        arn
        for s in statements
        if s["Effect"] == "Allow" and s["Principal"] == {"Service": service}
        for arn in s["Condition"]["ArnEquals"]["aws:SourceArn"]
    ]


def test_the_rule_is_on_the_other_domains_bus_with_its_pattern_and_the_readers_tags(inventory):
    rule = by_name(inventory, RULE)["dev-shipping-orders-analytics"]
    assert rule.inputs["eventBusName"] == "dev-shipping"
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["com.ascendion.shipping"],
        "detail-type": ["ShipmentDelivered"],
    }
    # It exists for orders' analytics: tagged as its queue and function are.
    assert rule.inputs["tags"] == {
        "eda:project": "eda-platform", "eda:stack": "dev",
        "eda:domain": "orders", "eda:consumer": "analytics",
    }
    assert rule.name == "shipping-routing-rule-orders-analytics"  # a child of shipping's routing


def test_the_target_is_the_consumers_queue_with_retries_and_the_buses_delivery_dlq(inventory):
    target = inventory.named("shipping-routing-target-orders-analytics")
    assert target.inputs["rule"] == "dev-shipping-orders-analytics"
    assert target.inputs["eventBusName"] == "dev-shipping"
    assert target.inputs["arn"] == queue_arn(inventory, "dev-orders-analytics")
    assert target.inputs["retryPolicy"] == {"maximumEventAgeInSeconds": 86_400, "maximumRetryAttempts": 185}
    assert target.inputs["deadLetterConfig"]["arn"] == queue_arn(inventory, "dev-shipping-delivery-dlq")
    # It waits for the policies that admit it: the queue's and the delivery DLQ's.
    assert set(target.depends_on) == {
        "orders-analytics-queue-policy", "shipping-routing-delivery-dlq-queue-policy"
    }


def test_the_queue_admits_its_topic_and_the_rule_on_the_other_bus(inventory):
    rules = {n: r.outputs["arn"] for n, r in by_name(inventory, RULE).items()}
    topic = by_name(inventory, "aws:sns/topic:Topic")["dev-orders-order-lifecycle"].outputs["arn"]
    policy = "orders-analytics-queue-policy"
    assert admitted(inventory, policy, "sns.amazonaws.com") == [topic]
    assert admitted(inventory, policy, "events.amazonaws.com") == [rules["dev-shipping-orders-analytics"]]
    assert admitted(inventory, "shipping-routing-delivery-dlq-queue-policy", "events.amazonaws.com") == [
        rules["dev-shipping-orders-analytics"], rules["dev-shipping-payments-audit"]
    ]
    assert inventory.exports["orders"]["ingress_urls"]["analytics"].endswith("/dev-orders-analytics")


def test_a_per_entity_fifo_reader_gets_the_rule_through_its_staging_queue(inventory):
    rules = {n: r.outputs["arn"] for n, r in by_name(inventory, RULE).items()}
    target = inventory.named("shipping-routing-target-payments-audit")
    assert target.inputs["arn"] == queue_arn(inventory, "dev-payments-audit-staging.fifo")
    assert target.inputs["sqsTarget"] == {"messageGroupId": "audit"}  # as its own rule's target
    assert "payments-audit-ordering-staging-queue-policy" in target.depends_on
    assert admitted(inventory, "payments-audit-ordering-staging-queue-policy", "events.amazonaws.com") == [
        rules["dev-payments-audit"], rules["dev-shipping-payments-audit"]
    ]
    # The pipe regroups whatever the staging queue holds: one pipe, whatever the feeds.
    assert len(inventory.of_type("aws:pipes/pipe:Pipe")) == 1


def test_the_rule_has_both_silent_loss_alarms_tagged_like_it(inventory):
    alarms = [a for a in inventory.of_type(ALARM) if a.inputs["namespace"] == "AWS/Events"
              and a.inputs["dimensions"].get("RuleName") == "dev-shipping-orders-analytics"]
    assert {a.inputs["metricName"] for a in alarms} == {"FailedInvocations", "InvocationsFailedToBeSentToDlq"}
    assert all(a.inputs["dimensions"]["EventBusName"] == "dev-shipping" for a in alarms)
    assert all(a.inputs["tags"]["eda:consumer"] == "analytics" for a in alarms)


def test_exports_list_the_rules_each_bus_carries(inventory):
    shipping = inventory.exports["shipping"]
    assert shipping["rule_names"] == {
        "orders-analytics": "dev-shipping-orders-analytics",
        "payments-audit": "dev-shipping-payments-audit",
    }
    assert set(shipping["rule_arns"]) == set(shipping["rule_names"])
    assert shipping["function_names"] == {} and shipping["queue_urls"] == {}
    assert "orders-analytics" not in inventory.exports["orders"]["rule_names"]


def test_reading_another_domain_adds_resources_and_changes_only_the_admitting_policies(inventory):
    before = offline_cli.declared(run("dev", config=as_cli(dev_with_shipping(read=False))))
    found = offline_cli.changes(before, offline_cli.declared(inventory))
    assert found["removed"] == []
    assert found["added"] == sorted(
        [f"{RULE}::shipping-routing-rule-{s}" for s in ("orders-analytics", "payments-audit")]
        + [f"{TARGET}::shipping-routing-target-{s}" for s in ("orders-analytics", "payments-audit")]
        + [f"{ALARM}::shipping-routing-rule-{s}-{what}"
           for s in ("orders-analytics", "payments-audit") for what in ("failed-invocations", "dlq-refused")]
    )
    # Policies are updated in place (a queue policy's document is not a replacing input), and
    # the readers' functions learn the domain they now read (EVENT_DOMAINS).
    policy, function = "aws:sqs/queuePolicy:QueuePolicy::", "aws:lambda/function:Function::"
    assert found["changed"] == [
        f"{function}orders-analytics-function",
        f"{function}payments-audit-function",
        f"{policy}orders-analytics-queue-policy",
        f"{policy}payments-audit-ordering-staging-queue-policy",
        f"{policy}shipping-routing-delivery-dlq-queue-policy",
    ]


def test_domain_order_does_not_matter_and_domains_may_read_each_other():
    def both_ways(shipping_first: bool):
        values = dev_with_shipping()
        domains = values[DOMAINS]
        domains["shipping"]["consumers"] = {"tracking": {
            "handler": "analytics",
            "subscribe": {"detail_types": ["ShipmentDelivered"]},
            "idempotency_key": "[source, detail.orderId, detail.version]",
            "reserved_concurrency": 5,
            "also_from": {"orders": {"detail_types": ["OrderUpdated"]}},
        }}
        if shipping_first:
            values[DOMAINS] = {"shipping": domains.pop("shipping"), **domains}
        return offline_cli.declared(run("dev", config=as_cli(values)))

    last, first = both_ways(False), both_ways(True)
    # The archive's table lists the domains as declared (its partitions); nothing else moves.
    table = "aws:glue/catalogTable:CatalogTable::storage-audit-table"
    assert {k: v for k, v in first.items() if k != table} == {
        k: v for k, v in last.items() if k != table
    }
    assert first[f"{TARGET}::orders-routing-target-shipping-tracking"]["arn"].endswith(":dev-shipping-tracking")
    assert first[f"{TARGET}::shipping-routing-target-orders-analytics"]["arn"].endswith(":dev-orders-analytics")


def test_the_schema_tree_named_by_eda_schemas_dir_is_the_one_deployed(inventory):
    """The registry and the consumers' code archive take shipping's schemas from the same tree
    the config was checked against (EDA_SCHEMAS_DIR), not from the repository's schemas/."""
    schemas = {s.inputs["name"] for s in inventory.of_type("aws:schemas/schema:Schema")}
    assert {"com.ascendion.shipping@ShipmentDelivered", "com.ascendion.shipping@ShippingFeeCharged"} <= schemas
    (function, *_) = inventory.of_type("aws:lambda/function:Function")
    archived = set(function.inputs["code"].assets)
    assert {"schemas/shipping/ShipmentDelivered.json", "schemas/orders/OrderCreated.json"} <= archived
