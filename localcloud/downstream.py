"""Faults inside the consumers' side effects: the downstream call fails, as AWS fails it.

A chosen event's first delivery to a consumer is armed here by the poller (`Downstream.arm`).
While that invocation runs, the moto server answers the consumer's side-effect calls (the
catalogue's `HandlerSpec.effect`) that name the event (its business key hash, or a string id of
its business key) with the service's retryable server error. The consumer's SDK retries them
(standard mode) and gets the error each time, so the handler's own failure path runs: the record
is reported failed, SQS delivers it again, and that delivery is not armed. An outage fails every
side-effect call of a function until it is lifted.

The errors are the ones each service documents for an internal failure, all HTTP 5xx, which the
SDKs treat as transient ("Retry behavior", AWS SDKs and Tools reference guide:
https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html):
- DynamoDB InternalServerError, 500 ("Error handling with DynamoDB",
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html);
- EventBridge PutEvents InternalException, 500 (API reference, PutEvents "Errors");
- SNS Publish InternalError, 500 (API reference, Publish "Errors"); SES InternalFailure, 500
  (SES API reference, "Common Errors");
- S3 SlowDown, 503 ("Error responses", Amazon S3 API reference,
  https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).

Which consumer calls: each Lambda function runs with its execution role's own temporary
credentials, so every function's environment here gets its own access key id
(`function_credentials`), read back from the request's SigV4 Authorization header.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from handlers.catalog import Call

if TYPE_CHECKING:
    from localcloud.poller import Faults


_JSON_ERRORS = {
    "dynamodb": ("application/x-amz-json-1.0", "com.amazonaws.dynamodb.v20120810#InternalServerError"),
    "events": ("application/x-amz-json-1.1", "InternalException"),
}
_QUERY_ERRORS = {"sns": "InternalError", "ses": "InternalFailure"}
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


def function_credentials(function_name: str) -> dict[str, str]:
    """The credentials a function's environment gets: an access key id of its own."""
    key = "ASIA" + hashlib.sha256(function_name.encode()).hexdigest()[:16].upper()
    return {
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": "localcloud",
        "AWS_SESSION_TOKEN": "localcloud",
    }


def marks_of(key: Any, key_hash: str) -> frozenset[str]:
    """How a side-effect request names one event: its key hash, or a string id in its key
    (the order id an order state item is keyed by, the ids a hand-off carries)."""
    parts = key if isinstance(key, list) else [key]
    return frozenset({key_hash, *(p for p in parts if isinstance(p, str) and p)})


@dataclass
class Downstream:
    """The armed faults, read by the moto server's request threads; `faults.outage` names the
    functions whose every side-effect call fails."""

    faults: Faults
    failed: Counter = field(default_factory=Counter)  # function -> requests answered with an error
    _callers: dict[str, str] = field(default_factory=dict)  # access key id -> function
    _effects: dict[str, frozenset[Call]] = field(default_factory=dict)  # function -> its effect
    _armed: dict[int, tuple[str, frozenset[str]]] = field(default_factory=dict)  # -> function, marks
    _fired: set[int] = field(default_factory=set)  # armed tokens a request has met
    _tokens: Any = field(default_factory=count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, function_name: str, effect: Iterable[Call]) -> dict[str, str]:
        """A function's side-effect calls; returns the credentials its environment gets."""
        credentials = function_credentials(function_name)
        self._callers[credentials["AWS_ACCESS_KEY_ID"]] = function_name
        self._effects[function_name] = frozenset(effect)
        return credentials

    def arm(self, function: str, marks: frozenset[str]) -> int:
        with self._lock:
            token = next(self._tokens)
            self._armed[token] = (function, marks)
            return token

    def disarm(self, token: int) -> bool:
        """Lift an armed fault; whether any side-effect request met it."""
        with self._lock:
            self._armed.pop(token, None)
            fired = token in self._fired
            self._fired.discard(token)
            return fired

    def fails(self, service: str, environ: dict[str, Any], body: bytes) -> bool:
        """Whether this request is a side effect an armed fault or an outage fails."""
        match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        function = self._callers.get(match.group(1)) if match else None
        if function is None:
            return False
        if (service, _operation(service, environ, body)) not in self._effects.get(function, ()):
            return False
        if function in self.faults.outage:
            return self._count(function)
        with self._lock:
            armed = {t: marks for t, (name, marks) in self._armed.items() if name == function}
        # An S3 object's name is in the path: a per-event archive object is named by its key hash.
        text = environ.get("PATH_INFO", "") + "\n" + body.decode("utf-8", "replace")
        met = {t for t, marks in armed.items() if any(_names(text, mark) for mark in marks)}
        if not met:
            return False
        with self._lock:
            self._fired |= met
        return self._count(function)

    def _count(self, function: str) -> bool:
        with self._lock:
            self.failed[function] += 1
        return True


def _names(text: str, mark: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(mark)}(?![A-Za-z0-9])", text) is not None


def _operation(service: str, environ: dict[str, Any], body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # JSON protocols: DynamoDB_20120810.UpdateItem, AWSEvents.PutEvents
        return target.rsplit(".", 1)[-1]
    if service == "s3":
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if "x-id" in query:  # the SDKs name the operation in the query string
            return query["x-id"][0]
        path = environ.get("PATH_INFO", "").strip("/")
        # Path-style bucket/key without a sub-resource is an object PUT.
        return "PutObject" if environ.get("REQUEST_METHOD") == "PUT" and "/" in path and not query else ""
    return (parse_qs(body.decode("utf-8", "replace")).get("Action") or [""])[0]


def with_faults(service: str, app: Callable, downstream: Downstream) -> Callable:
    """`app` (a moto service's WSGI app) answering the requests `downstream` fails."""

    def faulty(environ: dict[str, Any], start_response: Callable) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if not downstream.fails(service, environ, body):
            return app(environ, start_response)
        status, content_type, payload = _error(service)
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
        return [payload]

    return faulty


def _error(service: str) -> tuple[str, str, bytes]:
    message = "injected by localcloud: the downstream call failed"
    if service in _JSON_ERRORS:
        content_type, code = _JSON_ERRORS[service]
        return "500 Internal Server Error", content_type, json.dumps({"__type": code, "message": message}).encode()
    if service == "s3":
        body = f"<Error><Code>SlowDown</Code><Message>{message}</Message></Error>"
        return "503 Slow Down", "application/xml", body.encode()
    code = _QUERY_ERRORS.get(service, "InternalFailure")
    body = (
        f"<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>{message}"
        "</Message></Error><RequestId>localcloud</RequestId></ErrorResponse>"
    )
    return "500 Internal Server Error", "text/xml", body.encode()
