"""Bridges play only documented AWS behaviour: the pipe, and EventBridge's literal group ids.

Against moto's queues directly (in-process), without a deployment.
"""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from localcloud import moto_events
from localcloud.bridges import PipeBridge
from localcloud.deploy import MotoState
from localcloud.records import PipeSpec
from localcloud.speedups import MotoQueues
from offline.program import ACCOUNT

REGION = "us-east-1"
MAX_RECEIVES = 3


@pytest.fixture
def sqs():
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def queues(sqs, *, fifo_source: bool) -> tuple[str, str, str]:
    """A staging queue redriving to its DLQ after MAX_RECEIVES, and a FIFO target."""
    suffix = ".fifo" if fifo_source else ""
    fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo_source else {}
    dlq = sqs.create_queue(QueueName=f"staging-dlq{suffix}", Attributes=fifo)["QueueUrl"]
    redrive = {"deadLetterTargetArn": arn(f"staging-dlq{suffix}"), "maxReceiveCount": MAX_RECEIVES}
    attributes = {**fifo, "RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": "60"}
    staging = sqs.create_queue(QueueName=f"staging{suffix}", Attributes=attributes)["QueueUrl"]
    target = sqs.create_queue(QueueName="target.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    return staging, dlq, target


def pipe(sqs, *, fifo_source: bool, template: str | None = "<$.body>") -> PipeBridge:
    suffix = ".fifo" if fifo_source else ""
    spec = PipeSpec(
        name="grouping",
        arn=f"arn:aws:pipes:{REGION}:{ACCOUNT}:pipe/grouping",
        source_arn=arn(f"staging{suffix}"),
        target_arn=arn("target.fifo"),
        batch_size=10,
        batching_window_s=0,
        input_template=template,
        message_group_id="$.body.detail.paymentId",
        message_deduplication_id="$.body.id",
    )
    return PipeBridge(spec, sqs=sqs, region=REGION, probe=MotoQueues(ACCOUNT, REGION).has_visible)


def event(n: int, payment: str | None) -> str:
    detail = {"sequence": n} | ({"paymentId": payment} if payment else {})
    return json.dumps({"id": f"event-{n}", "detail-type": "PaymentCaptured", "detail": detail})


def send(sqs, url: str, bodies: list[str]) -> None:
    extra = {"MessageGroupId": "audit"} if url.endswith(".fifo") else {}
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body, **extra)


def everything(sqs, url: str) -> list[dict]:
    """Every message in the queue, taken out (a FIFO group in flight would hide the rest)."""
    found = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", []):
        found += batch
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    return found


@pytest.mark.parametrize("fifo_source", [True, False], ids=["fifo-staging", "standard-staging"])
def test_pipe_sends_each_event_in_its_own_group_with_its_id_for_deduplication(sqs, fifo_source):
    staging, _, target = queues(sqs, fifo_source=fifo_source)
    bridge = pipe(sqs, fifo_source=fifo_source)
    bodies = [event(n, f"pay-{n % 3}") for n in range(12)]
    send(sqs, staging, bodies)
    while bridge.step():
        pass
    delivered = everything(sqs, target)
    assert bridge.forwarded == 12 and bridge.failed == 0
    # The input template <$.body> hands the consumer the event itself, not the SQS record.
    ids = sorted(json.loads(m["Body"])["id"] for m in delivered)
    assert ids == sorted(f"event-{n}" for n in range(12))
    for message in delivered:
        sent = json.loads(message["Body"])
        assert message["Attributes"]["MessageGroupId"] == sent["detail"]["paymentId"]
        assert message["Attributes"]["MessageDeduplicationId"] == sent["id"]
    assert not everything(sqs, staging)


def test_without_a_template_the_target_gets_the_sqs_record(sqs):
    staging, _, target = queues(sqs, fifo_source=True)
    bridge = pipe(sqs, fifo_source=True, template=None)
    send(sqs, staging, [event(1, "pay-1")])
    bridge.step()
    (message,) = everything(sqs, target)
    record = json.loads(message["Body"])
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == arn("staging.fifo")
    assert json.loads(record["body"])["id"] == "event-1"


def test_a_failing_target_leaves_the_batch_in_staging_until_its_dlq(sqs):
    staging, dlq, target = queues(sqs, fifo_source=True)
    bridge = pipe(sqs, fifo_source=True)
    send(sqs, staging, [event(n, "pay-1") for n in range(3)])
    sqs.delete_queue(QueueUrl=target)  # the target is gone: every SendMessageBatch fails
    for _ in range(MAX_RECEIVES + 1):
        bridge.step()
    assert bridge.forwarded == 0 and bridge.failed == 3 * MAX_RECEIVES
    dead = everything(sqs, dlq)
    # SQS's own redrive moved them, in order, after maxReceiveCount receives.
    assert [json.loads(m["Body"])["id"] for m in dead] == [f"event-{n}" for n in range(3)]
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in dead} == {str(MAX_RECEIVES + 1)}


def test_an_event_without_its_group_holds_what_follows_it_from_a_fifo_source(sqs):
    staging, _, target = queues(sqs, fifo_source=True)
    bridge = pipe(sqs, fifo_source=True)
    send(sqs, staging, [event(0, "pay-0"), event(1, None), event(2, "pay-2")])
    bridge.step()
    assert [json.loads(m["Body"])["id"] for m in everything(sqs, target)] == ["event-0"]
    assert bridge.forwarded == 1 and bridge.failed == 2
    # Both wait in staging, in order: the second is not sent ahead of the first.
    held = sqs.receive_message(QueueUrl=staging, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["id"] for m in held] == ["event-1", "event-2"]


def test_a_rule_target_sends_a_group_id_literally_without_a_bridge(sqs):
    """EventBridge's SqsParameters.MessageGroupId is a fixed value (API reference): a `$.` value
    is a group name like any other, so every event lands in that one group, as in moto."""
    events = boto3.client("events", region_name=REGION)
    session = boto3.Session(region_name=REGION)
    fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    url = sqs.create_queue(QueueName="ordered.fifo", Attributes=fifo)["QueueUrl"]
    events.create_event_bus(Name="payments")
    pattern = json.dumps({"source": ["test"]})
    events.put_rule(Name="all", EventBusName="payments", EventPattern=pattern)
    state = MotoState(session, REGION)
    moto_events.event_target(state, "target", {
        "rule": "all", "eventBusName": "payments", "targetId": "ordered",
        "arn": arn("ordered.fifo"),
        "sqsTarget": {"messageGroupId": "$.detail.paymentId"},
    })  # fmt: skip
    assert not state.relays and not state.report.bridged
    events.put_events(Entries=[
        {"EventBusName": "payments", "Source": "test", "DetailType": "PaymentCaptured",
         "Detail": json.dumps({"paymentId": f"pay-{n}"})}
        for n in range(4)
    ])  # fmt: skip
    delivered = everything(sqs, url)
    assert len(delivered) == 4
    assert {m["Attributes"]["MessageGroupId"] for m in delivered} == {"$.detail.paymentId"}
