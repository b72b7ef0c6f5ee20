"""The Lambda service's SQS poller: one `MappingPoller` per event source mapping.

What it honours, and how:
- batch size and batching window: records accumulate (already received, so invisible to others)
  until the batch is full or the window since the first record has passed, as Lambda does;
- ReportBatchItemFailures: only the records the function did not name are deleted; without it,
  any failure returns the whole batch;
- visibility timeout and maxReceiveCount: failed records stay in SQS and come back through moto's
  real receive counting, so redrive to the DLQ is moto's, not ours. Speed-up (documented): a
  failed record's visibility (a function error, a timeout, an injected fault) is set to 0
  instead of waiting out the queue's timeout, which changes when it returns, never how many
  receives it takes to reach the DLQ;
- maximum concurrency: at most `limit` batches of the mapping are in flight at once, the
  mapping's maximum concurrency capped by the environments the emulator allows per function
  (`LocalCloud(environments=...)`); `stats.max_in_flight` reports what was reached;
- timeout: the function's environment enforces it (`sandbox`): an overrunning invocation is
  killed and its whole batch fails, as on Lambda.

Invocations are asynchronous: `step` hands a due batch to the function (`sandbox.SandboxFunction`,
a worker process) and completes it on a later step, so the emulator keeps routing and other
functions keep running meanwhile.

Injected faults (`Faults`) are the emulator's, never the handlers': a transient failure makes a
chosen event's side effect fail on its first delivery (`downstream`: the consumer's downstream
call gets the service's server error, so the handler's own failure path runs), an outage fails
every side-effect call of a function (a dependency down), a lost delete leaves a processed record
in the queue so SQS delivers it again. The report labels them as injected.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from handlers.runtime.envelope import business_key, digest
from localcloud.downstream import Downstream, marks_of
from localcloud.records import FunctionSpec
from localcloud.sandbox import FunctionLogs, Invocation
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

    transient: set[str] = field(default_factory=set)  # first delivery's side effect fails
    outage: set[str] = field(default_factory=set)  # function names whose side effects all fail
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
    records_failed: int = 0  # failed attempts, as the function reported them
    injected_transient: int = 0  # deliveries whose side-effect call was failed
    injected_redelivery: int = 0
    succeeded_after_retry: int = 0
    max_in_flight: int = 0
    latencies_s: list[float] = field(default_factory=list)


class Function(Protocol):
    """A function as the poller invokes it: `sandbox.SandboxFunction`, or the test-only
    `inprocess.InProcessFunction`."""

    logs: FunctionLogs
    cold_starts: int

    def invoke(self, event: dict[str, Any]) -> Invocation: ...

    def poll(self) -> None: ...

    def waiting_on(self) -> list[int]: ...

    def end_input(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class InFlight:
    """A batch handed to the function: what was received, and what the poller itself failed."""

    invocation: Invocation
    messages: list[dict]
    digests: dict[str, str | None]
    armed: list[int]  # the downstream faults armed for this invocation


# Observers see each completed batch: the records the function received, and those that failed.
Observer = Callable[[list[dict], set[str]], None]


class MappingPoller:
    def __init__(
        self,
        mapping: MappingInputs,
        function: FunctionSpec,
        runtime: Function,
        *,
        sqs: Any,
        queue_url: str,
        region: str,
        faults: Faults,
        downstream: Downstream,
        published_at: dict[str, float],
        environments: int,
        probe: Callable[[str], bool],
    ) -> None:
        self.mapping = mapping
        self.function = function
        self.runtime = runtime
        self.sqs = sqs
        self.queue_url = queue_url
        self.region = region
        self.faults = faults
        self.downstream = downstream
        self._key_path = function.environment.get("IDEMPOTENCY_KEY_PATH", "")
        self.published_at = published_at  # detail digest -> publish time, for latency
        self.probe = probe  # bridges.MotoQueues.has_visible: skip a receive that finds nothing
        self.limit = min(mapping.maximum_concurrency or environments, environments)
        self.fifo = queue_url.endswith(".fifo")
        self.stats = MappingStats()
        self.observers: list[Observer] = []
        self._batch: list[dict] = []
        self._batch_started = 0.0
        self._in_flight: list[InFlight] = []
        self._failed_before: set[str] = set()

    @property
    def name(self) -> str:
        return self.function.name

    @property
    def logs(self) -> FunctionLogs:
        return self.runtime.logs

    @property
    def holding(self) -> int:
        """Records received and not yet settled: in an open batch or in flight."""
        return len(self._batch) + sum(len(f.messages) for f in self._in_flight)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def step(self) -> int:
        """Complete finished invocations, receive what is there, invoke when the batch is due;
        returns records received or settled now (a batch held open for its window is not work:
        the loop may sleep)."""
        work = self._complete()
        if len(self._in_flight) >= self.limit:
            return work  # Lambda polls no more batches than the mapping may run at once
        wanted = self.mapping.batch_size - len(self._batch)
        received = []
        if wanted and self.probe(self.queue_url):
            received = self._receive(min(SQS_RECEIVE_MAX, wanted))
        if received and not self._batch:
            self._batch_started = time.monotonic()
        self._batch.extend(received)
        if not self._batch:
            return work
        window_over = time.monotonic() - self._batch_started >= self.mapping.batching_window_s
        full = len(self._batch) >= self.mapping.batch_size
        # FIFO mappings have no window: a batch goes as soon as a receive returns it.
        if full or window_over or (not received and self.mapping.batching_window_s == 0):
            batch, self._batch = self._batch, []
            self._dispatch(batch)
            return work + len(batch)
        return work + len(received)

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

    def _dispatch(self, messages: list[dict]) -> None:
        digests = {m["MessageId"]: detail_digest(m["Body"]) for m in messages}
        armed = [
            self.downstream.arm(self.name, marks)
            for m in messages
            if self.faults.first("transient", self.name, digests[m["MessageId"]])
            and (marks := self._marks(m["Body"]))
        ]
        invocation = self.runtime.invoke({"Records": [self._record(m) for m in messages]})
        self.stats.invocations += 1
        self._in_flight.append(InFlight(invocation, messages, digests, armed))
        self.stats.max_in_flight = max(self.stats.max_in_flight, len(self._in_flight))

    def _marks(self, body: str) -> frozenset[str]:
        """How the function's side-effect requests name this record's event (none if its key
        cannot be read: such a record is poison, and fails without help)."""
        try:
            key = business_key(json.loads(body), self._key_path)
        except Exception:  # noqa: BLE001 - any unreadable record is the handler's to refuse
            return frozenset()
        return marks_of(key, digest(key))

    def _complete(self) -> int:
        self.runtime.poll()
        done = [f for f in self._in_flight if f.invocation.done]
        for flight in done:
            self._in_flight.remove(flight)
            # Counted where a side-effect request met the fault (a record failing earlier never
            # reaches its side effect).
            self.stats.injected_transient += sum(self.downstream.disarm(t) for t in flight.armed)
            failed = self._failures(flight)
            for observe in self.observers:
                observe(flight.messages, failed)
            self._settle(flight.messages, flight.digests, failed)
        return sum(len(f.messages) for f in done)

    def _failures(self, flight: InFlight) -> set[str]:
        """The ids of the records an invocation failed, as Lambda reads its outcome."""
        ids = {m["MessageId"] for m in flight.messages}
        invocation = flight.invocation
        if invocation.error is not None:  # an invocation error returns the whole batch
            return ids
        if not self.mapping.report_batch_item_failures:
            return set()
        response = invocation.response or {}
        reported = {f.get("itemIdentifier") for f in response.get("batchItemFailures", [])}
        if not reported <= ids:  # Lambda treats an unknown or empty identifier as a batch failure
            return ids
        return reported

    def _settle(
        self, messages: list[dict], digests: dict[str, str | None], failed: set[str]
    ) -> None:
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
        returned = failed | redelivered
        self._release([m for m in messages if m["MessageId"] in returned])

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
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                ],
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
