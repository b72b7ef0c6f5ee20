"""The workflows pass actionlint (with shellcheck on every `run:` script) and zizmor's offline
audits, at zizmor's default persona and every severity. Both linters are shown to catch a
deliberately broken workflow, so a pass means they looked. Offline: the tools come from
requirements-dev.txt, nothing is fetched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORKFLOW_DIR = REPO / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))
# The venv's own tools first: actionlint runs whichever shellcheck it finds on PATH.
BIN = Path(sys.executable).parent


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    env["NO_COLOR"] = "1"
    return env


def tool(name: str) -> str:
    path = shutil.which(name, path=environment()["PATH"])
    assert path, f"{name} is not installed: pip install -r requirements-dev.txt"
    return path


def actionlint(*paths: Path, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), *map(str, paths)],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        check=False,
        text=True,
    )


def zizmor(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--strict-collection", *map(str, paths)],
        cwd=REPO,
        env=environment(),
        capture_output=True,
        check=False,
        text=True,
    )


BROKEN = """\
name: Broken
on: pull_request
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}" $UNQUOTED
"""


def test_workflows_pass_actionlint():
    assert WORKFLOWS
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_pass_zizmor_offline():
    result = zizmor(WORKFLOW_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout + result.stderr


def test_actionlint_catches_injection_and_shell_mistakes(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN)
    result = actionlint(broken, cwd=tmp_path)
    assert result.returncode != 0
    assert "github.event.pull_request.title" in result.stdout  # untrusted input in a script
    assert "SC2086" in result.stdout  # shellcheck ran on the run: script


def test_zizmor_catches_unpinned_actions_and_template_injection(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN)
    result = zizmor(broken)
    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout
    assert "template-injection" in result.stdout
