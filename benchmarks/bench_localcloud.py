"""Events per second through the emulated pipeline, and how the time splits between moto and us.

    .venv/bin/python benchmarks/bench_localcloud.py [--events 10000]

CPU time is split three ways: "moto" is moto serving requests (its botocore stub, timed around
each call, in every thread); "handlers" is the consumers' own code (their invocations minus the
moto calls inside them); the rest is localcloud, the producer and boto3 building requests.
Aim on a 2-core machine: the default demo (2,000 events) under a minute, 10,000 under 3 minutes.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moto.core.botocore_stubber import BotocoreStubber  # noqa: E402

from localcloud.demo import publish_and_drain  # noqa: E402
from localcloud.emulator import LocalCloud  # noqa: E402
from localcloud.flow import flows  # noqa: E402
from localcloud.poller import MappingPoller  # noqa: E402
from localcloud.workload import Mix  # noqa: E402


class Timer:
    """CPU time spent inside a wrapped callable, summed over threads.

    CPU time, not wall time: the handlers' record threads call moto at once, and their wall
    times overlap while the GIL serialises them; CPU times add up to the process's.
    """

    def __init__(self) -> None:
        self.total = 0.0
        self._lock = threading.Lock()

    def wrap(self, function):
        timer = self

        def timed(*args, **kwargs):
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                with timer._lock:
                    timer.total += time.thread_time() - started

        return timed


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--events", type=int, default=10_000)
    arguments.add_argument("--stack", default="local")
    args = arguments.parse_args()

    moto = Timer()
    BotocoreStubber.__call__ = moto.wrap(BotocoreStubber.__call__)
    inside_handlers = {"cpu": 0.0, "moto": 0.0}
    call = MappingPoller._call

    def handler_call(self, messages):
        """The invocation's CPU (all its record threads) and the moto part of it."""
        moto_before, cpu_before = moto.total, time.process_time()
        try:
            return call(self, messages)
        finally:
            inside_handlers["cpu"] += time.process_time() - cpu_before
            inside_handlers["moto"] += moto.total - moto_before

    MappingPoller._call = handler_call
    with LocalCloud(args.stack) as cloud:
        moto.total = 0.0  # the deployment is not part of the pipeline
        cpu_started = time.process_time()
        ledger, timings = publish_and_drain(cloud, Mix(events=args.events))
        cpu = time.process_time() - cpu_started
        moto_cpu = moto.total  # before the report's own reads below
        observed = flows(cloud, ledger)
    conserved = all(f.conserved for f in observed)
    wall = timings["total"]
    own_handlers = inside_handlers["cpu"] - inside_handlers["moto"]
    rest = cpu - moto_cpu - own_handlers
    print(f"events published: {len(ledger.events) + len(ledger.republished)} (deliveries to consumers: "
          f"{sum(len(f.routed) for f in observed)} business events routed)")
    print(f"wall: {wall:.1f} s (publish {timings['publish']:.1f} s, drain after publish {timings['drain']:.1f} s)")
    print(f"throughput: {args.events / wall:.0f} events/s")
    print(f"CPU {cpu:.1f} s: moto {moto_cpu:.1f} s ({moto_cpu / cpu:.0%}), handlers' own code "
          f"{own_handlers:.1f} s ({own_handlers / cpu:.0%}), localcloud + producer + boto3 "
          f"{rest:.1f} s ({rest / cpu:.0%})")
    print(f"conservation: {'OK' if conserved else 'VIOLATED'}")
    return 0 if conserved else 1


if __name__ == "__main__":
    sys.exit(main())
