"""Dead-letter queues on a running stack: what they hold and why, and moving it back.

- `inspect`: each message with its business key, receive count and the reason the consumers' own
  envelope check gives for it (poison) or "valid event" (the consumer kept failing on it);
- `redrive`: move a DLQ's messages back to their source queue (an SQS message move task).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handlers.runtime.envelope import business_key, digest, parse
from handlers.runtime.errors import PoisonRecord


@dataclass(frozen=True)
class DlqEntry:
    message_id: str
    receive_count: int
    detail_type: str
    key: Any
    key_hash: str | None
    reason: str
    body: str


def inspect(
    sqs: Any, dlq_url: str, *, domains: Mapping[str, str], key_path: str, limit: int = 10_000
) -> list[DlqEntry]:
    """Read up to `limit` messages without consuming them (each is made visible again)."""
    received: list[dict] = []
    while len(received) < limit:
        batch = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(10, limit - len(received)),
            WaitTimeSeconds=0,
            VisibilityTimeout=30,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break
        received += batch
    for start in range(0, len(received), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=dlq_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(received[start : start + 10])
            ],
        )
    return [_entry(m, domains, key_path) for m in received]


def _entry(message: dict, domains: Mapping[str, str], key_path: str) -> DlqEntry:
    body = message["Body"]
    # The receive count the DLQ reports includes this inspection's own receives.
    count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0))
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse: poison
        raw = {}
    detail_type = raw.get("detail-type", "?") if isinstance(raw, dict) else "?"
    try:
        key = business_key(raw, key_path) if isinstance(raw, dict) else None
    except PoisonRecord:
        key = None
    try:
        parse(body, domains=domains)
        reason = "valid event: the consumer kept failing on it (see its logs)"
    except PoisonRecord as exc:
        reason = f"poison: {exc}"
    return DlqEntry(message["MessageId"], count, detail_type, key, digest(key) if key is not None else None, reason, body)


def queue_arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def redrive(sqs: Any, dlq_url: str, *, timeout_s: float = 300, poll_s: float = 2) -> int:
    """Start a message move task back to the source queue and wait for it; returns messages moved."""
    source = queue_arn(sqs, dlq_url)
    handle = sqs.start_message_move_task(SourceArn=source)["TaskHandle"]
    deadline = time.monotonic() + timeout_s
    while True:
        task = next(t for t in sqs.list_message_move_tasks(SourceArn=source)["Results"] if t["TaskHandle"] == handle)
        if task["Status"] == "COMPLETED":
            return int(task.get("ApproximateNumberOfMessagesMoved", 0))
        if task["Status"] in ("FAILED", "CANCELLED"):
            raise RuntimeError(f"redrive of {source} {task['Status']}: {task.get('FailureReason', '')}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"redrive of {source} still {task['Status']} after {timeout_s:.0f} s")
        time.sleep(poll_s)
