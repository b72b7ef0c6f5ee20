"""Monthly usage per resource and cost component, each with the formula that produced it.

A usage's quantity is `per_scale × s + fixed`, where `s` scales every domain's projected volume
(1 = as configured): the volume sweep is then one vectorised pricing call, not 50 estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from costmodel.resources import SourceError
from costmodel.topology import Function, Queue, Topology
from costmodel.volume import Flow, Propagation, total
from settings.model import ConsumerConfig, StackConfig
from settings.naming import StackNames

HOURS_PER_MONTH = 730  # AWS prices a month as 730 hours
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3_600
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
CHUNK = 65_536  # EventBridge, SQS and SNS bill payloads in 64 KB chunks
KMS_DATA_KEY_REUSE_S = 300
IDEMPOTENCY_ITEM_BYTES = 300  # key, status, expiry, payload hash (Powertools record)
ARCHIVE_HORIZON_MONTHS = 12  # an archive kept "forever" is priced at one year of events
SQS_MAX_MESSAGES_PER_CALL = 10  # ReceiveMessage and DeleteMessageBatch take at most 10 messages

# SQS components other modules (capacity checks, seed check) look up by name.
SQS_SEND = "send"
SQS_RECEIVE = "receive (batched)"
SQS_DELETE = "delete (batched)"
SQS_IDLE = "empty receives (idle polling)"


@dataclass(frozen=True)
class Usage:
    service: str
    resource: str
    domain: str  # "platform" for shared pieces
    component: str
    price_item: str
    per_scale: float  # quantity at the configured volume that grows with it
    fixed: float  # quantity that does not depend on volume
    formula: str

    def quantity(self, scale=1.0):
        return self.per_scale * scale + self.fixed


def chunks(flows: list[Flow]) -> float:
    """Billed 64 KB chunks: a 65 KB event is two requests."""
    return sum(f.volume * math.ceil(f.size_bytes / CHUNK) for f in flows)


def gigabytes(flows: list[Flow]) -> float:
    return sum(f.volume * f.size_bytes for f in flows) / 1e9


def _m(x: float) -> str:
    """Quantities in formulas: 1.2M, 35k, 12."""
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.3g}M"
    if abs(x) >= 1e3:
        return f"{x / 1e3:,.3g}k"
    return f"{x:,.3g}"


class UsageModel:
    """Turns a topology and its propagated volume into usages, per the stack's assumptions."""

    def __init__(self, topology: Topology, flows: Propagation, config: StackConfig) -> None:
        self.topology, self.flows, self.config = topology, flows, config
        self.a = config.assumptions
        self.usages: list[Usage] = []
        self.warnings: list[str] = list(topology.warnings)

    def build(self) -> list[Usage]:
        self._eventbridge()
        self._sns()
        for queue in self.topology.queues.values():
            self._queue(queue)
        self._platform()
        return self.usages

    # -- helpers ----------------------------------------------------------------------------

    def _add(self, service, resource, component, item, per_scale, fixed, formula) -> None:
        self.usages.append(
            Usage(service, resource, self._domain_of(resource), component, item, per_scale, fixed, formula)
        )

    def _domain_of(self, resource: str) -> str:
        """The `eda:domain` tag of the resource; shared pieces carry none."""
        owner = self.topology.owners.get(resource)
        return (owner and owner.domain) or "platform"

    def _consumer(self, function: Function) -> ConsumerConfig:
        """The consumer a function serves, by its `eda:domain` and `eda:consumer` tags."""
        owner = function.owner
        domain = self.config.domains.get(owner.domain or "")
        if domain is None or owner.consumer not in domain.consumers:
            raise SourceError(
                f"function {function.name}: tags eda:domain={owner.domain!r}, eda:consumer="
                f"{owner.consumer!r} name no consumer of stack {self.config.stack!r} (the program "
                "tags every function it declares; is the preview from another stack or program?)"
            )
        return domain.consumers[owner.consumer]

    # -- tiers ------------------------------------------------------------------------------

    def _eventbridge(self) -> None:
        dup = self.a.duplicate_rate
        for bus_name, bus in self.topology.buses.items():
            published = self.flows.published.get(bus_name, [])
            n = chunks(published)
            self._add("EventBridge", bus_name, "custom events put", "eventbridge.events.put",
                      n * (1 + dup), 0,
                      f"{_m(total(published))} events × 64 KB chunks × (1 + {dup:g} producer re-sends)")
            if bus.archive_days is not None:
                gb = gigabytes(published) * (1 + dup)
                months = (bus.archive_days / DAYS_PER_MONTH) if bus.archive_days else ARCHIVE_HORIZON_MONTHS
                self._add("EventBridge", bus_name, "archive: events processed", "eventbridge.archive.processing",
                          gb, 0, f"{gb:.3g} GB of events a month into the archive")
                self._add("EventBridge", bus_name, "archive: storage (steady state)", "eventbridge.archive.storage",
                          gb * months, 0,
                          f"{gb:.3g} GB/month × {months:.3g} months retained"
                          + (" (kept forever: one year priced)" if not bus.archive_days else ""))
            for schedule, expression in bus.schedules.items():
                runs = invocations_per_month(expression)
                self._add("EventBridge Scheduler", schedule, "invocations", "eventbridge.scheduler.invocations",
                          0, runs, f"{expression} ≈ {_m(runs)} runs a month")

    def _sns(self) -> None:
        dup = self.a.duplicate_rate
        for topic_name, topic in self.topology.topics.items():
            flows = self.flows.topic_in.get(topic_name, [])
            if not flows:
                continue
            self._add("SNS", topic_name, "publishes (from EventBridge)", "sns.publish",
                      chunks(flows) * (1 + dup), 0,
                      f"{_m(total(flows))} events × 64 KB chunks × (1 + {dup:g})")
            delivered = sum(total(self.flows.queue_in.get(s.queue.name, [])) for s in topic.subscriptions)
            self._add("SNS", topic_name, "deliveries to SQS (free)", "sns.delivery.sqs",
                      delivered * (1 + dup), 0,
                      f"{len(topic.subscriptions)} subscriptions after filter policies")

    def _queue(self, queue: Queue) -> None:
        flows = self.flows.queue_in.get(queue.name, [])
        item = "sqs.fifo.requests" if queue.fifo else "sqs.standard.requests"
        a = self.a
        if queue.function is None:
            return  # a DLQ: no poller, and its traffic is the failure share, priced as zero
        if queue.customer_key:
            # SQS asks KMS for a data key per principal per reuse period: B/D × (2P + C).
            requests = SECONDS_PER_MONTH / KMS_DATA_KEY_REUSE_S * 3
            self._add("KMS", queue.name, "requests (queue data keys)", "kms.requests", 0, requests,
                      f"{SECONDS_PER_MONTH:,} s / {KMS_DATA_KEY_REUSE_S} s reuse × (2 × 1 producer + 1 consumer)")
        arrivals = total(flows) * (1 + a.duplicate_rate)
        sends = chunks(flows) * (1 + a.duplicate_rate)
        attempts = arrivals * (1 + a.failure_rate)
        per_batch = max(1.0, queue.batch_size * a.batch_fill)
        batches = attempts / per_batch
        # Lambda's pollers gather a batch above 10 from several ReceiveMessage calls and delete
        # it in several DeleteMessageBatch calls: a batch of 100 saves invocations, not requests.
        per_call = max(1.0, min(queue.batch_size, SQS_MAX_MESSAGES_PER_CALL) * a.batch_fill)
        calls = attempts / per_call
        idle = a.idle_receives_per_minute * MINUTES_PER_MONTH
        self._add("SQS", queue.name, SQS_SEND, item, sends, 0,
                  f"{_m(total(flows))} messages × 64 KB chunks × (1 + {a.duplicate_rate:g} duplicates)")
        self._add("SQS", queue.name, SQS_RECEIVE, item, calls, 0,
                  f"{_m(attempts)} deliveries (incl. {a.failure_rate:g} retries) ÷ {per_call:g} per "
                  f"ReceiveMessage (min(batch {queue.batch_size}, {SQS_MAX_MESSAGES_PER_CALL}) × fill {a.batch_fill:g})")
        self._add("SQS", queue.name, SQS_DELETE, item, calls, 0,
                  f"one DeleteMessageBatch per {per_call:g} messages (at most {SQS_MAX_MESSAGES_PER_CALL} a call)")
        self._add("SQS", queue.name, SQS_IDLE, item, 0, idle,
                  f"{a.idle_receives_per_minute:g} long polls/min × {MINUTES_PER_MONTH:,.0f} min")
        self._function(queue.function, batches, arrivals, attempts)

    def _function(self, function: Function, invocations: float, arrivals: float, attempts: float) -> None:
        consumer = self._consumer(function)
        duration_ms = consumer.expected_duration_ms
        gb_s = invocations * duration_ms / 1000 * function.memory_mb / 1024
        self._add("Lambda", function.name, "requests", "lambda.requests", invocations, 0,
                  f"{_m(attempts)} deliveries ÷ {attempts / invocations if invocations else 0:g} per batch"
                  f" = {_m(invocations)} batches")
        self._add("Lambda", function.name, f"duration ({function.architecture})",
                  f"lambda.duration.{function.architecture}", gb_s, 0,
                  f"{_m(invocations)} × {duration_ms} ms × {function.memory_mb} MB")
        log_gb = invocations * self.a.log_bytes_per_invocation / 1e9
        self._add("CloudWatch Logs", function.name, "ingestion", "logs.ingestion", log_gb, 0,
                  f"{_m(invocations)} invocations × {self.a.log_bytes_per_invocation} B (per-record lines at DEBUG, off)")
        retention = function.log_retention_days or 30
        self._add("CloudWatch Logs", function.name, "storage (steady state)", "logs.storage",
                  log_gb * retention / DAYS_PER_MONTH, 0, f"{log_gb:.3g} GB/month × {retention} days retention")
        spec = function.spec
        if spec is None:
            self.warnings.append(f"function {function.name}: unknown handler {function.handler!r}")
            return
        unique = arrivals / (1 + self.a.duplicate_rate)
        duplicates = arrivals - unique
        failed = attempts - arrivals
        writes = unique * spec.ddb_writes_per_event + duplicates * spec.ddb_writes_per_duplicate + failed * spec.ddb_writes_per_event
        if writes:
            self._add("DynamoDB", function.name, f"writes ({spec.idempotency})", "dynamodb.ondemand.write",
                      writes, 0,
                      f"{_m(unique)} events × {spec.ddb_writes_per_event:g} WRU + {_m(duplicates)} duplicates × "
                      f"{spec.ddb_writes_per_duplicate:g} (failed conditional writes bill) + {_m(failed)} retries × "
                      f"{spec.ddb_writes_per_event:g}")
            window = self.config.window_s(consumer)
            gb = unique * window / SECONDS_PER_MONTH * IDEMPOTENCY_ITEM_BYTES / 1e9
            self._add("DynamoDB", function.name, "storage (idempotency window)", "dynamodb.storage", gb, 0,
                      f"{_m(unique)} keys/month × {window / 86_400:g}-day window × {IDEMPOTENCY_ITEM_BYTES} B")
        if "archive_bucket" in spec.needs:
            size = 1_024
            self._add("S3", function.name, "PUT (one object per event)", "s3.requests.put", arrivals, 0,
                      f"{_m(arrivals)} conditional PUTs (duplicates rejected, still billed)")
            self._add("S3", function.name, "storage (month 1 average)", "s3.standard.storage",
                      unique * size / 1e9 / 2, 0,
                      f"{_m(unique)} objects × ~{size} B, half a month on average; grows each month "
                      "until the lifecycle expires it")
        if "event_bus" in spec.needs:
            self._add("EventBridge", function.name, "follow-up events put", "eventbridge.events.put",
                      unique, 0, f"{_m(unique)} hand-off events (one per event, instead of a synchronous call)")
        if "notify_topic" in spec.needs:
            self._add("SNS", function.name, "notification publishes", "sns.publish", unique, 0,
                      f"{_m(unique)} notifications")

    def _platform(self) -> None:
        t = self.topology
        if t.customer_keys:
            self._add("KMS", "platform-key", "customer-managed keys", "kms.key", 0, t.customer_keys,
                      f"{t.customer_keys} key(s); SSE-SQS and AWS-owned keys have no key fee")
            topics_and_tables = len(t.topics) + len(t.tables)
            requests = SECONDS_PER_MONTH / KMS_DATA_KEY_REUSE_S * 2 * topics_and_tables
            self._add("KMS", "platform-key", "requests (topics and table)", "kms.requests", 0, requests,
                      f"{topics_and_tables} topics/tables × 2 principals × one data key per "
                      f"{KMS_DATA_KEY_REUSE_S} s (assumed reuse, as SQS)")
        self._add("CloudWatch", StackNames(self.config.stack).alarm_topic, "alarms", "cloudwatch.alarm.standard", 0, t.alarms,
                  f"{t.alarms} standard alarms (DLQ depth, queue age)")
        if t.dashboards:
            self.warnings.append(
                f"{t.dashboards} CloudWatch dashboards are not priced (the catalogue has no dashboard item)"
            )
        for key, volume in self.flows.unrouted.items():
            self.warnings.append(f"{key}: {_m(volume)} events a month match no rule (put, then dropped)")


