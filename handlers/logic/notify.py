"""Render a notification from its template and send it through SNS or SES.

Templates are strict: a variable the event lacks raises before anything is sent, and every value
from the event is HTML-escaped. They live in `handlers/logic/templates.py` because the
deployment zip packages only the handlers' Python files.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined, TemplateNotFound, UndefinedError

from handlers.logic.templates import TEMPLATES
from handlers.observation import Effects, Observation, Routed
from handlers.runtime.envelope import Incoming
from handlers.runtime.errors import PoisonRecord
from handlers.runtime.guards import Outcome


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(loader=DictLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)


def render(incoming: Incoming) -> tuple[str, str]:
    """(subject, HTML body) for the event; poison if it has no template or lacks a variable."""
    context = {"event": incoming.event, "detail": incoming.detail}
    try:
        return tuple(
            environment().get_template(f"{incoming.detail_type}.{part}").render(context).strip()
            for part in ("subject", "html")
        )
    except TemplateNotFound as exc:
        raise PoisonRecord(f"no notification template for {incoming.detail_type}") from exc
    except UndefinedError as exc:
        raise PoisonRecord(f"template {incoming.detail_type}: {exc}") from exc


KEY_HASH_ATTRIBUTE = "eda-key-hash"


def sns_subject(subject: str) -> str:
    """SNS subjects: ASCII, no line breaks, at most 100 characters."""
    return subject.encode("ascii", "replace").decode()[:100]


def is_fifo_topic(topic_arn: str) -> bool:
    """SNS FIFO topic names end in .fifo; only they take a MessageDeduplicationId."""
    return topic_arn.endswith(".fifo")


def sns_sender(*, client: Any, topic_arn: str) -> Callable[[Incoming], Outcome]:
    fifo = is_fifo_topic(topic_arn)

    def send(incoming: Incoming) -> Outcome:
        subject, body = render(incoming)
        ordering = (
            # SNS drops a message whose deduplication id it saw in the last 5 minutes: a
            # redelivery's or a concurrent copy's repeat. Each notification is its own group:
            # notifications need no order between them, and groups spread the throughput.
            {"MessageDeduplicationId": incoming.key_hash, "MessageGroupId": incoming.key_hash}
            if fifo
            else {}
        )
        client.publish(
            TopicArn=topic_arn,
            Subject=sns_subject(subject),
            Message=body,
            MessageAttributes={
                "detail-type": {"DataType": "String", "StringValue": incoming.detail_type},
                # Which event this notification is for, so a subscriber (or an audit) can tell
                # a repeated notification from a new one: standard topics deliver repeats.
                KEY_HASH_ATTRIBUTE: {"DataType": "String", "StringValue": incoming.key_hash},
            },
            **ordering,
        )
        return Outcome.APPLIED

    return send


def ses_sender(*, client: Any, sender: str) -> Callable[[Incoming], Outcome]:
    def send(incoming: Incoming) -> Outcome:
        subject, body = render(incoming)
        recipient = incoming.detail.get("customerEmail")
        if not recipient:
            raise PoisonRecord(f"{incoming.detail_type} has no detail.customerEmail to send to")
        client.send_email(
            Source=sender,
            Destination={"ToAddresses": [recipient]},
            Message={"Subject": {"Data": subject}, "Body": {"Html": {"Data": body}}},
        )
        return Outcome.APPLIED

    return send


def observed(effects: Effects, *, domain: str, function: str, routed: dict[str, Routed]) -> Observation:
    """One message per event on the domain's notifications topic, named by its key hash, with
    the subject and body rendered from the event."""
    seen = Observation()
    for message in effects.notifications(domain):
        key_hash = message["MessageAttributes"][KEY_HASH_ATTRIBUTE]["Value"]
        seen.applied[key_hash] += 1
        event = routed.get(key_hash)
        if event is None:
            continue
        subject, body = render(event.incoming)
        # A raw-delivery subscriber gets no subject: compare what the subscriber received.
        said = message.get("Subject")
        if message.get("Message") != body or said not in (None, sns_subject(subject)):
            seen.disagree(key_hash, f"notification {said!r} is not the one rendered from the event")
    return seen
