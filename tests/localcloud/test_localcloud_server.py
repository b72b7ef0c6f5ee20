"""The moto server the workers call: the same backends as in-process moto, and AWS's atomic
conditional writes even under concurrent requests."""

from __future__ import annotations

import sys
import threading
from collections import Counter

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from localcloud.motoserver import MotoServer, serialised


@pytest.fixture(scope="module")
def server():
    with mock_aws(), serialised():
        moto = MotoServer()
        moto.start()
        try:
            yield moto
        finally:
            moto.stop()


def remote(server: MotoServer, service: str):
    # One connection per thread, no retries: every request reaches moto exactly once.
    config = Config(max_pool_connections=32, retries={"max_attempts": 1, "mode": "standard"})
    return boto3.client(
        service, region_name="us-east-1", endpoint_url=server.endpoint, config=config
    )


def test_the_server_serves_the_in_process_backends(server):
    local = boto3.client("sqs", region_name="us-east-1")
    url = local.create_queue(QueueName="shared")["QueueUrl"]
    remote(server, "sqs").send_message(QueueUrl=url, MessageBody="over http")
    (message,) = local.receive_message(QueueUrl=url)["Messages"]
    assert message["Body"] == "over http"


def test_concurrent_conditional_writes_apply_once(server):
    """moto evaluates a condition and writes in two steps; under concurrent requests both writers
    could pass the check. DynamoDB applies each conditional write atomically: exactly one of the
    racing writers succeeds, the others get ConditionalCheckFailedException."""
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="race",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb = remote(server, "dynamodb")
    applied: list[str] = []
    errors: list[str] = []

    def write(key: str, version: int) -> None:
        try:
            ddb.update_item(
                TableName="race",
                Key={"id": {"S": key}},
                UpdateExpression="SET #version = :v",
                ConditionExpression="attribute_not_exists(#id) OR #version < :v",
                ExpressionAttributeNames={"#id": "id", "#version": "version"},
                ExpressionAttributeValues={":v": {"N": str(version)}},
            )
            applied.append(key)
        except ClientError as exc:
            # By code: botocore builds a client's exception classes lazily, and threads racing
            # on the first one can each build their own class of that name.
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                errors.append(repr(exc))
        except Exception as exc:  # e.g. moto's KeyError('version') half-way through a write
            errors.append(repr(exc))

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave threads as often as possible: races show at once
    try:
        for key in range(40):
            racers = [threading.Thread(target=write, args=(f"k{key}", 1)) for _ in range(6)]
            for racer in racers:
                racer.start()
            for racer in racers:
                racer.join()
    finally:
        sys.setswitchinterval(switch)
    assert not errors
    assert Counter(applied) == {f"k{key}": 1 for key in range(40)}
