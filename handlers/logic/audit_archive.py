"""One append-only S3 object per event, at a key derived from the event alone.

`<prefix>dt=<YYYY-MM-DD>/<sha256 of the business key>.json`: the Athena table projects `dt`
from the key. The date is the business event's own timestamp (ARCHIVE_DATE_PATH, default
`detail.occurredAt`), not the EventBridge `time`, which a producer's re-send changes. The put is
conditional (`If-None-Match: *`), so a retry can neither overwrite nor add a second object.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import jmespath
from botocore.exceptions import ClientError

from handlers.logic.dynamo import error_code
from handlers.runtime.envelope import Incoming, digest
from handlers.runtime.errors import PayloadMismatch, PoisonRecord
from handlers.runtime.guards import Outcome

PAYLOAD_HASH = "payload-sha256"
SUFFIX = ".json"


def object_key(incoming: Incoming, *, prefix: str, date_path: str) -> str:
    stamp = jmespath.search(date_path, incoming.event)
    try:
        day = datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).date().isoformat()
    except ValueError as exc:
        raise PoisonRecord(
            f"archive date {date_path} is missing or not ISO 8601: {stamp!r}"
        ) from exc
    return f"{prefix}dt={day}/{incoming.key_hash}{SUFFIX}"


def key_hash_of(object_key: str) -> str:
    """The business key hash an archive object is named by."""
    return object_key.rsplit("/", 1)[-1].removesuffix(SUFFIX)


def archiver(
    *, client: Any, bucket: str, prefix: str, date_path: str
) -> Callable[[Incoming], Outcome]:
    def archive(incoming: Incoming) -> Outcome:
        key = object_key(incoming, prefix=prefix, date_path=date_path)
        payload_hash = digest(incoming.detail)
        try:
            client.put_object(
                Bucket=bucket,
                Key=key,
                # One JSON object per line: the layout Athena's JSON SerDe reads.
                Body=json.dumps(incoming.event, separators=(",", ":")).encode() + b"\n",
                ContentType="application/json",
                Metadata={PAYLOAD_HASH: payload_hash},
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if error_code(exc) != "PreconditionFailed":
                raise
            stored = client.head_object(Bucket=bucket, Key=key)["Metadata"].get(PAYLOAD_HASH)
            if stored != payload_hash:
                raise PayloadMismatch(incoming.key) from exc
            return Outcome.DUPLICATE
        return Outcome.APPLIED

    return archive
