"""Builders for the consumer tests: events, SQS records, contexts, environments, a moto account."""

from __future__ import annotations

import importlib
import json
import math
import os
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from unittest import mock

import boto3

from handlers.catalog import ARCHIVE_OBJECTS, GUARD, HANDLERS, HandlerSpec
from handlers.logic.audit_archive import archived_key_counts
from handlers.logic.daily_counters import daily_counts
from handlers.runtime import aws as runtime_aws

ACCOUNT = "123456789012"
TABLE = "platform-idempotency"
BUCKET = "platform-archive"
BUS = "orders"
TOPIC = "order-notifications"
FIFO_TOPIC = "order-notifications.fifo"
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
        # Message attributes of everything drained, in order (the notifications' key hashes).
        self.attributes: list[dict] = []

    def create_topic(self, *, fifo: bool = False) -> None:
        """The notification topic with a raw-delivery queue, to read what was sent.

        A FIFO topic feeds a FIFO queue, which drops a repeated MessageDeduplicationId within
        5 minutes as the topic itself does in AWS (moto's topic passes the id on).
        """
        name = FIFO_TOPIC if fifo else TOPIC
        attributes = {"FifoTopic": "true"} if fifo else {}
        self.topic_arn = self.sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        self.notifications = self._queue("notifications.fifo" if fifo else "notifications")
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=self._queue_arn(self.notifications),
            Attributes={"RawMessageDelivery": "true"},
        )

    def _queue(self, name: str) -> str:
        attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
        return self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]

    def _queue_arn(self, url: str) -> str:
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def drain(self, url: str) -> list[str]:
        bodies: list[str] = []
        while batch := self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            bodies += [m["Body"] for m in batch]
            self.attributes += [m.get("MessageAttributes", {}) for m in batch]
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch
                ],
            )
        return bodies

    def pending(self, url: str) -> int:
        """Messages waiting in a queue, without receiving them."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

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


def attribute_bytes(value: dict) -> int:
    """DynamoDB's size of one attribute value (the rules its capacity units are computed from)."""
    kind, data = next(iter(value.items()))
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        digits = Decimal(data).normalize().as_tuple().digits
        return 1 + math.ceil(len(digits) / 2)
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_bytes(v) + 1 for k, v in data.items())
    if kind == "L":
        return 3 + sum(attribute_bytes(v) + 1 for v in data)
    return sum(len(str(v).encode()) for v in data)  # sets


def item_bytes(item: dict | None) -> int:
    return sum(len(k.encode()) + attribute_bytes(v) for k, v in (item or {}).items())


class DynamoMeter:
    """Counts the DynamoDB capacity units the consumers' client spends, from the items' sizes.

    Each write reads the item before and after (with a client of its own, not counted): a
    put/update/delete costs ceil(larger of the two / 1 KB) write units whether its condition held
    or not (at least 1); a read ceil(size / 4 KB) units, halved when eventually consistent (at
    least one unit's worth even when the item is absent). Any other operation fails the test:
    a consumer that starts using one must be priced here first.
    """

    WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
    READS = {"GetItem"}

    def __init__(self) -> None:
        self.units = 0.0  # write units
        self.read_units = 0.0
        self.calls: Counter = Counter()
        self.failed: Counter = Counter()
        self.largest_item = 0
        self._raw = boto3.client("dynamodb")
        events = runtime_aws.client("dynamodb").meta.events
        events.register("before-parameter-build.dynamodb", self._before)
        events.register("after-call.dynamodb", self._count)

    def _stored(self, params: dict) -> dict | None:
        key = params.get("Key") or {"id": params["Item"]["id"]}
        return self._raw.get_item(TableName=params["TableName"], Key=key, ConsistentRead=True).get(
            "Item"
        )

    def _before(self, params, model, context, **_):
        if model.name not in self.WRITES | self.READS:
            raise AssertionError(f"DynamoMeter does not price {model.name}: add it first")
        context["meter_params"] = params
        if model.name in self.WRITES:
            context["meter_before"] = item_bytes(self._stored(params))

    def _count(self, http_response, parsed, model, context, **_):
        self.calls[model.name] += 1
        self.failed[model.name] += http_response.status_code != 200
        if model.name in self.WRITES:
            after = item_bytes(self._stored(context["meter_params"]))
            size = max(context["meter_before"], after)
            self.largest_item = max(self.largest_item, size)
            self.units += max(1, math.ceil(size / 1024))
        elif model.name in self.READS and http_response.status_code == 200:
            units = max(1, math.ceil(item_bytes(parsed.get("Item")) / 4096))
            consistent = context["meter_params"].get("ConsistentRead", False)
            self.read_units += units if consistent else units / 2

    def reset(self) -> None:
        self.units = 0.0
        self.read_units = 0.0
        self.calls.clear()
        self.failed.clear()


class S3Meter:
    """Counts the S3 requests the consumers' client makes, by operation (failed ones too)."""

    def __init__(self) -> None:
        self.calls: Counter = Counter()
        runtime_aws.client("s3").meta.events.register("after-call.s3", self._count)

    def _count(self, model, **_):
        self.calls[model.name] += 1

    def reset(self) -> None:
        self.calls.clear()


