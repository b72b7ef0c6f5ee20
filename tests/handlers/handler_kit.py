"""Builders for the consumer tests: events, SQS records, contexts, environments, a moto account."""

from __future__ import annotations

import importlib
import json
import math
import os
import random
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property
from unittest import mock

import boto3
import jmespath

from handlers.catalog import HANDLERS, HandlerSpec
from handlers.observation import observer_for, routed_by_key
from handlers.runtime import aws as runtime_aws
from localcloud.schema_samples import Sampler
from settings.keys import field_paths, received_types
from settings.load import from_stack_file, schema_path
from settings.naming import archive_prefix

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
    source: str | None = None,
    event_id: str | None = None,
    time: str = "2026-03-01T10:00:01Z",
) -> dict:
    """An EventBridge event as a rule target receives it; a re-send gets a new id and time."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source or SOURCES[domain],
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
    source: str | None = None,
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
        "EVENT_DOMAINS": json.dumps({source or SOURCES[domain]: domain}),
        "EVENT_SOURCE": source or SOURCES[domain],
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
        # Per queue, the message attributes of what was delivered, in delivery order.
        self.delivered_attributes: dict[str, list[dict]] = {}

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
            attributes = self.delivered_attributes.setdefault(url, [])
            attributes += [m.get("MessageAttributes", {}) for m in batch]
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
    """One consumer as a shipped stack declares it, run as the compute tier deploys it.

    Derived from the stack files and the catalogue (`declared_scenarios`), so a new handler is
    picked up once a consumer in a stack file runs it: its domain, business key, queue kind and
    environment come from that consumer, its events are generated from the schema of the first
    type it receives, the variables it needs from the catalogue's `needs`, its side effect is
    read back by the catalogue's observer. `variant` is the environment that selects one of the
    catalogue's choices (empty: the consumer's shipped configuration).
    """

    name: str
    domain: str
    source: str
    detail_type: str
    key: str
    queue_kind: str = "standard"
    group_path: tuple[str, ...] = ()  # a FIFO consumer's message group field
    declared: tuple[tuple[str, str], ...] = ()  # the consumer's environment in its stack file
    variant: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        return "-".join([self.name, *(value for _, value in self.variant)])

    @property
    def spec(self) -> HandlerSpec:
        return HANDLERS[self.name].select(dict(self.declared + self.variant))

    @property
    def module(self):
        return importlib.import_module(f"handlers.{self.name}")

    @property
    def function_name(self) -> str:
        return f"{self.domain}-{self.name}"

    @property
    def fifo_topic(self) -> bool:
        """A one-write notification guard needs an SNS FIFO topic (its deduplication)."""
        return "notify_topic" in self.spec.needs and self.spec.idempotency == "conditional-write"

    def env(
        self, cloud: Cloud, function_name: str | None = None, **overrides: str
    ) -> dict[str, str]:
        needs = self.spec.needs
        extra = {}
        if "archive_bucket" in needs:
            extra |= {"ARCHIVE_BUCKET": BUCKET, "ARCHIVE_PREFIX": archive_prefix(self.domain)}
        if "notify_topic" in needs:
            extra["NOTIFY_TOPIC_ARN"] = cloud.topic_arn
        return function_env(
            function_name or self.function_name,
            domain=self.domain,
            source=self.source,
            key=self.key,
            queue_kind=self.queue_kind,
            **{**extra, **dict(self.declared), **dict(self.variant), **overrides},
        )

    @cached_property
    def _sampler(self) -> Sampler:
        schema = json.loads(schema_path(self.domain, self.detail_type).read_text())
        return Sampler(schema, f"{self.domain}/{self.detail_type}")

    @cached_property
    def _key_fields(self) -> list[tuple[str, ...]]:
        """The detail fields the business key names, e.g. [("orderId",), ("version",)]."""
        paths = field_paths(jmespath.compile(self.key).parsed)
        return [path[1:] for path in paths if path[0] == "detail"]

    def detail(self, index: int = 0, **overrides) -> dict:
        """A schema-valid detail, the same for the same `index`."""
        return {**self._sampler.detail(random.Random(index), index), **overrides}

    def changed_event(self) -> dict:
        """Same business key as `event()`, one other field changed (still valid)."""
        first = self.detail()
        keyed = {path[0] for path in self._key_fields}
        for index in range(1, 50):
            other = self.detail(index)
            for name in first:
                if name not in keyed and other.get(name, first[name]) != first[name]:
                    changed = {**first, name: other[name]}
                    self._sampler.check(changed)
                    return self.event(**changed)
        raise AssertionError(f"{self.detail_type}: no sample changes a field outside the key")

    def event(self, **overrides) -> dict:
        return eb_event(self.detail_type, self.detail(**overrides), source=self.source)

    def events(self, n: int) -> list[dict]:
        """`n` events with distinct business keys (the first is `event()`'s)."""
        ids = [p for p in self._key_fields if self._sampler.node(p).get("type") == "string"]
        events = [self.event()]
        taken = {p: {_get(events[0]["detail"], p)} for p in ids}
        for i in range(1, n):
            detail = self.detail()
            for path in ids:
                value = self._sampler.unique(path, i, taken[path])
                taken[path].add(value)
                _put(detail, path, value)
            events.append(self.event(**detail))
        return events

    def record(self, event: dict, **kwargs) -> dict:
        if self.queue_kind == "fifo":
            kwargs.setdefault("group", _get(event["detail"], self.group_path))
        return sqs_record(event, **kwargs)

    def prepare(self, cloud: Cloud) -> None:
        if "notify_topic" in self.spec.needs:
            cloud.create_topic(fifo=self.fifo_topic)

    def effects(self, cloud: Cloud, *events: dict, function_name: str | None = None) -> int:
        """How many side effects the services hold, read back by the catalogue's observer: one
        per event it shows applied (or superseded by a newer one), plus any it cannot tie to
        `events`."""
        observe = observer_for(self.name, dict(self.declared + self.variant))
        seen = observe(
            KitEffects(cloud), domain=self.domain, function=function_name or self.function_name,
            routed=routed_by_key(events, self.key),
        )  # fmt: skip
        assert not seen.disagreements, seen.disagreements  # every effect holds its event's fields
        return sum(seen.applied.values()) + len(seen.implied)


def _get(detail: dict, path: tuple[str, ...]):
    for name in path:
        detail = detail[name]
    return detail


def _put(detail: dict, path: tuple[str, ...], value) -> None:
    for name in path[:-1]:
        detail = detail.setdefault(name, {})
    detail[path[-1]] = value


class KitEffects:
    """`handlers.observation.Effects` over the test account."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def table_items(self) -> list[dict]:
        return self.cloud.items()

    def archive_objects(self, domain: str):
        return [(k, v) for k, v in self.cloud.archive().items() if k.startswith(archive_prefix(domain))]

    def notifications(self, domain: str) -> list[dict]:
        """Raw delivery: the message and its attributes (a raw subscriber gets no subject)."""
        if self.cloud.notifications is None:
            return []
        bodies = self.cloud.deliveries(self.cloud.notifications)
        return [
            {"Message": body, "MessageAttributes": {k: {"Value": v["StringValue"]} for k, v in attributes.items()}}
            for body, attributes in zip(bodies, self.cloud.delivered_attributes.get(self.cloud.notifications, []))
        ]

    def follow_ups(self, domain: str) -> list[dict]:
        return [json.loads(body) for body in self.cloud.deliveries(self.cloud.follow_ups)]


def declared_scenarios(stacks: tuple[str, ...] = ("local", "dev", "prod")) -> list[Scenario]:
    """Per catalogued handler, the first consumer in the stack files that runs it."""
    found: dict[str, Scenario] = {}
    for stack in stacks:
        config = from_stack_file(stack)
        for domain_name, domain in config.domains.items():
            for consumer_name, consumer in domain.consumers.items():
                if consumer.handler in found:
                    continue
                own = [t for d, t in received_types(config, domain_name, consumer_name) if d == domain_name]
                group = consumer.queue.message_group_path
                found[consumer.handler] = Scenario(
                    consumer.handler,
                    domain_name,
                    domain.source,
                    own[0],
                    consumer.idempotency_key,
                    consumer.queue.kind,
                    tuple(group.split(".")[2:]) if group else (),
                    tuple(sorted(consumer.environment.items())),
                )
    unused = sorted(set(HANDLERS) - set(found))
    assert not unused, (
        f"handlers {unused} run in no consumer of the stack files {stacks}: declare one (e.g. "
        "in Pulumi.local.yaml) so the generic tests and the demo exercise it"
    )
    return [found[name] for name in HANDLERS]


SCENARIOS = declared_scenarios()
# Every other configuration the catalogue offers, one scenario each.
VARIANTS = [
    replace(s, variant=((alt.choice.variable, alt.choice.value),))
    for s in SCENARIOS
    for alt in HANDLERS[s.name].alternatives
]
ALL_SCENARIOS = SCENARIOS + VARIANTS


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
