"""Bridges for moto's known gaps. Each has a name the deploy and flow reports print.

- `rule-relay` (RuleRelay): moto cannot deliver a rule to an SNS topic (put_events raises), uses
  an SQS target's MessageGroupId literally instead of resolving the JSON path per event, and
  ignores InputPath. Such a rule targets a relay queue instead; the relay forwards each event
  to the real target as EventBridge would, and sends what it cannot route to the target's DLQ.
- `dlq-alarm` (DlqAlarms): moto never evaluates alarms. The bridge reads each DLQ alarm's queue
  depth, sets the alarm state with set_alarm_state and, on a change, publishes CloudWatch's
  notification to the alarm's actions (the alarm topic), as CloudWatch would.
- `message-move` (BridgedSqs): moto has no start_message_move_task. The bridged client moves the
  messages with receive/send/delete and answers list_message_move_tasks, so `ops.dlq.redrive` runs
  the same code against AWS and the emulator.
- `replay-window` (BridgedEvents): moto's start_replay replays the whole archive regardless of
  the requested window; the bridged client narrows the archive to the window for the replay.
  In-process moto only (it reads moto's archive).
- `ddb-transaction-snapshot` (fast_transactions): not a gap but a cost. moto deep-copies every
  table a TransactWriteItems names, to roll back on failure: O(table size) per transaction,
  0.1 s at a few thousand items. The bridge makes that copy share the untouched items and
  deep-copy only the items the transaction names, so rollback restores exactly what changed.
  In-process moto only.
- `jsonpath-cache` (same context manager): moto builds a new JSONPath parser for each of the nine
  default input paths of every rule target, on every event; the bridge memoises the parse.
- `dispatch-cache` (same context manager): moto converts names character by character and lists
  a response class's methods with `inspect` on every request; both are pure, so memoised.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

from localcloud.records import AlarmSpec, RelaySpec, queue_name_of

RULE_RELAY = "rule-relay"
DLQ_ALARM = "dlq-alarm"
BRIDGES = {
    RULE_RELAY: "EventBridge -> SNS targets, MessageGroupId JSON paths and InputPath, resolved per event",
    DLQ_ALARM: "DLQ alarm state from the observed queue depth; notifications to the alarm topic",
    "message-move": "DLQ redrive (start_message_move_task) with receive/send/delete",
    "replay-window": "archive replay limited to the requested time window",
    "ddb-transaction-snapshot": "TransactWriteItems rollback copies only the items it names (speed)",
    "jsonpath-cache": "moto's per-event JSONPath parser construction memoised (speed)",
    "dispatch-cache": "moto's per-request name conversion and method listing memoised (speed)",
}



def bridge_note(name: str, detail: str | None = None) -> str:
    """How the deploy report labels a resource a bridge stands in for."""
    return f"bridge '{name}': {detail or BRIDGES[name]}"

def json_path(document: Any, path: str) -> Any:
    """EventBridge's simple JSON paths: `$.detail.paymentId`."""
    value = document
    for part in path.removeprefix("$").strip(".").split("."):
        if not part:
            continue
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


