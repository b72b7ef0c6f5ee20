"""Run the real `__main__.py` without the Pulumi engine and record what it registers.

The tests, the cost model's inventory and the emulator's deployment all start here. The engine
is replaced by Pulumi's mock monitor; a `State` decides what each resource's outputs are (fake
but well-formed ARNs by default, real moto resources in the emulator).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import runpy
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource_runtime
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.packaging import layer_path
from offline.artifacts import MACHINES
from settings.load import PROJECT, ROOT, stack_values

ACCOUNT = "123456789012"
ARCHS = tuple(MACHINES)


@dataclass
class Registered:
    type: str  # e.g. "aws:sqs/queue:Queue" or "eda:queue:ConsumerQueue"
    name: str  # logical name
    inputs: dict[str, Any]  # camelCase keys, numbers as floats: as the provider would see them
    outputs: dict[str, Any] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    depends_on: tuple[str, ...] = ()  # logical names of explicit `depends_on` resources

    @property
    def custom(self) -> bool:
        return not self.type.startswith("eda:")


@dataclass
class Inventory:
    stack: str
    resources: list[Registered]
    exports: dict[str, Any]

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Registered:
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(f"no resource named {name!r} in stack {self.stack!r}")


# Output state for one new resource: (physical id, outputs). Receives type, name, inputs.
State = Callable[[str, str, dict[str, Any]], tuple[str, dict[str, Any]]]


def fake_state(region: str) -> State:
    """Well-formed ids, names, ARNs and URLs, so dependent inputs look like the real thing."""

    def state(type_: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        service = type_.split(":")[1].split("/")[0]
        physical = inputs.get("name") or inputs.get("bucket") or inputs.get("layerName") or name
        arn_service = {"cloudwatch": "events", "lambda": "lambda"}.get(service, service)
        kind = type_.rsplit(":", 1)[1].lower()
        outputs = {
            "name": physical,
            "id": physical,
            "arn": f"arn:aws:{arn_service}:{region}:{ACCOUNT}:{kind}/{physical}",
        }
        if type_ == "aws:sqs/queue:Queue":
            outputs["arn"] = f"arn:aws:sqs:{region}:{ACCOUNT}:{physical}"
            outputs["url"] = f"https://sqs.{region}.amazonaws.com/{ACCOUNT}/{physical}"
        elif type_ == "aws:sns/topic:Topic":
            outputs["arn"] = f"arn:aws:sns:{region}:{ACCOUNT}:{physical}"
        elif type_ == "aws:s3/bucket:Bucket":
            outputs.update(bucket=physical, arn=f"arn:aws:s3:::{physical}")
        elif type_ == "aws:kms/key:Key":
            outputs["keyId"] = "0f1e2d3c-aaaa-bbbb-cccc-000000000001"
        elif type_ == "aws:cloudwatch/eventRule:EventRule":
            bus = inputs.get("eventBusName", "default")
            outputs["arn"] = f"arn:aws:events:{region}:{ACCOUNT}:rule/{bus}/{physical}"
        elif type_ == "aws:cloudwatch/eventBus:EventBus":
            outputs["arn"] = f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{physical}"
        elif type_ == "aws:lambda/function:Function":
            outputs["arn"] = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{physical}"
        elif type_ == "aws:cloudwatch/logGroup:LogGroup":
            outputs["arn"] = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{physical}"
        elif type_ == "aws:cloudwatch/dashboard:Dashboard":
            outputs["dashboardName"] = inputs.get("dashboardName", name)
        # A provider echoes its inputs (an event target's `arn` is the target's): inputs win.
        return physical, {**outputs, **inputs}

    return state


class _Recorder(pulumi.runtime.Mocks):
    def __init__(self, state: State) -> None:
        self.state = state
        self.resources: list[Registered] = []

        # (type, name) -> (protect, retain_on_delete, depends_on)
        self.options: dict[tuple[str, str], tuple[bool, bool, tuple[str, ...]]] = {}
        self._protected: set[int] = set()

    def record_options(self, args: pulumi.ResourceTransformationArgs):
        """Resource options never reach the mock monitor; a stack transformation sees them.
        `protect` is inherited from the parent, as the engine does."""
        parent = args.opts.parent if args.opts else None
        protect = args.opts.protect if args.opts and args.opts.protect is not None else (
            id(parent) in self._protected
        )
        if protect:
            self._protected.add(id(args.resource))
        retain = bool(args.opts and args.opts.retain_on_delete)
        depends_on = args.opts.depends_on if args.opts else None
        if isinstance(depends_on, pulumi.Resource):
            depends_on = [depends_on]
        names = tuple(d._name for d in depends_on or [] if isinstance(d, pulumi.Resource))
        self.options[(args.type_, args.name)] = (bool(protect), retain, names)
        return None

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        inputs = dict(args.inputs)
        resource_id, outputs = self.state(args.typ, args.name, inputs)
        protect, retain, depends_on = self.options.get((args.typ, args.name), (False, False, ()))
        self.resources.append(
            Registered(args.typ, args.name, inputs, outputs, protect, retain, depends_on)
        )
        return [resource_id, outputs]

    def call(self, args: pulumi_mocks.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "userId": ACCOUNT}
        raise NotImplementedError(f"no mock for invoke {args.token}")


def stack_config(stack: str) -> dict[str, str]:
    """The stack file's values as the CLI passes them: namespaced keys, structured values as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in stack_values(stack).items()}


