"""The pull-request and deployment workflows: schema-valid, pinned, keyless, what a reviewer sees
(the preview comment on failure too, forks included), who may deploy (main only, scoped tokens,
each stack in its own account), serialised per stack, priced against the right commits, and the
cost comment they post renders for a real diff.

The shell steps that make decisions (the environment check, the preview comment, the base
checkout) are run here as written in the workflow, not re-described."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
COMMENT_SCRIPT = REPO / ".github" / "scripts" / "cost_comment.py"

SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"
ON_MAIN = "github.ref == 'refs/heads/main'"


def workflow(name: str) -> dict:
    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())


def steps(name: str, job: str) -> list[dict]:
    return workflow(name)["jobs"][job]["steps"]


def step(name: str, job: str, *, named: str = "", uses: str = "") -> dict:
    found = [
        s
        for s in steps(name, job)
        if (named and s.get("name") == named) or (uses and s.get("uses", "").startswith(uses))
    ]
    assert len(found) == 1, (named or uses, found)
    return found[0]


def stack_step(**kw) -> dict:
    return step("pulumi-stack.yml", "pulumi", **kw)


def run_script(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """A run: step as the runner executes it (bash -e -o pipefail)."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        check=False,
        text=True,
    )


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
        check=False,
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


# --- supply chain -------------------------------------------------------------------------------

PINNED = re.compile(r"uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$")


def test_actions_are_pinned_to_full_commit_shas_with_their_release():
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            ref = re.search(r"uses:\s*(\S+)", line)
            if not ref or ref.group(1).startswith(("$/", "./")):
                continue
            match = PINNED.search(line.strip())
            assert match, f"{path.name}: {line.strip()} (want owner/repo@<40-hex sha> # vX.Y.Z)"
            pins.setdefault(match.group(1), set()).add(match.groups()[1:])
    assert {"actions/checkout", "pulumi/actions", "aws-actions/configure-aws-credentials"} <= set(
        pins
    )
    # One reviewed release per action across all workflows.
    assert all(len(versions) == 1 for versions in pins.values()), pins


def test_checkouts_do_not_persist_credentials():
    checkouts = [
        s
        for path in WORKFLOWS
        for job in yaml.safe_load(path.read_text())["jobs"].values()
        for s in job.get("steps", [])
        if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert len(checkouts) >= 3
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_pulumi_cli_is_pinned_to_the_sdk_version():
    sdk = re.search(
        r"^pulumi==(\S+)$", (REPO / "requirements.txt").read_text(), re.MULTILINE
    ).group(1)
    install = stack_step(uses="pulumi/actions@")
    assert "command" not in install["with"]  # install only: the operations are plain steps
    assert str(install["with"]["pulumi-version"]) == sdk


def test_no_expression_is_interpolated_into_a_script():
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for s in job.get("steps", []):
                assert "${{" not in s.get("run", ""), (path.name, s.get("name"), s["run"])
    gate = step("pull-request.yml", "cost", named="Cost gate")
    assert gate["env"]["COST_FAIL_ABOVE_USD"] == "${{ vars.COST_FAIL_ABOVE_USD }}"
    assert '"$COST_FAIL_ABOVE_USD"' in gate["run"]


# --- credentials ---------------------------------------------------------------------------------


def test_cloud_credentials_come_from_oidc_only():
    text = "".join(p.read_text() for p in WORKFLOWS)
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    assert "PULUMI_ACCESS_TOKEN" not in text
    aws = stack_step(uses="aws-actions/configure-aws-credentials@")
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert aws["with"]["allowed-account-ids"] == "${{ vars.AWS_ACCOUNT_ID }}"
    for caller, job in [
        ("pull-request.yml", "preview"),
        ("deploy.yml", "dev"),
        ("deploy.yml", "prod"),
    ]:
        assert workflow(caller)["jobs"][job]["permissions"]["id-token"] == "write"
    for caller in ("pull-request.yml", "deploy.yml"):
        assert workflow(caller)["permissions"] == {}  # jobs ask for what they need


def test_each_stack_is_previewed_in_its_own_environment():
    preview = workflow("pull-request.yml")["jobs"]["preview"]
    assert preview["with"]["environment"] == "preview-${{ matrix.stack }}"
    assert preview["with"]["stack"] == "${{ matrix.stack }}"
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "prod"]


