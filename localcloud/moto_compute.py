"""Deploy creators for KMS, IAM, CloudWatch, Logs and Lambda: Pulumi inputs in, moto resources out.

Lambda code never runs inside moto (that needs Docker): functions and layers are registered with
a placeholder zip, and localcloud's pollers play the event source mappings.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import TYPE_CHECKING

from localcloud.bridges import DLQ_ALARM, bridge_note
from localcloud.records import AlarmSpec, FunctionSpec, Line, auto_name
from offline import readers
from offline.program import ACCOUNT
from offline.readers import ALARM, FUNCTION, MAPPING, whole

if TYPE_CHECKING:
    from localcloud.deploy import Creator, MotoState

# moto requires a zip to register a function or layer; its content never runs.
_PLACEHOLDER_ZIP = io.BytesIO()
with zipfile.ZipFile(_PLACEHOLDER_ZIP, "w") as _zip:
    _zip.writestr("README", "code runs in localcloud.sandbox workers")
PLACEHOLDER_ZIP = _PLACEHOLDER_ZIP.getvalue()
DLQ_DEPTH_METRIC = "ApproximateNumberOfMessagesVisible"


def kms_key(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    arguments = {"Description": i.get("description", "")}
    if i.get("policy"):
        arguments["Policy"] = i["policy"]
    meta = state.client("kms").create_key(**arguments)["KeyMetadata"]
    if i.get("enableKeyRotation"):
        state.client("kms").enable_key_rotation(KeyId=meta["KeyId"])
    return meta["KeyId"], {"keyId": meta["KeyId"], "arn": meta["Arn"]}


def kms_alias(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    state.client("kms").create_alias(AliasName=i["name"], TargetKeyId=i["targetKeyId"])
    arn = f"arn:aws:kms:{state.region}:{ACCOUNT}:{i['name']}"
    return i["name"], {"arn": arn}


def iam_role(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    role_name = i.get("name") or auto_name(name, 64)
    role = state.client("iam").create_role(
        RoleName=role_name, AssumeRolePolicyDocument=i["assumeRolePolicy"]
    )["Role"]
    return role_name, {"arn": role["Arn"], "name": role_name, "id": role_name}


def iam_role_policy(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    policy_name = i.get("name") or auto_name(name, 128)
    state.client("iam").put_role_policy(
        RoleName=i["role"], PolicyName=policy_name, PolicyDocument=i["policy"]
    )
    return f"{i['role']}:{policy_name}", {"name": policy_name}


def log_group(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    logs = state.client("logs")
    logs.create_log_group(logGroupName=i["name"])
    if i.get("retentionInDays"):
        logs.put_retention_policy(logGroupName=i["name"], retentionInDays=whole(i["retentionInDays"]))
    arn = f"arn:aws:logs:{state.region}:{ACCOUNT}:log-group:{i['name']}"
    return i["name"], {"arn": arn, "name": i["name"]}


def metric_alarm(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    alarm = readers.alarm(i, name)
    state.client("cloudwatch").put_metric_alarm(
        AlarmName=alarm.name,
        AlarmDescription=alarm.description,
        Namespace=alarm.namespace,
        MetricName=alarm.metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in alarm.dimensions.items()],
        Statistic=alarm.statistic,
        Period=alarm.period_s,
        EvaluationPeriods=alarm.evaluation_periods,
        Threshold=alarm.threshold,
        ComparisonOperator=alarm.comparison,
        TreatMissingData=alarm.treat_missing_data,
        AlarmActions=list(alarm.alarm_actions),
        OKActions=list(alarm.ok_actions),
    )
    arn = f"arn:aws:cloudwatch:{state.region}:{ACCOUNT}:alarm:{alarm.name}"
    queue = alarm.dimensions.get("QueueName")
    if alarm.namespace == "AWS/SQS" and queue and alarm.metric == DLQ_DEPTH_METRIC:
        state.alarms.append(
            AlarmSpec(
                name=alarm.name,
                arn=arn,
                queue_name=queue,
                metric=alarm.metric,
                threshold=alarm.threshold,
                comparison=alarm.comparison,
                alarm_actions=alarm.alarm_actions,
                ok_actions=alarm.ok_actions,
            )
        )
        state.report.bridged.append(Line(ALARM, name, bridge_note(DLQ_ALARM)))
    else:
        state.report.not_emulated.append(
            Line(ALARM, name, f"held by moto, never evaluated ({alarm.metric} is not observable "
                 "without CloudWatch metrics)")
        )
    return alarm.name, {"arn": arn, "name": alarm.name}


def dashboard(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    state.client("cloudwatch").put_dashboard(
        DashboardName=i["dashboardName"], DashboardBody=i["dashboardBody"]
    )
    arn = f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{i['dashboardName']}"
    return i["dashboardName"], {"dashboardArn": arn, "dashboardName": i["dashboardName"]}


def lambda_layer(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    layer = state.client("lambda").publish_layer_version(
        LayerName=i["layerName"],
        Content={"ZipFile": PLACEHOLDER_ZIP},
        CompatibleRuntimes=list(i.get("compatibleRuntimes") or []),
        CompatibleArchitectures=list(i.get("compatibleArchitectures") or []),
    )
    state.report.played.append(
        Line("aws:lambda/layerVersion:LayerVersion", name, "registered with a placeholder zip; "
             "the workers load the layer built from handlers/constraints.txt")
    )
    return layer["LayerVersionArn"], {"arn": layer["LayerVersionArn"], "layerArn": layer["LayerArn"]}


def lambda_function(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    declared = readers.function(i, name)
    function = state.client("lambda").create_function(
        FunctionName=declared.name,
        Role=declared.role,
        Runtime=declared.runtime,
        Handler=declared.handler,
        Code={"ZipFile": PLACEHOLDER_ZIP},
        Timeout=declared.timeout_s,
        MemorySize=declared.memory_mb,
        Architectures=[declared.architecture],
        Environment={"Variables": declared.environment},
    )
    state.functions[function["FunctionArn"]] = FunctionSpec(
        name=declared.name,
        arn=function["FunctionArn"],
        handler=declared.handler,
        environment=declared.environment,
        timeout_s=declared.timeout_s,
        memory_mb=declared.memory_mb,
    )
    state.report.played.append(
        Line(FUNCTION, name, "registered in moto; its code runs in a sandboxed worker from "
             "the code archive, the layer and the runtime's SDK (moto needs Docker to run it)")
    )
    return declared.name, {"arn": function["FunctionArn"], "name": declared.name}


def event_source_mapping(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    # Not created in moto: moto would invoke the function itself on every SQS send (Docker).
    state.mappings.append(readers.mapping(i))
    state.report.played.append(
        Line(MAPPING, name, "played by a localcloud poller (batch size, window, concurrency, "
             "ReportBatchItemFailures)")
    )
    mapping_id = str(uuid.uuid4())
    return mapping_id, {"uuid": mapping_id, "functionArn": i["functionName"]}


CREATORS: dict[str, Creator] = {
    "aws:kms/key:Key": kms_key,
    "aws:kms/alias:Alias": kms_alias,
    "aws:iam/role:Role": iam_role,
    "aws:iam/rolePolicy:RolePolicy": iam_role_policy,
    "aws:cloudwatch/logGroup:LogGroup": log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": metric_alarm,
    "aws:cloudwatch/dashboard:Dashboard": dashboard,
    "aws:lambda/layerVersion:LayerVersion": lambda_layer,
    "aws:lambda/function:Function": lambda_function,
    "aws:lambda/eventSourceMapping:EventSourceMapping": event_source_mapping,
}
