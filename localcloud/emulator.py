"""The local cloud: moto started in-process, the stack deployed into it, functions, pollers and
bridges running.

    with LocalCloud("local") as cloud:
        ledger = workload.drive(...); cloud.drain()

moto runs twice over the same backends (they are module-level): in-process (`mock_aws`) for the
emulator's own clients, which saves an HTTP round trip per call on the busiest path (pollers,
bridges, the producer), and as a threaded HTTP server (`motoserver.MotoServer`) for the functions,
which run in worker processes from their deployed artifacts (`sandbox`). DynamoDB and S3 requests
are serialised on both paths (`motoserver.serialised`). moto is process-wide: one LocalCloud at a
time.
"""

from __future__ import annotations

import json
import os
import select
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from handlers.catalog import spec_for
from handlers.logic.handoff import FOLLOW_UP
from localcloud.bridged_clients import BridgedEvents, BridgedSqs
from localcloud.bridges import DlqAlarms, PipeBridge, RuleRelay
from localcloud.deploy import deploy
from localcloud.downstream import Downstream
from localcloud.inprocess import Handler, InProcessFunction
from localcloud.motoserver import MotoServer, serialised
from localcloud.poller import Faults, Function, MappingPoller
from localcloud.records import Deployment, FunctionSpec, name_of
from localcloud.sandbox import SandboxFunction, host_layer
from localcloud.speedups import MotoQueues, speedups
from offline.artifacts import Sandbox, materialize_code, stage_runtime
from offline.program import ACCOUNT, stack_config
from ops.dlq import queue_arn
from settings.load import parse_cli
from settings.model import StackConfig

# Observation taps: queues the emulator adds to see side effects that leave the stack
# (notifications sent, follow-up events published, alarm notifications). Not part of the program.
TAP_PREFIX = "localcloud-tap-"
IDLE_PAUSE_S = (0.005, 0.1)
TAP_COLLECT_EVERY_S = 0.2  # the drain loop's back-off when a round finds nothing to do
# Execution environments per function at most: on 2 cores, more worker processes than one per
# function only contend for the same CPU. A mapping's own maximum concurrency may be lower.
ENVIRONMENTS_PER_FUNCTION = 1

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "localcloud",
    "AWS_SECRET_ACCESS_KEY": "localcloud",
    "AWS_SESSION_TOKEN": "localcloud",
}


def _import_moto_backends() -> None:
    """moto imports a service's models on its first request; requests from the server's threads
    making first requests at once can deadlock on that import, so every service is imported up
    front."""
    import importlib

    services = ("cloudwatch", "dynamodb", "events", "iam", "kms", "logs", "pipes", "s3", "sns",
                "sqs", "sts")
    for service in services:
        importlib.import_module(f"moto.{service}.models")


