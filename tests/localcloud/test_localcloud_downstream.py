"""Faults inside the side effect: the moto server answers a consumer's armed downstream call with
the service's server error, which the consumers' own SDK configuration retries and then raises.

Each test calls the server as a consumer does (`handlers.runtime.aws`'s retry configuration,
the function's own credentials), so what is checked is what a handler would see.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from handlers.catalog import HANDLERS
from handlers.runtime.aws import _CONFIG
from localcloud.downstream import Downstream, marks_of
from localcloud.motoserver import MotoServer, serialised
from localcloud.poller import Faults

FUNCTION = "local-orders-processor"
KEY = ["o-000042", 2]
KEY_HASH = "a" * 64
# botocore's `retries.max_attempts` counts retries after the first request (total_max_attempts
# would count all): each armed call reaches the server this many times.
RETRIED = _CONFIG.retries["max_attempts"] + 1


@pytest.fixture(scope="module")
def world():
    faults = Faults()
    downstream = Downstream(faults)
    with mock_aws(), serialised():
        server = MotoServer(downstream)
        server.start()
        try:
            yield server, downstream
        finally:
            server.stop()


def consumer_client(world, service: str, function: str = FUNCTION):
    server, downstream = world
    effect = [call for spec in HANDLERS.values() for choice in spec.choices for call in choice.effect]
    credentials = downstream.register(function, effect)
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=server.endpoint,
        config=_CONFIG,
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials["AWS_SESSION_TOKEN"],
    )


def armed_call(world, call, *, function: str = FUNCTION):
    """(error code or None, requests failed) for `call()` made while the event is armed."""
    _, downstream = world
    before = downstream.failed[function]
    token = downstream.arm(function, marks_of(KEY, KEY_HASH))
    try:
        call()
        code = None
    except ClientError as error:
        code = error.response["Error"]["Code"]
    finally:
        downstream.disarm(token)
    return code, downstream.failed[function] - before


def test_an_order_write_naming_the_event_fails_every_retry_then_succeeds_disarmed(world):
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="t", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    ddb = consumer_client(world, "dynamodb")

    def update(order: str):
        return lambda: ddb.update_item(
            TableName="t", Key={"id": {"S": f"{FUNCTION}#order#{order}"}},
            UpdateExpression="SET #v = :v", ExpressionAttributeNames={"#v": "version"},
            ExpressionAttributeValues={":v": {"N": "2"}},
        )  # fmt: skip

    assert armed_call(world, update("o-000042")) == ("InternalServerError", RETRIED)
    # Another order's write in the same moment goes through: the fault names one event.
    assert armed_call(world, update("o-0000421")) == (None, 0)
    update("o-000042")()  # disarmed: the retry of the record lands
    item = ddb.get_item(TableName="t", Key={"id": {"S": f"{FUNCTION}#order#o-000042"}})["Item"]
    assert item["version"] == {"N": "2"}


def test_a_guard_read_is_not_the_side_effect(world):
    ddb = consumer_client(world, "dynamodb")
    read = lambda: ddb.get_item(TableName="t", Key={"id": {"S": f"{FUNCTION}#{KEY_HASH}"}})
    assert armed_call(world, read) == (None, 0)


def test_each_service_answers_with_its_own_retryable_server_error(world):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="archive")
    bus = boto3.client("events", region_name="us-east-1").create_event_bus(Name="bus")["EventBusArn"]
    topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="notes")["TopicArn"]
    s3, events, sns = (consumer_client(world, s) for s in ("s3", "events", "sns"))
    calls = {
        "SlowDown": lambda: s3.put_object(Bucket="archive", Key=f"audit/x/{KEY_HASH}.json", Body=b"{}"),
        "InternalException": lambda: events.put_events(Entries=[{
            "EventBusName": bus, "Source": "s", "DetailType": "FulfillmentRequested",
            "Detail": json.dumps({"orderId": "o-000042"})}]),
        "InternalError": lambda: sns.publish(
            TopicArn=topic, Message="m",
            MessageAttributes={"eda-key-hash": {"DataType": "String", "StringValue": KEY_HASH}}),
    }  # fmt: skip
    for code, call in calls.items():
        assert armed_call(world, call) == (code, RETRIED)


def test_other_functions_and_unarmed_calls_are_untouched(world):
    other = consumer_client(world, "dynamodb", function="local-orders-analytics")
    put = lambda: other.put_item(TableName="t", Item={"id": {"S": f"x#{KEY_HASH}"}})
    assert armed_call(world, put) == (None, 0)  # armed for FUNCTION, not for this one


def test_an_outage_fails_every_side_effect_call_of_the_function(world):
    _, downstream = world
    ddb = consumer_client(world, "dynamodb")
    downstream.faults.outage = {FUNCTION}
    try:
        with pytest.raises(ClientError, match="InternalServerError"):
            ddb.put_item(TableName="t", Item={"id": {"S": "anything"}})
        ddb.get_item(TableName="t", Key={"id": {"S": "anything"}})  # reads are no side effect
    finally:
        downstream.faults.outage = set()