@dataclass(frozen=True)
class Scenario:
    """One consumer as deployed: its module, environment, a typical event and its side effect.

    `variant` is the environment that selects one of the catalogue's choices for the consumer
    (empty: its shipped default).
    """

    name: str
    domain: str
    detail_type: str
    key: str
    queue_kind: str = "standard"
    variant: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        return "-".join([self.name, *(value for _, value in self.variant)])

    @property
    def spec(self) -> HandlerSpec:
        return HANDLERS[self.name].select(dict(self.variant))

    @property
    def module(self):
        return importlib.import_module(f"handlers.{self.name}")

    @property
    def function_name(self) -> str:
        return f"{self.domain}-{self.name}"

    @property
    def fifo_topic(self) -> bool:
        return self.name == "notification_sender" and dict(self.variant).get(GUARD) == (
            "conditional-write"
        )

    def env(
        self, cloud: Cloud, function_name: str | None = None, **overrides: str
    ) -> dict[str, str]:
        extra = {
            "notification_sender": {"NOTIFY_TOPIC_ARN": cloud.topic_arn},
            "audit_logger": {"ARCHIVE_BUCKET": BUCKET, "ARCHIVE_PREFIX": f"audit/{self.domain}/"},
        }.get(self.name, {})
        if self.fifo_topic:
            extra["NOTIFY_TOPIC_ARN"] = f"arn:aws:sns:us-east-1:{ACCOUNT}:{FIFO_TOPIC}"
        return function_env(
            function_name or self.function_name,
            domain=self.domain,
            key=self.key,
            queue_kind=self.queue_kind,
            **{**extra, **dict(self.variant), **overrides},
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

    def events(self, n: int) -> list[dict]:
        """`n` events with distinct business keys (the first is `event()`'s)."""
        if self.detail_type == "PaymentCaptured":
            return [self.event(sequence=i + 1) for i in range(n)]
        return [self.event(orderId=f"o-{i + 1}") for i in range(n)]

    def record(self, event: dict, **kwargs) -> dict:
        if self.queue_kind == "fifo":
            kwargs.setdefault("group", event["detail"]["paymentId"])
        return sqs_record(event, **kwargs)

    def prepare(self, cloud: Cloud) -> None:
        if self.name == "notification_sender":
            cloud.create_topic(fifo=self.fifo_topic)

    def effects(self, cloud: Cloud, meter: DynamoMeter, function_name: str | None = None) -> int:
        """How many times the side effect has happened so far, read where it lands."""
        if self.name == "order_processor":
            return meter.calls["UpdateItem"] - meter.failed["UpdateItem"]
        if self.name == "analytics":
            return sum(daily_counts(cloud.items(), function_name or self.function_name).values())
        if self.name == "audit_logger":
            # Events as the audit_events_unique view shows them (distinct key and payload).
            return sum(archived_key_counts(cloud.archive().items()).values())
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
# Every other configuration the catalogue offers, one scenario each.
VARIANTS = [
    Scenario(
        s.name,
        s.domain,
        s.detail_type,
        s.key,
        s.queue_kind,
        ((alt.choice.variable, alt.choice.value),),
    )
    for s in SCENARIOS
    for alt in HANDLERS[s.name].alternatives
]
ALL_SCENARIOS = SCENARIOS + VARIANTS
assert {v.variant[0][0] for v in VARIANTS} <= {GUARD, ARCHIVE_OBJECTS}


class SimulatedTimeout(BaseException):
    """Lambda killing the process mid-record: no `except Exception` gets to clean up."""


def fail_calls(service: str, operation: str, exc: BaseException, times: int = 1, when="before"):
    """Make the consumers' next `times` calls of one operation raise `exc`.

    `when="before"`: the call never reaches the service; `"after"`: it did, and the process dies
    before the caller sees the answer (the crash window after a side effect).
    """
    left = [times]

    def hook(model, **_):
        if model.name == operation and left[0] > 0:
            left[0] -= 1
            raise exc

    events = runtime_aws.client(service).meta.events
    # Before: ahead of everything else; after: once the meters (registered for the whole
    # service, which botocore runs after any handler of the operation itself) saw it land.
    register = events.register_first if when == "before" else events.register
    register(f"{when}-call.{service}", hook)


def batch_lines(caplog) -> list:
    """The `batch done` log records the consumers wrote, oldest first."""
    return [r for r in caplog.records if r.getMessage() == "batch done"]


def failures(caplog) -> dict[str, dict]:
    """messageId -> its failure entry (kind, reason, receiveCount) from the batch summaries."""
    return {f["messageId"]: f for r in batch_lines(caplog) for f in r.failures}


def failure_reasons(caplog) -> dict[str, str]:
    """messageId -> reason, from the batch summaries the consumers logged."""
    return {message_id: f["reason"] for message_id, f in failures(caplog).items()}
