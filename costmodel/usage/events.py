"""Usage of the event routers: EventBridge buses (events put, the archive), EventBridge Scheduler,
EventBridge Pipes and SNS topics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from costmodel.topology import Queue
from costmodel.usage import DAYS_PER_MONTH, SECONDS_PER_MONTH, amount, chunks, gigabytes
from costmodel.volume import total

if TYPE_CHECKING:
    from costmodel.usage.model import UsageModel


def buses(model: UsageModel) -> None:
    """Per bus: the events producers put (re-sends included), its archive and its schedules."""
    dup = model.a.duplicate_rate
    for bus_name, bus in model.topology.buses.items():
        published = model.flows.published.get(bus_name, [])
        model.add("EventBridge", bus_name, "custom events put", "eventbridge.events.put",
                  chunks(published) * (1 + dup), 0,
                  f"{amount(total(published))} events × 64 KB chunks × (1 + {dup:g} producer re-sends)")
        if bus.archive_days is not None:
            # No event pattern: the archive takes every event on the bus, the consumers'
            # hand-off events included.
            handoffs = model.flows.handoffs_on(bus_name)
            gb = gigabytes(published) * (1 + dup) + gigabytes(handoffs)
            what = f"{amount(total(published) * (1 + dup))} events"
            if handoffs:
                what += f" + {amount(total(handoffs))} hand-off events"
            model.add("EventBridge", bus_name, "archive: events processed", "eventbridge.archive.processing",
                      gb, 0, f"{what} = {gb:.3g} GB a month into the archive")
            model.storage("EventBridge", bus_name, "eventbridge.archive.storage", gb,
                          bus.archive_days or None, f"{gb:.3g} GB/month",
                          component="archive: storage (steady state)")
        for schedule, expression in bus.schedules.items():
            runs = invocations_per_month(expression)
            model.add("EventBridge Scheduler", schedule, "invocations", "eventbridge.scheduler.invocations",
                      0, runs, f"{expression} ≈ {amount(runs)} runs a month")


def topics(model: UsageModel) -> None:
    """Per topic with traffic: the publishes EventBridge makes and the (free) SQS deliveries."""
    dup = model.a.duplicate_rate
    for topic_name, topic in model.topology.topics.items():
        flows = model.flows.topic_in.get(topic_name, [])
        if not flows:
            continue
        model.add("SNS", topic_name, "publishes (from EventBridge)", "sns.publish",
                  chunks(flows) * (1 + dup), 0,
                  f"{amount(total(flows))} events × 64 KB chunks × (1 + {dup:g})")
        delivered = sum(
            total([f for f in flows if s.filter is None or s.filter.matches(f.event)])
            for s in topic.subscriptions
        )
        model.add("SNS", topic_name, "deliveries to SQS (free)", "sns.delivery.sqs",
                  delivered * (1 + dup), 0,
                  f"{len(topic.subscriptions)} subscriptions after filter policies")


def pipe(model: UsageModel, queue: Queue) -> None:
    """The requests of the pipe that polls `queue`: each event it forwards, per 64 KB chunk."""
    polling = queue.pipe
    forwarded = model.flows.pipe_in.get(polling.name, [])
    dup = model.a.duplicate_rate
    model.add("EventBridge Pipes", polling.name, "requests", "eventbridge.pipes.requests",
              chunks(forwarded) * (1 + dup), 0,
              f"{amount(total(forwarded) * (1 + dup))} events from {queue.name} to "
              f"{polling.target.name} × 64 KB chunks"
              + (" (after the pipe's filter)" if polling.filters else ""))


def invocations_per_month(expression: str) -> float:
    """Runs a month of a Scheduler expression: exact for rate(), the field product for cron()."""
    body = expression[expression.index("(") + 1 : -1].strip()
    if expression.startswith("at("):
        return 1
    if expression.startswith("rate("):
        value, unit = body.split()
        seconds = {"minute": 60, "hour": 3_600, "day": 86_400}[unit.rstrip("s")]
        return SECONDS_PER_MONTH / (int(value) * seconds)
    minutes, hours, day_of_month, _month, day_of_week, *_ = body.split()
    days = DAYS_PER_MONTH
    if day_of_month not in ("*", "?"):
        days = _count(day_of_month, 31) * DAYS_PER_MONTH / 31
    elif day_of_week not in ("*", "?"):
        days = _count(day_of_week, 7) * DAYS_PER_MONTH / 7
    return _count(minutes, 60) * _count(hours, 24) * days


WEEKDAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}


def _count(field: str, span: int) -> int:
    """How many values a cron field selects (a list of values, ranges and */n steps)."""
    if field in ("*", "?"):
        return span
    count = 0
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            first, last = 0, span - 1
        elif "-" in base:
            first, last = (int(WEEKDAYS.get(x, x)) for x in base.split("-"))
        else:
            first = last = 0
        count += len(range(first, last + 1, int(step) if step else 1))
    return max(count, 1)
