"""Deploy creators for SQS and SNS: Pulumi inputs in, moto resources out."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from localcloud.records import auto_name
from offline import readers
from offline.program import ACCOUNT
from offline.readers import whole

if TYPE_CHECKING:
    from localcloud.deploy import Creator, MotoState


def sns_topic(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    attributes = {"KmsMasterKeyId": i["kmsMasterKeyId"]} if i.get("kmsMasterKeyId") else {}
    arn = state.client("sns").create_topic(Name=i["name"], Attributes=attributes)["TopicArn"]
    return arn, {"arn": arn, "name": i["name"]}


def sns_topic_policy(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    state.client("sns").set_topic_attributes(
        TopicArn=i["arn"], AttributeName="Policy", AttributeValue=i["policy"]
    )
    return i["arn"], {}


def sns_subscription(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    declared = readers.subscription(i)
    attributes = {}
    if declared.raw_message_delivery:
        attributes["RawMessageDelivery"] = "true"
    if declared.filter_policy is not None:
        attributes["FilterPolicy"] = json.dumps(declared.filter_policy)
        attributes["FilterPolicyScope"] = declared.filter_policy_scope
    if declared.dead_letter_arn:
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": declared.dead_letter_arn})
    arn = state.client("sns").subscribe(
        TopicArn=declared.topic,
        Protocol=declared.protocol,
        Endpoint=declared.endpoint,
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return arn, {"arn": arn}


def sqs_queue(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    attributes: dict[str, str] = {}
    numbers = {
        "visibilityTimeoutSeconds": "VisibilityTimeout",
        "messageRetentionSeconds": "MessageRetentionPeriod",
        "receiveWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds",
        "delaySeconds": "DelaySeconds",
        "kmsDataKeyReusePeriodSeconds": "KmsDataKeyReusePeriodSeconds",
    }
    for key, attribute in numbers.items():
        if i.get(key) is not None:
            attributes[attribute] = str(whole(i[key]))
    flags = {
        "fifoQueue": "FifoQueue",
        "contentBasedDeduplication": "ContentBasedDeduplication",
        "sqsManagedSseEnabled": "SqsManagedSseEnabled",
    }
    for key, attribute in flags.items():
        if i.get(key):  # AWS rejects FifoQueue=false on create; absent means false
            attributes[attribute] = "true"
    for key, attribute in {"redrivePolicy": "RedrivePolicy", "kmsMasterKeyId": "KmsMasterKeyId"}.items():
        if i.get(key):
            attributes[attribute] = i[key]
    queue_name = i.get("name") or auto_name(name)
    url = state.client("sqs").create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
    arn = f"arn:aws:sqs:{state.region}:{ACCOUNT}:{queue_name}"
    return url, {"url": url, "arn": arn, "name": queue_name}


def sqs_policy(attribute: str, key: str) -> Creator:
    def create(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
        state.client("sqs").set_queue_attributes(
            QueueUrl=i["queueUrl"], Attributes={attribute: i[key]}
        )
        return i["queueUrl"], {}

    return create


CREATORS: dict[str, Creator] = {
    "aws:sns/topic:Topic": sns_topic,
    "aws:sns/topicPolicy:TopicPolicy": sns_topic_policy,
    "aws:sns/topicSubscription:TopicSubscription": sns_subscription,
    "aws:sqs/queue:Queue": sqs_queue,
    "aws:sqs/queuePolicy:QueuePolicy": sqs_policy("Policy", "policy"),
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": sqs_policy("RedriveAllowPolicy", "redriveAllowPolicy"),
}
