"""Each policy fails on a deliberately broken stack, with a message that says what to change.

Where the typed stack config allows the mistake, the variant is a stack file edit; where the
config model already refuses it (its first line of defence), the variant edits what the program
registered, as a hand-written or imported resource would arrive.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from policy_harness import edit_json, pick, run_policy, set_prop

from offline.program import stack_config

DOMAINS = "eda-platform:domains"
QUEUE = "aws:sqs/queue:Queue"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
FUNCTION = "aws:lambda/function:Function"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"


def with_domains(stack: str, edit: Callable[[dict[str, Any]], None]) -> dict[str, str]:
    """The stack file's config with its `domains` value edited."""
    config = stack_config(stack)
    domains = json.loads(config[DOMAINS])
    edit(domains)
    return {**config, DOMAINS: json.dumps(domains)}


def without_statement(sid: str) -> Callable[[dict], None]:
    return lambda doc: doc.update(Statement=[s for s in doc["Statement"] if s.get("Sid") != sid])


def in_statement(sid: str, edit: Callable[[dict], Any]) -> Callable[[dict], None]:
    """Edit the statement `sid` of a policy document."""
    return lambda doc: edit(next(s for s in doc["Statement"] if s.get("Sid") == sid))


# --- mistakes the typed config accepts: a stack file edit -----------------------------------


def configured(name: str, edit: Callable[[dict[str, Any]], Any]):
    """A variant: dev, evaluated with its stack file's `domains` edited."""

    def variant(evaluate):
        return evaluate("dev", with_domains("dev", edit))

    variant.__name__ = name
    return variant


def consumer(domain: str, name: str, **settings: Any) -> Callable[[dict[str, Any]], None]:
    return lambda domains: domains[domain]["consumers"][name].update(settings)


receive_count_2 = configured(
    "max_receive_count=2", consumer("orders", "processor", queue={"max_receive_count": 2})
)
idempotency_table_overridden = configured(
    "environment.IDEMPOTENCY_TABLE",
    consumer("orders", "processor", environment={"IDEMPOTENCY_TABLE": "orders-dedupe"}),
)
reconcile_every_30_seconds = configured(
    "rate(30 seconds)",
    lambda domains: domains["inventory"]["schedules"]["nightly-reconcile"].update(
        expression="rate(30 seconds)"
    ),
)


# --- mistakes the typed config refuses: an edited resource ----------------------------------


def edited(stack: str, type_: str, name: str, change: Callable[[Any], None]):
    """A variant: evaluate `stack`, then apply `change` to one registered resource (None: remove
    the resource, as if the program no longer declared it)."""

    def variant(evaluate):
        inventory = evaluate(stack)
        if change is None:
            inventory.resources.remove(pick(inventory, type_, name))
        else:
            change(pick(inventory, type_, name))
        return inventory

    variant.__name__ = f"{stack}-{name}"
    return variant


def prop(key: str, new: Any) -> Callable[[Any], None]:
    return lambda resource: set_prop(resource, key, new)


def document(key: str, edit: Callable[[dict], None]) -> Callable[[Any], None]:
    return lambda resource: edit_json(resource, key, edit)


def schedule_target_without_retry(resource) -> None:
    set_prop(
        resource,
        "target",
        {k: v for k, v in resource.inputs["target"].items() if k != "retryPolicy"},
    )


