"""Usage of a consumer's function: Lambda requests and duration, its logs and custom metrics,
and what its handler's catalogue entry (`handlers.catalog`) says each event costs elsewhere:
the idempotency store and the archive (`usage.stores`), follow-up events and notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from costmodel.behaviour import emf_line_bytes
from costmodel.topology import Function
from costmodel.usage import GB, Deliveries, amount, chunks, stores
from costmodel.volume import total
from handlers.catalog import CUSTOM_METRICS_DEFAULT, CUSTOM_METRICS_VARIABLE

if TYPE_CHECKING:
    from costmodel.usage.model import UsageModel


def consumer(model: UsageModel, d: Deliveries) -> None:
    """The function of a consumer, from the deliveries of the queue it polls."""
    function = d.function
    consumer = model.consumer(function)
    duration_ms = consumer.expected_duration_ms
    invocations, attempts = d.invocations, d.attempts
    gb_s = invocations * duration_ms / 1000 * function.memory_mb / 1024
    model.add("Lambda", function.name, "requests", "lambda.requests", invocations, 0,
              f"{amount(attempts)} deliveries ÷ {attempts / invocations if invocations else 0:g} per batch"
              f" = {amount(invocations)} batches")
    model.add("Lambda", function.name, f"duration ({function.architecture})",
              f"lambda.duration.{function.architecture}", gb_s, 0,
              f"{amount(invocations)} × {duration_ms} ms × {function.memory_mb} MB")
    logs_and_metrics(model, function, invocations, attempts / invocations if invocations else 0)
    spec = function.spec
    if spec is None:
        model.warnings.append(f"function {function.name}: unknown handler {function.handler!r}")
        return
    stores.idempotency(model, d, model.config.window_s(consumer))
    if "archive_bucket" in spec.needs:
        stores.archive(model, d)
    if "event_bus" in spec.needs:
        follow_ups = model.flows.handed_off.get(function.name, [])
        bus = model.flows.handoff_bus.get(function.name, "its bus")
        model.add("EventBridge", function.name, "follow-up events put", "eventbridge.events.put",
                  chunks(follow_ups), 0,
                  f"{amount(total(follow_ups))} hand-off events on {bus} × 64 KB chunks "
                  "(one per event, instead of a synchronous call)")
    if "notify_topic" in spec.needs:
        if function.environment.get("NOTIFY_CHANNEL", "sns") == "sns":
            model.add("SNS", function.name, "notification publishes", "sns.publish", d.unique, 0,
                      f"{amount(d.unique)} notifications")
        else:
            model.warnings.append(
                f"function {function.name}: {amount(d.unique)} e-mails a month through SES are not "
                "priced (the catalogue has no SES item)"
            )


def logs_and_metrics(model: UsageModel, function: Function, invocations: float, per_batch: float) -> None:
    """Log ingestion and storage (the EMF line included when the function publishes metrics),
    and each custom metric the first function of its namespace and service publishes."""
    env = function.environment
    namespace = env.get("POWERTOOLS_METRICS_NAMESPACE", "")
    service = env.get("POWERTOOLS_SERVICE_NAME") or function.name
    publishes = bool(namespace) and custom_metrics_on(env)
    emf = emf_line_bytes(namespace, service, per_batch) if publishes else 0
    line = model.a.log_bytes_per_invocation + emf
    log_gb = invocations * line / GB
    # Lambda's logs are vended logs: CloudWatch Logs tiers them by the account's volume.
    model.add("CloudWatch Logs", function.name, "ingestion", "logs.ingestion.vended", log_gb, 0,
              f"{amount(invocations)} invocations × ({model.a.log_bytes_per_invocation} B of log lines"
              + (f" + {emf} B EMF metrics line" if emf else "") + ")")
    model.storage("CloudWatch Logs", function.name, "logs.storage", log_gb,
                  function.log_retention_days,
                  f"{log_gb:.3g} GB/month (uncompressed: an upper bound)")
    if not publishes or function.spec is None:
        return
    names = [
        n for n in function.spec.custom_metrics
        if (namespace, service, n) not in model.metrics_counted
    ]
    model.metrics_counted.update((namespace, service, n) for n in names)
    if names:
        model.add("CloudWatch", function.name, "custom metrics (EMF)", "cloudwatch.metric.custom",
                  0, len(names),
                  f"{len(names)} metrics × 1 dimension set (service={service}) in {namespace}: "
                  + ", ".join(names))


def custom_metrics_on(environment: dict[str, str]) -> bool:
    """Whether a function publishes its per-batch custom metrics: its environment's
    `CUSTOM_METRICS`, else the catalogue's default (`handlers.catalog`)."""
    value = environment.get(CUSTOM_METRICS_VARIABLE) or CUSTOM_METRICS_DEFAULT
    return value.strip().lower() == "on"
