"""The shared runtime of an SQS-fed consumer: from an SQS event to a partial batch response.

A consumer module declares an `SqsConsumer` (its catalogue name, the environment variables it
reads beyond the shared ones, and how to build its side effect) and hands every invocation to
`SqsConsumer.handle`. Its duplicate guard is the one `handlers.catalog` declares for it: built
into the effect (`self_guarded`: the conditional write or PUT is the effect), or wrapped around it
(`PowertoolsGuard` or `CompletionRecordGuard`, picked by the entry the function's environment
selects). The runtime for one function (settings, clients, logger, metrics, guard, thread pool) is
built on first call and cached by the settings it was built from, so one process can serve
several functions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from handlers.catalog import HANDLERS, HandlerSpec, Idempotency
from handlers.runtime import aws
from handlers.runtime.batch import BatchEffect, BatchReport, processor
from handlers.runtime.canary import CANARY, canary_in, record_receipt
from handlers.runtime.envelope import EVENT_ID_PATH, Incoming, business_key, parse
from handlers.runtime.environment import FunctionEnv, one_of, required
from handlers.runtime.errors import PoisonRecord
from handlers.runtime.guards import CompletionRecordGuard, Outcome, PowertoolsGuard

Effect = Callable[[Incoming], Outcome]
# Lambda's SQS batches are at most 10 records unless a batching window is set; more threads than
# that only add contention for the client's connection pool.
MAX_RECORD_THREADS = 10
STAGED = "staged"


@dataclass(frozen=True, eq=False)
class SqsConsumer:
    name: str  # the module's entry in handlers.catalog.HANDLERS
    build: Callable[[FunctionEnv], Effect | BatchEffect]
    # Variables beyond the shared ones: variable name -> reader that raises naming it.
    variables: dict[str, Callable[[], str]] = field(default_factory=dict)
    # True when the effect is its own guard; False to wrap it in the catalogue's guard.
    self_guarded: bool = True

    @property
    def spec(self) -> HandlerSpec:
        return HANDLERS[self.name]

    @property
    def idempotency(self) -> Idempotency:
        """The catalogue's shipped guard; a function may select another (`catalog.spec_for`)."""
        return self.spec.idempotency

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        variables = dict(self.variables)
        # Every function has the table: its guard's, and where `ops verify` receipts go.
        variables.setdefault("IDEMPOTENCY_TABLE", lambda: required("IDEMPOTENCY_TABLE"))
        choice = self.spec.choice
        if choice is not None:
            values = tuple(s.choice.value for s in self.spec.choices if s.choice is not None)
            variables.setdefault(
                choice.variable, lambda: one_of(choice.variable, values, choice.value)
            )
        return _runtime(self, FunctionEnv.from_env(variables)).handle(event, context)


@cache
def _runtime(consumer: SqsConsumer, settings: FunctionEnv) -> _Runtime:
    return _Runtime(consumer, settings)


