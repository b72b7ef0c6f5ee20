"""The Lambda service's execution environments, played by worker processes in a sandbox.

Each function runs from what is deployed, as on Lambda: the files `handler_code()` archives, the
dependency layer built from handlers/constraints.txt, and the SDK the Lambda runtime provides
(`offline.artifacts`: `materialize_code`, `build_host_layer`, `stage_runtime`), in an interpreter
that sees nothing else (`Sandbox`: `python -I -S -B`, no site-packages). A dependency missing
from the layer therefore fails here as it would on Lambda: at init, naming the module.

A worker is one warm execution environment: started on the function's first invocation, it
imports the handler once and then runs one invocation at a time (`lambda_runtime`), with exactly
the function's environment plus what Lambda itself sets, and AWS_ENDPOINT_URL pointing its boto3
at the emulator's moto server. Its stdout and stderr are the function's log stream
(`FunctionLogs`); invocations and replies travel on two pipes of their own.

The function's timeout is enforced: an invocation still running at its deadline has its worker
killed ("Task timed out"), and the next invocation starts a fresh one (a cold start), as Lambda
replaces a timed-out environment.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from components.packaging import layer_path
from localcloud.records import FunctionSpec
from offline.artifacts import CONSTRAINTS, Sandbox, build_host_layer

BOOTSTRAP = (Path(__file__).with_name("lambda_runtime.py")).read_text()
# "The Init phase is limited to 10 seconds" (Lambda developer guide, "Lambda execution
# environment lifecycle"); past that Lambda retries init within the first invocation's timeout.
INIT_LIMIT_S = 10
STOP_GRACE_S = 1.0


class FunctionInitError(RuntimeError):
    """A function's code cannot start (e.g. its layer lacks a module): every invocation would
    fail the same way, so the emulator stops instead of sending each message to the DLQ."""


def host_layer() -> Path:
    """The layer for this interpreter, built once per constraints.txt content and Python version
    under build/ and reused: rebuilding takes pip a few seconds, and nothing else changes it."""
    key = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:16]
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    root = layer_path("host").parent / "localcloud"
    target = root / f"layer-{python}-{key}"
    root.mkdir(parents=True, exist_ok=True)
    # Two emulators starting at once (two terminals, a test and a demo) build it once.
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.is_dir():
            build_host_layer(target)
            for stale in root.glob(f"layer-{python}-*"):
                if stale != target and not stale.name.endswith(".partial"):
                    shutil.rmtree(stale)
    return target


class FunctionLogs(io.TextIOBase):
    """A function's log stream, as CloudWatch Logs would hold it, kept in memory: every line its
    environments wrote to stdout or stderr, and the platform's START/END lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._partial = ""
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        with self._lock:
            self.lines.append(text)

    def write(self, text: str) -> int:  # for an in-process handler's redirected stdout
        with self._lock:
            self._partial += text
            *complete, self._partial = self._partial.split("\n")
            self.lines += [line for line in complete if line]
        return len(text)


@dataclass
class Invocation:
    """One synchronous invocation by the event source mapping; `done` once it has an outcome."""

    request_id: str
    event: dict[str, Any]
    started: float | None = None  # monotonic time its environment began running it
    response: dict[str, Any] | None = None
    error: str | None = None  # a function error, a timeout or a runtime exit: the batch failed
    done: bool = False

    def finish(self, *, response: dict[str, Any] | None = None, error: str | None = None) -> None:
        self.response, self.error, self.done = response, error, True


def lambda_environment(
    function: FunctionSpec, *, region: str, endpoint: str, credentials: dict[str, str], root: Path
) -> dict[str, str]:
    """The function's declared variables plus what Lambda sets ("Defined runtime environment
    variables", Lambda developer guide), and the emulator's endpoint for boto3."""
    stream = f"{datetime.now(timezone.utc):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
    return {
        **function.environment,
        "_HANDLER": function.handler,
        "LAMBDA_TASK_ROOT": str(root),
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "TZ": ":UTC",
        **credentials,
        "AWS_ENDPOINT_URL": endpoint,
    }


