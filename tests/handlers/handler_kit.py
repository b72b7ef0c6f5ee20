"""Builders for the consumer tests: events, SQS records, contexts, environments, a moto account."""

from __future__ import annotations

import importlib
import json
import os
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

import boto3

from handlers.runtime import aws as runtime_aws

ACCOUNT = "123456789012"
TABLE = "platform-idempotency"
BUCKET = "platform-archive"
BUS = "orders"
TOPIC = "order-notifications"
SOURCES = {"orders": "com.ascendion.orders", "payments": "com.ascendion.payments"}


@dataclass
class Context:
    """What Lambda (or the emulator) passes: its remaining time drives in-progress expiry."""

    remaining_ms: int = 30_000
    function_name: str = "fn"
    aws_request_id: str = "req-1"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def order_created(order_id: str = "o-1", **overrides) -> dict:
    detail = {
        "orderId": order_id,
        "version": 1,
        "customerId": "c-1",
        "customerName": "Ada",
        "customerEmail": "ada@example.com",
        "items": [{"sku": "sku-1", "quantity": 2, "unitPrice": 5.0}],
        "total": 10.0,
        "currency": "EUR",
        "createdAt": "2026-03-01T10:00:00Z",
    }
    return {**detail, **overrides}


def order_updated(
    order_id: str = "o-1", version: int = 2, status: str = "CONFIRMED", **overrides
) -> dict:
    return {
        "orderId": order_id,
        "version": version,
        "status": status,
        "updatedAt": "2026-03-01T11:00:00Z",
        **overrides,
    }


def payment(payment_id: str = "p-1", sequence: int = 1, **overrides) -> dict:
    detail = {
        "paymentId": payment_id,
        "sequence": sequence,
        "orderId": "o-1",
        "amount": 10.0,
        "currency": "EUR",
        "occurredAt": "2026-03-01T10:00:00Z",
    }
    return {**detail, **overrides}


def eb_event(
    detail_type: str,
    detail: dict,
    *,
    domain: str = "orders",
    event_id: str | None = None,
    time: str = "2026-03-01T10:00:01Z",
) -> dict:
    """An EventBridge event as a rule target receives it; a re-send gets a new id and time."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": SOURCES[domain],
        "account": ACCOUNT,
        "time": time,
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def sqs_record(
    event: dict | str,
    *,
    message_id: str | None = None,
    group: str | None = None,
    queue: str = "q",
    receive_count: int = 1,
) -> dict:
    attributes = {
        "ApproximateReceiveCount": str(receive_count),
        "SentTimestamp": "1767225600000",
        "SenderId": "AIDAEXAMPLE",
        "ApproximateFirstReceiveTimestamp": "1767225600000",
    }
    if group:
        attributes |= {"MessageGroupId": group, "MessageDeduplicationId": str(uuid.uuid4())}
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": event if isinstance(event, str) else json.dumps(event),
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{queue}",
        "awsRegion": "us-east-1",
    }


def batch(*records: dict) -> dict:
    return {"Records": list(records)}


def failed_ids(response: dict) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def function_env(
    name: str,
    *,
    domain: str = "orders",
    key: str = "[detail.orderId, detail.version]",
    queue_kind: str = "standard",
    **extra: str,
) -> dict[str, str]:
    """The environment the compute tier gives one function."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "POWERTOOLS_SERVICE_NAME": name,
        "POWERTOOLS_METRICS_NAMESPACE": "eda/test",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "IDEMPOTENCY_TABLE": TABLE,
        "IDEMPOTENCY_KEY_PATH": key,
        "IDEMPOTENCY_WINDOW_SECONDS": "3600",
        "QUEUE_KIND": queue_kind,
        "DOMAIN": domain,
        "EVENT_SOURCE": SOURCES[domain],
        "EVENT_BUS_NAME": BUS,
        **extra,
    }


class Cloud:
    def __init__(self, monkeypatch) -> None:
        self.monkeypatch = monkeypatch
        self.ddb = boto3.client("dynamodb")
        self.ddb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.s3 = boto3.client("s3")
        self.s3.create_bucket(Bucket=BUCKET)
        self.sqs = boto3.client("sqs")
        self.sns = boto3.client("sns")
        self.topic_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:{TOPIC}"
        self.events = boto3.client("events")
        self.events.create_event_bus(Name=BUS)
        self.follow_ups = self._queue("follow-ups")
        self.events.put_rule(
            Name="follow-ups",
            EventBusName=BUS,
            EventPattern=json.dumps({"detail-type": ["FulfillmentRequested"]}),
        )
        self.events.put_targets(
            Rule="follow-ups",
            EventBusName=BUS,
            Targets=[{"Id": "q", "Arn": self._queue_arn(self.follow_ups)}],
        )
        self.notifications: str | None = None
        self._delivered: dict[str, list[str]] = {}

    def create_topic(self) -> None:
        """The notification topic with a raw-delivery queue, to read what was sent."""
        assert self.sns.create_topic(Name=TOPIC)["TopicArn"] == self.topic_arn
        self.notifications = self._queue("notifications")
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=self._queue_arn(self.notifications),
            Attributes={"RawMessageDelivery": "true"},
        )

    def _queue(self, name: str) -> str:
        return self.sqs.create_queue(QueueName=name)["QueueUrl"]

    def _queue_arn(self, url: str) -> str:
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def drain(self, url: str) -> list[str]:
        bodies: list[str] = []
        while batch := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            bodies += [m["Body"] for m in batch]
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch
                ],
            )
        return bodies

    def items(self) -> list[dict]:
        return self.ddb.scan(TableName=TABLE, ConsistentRead=True)["Items"]

    def item(self, item_id: str) -> dict | None:
        return self.ddb.get_item(
            TableName=TABLE, Key={"id": {"S": item_id}}, ConsistentRead=True
        ).get("Item")

    def archive(self) -> dict[str, bytes]:
        listing = self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return {
            o["Key"]: self.s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
            for o in listing
        }

    def env(self, variables: dict[str, str]) -> None:
        for name, value in variables.items():
            self.monkeypatch.setenv(name, value)

    def deliveries(self, url: str) -> list[str]:
        """Everything a queue has received so far in this test (drained, then remembered)."""
        self._delivered.setdefault(url, []).extend(self.drain(url))
        return self._delivered[url]


