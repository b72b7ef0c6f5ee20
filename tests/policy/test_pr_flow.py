"""The pull-request and deployment workflows: schema-valid, keyless, serialised per stack, and
the cost comment they post renders for a real diff."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
COMMENT_SCRIPT = REPO / ".github" / "scripts" / "cost_comment.py"


def workflow(name: str) -> dict:
    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())


def check_schema(*paths: Path) -> subprocess.CompletedProcess:
    """check-jsonschema with its vendored GitHub workflow schema (no network)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
    )


def test_workflows_validate_against_the_github_schema():
    assert {p.name for p in WORKFLOWS} >= {"pull-request.yml", "deploy.yml", "pulumi-stack.yml"}
    result = check_schema(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_can_fail(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  build:\n    steps:\n      - run: make test\n"
    )  # no runs-on
    assert check_schema(broken).returncode != 0


def test_actions_are_pinned_to_a_major_version():
    uses = re.findall(r"uses:\s*(\S+)", "".join(p.read_text() for p in WORKFLOWS))
    external = [u for u in uses if not u.startswith("./")]
    assert external and all(re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", u) for u in external), external


def test_cloud_credentials_come_from_oidc_only():
    text = "".join(p.read_text() for p in WORKFLOWS)
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    assert "PULUMI_ACCESS_TOKEN" not in text
    stack_steps = workflow("pulumi-stack.yml")["jobs"]["pulumi"]["steps"]
    assert any("role-to-assume" in s.get("with", {}) for s in stack_steps)
    for caller, job in [
        ("pull-request.yml", "preview"),
        ("deploy.yml", "dev"),
        ("deploy.yml", "prod"),
    ]:
        assert workflow(caller)["jobs"][job]["permissions"]["id-token"] == "write"


def test_previews_run_the_policy_pack_and_comment():
    preview = next(
        s
        for s in workflow("pulumi-stack.yml")["jobs"]["pulumi"]["steps"]
        if s.get("uses", "").startswith("pulumi/actions@")
    )
    assert preview["with"]["policyPacks"] == "policy"
    assert preview["with"]["comment-on-pr"] == "${{ inputs.command == 'preview' }}"
    jobs = workflow("pull-request.yml")["jobs"]
    assert jobs["preview"]["needs"] == "test"
    assert jobs["preview"]["strategy"]["matrix"]["stack"] == ["dev", "prod"]


def test_cost_comment_is_sticky():
    steps = workflow("pull-request.yml")["jobs"]["cost"]["steps"]
    sticky = next(s for s in steps if s.get("uses", "").startswith("marocchino/"))
    assert sticky["with"]["header"] == "cost-diff"


def test_deployments_never_overlap_and_prod_waits_for_approval():
    jobs = workflow("deploy.yml")["jobs"]
    for stack in ("dev", "prod"):
        assert jobs[stack]["concurrency"] == {
            "group": f"deploy-{stack}",
            "cancel-in-progress": False,
        }
        assert jobs[stack]["with"] == {"command": "up", "stack": stack, "environment": stack}
    assert jobs["prod"]["needs"] == "dev"
    assert (
        workflow("pulumi-stack.yml")["jobs"]["pulumi"]["environment"] == "${{ inputs.environment }}"
    )


def test_cost_comment_renders_for_a_real_diff(tmp_path):
    estimates = {stack: tmp_path / f"{stack}.json" for stack in ("dev", "prod")}
    # Both estimates at once: each evaluates the program in its own interpreter.
    running = {
        stack: subprocess.Popen(
            [sys.executable, "-m", "costmodel", "estimate", "--stack", stack, "--format", "json"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for stack in estimates
    }
    for stack, process in running.items():
        estimates[stack].write_text(process.communicate()[0])
        assert process.returncode == 0
    comment = subprocess.run(
        [
            sys.executable,
            str(COMMENT_SCRIPT),
            "--stack",
            "dev → prod",
            str(estimates["dev"]),
            str(estimates["prod"]),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert comment.startswith("## Monthly cost change")
    assert "### dev → prod" in comment
    assert "|" in comment.split("### dev → prod", 1)[1]  # the diff's table follows its heading
