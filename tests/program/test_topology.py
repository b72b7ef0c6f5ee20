"""The shipped stacks, evaluated under Pulumi mocks, register the seed's topology and its guarantees."""

import json

import pytest

from settings.feeds import rules_on
from settings.load import from_stack_file

STACKS = ["dev", "prod"]
SEED_ROUTES = {
    "orders": {"processor", "notification", "analytics", "fulfillment"},
    "payments": {"analytics", "audit"},
    "inventory": {"fulfillment"},
}


def by_name(inventory, type_):
    return {r.inputs.get("name", r.name): r for r in inventory.of_type(type_)}


@pytest.mark.parametrize("stack", STACKS)
def test_one_bus_per_domain(inventories, stack):
    buses = by_name(inventories(stack), "aws:cloudwatch/eventBus:EventBus")
    assert set(buses) == {f"{stack}-{d}" for d in from_stack_file(stack).domains}
    assert {f"{stack}-{d}" for d in SEED_ROUTES} <= set(buses)


@pytest.mark.parametrize("stack", STACKS)
def test_every_seed_route_has_a_consumer_function(inventories, stack):
    functions = set(by_name(inventories(stack), "aws:lambda/function:Function"))
    declared = from_stack_file(stack).domains
    assert functions == {f"{stack}-{d}-{c}" for d, domain in declared.items() for c in domain.consumers}
    assert {f"{stack}-{d}-{c}" for d, consumers in SEED_ROUTES.items() for c in consumers} <= functions


@pytest.mark.parametrize("stack", STACKS)
def test_rule_patterns_pin_the_domain_source_and_detail_types(inventories, stack):
    rules = by_name(inventories(stack), "aws:cloudwatch/eventRule:EventRule")
    config = from_stack_file(stack)
    for domain_name, domain in config.domains.items():
        own = {n: r for n, r in rules.items() if n.startswith(f"{stack}-{domain_name}-")}
        assert own, domain_name
        for rule in own.values():
            pattern = json.loads(rule.inputs["eventPattern"])
            assert pattern["source"] == [domain.source]
            assert rule.inputs["eventBusName"] == f"{stack}-{domain_name}"
    # The seed's OrderCreatedRule, exactly.
    seed_rule = json.loads(rules[f"{stack}-orders-processor"].inputs["eventPattern"])
    assert seed_rule == {
        "source": ["com.ascendion.orders"],
        "detail-type": ["OrderCreated", "OrderUpdated"],
    }
    fulfillment = json.loads(rules[f"{stack}-orders-fulfillment"].inputs["eventPattern"])
    assert fulfillment["detail"] == {"status": ["CONFIRMED"]}


@pytest.mark.parametrize("stack", STACKS)
def test_every_consumer_queue_redrives_to_its_dlq(inventories, stack):
    inventory = inventories(stack)
    queues = by_name(inventory, "aws:sqs/queue:Queue")
    arn_to_name = {q.outputs["arn"]: n for n, q in queues.items()}
    mappings = inventory.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    consumers = [arn_to_name[m.inputs["eventSourceArn"]] for m in mappings]
    config = from_stack_file(stack)
    assert len(consumers) == sum(len(d.consumers) for d in config.domains.values())
    for name in consumers:
        redrive = json.loads(queues[name].inputs["redrivePolicy"])
        dlq_name = arn_to_name[redrive["deadLetterTargetArn"]]
        suffix = ".fifo" if name.endswith(".fifo") else ""
        assert dlq_name == name.removesuffix(suffix) + "-dlq" + suffix
        assert redrive["maxReceiveCount"] == 5
        assert queues[name].inputs["visibilityTimeoutSeconds"] == 300
    allow = [json.loads(p.inputs["redriveAllowPolicy"]) for p in
             inventory.of_type("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy")]
    assert all(a["redrivePermission"] == "byQueue" for a in allow)
    redriven = [n for n, q in queues.items() if "redrivePolicy" in q.inputs]
    assert len(allow) == len(redriven) >= len(consumers)