def _placeholder_layers() -> None:
    """Offline, a layer's contents never matter: stand in empty folders unless `make layer` ran."""
    if "EDA_BUILD_DIR" in os.environ or all(layer_path(a).is_dir() for a in ARCHS):
        return
    build = Path(tempfile.mkdtemp(prefix="eda-offline-build-"))
    for arch in ARCHS:
        (build / f"layer-{arch}").mkdir()
    os.environ["EDA_BUILD_DIR"] = str(build)


def run(
    stack: str,
    *,
    config: dict[str, str] | None = None,
    state: State | None = None,
    preview: bool = False,
) -> Inventory:
    """Evaluate the program for `stack` (or explicit namespaced `config`) and return its inventory."""
    values = stack_config(stack) if config is None else config
    _placeholder_layers()
    region = values.get("aws:region", "us-east-1")
    recorder = _Recorder(state or fake_state(region))
    pulumi.runtime.settings.SETTINGS.rpc_manager.clear()
    pulumi.runtime.settings.SETTINGS.outputs.clear()
    pulumi.runtime.set_mocks(recorder, project=PROJECT, stack=stack, preview=preview)
    pulumi.runtime.set_all_config(values)

    def program():
        pulumi.runtime.register_stack_transformation(recorder.record_options)
        runpy.run_path(str(ROOT / "__main__.py"))
        return _drain()

    with _without_source_positions():
        _sync_await(run_pulumi_func(program))
    root = pulumi.runtime.settings.get_root_resource()
    exports = _sync_await(_stack_outputs(root))
    return Inventory(stack, recorder.resources, exports)


@contextlib.contextmanager
def _without_source_positions():
    """The SDK walks and reads the Python stack for every resource so the engine can point at
    the line that declared it; with no engine that is a third of the run, for nothing."""
    original = pulumi_resource_runtime._get_stack_trace
    pulumi_resource_runtime._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        pulumi_resource_runtime._get_stack_trace = original


async def _drain() -> None:
    """Settle every registration and output, a whole generation at a time.

    Pulumi's own final wait re-waits on all pending tasks after each one completes, which is
    quadratic in the number of resources (minutes for a few thousand); after this it finds
    nothing left to wait for.
    """
    settings = pulumi.runtime.settings.SETTINGS
    rpcs = settings.rpc_manager.rpcs
    while rpcs or settings.outputs:
        pending = list(rpcs)
        rpcs.clear()
        with settings.lock:
            pending += list(settings.outputs)
            settings.outputs.clear()
        await asyncio.gather(*pending)


async def _stack_outputs(root: Any) -> dict[str, Any]:
    outputs = getattr(root, "outputs", {}) or {}
    resolved = {}
    for key, value in outputs.items():
        resolved[key] = await pulumi.Output.from_input(value).future()
    return resolved

