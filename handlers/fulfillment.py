"""Fulfillment: hands off by publishing a follow-up event instead of a synchronous call."""

from handlers.logic.handoff import publisher
from handlers.runtime import aws
from handlers.runtime.consumer import Consumer
from handlers.runtime.settings import required

CONSUMER = Consumer(
    name="fulfillment",
    idempotency="powertools",
    needs={
        "EVENT_BUS_NAME": lambda: required("EVENT_BUS_NAME"),
        "EVENT_SOURCE": lambda: required("EVENT_SOURCE"),
    },
    build=lambda s: publisher(
        client=aws.client("events"), bus_name=s["EVENT_BUS_NAME"], source=s["EVENT_SOURCE"]
    ),
)
IDEMPOTENCY = CONSUMER.idempotency


def handler(event, context):
    return CONSUMER.handle(event, context)
