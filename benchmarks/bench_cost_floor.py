"""The cost floor (issue #12): a stack's modelled monthly cost against the floor for its own
deliveries with the same guarantees, per service.

    .venv/bin/python benchmarks/bench_cost_floor.py [--stack prod]

Both are priced in the same run from the same model (`costmodel.estimate.load_model`): the same
propagated volumes, catalogue (the stack's preset and region) and free-tier setting. The floor
(`costmodel.floor`) is the model's usage list with one conditional DynamoDB write per delivery,
full batches on standard queues (FIFO at the stack's batch fill), one archival S3 PUT per audit
batch, the DLQ depth alarms only, no custom metrics, no KMS and no SNS hop where a rule can
route; everything else is the model's own line.

Target: prod modelled ÷ floor <= 1.15.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from costmodel.estimate import load_model  # noqa: E402
from costmodel.floor import compare  # noqa: E402

TARGET = {"prod": 1.15}


def bench(stack: str) -> float:
    start = time.perf_counter()
    model = load_model(stack)
    comparison = compare(model)
    elapsed = time.perf_counter() - start
    modelled, floor = comparison.modelled, comparison.floor
    print(
        f"\n{stack}: {modelled.preset}, {modelled.region}, free tier "
        f"{'on' if modelled.free_tier else 'off'}, {modelled.monthly_events:,.0f} events/month "
        f"({elapsed:.2f} s)"
    )
    print(f"  {'service':<22} {'modelled':>10} {'floor':>10} {'gap':>9}  modelled ÷ floor")
    for service, row in comparison.by_service().iterrows():
        ratio = "—  (floor $0)" if math.isnan(row.ratio) else f"{row.ratio:.3f}"
        print(
            f"  {service:<22} {row.modelled:>10.2f} {row.floor:>10.2f} "
            f"{row.modelled - row.floor:>9.2f}  {ratio}"
        )
    print(
        f"  {'total':<22} {modelled.total:>10.2f} {floor.total:>10.2f} "
        f"{modelled.total - floor.total:>9.2f}  {comparison.ratio:.3f}"
    )
    target = TARGET.get(stack)
    verdict = "" if target is None else (
        f" (target <= {target:g}: {'met' if comparison.ratio <= target else 'NOT met'})"
    )
    print(f"  USD a month; modelled ÷ floor = {comparison.ratio:.3f}{verdict}")
    return comparison.ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod")
    bench(parser.parse_args().stack)


if __name__ == "__main__":
    main()
