"""moto over HTTP, in the emulator's process, for the function workers (other processes); the
`atomic-writes` bridge; and the faults injected into the consumers' side effects (`downstream`).

`MotoServer` is moto's ThreadedMotoServer on a free loopback port. It serves moto's module-level
backends, the same ones the emulator's own in-process clients (`mock_aws`) reach, so a queue the
deployment created in-process is the queue a worker sees over HTTP, and the speed bridges
(`localcloud.speedups`), which patch moto's classes, apply to both.

`serialised()` makes DynamoDB and S3 handle one request at a time, on both paths (the server's
threads and the in-process stub). AWS applies each request atomically: a conditional write's
condition is evaluated and the write applied as one step, so of two writers racing on one item
exactly one succeeds ("Condition expressions" and "Conditional writes", Amazon DynamoDB developer
guide: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate;
for S3, "If multiple conditional writes occur for the same object name, the first write
operation to finish succeeds", https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
moto checks the condition and writes in separate steps without a lock: under concurrent requests
(server threads, the consumers' record threads) both writers can pass the check (a double apply)
or one can read an item the other is half-way through updating. One request at a time plays
AWS's per-request atomicity; it costs nothing AWS would give, since the GIL serialises moto's
work anyway.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.botocore_stubber import BotocoreStubber
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from localcloud.downstream import Downstream, with_faults

SERIALISED = ("dynamodb", "s3")
_LOCKS = {service: threading.RLock() for service in SERIALISED}


class _QuietHandler(MotoRequestHandler):
    """moto's request handler without werkzeug's access log line per request."""

    def log_request(self, *args: Any) -> None:
        pass


def _backend_app(service: Any, downstream: Downstream | None) -> Any:
    """moto's app for one service; a serialised service's app takes its lock per request, and
    the consumers' side-effect calls meet `downstream`'s faults first."""
    app = create_backend_app(service)
    lock = _LOCKS.get(service)
    if lock is not None:
        handle = app.wsgi_app

        def one_at_a_time(environ: dict, start_response: Any) -> Any:
            with lock:  # moto builds the whole body inside: nothing runs after the lock
                return handle(environ, start_response)

        app.wsgi_app = one_at_a_time
    if downstream is not None:
        app.wsgi_app = with_faults(service, app.wsgi_app, downstream)
    return app


class _Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher, with the backend found for a host memoised (part of the
    `dispatch-cache` speed bridge): moto lists its own package directory on every request to
    find it, under a lock all request threads share."""

    @functools.lru_cache(maxsize=256)  # noqa: B019 - one dispatcher per server, for its life
    def get_backend_for_host(self, host: str | None) -> Any:
        return super().get_backend_for_host(host)


class MotoServer(ThreadedMotoServer):
    def __init__(self, downstream: Downstream | None = None) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self._downstream = downstream

    def _server_entry(self) -> None:
        # ThreadedMotoServer's own entry, with the serialised apps, the memoised dispatcher and
        # the quiet handler.
        app = _Dispatcher(functools.partial(_backend_app, downstream=self._downstream))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=_QuietHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def endpoint(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"


@contextmanager
def serialised() -> Iterator[None]:
    """In-process requests to a serialised service take the same lock as the server's."""
    original = BotocoreStubber.__call__

    def call(stub: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        # event_name is "before-send.<service>.<Operation>"
        lock = _LOCKS.get(event_name.split(".")[1])
        if lock is None:
            return original(stub, event_name, request, **kwargs)
        with lock:
            return original(stub, event_name, request, **kwargs)

    BotocoreStubber.__call__ = call
    try:
        yield
    finally:
        BotocoreStubber.__call__ = original
