"""Order processor: applies order state; one conditional write is guard and side effect."""

from handlers.logic.order_state import applier
from handlers.runtime import aws
from handlers.runtime.consumer import SqsConsumer

CONSUMER = SqsConsumer(
    name="order_processor",
    build=lambda s: applier(
        client=aws.client("dynamodb"),
        table=s["IDEMPOTENCY_TABLE"],
        function_name=s.function_name,
        window_s=s.window_s,
    ),
)


def handler(event, context):
    return CONSUMER.handle(event, context)
