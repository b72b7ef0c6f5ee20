"""Storage tier: the idempotency table and the event archive bucket (queryable with Athena).

Both hold state that outlives a deployment: where the stack says so (`protect_stateful`) they are
protected and retained when removed from the program, like the key that encrypts the table;
elsewhere (dev) all three go together on `pulumi destroy`, so no retained table is left encrypted
under a key pending deletion.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.iam import policy_document
from settings.naming import ARCHIVE_ROOT, StackNames

# Saved in Athena for operators: one row per business event, and keys archived with two payloads.
AUDIT_QUERIES = {
    "audit_events_unique": (
        "Create the view with one row per business key (per-batch objects may repeat an event)",
        """CREATE OR REPLACE VIEW audit_events_unique AS
SELECT id, source, detail_type, "time", account, region, detail, domain, dt, key_hash
FROM (
  SELECT e.*, row_number() OVER (PARTITION BY domain, dt, key_hash ORDER BY "time", id) AS copy
  FROM (
    SELECT id, source, detail_type, "time", account, region, detail, domain, dt,
           coalesce(key_hash, regexp_extract("$path", '([0-9a-f]{64})\\.json$', 1)) AS key_hash
    FROM audit_events
  ) e
)
WHERE copy = 1""",
    ),
    "audit_events_conflicts": (
        "Business keys archived with different payloads (a producer re-sent a key with changes)",
        """SELECT domain, dt, key_hash, count(DISTINCT payload_hash) AS payloads
FROM audit_events WHERE key_hash IS NOT NULL
GROUP BY 1, 2, 3 HAVING count(DISTINCT payload_hash) > 1""",
    ),
}


class Storage(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        names: StackNames,
        domains: list[str],
        key_arn: pulumi.Input[str],
        protect: bool,
        expire_after_days: int,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eda:storage:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # retain_on_delete is not inherited from a component: set it on each stateful child.
        stateful = pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect)

        # Powertools' defaults: partition key `id`, TTL attribute `expiration`. Consumers that
        # share the table cannot collide: every key starts with the writing function's name.
        self.table = aws.dynamodb.Table(
            f"{name}-idempotency",
            name=names.table,
            billing_mode="PAY_PER_REQUEST",
            hash_key="id",
            attributes=[aws.dynamodb.TableAttributeArgs(name="id", type="S")],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name="expiration", enabled=True),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=key_arn
            ),
            deletion_protection_enabled=protect,
            tags=tags,
            opts=stateful,
        )

        self.bucket = aws.s3.Bucket(
            f"{name}-archive", force_destroy=not protect, tags=tags, opts=stateful
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-archive-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-archive-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
        # SSE-S3: encrypted at rest with no per-request KMS charge on a write-heavy archive.
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-archive-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-archive-policy",
            bucket=self.bucket.id,
            policy=policy_document(
                [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [self.bucket.arn, pulumi.Output.concat(self.bucket.arn, "/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ]
            ),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-archive-lifecycle",
            bucket=self.bucket.id,
            rules=[
                # No storage-class transition: archive objects are a few hundred bytes, and S3
                # transitions skip objects under 128 KB by default (STANDARD_IA would also bill
                # each as 128 KB).
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="age-out-events",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=expire_after_days
                    ),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=30
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                ),
                # Versioning leaves a delete marker per expired object; S3 accepts this flag
                # only in a rule without days or a date ("Lifecycle configuration elements").
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="remove-expired-delete-markers",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        expired_object_delete_marker=True
                    ),
                ),
            ],
            opts=child,
        )

        database = aws.glue.CatalogDatabase(
            f"{name}-catalog", name=names.glue_database, tags=tags, opts=child
        )
        location = pulumi.Output.concat("s3://", self.bucket.bucket, f"/{ARCHIVE_ROOT}/")
        aws.glue.CatalogTable(
            f"{name}-audit-table",
            name="audit_events",
            database_name=database.name,
            table_type="EXTERNAL_TABLE",
            # Partition projection: Athena derives partitions from the key layout, so no crawler
            # and no MSCK REPAIR as days accumulate.
            parameters={
                "classification": "json",
                "projection.enabled": "true",
                "projection.domain.type": "enum",
                "projection.domain.values": ",".join(domains),
                "projection.dt.type": "date",
                "projection.dt.format": "yyyy-MM-dd",
                "projection.dt.range": "2024-01-01,NOW",
                "projection.dt.interval": "1",
                "projection.dt.interval.unit": "DAYS",
                "storage.location.template": pulumi.Output.concat(location, "${domain}/dt=${dt}/"),
            },
            partition_keys=[
                aws.glue.CatalogTablePartitionKeyArgs(name="domain", type="string"),
                aws.glue.CatalogTablePartitionKeyArgs(name="dt", type="string"),
            ],
            storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                location=location,
                input_format="org.apache.hadoop.mapred.TextInputFormat",
                output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                    serialization_library="org.openx.data.jsonserde.JsonSerDe",
                    parameters={"mapping.detail_type": "detail-type"},
                ),
                # key_hash and payload_hash are on per-batch lines (handlers/logic/audit_archive).
                columns=[
                    aws.glue.CatalogTableStorageDescriptorColumnArgs(name=n, type="string")
                    for n in (
                        "id", "source", "detail_type", "time", "account", "region", "detail",
                        "key_hash", "payload_hash",
                    )
                ],
            ),
            opts=child,
        )
        # A batch may be archived twice (SQS can regroup a retried batch): readers dedupe by key.
        for query_name, (description, sql) in AUDIT_QUERIES.items():
            aws.athena.NamedQuery(
                f"{name}-{query_name}",
                name=query_name,
                database=database.name,
                description=description,
                query=sql,
                opts=child,
            )
        self.register_outputs(
            {"table_name": self.table.name, "bucket_name": self.bucket.bucket}
        )