@contextmanager
def function(variables: dict[str, str]):
    """Run with one function's environment, as the emulator does around each call."""
    with mock.patch.dict(os.environ, variables):
        yield


def invoke(module, variables: dict[str, str], *records: dict, remaining_ms: int = 30_000) -> dict:
    with function(variables):
        return module.handler(
            batch(*records), Context(remaining_ms, variables.get("AWS_LAMBDA_FUNCTION_NAME", ""))
        )


class DynamoMeter:
    """Counts the DynamoDB write units the consumers' client spends (items under 1 KB).

    put/update/delete: 1 unit each, whether the condition holds or not; a transaction: 2 units
    per item when it commits, 1 per item when it is cancelled.
    """

    WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}

    def __init__(self) -> None:
        self.units = 0.0
        self.calls: Counter = Counter()
        self.failed: Counter = Counter()
        self._transaction_items = 0
        events = runtime_aws.client("dynamodb").meta.events
        events.register("provide-client-params.dynamodb.TransactWriteItems", self._transaction)
        events.register("after-call.dynamodb", self._count)

    def _transaction(self, params, **_):
        self._transaction_items = len(params["TransactItems"])

    def _count(self, http_response, parsed, model, **_):
        self.calls[model.name] += 1
        self.failed[model.name] += http_response.status_code != 200
        if model.name not in self.WRITES:
            return
        if model.name == "TransactWriteItems":
            per_item = 2 if http_response.status_code == 200 else 1
            self.units += per_item * self._transaction_items
        else:
            self.units += 1

    def reset(self) -> None:
        self.units = 0.0
        self.calls.clear()
        self.failed.clear()


@dataclass(frozen=True)
class Scenario:
    """One consumer as deployed: its module, environment, a typical event and its side effect."""

    name: str
    domain: str
    detail_type: str
    key: str
    queue_kind: str = "standard"

    @property
    def module(self):
        return importlib.import_module(f"handlers.{self.name}")

    def env(
        self, cloud: Cloud, function_name: str | None = None, **overrides: str
    ) -> dict[str, str]:
        extra = {
            "notification_sender": {"NOTIFY_TOPIC_ARN": cloud.topic_arn},
            "audit_logger": {"ARCHIVE_BUCKET": BUCKET, "ARCHIVE_PREFIX": f"audit/{self.domain}/"},
        }.get(self.name, {})
        return function_env(
            function_name or f"{self.domain}-{self.name}",
            domain=self.domain,
            key=self.key,
            queue_kind=self.queue_kind,
            **{**extra, **overrides},
        )

    def detail(self, **overrides) -> dict:
        return {
            "OrderCreated": order_created,
            "OrderUpdated": order_updated,
            "PaymentCaptured": payment,
        }[self.detail_type](**overrides)

    def changed_event(self) -> dict:
        """Same business key, different (still valid) payload."""
        change = {
            "OrderCreated": {"total": 99.0},
            "OrderUpdated": {"status": "PACKED"},
            "PaymentCaptured": {"amount": 99.0},
        }
        return self.event(**change[self.detail_type])

    def event(self, **overrides) -> dict:
        return eb_event(self.detail_type, self.detail(**overrides), domain=self.domain)

    def record(self, event: dict, **kwargs) -> dict:
        if self.queue_kind == "fifo":
            kwargs.setdefault("group", event["detail"]["paymentId"])
        return sqs_record(event, **kwargs)

    def prepare(self, cloud: Cloud) -> None:
        if self.name == "notification_sender":
            cloud.create_topic()

    def effects(self, cloud: Cloud, meter: DynamoMeter) -> int:
        """How many times the side effect has happened so far."""
        if self.name == "order_processor":
            return meter.calls["UpdateItem"] - meter.failed["UpdateItem"]
        if self.name == "analytics":
            return sum(int(i["count"]["N"]) for i in cloud.items() if "count" in i)
        if self.name == "audit_logger":
            return len(cloud.archive())
        if self.name == "notification_sender":
            return len(cloud.deliveries(cloud.notifications))
        return len(cloud.deliveries(cloud.follow_ups))


SCENARIOS = [
    Scenario("order_processor", "orders", "OrderCreated", "[detail.orderId, detail.version]"),
    Scenario("notification_sender", "orders", "OrderCreated", "[detail.orderId, detail.version]"),
    Scenario(
        "audit_logger", "payments", "PaymentCaptured", "[detail.paymentId, detail.sequence]", "fifo"
    ),
    Scenario("analytics", "orders", "OrderCreated", "[detail.orderId, detail.version]"),
    Scenario("fulfillment", "orders", "OrderUpdated", "[detail.orderId, detail.version]"),
]


def failure_reasons(caplog) -> dict[str, str]:
    """messageId -> reason, from the batch summaries the consumers logged."""
    return {
        f["messageId"]: f["reason"]
        for r in caplog.records
        if r.getMessage() == "batch done"
        for f in r.failures
    }