def invocations_per_month(expression: str) -> float:
    """Runs a month of a Scheduler expression: exact for rate(), the field product for cron()."""
    body = expression[expression.index("(") + 1 : -1].strip()
    if expression.startswith("at("):
        return 1
    if expression.startswith("rate("):
        value, unit = body.split()
        seconds = {"minute": 60, "hour": 3_600, "day": 86_400}[unit.rstrip("s")]
        return SECONDS_PER_MONTH / (int(value) * seconds)
    minutes, hours, day_of_month, _month, day_of_week, *_ = body.split()
    days = DAYS_PER_MONTH
    if day_of_month not in ("*", "?"):
        days = _count(day_of_month, 31) * DAYS_PER_MONTH / 31
    elif day_of_week not in ("*", "?"):
        days = _count(day_of_week, 7) * DAYS_PER_MONTH / 7
    return _count(minutes, 60) * _count(hours, 24) * days


WEEKDAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}


def _count(field: str, span: int) -> int:
    """How many values a cron field selects (a list of values, ranges and */n steps)."""
    if field in ("*", "?"):
        return span
    count = 0
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            first, last = 0, span - 1
        elif "-" in base:
            first, last = (int(WEEKDAYS.get(x, x)) for x in base.split("-"))
        else:
            first = last = 0
        count += len(range(first, last + 1, int(step) if step else 1))
    return max(count, 1)
