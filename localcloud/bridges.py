"""Bridges for moto's known gaps. Each has a name the deploy and flow reports print, and plays
only what AWS documents (each class cites the page); anything AWS does not do, no bridge does.

- `rule-relay` (RuleRelay): EventBridge -> SNS targets (moto's put_events raises) and InputPath
  (moto ignores it). Such a rule targets a relay queue instead; the relay forwards each event.
- `pipe` (PipeBridge): moto holds EventBridge pipes but never runs them; the bridge runs an
  SQS-to-SQS pipe.
- `dlq-alarm` (DlqAlarms): moto never evaluates alarms; the bridge evaluates DLQ depth alarms.
- `message-move` and `replay-window`: clients for the operations commands whose calls moto lacks
  or gets wrong (`localcloud.bridged_clients`).
- `atomic-writes` (motoserver.serialised): moto's conditional writes are not atomic under
  concurrent requests; DynamoDB and S3 requests are applied one at a time.

Where EventBridge sends a FIFO target's MessageGroupId, it sends the value given, literally
(EventBridge API reference, SqsParameters), as moto does: no bridge is involved. Per-entity
groups come from a pipe's dynamic path instead (`pipe`).

The speed bridges (not gaps but costs of moto) are in `localcloud.speedups`; BRIDGES lists them
too, so the reports name everything that stands between the program and moto.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from localcloud.records import AlarmSpec, PipeSpec, RelaySpec, name_of
from localcloud.speedups import SPEEDUPS, MotoQueues, Probe

RULE_RELAY = "rule-relay"
PIPE = "pipe"
DLQ_ALARM = "dlq-alarm"
ATOMIC_WRITES = "atomic-writes"  # played by motoserver.serialised
BRIDGES = {
    RULE_RELAY: "EventBridge -> SNS targets and InputPath, per event",
    PIPE: "EventBridge Pipes SQS -> SQS: batches from the source, dynamic target parameters "
    "($.body.<path>) and input template per record, SendMessageBatch to the target",
    DLQ_ALARM: "DLQ alarm state from the observed queue depth; notifications to the alarm topic",
    "message-move": "DLQ redrive (start_message_move_task) with receive/send/delete",
    "replay-window": "archive replay limited to the requested time window",
    ATOMIC_WRITES: "DynamoDB and S3 requests applied one at a time, as AWS applies each "
    "(conditional) write atomically; moto checks and writes in separate steps",
    **SPEEDUPS,
}
SQS_BATCH_MAX = 10


def bridge_note(name: str, detail: str | None = None) -> str:
    """How the deploy report labels a resource a bridge stands in for."""
    return f"bridge '{name}': {detail or BRIDGES[name]}"


def json_path(document: Any, path: str) -> Any:
    """EventBridge's simple JSON paths, dot notation: `$.detail.paymentId`; None if absent."""
    value = document
    for part in path.removeprefix("$").strip(".").split("."):
        if not part:
            continue
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _entries(messages: list[dict]) -> list[dict]:
    return [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]


