"""Data at rest is encrypted, and the archive bucket is private and reachable over TLS only."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from .props import UNKNOWN, json_value, known, statements, value
from .stack import BUCKET, QUEUE, TABLE, TOPIC, Stack, label

BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def _bucket_companion(stack: Stack, bucket: PolicyResource, type_: str):
    """The stand-alone S3 resource (encryption, access block, policy) configuring `bucket`;
    UNKNOWN while the bucket's name is (a new, auto-named bucket in preview)."""
    names = [value(bucket.props, "bucket"), value(bucket.props, "id")]
    if not known(*names):
        return UNKNOWN
    return next((c for n in names if (c := stack.find(type_, n, "bucket"))), None)


def _unencrypted(stack: Stack, resource: PolicyResource) -> str | None:
    """What to set, if `resource` is not encrypted at rest; None when it is (or cannot be known)."""
    props = resource.props
    if resource.resource_type == QUEUE:
        sse, key = value(props, "sqsManagedSseEnabled"), value(props, "kmsMasterKeyId")
        if known(sse, key) and not (sse or key):
            return "set sqs_managed_sse_enabled=True or kms_master_key_id (queue.encryption)"
    elif resource.resource_type == TOPIC:
        if known(value(props, "kmsMasterKeyId")) and not value(props, "kmsMasterKeyId"):
            return "set kms_master_key_id to the platform key"
    elif resource.resource_type == TABLE:
        enabled = value(props, "serverSideEncryption", "enabled")
        if known(enabled) and not enabled:
            return "set server_side_encryption enabled=True with the platform key"
    elif resource.resource_type == BUCKET:
        inline = value(props, "serverSideEncryptionConfiguration")
        if not inline and _bucket_companion(stack, resource, BUCKET_ENCRYPTION) is None:
            return "add a BucketServerSideEncryptionConfiguration (SSE-S3 or SSE-KMS) for it"
    return None


def check_encryption_at_rest(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    for resource in args.resources:
        fix = _unencrypted(stack, resource)
        if fix:
            kind = resource.resource_type.rsplit(":", 1)[1]
            report(
                f"{kind} {label(resource)} is not explicitly encrypted at rest: {fix}, so the "
                "guarantee does not rest on an account default.",
                resource.urn,
            )


def check_bucket_blocks_public_access(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    for bucket in stack.of_type(BUCKET):
        block = _bucket_companion(stack, bucket, BUCKET_PUBLIC_ACCESS)
        if not known(block):
            continue
        open_flags = [
            f
            for f in PUBLIC_ACCESS_FLAGS
            if block is None or value(block.props, f) in (None, False)
        ]
        if open_flags:
            report(
                f"bucket {label(bucket)} does not block public access ({', '.join(open_flags)} "
                "not set): add a BucketPublicAccessBlock with all four flags True.",
                bucket.urn,
            )


def _denies_plain_http(document, bucket_arn: str) -> bool:
    return any(
        s.effect == "Deny"
        and "aws:securetransport" in s.condition_keys()
        and any(a in ("*", "s3:*") for a in s.actions)
        and {bucket_arn, f"{bucket_arn}/*"} <= set(s.resources)
        for s in statements(document)
    )


def check_bucket_denies_insecure_transport(
    args: StackValidationArgs, report: ReportViolation
) -> None:
    stack = Stack(args.resources)
    for bucket in stack.of_type(BUCKET):
        arn = value(bucket.props, "arn")
        policy = _bucket_companion(stack, bucket, BUCKET_POLICY)
        if not known(policy):
            continue
        document = json_value(policy.props, "policy") if policy else None
        if not known(arn, document):
            continue
        if not _denies_plain_http(document, arn):
            report(
                f"bucket {label(bucket)} accepts plain-HTTP requests: add a bucket policy "
                "statement "
                f'Deny s3:* on {arn} and {arn}/* with Condition Bool aws:SecureTransport "false".',
                bucket.urn,
            )


POLICIES = [
    StackValidationPolicy(
        name="encryption-at-rest",
        description="Queues, topics, tables and buckets are explicitly encrypted at rest.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_encryption_at_rest,
    ),
    StackValidationPolicy(
        name="bucket-blocks-public-access",
        description="Every bucket has a public access block with all four flags set.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_bucket_blocks_public_access,
    ),
    StackValidationPolicy(
        name="bucket-denies-insecure-transport",
        description="Every bucket policy denies requests that do not use TLS.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_bucket_denies_insecure_transport,
    ),
]
