"""Cost model end to end: the shipped prod stack and a generated 100-domain stack.

    .venv/bin/python benchmarks/bench_costmodel.py [--domains 100] [--profile]

Per stack: capture (the real program under Pulumi mocks, then resources with references),
model (routing topology), estimate (propagation, usages, pricing), each in seconds, and the time
per captured resource. Then the 50-point volume sweep (one vectorised pricing pass) against a
loop of 50 single-point totals (`Model.total(scale)`, which re-propagates and re-prices each
time), measured in the same process.

The generated stack is N copies of the shipped domains, cycled, each with a unique name and
source, passed to the program as namespaced config the way the CLI passes it. A domain's schemas
are read from schemas/<domain>/, which the copies do not have: for the run, EDA_SCHEMAS_DIR
(`settings.load.schema_root`) names a temporary folder in which every domain's folder links to
the shipped domain's folder it copies. Nothing in the repository is written.

Targets: prod under 3 s end to end, 100 domains under 30 s.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from costmodel.estimate import load_model
from costmodel.resources import from_offline
from costmodel.scale import VOLUMES, sweep
from costmodel.scenarios import cli_config
from settings import load

PROJECT = load.PROJECT
SHIPPED = "prod"


def generated_config(domains: int) -> tuple[dict, dict[str, str]]:
    """Namespaced config with `domains` copies of the shipped domains, and copy -> original."""
    values = load.stack_values(SHIPPED)
    shipped = values[f"{PROJECT}:domains"]
    copies, origin = {}, {}
    for i in range(domains):
        name = list(shipped)[i % len(shipped)]
        copy_name = f"{name[:12]}-{i:03d}"
        copies[copy_name] = {**shipped[name], "source": f"{shipped[name]['source']}.copy{i:03d}"}
        origin[copy_name] = name
    # The copies' reservations add up past the default account quota, which the config refuses
    # (AWS keeps 100 unreserved): declare an account quota that fits them.
    reserved = sum(
        consumer.get("reserved_concurrency", 50)
        for domain in copies.values()
        for consumer in domain.get("consumers", {}).values()
    )
    return {
        **values,
        f"{PROJECT}:domains": copies,
        f"{PROJECT}:lambda_account_concurrency": reserved + 100,
    }, origin


@contextlib.contextmanager
def schemas_for(origin: dict[str, str]):
    """Point schema look-ups at a temporary tree where each copy links to its original's schemas."""
    shipped_schemas = load.schema_root()
    with tempfile.TemporaryDirectory(prefix="bench-schemas-") as tmp:
        for copy_name, name in origin.items():
            (Path(tmp) / copy_name).symlink_to(shipped_schemas / name, target_is_directory=True)
        os.environ[load.SCHEMAS_VARIABLE] = tmp
        try:
            yield
        finally:
            del os.environ[load.SCHEMAS_VARIABLE]


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def bench(stack: str, values: dict | None) -> None:
    """Time one stack: the shipped file's (values None) or namespaced config `values`."""
    resources, capture_s = timed(from_offline, stack, values and cli_config(values))
    parsed = values and load.parse(values, stack=stack, origin="generated config")
    model, model_s = timed(load_model, stack, config=parsed, resources=resources)
    estimate, estimate_s = timed(model.estimate)
    total_s = capture_s + model_s + estimate_s
    print(
        f"\n{stack}: {len(model.config.domains)} domains, {len(resources)} resources, "
        f"{len(estimate.items)} line items, ${estimate.total:,.2f}/month"
    )
    print(
        f"  capture   {capture_s:7.3f} s   ({capture_s / len(resources) * 1e3:.2f} ms per resource)"
    )
    print(f"  model     {model_s:7.3f} s")
    print(f"  estimate  {estimate_s:7.3f} s")
    print(f"  total     {total_s:7.3f} s   ({total_s / len(resources) * 1e3:.2f} ms per resource)")
    frame, sweep_s = timed(sweep, model, VOLUMES)
    scales = VOLUMES / model.configured_events
    loop, loop_s = timed(lambda: [float(model.total(s)) for s in scales])
    assert all(abs(a - b) <= 1e-6 * b for a, b in zip(frame.total, loop)), "sweep != loop"
    print(
        f"  sweep of {len(VOLUMES)} points {sweep_s:7.3f} s vs a loop of {len(VOLUMES)} totals "
        f"{loop_s:7.3f} s: {loop_s / sweep_s:,.0f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="cProfile the generated stack's run")
    args = parser.parse_args()
    bench(SHIPPED, None)
    config, origin = generated_config(args.domains)
    with schemas_for(origin):
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(bench, f"gen{args.domains}", config)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        else:
            bench(f"gen{args.domains}", config)


if __name__ == "__main__":
    main()
