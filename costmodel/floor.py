"""The cost floor (issue #12): what the stack's own deliveries cost, with the same guarantees,
at the least the platform could spend on them.

The floor is the model's own usage list, built from the same propagated volumes and priced with
the same catalogue, tiers and free tier, changed only where the floor differs:

- each consumer with a DynamoDB guard takes one conditional write per delivered event (one per
  duplicate and per retry) and no reads; the audit consumer takes one archival S3 PUT per batch.
  Both are the catalogue entry (`handlers.catalog`) with those figures, run through the model's
  own formulas (`usage.stores`);
- standard queues, where a batching window is allowed, deliver full batches (batch fill 1): the
  lines of such a queue and of what polls it come from the model built at `batch_fill=1`;
  FIFO queues keep the stack's batch fill;
- no custom metrics (`CUSTOM_METRICS=off` everywhere, so no EMF line in the logs either);
- no KMS: SQS-managed and AWS-owned keys, so no key and no KMS requests;
- no SNS hop where a rule can route: an EventBridge-fed topic's publishes and deliveries go, as
  does its subscriptions' dead-letter queue (the bus's delivery DLQ already serves a rule);
- alarms: only the depth alarms of the dead-letter queues that remain.

Everything else (events put, hand-offs and notifications, the archive as configured, SQS
requests incl. idle polling, Lambda, logs, storage, the grouping pipe) is the model's line as is.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import pandas as pd

from costmodel.estimate import Estimate, Model
from costmodel.topology import Topology
from costmodel.usage import Usage
from costmodel.usage.model import UsageModel
from costmodel.usage.shared import STANDARD_ALARM_PERIOD_S
from handlers.catalog import CUSTOM_METRICS_VARIABLE, HandlerSpec

SNS_HOP_COMPONENTS = ("publishes (from EventBridge)", "deliveries to SQS (free)")
ALARMS_COMPONENT = "alarms"
DLQ_ALARM_SUFFIX = "-depth"  # a DLQ's depth alarm is named after it: "<dlq name>-depth"


def floor_spec(spec: HandlerSpec | None) -> HandlerSpec | None:
    """The least a consumer's guard costs with the same guarantee: one conditional write per
    delivery (duplicates and retries included, a failed conditional write still bills), no
    reads; for an archive, one conditional PUT per batch."""
    if spec is None:
        return None
    if "archive_bucket" in spec.needs:
        return dataclasses.replace(
            spec, s3_puts_per_batch=1, s3_puts_per_event=0, s3_puts_per_duplicate=0,
            s3_heads_per_duplicate=0,
        )
    if spec.ddb_writes_per_event or spec.ddb_reads_per_event:
        return dataclasses.replace(
            spec, idempotency="conditional-write", ddb_writes_per_event=1,
            ddb_writes_per_duplicate=1, ddb_reads_per_event=0, ddb_reads_per_duplicate=0,
        )
    return spec


def floor_topology(topology: Topology) -> Topology:
    """A copy of `topology` whose consumers run their floor guard and publish no custom metrics."""
    variant = copy.deepcopy(topology)  # one copy: queues keep pointing at the copied functions
    for function in variant.functions.values():
        function.spec = floor_spec(function.spec)
        function.environment[CUSTOM_METRICS_VARIABLE] = "off"
    return variant


def hop_topics(topology: Topology) -> list[str]:
    """Topics a rule could replace: those with subscriptions, all of which are SQS queues (the
    only kind the topology holds), which a rule can target directly."""
    return [name for name, topic in topology.topics.items() if topic.subscriptions]


def dlq_depth_alarms(topology: Topology) -> list[str]:
    """The standard-resolution depth alarms of the dead-letter queues a floor keeps: every DLQ
    but those of an SNS hop's subscriptions (named after their topic)."""
    hops = hop_topics(topology)
    dlqs = [
        q.name for q in topology.queues.values()
        if not q.polled and not any(q.name.startswith(f"{t}-") for t in hops)
    ]
    wanted = {f"{name}{DLQ_ALARM_SUFFIX}" for name in dlqs}
    return [
        a.name for a in topology.alarms
        if a.name in wanted and a.period_s >= STANDARD_ALARM_PERIOD_S
    ]


def windowed_resources(topology: Topology) -> set[str]:
    """Standard queues (a batching window is allowed) that something polls, and their pollers."""
    names: set[str] = set()
    for queue in topology.queues.values():
        if queue.fifo or not queue.polled:
            continue
        names.add(queue.name)
        names.add(queue.function.name if queue.function is not None else queue.pipe.name)
    return names


@dataclass
class FloorModel(Model):
    """A `Model` whose usages are the floor's: `.estimate()` and `.total(scale)` price it with
    the same catalogue, tiers and free tier as the stack's model."""

    def usages(self) -> tuple[list[Usage], list[str]]:
        flows = self.propagation()
        at_stack_fill = UsageModel(self.topology, flows, self.config, self.facts)
        usages = at_stack_fill.build()
        full = UsageModel(self.topology, flows, self.config, self.facts)
        full.a = full.a.model_copy(update={"batch_fill": 1.0})
        full_usages = full.build()
        windowed = windowed_resources(self.topology)
        merged = []
        for usage, at_full in zip(usages, full_usages, strict=True):
            key = (usage.service, usage.resource, usage.component)
            full_key = (at_full.service, at_full.resource, at_full.component)
            assert key == full_key, f"usage lists differ: {key} vs {full_key}"
            merged.append(at_full if usage.resource in windowed else usage)
        return transform(merged, self.topology), at_stack_fill.warnings


def transform(usages: list[Usage], topology: Topology) -> list[Usage]:
    """Drop what the floor does without (KMS, the SNS hop) and keep only the DLQ depth alarms;
    custom metrics are already off in `floor_topology`."""
    hops = set(hop_topics(topology))
    alarms = dlq_depth_alarms(topology)
    result = []
    for usage in usages:
        if usage.service == "KMS":
            continue
        hop = usage.resource in hops and usage.component in SNS_HOP_COMPONENTS
        if usage.service == "SNS" and hop:
            continue
        if usage.service == "CloudWatch" and usage.component == ALARMS_COMPONENT:
            if not alarms:
                continue
            usage = dataclasses.replace(
                usage, per_scale=0, fixed=len(alarms),
                formula=f"{len(alarms)} DLQ depth alarms (no other alarms)",
            )
        result.append(usage)
    return result


def floor_model(model: Model) -> FloorModel:
    """The floor of `model`: its config, catalogue, facts and scale, on the floor topology."""
    values = {f.name: getattr(model, f.name) for f in dataclasses.fields(Model)}
    return FloorModel(**{**values, "topology": floor_topology(model.topology)})


@dataclass
class Comparison:
    modelled: Estimate
    floor: Estimate

    @property
    def ratio(self) -> float:
        return self.modelled.total / self.floor.total

    def by_service(self) -> pd.DataFrame:
        """Per service: modelled, floor (USD a month) and modelled ÷ floor (NaN: floor 0),
        largest modelled first."""
        frame = pd.DataFrame(
            {"modelled": self.modelled.by("service"), "floor": self.floor.by("service")}
        )
        frame = frame.fillna(0.0).sort_values("modelled", ascending=False)
        frame["ratio"] = frame.modelled / frame.floor.where(frame.floor > 0)
        return frame


def compare(model: Model) -> Comparison:
    return Comparison(model.estimate(), floor_model(model).estimate())
