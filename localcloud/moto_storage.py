"""Deploy creators for S3, DynamoDB and Glue: Pulumi inputs in, moto resources out."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from localcloud.records import Line, auto_name
from offline.program import ACCOUNT
from offline.readers import whole

if TYPE_CHECKING:
    from localcloud.deploy import Creator, MotoState


def s3_bucket(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    # Pulumi auto-names a bucket `<logical>-<random>`; the mocks do not, so we do.
    bucket = i.get("bucket") or auto_name(name)
    state.client("s3").create_bucket(Bucket=bucket)
    return bucket, {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "id": bucket}


def s3_public_access(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    flags = ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets")
    state.client("s3").put_public_access_block(
        Bucket=i["bucket"],
        PublicAccessBlockConfiguration={k[0].upper() + k[1:]: bool(i.get(k)) for k in flags},
    )
    return i["bucket"], {}


def s3_versioning(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    status = i["versioningConfiguration"]["status"]
    state.client("s3").put_bucket_versioning(
        Bucket=i["bucket"], VersioningConfiguration={"Status": status}
    )
    return i["bucket"], {}


def s3_encryption(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    rules = [
        {
            "ApplyServerSideEncryptionByDefault": {
                "SSEAlgorithm": r["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
            }
        }
        for r in i["rules"]
    ]
    state.client("s3").put_bucket_encryption(
        Bucket=i["bucket"], ServerSideEncryptionConfiguration={"Rules": rules}
    )
    return i["bucket"], {}


def s3_policy(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    # moto evaluates bucket policies and treats every in-process request as insecure
    # transport, so a DenyInsecureTransport statement would deny all writes: held without it.
    policy = json.loads(i["policy"])
    kept = [s for s in policy["Statement"] if "aws:SecureTransport" not in json.dumps(s.get("Condition", {}))]
    if len(kept) < len(policy["Statement"]):
        state.report.not_emulated.append(
            Line("aws:s3/bucketPolicy:BucketPolicy", name, "aws:SecureTransport deny statement "
                 "left out: moto sees every in-process request as insecure and would deny all")
        )
    if kept:
        state.client("s3").put_bucket_policy(Bucket=i["bucket"], Policy=json.dumps({**policy, "Statement": kept}))
    return i["bucket"], {}


def s3_lifecycle(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    rules = []
    for r in i["rules"]:
        rule: dict[str, Any] = {
            "ID": r["id"],
            "Status": r["status"],
            "Filter": {"Prefix": (r.get("filter") or {}).get("prefix", "")},
        }
        if r.get("transitions"):
            rule["Transitions"] = [
                {"Days": whole(t["days"]), "StorageClass": t["storageClass"]}
                for t in r["transitions"]
            ]
        expiration = r.get("expiration") or {}
        if expiration.get("days"):
            rule["Expiration"] = {"Days": whole(expiration["days"])}
        elif expiration.get("expiredObjectDeleteMarker"):
            rule["Expiration"] = {"ExpiredObjectDeleteMarker": True}
        if r.get("noncurrentVersionExpiration"):
            days = r["noncurrentVersionExpiration"]["noncurrentDays"]
            rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": whole(days)}
        if r.get("abortIncompleteMultipartUpload"):
            days = r["abortIncompleteMultipartUpload"]["daysAfterInitiation"]
            rule["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": whole(days)}
        rules.append(rule)
    state.client("s3").put_bucket_lifecycle_configuration(
        Bucket=i["bucket"], LifecycleConfiguration={"Rules": rules}
    )
    return i["bucket"], {}


def dynamodb_table(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    ddb = state.client("dynamodb")
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


def glue_database(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    state.client("glue").create_database(DatabaseInput={"Name": i["name"]})
    arn = f"arn:aws:glue:{state.region}:{ACCOUNT}:database/{i['name']}"
    return i["name"], {"arn": arn, "name": i["name"]}


def glue_table(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    sd = i["storageDescriptor"]
    serde = sd.get("serDeInfo") or {}
    state.client("glue").create_table(
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
    state.report.bridged.append(
        Line(
            "aws:glue/catalogTable:CatalogTable",
            name,
            "held by moto, but partition projection is Athena query-time behaviour: not evaluated",
        )
    )
    arn = f"arn:aws:glue:{state.region}:{ACCOUNT}:table/{i['databaseName']}/{i['name']}"
    return f"{i['databaseName']}:{i['name']}", {"arn": arn, "name": i["name"]}


def athena_named_query(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    query_id = state.client("athena").create_named_query(
        Name=i["name"],
        Database=i["database"],
        QueryString=i["query"],
        Description=i.get("description", ""),
        WorkGroup=i.get("workgroup") or "primary",
    )["NamedQueryId"]
    return query_id, {"id": query_id}


CREATORS: dict[str, Creator] = {
    "aws:athena/namedQuery:NamedQuery": athena_named_query,
    "aws:s3/bucket:Bucket": s3_bucket,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": s3_public_access,
    "aws:s3/bucketVersioning:BucketVersioning": s3_versioning,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": s3_encryption,
    "aws:s3/bucketPolicy:BucketPolicy": s3_policy,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": s3_lifecycle,
    "aws:dynamodb/table:Table": dynamodb_table,
    "aws:glue/catalogDatabase:CatalogDatabase": glue_database,
    "aws:glue/catalogTable:CatalogTable": glue_table,
}
