"""Partial batch responses: independent records overlap on threads; FIFO records stay in order.

Both processors are Powertools' own (`BatchProcessor`, `SqsFifoPartialProcessor`); the only change
is that a standard batch maps its records over a thread pool, so one record's DynamoDB round
trips overlap another's instead of queueing behind them.
"""

from __future__ import annotations

import threading
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

from handlers.runtime.errors import PoisonRecord


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
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def succeeded(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1

    def failed(self, record: Any, exc: BaseException) -> None:
        entry = {
            "messageId": record.message_id,
            "kind": "poison" if isinstance(exc, PoisonRecord) else "retryable",
            "reason": f"{type(exc).__name__}: {exc}",
            # On the last receive before the DLQ, this is the line that explains the DLQ message.
            "receiveCount": record.attributes.approximate_receive_count,
        }
        with self._lock:
            self.failures.append(entry)

    def summary(self, response: dict[str, Any], total: int) -> dict[str, Any]:
        reported = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        handled = {f["messageId"] for f in self.failures}
        return {
            "records": total,
            "outcomes": dict(self.outcomes),
            "failed": len(self.failures),
            "poison": sum(f["kind"] == "poison" for f in self.failures),
            # FIFO: records after a failure are returned unprocessed to keep their order.
            "skipped": len(reported - handled),
            "failures": self.failures,
        }
