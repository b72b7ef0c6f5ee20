"""What Pulumi mocks and moto cannot show, shown on the registered program: ordering of
permissions before delivery, a dead-letter path and an alarm on every silent-loss path, poller
concurrency within reservations, the key policy per integration, consistent retention, tags."""

import inspect
import json

import pulumi_aws as aws
import pytest

from settings.load import from_stack_file
from settings.naming import StackNames

STACKS = ["dev", "prod", "local"]
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
QUEUE = "aws:sqs/queue:Queue"
POLICY = "aws:sqs/queuePolicy:QueuePolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def named(inventory, type_):
    return {r.name: r for r in inventory.of_type(type_)}


def queue_names(inventory):
    return {q.outputs["arn"]: q.inputs["name"] for q in inventory.of_type(QUEUE)}


def policy_of(inventory, queue_name):
    """The QueuePolicy whose queue is `queue_name`, by the URL it is attached to."""
    url = next(q.outputs["url"] for q in inventory.of_type(QUEUE) if q.inputs["name"] == queue_name)
    return next(p for p in inventory.of_type(POLICY) if p.inputs["queueUrl"] == url)


def alarms_on(inventory, namespace, metric):
    return [
        a for a in inventory.of_type(ALARM)
        if a.inputs["namespace"] == namespace and a.inputs["metricName"] == metric
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_every_rule_target_waits_for_the_policies_that_admit_it(inventories, stack):
    inventory = inventories(stack)
    arns = queue_names(inventory)
    topic_policies = {p.inputs["arn"]: p.name for p in inventory.of_type("aws:sns/topicPolicy:TopicPolicy")}
    for target in inventory.of_type(TARGET):
        if target.inputs["arn"] in arns:
            admitting = policy_of(inventory, arns[target.inputs["arn"]]).name
        else:
            admitting = topic_policies[target.inputs["arn"]]
        dlq = policy_of(inventory, arns[target.inputs["deadLetterConfig"]["arn"]]).name
        assert {admitting, dlq} <= set(target.depends_on), target.name


@pytest.mark.parametrize("stack", STACKS)
def test_every_sns_subscription_has_an_alarmed_dlq_and_waits_for_both_policies(inventories, stack):
    inventory = inventories(stack)
    arns = queue_names(inventory)
    subscriptions = [s for s in inventory.of_type(SUBSCRIPTION) if s.inputs["protocol"] == "sqs"]
    config = from_stack_file(stack)
    declared = [c for d in config.domains.values() for c in d.consumers.values() if c.subscribe.topic]
    assert len(subscriptions) == len(declared)
    depth_alarmed = {
        a.inputs["dimensions"]["QueueName"]
        for a in alarms_on(inventory, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    }
    for sub in subscriptions:
        dlq = arns[json.loads(sub.inputs["redrivePolicy"])["deadLetterTargetArn"]]
        assert dlq in depth_alarmed, sub.name
        dlq_policy = json.loads(policy_of(inventory, dlq).inputs["policy"])
        admit = dlq_policy["Statement"][0]
        assert admit["Principal"] == {"Service": "sns.amazonaws.com"}
        assert admit["Condition"]["ArnEquals"]["aws:SourceArn"] == [sub.inputs["topic"]]
        expected = {policy_of(inventory, arns[sub.inputs["endpoint"]]).name, policy_of(inventory, dlq).name}
        assert expected <= set(sub.depends_on), sub.name


@pytest.mark.parametrize("stack", STACKS)
def test_every_silent_loss_path_has_an_alarm_on_the_alarm_topic(inventories, stack):
    inventory = inventories(stack)
    config = from_stack_file(stack)
    names = StackNames(stack)
    rules = {r.inputs["name"] for r in inventory.of_type("aws:cloudwatch/eventRule:EventRule")}
    for metric in ("FailedInvocations", "InvocationsFailedToBeSentToDlq"):
        watched = {a.inputs["dimensions"]["RuleName"] for a in alarms_on(inventory, "AWS/Events", metric)}
        assert watched == rules, metric
    topics = {
        names.domain(d).topic(t) for d, domain in config.domains.items() for t in domain.topics
    }
    failed = alarms_on(inventory, "AWS/SNS", "NumberOfNotificationsFailed")
    assert {a.inputs["dimensions"]["TopicName"] for a in failed} == topics
    groups = {names.domain(d).schedule_group for d, domain in config.domains.items() if domain.schedules}
    for metric in ("InvocationDroppedCount", "InvocationsFailedToBeSentToDeadLetterCount"):
        watched = {a.inputs["dimensions"]["ScheduleGroup"] for a in alarms_on(inventory, "AWS/Scheduler", metric)}
        assert watched == groups, metric
    alarm_topic = inventory.exports["alarm_topic_arn"]
    for alarm in inventory.of_type(ALARM):
        assert alarm.inputs["alarmActions"] == [alarm_topic], alarm.name
        assert alarm.inputs["treatMissingData"] == "notBreaching", alarm.name
    # Every queue that can hold a failed event is a DLQ with a depth alarm.
    dlqs = {q.inputs["name"] for q in inventory.of_type(QUEUE) if "dlq" in q.inputs["name"]}
    depth = {a.inputs["dimensions"]["QueueName"] for a in alarms_on(inventory, "AWS/SQS", "ApproximateNumberOfMessagesVisible")}
    assert dlqs == depth


@pytest.mark.parametrize("stack", STACKS)
def test_pollers_never_outrun_the_functions_reservation(inventories, stack):
    inventory = inventories(stack)
    functions = {f.outputs["arn"]: f for f in inventory.of_type("aws:lambda/function:Function")}
    for mapping in inventory.of_type("aws:lambda/eventSourceMapping:EventSourceMapping"):
        reserved = functions[mapping.inputs["functionName"]].inputs["reservedConcurrentExecutions"]
        cap = mapping.inputs["scalingConfig"]["maximumConcurrency"]
        assert 2 <= cap <= reserved, mapping.name


def test_poller_cap_defaults_to_the_reservation_and_dev_reserves_little(inventories):
    config = from_stack_file("dev")
    consumers = [c for d in config.domains.values() for c in d.consumers.values()]
    assert sum(c.reserved_concurrency for c in consumers) <= 50
    assert all(c.poller_concurrency == c.reserved_concurrency for c in consumers)


def test_key_policy_has_one_documented_statement_per_integration(inventories):
    key = inventories("prod").of_type("aws:kms/key:Key")[0]
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    expected = {
        "EventBridgeDeliversToEncryptedTargets": ("events.amazonaws.com", ["kms:Decrypt", "kms:GenerateDataKey"]),
        "SnsDeliversToEncryptedQueues": ("sns.amazonaws.com", ["kms:Decrypt", "kms:GenerateDataKey*"]),
        "CloudWatchAlarmsPublishToEncryptedTopics": ("cloudwatch.amazonaws.com", ["kms:Decrypt", "kms:GenerateDataKey*"]),
    }
    for sid, (service, actions) in expected.items():
        statement = statements[sid]
        assert statement["Principal"] == {"Service": service}
        assert statement["Action"] == actions
        assert "Condition" not in statement  # none of the pages documents one
    assert set(statements) == {*expected, "AccountAdministers"}


def test_consumer_roles_use_the_key_only_through_their_services(inventories):
    inventory = inventories("prod")
    role_policies = {p.inputs["role"]: json.loads(p.inputs["policy"]) for p in inventory.of_type("aws:iam/rolePolicy:RolePolicy")}
    services = {}
    for name, policy in role_policies.items():
        for statement in policy["Statement"]:
            if statement.get("Sid") == "PlatformKeyViaItsServices":
                services[name] = {s.split(".")[0] for s in statement["Condition"]["StringEquals"]["kms:ViaService"]}
    assert services["prod-payments-audit"] == {"dynamodb", "sqs"}  # a customer-key queue
    assert services["prod-orders-notification"] == {"dynamodb", "sns"}
    assert services["prod-orders-processor"] == {"dynamodb"}


@pytest.mark.parametrize(("stack", "kept"), [("prod", True), ("dev", False)])
def test_key_table_and_bucket_are_kept_together_or_not_at_all(inventories, stack, kept):
    inventory = inventories(stack)
    stateful = [
        *inventory.of_type("aws:kms/key:Key"),
        *inventory.of_type("aws:dynamodb/table:Table"),
        *inventory.of_type("aws:s3/bucket:Bucket"),
    ]
    assert len(stateful) == 3
    assert {(r.protect, r.retain_on_delete) for r in stateful} == {(kept, kept)}


def test_bucket_lifecycle_expires_and_cleans_delete_markers_without_useless_transitions(inventories):
    lifecycle = inventories("prod").of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[0]
    rules = {r["id"]: r for r in lifecycle.inputs["rules"]}
    assert not any(r.get("transitions") for r in rules.values())
    assert rules["age-out-events"]["expiration"]["days"] == from_stack_file("prod").retention.bucket_expire_after_days
    assert rules["remove-expired-delete-markers"]["expiration"] == {"expiredObjectDeleteMarker": True}


def test_scheduler_and_pipe_roles_admit_only_this_accounts_resource(inventories):
    roles = inventories("dev").of_type("aws:iam/role:Role")
    for service in ("scheduler.amazonaws.com", "pipes.amazonaws.com"):
        trusted = [
            json.loads(r.inputs["assumeRolePolicy"])["Statement"][0]
            for r in roles
            if json.loads(r.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": service}
        ]
        assert trusted, service
        for statement in trusted:
            assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
            assert "aws:SourceArn" in statement["Condition"]["ArnEquals"]


def test_key_alias_names_the_project_and_the_stack(inventories):
    alias = inventories("dev").of_type("aws:kms/alias:Alias")[0]
    assert alias.inputs["name"] == "alias/eda-platform-dev"


@pytest.mark.parametrize("stack", STACKS)
def test_per_entity_fifo_goes_through_a_pipe_and_no_json_path_reaches_a_rule_target(inventories, stack):
    inventory = inventories(stack)
    config = from_stack_file(stack)
    arns = queue_names(inventory)
    pipes = {arns[p.inputs["target"]]: p for p in inventory.of_type("aws:pipes/pipe:Pipe")}
    for target in inventory.of_type(TARGET):
        group = (target.inputs.get("sqsTarget") or {}).get("messageGroupId")
        assert group is None or not group.startswith("$"), target.name
    grouped = {
        StackNames(stack).domain(d).queue(c, True): consumer.queue.message_group_path
        for d, domain in config.domains.items()
        for c, consumer in domain.consumers.items()
        if consumer.queue.message_group_path
    }
    assert set(pipes) == set(grouped)
    for queue, path in grouped.items():
        pipe = pipes[queue]
        sqs = pipe.inputs["targetParameters"]["sqsQueueParameters"]
        assert sqs["messageGroupId"] == "$.body." + path.removeprefix("$.")
        assert sqs["messageDeduplicationId"] == "$.body.id"
        assert pipe.inputs["targetParameters"]["inputTemplate"] == "<$.body>"
        staging = arns[pipe.inputs["source"]]
        assert staging.endswith("-staging.fifo")
        staging_queue = next(q for q in inventory.of_type(QUEUE) if q.inputs["name"] == staging)
        redrive = json.loads(staging_queue.inputs["redrivePolicy"])
        assert redrive["maxReceiveCount"] >= 5  # AWS's guidance for an SQS pipe source
        assert alarms_on(inventory, "AWS/EventBridge/Pipes", "ExecutionFailed")


def _taggable(type_):
    module, _, name = type_.split(":")[1].partition("/")
    cls = getattr(getattr(aws, {"lambda": "lambda_"}.get(module, module)), type_.rsplit(":", 1)[1])
    return "tags" in inspect.signature(cls._internal_init).parameters


@pytest.mark.parametrize("stack", STACKS)
def test_every_taggable_resource_carries_the_cost_allocation_tags(inventories, stack):
    inventory = inventories(stack)
    config = from_stack_file(stack)
    checked = 0
    for resource in inventory.resources:
        if not resource.custom or not _taggable(resource.type):
            continue
        checked += 1
        tags = resource.inputs.get("tags") or {}
        assert tags.get("eda:project") == "eda-platform", resource.name
        assert tags.get("eda:stack") == stack, resource.name
        if "eda:domain" in tags:
            assert tags["eda:domain"] in config.domains, resource.name
        if "eda:consumer" in tags:
            assert tags["eda:consumer"] in config.domains[tags["eda:domain"]].consumers, resource.name
    functions = inventory.of_type("aws:lambda/function:Function")
    assert all("eda:consumer" in f.inputs["tags"] for f in functions)
    assert checked > 100