class RuleRelay:
    """`rule-relay`: a rule target moto cannot deliver, forwarded as EventBridge delivers it.

    - SNS topic targets: EventBridge publishes the event (or its transformed input) as the
      message ("Amazon EventBridge targets",
      https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-targets.html).
    - InputPath: the target receives the part of the event the path selects (Target.InputPath,
      https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html).
    - SqsParameters.MessageGroupId: sent as given, literally ("SqsParameters",
      https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_SqsParameters.html).
    - A delivery the target refuses goes to the target's dead-letter queue with the error
      ("Event retry policy and using dead-letter queues",
      https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
    """

    def __init__(self, spec: RelaySpec, *, sqs: Any, sns: Any, probe: Probe) -> None:
        self.spec = spec
        self.sqs = sqs
        self.sns = sns
        self.probe = probe
        self.forwarded = 0
        self.undeliverable = 0
        sns_target = spec.target_arn.startswith("arn:aws:sns:")
        self._target_url = None if sns_target else self._url(spec.target_arn)

    @property
    def name(self) -> str:
        return f"rule-relay {self.spec.rule}/{self.spec.target_id}"

    def _url(self, arn: str) -> str:
        return self.sqs.get_queue_url(QueueName=name_of(arn))["QueueUrl"]

    def step(self) -> int:
        if not self.probe(self.spec.relay_url):
            return 0
        messages = self.sqs.receive_message(
            QueueUrl=self.spec.relay_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        for message in messages:
            self._forward(message["Body"])
        if messages:
            self.sqs.delete_message_batch(QueueUrl=self.spec.relay_url, Entries=_entries(messages))
        return len(messages)

    def _forward(self, body: str) -> None:
        event = json.loads(body)
        payload = event if self.spec.input_path is None else json_path(event, self.spec.input_path)
        text = json.dumps(payload)
        try:
            if self._target_url is None:
                self.sns.publish(TopicArn=self.spec.target_arn, Message=text)
            elif self.spec.message_group_id is None:
                self.sqs.send_message(QueueUrl=self._target_url, MessageBody=text)
            else:
                self.sqs.send_message(
                    QueueUrl=self._target_url,
                    MessageBody=text,
                    MessageGroupId=self.spec.message_group_id,
                )
        except ClientError as error:
            self._dead_letter(text, str(error))
            return
        self.forwarded += 1

    def _dead_letter(self, text: str, reason: str) -> None:
        self.undeliverable += 1
        if self.spec.dead_letter_arn:
            self.sqs.send_message(
                QueueUrl=self._url(self.spec.dead_letter_arn),
                MessageBody=text,
                MessageAttributes={"ERROR_MESSAGE": {"DataType": "String", "StringValue": reason}},
            )


_TEMPLATE_VARIABLE = re.compile(r"<(\$[^>]*|aws\.pipes\.[a-z.-]+)>")


class PipeBridge:
    """`pipe`: an EventBridge pipe from an SQS queue to an SQS queue, run as AWS documents it.

    Source ("Amazon SQS as a source",
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-sqs.html): the pipe receives
    batches of up to `batchSize` messages (held up to `maximumBatchingWindowInSeconds` to fill);
    received messages stay in the queue, hidden for its visibility timeout; a batch processed
    successfully is deleted; failed messages become visible again and, after the queue's
    maxReceiveCount, its redrive policy moves them to the queue's DLQ (a pipe with an SQS source
    has no DLQ of its own: "Amazon EventBridge Pipes error handling",
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-error-troubleshooting.html).
    Each event is the SQS record (messageId, receiptHandle, body, attributes, ...).

    Target: batches go through the target's batch API, SendMessageBatch, at most 10 ("Amazon
    EventBridge Pipes batching and concurrency",
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-batching-concurrency.html).
    A target parameter that is a JSON path, e.g. MessageGroupId `$.body.detail.paymentId`, takes
    its value from each record; an SQS body that is valid JSON is read as JSON ("Amazon
    EventBridge Pipes targets", dynamic path parameters,
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-event-target.html).
    InputTemplate shapes each record's message: `<$.path>` and `<aws.pipes.*>` variables are
    replaced, a string as its text, anything else as JSON; without a template the message is the
    record itself ("Amazon EventBridge Pipes input transformation",
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-input-transformation.html).

    What the bridge decides itself: a record whose group path finds nothing cannot be sent (a
    FIFO target requires a group id), so it fails and stays in the source; from a FIFO source,
    nothing after a failed record is sent, so its group keeps its order. Speed-up, as in the
    poller: failed messages are made visible at once instead of after the visibility timeout;
    SQS still counts every receive toward the DLQ.
    """

    def __init__(self, spec: PipeSpec, *, sqs: Any, region: str, probe: Probe) -> None:
        self.spec = spec
        self.sqs = sqs
        self.region = region
        self.probe = probe
        self.source_url = self._url(spec.source_arn)
        self.target_url = self._url(spec.target_arn)
        self.fifo_source = spec.source_arn.endswith(".fifo")
        self.forwarded = 0
        self.failed = 0  # failed attempts: the messages went back to the source
        self._batch: list[dict] = []
        self._batch_started = 0.0

    @property
    def name(self) -> str:
        return f"pipe {self.spec.name}"

    @property
    def holding(self) -> int:
        return len(self._batch)

    def _url(self, arn: str) -> str:
        return self.sqs.get_queue_url(QueueName=name_of(arn))["QueueUrl"]

    def step(self) -> int:
        """Receive; forward the batch when it is full or its window is over. Returns messages
        received or forwarded now."""
        size = min(self.spec.batch_size, SQS_BATCH_MAX)
        received = []
        if len(self._batch) < size and self.probe(self.source_url):
            received = self.sqs.receive_message(
                QueueUrl=self.source_url,
                MaxNumberOfMessages=size - len(self._batch),
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        if received and not self._batch:
            self._batch_started = time.monotonic()
        self._batch.extend(received)
        window_over = time.monotonic() - self._batch_started >= self.spec.batching_window_s
        if self._batch and (len(self._batch) >= size or window_over):
            batch, self._batch = self._batch, []
            self._forward(batch)
            return len(batch)
        return len(received)

    def _forward(self, messages: list[dict]) -> None:
        entries: list[dict] = []
        for index, message in enumerate(messages):
            entry = self._entry(str(index), message)
            if entry is not None:
                entries.append(entry)
            elif self.fifo_source:
                break  # nothing behind it in its queue may overtake it
        sent = self._send(entries)
        if self.fifo_source:  # done: the run before the first record that was not sent
            count = next((i for i in range(len(messages)) if str(i) not in sent), len(messages))
            done, returned = messages[:count], messages[count:]
        else:
            done = [m for i, m in enumerate(messages) if str(i) in sent]
            returned = [m for i, m in enumerate(messages) if str(i) not in sent]
        self.forwarded += len(done)
        self.failed += len(returned)
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.source_url, Entries=_entries(done))
        if returned:
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.source_url,
                Entries=[{**e, "VisibilityTimeout": 0} for e in _entries(returned)],
            )

    def _send(self, entries: list[dict]) -> set[str]:
        """SendMessageBatch to the target; the ids it accepted."""
        if not entries:
            return set()
        try:
            result = self.sqs.send_message_batch(QueueUrl=self.target_url, Entries=entries)
        except ClientError:  # the target refused the whole batch: it stays in the source
            return set()
        return {s["Id"] for s in result.get("Successful", [])}

    def _event(self, message: dict) -> dict[str, Any]:
        """The record the pipe sees, with a JSON body already parsed for path lookups."""
        try:
            body: Any = json.loads(message["Body"])
        except ValueError:
            body = message["Body"]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": body,
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.spec.source_arn,
            "awsRegion": self.region,
        }

    def _entry(self, entry_id: str, message: dict) -> dict[str, Any] | None:
        """One SendMessageBatch entry; None when a dynamic parameter finds nothing."""
        event = self._event(message)
        entry: dict[str, Any] = {"Id": entry_id, "MessageBody": self._body(event, message)}
        for parameter, value in (
            ("MessageGroupId", self.spec.message_group_id),
            ("MessageDeduplicationId", self.spec.message_deduplication_id),
        ):
            if value is None:
                continue
            resolved = json_path(event, value) if value.startswith("$.") else value
            if resolved is None:
                return None
            entry[parameter] = str(resolved)
        return entry

    def _body(self, event: dict[str, Any], message: dict) -> str:
        if self.spec.input_template is None:
            return json.dumps({**event, "body": message["Body"]})  # the body as it was sent
        reserved = {
            "aws.pipes.pipe-arn": self.spec.arn,
            "aws.pipes.pipe-name": self.spec.name,
            "aws.pipes.source-arn": self.spec.source_arn,
            "aws.pipes.target-arn": self.spec.target_arn,
        }

        def value(match: re.Match) -> str:
            name = match.group(1)
            found = json_path(event, name) if name.startswith("$") else reserved.get(name, "")
            return found if isinstance(found, str) else json.dumps(found)

        return _TEMPLATE_VARIABLE.sub(value, self.spec.input_template)


_COMPARE = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


class DlqAlarms:
    """`dlq-alarm`: evaluates the depth alarms of DLQs as CloudWatch would, from the queue's
    ApproximateNumberOfMessagesVisible ("Available CloudWatch metrics for Amazon SQS",
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html),
    and on a state change notifies the alarm's actions ("Using Amazon CloudWatch alarms", alarm
    actions, https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html).
    moto holds alarms but never evaluates them."""

    def __init__(
        self,
        alarms: list[AlarmSpec],
        *,
        sqs: Any,
        sns: Any,
        cloudwatch: Any,
        region: str,
        queues: MotoQueues,
    ) -> None:
        self.alarms = alarms
        self.queues = queues
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
            # The metric ApproximateNumberOfMessagesVisible is the API's ApproximateNumberOfMessages.
            depth, _ = self.queues.counts(self._urls[alarm.name])
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
