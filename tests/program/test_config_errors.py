"""Bad stack config fails before any resource is registered, naming the key, the value and what is allowed."""

import json

import pytest

from offline.program import run, stack_config
from settings.load import ConfigError, from_stack_file, parse
from settings.model import PATTERNS, StackConfig


def dev_values():
    return {k: json.loads(v) if k != "aws:region" else v for k, v in stack_config("dev").items()}


def broken(edit):
    values = dev_values()
    edit(values)
    return values


def consumer(values, domain, name):
    return values["eda-platform:domains"][domain]["consumers"][name]


# dev's reservations, consumer by consumer: the messages below are about these.
DEV_RESERVED = [
    c.reserved_concurrency or 0 for d in from_stack_file("dev").domains.values() for c in d.consumers.values()
]

CASES = {
    "fifo-with-batching-window": (
        lambda v: consumer(v, "payments", "audit").update(batching_window_s=5),
        ["eda-platform:domains.payments.consumers.audit", "batching_window_s=5",
         "FIFO queues take no batching window (allowed: 0)"],
    ),
    "fifo-batch-11": (
        lambda v: consumer(v, "payments", "audit").update(batch_size=11),
        ["eda-platform:domains.payments.consumers.audit", "batch_size=11", "FIFO allows 1..10"],
    ),
    "visibility-below-6x-timeout": (
        lambda v: consumer(v, "orders", "processor").update(queue={"visibility_timeout_s": 120}),
        ["eda-platform:domains.orders.consumers.processor", "visibility_timeout_s=120",
         "below 6 x timeout_s (180)", "at least 180"],
    ),
    "undeclared-event-type": (
        lambda v: consumer(v, "inventory", "fulfillment")["subscribe"]["detail_types"].append("OrderShipped"),
        ["eda-platform:domains.inventory", "consumers.fulfillment", "'OrderShipped'",
         "declared: InventoryDepleted, InventoryReconcileRequested, InventoryReserved"],
    ),
    "undeclared-type-in-pattern": (
        lambda v: consumer(v, "orders", "fulfillment")["subscribe"]["pattern"].update({"detail-type": ["OrderShiped"]}),
        ["consumers.fulfillment subscribes to event type 'OrderShiped'"],
    ),
    "unknown-top-level-key": (
        lambda v: v.update({"eda-platform:domainz": {}}),
        ["eda-platform:domainz", "unknown key"],
    ),
    "unknown-nested-key": (
        lambda v: consumer(v, "orders", "processor").update(batchsize=20),
        ["eda-platform:domains.orders.consumers.processor.batchsize = 20", "unknown key"],
    ),
    "batch-size-out-of-range": (
        lambda v: consumer(v, "orders", "processor").update(batch_size=20_000),
        ["eda-platform:domains.orders.consumers.processor.batch_size = 20000",
         "less than or equal to 10000"],
    ),
    "large-batch-needs-window": (
        lambda v: consumer(v, "orders", "processor").update(batch_size=50),
        ["batch_size=50 needs batching_window_s >= 1"],
    ),
    "max-concurrency-above-reserved": (
        lambda v: consumer(v, "orders", "processor").update(maximum_concurrency=60, reserved_concurrency=50),
        ["maximum_concurrency=60 exceeds reserved_concurrency=50", "allowed: <= reserved_concurrency"],
    ),
    "zero-reserved-concurrency": (
        # 0 stops the function; 1 leaves no valid poller cap (SQS mappings take 2..1000).
        lambda v: consumer(v, "orders", "processor").update(reserved_concurrency=0),
        ["consumers.processor.reserved_concurrency = 0", "greater than or equal to 2"],
    ),
    "reservations-leave-under-100-unreserved": (
        lambda v: [c.update(reserved_concurrency=200) for d in v["eda-platform:domains"].values()
                   for c in d["consumers"].values()],
        [f"reserved_concurrency sums to {200 * len(DEV_RESERVED)} over {len(DEV_RESERVED)} consumers",
         "lambda_account_concurrency=1000", "at most 900", "keeps 100 unreserved"],
    ),
    "small-account-quota": (
        lambda v: v.update({"eda-platform:lambda_account_concurrency": 50}),
        [f"reserved_concurrency sums to {sum(DEV_RESERVED)}", "reserve at most 0"],
    ),
    "log-retention-cloudwatch-refuses": (
        lambda v: v["eda-platform:retention"].update(log_days=10),
        ["log_days=10: CloudWatch Logs refuses it", "allowed: 1, 3, 5, 7, 14, 30", "null (never expire)"],
    ),
    "unknown-pattern-operator": (
        lambda v: consumer(v, "orders", "fulfillment")["subscribe"]["pattern"]["detail"].update(
            status=[{"prefixx": "CONF"}]),
        ["domains.orders", "consumers.fulfillment.subscribe", "unknown operator 'prefixx'",
         "allowed here: anything-but"],
    ),
    "unknown-filter-policy-operator": (
        lambda v: consumer(v, "orders", "notification")["subscribe"].update(
            filter_policy={"detail-type": [{"wildcard": "Order*"}]}),
        ["consumers.notification.subscribe.filter_policy", "unknown operator 'wildcard'"],
    ),
    "key-not-jmespath": (
        lambda v: consumer(v, "orders", "processor").update(idempotency_key="[detail.orderId, detail.version"),
        ["domains.orders.consumers.processor.idempotency_key", "is not JMESPath",
         "e.g. '[detail.orderId, detail.version]'"],
    ),
    "key-is-jsonpath": (
        lambda v: consumer(v, "inventory", "fulfillment").update(idempotency_key="$.detail.movementId"),
        ["'$.detail.movementId' is JSONPath", "JMESPath, without '$.'"],
    ),
    "key-names-a-missing-field": (
        lambda v: consumer(v, "orders", "processor").update(idempotency_key="[detail.orderID, detail.version]"),
        ["detail.orderID is not a field of OrderCreated", "every delivery of such an event would fail"],
    ),
    "key-names-an-optional-field": (
        lambda v: consumer(v, "orders", "processor").update(idempotency_key="[detail.orderId, detail.customerEmail]"),
        ["detail.customerEmail is optional in OrderUpdated"],
    ),
    "group-path-names-a-missing-field": (
        lambda v: consumer(v, "payments", "audit")["queue"].update(message_group_path="$.detail.payment"),
        ["consumers.audit.queue.message_group_path", "detail.payment is not a field of PaymentAuthorized",
         "e.g. $.detail.paymentId"],
    ),
    "group-path-not-a-detail-path": (
        lambda v: consumer(v, "payments", "audit")["queue"].update(message_group_path="detail.paymentId"),
        ["message_group_path='detail.paymentId'", "e.g. $.detail.paymentId"],
    ),
    "pattern-for-another-domains-source": (
        lambda v: consumer(v, "orders", "fulfillment")["subscribe"]["pattern"].update(
            source=["com.ascendion.shipping"]),
        ["consumers.fulfillment.subscribe.pattern names source ['com.ascendion.shipping']",
         "could never match", "Drop `source` from the pattern",
         "name that domain under the consumer's also_from",
         "also_from: {<domain>: {detail_types: [<DetailType>]}}"],
    ),
    "unknown-guard-choice": (
        lambda v: consumer(v, "inventory", "fulfillment").update(environment={"IDEMPOTENCY_GUARD": "dynamo"}),
        ["consumers.fulfillment", "environment.IDEMPOTENCY_GUARD='dynamo'", "allowed: conditional-write, powertools"],
    ),
    "notification-guard-needs-fifo-topic": (
        lambda v: consumer(v, "orders", "notification")["environment"].update(IDEMPOTENCY_GUARD="conditional-write"),
        ["needs an SNS FIFO notifications topic", "allowed: powertools"],
    ),
    "custom-metrics-value": (
        lambda v: consumer(v, "orders", "processor").update(environment={"CUSTOM_METRICS": "yes"}),
        ["environment.CUSTOM_METRICS='yes'; allowed: on, off"],
    ),
    "state-key-without-a-version": (
        lambda v: consumer(v, "orders", "processor").update(idempotency_key="detail.orderId"),
        ["consumers.processor.idempotency_key", "this handler keeps one state item per entity and "
         "needs [entity id, integer version], e.g. '[detail.shipmentId, detail.version]'"],
    ),
    "state-key-version-not-an-integer": (
        lambda v: consumer(v, "orders", "processor").update(idempotency_key="[detail.orderId, detail.updatedAt]"),
        ["its second element is no integer field of OrderCreated, OrderUpdated"],
    ),
    "fifo-group-id-with-a-space": (
        lambda v: consumer(v, "payments", "audit")["queue"].update(
            message_group_path=None, message_group_id="all payments"),
        ['queue.message_group_id = "all payments"', "allowed: 1 to 100 letters, digits or ASCII "
         "punctuation, no spaces, e.g. all-payments"],
    ),
    "consumer-name-not-lower-case": (
        lambda v: v["eda-platform:domains"]["orders"]["consumers"].update(
            Processor=consumer(v, "orders", "processor")),
        ['consumers.Processor.[key] = "Processor"', "allowed: a lower-case letter", "e.g. order-events"],
    ),
    "fifo-with-both-group-settings": (
        lambda v: consumer(v, "payments", "audit")["queue"].update(message_group_id="all"),
        ["a FIFO queue needs exactly one of queue.message_group_path", "queue.message_group_id"],
    ),
    "unknown-handler": (
        lambda v: consumer(v, "orders", "processor").update(handler="order_procesor"),
        ["consumers.processor.handler", "'order_procesor'", "allowed: analytics, audit_logger"],
    ),
    "unknown-queue-kind": (
        lambda v: consumer(v, "orders", "processor").update(queue={"kind": "fifo2"}),
        ["consumers.processor.queue.kind = \"fifo2\"", "'standard' or 'fifo'"],
    ),
    "fifo-without-group": (
        lambda v: consumer(v, "payments", "audit")["queue"].pop("message_group_path"),
        ["a FIFO queue needs exactly one of queue.message_group_path"],
    ),
    "undeclared-topic": (
        lambda v: consumer(v, "orders", "notification")["subscribe"].update(topic="order-events"),
        ["topic 'order-events'", "declared: order-lifecycle"],
    ),
    "fifo-behind-sns": (
        lambda v: consumer(v, "orders", "notification").update(
            queue={"kind": "fifo", "message_group_path": "$.detail.orderId"}),
        ["a standard SNS topic cannot deliver to a FIFO queue"],
    ),
    "bad-producer-account": (
        lambda v: v["eda-platform:domains"]["payments"].update(producer_accounts=["12345"]),
        ["domains.payments.producer_accounts.0 = \"12345\"", "allowed: a 12-digit AWS account id, e.g. 123456789012"],
    ),
    "aws-source": (
        lambda v: v["eda-platform:domains"]["orders"].update(source="aws.orders"),
        ["domains.orders.source", "aws. prefix is reserved"],
    ),
    "two-subscription-kinds": (
        lambda v: consumer(v, "orders", "processor")["subscribe"].update(topic="order-lifecycle"),
        ["give exactly one of detail_types, pattern, topic"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_config_error_names_key_value_and_allowed(case):
    edit, expected = CASES[case]
    with pytest.raises(ConfigError) as error:
        parse(broken(edit), stack="dev", origin="Pulumi.dev.yaml")
    message = str(error.value)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_every_pattern_the_config_checks_is_explained_in_words():
    """The loader shows `PATTERNS` instead of a regex: each pattern in the model has its entry."""
    def patterns(node):
        if isinstance(node, dict):
            yield from ([node["pattern"]] if isinstance(node.get("pattern"), str) else [])
            for value in node.values():
                yield from patterns(value)
        elif isinstance(node, list):
            for value in node:
                yield from patterns(value)

    found = set(patterns(StackConfig.model_json_schema()))
    assert found and found <= set(PATTERNS), found - set(PATTERNS)


def test_program_registers_nothing_when_config_is_bad():
    registered = []

    def state(type_, name, inputs):
        registered.append(name)
        return name, inputs

    values = broken(lambda v: consumer(v, "payments", "audit").update(batch_size=11))
    namespaced = {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    with pytest.raises(ConfigError, match="batch_size=11"):
        run("dev", config=namespaced, state=state)
    assert registered == []


def test_missing_schema_file_is_named(tmp_path):
    values = broken(lambda v: v["eda-platform:domains"]["orders"]["event_types"].update(
        OrderCancelled={"monthly_volume": 10}))
    with pytest.raises(ConfigError, match=r"OrderCancelled: schema file schemas/orders/OrderCancelled.json does not exist"):
        parse(values, stack="dev", origin="Pulumi.dev.yaml")


def test_unknown_stack_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown stack 'staging'.*dev, local, prod"):
        from_stack_file("staging")


def test_defaults_follow_the_seed_and_aws_guidance():
    audit = from_stack_file("dev").domains["payments"].consumers["audit"]
    assert (audit.batch_size, audit.timeout_s) == (10, 30)
    assert from_stack_file("prod").domains["payments"].consumers["audit"].reserved_concurrency == 50
    assert (audit.queue.visibility_timeout_s, audit.queue.max_receive_count) == (300, 5)
    assert from_stack_file("dev").retention.dlq_days == 14


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (CASES["unknown-pattern-operator"][0], "unknown operator 'prefixx'"),
        (lambda v: consumer(v, "orders", "processor").update(reserved_concurrency=0), "= 0"),
        (CASES["log-retention-cloudwatch-refuses"][0], "log_days=10"),
    ],
    ids=["pattern", "reservation", "retention"],
)
@pytest.mark.parametrize("cli", ["offline", "costmodel"])
def test_clis_exit_2_with_the_key_path_and_no_traceback(monkeypatch, capsys, edit, fragment, cli):
    import settings.load
    from costmodel.__main__ import main as costmodel_main
    from offline.__main__ import main as offline_main

    values = broken(edit)
    monkeypatch.setattr(settings.load, "stack_values", lambda stack, root=None: values)
    monkeypatch.setattr("offline.program.stack_values", lambda stack, root=None: values)
    if cli == "offline":
        code = offline_main(["dev"])
    else:
        code = costmodel_main(["estimate", "--stack", "dev"])
    out = capsys.readouterr()
    text = out.out + out.err
    assert code == 2
    assert fragment in text and "eda-platform:" in text
    assert "Traceback" not in text


def long_names(values):
    """A 24-character consumer name: each part is legal, the pipe name it composes is not."""
    domain = values["eda-platform:domains"]["payments"]["consumers"]
    domain["audit-ledger-for-finance"] = domain.pop("audit")


def test_composed_names_are_checked_against_awss_limits_not_only_their_parts():
    with pytest.raises(ConfigError) as error:
        parse(broken(long_names), stack="production-eu-central-xx", origin="Pulumi.x.yaml")
    message = str(error.value)
    assert "domains.payments.consumers.audit-ledger-for-finance" in message
    assert "'production-eu-central-xx-payments-audit-ledger-for-finance-grouping' has 67" in message
    assert "AWS allows at most 64" in message and "shorten the stack, domain or consumer name" in message
    # Under a short stack name the same config is valid.
    assert parse(broken(long_names), stack="dev", origin="Pulumi.dev.yaml")


def test_invalid_json_schema_is_refused_with_where(monkeypatch, tmp_path):
    import shutil

    import settings.load

    shutil.copytree(settings.load.schema_root(), tmp_path / "schemas")
    broken_schema = tmp_path / "schemas" / "orders" / "OrderCreated.json"
    document = json.loads(broken_schema.read_text())
    document["type"] = "obj"
    broken_schema.write_text(json.dumps(document))
    monkeypatch.setenv(settings.load.SCHEMAS_VARIABLE, str(tmp_path / "schemas"))
    with pytest.raises(ConfigError) as error:
        parse(dev_values(), stack="dev", origin="Pulumi.dev.yaml")
    message = str(error.value)
    assert "domains.orders.event_types.OrderCreated" in message
    assert "not a valid JSON Schema (2020-12) at type" in message
