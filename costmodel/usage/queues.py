"""Usage of the queues a function or a pipe polls: SQS requests (sends, batched receives and
deletes, idle polling) and the KMS data keys of queues under a customer-managed key; then the
usage of whatever polls them (`usage.functions`, `usage.events.pipe`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from costmodel.topology import Queue
from costmodel.usage import (
    KMS_DATA_KEY_REUSE_S,
    MINUTES_PER_MONTH,
    SECONDS_PER_MONTH,
    SQS_DELETE,
    SQS_IDLE,
    SQS_RECEIVE,
    SQS_SEND,
    Deliveries,
    amount,
    chunks,
    events,
    functions,
)
from costmodel.volume import total

if TYPE_CHECKING:
    from costmodel.usage.model import UsageModel

SQS_MAX_MESSAGES_PER_CALL = 10  # ReceiveMessage and DeleteMessageBatch take at most 10 messages


def polled_queue(model: UsageModel, queue: Queue) -> None:
    """A queue's requests, then its poller's usage; nothing for a dead-letter queue."""
    if not queue.polled:
        return  # a dead-letter queue: only failures arrive (see costmodel.coverage.COVERAGE)
    flows = model.flows.queue_in.get(queue.name, [])
    item = "sqs.fifo.requests" if queue.fifo else "sqs.standard.requests"
    a = model.a
    if queue.customer_key:
        # SQS asks KMS for a data key per principal per reuse period: B/D × (2P + C).
        requests = SECONDS_PER_MONTH / KMS_DATA_KEY_REUSE_S * 3
        model.add("KMS", queue.name, "requests (queue data keys)", "kms.requests", 0, requests,
                  f"{SECONDS_PER_MONTH:,} s / {KMS_DATA_KEY_REUSE_S} s reuse × (2 × 1 producer + 1 consumer)")
    arrivals = total(flows) * (1 + a.duplicate_rate)
    sends = chunks(flows) * (1 + a.duplicate_rate)
    if queue.function is not None:
        batch, poller = queue.batch_size, "Lambda's pollers"
        attempts = arrivals * (1 + a.failure_rate)
        delivered = f"{amount(attempts)} deliveries (incl. {a.failure_rate:g} retries)"
    else:
        batch, poller = queue.pipe.batch_size, f"pipe {queue.pipe.name}"
        attempts = arrivals  # a pipe only forwards: consumer failures happen downstream
        delivered = f"{amount(attempts)} deliveries"
    per_batch = max(1.0, batch * a.batch_fill)
    batches = attempts / per_batch
    # A batch of n messages takes ceil(n / 10) ReceiveMessage and DeleteMessageBatch calls:
    # each carries at most 10 messages. A batch of 100 saves invocations, not requests.
    calls_per_batch = math.ceil(per_batch / SQS_MAX_MESSAGES_PER_CALL)
    calls = batches * calls_per_batch
    idle = a.idle_receives_per_minute * MINUTES_PER_MONTH
    model.add("SQS", queue.name, SQS_SEND, item, sends, 0,
              f"{amount(total(flows))} messages × 64 KB chunks × (1 + {a.duplicate_rate:g} duplicates)")
    model.add("SQS", queue.name, SQS_RECEIVE, item, calls, 0,
              f"{delivered} ÷ {per_batch:g} per batch (batch {batch} × fill {a.batch_fill:g}) "
              f"× {calls_per_batch} ReceiveMessage call(s) of at most {SQS_MAX_MESSAGES_PER_CALL}")
    model.add("SQS", queue.name, SQS_DELETE, item, calls, 0,
              f"{amount(batches)} batches × {calls_per_batch} DeleteMessageBatch call(s) of at most "
              f"{SQS_MAX_MESSAGES_PER_CALL}")
    model.add("SQS", queue.name, SQS_IDLE, item, 0, idle,
              f"{poller}: {a.idle_receives_per_minute:g} long polls/min × {MINUTES_PER_MONTH:,.0f} min")
    if queue.function is not None:
        unique = arrivals / (1 + a.duplicate_rate)
        functions.consumer(
            model, Deliveries(queue.function, flows, unique, arrivals, attempts, batches)
        )
    else:
        events.pipe(model, queue)
