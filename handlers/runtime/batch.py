"""Partial batch responses: independent records overlap on threads; FIFO records stay in order.

Both processors are Powertools' own (`BatchProcessor`, `SqsFifoPartialProcessor`); the only change
is that a standard batch maps its records over a thread pool, so one record's DynamoDB round
trips overlap another's instead of queueing behind them.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BasePartialBatchProcessor,
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
)

from handlers.runtime.envelope import Incoming
from handlers.runtime.errors import PoisonRecord
from handlers.runtime.guards import Outcome


class ConcurrentBatchProcessor(BatchProcessor):
    def __init__(self, pool: ThreadPoolExecutor) -> None:
        super().__init__(EventType.SQS)
        self._pool = pool

    def process(self) -> list[tuple]:
        return list(self._pool.map(self._process_record, self.records))


def processor(
    *, fifo: bool, skip_group_on_error: bool, pool: ThreadPoolExecutor | None
) -> BasePartialBatchProcessor:
    if fifo:
        chosen: BasePartialBatchProcessor = SqsFifoPartialProcessor(
            skip_group_on_error=skip_group_on_error
        )
    elif pool is not None:
        chosen = ConcurrentBatchProcessor(pool)
    else:
        chosen = BatchProcessor(EventType.SQS)
    # A batch whose every record failed is still a list of ids, not an invocation error: the
    # report below names each failure, and SQS treats both the same way.
    chosen.raise_on_entire_batch_failure = False
    return chosen


@dataclass
class BatchReport:
    """What one invocation did, gathered from the record threads and logged once per batch."""

    outcomes: Counter = field(default_factory=Counter)
    failures: list[dict[str, Any]] = field(default_factory=list)
    # Failures while the processor ran, which is what holds FIFO records back (not a batch
    # effect's commit failing afterwards).
    _blocking: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def succeeded(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1

    def failed(self, record: Any, exc: BaseException, *, blocking: bool = True) -> None:
        entry = {
            "messageId": record.message_id,
            "kind": "poison" if isinstance(exc, PoisonRecord) else "retryable",
            "reason": f"{type(exc).__name__}: {exc}",
            # On the last receive before the DLQ, this is the line that explains the DLQ message.
            "receiveCount": record.attributes.approximate_receive_count,
        }
        with self._lock:
            self.failures.append(entry)
            if blocking:
                self._blocking.add(record.message_id)

    def summary(
        self, response: dict[str, Any], records: list[dict[str, Any]], *, skip_group: bool
    ) -> dict[str, Any]:
        held_back = _held_back(
            records,
            reported={f["itemIdentifier"] for f in response["batchItemFailures"]},
            handled={f["messageId"] for f in self.failures},
            blocking=self._blocking,
            skip_group=skip_group,
        )
        return {
            "records": len(records),
            "outcomes": dict(self.outcomes),
            "failed": len(self.failures),
            "poison": sum(f["kind"] == "poison" for f in self.failures),
            # FIFO: records after a failure are returned unprocessed to keep their order.
            "skipped": len(held_back),
            "failures": self.failures,
            "heldBack": held_back,
        }


def _held_back(
    records: list[dict[str, Any]],
    *,
    reported: set[str],
    handled: set[str],
    blocking: set[str],
    skip_group: bool,
) -> list[dict[str, Any]]:
    """Each record returned unprocessed, with the failed record that held it back.

    That is the batch's first failure, or with FIFO_SKIP_GROUP_ON_ERROR its message group's.
    When the held-back message reaches the DLQ, this is what explains it.
    """
    first: str | None = None
    first_in_group: dict[str | None, str] = {}
    held = []
    for record in records:
        message_id = record.get("messageId")
        group = record.get("attributes", {}).get("MessageGroupId")
        if message_id in blocking:
            first = first or message_id
            first_in_group.setdefault(group, message_id)
        if message_id in reported and message_id not in handled:
            held.append(
                {
                    "messageId": message_id,
                    "messageGroupId": group,
                    "blockedBy": first_in_group.get(group) if skip_group else first,
                }
            )
    return held


class BatchEffect(ABC):
    """A side effect written once per batch rather than once per record (the per-batch archive).

    `check` runs per record (on the record threads) and raises for a record that can never be
    written, which fails alone; `commit` then writes every record that passed, in batch order, and
    returns one outcome per record. If `commit` raises, all of them fail and are retried together.
    """

    @abstractmethod
    def check(self, incoming: Incoming) -> None: ...

    @abstractmethod
    def commit(self, staged: list[Incoming]) -> list[Outcome]: ...
