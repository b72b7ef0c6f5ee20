"""Clients for the operations commands (`ops`) that fill what moto lacks, so `ops` runs the same
code against AWS and the emulator.

- `message-move` (BridgedSqs): moto has no start_message_move_task. The bridged client moves the
  messages with receive/send/delete and answers list_message_move_tasks, as the SQS API reference
  (StartMessageMoveTask, ListMessageMoveTasks) describes the task.
- `replay-window` (BridgedEvents): moto's start_replay replays the whole archive regardless of
  the requested window; the bridged client narrows the archive to [EventStartTime, EventEndTime)
  (EventBridge API reference, StartReplay). In-process moto only (it reads moto's archive).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import Any

from localcloud.records import name_of


class BridgedSqs:
    """An SQS client whose message-move task is performed by the bridge (`message-move`)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._tasks: dict[str, list[dict[str, Any]]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def start_message_move_task(self, *, SourceArn: str, DestinationArn: str | None = None, **_: Any) -> dict:
        source_url = self._client.get_queue_url(QueueName=name_of(SourceArn))["QueueUrl"]
        destination = DestinationArn or self._original_source(SourceArn)
        destination_url = self._client.get_queue_url(QueueName=name_of(destination))["QueueUrl"]
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
