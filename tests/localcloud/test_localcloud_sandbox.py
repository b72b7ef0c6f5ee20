"""The Lambda stand-in's execution environments: a worker sees only what Lambda gives a function.

A probe function (a code archive of one module) runs in the sandbox with an empty layer and the
runtime's SDK; no moto is needed: the probe reports what it sees.
"""

from __future__ import annotations

import ast
import sys
import time
from pathlib import Path

import pytest

from localcloud.records import FunctionSpec
from localcloud.sandbox import FunctionInitError, Invocation, SandboxFunction
from offline.artifacts import Sandbox, stage_runtime

PROBE = '''
import json, os, sys, time

def handler(event, context):
    print("probe says hello")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise ValueError("probe failed")
    return {
        "environ": dict(os.environ),
        "path": sys.path,
        "pid": os.getpid(),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "memory": context.memory_limit_in_mb,
    }
'''
BROKEN = "import aws_lambda_powertools\n\ndef handler(event, context):\n    return {}\n"
ENDPOINT = "http://127.0.0.1:1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Sandbox:
    root = tmp_path_factory.mktemp("probe")
    code = root / "code"
    code.mkdir()
    (code / "probe.py").write_text(PROBE)
    (code / "broken.py").write_text(BROKEN)
    (root / "layer" / "python").mkdir(parents=True)
    return Sandbox(code, root / "layer", stage_runtime(root / "runtime"))


def function(sandbox: Sandbox, handler: str = "probe.handler", timeout_s: int = 5):
    spec = FunctionSpec(
        name="local-probe",
        arn="arn:aws:lambda:us-east-1:123456789012:function:local-probe",
        handler=handler,
        environment={"DOMAIN": "probes", "QUEUE_KIND": "standard"},
        timeout_s=timeout_s,
        memory_mb=256,
    )
    return SandboxFunction(
        spec, sandbox, region="eu-west-1", endpoint=ENDPOINT, credentials=CREDENTIALS
    )


def outcome(fn: SandboxFunction, invocation: Invocation, within_s: float = 30) -> Invocation:
    deadline = time.monotonic() + within_s
    while not invocation.done:
        assert time.monotonic() < deadline, "the invocation never finished"
        fn.poll()
        time.sleep(0.01)
    return invocation


def test_worker_sees_exactly_the_function_environment_and_no_site_packages(sandbox):
    fn = function(sandbox)
    try:
        seen = outcome(fn, fn.invoke({})).response
    finally:
        fn.close()
    environ = seen["environ"]
    lambda_set = {
        "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION", "AWS_DEFAULT_REGION", "TZ", *CREDENTIALS,
    }  # fmt: skip
    # CPython itself may add LC_CTYPE when it coerces the C locale; nothing else is inherited.
    assert set(environ) - {"LC_CTYPE"} == {"DOMAIN", "QUEUE_KIND", "AWS_ENDPOINT_URL"} | lambda_set
    assert environ["AWS_ENDPOINT_URL"] == ENDPOINT and environ["AWS_REGION"] == "eu-west-1"
    assert environ["_HANDLER"] == "probe.handler"
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert seen["path"][:3] == sandbox.path
    assert not [p for p in seen["path"] if "site-packages" in p or "dist-packages" in p]
    assert seen["memory"] == "256"


def test_remaining_time_counts_down_from_the_timeout(sandbox):
    fn = function(sandbox, timeout_s=5)
    try:
        first = outcome(fn, fn.invoke({"sleep": 0.3})).response
        second = outcome(fn, fn.invoke({})).response
    finally:
        fn.close()
    assert 4_000 < second["remaining_ms"] <= 5_000
    assert first["remaining_ms"] <= 5_000 - 300  # measured after the probe's own sleep
    assert first["pid"] == second["pid"] and fn.cold_starts == 1  # one warm environment


def test_an_overrunning_invocation_is_killed_and_its_environment_replaced(sandbox):
    fn = function(sandbox, timeout_s=1)
    try:
        warm = outcome(fn, fn.invoke({})).response["pid"]
        started = time.monotonic()
        timed_out = outcome(fn, fn.invoke({"sleep": 30}))
        assert time.monotonic() - started < 10
        after = outcome(fn, fn.invoke({})).response["pid"]
    finally:
        fn.close()
    assert timed_out.error == "Task timed out after 1.00 seconds" and timed_out.response is None
    assert after != warm and fn.cold_starts == 2
    assert any(line.endswith("Task timed out after 1.00 seconds") for line in fn.logs.lines)


def test_function_error_fails_the_invocation_and_stdout_is_the_log_stream(sandbox):
    fn = function(sandbox)
    try:
        failed = outcome(fn, fn.invoke({"fail": True}))
        ok = outcome(fn, fn.invoke({}))
    finally:
        fn.close()
    assert failed.error == "ValueError: probe failed"
    assert ok.response["request_id"] == ok.request_id  # the protocol survived the prints
    lines = fn.logs.lines
    assert lines.count("probe says hello") == 2
    assert any(line.startswith("[ERROR] ValueError: probe failed") for line in lines)
    assert f"START RequestId: {ok.request_id} Version: $LATEST" in lines
    assert any(line.startswith(f"REPORT RequestId: {ok.request_id}") for line in lines)


def test_a_module_missing_from_the_layer_stops_the_emulator_naming_it(sandbox):
    fn = function(sandbox, handler="broken.handler")
    try:
        missing = "No module named 'aws_lambda_powertools'"
        with pytest.raises(FunctionInitError, match=missing) as error:
            outcome(fn, fn.invoke({}))
    finally:
        fn.close()
    assert "Runtime.ImportModuleError" in str(error.value)
    assert "local-probe" in str(error.value)


def test_the_bootstrap_imports_nothing_beyond_the_standard_library():
    """It runs inside the sandbox, next to the function's code: it must not need the venv."""
    source = (Path(__file__).resolve().parents[2] / "localcloud" / "lambda_runtime.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported and imported <= sys.stdlib_module_names
