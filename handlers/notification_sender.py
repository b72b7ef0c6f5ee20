"""Notification sender: renders a strict, autoescaped template and sends it through SNS or SES.

At-least-once. IDEMPOTENCY_GUARD=powertools (the catalogue's default) for a standard SNS topic or
SES, which cannot deduplicate; conditional-write only with an SNS FIFO topic, whose
MessageDeduplicationId (the business key hash) drops the repeats the cheaper guard lets through.
"""

from handlers.catalog import GUARD
from handlers.logic.notify import is_fifo_topic, ses_sender, sns_sender
from handlers.runtime import aws
from handlers.runtime.consumer import SqsConsumer
from handlers.runtime.environment import FunctionEnv, MissingSetting, one_of, required

CHANNELS = ("sns", "ses")


def _channel() -> str:
    # The compute tier grants sns:Publish when NOTIFY_CHANNEL is absent, so sns is the default.
    return one_of("NOTIFY_CHANNEL", CHANNELS, "sns")


def _build(s: FunctionEnv):
    deduplicating = s["NOTIFY_CHANNEL"] == "sns" and is_fifo_topic(s["NOTIFY_TARGET"])
    if s[GUARD] == "conditional-write" and not deduplicating:
        raise MissingSetting(
            f"environment variable {GUARD}=conditional-write needs a target that deduplicates, "
            "an SNS FIFO topic (NOTIFY_TOPIC_ARN ending in .fifo); standard SNS and SES cannot, "
            "so they keep powertools, whose in-progress mark stops concurrent copies"
        )
    if s["NOTIFY_CHANNEL"] == "ses":
        return ses_sender(client=aws.client("ses"), sender=s["NOTIFY_TARGET"])
    return sns_sender(client=aws.client("sns"), topic_arn=s["NOTIFY_TARGET"])


CONSUMER = SqsConsumer(
    name="notification_sender",
    variables={
        "NOTIFY_CHANNEL": _channel,
        "NOTIFY_TARGET": lambda: required(
            "NOTIFY_FROM" if _channel() == "ses" else "NOTIFY_TOPIC_ARN"
        ),
    },
    build=_build,
    self_guarded=False,
)


def handler(event, context):
    return CONSUMER.handle(event, context)
