"""The pinned list is closed for every target; a build is byte-identical and free of the host."""

from __future__ import annotations

import sys
from importlib.metadata import distribution, version

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from components.compute import RUNTIME
from offline.artifacts import (
    LAMBDA_PYTHON,
    MACHINES,
    REQUIREMENTS,
    RUNTIME_PROVIDED,
    build_host_layer,
    build_layer,
    digest,
    pins,
    requirement_lines,
    target_environment,
    unmet,
)

ENVIRONMENTS = {"host": default_environment()} | {
    f"lambda-{arch}": target_environment(arch) for arch in MACHINES
}


def test_layer_targets_the_functions_runtime():
    assert RUNTIME == f"python{LAMBDA_PYTHON}"


@pytest.mark.parametrize("target", sorted(ENVIRONMENTS))
def test_constraints_are_closed(host_layer, target):
    # The host layer holds exactly the pins; markers decide what each target needs of them.
    # (Each Lambda build also runs this check on its own wheels' metadata.)
    assert unmet(host_layer / "python", ENVIRONMENTS[target]) == []


def test_closure_check_names_a_missing_transitive_pin(without):
    site = without("typing-extensions").layer / "python"
    powertools = f"aws-lambda-powertools {pins()['aws-lambda-powertools']}"
    [problem] = unmet(site, target_environment("arm64"))
    assert problem.startswith(f"{powertools} requires typing-extensions")
    assert problem.endswith("which is not pinned")


def test_closure_check_names_a_pin_nothing_requires(without):
    site = without("aws-lambda-powertools").layer / "python"
    root = f"aws-lambda-powertools=={pins()['aws-lambda-powertools']}"
    # Without Powertools only referencing wants typing-extensions, and only below Python 3.13.
    assert unmet(site, target_environment("arm64")) == [
        f"requirements.txt requires {root}, which is not pinned",
        "typing-extensions is pinned but nothing requires it",
    ]
    assert unmet(site, target_environment("arm64", "3.12")) == [
        f"requirements.txt requires {root}, which is not pinned"
    ]


def test_handler_tests_run_the_versions_the_layer_ships():
    # tests/handlers import the handlers' dependencies from this environment, not the layer.
    pinned = pins()
    here = {canonicalize_name(r.name): version(r.name) for r in requirement_lines(REQUIREMENTS)}
    assert here == {name: pinned[name] for name in here}


def test_runtime_sdk_accepts_what_the_layer_shadows():
    # The layer precedes the runtime on sys.path, so botocore imports the layer's jmespath. This
    # environment's boto3 and botocore stand in for the runtime's.
    pinned = pins()
    shared = []
    for name in sorted(RUNTIME_PROVIDED):
        for req in map(Requirement, distribution(name).requires or []):
            dep = canonicalize_name(req.name)
            if dep in pinned and (req.marker is None or req.marker.evaluate({"extra": ""})):
                shared.append(dep)
                assert req.specifier.contains(pinned[dep]), f"{name}: {req}, pinned {pinned[dep]}"
    assert "jmespath" in shared


@pytest.mark.parametrize("arch", sorted(MACHINES))
def test_lambda_layer_has_wheels_for_its_target(tmp_path, arch):
    layer = build_layer(arch, tmp_path / f"layer-{arch}")
    extensions = sorted(p.name for p in layer.rglob("*.so"))
    tag = f".cpython-{LAMBDA_PYTHON.replace('.', '')}-{MACHINES[arch]}-linux-gnu.so"
    assert extensions, "rpds-py and MarkupSafe ship compiled extensions"
    assert [name for name in extensions if not name.endswith(tag)] == []


def test_build_is_byte_identical_and_host_free(tmp_path, host_layer):
    again = build_host_layer(tmp_path / "again")
    assert digest(again) == digest(host_layer)
    files = [p for p in again.rglob("*") if p.is_file()]
    assert [p for p in files if p.suffix == ".pyc" or p.name == "direct_url.json"] == []
    assert not (again / "python" / "bin").exists()
    host = [str(tmp_path).encode(), sys.prefix.encode()]
    assert [p for p in files if any(path in p.read_bytes() for path in host)] == []