class Worker:
    """One execution environment of `function`: a sandboxed interpreter running lambda_runtime."""

    def __init__(
        self, function: FunctionSpec, sandbox: Sandbox, env: dict[str, str], logs: FunctionLogs
    ) -> None:
        self.function = function
        self.logs = logs
        self.spawned = time.monotonic()
        self.ready = False
        self.alive = True
        self.current: Invocation | None = None
        requests_in, requests_out = os.pipe()
        replies_in, replies_out = os.pipe()
        self.process = subprocess.Popen(
            [*sandbox.argv(BOOTSTRAP), str(requests_in), str(replies_out)],
            env=env,
            cwd=sandbox.code,  # Lambda's working directory is the code's root, /var/task
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # one log stream, as CloudWatch Logs receives both
            pass_fds=(requests_in, replies_out),
        )
        os.close(requests_in)
        os.close(replies_out)
        self._requests = os.fdopen(requests_out, "w", encoding="utf-8")
        self.replies = replies_in
        self.stdout = self.process.stdout.fileno()
        os.set_blocking(self.replies, False)
        os.set_blocking(self.stdout, False)
        self._replies_buffer = b""
        self._log_buffer = b""

    @property
    def idle(self) -> bool:
        return self.alive and self.current is None

    def _read_logs(self) -> None:
        """Move what the worker wrote to stdout and stderr into the log stream. The worker writes
        an invocation's lines before its reply, so reading them first keeps them before END."""
        if self.stdout < 0:
            return
        lines, self._log_buffer, _ = _read_lines(self.stdout, self._log_buffer)
        for line in lines:
            self.logs.line(line.decode("utf-8", "replace"))

    def assign(self, invocation: Invocation) -> None:
        self.current = invocation
        if self.ready:
            self._send(invocation)

    def _send(self, invocation: Invocation) -> None:
        invocation.started = time.monotonic()
        deadline_ms = int(time.time() * 1000) + self.function.timeout_s * 1000
        self.logs.line(f"START RequestId: {invocation.request_id} Version: $LATEST")
        request = {
            "id": invocation.request_id,
            "event": invocation.event,
            "deadline_ms": deadline_ms,
            "function_arn": self.function.arn,
        }
        self._requests.write(json.dumps(request) + "\n")
        self._requests.flush()

    def poll(self) -> None:
        """Take the worker's log lines and replies, then enforce its deadlines. Raises
        FunctionInitError."""
        self._read_logs()
        ended = self._read_replies()
        now = time.monotonic()
        if ended or self.process.poll() is not None:
            self._exited()
        elif self.current is not None and self.current.started is not None:
            if now - self.current.started > self.function.timeout_s:
                self._timed_out()
        elif not self.ready and now - self.spawned > INIT_LIMIT_S + self.function.timeout_s:
            self.kill()
            raise FunctionInitError(
                f"function {self.function.name} did not initialise within "
                f"{INIT_LIMIT_S + self.function.timeout_s} s"
            )

    def _read_replies(self) -> bool:
        """Handle every complete reply waiting on the pipe; True at end of file."""
        lines, self._replies_buffer, ended = _read_lines(self.replies, self._replies_buffer)
        for line in lines:
            self._handle(json.loads(line))
        return ended

    def _handle(self, reply: dict[str, Any]) -> None:
        if reply.get("ready"):
            self.ready = True
            if self.current is not None:
                self._send(self.current)
        elif "init_error" in reply:
            error = reply["init_error"]
            self.kill()
            raise FunctionInitError(
                f"function {self.function.name} ({self.function.handler}) cannot start: "
                f"{error['errorType']}: {error['errorMessage']}. On Lambda every invocation would "
                "fail this way and every message would end in the DLQ; its dependencies come "
                "from the layer built from handlers/constraints.txt"
            )
        elif self.current is not None and reply["id"] == self.current.request_id:
            invocation, self.current = self.current, None
            if "error" in reply:
                failure = reply["error"]
                invocation.finish(error=f"{failure['errorType']}: {failure['errorMessage']}")
            else:
                invocation.finish(response=reply["result"])
            self._end(invocation)

    def _end(self, invocation: Invocation) -> None:
        self._read_logs()
        took = (time.monotonic() - (invocation.started or self.spawned)) * 1000
        self.logs.line(f"END RequestId: {invocation.request_id}")
        self.logs.line(f"REPORT RequestId: {invocation.request_id} Duration: {took:.2f} ms")

    def _timed_out(self) -> None:
        invocation, self.current = self.current, None
        message = f"Task timed out after {self.function.timeout_s:.2f} seconds"
        self.logs.line(f"{invocation.request_id} {message}")
        self.kill()
        invocation.finish(error=message)
        self._end(invocation)

    def _exited(self) -> None:
        status = self.process.wait()
        self.alive = False
        self._read_logs()
        if not self.ready:
            raise FunctionInitError(
                f"function {self.function.name} exited during init (status {status}); "
                f"its log: {' | '.join(self.logs.lines[-5:])}"
            )
        if self.current is not None:
            invocation, self.current = self.current, None
            invocation.finish(error=f"Runtime.ExitError: exit status {status}")
            self._end(invocation)

    def kill(self) -> None:
        self.alive = False
        self.process.kill()
        self.process.wait()
        self._close()

    def end_input(self) -> None:
        """No more invocations: the runtime returns and the process exits, as an environment
        Lambda shuts down. `stop` waits for it."""
        self._close_requests()

    def stop(self) -> None:
        if self.alive:
            self._close_requests()
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.alive = False
        self._close()

    def _close_requests(self) -> None:
        try:
            self._requests.close()
        except BrokenPipeError:  # the worker is gone: nothing waits for the rest
            pass

    def _close(self) -> None:
        if not self._requests.closed:
            self._close_requests()
        if self.replies >= 0:
            self._read_logs()  # the last lines of a stopped or killed worker
            os.close(self.replies)
            self.replies = -1
            self.process.stdout.close()
            self.stdout = -1


