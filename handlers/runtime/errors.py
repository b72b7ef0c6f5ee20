"""Why a record failed, in two kinds: ones a retry may cure, and poison that no retry will."""

from __future__ import annotations


class PoisonRecord(Exception):
    """The record is unusable: not JSON, schema-invalid, no business key, or a conflicting payload.

    It is still reported as a batch item failure, never acknowledged: SQS moves it to the DLQ
    after maxReceiveCount, and the batch log names it (messageId, which the DLQ keeps) and why.
    """


class PayloadMismatch(PoisonRecord):
    """A business key already processed with a different payload: a producer bug, shown loudly."""

    def __init__(self, key: object) -> None:
        super().__init__(f"business key {key!r} was already processed with a different payload")
