"""Analytics: per-type, per-day counts; one conditional guard item per event is the count."""

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
    # Each record writes its own guard item (no shared counter item), so records overlap.
)


def handler(event, context):
    return CONSUMER.handle(event, context)
