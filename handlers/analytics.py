"""Analytics: per-type, per-day counters; guard and increment in one transaction."""

from handlers.logic.daily_counters import counter
from handlers.runtime import aws
from handlers.runtime.consumer import SqsConsumer

CONSUMER = SqsConsumer(
    name="analytics",
    build=lambda s: counter(
        client=aws.client("dynamodb"),
        table=s["IDEMPOTENCY_TABLE"],
        function_name=s.function_name,
        window_s=s.window_s,
    ),
    # A batch's records mostly increment the same per-type, per-day item; transactions on one
    # item at the same time cancel each other (TransactionConflict), so records go one by one.
    concurrent_records=False,
)


def handler(event, context):
    return CONSUMER.handle(event, context)