class _Runtime:
    def __init__(self, consumer: SqsConsumer, settings: FunctionEnv) -> None:
        self.settings = settings
        self.event_domains = dict(settings.event_domains)  # source -> domain, once per runtime
        self.spec = consumer.spec.select(dict(settings.extra))
        self.logger = Logger(service=settings.service, level=settings.log_level)
        self.metrics = (
            Metrics(namespace=settings.metrics_namespace, service=settings.service)
            if settings.metrics_namespace
            else None
        )
        if settings.key_path.strip() == EVENT_ID_PATH:
            self.logger.warning(
                "IDEMPOTENCY_KEY_PATH is the EventBridge event id: a producer's re-send gets a new "
                "id and will not be recognised as a duplicate; prefer a business id"
            )
        effect = consumer.build(settings)
        self.guard: PowertoolsGuard | CompletionRecordGuard | None = None
        if not consumer.self_guarded:
            guard = (
                PowertoolsGuard if self.spec.idempotency == "powertools" else CompletionRecordGuard
            )
            self.guard = guard(
                function_name=settings.function_name,
                consumer=consumer.name,
                table=settings["IDEMPOTENCY_TABLE"],
                window_s=settings.window_s,
                client=aws.client("dynamodb"),
                effect=effect,
            )
        self.effect = self.guard or effect
        self.fifo = settings.queue_kind == "fifo"
        self.pool = (
            ThreadPoolExecutor(MAX_RECORD_THREADS, thread_name_prefix=consumer.name)
            if not self.fifo
            else None
        )

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if self.guard is not None:
            # Powertools' in-progress marks then expire with this invocation, not the window.
            self.guard.register(context)
        report = BatchReport()
        staged: list[tuple[SQSRecord, Incoming]] = []
        staging = threading.Lock()

        def record_handler(record: SQSRecord) -> str:
            canary = canary_in(record.body)
            if canary is not None:
                # `ops verify`: record the receipt, leave the business effect alone.
                record_receipt(
                    aws.client("dynamodb"),  # cached; no client at init for S3-only consumers
                    self.settings["IDEMPOTENCY_TABLE"],
                    self.settings.function_name,
                    canary,
                )
                report.succeeded(CANARY)
                return CANARY
            try:
                incoming = self._incoming(record)
                if isinstance(self.effect, BatchEffect):
                    self.effect.check(incoming)
                    with staging:
                        staged.append((record, incoming))
                    return STAGED
                outcome = self.effect(incoming)
            except RecursionError as exc:
                # Deterministic for this record (too deep for some step): no retry cures it.
                poison = PoisonRecord(f"too deeply nested to process ({exc})")
                report.failed(record, poison)
                raise poison from exc
            except Exception as exc:
                report.failed(record, exc)
                raise
            report.succeeded(outcome.value)
            self.logger.debug(
                "record done", extra={"messageId": record.message_id, "outcome": outcome.value}
            )
            return outcome.value

        records = event.get("Records", [])
        batch = processor(
            fifo=self.fifo, skip_group_on_error=self.settings.skip_group_on_error, pool=self.pool
        )
        with batch(records, record_handler):
            batch.process()
        response = batch.response()
        if staged:
            response = self._commit(staged, records, response, report)
        summary = report.summary(response, records, skip_group=self.settings.skip_group_on_error)
        self._publish(summary, context)
        return response

    def _commit(
        self,
        staged: list[tuple[SQSRecord, Incoming]],
        records: list[dict[str, Any]],
        response: dict[str, Any],
        report: BatchReport,
    ) -> dict[str, Any]:
        """Write a batch effect's staged records; if that fails, every one of them fails."""
        position = {r.get("messageId"): i for i, r in enumerate(records)}
        staged.sort(key=lambda pair: position[pair[0].message_id])
        try:
            outcomes = self.effect.commit([incoming for _, incoming in staged])
        except Exception as exc:
            for record, _ in staged:
                report.failed(record, exc, blocking=False)
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            failed |= {record.message_id for record, _ in staged}
            return {
                "batchItemFailures": [
                    {"itemIdentifier": r["messageId"]} for r in records if r["messageId"] in failed
                ]
            }
        for outcome in outcomes:
            report.succeeded(outcome.value)
        return response

    def _incoming(self, record: SQSRecord) -> Incoming:
        event = parse(record.body, domains=self.event_domains)
        return Incoming(
            event=event,
            key=business_key(event, self.settings.key_path),
            message_id=record.message_id,
        )

    def _publish(self, summary: dict[str, Any], context: Any) -> None:
        log = self.logger.warning if summary["failed"] or summary["skipped"] else self.logger.info
        log("batch done", extra={**summary, "requestId": getattr(context, "aws_request_id", None)})
        if self.metrics is None:
            return
        self.metrics.add_metric("Records", MetricUnit.Count, summary["records"])
        for outcome, count in summary["outcomes"].items():
            self.metrics.add_metric(f"Records{outcome.title()}", MetricUnit.Count, count)
        for name in ("failed", "poison", "skipped"):
            self.metrics.add_metric(f"Records{name.title()}", MetricUnit.Count, summary[name])
        self.metrics.flush_metrics()