@pytest.mark.parametrize("stack", STACKS)
def test_every_dlq_has_a_depth_alarm_that_notifies(inventories, stack):
    inventory = inventories(stack)
    alarm_topic = by_name(inventory, "aws:sns/topic:Topic")[f"{stack}-alarms"].outputs["arn"]
    dlqs = {n for n in by_name(inventory, "aws:sqs/queue:Queue") if "-dlq" in n}
    depth_alarms = {
        a.inputs["dimensions"]["QueueName"]: a
        for a in inventory.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["metricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert set(depth_alarms) == dlqs
    for alarm in depth_alarms.values():
        assert alarm.inputs["threshold"] == 0
        assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
        assert alarm.inputs["alarmActions"] == [alarm_topic]


@pytest.mark.parametrize("stack", STACKS)
def test_event_source_mappings(inventories, stack):
    inventory = inventories(stack)
    queues = {q.outputs["arn"]: q for q in inventory.of_type("aws:sqs/queue:Queue")}
    mappings = inventory.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    config = from_stack_file(stack)
    assert len(mappings) == sum(len(d.consumers) for d in config.domains.values())
    for mapping in mappings:
        queue = queues[mapping.inputs["eventSourceArn"]]
        assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
        if queue.inputs["fifoQueue"]:
            assert "maximumBatchingWindowInSeconds" not in mapping.inputs
            assert mapping.inputs["batchSize"] <= 10
    analytics = next(m for m in mappings if m.inputs["functionName"].endswith("orders-analytics"))
    assert (analytics.inputs["batchSize"], analytics.inputs["maximumBatchingWindowInSeconds"]) == (100, 5)
    processor = next(m for m in mappings if m.inputs["functionName"].endswith("orders-processor"))
    assert processor.inputs["batchSize"] == 10  # the seed's batch size
    caps = {
        m.inputs["functionName"].rsplit(":", 1)[1]: m.inputs["scalingConfig"]["maximumConcurrency"]
        for m in mappings
    }
    assert caps == {
        f"{stack}-{d}-{c}": consumer.poller_concurrency
        for d, domain in config.domains.items()
        for c, consumer in domain.consumers.items()
    }
    if stack == "prod":
        assert caps["prod-orders-fulfillment"] == 20  # declared below its reservation


@pytest.mark.parametrize("stack", STACKS)
def test_function_settings(inventories, stack):
    config = from_stack_file(stack)
    for function in inventories(stack).of_type("aws:lambda/function:Function"):
        inputs = function.inputs
        tags = inputs["tags"]
        consumer = config.domains[tags["eda:domain"]].consumers[tags["eda:consumer"]]
        assert inputs["architectures"] == ["arm64"]
        assert inputs["runtime"] == "python3.14"
        assert inputs["timeout"] == 30
        assert inputs["reservedConcurrentExecutions"] == consumer.reserved_concurrency
        assert inputs["handler"].startswith("handlers.") and inputs["handler"].endswith(".handler")
        assert inputs["loggingConfig"]["logFormat"] == "JSON"
        env = inputs["environment"]["variables"]
        assert env["IDEMPOTENCY_TABLE"] == f"{stack}-idempotency"
        assert env["IDEMPOTENCY_KEY_PATH"]
        # Redelivery horizon: 4-day queue retention + 14-day DLQ retention.
        assert env["IDEMPOTENCY_WINDOW_SECONDS"] == str((4 + 14) * 86_400)


@pytest.mark.parametrize("stack", STACKS)
def test_fifo_audit_is_ordered_per_payment(inventories, stack):
    """The rule delivers to a FIFO staging queue under one fixed group (EventBridge sends a group
    id as given); the pipe regroups each event by its paymentId into the audit queue."""
    inventory = inventories(stack)
    queues = by_name(inventory, "aws:sqs/queue:Queue")
    queue = queues[f"{stack}-payments-audit.fifo"]
    staging = queues[f"{stack}-payments-audit-staging.fifo"]
    assert queue.inputs["fifoQueue"] and staging.inputs["fifoQueue"]
    assert staging.inputs["contentBasedDeduplication"]  # EventBridge sends no deduplication id
    target = inventory.named("payments-routing-target-audit")
    assert target.inputs["sqsTarget"] == {"messageGroupId": "audit"}
    assert target.inputs["arn"] == staging.outputs["arn"]
    pipe = inventory.named("payments-audit-ordering-pipe")
    assert (pipe.inputs["source"], pipe.inputs["target"]) == (staging.outputs["arn"], queue.outputs["arn"])
    assert pipe.inputs["targetParameters"]["sqsQueueParameters"]["messageGroupId"] == "$.body.detail.paymentId"


@pytest.mark.parametrize("stack", STACKS)
def test_targets_retry_and_dead_letter(inventories, stack):
    inventory = inventories(stack)
    targets = inventory.of_type("aws:cloudwatch/eventTarget:EventTarget")
    config = from_stack_file(stack)
    # One target per rule: every topic, every consumer a rule (not a topic) feeds, and every
    # feed another domain's consumer takes from this bus.
    assert len(targets) == sum(len(rules_on(config, d)) for d in config.domains)
    for target in targets:
        assert target.inputs["retryPolicy"]["maximumRetryAttempts"] == 185
        assert target.inputs["deadLetterConfig"]["arn"].endswith("-delivery-dlq")


@pytest.mark.parametrize("stack", ["dev", "local"])
def test_fanout_subscriptions_are_raw_and_filtered(inventories, stack):
    """dev and local show the SNS fan-out form; prod routes the same consumers by rules."""
    subs = {s.name: s.inputs for s in inventories(stack).of_type("aws:sns/topicSubscription:TopicSubscription")
            if s.inputs["protocol"] == "sqs"}
    assert set(subs) == {"orders-order-lifecycle-sub-notification", "orders-order-lifecycle-sub-analytics"}
    assert all(s["rawMessageDelivery"] for s in subs.values())
    notification = subs["orders-order-lifecycle-sub-notification"]
    assert json.loads(notification["filterPolicy"]) == {"detail-type": ["OrderCreated"]}
    assert notification["filterPolicyScope"] == "MessageBody"


@pytest.mark.parametrize("stack", STACKS)
def test_queue_policies_admit_only_the_declared_sender(inventories, stack):
    inventory = inventories(stack)
    rules = {r.inputs["name"]: r.outputs["arn"] for r in inventory.of_type("aws:cloudwatch/eventRule:EventRule")}
    topics = {t.inputs["name"]: t.outputs["arn"] for t in inventory.of_type("aws:sns/topic:Topic")}
    queues = {q.outputs["url"]: q.inputs["name"] for q in inventory.of_type("aws:sqs/queue:Queue")}
    senders = {}
    for policy in inventory.of_type("aws:sqs/queuePolicy:QueuePolicy"):
        allow = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Effect"] == "Allow"]
        senders[queues[policy.inputs["queueUrl"]]] = [
            arn for s in allow for arn in s["Condition"]["ArnEquals"]["aws:SourceArn"]
        ]
    assert senders[f"{stack}-orders-processor"] == [rules[f"{stack}-orders-processor"]]
    # The pipe sends under its role's IAM policy: the audit queue admits no service at all.
    assert senders[f"{stack}-payments-audit.fifo"] == []
    assert senders[f"{stack}-payments-audit-staging.fifo"] == [rules[f"{stack}-payments-audit"]]
    if from_stack_file(stack).domains["orders"].consumers["notification"].subscribe.topic:
        assert senders[f"{stack}-orders-notification"] == [topics[f"{stack}-orders-order-lifecycle"]]
    else:
        assert senders[f"{stack}-orders-notification"] == [rules[f"{stack}-orders-notification"]]
    assert sorted(senders[f"{stack}-orders-delivery-dlq"]) == sorted(
        arn for name, arn in rules.items() if name.startswith(f"{stack}-orders-")
    )


@pytest.mark.parametrize("stack", STACKS)
def test_encryption_at_rest_everywhere(inventories, stack):
    inventory = inventories(stack)
    for queue in inventory.of_type("aws:sqs/queue:Queue"):
        assert queue.inputs.get("sqsManagedSseEnabled") or queue.inputs.get("kmsMasterKeyId"), queue.name
    for topic in inventory.of_type("aws:sns/topic:Topic"):
        assert topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:"), topic.name
    table = inventory.of_type("aws:dynamodb/table:Table")[0]
    assert table.inputs["serverSideEncryption"]["enabled"]
    (sse,) = inventory.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    (block,) = inventory.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(block.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    (bucket_policy,) = inventory.of_type("aws:s3/bucketPolicy:BucketPolicy")
    deny = json.loads(bucket_policy.inputs["policy"])["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("stack", STACKS)
def test_idempotency_table(inventories, stack):
    (table,) = inventories(stack).of_type("aws:dynamodb/table:Table")
    inputs = table.inputs
    assert inputs["billingMode"] == "PAY_PER_REQUEST"
    assert inputs["hashKey"] == "id" and inputs["attributes"] == [{"name": "id", "type": "S"}]
    assert inputs["ttl"] == {"attributeName": "expiration", "enabled": True}
    assert inputs["pointInTimeRecovery"]["enabled"]
    # Retained where protected (prod): with its key, see test_deploy_contract.
    assert table.retain_on_delete == (stack == "prod")
    assert table.protect == inputs["deletionProtectionEnabled"] == (stack == "prod")


DATA_PLANE = ("sqs", "sns", "dynamodb", "s3", "events", "kms", "lambda", "logs", "ses")


@pytest.mark.parametrize("stack", STACKS)
def test_role_policies_are_scoped_to_specific_arns(inventories, stack):
    policies = inventories(stack).of_type("aws:iam/rolePolicy:RolePolicy")
    config = from_stack_file(stack)
    consumers = [c for d in config.domains.values() for c in d.consumers.values()]
    pipes = [c for c in consumers if c.queue.message_group_path]
    schedules = [s for d in config.domains.values() for s in d.schedules]
    assert len(policies) == len(consumers) + len(pipes) + len(schedules)
    for policy in policies:
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in actions:
                service, _, verb = action.partition(":")
                assert service in DATA_PLANE and "*" not in verb, (policy.name, action)
            assert all(r != "*" and r.startswith("arn:aws:") for r in resources), (policy.name, resources)


def test_consumer_table_access_is_limited_to_its_own_keys(inventories):
    inventory = inventories("dev")
    policy = json.loads(inventory.named("orders-processor-role-policy").inputs["policy"])
    (table_statement,) = [s for s in policy["Statement"] if s.get("Sid") == "OwnIdempotencyKeys"]
    assert table_statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == [
        "dev-orders-processor*"
    ]


def test_audit_logger_writes_only_its_domain_prefix(inventories):
    policy = json.loads(inventories("dev").named("payments-audit-role-policy").inputs["policy"])
    s3 = [s for s in policy["Statement"] if "s3:PutObject" in s["Action"]]
    assert [s["Resource"] for s in s3] == ["arn:aws:s3:::storage-archive/audit/payments/*"]


def test_schedule_puts_events_on_its_bus_with_retries_and_dlq(inventories):
    inventory = inventories("dev")
    (schedule,) = inventory.of_type("aws:scheduler/schedule:Schedule")
    target = schedule.inputs["target"]
    bus = by_name(inventory, "aws:cloudwatch/eventBus:EventBus")["dev-inventory"]
    assert target["arn"] == bus.outputs["arn"]
    assert target["eventbridgeParameters"] == {
        "detailType": "InventoryReconcileRequested",
        "source": "com.ascendion.inventory",
    }
    assert target["deadLetterConfig"]["arn"].endswith("dev-inventory-delivery-dlq")
    assert target["retryPolicy"]["maximumRetryAttempts"] == 10


def test_schemas_are_openapi3_per_event_type(inventories):
    schemas = inventories("dev").of_type("aws:schemas/schema:Schema")
    assert len(schemas) == sum(len(d.event_types) for d in from_stack_file("dev").domains.values())
    created = next(s for s in schemas if s.inputs["name"] == "com.ascendion.orders@OrderCreated")
    document = json.loads(created.inputs["content"])
    assert created.inputs["type"] == "OpenApi3" and document["openapi"].startswith("3.")
    envelope = document["components"]["schemas"]["AWSEvent"]
    assert envelope["x-amazon-events-detail-type"] == "OrderCreated"
    detail = document["components"]["schemas"]["OrderCreated"]
    assert detail["properties"]["version"] == {"type": "integer", "enum": [1]}  # const → enum


def test_prod_differs_from_dev_the_way_real_stacks_do(inventories):
    dev, prod = inventories("dev"), inventories("prod")
    emails = [s.inputs["endpoint"] for s in prod.of_type("aws:sns/topicSubscription:TopicSubscription")
              if s.inputs["protocol"] == "email"]
    assert emails == ["platform-oncall@ascendion.example"]
    assert not [s for s in dev.of_type("aws:sns/topicSubscription:TopicSubscription")
                if s.inputs["protocol"] == "email"]
    log_days = lambda inv: {g.inputs["retentionInDays"] for g in inv.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert (log_days(dev), log_days(prod)) == ({7}, {90})
    archive_days = lambda inv: {a.inputs["retentionDays"] for a in inv.of_type("aws:cloudwatch/eventArchive:EventArchive")}
    assert (archive_days(dev), archive_days(prod)) == ({7}, {365})
    assert prod.named("platform-key-key").protect and not dev.named("platform-key-key").protect
    audit = by_name(prod, "aws:sqs/queue:Queue")["prod-payments-audit.fifo"]
    assert audit.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:")
    (bus_policy,) = prod.of_type("aws:cloudwatch/eventBusPolicy:EventBusPolicy")
    statement = json.loads(bus_policy.inputs["policy"])["Statement"][0]
    assert statement["Principal"]["AWS"] == ["arn:aws:iam::210987654321:root"]
    assert statement["Condition"] == {"StringEquals": {"events:source": "com.ascendion.payments"}}
    assert not dev.of_type("aws:cloudwatch/eventBusPolicy:EventBusPolicy")


def test_exports_name_what_operators_need(inventories):
    exports = inventories("dev").exports
    orders = exports["orders"]
    assert orders["bus_arn"].endswith(":event-bus/dev-orders")
    assert set(orders["queue_urls"]) == SEED_ROUTES["orders"]
    assert orders["dlq_urls"]["processor"].endswith("/dev-orders-processor-dlq")
    assert orders["function_names"]["processor"] == "dev-orders-processor"
    assert orders["dashboard"] == "dev-orders"
    assert exports["idempotency_table"] == "dev-idempotency"
