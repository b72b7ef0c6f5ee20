"""The emulator runs what is deployed: a dependency the layer lacks stops `make demo` and names
the module, instead of every message silently reaching a DLQ."""

from __future__ import annotations

import shutil

import pytest

from localcloud import emulator
from localcloud.__main__ import main
from localcloud.sandbox import host_layer


@pytest.fixture
def layer_without_powertools(tmp_path):
    layer = shutil.copytree(host_layer(), tmp_path / "layer")
    site = layer / "python"
    removed = [p for p in site.iterdir() if p.name.startswith("aws_lambda_powertools")]
    assert removed
    for path in removed:
        shutil.rmtree(path)
    return layer


def test_demo_fails_naming_the_module_the_layer_lacks(
    layer_without_powertools, monkeypatch, capsys
):
    monkeypatch.setattr(emulator, "host_layer", lambda: layer_without_powertools)
    assert main(["demo", "--events", "20"]) == 1
    out = capsys.readouterr().out
    assert "The consumers cannot run" in out
    assert "No module named 'aws_lambda_powertools'" in out
