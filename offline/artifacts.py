"""The consumers' Lambda artifacts, built reproducibly: the dependency layer and the code.

    python -m offline.artifacts layer [--arch arm64 --arch x86_64]   # what `make layer` runs
    python -m offline.artifacts lock    # re-pin handlers/constraints.txt from requirements.txt

The layer holds exactly the pins in handlers/constraints.txt, installed with --no-deps (nothing
unpinned can enter), from wheels only, without bytecode (a .pyc compiled here is for this
interpreter, not Lambda's, and records its source file's mtime). A build fails unless the pinned set is
closed for its target: every requirement of every installed distribution, markers evaluated for
that Python, OS and machine, is met by a pin or by the runtime. Two builds are byte-identical.

A `Sandbox` runs an interpreter that sees only what a deployed function sees: the code archive's
files, the layer, and the packages the Lambda runtime provides. Tests and benchmarks import the
consumers there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import Distribution, distribution, distributions
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from components.packaging import code_files, layer_path
from settings.load import ROOT

REQUIREMENTS = ROOT / "handlers" / "requirements.txt"
CONSTRAINTS = ROOT / "handlers" / "constraints.txt"
# components.compute.RUNTIME, without importing pulumi_aws for it; tests/artifacts checks both.
LAMBDA_PYTHON = "3.14"
MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}  # Lambda architecture -> wheel platform
# "The Lambda Python runtimes include the AWS SDK for Python (Boto3) and its dependencies"
# (Lambda developer guide). A copy in the layer would shadow the runtime's and can break the SDK
# when Lambda updates it, so these stay out. jmespath is such a dependency too, but the layer pins
# it: the handlers and Powertools' idempotency derive keys with it, and a key must not change
# under a deployed function (botocore accepts any jmespath 1.x; tests/artifacts checks that).
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "python-dateutil", "six", "urllib3"}
)
LOCK_HEADER = """\
# The dependency layer's full contents, one pin per distribution: requirements.txt resolved for
# Lambda's python{python} on {archs} by `python -m offline.artifacts lock` (regenerate, do
# not edit). `make layer` installs exactly this list with --no-deps; the build and tests/artifacts
# fail if it is not closed. Left to the Lambda runtime, which provides them:
# {provided}.
"""


class ArtifactError(RuntimeError):
    """A layer that cannot be built, or would be incomplete."""


def requirement_lines(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def pins() -> dict[str, str]:
    """constraints.txt as canonical name -> version. Anything but `name==version` is an error:
    pip would install a range too, and --no-deps would not stop what it lets in."""
    found = {}
    for req in requirement_lines(CONSTRAINTS):
        specs = list(req.specifier)
        exact = len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version
        if not exact or req.extras or req.marker:
            raise ArtifactError(f"{CONSTRAINTS.name}: {req} is not a plain `name==version` pin")
        found[canonicalize_name(req.name)] = specs[0].version
    return found


def target_environment(arch: str, python_version: str = LAMBDA_PYTHON) -> dict[str, str]:
    """Marker values on Lambda (Amazon Linux, CPython) for `arch`, as pip's target flags mean."""
    return default_environment() | {
        "python_version": python_version,
        "python_full_version": f"{python_version}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": MACHINES[arch],
    }


def _needs(dist: Distribution, environment: dict[str, str], extra: str) -> list[Requirement]:
    requirements = [Requirement(line) for line in dist.requires or []]
    return [
        r
        for r in requirements
        if r.marker is None or r.marker.evaluate(environment | {"extra": extra})
    ]


def unmet(site: Path, environment: dict[str, str]) -> list[str]:
    """Why the distributions installed at `site` are not exactly the closure of requirements.txt
    in `environment`: a requirement no pin (or the runtime) meets, or a pin nothing requires."""
    installed = {canonicalize_name(d.metadata["Name"]): d for d in distributions(path=[str(site)])}
    roots = [
        r
        for r in requirement_lines(REQUIREMENTS)
        if r.marker is None or r.marker.evaluate(environment)
    ]
    todo = [("requirements.txt", r) for r in roots]
    reached: set[tuple[str, str]] = set()
    problems = []
    while todo:
        wanted_by, req = todo.pop()
        name = canonicalize_name(req.name)
        if name in RUNTIME_PROVIDED:
            continue
        dist = installed.get(name)
        if dist is None:
            problems.append(f"{wanted_by} requires {req}, which is not pinned")
            continue
        if not req.specifier.contains(dist.version, prereleases=True):
            problems.append(f"{wanted_by} requires {req}, but {dist.version} is pinned")
        for extra in {"", *req.extras}:
            if (name, extra) not in reached:
                reached.add((name, extra))
                todo += [(f"{name} {dist.version}", r) for r in _needs(dist, environment, extra)]
    unused = sorted(set(installed) - {name for name, _ in reached})
    return problems + [f"{name} is pinned but nothing requires it" for name in unused]


def _pip(*args: str) -> str:
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise ArtifactError(
            f"pip failed ({done.returncode}); is the package index reachable, and does every pin "
            f"have a wheel for this target?\n$ {' '.join(command)}\n{tail}"
        )
    return done.stdout


def _drop_scripts(site: Path) -> None:
    """pip writes console scripts to <target>/bin with this interpreter's path in the shebang:
    nothing on Lambda runs them, and they would make the layer differ per checkout. Their RECORD
    lines (`../../bin/...`) go too, so RECORD is the same everywhere."""
    shutil.rmtree(site / "bin", ignore_errors=True)
    for record in site.glob("*.dist-info/RECORD"):
        lines = record.read_text().splitlines(keepends=True)
        record.write_text("".join(line for line in lines if not line.startswith("../")))