def _read_lines(fd: int, buffer: bytes) -> tuple[list[bytes], bytes, bool]:
    """Complete lines readable now from a non-blocking pipe: (lines, the rest, end of file)."""
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            ended = False
            break
        if not chunk:
            ended = True
            break
        buffer += chunk
    *lines, buffer = buffer.split(b"\n")
    return lines, buffer, ended


class SandboxFunction:
    """The execution environments of one function: an idle worker takes the next invocation, a
    new one starts when all are busy (the caller bounds how many run at once)."""

    def __init__(
        self,
        function: FunctionSpec,
        sandbox: Sandbox,
        *,
        region: str,
        endpoint: str,
        credentials: dict[str, str],
    ) -> None:
        self.function = function
        self.sandbox = sandbox
        self.region = region
        self.endpoint = endpoint
        self.credentials = credentials
        self.logs = FunctionLogs()
        self.workers: list[Worker] = []
        self.cold_starts = 0

    def invoke(self, event: dict[str, Any]) -> Invocation:
        invocation = Invocation(request_id=str(uuid.uuid4()), event=event)
        worker = next((w for w in self.workers if w.idle), None) or self._start()
        worker.assign(invocation)
        return invocation

    def _start(self) -> Worker:
        env = lambda_environment(
            self.function,
            region=self.region,
            endpoint=self.endpoint,
            credentials=self.credentials,
            root=self.sandbox.code,
        )
        worker = Worker(self.function, self.sandbox, env, self.logs)
        self.workers.append(worker)
        self.cold_starts += 1
        return worker

    def poll(self) -> None:
        for worker in self.workers:
            worker.poll()
        self.workers = [w for w in self.workers if w.alive]

    def waiting_on(self) -> list[int]:
        """The pipes of environments still working (replies, and the log stream a chatty worker
        may be blocked on): the emulator sleeps on them."""
        return [fd for w in self.workers if w.current and w.alive for fd in (w.replies, w.stdout)]

    def end_input(self) -> None:
        for worker in self.workers:
            worker.end_input()

    def close(self) -> None:
        self.end_input()  # every environment shuts down at once, then each is waited for
        for worker in self.workers:
            worker.stop()
        self.workers = []
