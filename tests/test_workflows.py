"""GitHub workflows: what runs on pull requests (with and without secrets) and how stacks are deployed."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from preflight.__main__ import main as preflight_main

WORKFLOWS = Path(__file__).resolve().parent.parent / ".github" / "workflows"


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


@pytest.fixture(scope="module")
def pr() -> dict[str, Any]:
    return _load("pull-request.yml")


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return _load("deploy.yml")


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job["steps"]


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in _steps(job))


def _uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in _steps(job) if str(s.get("uses", "")).split("@")[0] == action]


def test_offline_job_needs_no_secrets_and_runs_every_check(pr: dict[str, Any]) -> None:
    assert "pull_request" in pr["on"]
    job = pr["jobs"]["offline"]
    assert "secrets." not in yaml.safe_dump(job)
    assert _uses(job, "actions/checkout") and _uses(job, "astral-sh/setup-uv")
    runs = _runs(job)
    for command in (
        "uv sync --frozen",
        "uv run ruff check .",
        "uv run pyright",
        "uv run actionlint",
        "uv run pytest",
        "python -m preflight.terraform check build/staging.tfplan.json build/production.tfplan.json",
    ):
        assert command in runs, command
    assert "for stack in staging production; do" in runs
    assert "--export-tfplan" in runs and "--no-policy" not in runs  # preflight runs the pack by default


def test_preview_job_runs_only_with_secrets(pr: dict[str, Any]) -> None:
    job = pr["jobs"]["preview"]
    assert job["needs"] == "offline"
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert job["permissions"]["id-token"] == "write"
    assert job["strategy"]["matrix"]["stack"] == ["staging", "production"]
    assert "secrets.AWS_ROLE_TO_ASSUME != ''" in job["env"]["HAS_SECRETS"]
    guarded = [s for s in _steps(job) if s.get("uses") or "uv sync" in s.get("run", "")]
    assert guarded and all(s.get("if") == "env.HAS_SECRETS == 'true'" for s in guarded)
    (aws,) = _uses(job, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-to-assume"] == "${{ secrets.AWS_ROLE_TO_ASSUME }}"
    (pulumi,) = _uses(job, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "policies"
    assert pulumi["with"]["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert pulumi["env"]["CLOUDFLARE_API_TOKEN"] == "${{ secrets.CLOUDFLARE_API_TOKEN }}"


def test_deploys_staging_on_main_and_production_through_the_environment(deploy: dict[str, Any]) -> None:
    on = deploy["on"]
    assert on["push"]["branches"] == ["main"] and "workflow_dispatch" in on
    staging, production = deploy["jobs"]["staging"], deploy["jobs"]["production"]
    assert "github.ref == 'refs/heads/main'" in staging["if"]
    assert "workflow_dispatch" in production["if"] and "refs/tags/v" in production["if"]
    assert "refs/heads/main" not in production["if"]  # a push to main never deploys production
    assert production["environment"] == "production"
    for stack, job in (("staging", staging), ("production", production)):
        assert job["permissions"]["id-token"] == "write"
        assert job["concurrency"] == {"group": f"pulumi-stack-{stack}", "cancel-in-progress": False}
        (pulumi,) = _uses(job, "pulumi/actions")
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["stack-name"] == stack
        assert pulumi["with"]["policyPacks"] == "policies"
        assert _uses(job, "aws-actions/configure-aws-credentials")
    assert "Required reviewers" in (WORKFLOWS / "deploy.yml").read_text()


def test_actions_are_pinned() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for ref in re.findall(r"uses:\s*(\S+)", path.read_text()):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})", ref), (
                f"{path.name}: {ref}"
            )


def _cli_help() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        preflight_main(["--help"])
    return out.getvalue()


def test_preflight_invocations_use_existing_flags() -> None:
    help_text = _cli_help()
    used: set[str] = set()
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text().replace("\\\n", " ").splitlines():  # join continued lines
            if "python -m preflight " in line:
                words = shlex.split(line.split("python -m preflight ", 1)[1])
                used |= {w for w in words if w.startswith("--")}
    assert {"--format", "--export-tfplan"} <= used
    assert "--no-policy" not in used  # every workflow preflight runs the policy pack
    for flag in sorted(used):
        assert flag in help_text, flag
