"""How the estimate treats every resource type the program registers: priced (and by what),
free (and why), or not priced (and why). A type missing from `COVERAGE` is reported as not
priced (unknown type), never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from offline import readers

# Types `offline.readers` has no constant for (yet): `costmodel.topology` reads them from the
# raw inputs.
PIPE = "aws:pipes/pipe:Pipe"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"

Status = Literal["priced", "free", "not priced"]


@dataclass(frozen=True)
class Coverage:
    """How the estimate treats one resource type the program registers."""

    status: Status
    reason: str


# Every resource type the platform's program registers, and how the estimate treats it.
COVERAGE: dict[str, Coverage] = {
    readers.BUS: Coverage("priced", "events put on the bus (64 KB chunks)"),
    readers.RULE: Coverage("free", "EventBridge rules and targets do not bill; the events put do"),
    readers.TARGET: Coverage(
        "free", "EventBridge rules and targets do not bill; the events put do"
    ),
    readers.ARCHIVE: Coverage("priced", "events processed into the archive and their storage"),
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": Coverage(
        "free", "resource policies do not bill"
    ),
    readers.SCHEDULE: Coverage("priced", "Scheduler invocations"),
    "aws:scheduler/scheduleGroup:ScheduleGroup": Coverage("free", "schedule groups do not bill"),
    "aws:schemas/registry:Registry": Coverage(
        "free",
        "a registry of custom schemas does not bill (only schema discovery does, and no "
        "discoverer is declared)",
    ),
    "aws:schemas/schema:Schema": Coverage("free", "custom schemas do not bill"),
    readers.QUEUE: Coverage(
        "priced",
        "requests of the queues that a function or a pipe polls; dead-letter queues only "
        "receive failures (SQS moves redriven messages itself) and are not priced",
    ),
    "aws:sqs/queuePolicy:QueuePolicy": Coverage("free", "resource policies do not bill"),
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": Coverage(
        "free", "queue attributes do not bill"
    ),
    readers.TOPIC: Coverage(
        "priced",
        "publishes; deliveries to SQS are free; the alarm topic's e-mails are sent only when an "
        "alarm changes state and are not priced",
    ),
    "aws:sns/topicPolicy:TopicPolicy": Coverage("free", "resource policies do not bill"),
    readers.SUBSCRIPTION: Coverage(
        "priced",
        "SQS deliveries (free, listed); a subscription's dead-letter queue only receives failed "
        "deliveries and is not priced",
    ),
    readers.MAPPING: Coverage(
        "priced", "through its queue's receives and deletes and its function's invocations"
    ),
    readers.FUNCTION: Coverage("priced", "requests, duration, its logs and its custom metrics"),
    "aws:lambda/layerVersion:LayerVersion": Coverage(
        "free", "layers count against Lambda's code storage quota, which does not bill"
    ),
    readers.LOG_GROUP: Coverage(
        "priced", "with its function: ingestion and storage under the retention"
    ),
    readers.ALARM: Coverage("priced", "alarm-months"),
    readers.DASHBOARD: Coverage("priced", "dashboard-months"),
    readers.KEY: Coverage(
        "priced", "key-months and the requests of the queues, topics and table that use it"
    ),
    "aws:kms/alias:Alias": Coverage("free", "aliases do not bill"),
    readers.TABLE: Coverage(
        "priced", "write units, storage and continuous backups (point-in-time recovery)"
    ),
    readers.BUCKET: Coverage(
        "priced", "PUT and HEAD requests and storage under the lifecycle rules"
    ),
    LIFECYCLE: Coverage(
        "priced", "its expiry bounds the bucket's storage; expirations do not bill"
    ),
    VERSIONING: Coverage(
        "priced", "noncurrent versions are stored until the lifecycle deletes them"
    ),
    "aws:s3/bucketPolicy:BucketPolicy": Coverage("free", "bucket policies do not bill"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": Coverage(
        "free", "bucket settings do not bill"
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": Coverage(
        "free", "SSE-S3 encryption does not bill"
    ),
    "aws:glue/catalogDatabase:CatalogDatabase": Coverage(
        "free", "the Glue Data Catalog stores its first million objects free"
    ),
    "aws:glue/catalogTable:CatalogTable": Coverage(
        "not priced",
        "Athena queries over the audit archive bill per TB scanned, and the stack declares no "
        "query volume (the catalogue entry itself is free: the Glue Data Catalog stores its first "
        "million objects free)",
    ),
    "aws:athena/namedQuery:NamedQuery": Coverage(
        "free",
        "saved queries do not bill; running them bills per TB scanned, which is not priced "
        "(the stack declares no query volume)",
    ),
    "aws:iam/role:Role": Coverage("free", "IAM does not bill"),
    "aws:iam/rolePolicy:RolePolicy": Coverage("free", "IAM does not bill"),
    PIPE: Coverage("priced", "requests (64 KB chunks) and its polling of the source queue"),
}


UNKNOWN = Coverage("not priced", "the cost model does not know this resource type")


def coverage_of(declared: dict[str, int]) -> list[tuple[str, int, Coverage]]:
    """(type, count, coverage) of every type in `declared` (type -> how many), in type order."""
    return [
        (type_, count, COVERAGE.get(type_, UNKNOWN)) for type_, count in sorted(declared.items())
    ]
