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
        # The CLI only; scripts/deploy.sh runs `pulumi up` (with the pack) around the migrations, and fails
        # the job when they fail (tests/test_deploy_scripts.py).
        (pulumi,) = _uses(job, "pulumi/actions")
        assert "command" not in (pulumi.get("with") or {})
        (step,) = [s for s in _steps(job) if f"scripts/deploy.sh {stack}" in s.get("run", "")]
        assert 'pulumi login "$PULUMI_BACKEND_URL"' in step["run"]
        assert step["env"]["PULUMI_BACKEND_URL"] == "${{ secrets.PULUMI_BACKEND_URL }}"
        (checkout,) = _uses(job, "actions/checkout")
        assert checkout["with"]["submodules"] is True  # the app checkout is the build context
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


# --- every image a job builds can be built on that job's runner ------------------------------------------

DOCKER_IMAGE = "docker:index/image:Image"
# GitHub-hosted runner labels -> CPU architecture (GitHub docs, "GitHub-hosted runners": ubuntu-latest and
# ubuntu-24.04 are x64; the -arm labels are arm64).
ARCH_OF_PLATFORM = {"linux/amd64": "amd64", "linux/arm64": "arm64"}


def _runner_arch(job: dict[str, Any]) -> str:
    return "arm64" if str(job["runs-on"]).endswith("-arm") else "amd64"


def _emulated(job: dict[str, Any]) -> set[str]:
    """Architectures whose binaries the job can run through QEMU before its Pulumi step
    (docker/setup-qemu-action registers binfmt handlers; its ``platforms`` input defaults to all)."""
    steps = _steps(job)
    pulumi_at = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("pulumi/actions@"))
    emulated: set[str] = set()
    for step in steps[:pulumi_at]:
        if str(step.get("uses", "")).startswith("docker/setup-qemu-action@"):
            platforms = str((step.get("with") or {}).get("platforms", "all"))
            emulated |= (
                {"amd64", "arm64"} if platforms == "all" else {p.strip() for p in platforms.split(",")}
            )
    return emulated


@pytest.mark.parametrize(
    ("workflow", "job_name", "stack"),
    [
        ("deploy.yml", "staging", "staging_up"),
        ("deploy.yml", "production", "production_up"),
        ("pull-request.yml", "preview", "staging_up"),
        ("pull-request.yml", "preview", "production_up"),
    ],
)
def test_every_built_platform_builds_on_the_runner_that_deploys_it(
    workflow: str, job_name: str, stack: str, request: pytest.FixtureRequest
) -> None:
    """A Dockerfile's RUN steps execute binaries of the target platform: on a runner of another architecture
    without QEMU they fail with "exec format error" (BuildKit docs, multi-platform builds; Docker docs,
    "Multi-platform image with GitHub Actions": set up QEMU, then Buildx)."""
    job = _load(workflow)["jobs"][job_name]
    evaluation = request.getfixturevalue(stack)
    platforms = {r.inputs["build"]["platform"] for r in evaluation.of_type(DOCKER_IMAGE)}
    assert platforms, "the stack builds no image: nothing to check"
    runner, emulated = _runner_arch(job), _emulated(job)
    for platform in sorted(platforms):
        arch = ARCH_OF_PLATFORM[platform]
        assert arch == runner or arch in emulated, f"{workflow} {job_name}: {platform} on a {runner} runner"
    if emulated:
        assert _uses(job, "docker/setup-buildx-action")