class RuleRelay:
    def __init__(self, spec: RelaySpec, *, sqs: Any, sns: Any) -> None:
        self.spec = spec
        self.sqs = sqs
        self.sns = sns
        self.forwarded = 0
        self.undeliverable = 0
        self._target_url = None if spec.target_arn.startswith("arn:aws:sns:") else self._url(spec.target_arn)

    @property
    def name(self) -> str:
        return f"rule-relay {self.spec.rule}/{self.spec.target_id}"

    def _url(self, arn: str) -> str:
        return self.sqs.get_queue_url(QueueName=queue_name_of(arn))["QueueUrl"]

    def step(self) -> int:
        messages = self.sqs.receive_message(
            QueueUrl=self.spec.relay_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        for message in messages:
            self._forward(message["Body"])
        if messages:
            self.sqs.delete_message_batch(
                QueueUrl=self.spec.relay_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
        return len(messages)

    def _forward(self, body: str) -> None:
        event = json.loads(body)
        payload = event if self.spec.input_path is None else json_path(event, self.spec.input_path)
        text = json.dumps(payload)
        if self._target_url is None:
            self.sns.publish(TopicArn=self.spec.target_arn, Message=text)
        elif self.spec.message_group_path is None:
            self.sqs.send_message(QueueUrl=self._target_url, MessageBody=text)
        else:
            group = json_path(event, self.spec.message_group_path)
            if group is None:
                # EventBridge cannot deliver without a group id: the event goes to the target DLQ.
                self._dead_letter(text, f"{self.spec.message_group_path} not in event")
                return
            self.sqs.send_message(QueueUrl=self._target_url, MessageBody=text, MessageGroupId=str(group))
        self.forwarded += 1

    def _dead_letter(self, text: str, reason: str) -> None:
        self.undeliverable += 1
        if self.spec.dead_letter_arn:
            self.sqs.send_message(
                QueueUrl=self._url(self.spec.dead_letter_arn),
                MessageBody=text,
                MessageAttributes={"ERROR_MESSAGE": {"DataType": "String", "StringValue": reason}},
            )


_COMPARE = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


class DlqAlarms:
    """Evaluates the depth alarms of DLQs (metric ApproximateNumberOfMessagesVisible)."""

    def __init__(self, alarms: list[AlarmSpec], *, sqs: Any, sns: Any, cloudwatch: Any, region: str) -> None:
        self.alarms = alarms
        self.sqs = sqs
        self.sns = sns
        self.cloudwatch = cloudwatch
        self.region = region
        self.state = {a.name: "OK" for a in self.alarms}
        self.raised: list[tuple[str, int]] = []  # (alarm, depth) at each transition to ALARM
        self._urls = {a.name: sqs.get_queue_url(QueueName=a.queue_name)["QueueUrl"] for a in self.alarms}
        self._evaluated = 0.0

    def step(self, *, every_s: float = 0.5) -> int:
        """Evaluate at most every `every_s` (CloudWatch's own period here is 60 s)."""
        if time.monotonic() - self._evaluated < every_s:
            return 0
        self._evaluated = time.monotonic()
        for alarm in self.alarms:
            url = self._urls[alarm.name]
            # moto's name for the CloudWatch metric ApproximateNumberOfMessagesVisible.
            depth = int(
                self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
                    "Attributes"
                ]["ApproximateNumberOfMessages"]
            )
            new = "ALARM" if _COMPARE[alarm.comparison](depth, alarm.threshold) else "OK"
            if new != self.state[alarm.name]:
                self._transition(alarm, self.state[alarm.name], new, depth)
        return 0  # evaluating alarms is never "work in flight" for the drain loop

    def _transition(self, alarm: AlarmSpec, old: str, new: str, depth: int) -> None:
        reason = (
            f"localcloud dlq-alarm bridge: {alarm.queue_name} depth {depth} "
            f"{'>' if new == 'ALARM' else '<='} threshold {alarm.threshold:g}"
        )
        self.cloudwatch.set_alarm_state(AlarmName=alarm.name, StateValue=new, StateReason=reason)
        self.state[alarm.name] = new
        if new == "ALARM":
            self.raised.append((alarm.name, depth))
        message = {
            "AlarmName": alarm.name,
            "AlarmArn": alarm.arn,
            "NewStateValue": new,
            "OldStateValue": old,
            "NewStateReason": reason,
            "StateChangeTime": datetime.now(timezone.utc).isoformat(),
            "Region": self.region,
            "Trigger": {"MetricName": alarm.metric, "Namespace": "AWS/SQS", "Threshold": alarm.threshold},
        }
        for topic in alarm.alarm_actions if new == "ALARM" else alarm.ok_actions:
            self.sns.publish(TopicArn=topic, Subject=f"{new}: {alarm.name}"[:100], Message=json.dumps(message))


class BridgedSqs:
    """An SQS client whose message-move task is performed by the bridge (`message-move`)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._tasks: dict[str, list[dict[str, Any]]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def start_message_move_task(self, *, SourceArn: str, DestinationArn: str | None = None, **_: Any) -> dict:
        source_url = self._client.get_queue_url(QueueName=queue_name_of(SourceArn))["QueueUrl"]
        destination = DestinationArn or self._original_source(SourceArn)
        destination_url = self._client.get_queue_url(QueueName=queue_name_of(destination))["QueueUrl"]
        moved = 0
        while messages := self._client.receive_message(
            QueueUrl=source_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", []):
            for message in messages:
                self._client.send_message(QueueUrl=destination_url, **_resend_arguments(message, destination_url))
                self._client.delete_message(QueueUrl=source_url, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
        handle = str(uuid.uuid4())
        self._tasks.setdefault(SourceArn, []).insert(
            0,
            {
                "TaskHandle": handle,
                "Status": "COMPLETED",
                "SourceArn": SourceArn,
                "DestinationArn": destination,
                "ApproximateNumberOfMessagesMoved": moved,
                "ApproximateNumberOfMessagesToMove": moved,
                "StartedTimestamp": int(time.time() * 1000),
            },
        )
        return {"TaskHandle": handle}

    def list_message_move_tasks(self, *, SourceArn: str, MaxResults: int = 10) -> dict:
        return {"Results": self._tasks.get(SourceArn, [])[:MaxResults]}

    def _original_source(self, dlq_arn: str) -> str:
        """AWS moves to the queue that dead-lettered the messages: the one whose redrive names the DLQ."""
        for url in self._client.list_queues().get("QueueUrls", []):
            policy = self._client.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
            redrive = policy.get("Attributes", {}).get("RedrivePolicy")
            if redrive and json.loads(redrive)["deadLetterTargetArn"] == dlq_arn:
                return self._client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                    "Attributes"
                ]["QueueArn"]
        raise ValueError(f"no queue dead-letters into {dlq_arn}; give DestinationArn")


def _resend_arguments(message: dict, destination_url: str) -> dict[str, Any]:
    arguments: dict[str, Any] = {"MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        arguments["MessageAttributes"] = message["MessageAttributes"]
    if destination_url.endswith(".fifo"):
        attributes = message.get("Attributes", {})
        arguments["MessageGroupId"] = attributes.get("MessageGroupId", "redrive")
        # A fresh id: the original content hash is still inside the 5-minute deduplication window.
        arguments["MessageDeduplicationId"] = f"redrive-{message['MessageId']}"
    return arguments


class BridgedEvents:
    """An EventBridge client whose start_replay honours the time window (`replay-window`)."""

    def __init__(self, client: Any, account: str, region: str) -> None:
        self._client = client
        self._account = account
        self._region = region

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def start_replay(self, **arguments: Any) -> dict:
        from moto.events.models import events_backends

        archive_name = arguments["EventSourceArn"].rsplit("/", 1)[1]
        archive = events_backends[self._account][self._region].archives[archive_name]
        start, end = (_epoch(arguments[k]) for k in ("EventStartTime", "EventEndTime"))
        everything = archive.events
        archive.events = [e for e in everything if start <= _epoch(e["time"]) < end]
        try:
            return self._client.start_replay(**arguments)
        finally:
            archive.events = everything


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


@contextmanager
def speedups() -> Iterator[None]:
    """Install the `ddb-transaction-snapshot` and `jsonpath-cache` bridges for the block."""
    import jsonpath_ng.ext
    from moto.dynamodb.models import DynamoDBBackend, DynamoType
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    touched = threading.local()

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        names: dict[str, set] = defaultdict(set)
        for item in transact_items:
            op = next(iter(item.values()))
            table = backend.tables.get(op.get("TableName"))
            key = op.get("Key") or op.get("Item") or {}
            if table is not None and table.hash_key_attr in key:
                names[table.name].add(DynamoType(key[table.hash_key_attr]))
        touched.names = names
        try:
            return original(backend, transact_items)
        finally:
            touched.names = None

    def table_copy(table: Any, memo: dict) -> Any:
        names = getattr(touched, "names", None)
        clone = Table.__new__(Table)
        memo[id(table)] = clone
        if not names or table.name not in names or table.has_range_key:
            for attribute, value in table.__dict__.items():
                setattr(clone, attribute, copy.deepcopy(value, memo))
            return clone
        clone.__dict__.update(table.__dict__)
        clone.items = defaultdict(dict, table.items)
        for hash_key in names[table.name]:
            if hash_key in table.items:
                clone.items[hash_key] = copy.deepcopy(table.items[hash_key], memo)
        return clone

    parse = jsonpath_ng.ext.parse
    DynamoDBBackend.transact_write_items = transact_write_items
    Table.__deepcopy__ = table_copy
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(parse)
    restore_dispatch = _memoise_moto_helpers()
    try:
        yield
    finally:
        DynamoDBBackend.transact_write_items = original
        del Table.__deepcopy__
        jsonpath_ng.ext.parse = parse
        restore_dispatch()


def _memoise_moto_helpers() -> Any:
    """Replace moto's pure per-request helpers, wherever a moto module imported them by name."""
    import sys

    from moto.core import utils

    originals = {name: getattr(utils, name) for name in ("camelcase_to_underscores", "method_names_from_class")}
    cached = {name: functools.lru_cache(maxsize=4096)(function) for name, function in originals.items()}
    replaced = []
    for module in list(sys.modules.values()):
        if not getattr(module, "__name__", "").startswith("moto"):
            continue
        for name, function in originals.items():
            if getattr(module, name, None) is function:
                setattr(module, name, cached[name])
                replaced.append((module, name))

    def restore() -> None:
        for module, name in replaced:
            setattr(module, name, originals[name])

    return restore