class LocalCloud:
    def __init__(
        self,
        stack: str = "local",
        *,
        config: dict[str, str] | None = None,
        layer: Path | None = None,
        environments: int = ENVIRONMENTS_PER_FUNCTION,
        handlers: dict[str, Handler] | None = None,
    ) -> None:
        """`config` replaces the stack file's values; `layer` replaces the dependency layer built
        from handlers/constraints.txt (a layer's root, holding python/); `environments` caps the
        execution environments per function.

        `handlers` is TEST-ONLY: it replaces functions' deployed code, by handler path, with
        callables run in this process (`inprocess`), for tests of the emulator itself and the
        benchmark's in-process baseline; never for the demo or the end-to-end tests.
        """
        self.stack = stack
        self._values = stack_config(stack) if config is None else config
        self.config: StackConfig = parse_cli(self._values, stack=stack, origin=f"stack {stack!r}")
        self._layer = layer
        self.environments = environments
        self._handlers = handlers or {}
        self._saved_env: dict[str, str] = {}
        self._stack = ExitStack()
        self.faults = Faults()
        self.downstream = Downstream(self.faults)
        self.published_at: dict[str, float] = {}

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> "LocalCloud":
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def _start(self) -> None:
        self._saved_env = dict(os.environ)
        self._stack.callback(self._restore_env)
        os.environ.update(_FAKE_CREDENTIALS)
        os.environ.setdefault("AWS_DEFAULT_REGION", self.config.region)
        self._stack.enter_context(mock_aws())
        _import_moto_backends()
        self._stack.enter_context(speedups())
        self._stack.enter_context(serialised())
        self.server = MotoServer(self.downstream)
        self.server.start()
        self._stack.callback(self.server.stop)
        self.sandbox = self._sandbox()
        self.session = boto3.Session(region_name=self.config.region)
        started = time.perf_counter()
        self.deployment: Deployment = deploy(self.stack, self.session, config=self._values)
        self.deploy_seconds = time.perf_counter() - started
        self.sqs = self.session.client("sqs")
        self.sns = self.session.client("sns")
        self.events = self.session.client("events")
        self.queues = MotoQueues(ACCOUNT, self.config.region)
        probe = self.queues.has_visible
        self.relays = [
            RuleRelay(r, sqs=self.sqs, sns=self.sns, probe=probe) for r in self.deployment.relays
        ]
        self.pipes = [
            PipeBridge(p, sqs=self.sqs, region=self.config.region, probe=probe)
            for p in self.deployment.pipes
        ]
        self.alarms = DlqAlarms(
            self.deployment.alarms,
            sqs=self.sqs,
            sns=self.sns,
            cloudwatch=self.session.client("cloudwatch"),
            region=self.config.region,
            queues=self.queues,
        )
        self.functions: dict[str, Function] = {
            arn: self._function(spec) for arn, spec in self.deployment.functions.items()
        }
        self._stack.callback(self._close_functions)
        self.pollers = [self._poller(m) for m in self.deployment.mappings]
        self.taps = self._taps()
        self._tapped: dict[str, list[dict]] = {name: [] for name in self.taps}
        self._taps_collected_at = 0.0

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _restore_env(self) -> None:
        os.environ.clear()
        os.environ.update(self._saved_env)

    def _close_functions(self) -> None:
        for function in self.functions.values():
            function.end_input()  # all shut down at once; then each is waited for
        for function in self.functions.values():
            function.close()

    def _sandbox(self) -> Sandbox:
        """What a deployed function sees: the code archive's files, the layer, the runtime's SDK."""
        layer = self._layer or host_layer()
        root = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="localcloud-")))
        return Sandbox(materialize_code(root / "code"), layer, stage_runtime(root / "runtime"))

    # -- clients for operations (the bridged ones fill moto's gaps) ---------------------------

    def ops_sqs(self) -> BridgedSqs:
        return BridgedSqs(self.sqs)

    def ops_events(self) -> BridgedEvents:
        return BridgedEvents(self.events, ACCOUNT, self.config.region)

    # -- the Lambda service and the bridges at work -------------------------------------------

    def _function(self, spec: FunctionSpec) -> Function:
        replacement = self._handlers.get(spec.handler)
        if replacement is not None:
            return InProcessFunction(spec, replacement, region=self.config.region)
        return SandboxFunction(
            spec,
            self.sandbox,
            region=self.config.region,
            endpoint=self.server.endpoint,
            credentials=self.downstream.register(spec.name, spec_for(spec.module, spec.environment).effect),
        )

    def _poller(self, mapping: Any) -> MappingPoller:
        function = self.deployment.functions[mapping.function_arn]
        queue_url = self.sqs.get_queue_url(QueueName=name_of(mapping.queue_arn))["QueueUrl"]
        return MappingPoller(
            mapping,
            function,
            self.functions[mapping.function_arn],
            sqs=self.sqs,
            queue_url=queue_url,
            region=self.config.region,
            faults=self.faults,
            downstream=self.downstream,
            published_at=self.published_at,
            environments=self.environments,
            probe=self.queues.has_visible,
        )

    def poller(self, function_name: str) -> MappingPoller:
        return next(p for p in self.pollers if p.name == function_name)

    def step(self) -> int:
        """One round: relays and pipes forward, pollers settle finished invocations, receive and
        invoke, alarms evaluate. Returns work done."""
        work = sum(relay.step() for relay in self.relays)
        work += sum(pipe.step() for pipe in self.pipes)
        work += sum(poller.step() for poller in self.pollers)
        self.alarms.step()
        if time.monotonic() - self._taps_collected_at > TAP_COLLECT_EVERY_S:
            self._collect_taps()
        return work

    def in_flight(self) -> bool:
        return any(p.in_flight for p in self.pollers)

    def _wait(self, seconds: float) -> None:
        """Sleep until a function replies or `seconds` pass: an idle round waits for the workers
        instead of spinning empty receives through moto."""
        pipes = [fd for f in self.functions.values() for fd in f.waiting_on()]
        if pipes:
            select.select(pipes, [], [], seconds)
        else:
            time.sleep(seconds)

    def evaluate_alarms(self) -> None:
        """Evaluate now, e.g. before a report: the periodic evaluation may be up to 0.5 s old."""
        self.alarms.step(every_s=0)

    def settle(self) -> None:
        """Step until a round finds nothing to do and no invocation runs (open batching windows
        are left open): a producer settling between chunks keeps the queues as shallow as
        Lambda would. (Publishing the next chunk while invocations still run was measured
        slower: deeper queues cost moto more per receive than the overlap saves.)"""
        while True:
            if self.step():
                continue
            if not self.in_flight():
                return
            self._wait(IDLE_PAUSE_S[1])

    def drain(
        self, *, timeout_s: float = 600, progress: Callable[[int], None] | None = None
    ) -> float:
        """Run until every relay, pipe and consumer queue is empty and no batch is held or
        running; returns seconds."""
        started = time.monotonic()
        reported = 0.0
        pause = IDLE_PAUSE_S[0]
        while True:
            work = self.step()
            held = any(p.holding for p in self.pollers) or any(p.holding for p in self.pipes)
            idle = work == 0 and not held
            # Counting passes over every message of each queue: only when idle or twice a second.
            now = time.monotonic()
            if idle or now - reported > 0.5:
                backlog, reported = self.backlog(), now
                if progress is not None:
                    progress(backlog)
                if idle and backlog == 0:
                    self.evaluate_alarms()
                    return now - started
            if now - started > timeout_s:
                raise TimeoutError(f"not drained after {timeout_s:.0f} s: backlog {self.backlog()}")
            # Idle (a batching window is open, or invocations run): back off as long polling
            # would, waking early when a function replies.
            pause = IDLE_PAUSE_S[0] if work else min(pause * 2, IDLE_PAUSE_S[1])
            if not work:
                self._wait(pause)

    def backlog(self) -> int:
        """Messages still in consumer, relay and pipe source queues (visible, in flight or
        delayed), read from moto's queues (`queue-probe`)."""
        urls = [p.queue_url for p in self.pollers] + [r.spec.relay_url for r in self.relays]
        urls += [p.source_url for p in self.pipes]
        return sum(sum(self.queues.counts(url)) for url in urls)

    # -- observation taps ----------------------------------------------------------------------

    def _taps(self) -> dict[str, tuple[str, str]]:
        """name -> (kind, where) of each tap; see TAP_PREFIX.

        Topics are tapped by a queue that `step` empties into memory, and follow-up events by a
        log group: moto recounts a queue's messages on every send, so a queue left to fill makes
        each send slower than the last.
        """
        taps: dict[str, tuple[str, str]] = {}
        exports = self.deployment.exports
        notifications = [exports[d].get("notifications_topic_arn") for d in self.config.domains]
        for arn in [exports["alarm_topic_arn"], *filter(None, notifications)]:
            name = name_of(arn)
            url = self.sqs.create_queue(QueueName=f"{TAP_PREFIX}{name}")["QueueUrl"]
            self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(self.sqs, url))
            taps[name] = ("sqs", url)
        logs = self.session.client("logs")
        for domain in self.config.domains:
            bus = self.deployment.exports[domain]["bus_name"]
            name = f"{bus}-follow-ups"
            group = f"/localcloud/tap/{name}"
            logs.create_log_group(logGroupName=group)
            self.events.put_rule(
                Name=f"{TAP_PREFIX}{name}", EventBusName=bus, EventPattern=json.dumps({"detail-type": [FOLLOW_UP]})
            )
            target = f"arn:aws:logs:{self.config.region}:{ACCOUNT}:log-group:{group}"
            self.events.put_targets(Rule=f"{TAP_PREFIX}{name}", EventBusName=bus, Targets=[{"Id": "tap", "Arn": target}])
            taps[name] = ("logs", group)
        return taps

    def read_tap(self, name: str) -> list[dict]:
        """Everything a tap has seen so far."""
        kind, where = self.taps[name]
        if kind == "logs":
            pages = self.session.client("logs").get_paginator("filter_log_events").paginate(logGroupName=where)
            return [json.loads(e["message"]) for page in pages for e in page["events"]]
        self._collect_taps()
        return list(self._tapped[name])

    def _collect_taps(self) -> None:
        """Move what the queue taps received into memory, so those queues stay shallow."""
        self._taps_collected_at = time.monotonic()
        for name, (kind, url) in self.taps.items():
            if kind != "sqs" or not self.queues.has_visible(url):
                continue
            while messages := self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", []):
                self._tapped.setdefault(name, []).extend(json.loads(m["Body"]) for m in messages)
                self.sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )
