"""The demo: deploy the local stack into moto, publish a workload, drain it, print the flow report."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from localcloud import report
from localcloud.emulator import LocalCloud
from localcloud.flow import flows
from localcloud.sandbox import FunctionInitError
from localcloud.workload import Ledger, Mix, drive
from offline.artifacts import ArtifactError


def publish_and_drain(cloud: LocalCloud, mix: Mix, progress: Progress | None = None) -> tuple[Ledger, dict[str, float]]:
    """Publish in chunks, letting the pollers work between chunks as Lambda would, then drain."""
    buses = {d: cloud.deployment.exports[d]["bus_name"] for d in cloud.config.domains}
    started = time.perf_counter()
    publishing = progress.add_task("publishing", total=mix.events) if progress else None
    draining = progress.add_task("draining (messages in queues)", total=None) if progress else None

    def between_chunks(done: int) -> None:
        if progress is not None:
            progress.update(publishing, completed=done)
        # Consume while publishing, as Lambda would: shallow queues also keep moto's receives fast.
        cloud.settle()

    ledger = drive(
        cloud.config, mix, events_client=cloud.events, buses=buses, faults=cloud.faults,
        published_at=cloud.published_at, progress=between_chunks,
    )
    published = time.perf_counter()

    def backlog(left: int) -> None:
        if progress is not None:
            progress.update(draining, description=f"draining: {left} message(s) in queues")

    cloud.drain(progress=backlog)
    finished = time.perf_counter()
    return ledger, {"publish": published - started, "drain": finished - published, "total": finished - started}


def run(stack: str, mix: Mix, console: Console) -> bool:
    """Returns whether every consumer conserved its events; False too, with the reason, when the
    consumers' deployed code cannot run (a layer that cannot be built, or lacks a module)."""
    try:
        return _run(stack, mix, console)
    except (ArtifactError, FunctionInitError) as error:
        # One unwrapped line: the module's name stays whole for whoever searches the log.
        console.print(
            f"[bold red]The consumers cannot run:[/] {error}", highlight=False, soft_wrap=True
        )
        return False


def _run(stack: str, mix: Mix, console: Console) -> bool:
    with LocalCloud(stack) as cloud:
        console.print(report.deploy_section(cloud.deployment.report, cloud.deploy_seconds))
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            ledger, timings = publish_and_drain(cloud, mix, progress)
        observed = flows(cloud, ledger)
        console.print(report.flow_report(cloud, ledger, observed, timings))
        return all(f.conserved for f in observed)