GUARD_ENV = {
    "COMMAND": "preview",
    "STACK": "prod",
    "ENVIRONMENT": "preview-prod",
    "PULUMI_ORG": "acme",
    "AWS_ROLE_ARN": "arn:aws:iam::222222222222:role/eda-preview",
    "AWS_ACCOUNT_ID": "222222222222",
    "PULUMI_TOKEN_SCOPE": "team:ci-preview-prod",
    "GITHUB_REF": "refs/pull/7/merge",
}


@pytest.mark.parametrize(
    "change, token_type, error",
    [
        ({}, "team", None),
        ({"PULUMI_TOKEN_SCOPE": "user:ci-bot"}, "personal", None),
        ({"PULUMI_TOKEN_SCOPE": ""}, None, "admin token"),
        ({"PULUMI_TOKEN_SCOPE": "org"}, None, "team:NAME or user:NAME"),
        ({"ENVIRONMENT": "prod"}, None, "runs in environment preview-prod"),
        ({"AWS_ACCOUNT_ID": "111111111111"}, None, "not a role in account 111111111111"),
        ({"AWS_ROLE_ARN": ""}, None, "no AWS_ROLE_ARN"),
        ({"COMMAND": "destroy"}, None, "unknown command"),
        (
            {"COMMAND": "up", "ENVIRONMENT": "prod", "GITHUB_REF": "refs/heads/main"},
            "team",
            None,
        ),
        (
            {
                "COMMAND": "up",
                "ENVIRONMENT": "prod",
                "GITHUB_REF": "refs/heads/main",
                "PULUMI_TOKEN_SCOPE": "",
            },
            "organization",
            None,
        ),
        (
            {"COMMAND": "up", "ENVIRONMENT": "prod", "GITHUB_REF": "refs/heads/wip"},
            None,
            "from main only",
        ),
    ],
)
def test_environment_check_fails_closed(tmp_path, change, token_type, error):
    guard = stack_step(named="Check the environment")
    assert guard["id"] == "guard"
    assert set(guard["env"]) >= set(GUARD_ENV) - {"GITHUB_REF"}
    output = tmp_path / "output"
    output.touch()
    env = {**GUARD_ENV, **change, "GITHUB_OUTPUT": str(output)}
    result = run_script(guard["run"], env, tmp_path)
    if error:
        assert result.returncode != 0
        assert error in result.stdout
        assert "token-type" not in output.read_text()
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert output.read_text() == f"token-type=urn:pulumi:token-type:access_token:{token_type}\n"


def test_pulumi_token_is_the_one_the_check_chose():
    token = stack_step(uses="pulumi/auth-actions@")
    assert token["with"]["requested-token-type"] == "${{ steps.guard.outputs.token-type }}"
    assert token["with"]["scope"] == "${{ vars.PULUMI_TOKEN_SCOPE }}"
    order = [s.get("name") or s["uses"].split("@")[0] for s in steps("pulumi-stack.yml", "pulumi")]
    assert order[0] == "Check the environment"  # before anything authenticates


# --- the preview comment -------------------------------------------------------------------------


def test_previews_run_the_policy_pack_in_a_plain_step():
    preview = stack_step(named="pulumi preview")
    assert preview["if"] == "inputs.command == 'preview'"
    assert "set -o pipefail" in preview["run"]
    assert re.search(
        r'pulumi preview --stack "\$PULUMI_STACK" --policy-pack policy', preview["run"]
    )
    assert '| tee "$RUNNER_TEMP/preview.txt"' in preview["run"]
    jobs = workflow("pull-request.yml")["jobs"]
    assert jobs["preview"]["needs"] == "test"
    assert jobs["preview"]["with"]["command"] == "preview"


