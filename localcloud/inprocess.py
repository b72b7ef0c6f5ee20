"""TEST-ONLY: a function run in the emulator's own process, the emulator's path before sandboxing.

`LocalCloud(handlers={"handlers.x.handler": callable})` runs that callable in-process instead of
the function's deployed code, for tests of the emulator itself and as the in-process baseline of
benchmarks/bench_localcloud.py. It sees this venv's packages, not the layer, so it proves nothing
about what is deployed: the demo and the end-to-end tests never use it.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from typing import Any

from localcloud.records import FunctionSpec
from localcloud.sandbox import FunctionLogs, Invocation

Handler = Callable[[dict, Any], dict]

# Powertools keeps one metric set per process; with several functions in one process, one
# function's flush can leave another's empty. On Lambda each function has its own process.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

# One environment at a time: handlers read os.environ when they build a function's runtime.
_ENV_LOCK = threading.Lock()


def load_handler(dotted: str) -> Handler:
    """A handler imported from this venv, e.g. to wrap the real one in a test's replacement."""
    module, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


class LambdaContext:
    """The parts of Lambda's context object handlers and Powertools read."""

    def __init__(self, function: FunctionSpec) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"localcloud/{self.aws_request_id}"
        self._deadline = time.monotonic() + function.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@contextmanager
def function_environment(function: FunctionSpec, region: str) -> Iterator[None]:
    """os.environ as Lambda would set it for `function`, restored afterwards. The in-process
    handler's clients reach moto in-process, so no endpoint is set."""
    lambda_env = {
        **function.environment,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        # Several functions' metric flushes would interleave in one stdout: none are written.
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    with _ENV_LOCK:
        saved = dict(os.environ)
        os.environ.update(lambda_env)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


class InProcessFunction:
    """Runs `handler` synchronously on invoke; a batch that overran the timeout fails whole, as
    Lambda would have stopped it (nothing can be killed in-process)."""

    def __init__(self, function: FunctionSpec, handler: Handler, *, region: str) -> None:
        self.function = function
        self.handler = handler
        self.region = region
        self.logs = FunctionLogs()
        self.cold_starts = 0

    def invoke(self, event: dict[str, Any]) -> Invocation:
        context = LambdaContext(self.function)
        invocation = Invocation(request_id=context.aws_request_id, event=event)
        invocation.started = time.monotonic()
        with function_environment(self.function, self.region), redirect_stdout(self.logs):
            try:
                response = self.handler(event, context) or {}
            except Exception as exc:  # an invocation error returns the whole batch
                invocation.finish(error=f"{type(exc).__name__}: {exc}")
                return invocation
        if context.get_remaining_time_in_millis() == 0:
            invocation.finish(error=f"Task timed out after {self.function.timeout_s:.2f} seconds")
        else:
            invocation.finish(response=response)
        return invocation

    def poll(self) -> None:
        """Nothing runs in the background: every invocation is done when `invoke` returns."""

    def waiting_on(self) -> list[int]:
        return []

    def end_input(self) -> None:
        """Nothing runs in the background."""

    def close(self) -> None:
        """Nothing to stop."""
