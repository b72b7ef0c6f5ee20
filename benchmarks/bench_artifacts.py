"""The consumers' Lambda artifacts: layer size against Lambda's limit, cold import per entry point.

    .venv/bin/python benchmarks/bench_artifacts.py [--runs 3]

Each architecture's layer is built as `make layer` builds it (timed, into a scratch folder) and
measured unzipped: Lambda caps a function's code plus all its layers at 250 MB unzipped.

Each entry point is then imported by a fresh interpreter in the sandbox (the code archive's files,
the layer built for this interpreter, the runtime-provided SDK; no site-packages), median of
--runs wall times, against a baseline in the same run: the same interpreter running `pass`. As on
Lambda, whose /opt and /var/task are read-only, no bytecode is written: every cold start compiles
the code and the layer it imports (the SDK, like the runtime's, comes with bytecode). The last
column imports again with a warm bytecode cache, which is what shipping bytecode compiled for
Lambda's Python would save; the layer ships none, since bytecode compiled here is for this
interpreter, not Lambda's.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handlers.catalog import HANDLERS  # noqa: E402
from offline.artifacts import (  # noqa: E402
    LAMBDA_PYTHON,
    MACHINES,
    Sandbox,
    build_host_layer,
    build_layer,
    materialize_code,
    stage_runtime,
)

LIMIT_BYTES = 250 * 2**20  # code + layers, unzipped (262,144,000 bytes in Lambda's quotas)
MB = 2**20


def size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def wall_ms(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def report_layers(scratch: Path, code_bytes: int) -> None:
    print(
        f"Dependency layer for Lambda python{LAMBDA_PYTHON}, unzipped; limit 250 MB with the code"
    )
    print(f"  {'architecture':<14} {'build':>7} {'files':>6} {'layer':>9} {'+ code':>9}  of limit")
    for arch in sorted(MACHINES):
        started = time.perf_counter()
        layer = build_layer(arch, scratch / f"layer-{arch}")
        built_s = time.perf_counter() - started
        files = sum(1 for p in layer.rglob("*") if p.is_file())
        total = size(layer) + code_bytes
        print(
            f"  {arch:<14} {built_s:>5.1f} s {files:>6} {size(layer) / MB:>6.2f} MB "
            f"{total / MB:>6.2f} MB  {total / LIMIT_BYTES:>6.1%}"
        )


def report_imports(sandbox: Sandbox, runs: int) -> None:
    baseline = wall_ms(sandbox.argv("pass"), runs)
    print(f"Cold import in the sandbox, median of {runs} fresh interpreters")
    print(f"  baseline (`pass`): {baseline:.0f} ms")
    print(f"  {'entry point':<30} {'no bytecode':>11} {'x baseline':>10} {'warm bytecode':>14}")
    cold = {name: wall_ms(sandbox.argv(f"import handlers.{name}"), runs) for name in HANDLERS}
    # Measured after every cold figure: this writes __pycache__ into the scratch layer and code.
    warm = {}
    for name in HANDLERS:
        writing = [arg for arg in sandbox.argv(f"import handlers.{name}") if arg != "-B"]
        subprocess.run(writing, check=True, capture_output=True)
        warm[name] = wall_ms(sandbox.argv(f"import handlers.{name}"), runs)
    for name in HANDLERS:
        print(
            f"  handlers.{name:<21} {cold[name]:>8.0f} ms {cold[name] / baseline:>9.1f}x "
            f"{warm[name]:>11.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-artifacts-") as tmp:
        scratch = Path(tmp)
        code = materialize_code(scratch / "code")
        print(f"Code archive: {size(code) / MB:.2f} MB unzipped\n")
        report_layers(scratch, size(code))
        print()
        sandbox = Sandbox(code, build_host_layer(scratch / "host"), stage_runtime(scratch / "sdk"))
        report_imports(sandbox, args.runs)


if __name__ == "__main__":
    main()
