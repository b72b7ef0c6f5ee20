"""README's "Add a domain or a consumer", performed as a new user would: in a copy of the
repository, only the files the README shows are written (the schemas, the stack files), then the
commands it names run there, each in its own interpreter: inventory, the diff against HEAD, the
estimate, the cost diff and a 200-event demo that must end with conservation OK.

The blocks come from README.md itself (each follows a `<!-- walkthrough: FILE... -->` line), so
the README cannot drift from what works.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cross_domain import without_domains

ROOT = Path(__file__).resolve().parents[2]
SECTION = "### Add a domain or a consumer"
BLOCK = re.compile(r"<!-- walkthrough: (?P<files>[^>]+?) -->\s*```\w*\n(?P<body>.*?)```", re.DOTALL)
DOMAINS = "eda-platform:domains"


def walkthrough_blocks() -> list[tuple[list[str], str]]:
    text = (ROOT / "README.md").read_text()
    start = text.index(SECTION)
    section = text[start : text.index("\n## ", start)]
    return [(m["files"].split(), m["body"]) for m in BLOCK.finditer(section)]


def merged(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """`change` laid over `base`, mappings merged key by key."""
    result = dict(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def git(repo: Path, *args: str) -> str:
    identity = {"GIT_AUTHOR_NAME": "walkthrough", "GIT_AUTHOR_EMAIL": "walkthrough@example.com",
                "GIT_COMMITTER_NAME": "walkthrough", "GIT_COMMITTER_EMAIL": "walkthrough@example.com"}  # fmt: skip
    done = subprocess.run(["git", *args], cwd=repo, env={**os.environ, **identity},
                          capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A copy of the repository (the working tree's files git does not ignore), committed, with
    the README's edits applied on top."""
    copy = tmp_path_factory.mktemp("walkthrough") / "repo"
    for name in git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0"):
        source = ROOT / name
        if name and source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    # The emulator's layer cache (built from handlers/constraints.txt), not part of the repository.
    if (ROOT / "build" / "localcloud").is_dir():
        (copy / "build").mkdir(exist_ok=True)
        (copy / "build" / "localcloud").symlink_to(ROOT / "build" / "localcloud")
    blocks = walkthrough_blocks()
    assert len(blocks) >= 3, "the README's walkthrough blocks are missing"
    without_the_example(copy, blocks)  # where a user has already added it, start from before
    git(copy, "init", "-q")
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "-m", "as cloned")
    for files, body in blocks:
        for name in files:
            target = copy / name
            if name.endswith(".json"):
                json.loads(body)  # a schema block must be JSON as written
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(body)
            else:
                stack = yaml.safe_load(target.read_text())
                stack["config"][DOMAINS] = merged(stack["config"][DOMAINS], yaml.safe_load(body))
                target.write_text(yaml.safe_dump(stack, sort_keys=False))
    return copy


def without_the_example(copy: Path, blocks: list[tuple[list[str], str]]) -> None:
    """The copy as it was before the README's example: its schema files and the domains it
    declares (with the feeds others take from them) removed."""
    added = set()
    for files, body in blocks:
        for name in files:
            if name.endswith(".json"):
                (copy / name).unlink(missing_ok=True)
            else:
                added |= {d for d, v in yaml.safe_load(body).items() if "source" in v}
    for files, _ in blocks:
        for name in (n for n in files if not n.endswith(".json")):
            stack = yaml.safe_load((copy / name).read_text())
            stack["config"][DOMAINS] = without_domains(stack["config"][DOMAINS], added)
            (copy / name).write_text(yaml.safe_dump(stack, sort_keys=False))


def run(repo: Path, *args: str, timeout: float = 600) -> str:
    """`python -m ...` in the copy, as the README runs it; its output, after checking it ran."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDA_", "PYTHONPATH"))}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", *args], cwd=repo, env=env, check=False,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip
    print(f"{' '.join(args)}: {time.perf_counter() - started:.1f} s")
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_new_domain_is_in_the_inventory_and_the_diff_lists_it_by_name(repo):
    assert "resources in" in run(repo, "offline", "dev")
    diff = run(repo, "offline", "dev", "--diff")
    assert "added    aws:cloudwatch/eventBus:EventBus::shipping-routing-bus\n" in diff
    assert "added    aws:cloudwatch/eventRule:EventRule::shipping-routing-rule-orders-analytics\n" in diff
    # Its key and EVENT_DOMAINS changed.
    assert "changed  aws:lambda/function:Function::orders-analytics-function\n" in diff


def test_the_estimate_prices_it_and_the_cost_diff_shows_the_increase(repo):
    assert "shipping" in run(repo, "costmodel", "estimate", "--stack", "dev")
    assert "+$" in run(repo, "costmodel", "diff", "HEAD:dev", "dev")


def test_a_200_event_demo_sends_the_new_types_and_conserves_them(repo):
    shown = run(repo, "localcloud", "demo", "--events", "200")
    assert re.search(r"Conservation: .* -> OK", shown), shown[-3000:]
    # Events per rule: shipping's own consumer and orders' analytics on shipping's bus got some.
    for rule in ("tracking", "orders-analytics"):
        routed = re.search(rf"│ shipping\s+│ {rule}\s+│[^│]+│\s+(\d+) │", shown)
        assert routed and int(routed[1]) > 0, f"no shipping events routed to {rule}:\n{shown[:6000]}"