BROKEN = [
    (
        "delivery-waits-for-permission",
        edited("dev", "aws:cloudwatch/eventTarget:EventTarget", "orders-routing-target-processor",
               lambda target: setattr(target, "depends_on", ())),
        "orders-routing-target-processor can deliver before orders-processor-queue-policy admits it",
        "Add depends_on=[orders-processor-queue-policy]",
    ),
    (
        "sns-subscription-has-dlq",
        edited("dev", "aws:sns/topicSubscription:TopicSubscription",
               "orders-order-lifecycle-sub-notification", prop("redrivePolicy", None)),
        "SNS subscription orders-order-lifecycle-sub-notification has no dead-letter queue",
        "Set redrive_policy with deadLetterTargetArn",
    ),
    (
        "silent-loss-alarms",
        edited("dev", ALARM, "orders-routing-rule-processor-failed-invocations", None),
        "rule dev-orders-processor has no alarm on AWS/Events FailedInvocations",
        "(RuleName=dev-orders-processor, Sum > 0)",
    ),
    (
        "silent-loss-alarms",
        edited("dev", ALARM, "orders-order-lifecycle-notifications-failed", None),
        "topic dev-orders-order-lifecycle has no alarm on AWS/SNS NumberOfNotificationsFailed",
        "notifying the alarm topic",
    ),
    (
        "silent-loss-alarms",
        edited("dev", ALARM, "inventory-schedules-dropped", None),
        "schedule dev-inventory-nightly-reconcile (group dev-inventory) has no alarm on "
        "AWS/Scheduler InvocationDroppedCount",
        "ScheduleGroup=dev-inventory",
    ),
    (
        "mapping-concurrency-within-reserved",
        edited("dev", MAPPING, "orders-processor-mapping", prop("scalingConfig", None)),
        "event source mapping orders-processor-mapping sets no maximum concurrency while function "
        "dev-orders-processor reserves 5",
        "Set scaling_config.maximum_concurrency <= 5",
    ),
    (
        "aws-name-limits",
        edited("dev", FUNCTION, "orders-processor-function", prop("name", "dev-" + "x" * 61)),
        "Function name 'dev-xxxxxxxx",
        "has 65 characters; AWS allows at most 64",
    ),
    (
        "consumer-queue-has-dlq",
        edited("dev", QUEUE, "orders-processor-queue", prop("redrivePolicy", None)),
        "queue dev-orders-processor feeds a function but has no redrive policy",
        "Give it a dead-letter queue",
    ),
    (
        "dlq-depth-alarm",
        edited("dev", ALARM, "orders-processor-dlq-depth", None),
        "dead-letter queue dev-orders-processor-dlq has no depth alarm",
        "alarm on AWS/SQS ApproximateNumberOfMessagesVisible for "
        "QueueName=dev-orders-processor-dlq",
    ),
    (
        "dlq-depth-alarm",
        edited("prod", ALARM, "payments-audit-dlq-depth", prop("alarmActions", [])),
        "dead-letter queue prod-payments-audit-dlq.fifo: its depth alarm",
        "alarm_actions set to the alarm topic",
    ),
    (
        "visibility-timeout-covers-function",
        edited("dev", QUEUE, "orders-processor-queue", prop("visibilityTimeoutSeconds", 60.0)),
        "queue dev-orders-processor: visibilityTimeoutSeconds=60 < 6 x 30 s timeout of function "
        "dev-orders-processor",
        "Set queue.visibility_timeout_s >= 180",
    ),
    (
        "max-receive-count",
        receive_count_2,
        "queue dev-orders-processor: maxReceiveCount=2",
        "Set queue.max_receive_count >= 5",
    ),
    (
        "sqs-mapping-reports-batch-item-failures",
        edited("dev", MAPPING, "orders-processor-mapping", prop("functionResponseTypes", None)),
        "event source mapping orders-processor-mapping: without",
        "Add it",
    ),
    (
        "fifo-mapping-limits",
        edited(
            "dev", MAPPING, "payments-audit-mapping", prop("maximumBatchingWindowInSeconds", 5.0)
        ),
        "maximumBatchingWindowInSeconds=5: FIFO sources take no batching window",
        "Remove maximum_batching_window_in_seconds",
    ),
    (
        "fifo-mapping-limits",
        edited("dev", MAPPING, "payments-audit-mapping", prop("batchSize", 20.0)),
        "batchSize=20: FIFO allows at most 10",
        "Set batch_size <= 10",
    ),
    (
        "mapping-concurrency-within-reserved",
        edited(
            "prod", FUNCTION, "orders-fulfillment-function", prop("reservedConcurrentExecutions", 0.0)
        ),
        "may run 20 pollers but function prod-orders-fulfillment has reserved concurrency 0",
        "Set maximum_concurrency <= 0 or raise reserved_concurrency",
    ),
    (
        "consumer-has-idempotency-store",
        idempotency_table_overridden,
        "IDEMPOTENCY_TABLE='orders-dedupe' names no DynamoDB table of this stack",
        "Point it at the idempotency table",
    ),
    (
        "consumer-has-idempotency-store",
        edited(
            "prod",
            ROLE_POLICY,
            "payments-audit-role-policy",
            document("policy", without_statement("OwnIdempotencyKeys")),
        ),
        "function prod-payments-audit cannot write its idempotency store",
        "dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem",
    ),
    (
        "event-target-retry-and-dlq",
        edited(
            "dev",
            "aws:cloudwatch/eventTarget:EventTarget",
            "orders-routing-target-processor",
            prop("deadLetterConfig", None),
        ),
        "event target orders-routing-target-processor (rule dev-orders-processor) has no "
        "dead-letter queue",
        "Set dead_letter_config.arn",
    ),
    (
        "event-target-retry-and-dlq",
        edited(
            "dev",
            "aws:scheduler/schedule:Schedule",
            "inventory-schedules-nightly-reconcile",
            schedule_target_without_retry,
        ),
        "schedule inventory-schedules-nightly-reconcile has no retry policy",
        "set retry_policy",
    ),
    (
        "no-fast-polling-schedule",
        reconcile_every_30_seconds,
        "fires every 30 s (rate(30 seconds))",
        "Publish an event when the state changes instead",
    ),
    (
        "encryption-at-rest",
        edited("dev", QUEUE, "orders-processor-queue", prop("sqsManagedSseEnabled", None)),
        "Queue dev-orders-processor is not explicitly encrypted at rest",
        "set sqs_managed_sse_enabled=True or kms_master_key_id",
    ),
    (
        "encryption-at-rest",
        edited("dev", "aws:sns/topic:Topic", "alarms-topic", prop("kmsMasterKeyId", None)),
        "Topic dev-alarms is not explicitly encrypted at rest",
        "set kms_master_key_id",
    ),
    (
        "encryption-at-rest",
        edited(
            "dev",
            "aws:dynamodb/table:Table",
            "storage-idempotency",
            prop("serverSideEncryption", None),
        ),
        "Table dev-idempotency is not explicitly encrypted at rest",
        "set server_side_encryption enabled=True",
    ),
    (
        "encryption-at-rest",
        edited(
            "dev",
            "aws:s3/bucketServerSideEncryptionConfiguration:"
            "BucketServerSideEncryptionConfiguration",
            "storage-archive-encryption",
            None,
        ),
        "Bucket storage-archive is not explicitly encrypted at rest",
        "add a BucketServerSideEncryptionConfiguration",
    ),
    (
        "bucket-blocks-public-access",
        edited(
            "prod",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "storage-archive-public-access",
            prop("restrictPublicBuckets", False),
        ),
        "bucket storage-archive does not block public access (restrictPublicBuckets not set)",
        "add a BucketPublicAccessBlock with all four flags True",
    ),
    (
        "bucket-denies-insecure-transport",
        edited(
            "dev",
            "aws:s3/bucketPolicy:BucketPolicy",
            "storage-archive-policy",
            document("policy", without_statement("DenyInsecureTransport")),
        ),
        "bucket storage-archive accepts plain-HTTP requests",
        'Condition Bool aws:SecureTransport "false"',
    ),
    (
        "resource-policy-scoped-by-source-arn",
        edited(
            "dev",
            QUEUE_POLICY,
            "orders-processor-queue-policy",
            document("policy", in_statement("OnlyDeclaredSenders", lambda s: s.pop("Condition"))),
        ),
        "orders-processor-queue-policy: statement OnlyDeclaredSenders allows",
        "Add Condition ArnEquals aws:SourceArn",
    ),
    (
        "no-wildcard-data-plane-grants",
        edited(
            "dev",
            ROLE_POLICY,
            "orders-processor-role-policy",
            document("policy", in_statement("ConsumeOwnQueue", lambda s: s.update(Resource="*"))),
        ),
        "statement ConsumeOwnQueue grants resource * for sqs:ReceiveMessage",
        "Name the exact actions",
    ),
    (
        "no-wildcard-data-plane-grants",
        edited(
            "dev",
            ROLE_POLICY,
            "orders-processor-role-policy",
            document(
                "policy",
                in_statement("OwnIdempotencyKeys", lambda s: s.update(Action="dynamodb:*")),
            ),
        ),
        "statement OwnIdempotencyKeys grants action dynamodb:*",
        "Name the exact actions",
    ),
]


@pytest.mark.parametrize(
    ("policy", "variant", "what", "fix"),
    [pytest.param(*case, id=f"{case[0]}:{case[1].__name__}") for case in BROKEN],
)
def test_broken_variant_fails_with_its_message(evaluate, policy, variant, what, fix):
    messages = [v.message for v in run_policy(policy, variant(evaluate))]
    assert any(what in m and fix in m for m in messages), messages


def test_every_policy_has_a_broken_variant():
    from policy_harness import GUARDS

    # cost-budget reads the stack file rather than the resources: its failing variants edit that
    # file, in test_budget.py.
    assert {case[0] for case in BROKEN} == set(GUARDS) - {"cost-budget"}


def test_polling_floor_is_configurable(evaluate):
    inventory = evaluate("dev")
    schedule = pick(
        inventory, "aws:scheduler/schedule:Schedule", "inventory-schedules-nightly-reconcile"
    )
    set_prop(schedule, "scheduleExpression", "rate(1 minute)")
    assert run_policy("no-fast-polling-schedule", inventory) == []
    (violation,) = run_policy("no-fast-polling-schedule", inventory, config={"min_interval_s": 300})
    assert "fire no more often than every 300 s" in violation.message
