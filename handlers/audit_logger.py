"""Audit logger (FIFO): one append-only S3 object per event, written with a conditional put."""

from handlers.logic.audit_archive import archiver
from handlers.runtime import aws
from handlers.runtime.consumer import SqsConsumer
from handlers.runtime.environment import jmespath_setting, required

CONSUMER = SqsConsumer(
    name="audit_logger",
    variables={
        "ARCHIVE_BUCKET": lambda: required("ARCHIVE_BUCKET"),
        "ARCHIVE_PREFIX": lambda: required("ARCHIVE_PREFIX"),
        "ARCHIVE_DATE_PATH": lambda: jmespath_setting("ARCHIVE_DATE_PATH", "detail.occurredAt"),
    },
    build=lambda s: archiver(
        client=aws.client("s3"),
        bucket=s["ARCHIVE_BUCKET"],
        prefix=s["ARCHIVE_PREFIX"],
        date_path=s["ARCHIVE_DATE_PATH"],
    ),
)


def handler(event, context):
    return CONSUMER.handle(event, context)
