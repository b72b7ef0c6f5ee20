"""Audit logger (FIFO): append-only S3 objects, one per Lambda batch (or per event), each a
conditional put at a name derived from what it holds; ARCHIVE_OBJECTS picks the layout."""

from handlers.catalog import ARCHIVE_OBJECTS
from handlers.logic.audit_archive import BatchArchiver, archiver
from handlers.runtime import aws
from handlers.runtime.consumer import SqsConsumer
from handlers.runtime.environment import FunctionEnv, jmespath_setting, required


def _build(s: FunctionEnv):
    layout = archiver if s[ARCHIVE_OBJECTS] == "per-event" else BatchArchiver
    return layout(
        client=aws.client("s3"),
        bucket=s["ARCHIVE_BUCKET"],
        prefix=s["ARCHIVE_PREFIX"],
        date_path=s["ARCHIVE_DATE_PATH"],
    )


CONSUMER = SqsConsumer(
    name="audit_logger",
    variables={
        "ARCHIVE_BUCKET": lambda: required("ARCHIVE_BUCKET"),
        "ARCHIVE_PREFIX": lambda: required("ARCHIVE_PREFIX"),
        "ARCHIVE_DATE_PATH": lambda: jmespath_setting("ARCHIVE_DATE_PATH", "detail.occurredAt"),
        # ARCHIVE_OBJECTS (per-batch | per-event) is read from the catalogue's choice.
    },
    build=_build,
)


def handler(event, context):
    return CONSUMER.handle(event, context)
