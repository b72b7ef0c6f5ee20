"""`make demo`'s pipeline, before and after sandboxing the consumers, in one run.

    .venv/bin/python benchmarks/bench_localcloud.py [--events 2000]

Before: the consumers imported from this venv and run in the emulator's process (the test-only
`LocalCloud(handlers=...)` path, `localcloud.inprocess`), as the emulator ran them until the
sandbox. After: each consumer in its own worker process from its deployed code and layer, calling
moto over HTTP (`localcloud.sandbox`), as `make demo` runs now. Same stack, same workload, same
seed; each run deploys, publishes, drains and reads the flow back, as the demo does.

Injected failures are made by the moto server (`localcloud.downstream` fails a consumer's
side-effect request), which in-process handlers bypass: so before and after are compared
without them, and a third run shows what the default mix's failures cost (each is retried by the
consumer's SDK with its backoff, then redelivered by SQS, as on AWS).

CPU is split where it is spent: the emulator's process (producer, pollers, bridges and the
in-process moto they call; before, also the consumers and their record threads), of which the
moto server's threads (the consumers' requests), and the worker processes (the consumers' own
code and their SDK). Aim on a 2-core machine: the default demo (2,000 events) under a minute.
"""

from __future__ import annotations

import argparse
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handlers.catalog import HANDLERS  # noqa: E402
from localcloud import motoserver  # noqa: E402
from localcloud.demo import publish_and_drain  # noqa: E402
from localcloud.emulator import LocalCloud  # noqa: E402
from localcloud.flow import flows  # noqa: E402
from localcloud.inprocess import load_handler  # noqa: E402
from localcloud.workload import Mix  # noqa: E402


class ServerCpu:
    """CPU time of the moto server's request threads (one thread per request)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._lock = threading.Lock()
        handle = motoserver._QuietHandler.handle
        meter = self

        def timed(request_handler: Any) -> None:
            started = time.thread_time()
            try:
                handle(request_handler)
            finally:
                with meter._lock:
                    meter.total += time.thread_time() - started

        motoserver._QuietHandler.handle = timed


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(stack: str, mix: Mix, server: ServerCpu, **options: Any) -> dict[str, Any]:
    started, workers_before = time.perf_counter(), children_cpu()
    with LocalCloud(stack, **options) as cloud:
        server.total = 0.0
        process_before = time.process_time()
        ledger, timings = publish_and_drain(cloud, mix)
        process_cpu = time.process_time() - process_before
        server_cpu = server.total
        conserved = all(f.conserved for f in flows(cloud, ledger))
        deploy = cloud.deploy_seconds
        invocations = sum(p.stats.invocations for p in cloud.pollers)
    # Workers exit with the cloud: only then does their CPU count as the children's.
    return {
        "demo": time.perf_counter() - started,
        "deploy": deploy,
        "workload": timings["total"],
        "process": process_cpu,
        "server": server_cpu,
        "workers": children_cpu() - workers_before,
        "invocations": invocations,
        "conserved": conserved,
    }


def report(label: str, figures: dict[str, Any], events: int) -> None:
    print(
        f"{label}: demo {figures['demo']:.1f} s wall (deploy {figures['deploy']:.1f} s, publish "
        f"+ drain {figures['workload']:.1f} s, {events / figures['workload']:.0f} events/s); "
        f"CPU: emulator process {figures['process']:.1f} s (moto server threads "
        f"{figures['server']:.1f} s), worker processes {figures['workers']:.1f} s; "
        f"{figures['invocations']} invocations; conservation "
        f"{'OK' if figures['conserved'] else 'VIOLATED'}"
    )


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--events", type=int, default=Mix.events)
    arguments.add_argument("--stack", default="local")
    args = arguments.parse_args()
    server = ServerCpu()
    paths = [f"handlers.{name}.handler" for name in HANDLERS]
    in_process = {path: load_handler(path) for path in paths}
    quiet = Mix(events=args.events, failures=0)
    before = run(args.stack, quiet, server, handlers=in_process)
    report("before (in-process handlers), no injected failures", before, args.events)
    after = run(args.stack, quiet, server)
    report("after (sandboxed workers), no injected failures   ", after, args.events)
    failing = run(args.stack, Mix(events=args.events), server)
    report(f"after, the demo's mix ({Mix.failures:.0%} failures)          ", failing, args.events)
    print(f"demo wall time after / before: {after['demo'] / before['demo']:.2f}; "
          f"with the demo's injected failures / without: {failing['demo'] / after['demo']:.2f}")
    return 0 if all(f["conserved"] for f in (before, after, failing)) else 1


if __name__ == "__main__":
    sys.exit(main())
