"""Fulfillment: hands off by publishing a follow-up event instead of a synchronous call.

At-least-once: every copy of the follow-up carries the same deterministic `fulfillmentId`, which
a downstream keys on; IDEMPOTENCY_GUARD picks the guard (catalogue: conditional-write).
"""

from handlers.logic.handoff import publisher
from handlers.runtime import aws
from handlers.runtime.consumer import SqsConsumer
from handlers.runtime.environment import required

CONSUMER = SqsConsumer(
    name="fulfillment",
    variables={
        "EVENT_BUS_NAME": lambda: required("EVENT_BUS_NAME"),
        "EVENT_SOURCE": lambda: required("EVENT_SOURCE"),
    },
    build=lambda s: publisher(
        client=aws.client("events"), bus_name=s["EVENT_BUS_NAME"], source=s["EVENT_SOURCE"]
    ),
    self_guarded=False,
)


def handler(event, context):
    return CONSUMER.handle(event, context)
