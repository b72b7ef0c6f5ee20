"""Why a record failed, in two kinds: ones a retry may cure, and poison that no retry will."""

from __future__ import annotations


class PoisonRecord(Exception):
    """The record is unusable: not JSON, schema-invalid, no business key, or a conflicting payload.

    It is still reported as a batch item failure, never acknowledged: SQS moves it to the DLQ
    after maxReceiveCount, and the batch log names it (messageId, which the DLQ keeps) and why.
    """


class PayloadMismatch(PoisonRecord):
    """A business key already processed with a different payload: a producer that re-sent an
    event changed, or a key that does not tell the consumer's events apart, shown loudly."""

    def __init__(self, key: object) -> None:
        super().__init__(
            f"business key {key!r} was already processed with a different payload (a producer "
            "re-sent the event changed, or the consumer's idempotency_key does not tell its "
            "events apart: a key shared by several event types needs detail-type or a "
            "version in it, e.g. '[detail-type, detail.shipmentId]')"
        )
