"""scripts/deploy.sh and scripts/migrate.sh with stand-in ``pulumi`` and ``aws`` executables on PATH.

The stand-ins log every call and answer from canned files; what is tested is the scripts' own control
flow: the order of the steps, the exclusions, and that a migration which does not exit 0 stops the
deploy before any service rolls (docs/decisions/migrations-before-traffic.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.engine import Evaluation
from preflight.stackfile import REPO_ROOT
from scripts.service_urns import service_urns

MIGRATE_COMMAND = (
    "aws ecs run-task --region us-west-2 --cluster escalating-reminders-staging "
    "--task-definition escalating-reminders-staging-api --launch-type FARGATE --count 1"
)
TASK = "arn:aws:ecs:us-west-2:123456789012:task/escalating-reminders-staging/0a1b2c"

PULUMI = """#!/usr/bin/env bash
echo "pulumi $*" >> "$CALLS"
case "$1 $2" in
  "stack output")
    for a in "$@"; do key="$a"; done
    cat "$ANSWERS/output-$key" 2>/dev/null || { echo "no output $key" >&2; exit 1; } ;;
  "config get") echo us-west-2 ;;
  "up --stack") exit "$(cat "$ANSWERS/up-status" 2>/dev/null || echo 0)" ;;
esac
"""
AWS = """#!/usr/bin/env bash
echo "aws $*" >> "$CALLS"
case "$2" in
  run-task) cat "$ANSWERS/task" ;;
  wait) exit 0 ;;
  describe-tasks)
    case "$*" in
      *exitCode*) cat "$ANSWERS/exit-code" ;;
      *) echo "Essential container in task exited" ;;
    esac ;;
esac
"""


def _tools(tmp_path: Path, *, exit_code: str = "0", task: str = TASK, migrate: str = MIGRATE_COMMAND) -> dict:
    bin_dir, answers = tmp_path / "bin", tmp_path / "answers"
    bin_dir.mkdir()
    answers.mkdir()
    for name, text in (("pulumi", PULUMI), ("aws", AWS)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (answers / "output-migrateCommand").write_text(migrate + "\n")
    (answers / "output-clusterName").write_text("escalating-reminders-staging\n")
    (answers / "task").write_text(task + "\n")
    (answers / "exit-code").write_text(exit_code + "\n")
    calls = tmp_path / "calls.log"
    calls.write_text("")
    return {
        **os.environ,
        # `python` in deploy.sh is the project's venv (as in CI, where .venv/bin is on PATH).
        "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]]),
        "ANSWERS": str(answers),
        "CALLS": str(calls),
    }


def _run(script: str, env: dict, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO_ROOT / "scripts" / script), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _calls(env: dict) -> list[str]:
    return Path(env["CALLS"]).read_text().splitlines()


def test_a_migration_that_exits_zero_passes(tmp_path: Path) -> None:
    env = _tools(tmp_path)
    result = _run("migrate.sh", env, "staging")
    assert result.returncode == 0, result.stderr
    calls = _calls(env)
    assert calls[-3].startswith("aws ecs run-task --region us-west-2 --cluster escalating-reminders-staging")
    assert calls[-3].endswith("--query tasks[0].taskArn --output text")
    assert calls[-2] == (
        f"aws ecs wait tasks-stopped --region us-west-2 --cluster escalating-reminders-staging --tasks {TASK}"
    )
    # by name: a tunnel stack's API task also runs cloudflared
    assert "tasks[0].containers[?name=='api'] | [0].exitCode" in calls[-1]


@pytest.mark.parametrize("code", ["1", "None"])
def test_a_migration_that_fails_or_never_ran_fails_the_script(tmp_path: Path, code: str) -> None:
    env = _tools(tmp_path, exit_code=code)
    result = _run("migrate.sh", env, "staging")
    assert result.returncode == 1
    assert f"migrate: failed with exit code {code}" in result.stderr
    assert "api/api/0a1b2c" in result.stderr  # where its logs are


def test_a_task_that_did_not_start_fails_the_script(tmp_path: Path) -> None:
    env = _tools(tmp_path, task="None")
    result = _run("migrate.sh", env, "staging")
    assert result.returncode == 1
    assert "did not start" in result.stderr
    assert not [c for c in _calls(env) if "wait" in c]


def test_an_app_without_migrations_runs_nothing(tmp_path: Path) -> None:
    env = _tools(tmp_path, migrate="null")
    result = _run("migrate.sh", env, "staging")
    assert result.returncode == 0
    assert not [c for c in _calls(env) if c.startswith("aws ")]


def test_deploy_excludes_the_services_migrates_then_rolls_them(tmp_path: Path) -> None:
    env = _tools(tmp_path)
    result = _run("deploy.sh", env, "staging")
    assert result.returncode == 0, result.stderr
    ups = [c for c in _calls(env) if c.startswith("pulumi up")]
    excludes = " ".join(f"--exclude {urn}" for urn in service_urns("staging"))
    assert ups == [
        f"pulumi up --stack staging --yes --policy-pack policies {excludes} --exclude-dependents",
        "pulumi up --stack staging --yes --policy-pack policies",
    ]
    calls = _calls(env)
    run_task = next(i for i, c in enumerate(calls) if "run-task" in c)
    assert calls.index(ups[0]) < run_task < calls.index(ups[1])


def test_a_failed_migration_stops_the_deploy_before_the_services_roll(tmp_path: Path) -> None:
    env = _tools(tmp_path, exit_code="1")
    result = _run("deploy.sh", env, "staging")
    assert result.returncode == 1
    ups = [c for c in _calls(env) if c.startswith("pulumi up")]
    assert len(ups) == 1 and "--exclude-dependents" in ups[0]


def test_service_urns_are_the_evaluated_services(staging: Evaluation, production: Evaluation) -> None:
    """The exclusions name exactly the stacks' ECS services (known before a first deploy)."""
    for evaluation in (staging, production):
        services = sorted(r.urn for r in evaluation.of_type("aws:ecs/service:Service"))
        assert sorted(service_urns(evaluation.stack)) == services
