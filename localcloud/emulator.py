"""The local cloud: moto started in-process, the stack deployed into it, pollers and bridges running.

    with LocalCloud("local") as cloud:
        ledger = workload.drive(...); cloud.drain()

In-process moto (`mock_aws`) is used rather than ThreadedMotoServer: it saves an HTTP round trip
per call, and the speed bridges (`bridges.speedups`) need moto's objects in this process. moto is
process-wide: one LocalCloud at a time.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import boto3
from moto import mock_aws

from localcloud.bridges import BridgedEvents, BridgedSqs, DlqAlarms, RuleRelay, speedups
from localcloud.deploy import deploy
from localcloud.records import Deployment, queue_name_of
from handlers.logic.handoff import FOLLOW_UP
from localcloud.poller import Faults, MappingPoller
from offline.program import ACCOUNT, stack_config
from ops.dlq import queue_arn
from settings.load import parse_cli
from settings.model import StackConfig

# Observation taps: queues the emulator adds to see side effects that leave the stack
# (notifications sent, follow-up events published, alarm notifications). Not part of the program.
TAP_PREFIX = "localcloud-tap-"
IDLE_PAUSE_S = (0.005, 0.1)
TAP_COLLECT_EVERY_S = 0.2  # the drain loop's back-off when a round finds nothing to do

# Powertools keeps one metric set per process; with several functions in one process, one
# function's flush can leave another's empty. On Lambda each function has its own process.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "localcloud",
    "AWS_SECRET_ACCESS_KEY": "localcloud",
    "AWS_SESSION_TOKEN": "localcloud",
}


def _import_moto_backends() -> None:
    """moto imports a service's models on its first request; the handlers' record threads making
    first requests at once can deadlock on that import, so every service is imported up front."""
    import importlib

    for service in ("cloudwatch", "dynamodb", "events", "iam", "kms", "logs", "s3", "sns", "sqs", "sts"):
        importlib.import_module(f"moto.{service}.models")


class LocalCloud:
    def __init__(
        self,
        stack: str = "local",
        *,
        config: dict[str, str] | None = None,
        handlers: dict[str, Callable[[dict, Any], dict]] | None = None,
    ) -> None:
        """`config` replaces the stack file's values; `handlers` replaces handlers by module path
        (for tests of the emulator itself, never for the demo)."""
        self.stack = stack
        self._values = stack_config(stack) if config is None else config
        self.config: StackConfig = parse_cli(self._values, stack=stack, origin=f"stack {stack!r}")
        self._handlers = handlers or {}
        self._mock = mock_aws()
        self._saved_env: dict[str, str] = {}
        self.faults = Faults()
        self.published_at: dict[str, float] = {}

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> "LocalCloud":
        self._saved_env = dict(os.environ)
        os.environ.update(_FAKE_CREDENTIALS)
        os.environ.setdefault("AWS_DEFAULT_REGION", self.config.region)
        # Powertools would otherwise print one JSON line per log call and metric flush.
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        self._mock.start()
        _import_moto_backends()
        self._speedups = speedups()
        self._speedups.__enter__()
        self.session = boto3.Session(region_name=self.config.region)
        started = time.perf_counter()
        self.deployment: Deployment = deploy(self.stack, self.session, config=self._values)
        self.deploy_seconds = time.perf_counter() - started
        self.sqs = self.session.client("sqs")
        self.sns = self.session.client("sns")
        self.events = self.session.client("events")
        self.relays = [RuleRelay(r, sqs=self.sqs, sns=self.sns) for r in self.deployment.relays]
        self.alarms = DlqAlarms(
            self.deployment.alarms,
            sqs=self.sqs,
            sns=self.sns,
            cloudwatch=self.session.client("cloudwatch"),
            region=self.config.region,
        )
        self.pollers = [self._poller(m) for m in self.deployment.mappings]
        self.taps = self._taps()
        self._tapped: dict[str, list[dict]] = {name: [] for name in self.taps}
        self._taps_collected_at = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self._speedups.__exit__(None, None, None)
        self._mock.stop()
        os.environ.clear()
        os.environ.update(self._saved_env)

    # -- clients for operations (the bridged ones fill moto's gaps) ---------------------------

    def ops_sqs(self) -> BridgedSqs:
        return BridgedSqs(self.sqs)

    def ops_events(self) -> BridgedEvents:
        return BridgedEvents(self.events, ACCOUNT, self.config.region)

    # -- the Lambda service and the bridges at work -------------------------------------------

    def _poller(self, mapping: Any) -> MappingPoller:
        function = self.deployment.functions[mapping.function_arn]
        queue_url = self.sqs.get_queue_url(QueueName=queue_name_of(mapping.queue_arn))["QueueUrl"]
        return MappingPoller(
            mapping,
            function,
            sqs=self.sqs,
            queue_url=queue_url,
            region=self.config.region,
            faults=self.faults,
            published_at=self.published_at,
            handler=self._handlers.get(function.handler),
        )

    def step(self) -> int:
        """One round: relays forward, pollers receive/invoke, alarms evaluate. Returns work done."""
        work = sum(relay.step() for relay in self.relays)
        work += sum(poller.step() for poller in self.pollers)
        self.alarms.step()
        if time.monotonic() - self._taps_collected_at > TAP_COLLECT_EVERY_S:
            self._collect_taps()
        return work

    def evaluate_alarms(self) -> None:
        """Evaluate now, e.g. before a report: the periodic evaluation may be up to 0.5 s old."""
        self.alarms.step(every_s=0)

    def settle(self) -> None:
        """Step until a round finds nothing to do (open batching windows are left open)."""
        while self.step():
            pass

    def drain(self, *, timeout_s: float = 600, progress: Callable[[int], None] | None = None) -> float:
        """Run until every relay and consumer queue is empty and no batch is held; returns seconds."""
        started = time.monotonic()
        reported = 0.0
        pause = IDLE_PAUSE_S[0]
        while True:
            work = self.step()
            idle = work == 0 and not any(p.holding for p in self.pollers)
            # Counting messages costs moto a pass over each queue: only when idle or twice a second.
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
            # Idle (e.g. a batching window is open): back off as long polling would, instead of
            # spinning empty receives through moto.
            pause = IDLE_PAUSE_S[0] if work else min(pause * 2, IDLE_PAUSE_S[1])
            if not work:
                time.sleep(pause)

    def backlog(self) -> int:
        """Messages still in consumer and relay queues (visible or in flight)."""
        urls = [p.queue_url for p in self.pollers] + [r.spec.relay_url for r in self.relays]
        total = 0
        for url in urls:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            total += sum(int(v) for v in attributes.values())
        return total

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
            name = topic_name(arn)
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
            if kind != "sqs":
                continue
            while messages := self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", []):
                self._tapped.setdefault(name, []).extend(json.loads(m["Body"]) for m in messages)
                self.sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )


def topic_name(arn: str) -> str:
    return arn.rsplit(":", 1)[1]
