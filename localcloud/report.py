"""The reports the demo prints: what the deployment holds, and where every event went."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from localcloud.bridges import BRIDGES
from localcloud.emulator import LocalCloud
from localcloud.flow import ConsumerFlow, matching
from localcloud.poller import MappingPoller
from localcloud.records import DeployReport, name_of
from localcloud.workload import Ledger
from settings.feeds import feeds_on, rules_on


def deploy_section(report: DeployReport, seconds: float) -> RenderableType:
    table = Table(title=f"Deployed into moto in {seconds:.1f} s", show_lines=False)
    table.add_column("how")
    table.add_column("count", justify="right")
    table.add_column("resources")
    for label, lines in (
        ("emulated by moto", report.emulated),
        ("bridged", report.bridged),
        ("played by localcloud", report.played),
        ("NOT emulated", report.not_emulated),
    ):
        kinds = Counter(line.type.split(":")[-1] for line in lines)
        table.add_row(label, str(len(lines)), ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items())))
    details = Table(title="Bridged and not emulated, with reasons")
    details.add_column("resources")
    details.add_column("reason")
    by_reason: dict[str, list[str]] = {}
    for line in report.bridged + report.not_emulated:
        by_reason.setdefault(line.detail, []).append(line.name)
    for reason, names in by_reason.items():
        names = sorted(names)
        more = f" (+{len(names) - 3} more)" if len(names) > 3 else ""
        details.add_row(", ".join(names[:3]) + more, reason)
    bridges = Table(title="Bridges for moto's gaps")
    bridges.add_column("bridge")
    bridges.add_column("what it supplies")
    for name, what in BRIDGES.items():
        bridges.add_row(name, what)
    return Group(table, details, bridges)


def rules_section(cloud: LocalCloud, ledger: Ledger) -> RenderableType:
    table = Table(title="Events per rule (business events matched by each deployed rule's pattern)")
    for column in ("domain", "rule", "target", "events"):
        table.add_column(column, justify="right" if column == "events" else "left")
    config = cloud.config
    for domain_name, domain in config.domains.items():
        fed = feeds_on(config, domain_name)
        readers = {feed.subscriber: (reader, consumer) for reader, consumer, feed in fed}
        for subscriber, rule in rules_on(config, domain_name).items():
            if subscriber in domain.topics:
                subscribers = [c for _, c, feed in fed if feed.topic == subscriber]
                target = f"SNS -> {', '.join(subscribers)}"
            else:  # a consumer's queue: this domain's, or another's that reads it (also_from)
                reader, consumer = readers[subscriber]
                target = f"SQS {config.domains[reader].consumers[consumer].queue.kind}"
                if reader != domain_name:
                    target += f" of {reader}/{consumer}"
            count = len(matching(cloud, domain_name, rule, ledger))
            table.add_row(domain_name, subscriber, target, str(count))
    return table


def consumers_section(cloud: LocalCloud, flows: list[ConsumerFlow]) -> RenderableType:
    pollers = {p.name: p for p in cloud.pollers}
    table = Table(title="Per consumer (applied and DLQ read from DynamoDB, S3, SNS, SQS)")
    for column in ("consumer", "routed", "applied", "duplicates suppressed", "retried ok",
                   "injected fail/redeliver", "to DLQ", "invocations (cold)",
                   "in flight max/limit (declared)", "conserved"):
        table.add_column(column, justify="left" if column == "consumer" else "right")
    for flow in flows:
        stats = pollers[flow.function].stats
        # Every successful delivery beyond the first per applied event was absorbed by the guard.
        suppressed = stats.records_succeeded - len(flow.applied)
        table.add_row(
            f"{flow.domain}/{flow.consumer} ({flow.handler})",
            str(len(flow.routed)),
            str(len(flow.applied)),
            str(max(suppressed, 0)),
            str(stats.succeeded_after_retry),
            f"{stats.injected_transient}/{stats.injected_redelivery}",
            str(len(flow.dlq)),
            f"{stats.invocations} ({pollers[flow.function].runtime.cold_starts})",
            _concurrency(pollers[flow.function]),
            Text("yes", style="green") if flow.conserved else Text(_problems(flow), style="bold red"),
        )
    table.caption = (
        "injected fail: deliveries whose side-effect call was answered with the service's "
        "server error (localcloud.downstream); "
        "cold: execution environments started (sandboxed worker processes running the deployed "
        "code and layer); limit: the mapping's declared maximum concurrency, capped at "
        f"{cloud.environments} environment(s) per function by the emulator"
    )
    return table


def pipes_section(cloud: LocalCloud) -> RenderableType:
    table = Table(title="Pipes (bridge pipe)")
    for column in ("pipe", "source -> target", "forwarded", "failed attempts"):
        numeric = column in ("forwarded", "failed attempts")
        table.add_column(column, justify="right" if numeric else "left")
    for pipe in cloud.pipes:
        route = f"{name_of(pipe.spec.source_arn)} -> {name_of(pipe.spec.target_arn)}"
        table.add_row(pipe.spec.name, route, str(pipe.forwarded), str(pipe.failed))
    return table


def _concurrency(poller: MappingPoller) -> str:
    declared = poller.mapping.maximum_concurrency
    return f"{poller.stats.max_in_flight}/{poller.limit} ({declared or 'none'})"


def _problems(flow: ConsumerFlow) -> str:
    parts = []
    if flow.missing:
        parts.append(f"{len(flow.missing)} missing")
    if flow.applied_twice:
        parts.append(f"{len(flow.applied_twice)} applied twice")
    if flow.unexpected:
        parts.append(f"{len(flow.unexpected)} unexpected")
    if flow.applied & flow.dlq_keys:
        parts.append(f"{len(flow.applied & flow.dlq_keys)} both applied and in DLQ")
    if flow.disagreements:
        parts.append(f"{len(flow.disagreements)} with fields not the event's")
    return "NO: " + ", ".join(parts)


def disagreements_section(flows: list[ConsumerFlow], limit: int = 12) -> RenderableType:
    """Effects that are present but do not match their event, field by field."""
    rows = [(f, key, what) for f in flows for key, whats in f.disagreements.items() for what in whats]
    table = Table(title="Effects that disagree with their event (read back per event, fields included)")
    for column in ("consumer", "key hash", "what"):
        table.add_column(column)
    for flow, key, what in rows[:limit]:
        table.add_row(f"{flow.domain}/{flow.consumer}", key[:12], what[:150])
    if len(rows) > limit:
        table.caption = f"{len(rows) - limit} more not shown"
    return table


def dlq_section(flows: list[ConsumerFlow], limit: int = 12) -> RenderableType:
    table = Table(title="DLQ contents (reason from the consumers' own envelope check)")
    for column in ("consumer", "type", "business key", "receives (+1: this read)", "reason"):
        table.add_column(column)
    shown = 0
    for flow in flows:
        for entry in flow.dlq:
            if shown < limit:
                table.add_row(f"{flow.domain}/{flow.consumer}", entry.detail_type, str(entry.key), str(entry.receive_count), entry.reason[:130])
            shown += 1
    if shown > limit:
        table.caption = f"{shown - limit} more not shown; `python -m ops dlq inspect` lists all"
    return table


def alarms_section(cloud: LocalCloud) -> RenderableType:
    notifications = cloud.read_tap(name_of(cloud.deployment.exports["alarm_topic_arn"]))
    table = Table(title=f"Alarms raised (bridge dlq-alarm); {len(notifications)} notification(s) on the alarm topic")
    table.add_column("alarm")
    table.add_column("depth when raised", justify="right")
    for name, depth in cloud.alarms.raised:
        table.add_row(name, str(depth))
    return table


def latency_section(cloud: LocalCloud) -> RenderableType:
    samples = sorted(s for p in cloud.pollers for s in p.stats.latencies_s)
    if len(samples) < 2:
        return Text("no latency samples")
    cuts = statistics.quantiles(samples, n=100)
    return Text(
        f"End-to-end latency (publish -> handler done), {len(samples)} deliveries: "
        f"p50 {cuts[49] * 1000:.0f} ms, p90 {cuts[89] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms, "
        f"max {samples[-1] * 1000:.0f} ms"
    )


def conservation_line(flows: list[ConsumerFlow]) -> RenderableType:
    routed = sum(len(f.routed) for f in flows)
    applied = sum(len(f.applied) for f in flows)
    dead = sum(len(f.dlq_keys) for f in flows)
    missing = sum(len(f.missing) for f in flows)
    wrong = sum(len(f.disagreements) for f in flows)
    ok = all(f.conserved for f in flows)
    style = "bold green" if ok else "bold red"
    return Text(
        f"Conservation: published-and-routed {routed} = applied {applied} + in DLQ {dead}; "
        f"missing {missing}; applied twice {sum(len(f.applied_twice) for f in flows)}; "
        f"effects not matching their event {wrong} -> {'OK' if ok else 'VIOLATED'}",
        style=style,
    )


def cost_section(stack: str) -> RenderableType:
    """What the stack would cost on AWS at its projected monthly volume (not the demo's)."""
    from costmodel.estimate import load_model
    from costmodel.report.terminal import summary_view

    estimate = load_model(stack).estimate()
    return Group(
        *summary_view(estimate),
        Text(
            f"Every line item with its formula: python -m costmodel estimate --stack {stack} "
            "(--format html for charts)",
            style="dim",
        ),
    )


def flow_report(cloud: LocalCloud, ledger: Ledger, flows: list[ConsumerFlow], timings: dict[str, Any]) -> RenderableType:
    published = len(ledger.events) + len(ledger.republished)
    summary = Text(
        f"Published {published} events ({len(ledger.events)} business events, "
        f"{len(ledger.republished)} re-published duplicates [injected], {len(ledger.poison)} poison "
        f"[injected, bypassing the producer's schema check]) in {timings['publish']:.1f} s; "
        f"drained in {timings['drain']:.1f} s; total {timings['total']:.1f} s"
    )
    return Group(
        summary,
        rules_section(cloud, ledger),
        consumers_section(cloud, flows),
        pipes_section(cloud),
        dlq_section(flows),
        *([disagreements_section(flows)] if any(f.disagreements for f in flows) else []),
        alarms_section(cloud),
        latency_section(cloud),
        conservation_line(flows),
        cost_section(cloud.stack),
    )