def _build(target: Path, environment: dict[str, str], *flags: str) -> Path:
    # Built beside the target and moved into place at the end: a failed build never leaves a
    # half-filled layer where `layer_dir` (and so `pulumi up`) would accept it.
    partial = target.with_name(f"{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    site = partial / "python"
    pins()  # refuses a range before pip sees it
    _pip(
        "install", "--quiet", "--no-compile", "--no-deps", "--only-binary=:all:",
        "--target", str(site), "-r", str(CONSTRAINTS), *flags,
    )  # fmt: skip
    _drop_scripts(site)
    problems = unmet(site, environment)
    if problems:
        raise ArtifactError(f"{CONSTRAINTS.name} is not closed:\n  " + "\n  ".join(problems))
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def _target_flags(arch: str, python_version: str) -> tuple[str, ...]:
    """Wheels for Lambda's CPython on `arch`. manylinux2014 (glibc 2.17) is what every pinned
    compiled distribution ships; Amazon Linux 2023 (glibc 2.34) runs it."""
    platform = f"manylinux2014_{MACHINES[arch]}"
    return ("--platform", platform, "--python-version", python_version, "--implementation", "cp")


def build_layer(arch: str, target: Path, python_version: str = LAMBDA_PYTHON) -> Path:
    """The layer for Lambda's `arch` at `target` (replaced): `target`/python holds the pins."""
    flags = _target_flags(arch, python_version)
    return _build(target, target_environment(arch, python_version), *flags)


def build_host_layer(target: Path) -> Path:
    """The same pins for this interpreter, which can import them (sandbox, emulator, tests)."""
    return _build(target, default_environment())


def materialize_code(target: Path) -> Path:
    """Write exactly the files `handler_code()` archives, under their archive names."""
    for name, source in code_files().items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
    return target


def top_level(dist: Distribution) -> list[str]:
    """The names a distribution puts in site-packages: packages, modules, its .dist-info."""
    return sorted({f.parts[0] for f in dist.files or []} - {"..", "__pycache__"})


def stage_runtime(target: Path) -> Path:
    """Link this environment's copies of what the Lambda runtime provides (and nothing else)
    into `target`, with their metadata, as the runtime's site-packages holds them."""
    target.mkdir(parents=True, exist_ok=True)
    for name in sorted(RUNTIME_PROVIDED):
        dist = distribution(name)
        for top in top_level(dist):
            link = target / top
            if not link.exists():
                link.symlink_to(Path(dist.locate_file(top)).resolve())
    return target


def digest(root: Path) -> str:
    """sha256 over sorted relative paths and contents: what Pulumi's archive hash depends on."""
    files = sorted((p.relative_to(root).as_posix(), p) for p in root.rglob("*") if p.is_file())
    hasher = hashlib.sha256()
    for name, path in files:
        hasher.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return hasher.hexdigest()


@dataclass(frozen=True)
class Sandbox:
    """An interpreter that sees a deployed function's view: code, layer, runtime-provided
    packages and the standard library, nothing else (-I: no user site, PYTHON* or cwd; -S: no
    site-packages). -B because Lambda's /var/task and /opt are read-only: nothing is cached."""

    code: Path
    layer: Path  # the layer's root; Lambda mounts it at /opt and puts /opt/python on sys.path
    runtime: Path

    @property
    def path(self) -> list[str]:
        return [str(self.code), str(self.layer / "python"), str(self.runtime)]

    def argv(self, source: str) -> list[str]:
        prelude = f"import sys; sys.path[:0] = {self.path!r}\n"
        return [sys.executable, "-I", "-S", "-B", "-c", prelude + source]

    def run(self, source: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(source), check=False, capture_output=True, text=True)


def _resolve(arch: str) -> list[tuple[str, str]]:
    """pip's resolution of requirements.txt for Lambda's `arch`: (name, version) per install."""
    report = _pip(
        "install", "--quiet", "--dry-run", "--ignore-installed", "--report", "-",
        "--only-binary=:all:", *_target_flags(arch, LAMBDA_PYTHON), "-r", str(REQUIREMENTS),
    )  # fmt: skip
    return [
        (canonicalize_name(item["metadata"]["name"]), item["metadata"]["version"])
        for item in json.loads(report)["install"]
    ]


def lock() -> Path:
    """Rewrite constraints.txt with the closure of requirements.txt for every architecture."""
    versions: dict[str, set[str]] = {}
    for arch in MACHINES:
        for name, version in _resolve(arch):
            versions.setdefault(name, set()).add(version)
    split = {name: found for name, found in versions.items() if len(found) > 1}
    if split:
        raise ArtifactError(f"architectures resolve to different versions: {split}")
    header = LOCK_HEADER.format(
        python=LAMBDA_PYTHON,
        archs=" and ".join(MACHINES),
        provided=", ".join(sorted(RUNTIME_PROVIDED)),
    )
    lines = [
        f"{name}=={found.pop()}"
        for name, found in sorted(versions.items())
        if name not in RUNTIME_PROVIDED
    ]
    CONSTRAINTS.write_text(header + "\n".join(lines) + "\n")
    return CONSTRAINTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m offline.artifacts", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    layer = commands.add_parser("layer", help="build the dependency layer under build/layer-<arch>")
    layer.add_argument("--arch", action="append", choices=sorted(MACHINES), help="default: all")
    commands.add_parser(
        "lock", help="re-pin handlers/constraints.txt from handlers/requirements.txt"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "lock":
            print(f"wrote {lock().relative_to(ROOT)}")
        else:
            for arch in args.arch or sorted(MACHINES):
                target = build_layer(arch, layer_path(arch))
                print(f"built {target}: sha256 of names and contents {digest(target)}")
    except ArtifactError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
