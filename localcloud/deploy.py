"""Deploy the real program into moto: a Pulumi mock `State` that creates each resource for real.

`offline.program.run` evaluates `__main__.py` under Pulumi's mocks; this module's `MotoState`
answers every registration by creating the resource in moto with the inputs the program gave and
returning moto's ARNs, URLs and names, so dependent resources receive real identifiers. Inputs
arrive camelCase with numbers as floats (`_int` turns them back into the integers AWS expects).

Every resource ends in exactly one list of the `DeployReport`: emulated, bridged (moto holds it but
a bridge supplies what moto lacks), played by localcloud (event source mappings), or not emulated
(moto cannot hold it; the reason is given). Nothing is dropped silently.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from offline.program import ACCOUNT, Inventory, fake_state, run, stack_config

# Lambda code never runs inside moto (that needs Docker): the poller imports the handlers from
# this checkout instead. moto still requires a zip to register the function and layer.
_PLACEHOLDER_ZIP = io.BytesIO()
with zipfile.ZipFile(_PLACEHOLDER_ZIP, "w") as _zip:
    _zip.writestr("README", "code runs in-process in localcloud.poller")
PLACEHOLDER_ZIP = _PLACEHOLDER_ZIP.getvalue()


@dataclass(frozen=True)
class Line:
    type: str
    name: str
    detail: str


@dataclass
class DeployReport:
    emulated: list[Line] = field(default_factory=list)
    bridged: list[Line] = field(default_factory=list)
    played: list[Line] = field(default_factory=list)  # behaviour localcloud itself performs
    not_emulated: list[Line] = field(default_factory=list)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    arn: str
    handler: str  # "handlers.<module>.handler", as Lambda would load it
    environment: dict[str, str]
    timeout_s: int
    memory_mb: int


@dataclass(frozen=True)
class MappingSpec:
    """An SQS event source mapping as declared: what the poller must honour."""

    queue_arn: str
    function_arn: str
    batch_size: int
    batching_window_s: int
    maximum_concurrency: int | None
    report_batch_item_failures: bool


@dataclass(frozen=True)
class RelaySpec:
    """A rule target moto cannot deliver itself: the rule feeds a relay queue, a bridge forwards."""

    rule: str
    target_id: str
    relay_url: str
    target_arn: str  # the real destination: an SNS topic or an SQS (FIFO) queue
    message_group_path: str | None
    input_path: str | None
    dead_letter_arn: str | None
    reason: str


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    arn: str
    queue_name: str
    metric: str
    threshold: float
    comparison: str
    alarm_actions: tuple[str, ...]
    ok_actions: tuple[str, ...]


@dataclass
class Deployment:
    """What the emulator needs after `pulumi up`: the inventory plus the parts it plays itself."""

    stack: str
    region: str
    inventory: Inventory
    report: DeployReport
    functions: dict[str, FunctionSpec]  # by ARN
    mappings: list[MappingSpec]
    relays: list[RelaySpec]
    alarms: list[AlarmSpec]

    @property
    def exports(self) -> dict[str, Any]:
        return self.inventory.exports


def _int(value: Any) -> int:
    """Numbers arrive as floats from the mocks; AWS APIs want integers."""
    return round(float(value))


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


def queue_name_of(arn: str) -> str:
    return arn.rsplit(":", 1)[1]


class MotoState:
    """The Pulumi mock `State` that creates resources in moto (already started by the caller)."""

    def __init__(self, session: Any, region: str) -> None:
        self.region = region
        self._clients: dict[str, Any] = {}
        self._session = session
        self.report = DeployReport()
        self.functions: dict[str, FunctionSpec] = {}
        self.mappings: list[MappingSpec] = []
        self.relays: list[RelaySpec] = []
        self.alarms: list[AlarmSpec] = []
        self._fake = fake_state(region)
        self._creators: dict[str, Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]]]] = {
            "aws:kms/key:Key": self._kms_key,
            "aws:kms/alias:Alias": self._kms_alias,
            "aws:sns/topic:Topic": self._sns_topic,
            "aws:sns/topicPolicy:TopicPolicy": self._sns_topic_policy,
            "aws:sns/topicSubscription:TopicSubscription": self._sns_subscription,
            "aws:sqs/queue:Queue": self._sqs_queue,
            "aws:sqs/queuePolicy:QueuePolicy": self._sqs_policy("Policy", "policy"),
            "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": self._sqs_policy(
                "RedriveAllowPolicy", "redriveAllowPolicy"
            ),
            "aws:s3/bucket:Bucket": self._s3_bucket,
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": self._s3_public_access,
            "aws:s3/bucketVersioning:BucketVersioning": self._s3_versioning,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": self._s3_encryption,
            "aws:s3/bucketPolicy:BucketPolicy": self._s3_policy,
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": self._s3_lifecycle,
            "aws:dynamodb/table:Table": self._dynamodb_table,
            "aws:glue/catalogDatabase:CatalogDatabase": self._glue_database,
            "aws:glue/catalogTable:CatalogTable": self._glue_table,
            "aws:iam/role:Role": self._iam_role,
            "aws:iam/rolePolicy:RolePolicy": self._iam_role_policy,
            "aws:cloudwatch/logGroup:LogGroup": self._log_group,
            "aws:cloudwatch/metricAlarm:MetricAlarm": self._metric_alarm,
            "aws:cloudwatch/dashboard:Dashboard": self._dashboard,
            "aws:cloudwatch/eventBus:EventBus": self._event_bus,
            "aws:cloudwatch/eventBusPolicy:EventBusPolicy": self._event_bus_policy,
            "aws:cloudwatch/eventArchive:EventArchive": self._event_archive,
            "aws:cloudwatch/eventRule:EventRule": self._event_rule,
            "aws:cloudwatch/eventTarget:EventTarget": self._event_target,
            "aws:lambda/layerVersion:LayerVersion": self._lambda_layer,
            "aws:lambda/function:Function": self._lambda_function,
            "aws:lambda/eventSourceMapping:EventSourceMapping": self._event_source_mapping,
            "aws:scheduler/schedule:Schedule": self._schedule,
        }

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service, region_name=self.region)
        return self._clients[service]

    # -- the State protocol -------------------------------------------------------------------

    def __call__(self, type_: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if type_.startswith("eda:"):  # a component: a grouping in the program, nothing in the cloud
            return name, inputs
        creator = self._creators.get(type_)
        if creator is None:
            self.report.not_emulated.append(Line(type_, name, _NOT_EMULATED.get(type_, "moto has no such resource")))
            return self._fake(type_, name, inputs)
        physical, outputs = creator(name, inputs)
        # Registrations may run on several threads at once: a creator's notes are found by name, not count.
        if not any(line.name == name for line in self.report.bridged + self.report.played + self.report.not_emulated):
            self.report.emulated.append(Line(type_, name, physical))
        return physical, {**inputs, **outputs}

    # -- creators, one per resource type ------------------------------------------------------

    def _kms_key(self, name: str, i: dict) -> tuple[str, dict]:
        arguments = {"Description": i.get("description", "")}
        if i.get("policy"):
            arguments["Policy"] = i["policy"]
        meta = self.client("kms").create_key(**arguments)["KeyMetadata"]
        if i.get("enableKeyRotation"):
            self.client("kms").enable_key_rotation(KeyId=meta["KeyId"])
        return meta["KeyId"], {"keyId": meta["KeyId"], "arn": meta["Arn"]}

    def _kms_alias(self, name: str, i: dict) -> tuple[str, dict]:
        self.client("kms").create_alias(AliasName=i["name"], TargetKeyId=i["targetKeyId"])
        arn = f"arn:aws:kms:{self.region}:{ACCOUNT}:{i['name']}"
        return i["name"], {"arn": arn}

    def _sns_topic(self, name: str, i: dict) -> tuple[str, dict]:
        attributes = {"KmsMasterKeyId": i["kmsMasterKeyId"]} if i.get("kmsMasterKeyId") else {}
        arn = self.client("sns").create_topic(Name=i["name"], Attributes=attributes)["TopicArn"]
        return arn, {"arn": arn, "name": i["name"]}

    def _sns_topic_policy(self, name: str, i: dict) -> tuple[str, dict]:
        self.client("sns").set_topic_attributes(
            TopicArn=i["arn"], AttributeName="Policy", AttributeValue=i["policy"]
        )
        return i["arn"], {}

    def _sns_subscription(self, name: str, i: dict) -> tuple[str, dict]:
        attributes = {}
        if i.get("rawMessageDelivery"):
            attributes["RawMessageDelivery"] = "true"
        if i.get("filterPolicy"):
            attributes["FilterPolicy"] = i["filterPolicy"]
            attributes["FilterPolicyScope"] = i.get("filterPolicyScope") or "MessageAttributes"
        arn = self.client("sns").subscribe(
            TopicArn=i["topic"],
            Protocol=i["protocol"],
            Endpoint=i["endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return arn, {"arn": arn}

    def _sqs_queue(self, name: str, i: dict) -> tuple[str, dict]:
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
                attributes[attribute] = str(_int(i[key]))
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
        queue_name = i.get("name") or f"{name}-{_suffix()}"
        url = self.client("sqs").create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{self.region}:{ACCOUNT}:{queue_name}"
        return url, {"url": url, "arn": arn, "name": queue_name}

    def _sqs_policy(self, attribute: str, key: str) -> Callable[[str, dict], tuple[str, dict]]:
        def create(name: str, i: dict) -> tuple[str, dict]:
            self.client("sqs").set_queue_attributes(
                QueueUrl=i["queueUrl"], Attributes={attribute: i[key]}
            )
            return i["queueUrl"], {}

        return create

    def _s3_bucket(self, name: str, i: dict) -> tuple[str, dict]:
        # Pulumi auto-names a bucket `<logical>-<random>`; the mocks do not, so we do.
        bucket = i.get("bucket") or f"{name}-{_suffix()}"
        self.client("s3").create_bucket(Bucket=bucket)
        return bucket, {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "id": bucket}

    def _s3_public_access(self, name: str, i: dict) -> tuple[str, dict]:
        flags = ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets")
        self.client("s3").put_public_access_block(
            Bucket=i["bucket"],
            PublicAccessBlockConfiguration={k[0].upper() + k[1:]: bool(i.get(k)) for k in flags},
        )
        return i["bucket"], {}

    def _s3_versioning(self, name: str, i: dict) -> tuple[str, dict]:
        status = i["versioningConfiguration"]["status"]
        self.client("s3").put_bucket_versioning(
            Bucket=i["bucket"], VersioningConfiguration={"Status": status}
        )
        return i["bucket"], {}

    def _s3_encryption(self, name: str, i: dict) -> tuple[str, dict]:
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": {
                    "SSEAlgorithm": r["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
                }
            }
            for r in i["rules"]
        ]
        self.client("s3").put_bucket_encryption(
            Bucket=i["bucket"], ServerSideEncryptionConfiguration={"Rules": rules}
        )
        return i["bucket"], {}

    def _s3_policy(self, name: str, i: dict) -> tuple[str, dict]:
        # moto evaluates bucket policies and treats every in-process request as insecure
        # transport, so a DenyInsecureTransport statement would deny all writes: held without it.
        policy = json.loads(i["policy"])
        kept = [s for s in policy["Statement"] if "aws:SecureTransport" not in json.dumps(s.get("Condition", {}))]
        if len(kept) < len(policy["Statement"]):
            self.report.not_emulated.append(
                Line("aws:s3/bucketPolicy:BucketPolicy", name, "aws:SecureTransport deny statement "
                     "left out: moto sees every in-process request as insecure and would deny all")
            )
        if kept:
            self.client("s3").put_bucket_policy(Bucket=i["bucket"], Policy=json.dumps({**policy, "Statement": kept}))
        return i["bucket"], {}

    def _s3_lifecycle(self, name: str, i: dict) -> tuple[str, dict]:
        rules = []
        for r in i["rules"]:
            rule: dict[str, Any] = {
                "ID": r["id"],
                "Status": r["status"],
                "Filter": {"Prefix": (r.get("filter") or {}).get("prefix", "")},
            }
            if r.get("transitions"):
                rule["Transitions"] = [
                    {"Days": _int(t["days"]), "StorageClass": t["storageClass"]}
                    for t in r["transitions"]
                ]
            if r.get("expiration"):
                rule["Expiration"] = {"Days": _int(r["expiration"]["days"])}
            if r.get("noncurrentVersionExpiration"):
                days = r["noncurrentVersionExpiration"]["noncurrentDays"]
                rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": _int(days)}
            if r.get("abortIncompleteMultipartUpload"):
                days = r["abortIncompleteMultipartUpload"]["daysAfterInitiation"]
                rule["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": _int(days)}
            rules.append(rule)
        self.client("s3").put_bucket_lifecycle_configuration(
            Bucket=i["bucket"], LifecycleConfiguration={"Rules": rules}
        )
        return i["bucket"], {}

    def _dynamodb_table(self, name: str, i: dict) -> tuple[str, dict]:
        ddb = self.client("dynamodb")
        key_schema = [{"AttributeName": i["hashKey"], "KeyType": "HASH"}]
        if i.get("rangeKey"):
            key_schema.append({"AttributeName": i["rangeKey"], "KeyType": "RANGE"})
        sse = i.get("serverSideEncryption") or {}
        arguments: dict[str, Any] = {
            "TableName": i["name"],
            "KeySchema": key_schema,
            "AttributeDefinitions": [
                {"AttributeName": a["name"], "AttributeType": a["type"]} for a in i["attributes"]
            ],
            "BillingMode": i.get("billingMode", "PAY_PER_REQUEST"),
            "DeletionProtectionEnabled": bool(i.get("deletionProtectionEnabled")),
        }
        if sse.get("enabled"):
            arguments["SSESpecification"] = {
                "Enabled": True,
                "SSEType": "KMS",
                **({"KMSMasterKeyId": sse["kmsKeyArn"]} if sse.get("kmsKeyArn") else {}),
            }
        arn = ddb.create_table(**arguments)["TableDescription"]["TableArn"]
        ttl = i.get("ttl") or {}
        if ttl.get("enabled"):
            ddb.update_time_to_live(
                TableName=i["name"],
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["attributeName"]},
            )
        if (i.get("pointInTimeRecovery") or {}).get("enabled"):
            ddb.update_continuous_backups(
                TableName=i["name"],
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        return i["name"], {"arn": arn, "name": i["name"]}

    def _glue_database(self, name: str, i: dict) -> tuple[str, dict]:
        self.client("glue").create_database(DatabaseInput={"Name": i["name"]})
        arn = f"arn:aws:glue:{self.region}:{ACCOUNT}:database/{i['name']}"
        return i["name"], {"arn": arn, "name": i["name"]}

    def _glue_table(self, name: str, i: dict) -> tuple[str, dict]:
        sd = i["storageDescriptor"]
        serde = sd.get("serDeInfo") or {}
        self.client("glue").create_table(
            DatabaseName=i["databaseName"],
            TableInput={
                "Name": i["name"],
                "TableType": i.get("tableType", "EXTERNAL_TABLE"),
                "Parameters": i.get("parameters") or {},
                "PartitionKeys": [{"Name": k["name"], "Type": k["type"]} for k in i.get("partitionKeys", [])],
                "StorageDescriptor": {
                    "Location": sd["location"],
                    "InputFormat": sd["inputFormat"],
                    "OutputFormat": sd["outputFormat"],
                    "SerdeInfo": {
                        "SerializationLibrary": serde.get("serializationLibrary", ""),
                        "Parameters": serde.get("parameters") or {},
                    },
                    "Columns": [{"Name": c["name"], "Type": c["type"]} for c in sd.get("columns", [])],
                },
            },
        )
        self.report.bridged.append(
            Line(
                "aws:glue/catalogTable:CatalogTable",
                name,
                "held by moto, but partition projection is Athena query-time behaviour: not evaluated",
            )
        )
        arn = f"arn:aws:glue:{self.region}:{ACCOUNT}:table/{i['databaseName']}/{i['name']}"
        return f"{i['databaseName']}:{i['name']}", {"arn": arn, "name": i["name"]}

    def _iam_role(self, name: str, i: dict) -> tuple[str, dict]:
        role_name = i.get("name") or f"{name}-{_suffix()}"[-64:]
        role = self.client("iam").create_role(
            RoleName=role_name, AssumeRolePolicyDocument=i["assumeRolePolicy"]
        )["Role"]
        return role_name, {"arn": role["Arn"], "name": role_name, "id": role_name}

    def _iam_role_policy(self, name: str, i: dict) -> tuple[str, dict]:
        policy_name = i.get("name") or f"{name}-{_suffix()}"[-128:]
        self.client("iam").put_role_policy(
            RoleName=i["role"], PolicyName=policy_name, PolicyDocument=i["policy"]
        )
        return f"{i['role']}:{policy_name}", {"name": policy_name}

    def _log_group(self, name: str, i: dict) -> tuple[str, dict]:
        logs = self.client("logs")
        logs.create_log_group(logGroupName=i["name"])
        if i.get("retentionInDays"):
            logs.put_retention_policy(logGroupName=i["name"], retentionInDays=_int(i["retentionInDays"]))
        arn = f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{i['name']}"
        return i["name"], {"arn": arn, "name": i["name"]}

    def _metric_alarm(self, name: str, i: dict) -> tuple[str, dict]:
        dimensions = [{"Name": k, "Value": v} for k, v in (i.get("dimensions") or {}).items()]
        self.client("cloudwatch").put_metric_alarm(
            AlarmName=i["name"],
            AlarmDescription=i.get("alarmDescription", ""),
            Namespace=i["namespace"],
            MetricName=i["metricName"],
            Dimensions=dimensions,
            Statistic=i["statistic"],
            Period=_int(i["period"]),
            EvaluationPeriods=_int(i["evaluationPeriods"]),
            Threshold=float(i["threshold"]),
            ComparisonOperator=i["comparisonOperator"],
            TreatMissingData=i.get("treatMissingData", "missing"),
            AlarmActions=list(i.get("alarmActions") or []),
            OKActions=list(i.get("okActions") or []),
        )
        arn = f"arn:aws:cloudwatch:{self.region}:{ACCOUNT}:alarm:{i['name']}"
        queue = (i.get("dimensions") or {}).get("QueueName")
        if i["namespace"] == "AWS/SQS" and queue:
            self.alarms.append(
                AlarmSpec(
                    name=i["name"],
                    arn=arn,
                    queue_name=queue,
                    metric=i["metricName"],
                    threshold=float(i["threshold"]),
                    comparison=i["comparisonOperator"],
                    alarm_actions=tuple(i.get("alarmActions") or ()),
                    ok_actions=tuple(i.get("okActions") or ()),
                )
            )
            if i["metricName"] == "ApproximateNumberOfMessagesVisible":
                self.report.bridged.append(
                    Line(
                        "aws:cloudwatch/metricAlarm:MetricAlarm",
                        name,
                        "moto never evaluates alarms: bridge 'dlq-alarm' sets the state from the "
                        "observed queue depth and notifies the alarm's actions",
                    )
                )
            else:
                self.report.not_emulated.append(
                    Line(
                        "aws:cloudwatch/metricAlarm:MetricAlarm",
                        name,
                        f"held by moto, never evaluated ({i['metricName']} is not observable "
                        "without CloudWatch metrics)",
                    )
                )
        return i["name"], {"arn": arn, "name": i["name"]}

    def _dashboard(self, name: str, i: dict) -> tuple[str, dict]:
        self.client("cloudwatch").put_dashboard(
            DashboardName=i["dashboardName"], DashboardBody=i["dashboardBody"]
        )
        arn = f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{i['dashboardName']}"
        return i["dashboardName"], {"dashboardArn": arn, "dashboardName": i["dashboardName"]}

    def _event_bus(self, name: str, i: dict) -> tuple[str, dict]:
        arn = self.client("events").create_event_bus(Name=i["name"])["EventBusArn"]
        return i["name"], {"arn": arn, "name": i["name"]}

    def _event_bus_policy(self, name: str, i: dict) -> tuple[str, dict]:
        self.client("events").put_permission(EventBusName=i["eventBusName"], Policy=i["policy"])
        return i["eventBusName"], {}

    def _event_archive(self, name: str, i: dict) -> tuple[str, dict]:
        arguments: dict[str, Any] = {
            "ArchiveName": i["name"],
            "EventSourceArn": i["eventSourceArn"],
            "Description": i.get("description", ""),
            "RetentionDays": _int(i.get("retentionDays") or 0),
        }
        if i.get("eventPattern"):
            arguments["EventPattern"] = i["eventPattern"]
        arn = self.client("events").create_archive(**arguments)["ArchiveArn"]
        return i["name"], {"arn": arn, "name": i["name"]}

    def _event_rule(self, name: str, i: dict) -> tuple[str, dict]:
        arguments: dict[str, Any] = {
            "Name": i["name"],
            "EventBusName": i.get("eventBusName", "default"),
            "Description": i.get("description", ""),
            "State": i.get("state", "ENABLED"),
        }
        for key, api in {"eventPattern": "EventPattern", "scheduleExpression": "ScheduleExpression"}.items():
            if i.get(key):
                arguments[api] = i[key]
        arn = self.client("events").put_rule(**arguments)["RuleArn"]
        return f"{arguments['EventBusName']}/{i['name']}", {"arn": arn, "name": i["name"]}

    def _event_target(self, name: str, i: dict) -> tuple[str, dict]:
        target: dict[str, Any] = {"Id": i["targetId"], "Arn": i["arn"]}
        if i.get("retryPolicy"):
            target["RetryPolicy"] = {
                "MaximumRetryAttempts": _int(i["retryPolicy"]["maximumRetryAttempts"]),
                "MaximumEventAgeInSeconds": _int(i["retryPolicy"]["maximumEventAgeInSeconds"]),
            }
        dead_letter_arn = (i.get("deadLetterConfig") or {}).get("arn")
        if dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": dead_letter_arn}
        if i.get("inputTransformer"):
            target["InputTransformer"] = {
                "InputPathsMap": i["inputTransformer"].get("inputPaths") or {},
                "InputTemplate": i["inputTransformer"]["inputTemplate"],
            }
        if i.get("input"):
            target["Input"] = i["input"]
        group = (i.get("sqsTarget") or {}).get("messageGroupId")
        if group and not group.startswith("$."):
            target["SqsParameters"] = {"MessageGroupId": group}

        reasons = []
        if i["arn"].startswith("arn:aws:sns:"):
            reasons.append("moto delivers no EventBridge -> SNS targets (put_events raises)")
        if group and group.startswith("$."):
            reasons.append(f"moto uses MessageGroupId {group!r} literally; the bridge resolves it per event")
        if i.get("inputPath"):
            reasons.append("moto ignores InputPath; the bridge applies it")
        if reasons:
            relay = self._relay_queue(i, group if group and group.startswith("$.") else None, dead_letter_arn, "; ".join(reasons))
            target = {k: v for k, v in target.items() if k not in ("SqsParameters",)}
            target["Arn"] = relay
            self.report.bridged.append(
                Line("aws:cloudwatch/eventTarget:EventTarget", name, "bridge 'rule-relay': " + "; ".join(reasons))
            )
        self.client("events").put_targets(
            Rule=i["rule"], EventBusName=i.get("eventBusName", "default"), Targets=[target]
        )
        return f"{i['rule']}-{i['targetId']}", {}

    def _relay_queue(self, i: dict, group_path: str | None, dead_letter_arn: str | None, reason: str) -> str:
        """A standard queue between the rule and the real target; returns the relay's ARN."""
        relay_name = f"localcloud-relay-{i['rule']}-{i['targetId']}"[:80]
        url = self.client("sqs").create_queue(QueueName=relay_name)["QueueUrl"]
        self.relays.append(
            RelaySpec(
                rule=i["rule"],
                target_id=i["targetId"],
                relay_url=url,
                target_arn=i["arn"],
                message_group_path=group_path,
                input_path=i.get("inputPath"),
                dead_letter_arn=dead_letter_arn,
                reason=reason,
            )
        )
        return f"arn:aws:sqs:{self.region}:{ACCOUNT}:{relay_name}"

    def _lambda_layer(self, name: str, i: dict) -> tuple[str, dict]:
        layer = self.client("lambda").publish_layer_version(
            LayerName=i["layerName"],
            Content={"ZipFile": PLACEHOLDER_ZIP},
            CompatibleRuntimes=list(i.get("compatibleRuntimes") or []),
            CompatibleArchitectures=list(i.get("compatibleArchitectures") or []),
        )
        self.report.played.append(
            Line("aws:lambda/layerVersion:LayerVersion", name, "registered with a placeholder zip; "
                 "the poller uses this venv's packages")
        )
        return layer["LayerVersionArn"], {"arn": layer["LayerVersionArn"], "layerArn": layer["LayerArn"]}

    def _lambda_function(self, name: str, i: dict) -> tuple[str, dict]:
        environment = dict((i.get("environment") or {}).get("variables") or {})
        function = self.client("lambda").create_function(
            FunctionName=i["name"],
            Role=i["role"],
            Runtime=i["runtime"],
            Handler=i["handler"],
            Code={"ZipFile": PLACEHOLDER_ZIP},
            Timeout=_int(i.get("timeout", 3)),
            MemorySize=_int(i.get("memorySize", 128)),
            Architectures=list(i.get("architectures") or ["x86_64"]),
            Environment={"Variables": environment},
        )
        self.functions[function["FunctionArn"]] = FunctionSpec(
            name=i["name"],
            arn=function["FunctionArn"],
            handler=i["handler"],
            environment=environment,
            timeout_s=_int(i.get("timeout", 3)),
            memory_mb=_int(i.get("memorySize", 128)),
        )
        self.report.played.append(
            Line("aws:lambda/function:Function", name, "registered in moto; its code runs "
                 "in-process in localcloud.poller (moto needs Docker to run Lambda code)")
        )
        return i["name"], {"arn": function["FunctionArn"], "name": i["name"]}

    def _event_source_mapping(self, name: str, i: dict) -> tuple[str, dict]:
        # Not created in moto: moto would invoke the function itself on every SQS send (Docker).
        scaling = i.get("scalingConfig") or {}
        self.mappings.append(
            MappingSpec(
                queue_arn=i["eventSourceArn"],
                function_arn=i["functionName"],
                batch_size=_int(i.get("batchSize", 10)),
                batching_window_s=_int(i.get("maximumBatchingWindowInSeconds") or 0),
                maximum_concurrency=_int(scaling["maximumConcurrency"]) if scaling.get("maximumConcurrency") else None,
                report_batch_item_failures="ReportBatchItemFailures" in (i.get("functionResponseTypes") or []),
            )
        )
        self.report.played.append(
            Line("aws:lambda/eventSourceMapping:EventSourceMapping", name, "played by a localcloud "
                 "poller (batch size, window, concurrency, ReportBatchItemFailures)")
        )
        mapping_id = str(uuid.uuid4())
        return mapping_id, {"uuid": mapping_id, "functionArn": i["functionName"]}

    def _schedule(self, name: str, i: dict) -> tuple[str, dict]:
        target = i["target"]
        arguments: dict[str, Any] = {
            "Name": i["name"],
            "ScheduleExpression": i["scheduleExpression"],
            "ScheduleExpressionTimezone": i.get("scheduleExpressionTimezone", "UTC"),
            "FlexibleTimeWindow": {"Mode": i["flexibleTimeWindow"]["mode"]},
            "Target": {"Arn": target["arn"], "RoleArn": target["roleArn"], "Input": target.get("input", "")},
        }
        arn = self.client("scheduler").create_schedule(**arguments)["ScheduleArn"]
        self.report.not_emulated.append(
            Line("aws:scheduler/schedule:Schedule", name, "held by moto, but moto's Scheduler never "
                 "fires: the scheduled event is not produced")
        )
        return i["name"], {"arn": arn, "name": i["name"]}


_NOT_EMULATED = {
    "aws:schemas/registry:Registry": "moto has no EventBridge Schemas service; producers validate "
    "against schemas/ in the repo instead",
    "aws:schemas/schema:Schema": "moto has no EventBridge Schemas service; producers validate "
    "against schemas/ in the repo instead",
}


def deploy(stack: str, session: Any, *, config: dict[str, str] | None = None) -> Deployment:
    """Run the real program for `stack` into moto (started by the caller) and return what it built.

    `config` replaces the stack file's values (namespaced keys, structured values as JSON), e.g.
    to deploy a changed routing rule.
    """
    values = stack_config(stack) if config is None else config
    region = values.get("aws:region", "us-east-1")
    state = MotoState(session, region)
    inventory = run(stack, config=values, state=state)
    return Deployment(
        stack=stack,
        region=region,
        inventory=inventory,
        report=state.report,
        functions=state.functions,
        mappings=state.mappings,
        relays=state.relays,
        alarms=state.alarms,
    )
