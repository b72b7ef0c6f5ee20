"""The Lambda service's SQS poller, played in-process: one `MappingPoller` per event source mapping.

What it honours, and how:
- batch size and batching window: records accumulate (already received, so invisible to others)
  until the batch is full or the window since the first record has passed, as Lambda does;
- ReportBatchItemFailures: only the records the function did not name are deleted; without it,
  any failure returns the whole batch;
- visibility timeout and maxReceiveCount: failed records stay in SQS and come back through moto's
  real receive counting, so redrive to the DLQ is moto's, not ours. Speed-up (documented): a
  failed record's visibility is set to 0 instead of waiting out the queue's timeout, which
  changes when it returns, never how many receives it takes to reach the DLQ;
- maximum concurrency: invocations are serialised (one process, one environment at a time), so at
  most one batch per mapping is in flight, within any declared maximum;
- timeout: the context counts down the function's timeout; a batch that overran it is failed as
  a whole, as Lambda would have killed it.

Injected faults (`Faults`) are the emulator's, never the handlers': a transient failure fails a
chosen record's first attempt before it reaches the handler, an outage fails every attempt of a
function (a dependency down), a lost delete leaves a processed record in the queue so SQS
delivers it again. The report labels them as injected.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from typing import Any

from localcloud.records import FunctionSpec
from offline.readers import MappingInputs

SQS_RECEIVE_MAX = 10


def detail_digest(body: str) -> str | None:
    """The identity the workload and the faults use for one business event: its detail's hash."""
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        return None
    return hashlib.sha256(json.dumps(detail, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Faults:
    """Which business events (by `detail_digest`) get an injected fault, per consumer function."""

    transient: set[str] = field(default_factory=set)  # first attempt fails
    outage: set[str] = field(default_factory=set)  # function names whose every attempt fails
    lost_delete: set[str] = field(default_factory=set)  # first success is not deleted
    _seen: set[tuple[str, str, str]] = field(default_factory=set)

    def first(self, kind: str, function: str, digest: str | None) -> bool:
        chosen = self.transient if kind == "transient" else self.lost_delete
        if digest not in chosen or (kind, function, digest) in self._seen:
            return False
        self._seen.add((kind, function, digest))
        return True


@dataclass
class MappingStats:
    """What the poller observed; side effects are counted elsewhere, from the services."""

    invocations: int = 0
    records_succeeded: int = 0
    records_failed: int = 0  # failed attempts, injected or reported by the function
    injected_transient: int = 0
    injected_redelivery: int = 0
    succeeded_after_retry: int = 0
    max_in_flight: int = 0
    latencies_s: list[float] = field(default_factory=list)


class LambdaContext:
    """The parts of Lambda's context object handlers and Powertools read."""

    def __init__(self, function: FunctionSpec, region: str) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"localcloud/{self.aws_request_id}"
        self._deadline = time.monotonic() + function.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionLogs(io.TextIOBase):
    """A function's log stream, as CloudWatch Logs would hold it: JSON lines, kept in memory."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._partial = ""

    def write(self, text: str) -> int:
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        self.lines += [line for line in complete if line]
        return len(text)


# One environment at a time: handlers read os.environ when they build a function's runtime.
_ENV_LOCK = threading.Lock()


@contextmanager
def function_environment(function: FunctionSpec, region: str) -> Iterator[None]:
    """os.environ as Lambda would set it for `function`, restored afterwards."""
    lambda_env = {
        **function.environment,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    with _ENV_LOCK:
        saved = dict(os.environ)
        os.environ.update(lambda_env)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def load_handler(dotted: str) -> Callable[[dict, Any], dict]:
    module, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


class MappingPoller:
    def __init__(
        self,
        mapping: MappingInputs,
        function: FunctionSpec,
        *,
        sqs: Any,
        queue_url: str,
        region: str,
        faults: Faults,
        published_at: dict[str, float],
        handler: Callable[[dict, Any], dict] | None = None,
    ) -> None:
        self.mapping = mapping
        self.function = function
        self.sqs = sqs
        self.queue_url = queue_url
        self.region = region
        self.faults = faults
        self.published_at = published_at  # detail digest -> publish time, for latency
        self.handler = handler or load_handler(function.handler)
        self.fifo = queue_url.endswith(".fifo")
        self.stats = MappingStats()
        self.logs = FunctionLogs()
        self._batch: list[dict] = []
        self._batch_started = 0.0
        self._failed_before: set[str] = set()

    @property
    def name(self) -> str:
        return self.function.name

    @property
    def holding(self) -> int:
        return len(self._batch)

    def step(self) -> int:
        """Receive what is there, invoke when the batch is due; returns records received or
        handled now (a batch held open for its window is not work: the loop may sleep)."""
        wanted = self.mapping.batch_size - len(self._batch)
        received = self._receive(min(SQS_RECEIVE_MAX, wanted)) if wanted else []
        if received and not self._batch:
            self._batch_started = time.monotonic()
        self._batch.extend(received)
        if not self._batch:
            return 0
        window_over = time.monotonic() - self._batch_started >= self.mapping.batching_window_s
        full = len(self._batch) >= self.mapping.batch_size
        # FIFO mappings have no window: a batch goes as soon as a receive returns it.
        if full or window_over or (not received and self.mapping.batching_window_s == 0):
            batch, self._batch = self._batch, []
            self._invoke(batch)
            return len(batch)
        return len(received)

    def _receive(self, count: int) -> list[dict]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=count,
            # The queues long-poll (20 s) for AWS's bill; the emulator loop polls instead.
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return response.get("Messages", [])

    def _invoke(self, messages: list[dict]) -> None:
        digests = {m["MessageId"]: detail_digest(m["Body"]) for m in messages}
        to_handler, injected = self._inject_transient(messages, digests)
        failed = set(injected)
        if to_handler:
            failed |= self._call(to_handler)
        succeeded = [m for m in messages if m["MessageId"] not in failed]
        redelivered = {
            m["MessageId"]
            for m in succeeded
            if self.faults.first("lost_delete", self.name, digests[m["MessageId"]])
        }
        self.stats.injected_redelivery += len(redelivered)
        done = time.time()
        for m in succeeded:
            if m["MessageId"] in self._failed_before:
                self.stats.succeeded_after_retry += 1
                self._failed_before.discard(m["MessageId"])
            started = self.published_at.get(digests[m["MessageId"]] or "")
            if started is not None:
                self.stats.latencies_s.append(done - started)
        self.stats.records_succeeded += len(succeeded)
        self.stats.records_failed += len(failed)
        self._failed_before |= failed
        self._delete([m for m in succeeded if m["MessageId"] not in redelivered])
        self._release([m for m in messages if m["MessageId"] in failed or m["MessageId"] in redelivered])

    def _inject_transient(self, messages: list[dict], digests: dict[str, str | None]) -> tuple[list[dict], list[str]]:
        """Fail chosen records' first attempt; in a FIFO batch, the records after it too (order)."""
        to_handler: list[dict] = []
        injected: list[str] = []
        if self.name in self.faults.outage:
            self.stats.injected_transient += len(messages)
            return [], [m["MessageId"] for m in messages]
        for index, message in enumerate(messages):
            if self.faults.first("transient", self.name, digests[message["MessageId"]]):
                self.stats.injected_transient += 1
                if self.fifo:
                    return to_handler, [m["MessageId"] for m in messages[index:]]
                injected.append(message["MessageId"])
            else:
                to_handler.append(message)
        return to_handler, injected

    def _call(self, messages: list[dict]) -> set[str]:
        """Invoke the handler once; the ids of the records that failed."""
        ids = {m["MessageId"] for m in messages}
        context = LambdaContext(self.function, self.region)
        event = {"Records": [self._record(m) for m in messages]}
        self.stats.invocations += 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, 1)
        # The function's log lines (Powertools binds its stream on first use) go to its own sink.
        with function_environment(self.function, self.region), redirect_stdout(self.logs):
            try:
                response = self.handler(event, context) or {}
            except Exception:  # an invocation error returns the whole batch, as on Lambda
                return ids
        if context.get_remaining_time_in_millis() == 0:
            return ids
        if not self.mapping.report_batch_item_failures:
            return set()
        reported = {f.get("itemIdentifier") for f in response.get("batchItemFailures", [])}
        if not reported <= ids:  # Lambda treats an unknown or empty identifier as a batch failure
            return ids
        return reported

    def _record(self, message: dict) -> dict:
        attributes = message.get("Attributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                k: attributes[k]
                for k in (
                    "ApproximateReceiveCount",
                    "SentTimestamp",
                    "SenderId",
                    "ApproximateFirstReceiveTimestamp",
                    "MessageGroupId",
                    "MessageDeduplicationId",
                    "SequenceNumber",
                )
                if k in attributes
            },
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.mapping.queue_arn,
            "awsRegion": self.region,
        }

    def _delete(self, messages: list[dict]) -> None:
        for chunk in _chunks(messages):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )

    def _release(self, messages: list[dict]) -> None:
        """Make records visible again now (the speed-up above); SQS still counts each receive."""
        for chunk in _chunks(messages):
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(chunk)
                ],
            )


def _chunks(messages: list[dict]) -> Iterator[list[dict]]:
    for start in range(0, len(messages), SQS_RECEIVE_MAX):
        yield messages[start : start + SQS_RECEIVE_MAX]
