"""The shared runtime of an SQS-fed consumer: from an SQS event to a partial batch response.

A consumer module declares an `SqsConsumer` (its catalogue name, the environment variables it
reads beyond the shared ones, and how to build its side effect) and hands every invocation to
`SqsConsumer.handle`; its duplicate guard is the one `handlers.catalog` declares for it. The runtime for
one function (settings, clients, logger, metrics, guard, thread pool) is built on first call and
cached by the settings it was built from, so one process can serve several functions.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from handlers.catalog import HANDLERS, Idempotency
from handlers.runtime import aws
from handlers.runtime.batch import BatchReport, processor
from handlers.runtime.envelope import EVENT_ID_PATH, Incoming, business_key, parse
from handlers.runtime.guards import Outcome, PowertoolsGuard
from handlers.runtime.environment import FunctionEnv, required

Effect = Callable[[Incoming], Outcome]
# Lambda's SQS batches are at most 10 records unless a batching window is set; more threads than
# that only add contention for the client's connection pool.
MAX_RECORD_THREADS = 10


@dataclass(frozen=True, eq=False)
class SqsConsumer:
    name: str  # the module's entry in handlers.catalog.HANDLERS
    build: Callable[[FunctionEnv], Effect]
    # Variables beyond the shared ones: variable name -> reader that raises naming it.
    variables: dict[str, Callable[[], str]] = field(default_factory=dict)
    # False when records of one batch contend for the same item (parallel writes would conflict).
    concurrent_records: bool = True

    @property
    def idempotency(self) -> Idempotency:
        return HANDLERS[self.name].idempotency

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        variables = dict(self.variables)
        if self.idempotency != "s3-conditional-put":
            variables.setdefault("IDEMPOTENCY_TABLE", lambda: required("IDEMPOTENCY_TABLE"))
        return _runtime(self, FunctionEnv.from_env(variables)).handle(event, context)


@cache
def _runtime(consumer: SqsConsumer, settings: FunctionEnv) -> _Runtime:
    return _Runtime(consumer, settings)


class _Runtime:
    def __init__(self, consumer: SqsConsumer, settings: FunctionEnv) -> None:
        self.settings = settings
        self.logger = Logger(service=settings.service, level=settings.log_level)
        self.metrics = Metrics(namespace=settings.metrics_namespace, service=settings.service)
        if settings.key_path.strip() == EVENT_ID_PATH:
            self.logger.warning(
                "IDEMPOTENCY_KEY_PATH is the EventBridge event id: a producer's re-send gets a new "
                "id and will not be recognised as a duplicate; prefer a business id"
            )
        effect = consumer.build(settings)
        self.guard = (
            PowertoolsGuard(
                function_name=settings.function_name,
                consumer=consumer.name,
                table=settings["IDEMPOTENCY_TABLE"],
                window_s=settings.window_s,
                client=aws.client("dynamodb"),
                effect=effect,
            )
            if consumer.idempotency == "powertools"
            else None
        )
        self.effect: Effect = self.guard or effect
        self.fifo = settings.queue_kind == "fifo"
        self.pool = (
            ThreadPoolExecutor(MAX_RECORD_THREADS, thread_name_prefix=consumer.name)
            if consumer.concurrent_records and not self.fifo
            else None
        )

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if self.guard is not None:
            # In-progress marks then expire with this invocation, not with the whole window.
            self.guard.register(context)
        report = BatchReport()

        def record_handler(record: SQSRecord) -> str:
            try:
                incoming = self._incoming(record)
                outcome = self.effect(incoming)
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
        self._publish(report.summary(response, len(records)), context)
        return response

    def _incoming(self, record: SQSRecord) -> Incoming:
        event = parse(record.body, domain=self.settings.domain)
        return Incoming(
            event=event,
            key=business_key(event, self.settings.key_path),
            message_id=record.message_id,
        )

    def _publish(self, summary: dict[str, Any], context: Any) -> None:
        log = self.logger.warning if summary["failed"] else self.logger.info
        log("batch done", extra={**summary, "requestId": getattr(context, "aws_request_id", None)})
        self.metrics.add_metric("Records", MetricUnit.Count, summary["records"])
        for outcome, count in summary["outcomes"].items():
            self.metrics.add_metric(f"Records{outcome.title()}", MetricUnit.Count, count)
        for name in ("failed", "poison", "skipped"):
            self.metrics.add_metric(f"Records{name.title()}", MetricUnit.Count, summary[name])
        self.metrics.flush_metrics()
