"""`actual --calibrate`: the month's CloudWatch metrics behind two of the estimate's assumptions,
and the values they propose (`actual.stack_file` writes them into `Pulumi.<stack>.yaml`).

What the estimate assumes, per consumer queue that a Lambda function polls
(`costmodel.usage.queues`):

    deliveries  = messages sent × (1 + failure_rate)              failure_rate: retries
    invocations = deliveries ÷ (batch_size × batch_fill)          batch_fill: share of a batch

so a month of SQS and Lambda metrics measures them:

    failure_rate ≈ NumberOfMessagesReceived ÷ NumberOfMessagesSent − 1
    batch_fill   ≈ NumberOfMessagesReceived ÷ Invocations ÷ batch_size

The stack has one value of each for all its queues, so the proposal is the volume-weighted
value: the one with which the model reproduces the month's totals. failure_rate weighs each
queue by the messages sent to it, (Σ received − Σ sent) ÷ Σ sent; batch_fill by its
invocations, Σ (received ÷ batch_size) ÷ Σ invocations. (Weighting fill by messages instead
would undercount the invocations of half-empty batches, which are what Lambda bills.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from costmodel.actual.aws import pages
from settings.model import StackConfig
from settings.naming import StackNames

PERIOD_S = 86_400  # daily sums: valid for any age CloudWatch keeps (>= 1 h after 63 days)
DECIMALS = 4  # written to the stack file: 0.0213, not 0.021347891


class CalibrationError(ValueError):
    """The metrics cannot give a proposal; the message says why."""


@dataclass(frozen=True)
class ConsumerQueue:
    """A queue a Lambda function polls: what the metrics are read for."""

    domain: str
    consumer: str
    queue: str
    function: str
    batch_size: int


@dataclass(frozen=True)
class Observation:
    """A month of one consumer queue's metrics."""

    source: ConsumerQueue
    sent: float  # SQS NumberOfMessagesSent
    received: float  # SQS NumberOfMessagesReceived
    invocations: float  # Lambda Invocations

    @property
    def failure_rate(self) -> float | None:
        return self.received / self.sent - 1 if self.sent else None

    @property
    def batch_fill(self) -> float | None:
        if not self.invocations:
            return None
        return self.received / self.invocations / self.source.batch_size


@dataclass(frozen=True)
class Proposal:
    assumption: str
    configured: float
    observed: float | None  # None: no traffic to measure it by
    proposed: float | None  # observed, rounded and kept inside the allowed range
    note: str = ""

    @property
    def changed(self) -> bool:
        return self.proposed is not None and self.proposed != self.configured


@dataclass
class Calibration:
    stack: str
    month: str
    observations: list[Observation]
    proposals: list[Proposal]
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> dict[str, float]:
        """What `--write` puts in the stack file: each proposed value other than the configured."""
        return {p.assumption: p.proposed for p in self.proposals if p.changed}


def consumer_queues(config: StackConfig) -> list[ConsumerQueue]:
    """Every queue a consumer's function polls, named as the program names it. A per-entity
    FIFO consumer's staging queue is polled by a pipe (no retries, no batches of the function)
    and is left out: its function polls the `.fifo` queue the pipe fills."""
    names = StackNames(config.stack)
    queues = []
    for domain_name, domain in config.domains.items():
        domain_names = names.domain(domain_name)
        for consumer_name, consumer in domain.consumers.items():
            queues.append(
                ConsumerQueue(
                    domain=domain_name,
                    consumer=consumer_name,
                    queue=domain_names.queue(consumer_name, consumer.queue.kind == "fifo"),
                    function=domain_names.function(consumer_name),
                    batch_size=consumer.batch_size,
                )
            )
    return queues


def metric_queries(queues: list[ConsumerQueue]) -> list[dict[str, Any]]:
    """GetMetricData queries: three monthly sums per queue, ids q<i>_<what>."""
    queries = []
    for i, q in enumerate(queues):
        for what, namespace, metric, dimension, value in (
            ("sent", "AWS/SQS", "NumberOfMessagesSent", "QueueName", q.queue),
            ("received", "AWS/SQS", "NumberOfMessagesReceived", "QueueName", q.queue),
            ("invocations", "AWS/Lambda", "Invocations", "FunctionName", q.function),
        ):
            queries.append(
                {
                    "Id": f"q{i}_{what}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": namespace,
                            "MetricName": metric,
                            "Dimensions": [{"Name": dimension, "Value": value}],
                        },
                        "Period": PERIOD_S,
                        "Stat": "Sum",
                    },
                    "ReturnData": True,
                }
            )
    return queries


def observe(
    cloudwatch: Any, queues: list[ConsumerQueue], start: datetime, end: datetime
) -> list[Observation]:
    """Sum each queue's metrics over [start, end) with GetMetricData (all pages)."""
    queries = metric_queries(queues)
    sums = {q["Id"]: 0.0 for q in queries}
    request = {
        "MetricDataQueries": queries, "StartTime": start, "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    for page in pages(cloudwatch.get_metric_data, request, "NextToken"):
        for result in page.get("MetricDataResults", []):
            if result.get("StatusCode") == "Forbidden":
                raise CalibrationError(
                    f"CloudWatch refused metric {result.get('Label') or result['Id']} (Forbidden): "
                    "the credentials need cloudwatch:GetMetricData"
                )
            if result["Id"] in sums:
                sums[result["Id"]] += float(sum(result.get("Values", [])))
    return [
        Observation(q, sums[f"q{i}_sent"], sums[f"q{i}_received"], sums[f"q{i}_invocations"])
        for i, q in enumerate(queues)
    ]


def propose(
    stack: str, month: str, observations: list[Observation], configured: dict[str, Any]
) -> Calibration:
    """The volume-weighted observed values beside the configured ones (module docstring)."""
    notes: list[str] = []
    sent = sum(o.sent for o in observations)
    received_of_sent = sum(o.received for o in observations if o.sent)
    failure = (received_of_sent - sent) / sent if sent else None
    invocations = sum(o.invocations for o in observations)
    batches = sum(o.received / o.source.batch_size for o in observations if o.invocations)
    fill = batches / invocations if invocations else None
    idle = [o.source.queue for o in observations if not (o.sent or o.received or o.invocations)]
    if idle:
        notes.append(f"no traffic this month on {', '.join(idle)}: left out of the averages")
    proposals = [
        _proposal("failure_rate", configured, failure, low=0.0, high=1.0,
                  below="fewer messages received than sent (a backlog at the month's end, or "
                        "messages that expired unread): proposed as 0"),
        _proposal("batch_fill", configured, fill, low=10.0 ** -DECIMALS, high=1.0,
                  above="batches fuller than batch_size: the deployed batch sizes differ from "
                        "the stack file's; proposed as 1"),
    ]
    return Calibration(stack, month, observations, proposals, notes)


def _proposal(
    name: str, configured: dict[str, Any], observed: float | None, *, low: float, high: float,
    below: str = "", above: str = "",
) -> Proposal:
    if observed is None:
        return Proposal(
            name, configured[name], None, None, "no messages this month: nothing to measure"
        )
    value, note = round(observed, DECIMALS), ""
    if value < low:
        value, note = low, below
    elif value > high:
        value, note = high, above
    return Proposal(name, configured[name], observed, value, note)
