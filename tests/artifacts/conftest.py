"""One host layer per session (a pip build, a few seconds), and the sandbox that imports it.

A build that cannot reach the package index fails the fixture with pip's reason: these tests
never skip."""

from __future__ import annotations

import shutil
from dataclasses import replace
from importlib.metadata import distributions
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from offline.artifacts import (
    Sandbox,
    build_host_layer,
    materialize_code,
    stage_runtime,
    top_level,
)


@pytest.fixture(scope="session")
def host_layer(tmp_path_factory) -> Path:
    return build_host_layer(tmp_path_factory.mktemp("artifacts") / "layer")


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory, host_layer) -> Sandbox:
    root = tmp_path_factory.mktemp("sandbox")
    return Sandbox(materialize_code(root / "code"), host_layer, stage_runtime(root / "runtime"))


@pytest.fixture
def without(tmp_path, host_layer, sandbox):
    """`without("name")`: the sandbox over a copy of the layer with that distribution removed."""

    def remove(name: str) -> Sandbox:
        layer = shutil.copytree(host_layer, tmp_path / f"without-{name}")
        site = layer / "python"
        (dist,) = [
            d
            for d in distributions(path=[str(site)])
            if canonicalize_name(d.metadata["Name"]) == name
        ]
        for top in top_level(dist):
            path = site / top
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        return replace(sandbox, layer=layer)

    return remove