def test_preview_comment_is_posted_whatever_the_outcome():
    render = stack_step(named="Preview comment")
    post = stack_step(uses="marocchino/sticky-pull-request-comment@")
    for s in (render, post):
        # Not success(): the comment must replace an earlier clean one when the preview fails.
        assert s["if"] == "${{ !cancelled() && inputs.command == 'preview' }}"
    assert render["env"]["OUTCOME"] == "${{ steps.preview.outcome }}"
    assert post["with"] == {
        "header": "preview-${{ inputs.stack }}",
        "path": "${{ runner.temp }}/preview-comment.md",
    }
    names = [s.get("name") for s in steps("pulumi-stack.yml", "pulumi")]
    assert (
        names.index("pulumi preview")
        < names.index("Preview comment")
        < names.index("Post the preview comment")
    )


def render_preview_comment(tmp_path, outcome: str, output: str | None) -> str:
    if output is not None:
        (tmp_path / "preview.txt").write_text(output)
    env = {
        "STACK": "prod",
        "OUTCOME": outcome,
        "HEAD_SHA": "0123456789abcdef" * 2 + "01234567",
        "RUN_URL": "https://github.example/runs/1",
        "RUNNER_TEMP": str(tmp_path),
    }
    result = run_script(stack_step(named="Preview comment")["run"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return (tmp_path / "preview-comment.md").read_text()


def test_a_guardrail_violation_reaches_the_pull_request(tmp_path):
    violation = (
        "Policy Violations:\n    [mandatory]  eda-guardrails v1  visibility-timeout-covers-function"
        "\n    queue prod-orders-processor: visibilityTimeoutSeconds=60 < 6 x 30 s\n"
    )
    comment = render_preview_comment(tmp_path, "failure", "Previewing update (prod)\n" + violation)
    assert comment.startswith("### ❌ `pulumi preview` on prod failed")
    assert "<details open>" in comment
    assert violation in comment
    assert "0123456789ab" in comment  # which commit was previewed


def test_preview_comment_keeps_the_end_of_a_long_output(tmp_path):
    comment = render_preview_comment(
        tmp_path, "failure", "x" * 70_000 + "\nPolicy Violations: END\n"
    )
    assert len(comment) < 65_536  # GitHub's limit for a comment body
    assert "Policy Violations: END" in comment
    assert "the start is cut" in comment


def test_preview_comment_when_the_preview_passed_or_never_ran(tmp_path):
    passed = render_preview_comment(tmp_path, "success", "Resources:\n    42 unchanged\n")
    assert passed.startswith("### ✅") and "<details>" in passed and "42 unchanged" in passed
    (tmp_path / "preview.txt").unlink()
    skipped = render_preview_comment(tmp_path, "skipped", None)
    assert skipped.startswith("### ⚠️ `pulumi preview` on prod did not run (skipped)")
    assert "https://github.example/runs/1" in skipped and "<details" not in skipped


# --- forks ---------------------------------------------------------------------------------------


def test_fork_pull_requests_skip_what_needs_secrets_or_write_access():
    jobs = workflow("pull-request.yml")["jobs"]
    assert jobs["preview"]["if"] == SAME_REPOSITORY
    assert "if" not in jobs["test"] and "if" not in jobs["cost"]
    cost = steps("pull-request.yml", "cost")
    summary = step("pull-request.yml", "cost", named="Job summary")
    post = step("pull-request.yml", "cost", uses="marocchino/sticky-pull-request-comment@")
    assert "if" not in summary  # forks get the diff on the run's summary page
    assert summary["run"] == 'cat reports/cost-comment.md >> "$GITHUB_STEP_SUMMARY"'
    assert post["if"] == SAME_REPOSITORY
    assert post["with"] == {"header": "cost-diff", "path": "reports/cost-comment.md"}
    assert cost.index(summary) < cost.index(post)


# --- the cost diff -------------------------------------------------------------------------------


def test_cost_diff_prices_the_merge_commits_first_parent_with_its_own_requirements():
    text = (REPO / ".github" / "workflows" / "pull-request.yml").read_text()
    assert "pull_request.base" not in text  # the event's base.sha can be stale
    checkout = step("pull-request.yml", "cost", uses="actions/checkout@")
    assert "ref" not in checkout["with"]  # the merge commit
    assert checkout["with"]["fetch-depth"] == 2
    base = step(
        "pull-request.yml", "cost", named="Check out the base (the merge commit's first parent)"
    )
    assert "git worktree add --detach ../base HEAD^1" in base["run"]
    envs = step("pull-request.yml", "cost", named="Cost model environments")["run"]
    assert '-r "$side/requirements.txt"' in envs and "for side in base head" in envs
    estimate = step("pull-request.yml", "cost", named="Estimate base and head")["run"]
    assert 'PATH="$RUNNER_TEMP/venv-$side/bin:$PATH"' in estimate
    assert 'python -m costmodel estimate --stack "$stack" --format json' in estimate


def test_base_is_the_first_parent_of_the_merge(tmp_path):
    def git(*args, cwd=tmp_path / "head"):
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=cwd,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    (tmp_path / "head").mkdir()
    git("init", "-q", "-b", "main")
    (tmp_path / "head" / "f").write_text("old main\n")
    git("add", "f")
    git("commit", "-qm", "pull request's base.sha")
    git("switch", "-qc", "feature")
    (tmp_path / "head" / "g").write_text("feature\n")
    git("add", "g")
    git("commit", "-qm", "feature")
    git("switch", "-q", "main")
    (tmp_path / "head" / "f").write_text("main moved on\n")
    git("commit", "-qam", "main moved on")
    main = git("rev-parse", "HEAD")
    git("merge", "-q", "--no-ff", "-m", "merge", "feature")
    output = tmp_path / "output"
    output.touch()
    base = step(
        "pull-request.yml", "cost", named="Check out the base (the merge commit's first parent)"
    )
    result = run_script(
        base["run"], {"GITHUB_OUTPUT": str(output)}, tmp_path / base["working-directory"]
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "base" / "f").read_text() == "main moved on\n"
    assert not (tmp_path / "base" / "g").exists()
    assert f"base={main}\n" in output.read_text()


def test_cost_comment_is_sticky():
    sticky = step("pull-request.yml", "cost", uses="marocchino/")
    assert sticky["with"]["header"] == "cost-diff"


# --- deployments ---------------------------------------------------------------------------------


def test_deployments_run_from_main_only():
    deploy = workflow("deploy.yml")
    assert deploy[True]["push"]["branches"] == ["main"]  # PyYAML reads `on:` as True
    for job in ("test", "dev", "prod"):
        assert deploy["jobs"][job]["if"].startswith(ON_MAIN), job
    prod = deploy["jobs"]["prod"]["if"]
    assert "github.event_name == 'workflow_dispatch' || vars.PROD_DEPLOY != 'manual'" in prod


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


def test_every_update_is_verified_after_it_lands():
    names = [s.get("name") for s in steps("pulumi-stack.yml", "pulumi")]
    up, outputs, verify = (
        stack_step(named="pulumi up"),
        stack_step(named="Stack outputs"),
        stack_step(named="Verify the deployment"),
    )
    assert all(s["if"] == "inputs.command == 'up'" for s in (up, outputs, verify))
    assert "pulumi up --yes" in up["run"] and "--policy-pack policy" in up["run"]
    assert outputs["run"] == 'pulumi stack output --json --stack "$PULUMI_STACK" > outputs.json'
    assert verify["run"] == 'python -m ops verify --stack "$STACK" --outputs outputs.json'
    assert verify["env"]["STACK"] == "${{ inputs.stack }}"
    assert names.index("pulumi up") + 1 == names.index("Stack outputs")
    assert names.index("Stack outputs") + 1 == names.index("Verify the deployment")


# --- the cost comment ----------------------------------------------------------------------------


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
