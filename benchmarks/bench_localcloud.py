"""Events per second through the emulated pipeline, and how the time splits between moto and us.

    .venv/bin/python benchmarks/bench_localcloud.py [--events 10000]

"moto" is the time moto spends serving requests (its botocore stub, timed around each call);
"handlers" is the consumers' own time (their invocations minus the moto calls inside them);
"localcloud + boto3" is the rest: the producer, pollers, bridges, and boto3's request building.
Aim on a 2-core machine: the default demo (3,000 events) under a minute, 10,000 under 3 minutes.
"""

from __future__ import annotations

import argparse
import sys
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
    """Wall time spent inside a wrapped callable, and the part of it nested in another timer."""

    def __init__(self) -> None:
        self.total = 0.0
        self.depth = 0

    def wrap(self, function):
        timer = self

        def timed(*args, **kwargs):
            if timer.depth:
                return function(*args, **kwargs)
            timer.depth += 1
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timer.total += time.perf_counter() - started
                timer.depth -= 1

        return timed


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--events", type=int, default=10_000)
    arguments.add_argument("--stack", default="local")
    args = arguments.parse_args()

    moto, handlers, moto_in_handlers = Timer(), Timer(), Timer()
    serve = BotocoreStubber.__call__
    BotocoreStubber.__call__ = moto.wrap(serve)
    call = MappingPoller._call

    def handler_call(self, messages):
        before = moto.total
        started = time.perf_counter()
        try:
            return call(self, messages)
        finally:
            handlers.total += time.perf_counter() - started
            moto_in_handlers.total += moto.total - before

    MappingPoller._call = handler_call
    with LocalCloud(args.stack) as cloud:
        ledger, timings = publish_and_drain(cloud, Mix(events=args.events))
        observed = flows(cloud, ledger)
    conserved = all(f.conserved for f in observed)
    wall = timings["total"]
    own_handlers = handlers.total - moto_in_handlers.total
    rest = wall - moto.total - own_handlers
    print(f"events published: {len(ledger.events) + len(ledger.republished)} (deliveries to consumers: "
          f"{sum(len(f.routed) for f in observed)} business events routed)")
    print(f"wall: {wall:.1f} s (publish {timings['publish']:.1f} s, drain after publish {timings['drain']:.1f} s)")
    print(f"throughput: {args.events / wall:.0f} events/s")
    print(f"moto: {moto.total:.1f} s ({moto.total / wall:.0%}); handlers' own code: {own_handlers:.1f} s "
          f"({own_handlers / wall:.0%}); localcloud + boto3 + waiting: {rest:.1f} s ({rest / wall:.0%})")
    print(f"conservation: {'OK' if conserved else 'VIOLATED'}")
    return 0 if conserved else 1


if __name__ == "__main__":
    sys.exit(main())
