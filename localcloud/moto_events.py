"""Deploy creators for EventBridge and the Scheduler: Pulumi inputs in, moto resources out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from localcloud.bridges import RULE_RELAY, bridge_note
from localcloud.records import Line, RelaySpec
from offline import readers
from offline.program import ACCOUNT
from offline.readers import TARGET, whole

if TYPE_CHECKING:
    from localcloud.deploy import Creator, MotoState


def event_bus(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    arn = state.client("events").create_event_bus(Name=i["name"])["EventBusArn"]
    return i["name"], {"arn": arn, "name": i["name"]}


def event_bus_policy(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    state.client("events").put_permission(EventBusName=i["eventBusName"], Policy=i["policy"])
    return i["eventBusName"], {}


def event_archive(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    arguments: dict[str, Any] = {
        "ArchiveName": i["name"],
        "EventSourceArn": i["eventSourceArn"],
        "Description": i.get("description", ""),
        "RetentionDays": whole(i.get("retentionDays") or 0),
    }
    if i.get("eventPattern"):
        arguments["EventPattern"] = i["eventPattern"]
    arn = state.client("events").create_archive(**arguments)["ArchiveArn"]
    return i["name"], {"arn": arn, "name": i["name"]}


def event_rule(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    arguments: dict[str, Any] = {
        "Name": i["name"],
        "EventBusName": i.get("eventBusName", "default"),
        "Description": i.get("description", ""),
        "State": i.get("state", "ENABLED"),
    }
    for key, api in {"eventPattern": "EventPattern", "scheduleExpression": "ScheduleExpression"}.items():
        if i.get(key):
            arguments[api] = i[key]
    arn = state.client("events").put_rule(**arguments)["RuleArn"]
    return f"{arguments['EventBusName']}/{i['name']}", {"arn": arn, "name": i["name"]}


def event_target(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    declared = readers.target(i)
    target: dict[str, Any] = {"Id": declared.target_id, "Arn": declared.arn}
    if i.get("retryPolicy"):
        target["RetryPolicy"] = {
            "MaximumRetryAttempts": whole(i["retryPolicy"]["maximumRetryAttempts"]),
            "MaximumEventAgeInSeconds": whole(i["retryPolicy"]["maximumEventAgeInSeconds"]),
        }
    if declared.dead_letter_arn:
        target["DeadLetterConfig"] = {"Arn": declared.dead_letter_arn}
    if i.get("inputTransformer"):
        target["InputTransformer"] = {
            "InputPathsMap": i["inputTransformer"].get("inputPaths") or {},
            "InputTemplate": i["inputTransformer"]["inputTemplate"],
        }
    if i.get("input"):
        target["Input"] = i["input"]
    # EventBridge sends MessageGroupId as given, a literal (API reference, SqsParameters), and so
    # does moto: a `$.` value is a group name like any other, not a path.
    if declared.message_group_id:
        target["SqsParameters"] = {"MessageGroupId": declared.message_group_id}

    reasons = []
    if declared.arn.startswith("arn:aws:sns:"):
        reasons.append("moto delivers no EventBridge -> SNS targets (put_events raises)")
    if declared.input_path:
        reasons.append("moto ignores InputPath; the bridge applies it")
    if reasons:
        relay = _relay_queue(
            state, i, declared.message_group_id, declared.dead_letter_arn, "; ".join(reasons)
        )
        target = {k: v for k, v in target.items() if k != "SqsParameters"}
        target["Arn"] = relay
        state.report.bridged.append(Line(TARGET, name, bridge_note(RULE_RELAY, "; ".join(reasons))))
    state.client("events").put_targets(Rule=declared.rule, EventBusName=declared.bus, Targets=[target])
    return f"{i['rule']}-{i['targetId']}", {}


def _relay_queue(
    state: MotoState, i: dict, group: str | None, dead_letter_arn: str | None, reason: str
) -> str:
    """A standard queue between the rule and the real target; returns the relay's ARN."""
    relay_name = f"localcloud-relay-{i['rule']}-{i['targetId']}"[:80]
    url = state.client("sqs").create_queue(QueueName=relay_name)["QueueUrl"]
    state.relays.append(
        RelaySpec(
            rule=i["rule"],
            target_id=i["targetId"],
            relay_url=url,
            target_arn=i["arn"],
            message_group_id=group,
            input_path=i.get("inputPath"),
            dead_letter_arn=dead_letter_arn,
            reason=reason,
        )
    )
    return f"arn:aws:sqs:{state.region}:{ACCOUNT}:{relay_name}"


def schedule(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    target = i["target"]
    arguments: dict[str, Any] = {
        "Name": i["name"],
        "ScheduleExpression": i["scheduleExpression"],
        "ScheduleExpressionTimezone": i.get("scheduleExpressionTimezone", "UTC"),
        "FlexibleTimeWindow": {"Mode": i["flexibleTimeWindow"]["mode"]},
        "Target": {"Arn": target["arn"], "RoleArn": target["roleArn"], "Input": target.get("input", "")},
    }
    arn = state.client("scheduler").create_schedule(**arguments)["ScheduleArn"]
    state.report.not_emulated.append(
        Line("aws:scheduler/schedule:Schedule", name, "held by moto, but moto's Scheduler never "
             "fires: the scheduled event is not produced")
    )
    return i["name"], {"arn": arn, "name": i["name"]}


CREATORS: dict[str, Creator] = {
    "aws:cloudwatch/eventBus:EventBus": event_bus,
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": event_bus_policy,
    "aws:cloudwatch/eventArchive:EventArchive": event_archive,
    "aws:cloudwatch/eventRule:EventRule": event_rule,
    "aws:cloudwatch/eventTarget:EventTarget": event_target,
    "aws:scheduler/schedule:Schedule": schedule,
}
