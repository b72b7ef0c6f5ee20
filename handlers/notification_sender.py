"""Notification sender: renders a strict, autoescaped template and sends it through SNS or SES."""

from handlers.logic.notify import ses_sender, sns_sender
from handlers.runtime import aws
from handlers.runtime.consumer import SqsConsumer
from handlers.runtime.environment import FunctionEnv, one_of, required

CHANNELS = ("sns", "ses")


def _channel() -> str:
    # The compute tier grants sns:Publish when NOTIFY_CHANNEL is absent, so sns is the default.
    return one_of("NOTIFY_CHANNEL", CHANNELS, "sns")


def _build(s: FunctionEnv):
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
)


def handler(event, context):
    return CONSUMER.handle(event, context)
