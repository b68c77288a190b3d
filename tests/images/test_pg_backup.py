"""Tests for images/pg-backup: the entrypoint script (run for real with bash) and the Dockerfile.

Hermetic: no Docker, database or AWS. Each test gets a private PATH made of symlinks to a few system
utilities plus fake ``pg_dump``/``pg_restore``/``aws`` shell scripts that record what they were asked
to do, so a real ``pg_dump`` or ``aws`` installed on the machine is never reached.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGE_DIR = REPO_ROOT / "images" / "pg-backup"
SCRIPT = IMAGE_DIR / "pg-backup.sh"
DOCKERFILE = IMAGE_DIR / "Dockerfile"

BASH = shutil.which("bash") or "/bin/bash"
PASSWORD = "Xq7-s3cr3t-Pa55w0rd-e1f9"
BUCKET = "acme-staging-backups"
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DUMP_BYTES = "PGDMP\\001fake-custom-format-dump-payload-0123456789"
FAKE_TOOLS = ("pg_dump", "pg_restore", "psql", "createdb", "dropdb", "aws")
# psql/createdb/dropdb only answer --version here: the database runs are tested against a real server
# (tests/images/test_pg_backup_real.py).
FAKE_CLIENT = """#!/bin/sh
if [ "${{1:-}}" = "--version" ]; then echo "{name} (PostgreSQL) 15.99"; exit 0; fi
echo "fake {name}: unexpected call" >&2
exit 1
"""
# Utilities the script and the fakes use; everything else is deliberately absent from PATH.
SYSTEM_TOOLS = ("env", "date", "mktemp", "rm", "cat", "wc", "sh", "sha256sum")

REQUIRED_BACKUP_VARS = ("BACKUP_BUCKET", "PGHOST", "PGDATABASE", "PGUSER", "PGPASSWORD")

FAKE_PG_DUMP = """#!/bin/sh
if [ "${{1:-}}" = "--version" ]; then echo "pg_dump (PostgreSQL) 15.99"; exit 0; fi
for a in "$@"; do printf '%s\\n' "$a"; done > "{state}/pg_dump.argv"
{{
  echo "PGHOST=$PGHOST"; echo "PGPORT=$PGPORT"; echo "PGDATABASE=$PGDATABASE"
  echo "PGUSER=$PGUSER"; echo "PGSSLMODE=$PGSSLMODE"
  if [ -n "${{PGPASSWORD:-}}" ]; then echo "PGPASSWORD=<set>"; fi
}} > "{state}/pg_dump.env"
printf '{payload}'
exit {exit_code}
"""

FAKE_PG_RESTORE = """#!/bin/sh
if [ "${{1:-}}" = "--version" ]; then echo "pg_restore (PostgreSQL) 15.99"; exit 0; fi
{{ for a in "$@"; do printf '%s\\t' "$a"; done; printf '\\n'; }} >> "{state}/pg_restore.calls"
if [ -n "${{PGPASSWORD:-}}" ]; then echo "<set>" > "{state}/pg_restore.password"; fi
exit {exit_code}
"""

# Records one tab-separated line per call; `s3 cp -` stores stdin as the object, `s3 cp s3://… DEST`
# copies the object to DEST, head-object prints the object's size (like --query ContentLength; with
# VersionId too, the size and None, as for an unversioned bucket).
FAKE_AWS = """#!/bin/sh
state="{state}"
{{ for a in "$@"; do printf '%s\\t' "$a"; done; printf '\\n'; }} >> "$state/aws.calls"
if [ -n "${{PGPASSWORD+x}}" ]; then echo "PGPASSWORD visible to aws" >> "$state/aws.leak"; fi
echo "${{AWS_RETRY_MODE:-unset}} ${{AWS_MAX_ATTEMPTS:-unset}}" > "$state/aws.retry"
case "${{1:-}} ${{2:-}}" in
  "--version "*) echo "aws-cli/2.99.0 Python/3.12.0 Linux/6.0 exe/x86_64"; exit 0 ;;
  "s3 cp")
    if [ "$3" = "-" ]; then cat > "$state/object.bin"; exit {cp_exit}; fi
    if [ ! -f "$state/object.bin" ]; then echo "fatal error: 404" >&2; exit 1; fi
    cat "$state/object.bin" > "$4"; exit 0 ;;
  "s3 rm") rm -f "$state/object.bin"; exit 0 ;;
  "s3api head-object")
    if [ ! -f "$state/object.bin" ]; then
      echo "An error occurred (404) when calling the HeadObject operation: Not Found" >&2; exit 254
    fi
    case "$*" in
      *"[ContentLength, VersionId]"*) printf '%s\tNone\n' "$(wc -c < "$state/object.bin")" ;;
      *) wc -c < "$state/object.bin" ;;
    esac
    exit 0 ;;
esac
echo "fake aws: unexpected call: $*" >&2
exit 99
"""


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Sandbox:
    """A private PATH with fake tools and a state directory in which the fakes record their calls."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sysbin = root / "sysbin"
        self.fakebin = root / "fakebin"
        self.state = root / "state"
        self.tmp = root / "tmp"
        for d in (self.sysbin, self.fakebin, self.state, self.tmp):
            d.mkdir()
        for name in SYSTEM_TOOLS:
            found = shutil.which(name)
            assert found, f"system utility {name} is needed by the tests"
            (self.sysbin / name).symlink_to(found)
        self.install_fakes()

    def install_fakes(
        self,
        *,
        pg_dump_exit: int = 0,
        pg_dump_payload: str = DUMP_BYTES,
        pg_restore_exit: int = 0,
        aws_cp_exit: int = 0,
        only: Iterable[str] = FAKE_TOOLS,
    ) -> None:
        for name in FAKE_TOOLS:
            (self.fakebin / name).unlink(missing_ok=True)
        sources = {
            "pg_dump": FAKE_PG_DUMP.format(state=self.state, payload=pg_dump_payload, exit_code=pg_dump_exit),
            "pg_restore": FAKE_PG_RESTORE.format(state=self.state, exit_code=pg_restore_exit),
            "aws": FAKE_AWS.format(state=self.state, cp_exit=aws_cp_exit),
            **{name: FAKE_CLIENT.format(name=name) for name in ("psql", "createdb", "dropdb")},
        }
        for name in only:
            path = self.fakebin / name
            path.write_text(sources[name])
            path.chmod(0o755)

    def base_env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.fakebin}:{self.sysbin}",
            "HOME": str(self.root),
            "TMPDIR": str(self.tmp),
            "LC_ALL": "C",
            "PGHOST": "db.internal.example",
            "PGDATABASE": "appdb",
            "PGUSER": "backup_user",
            "PGPASSWORD": PASSWORD,
            "BACKUP_BUCKET": BUCKET,
            "AWS_REGION": "eu-west-1",
        }

    def run(
        self,
        *args: str,
        env: Mapping[str, str | None] | None = None,
    ) -> Result:
        full_env = self.base_env()
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        proc = subprocess.run(
            [BASH, str(SCRIPT), *args],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    # --- what the fakes recorded -------------------------------------------------------------------
    def aws_calls(self) -> list[list[str]]:
        path = self.state / "aws.calls"
        if not path.exists():
            return []
        return [line.split("\t")[:-1] for line in path.read_text().splitlines()]

    def pg_restore_calls(self) -> list[list[str]]:
        path = self.state / "pg_restore.calls"
        if not path.exists():
            return []
        return [line.split("\t")[:-1] for line in path.read_text().splitlines()]

    def pg_dump_argv(self) -> list[str]:
        return (self.state / "pg_dump.argv").read_text().splitlines()

    def pg_dump_env(self) -> dict[str, str]:
        lines = (self.state / "pg_dump.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines)

    def recorded_text(self) -> str:
        """Everything the fakes wrote down (argv, env summaries), to search for leaked secrets."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.state.iterdir()) if p.is_file())

    def object_path(self) -> Path:
        return self.state / "object.bin"


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


def _upload_call(calls: list[list[str]]) -> list[str]:
    uploads = [c for c in calls if c[:3] == ["s3", "cp", "-"]]
    assert len(uploads) == 1, calls
    return uploads[0]


def _flag_value(argv: list[str], flag: str) -> str:
    assert flag in argv, argv
    return argv[argv.index(flag) + 1]


def _last_json(stdout: str) -> dict[str, object]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, "expected a JSON line on stdout"
    return json.loads(lines[-1])


def _assert_no_secret(sandbox: Sandbox, result: Result) -> None:
    assert PASSWORD not in result.stdout
    assert PASSWORD not in result.stderr
    assert PASSWORD not in sandbox.recorded_text()
    assert not (sandbox.state / "aws.leak").exists(), "aws must run without PGPASSWORD in its environment"


# ---------------------------------------------------------------------------------------------------
# Validation (exit 2), before any tool is called
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("var", REQUIRED_BACKUP_VARS)
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_missing_required_variable_exits_2(sandbox: Sandbox, var: str, how: str) -> None:
    result = sandbox.run(env={var: None if how == "unset" else ""})

    assert result.returncode == 2
    assert f"pg-backup: {var} is required" in result.stderr.splitlines()
    assert sandbox.aws_calls() == []
    assert not (sandbox.state / "pg_dump.argv").exists()
    assert PASSWORD not in result.output


def test_all_missing_variables_are_reported_one_line_each(sandbox: Sandbox) -> None:
    result = sandbox.run(env=dict.fromkeys(REQUIRED_BACKUP_VARS))

    assert result.returncode == 2
    lines = result.stderr.splitlines()
    for var in REQUIRED_BACKUP_VARS:
        assert f"pg-backup: {var} is required" in lines


@pytest.mark.parametrize("var", ["BACKUP_BUCKET", "PGHOST", "PGUSER", "PGPASSWORD"])
def test_missing_required_variable_in_restore_mode(sandbox: Sandbox, var: str) -> None:
    result = sandbox.run(
        "restore",
        env={var: None, "RESTORE_KEY": "postgres/appdb/x.dump", "RESTORE_TARGET_DATABASE": "appdb_restore"},
    )
    assert result.returncode == 2
    assert f"pg-backup: {var} is required" in result.stderr.splitlines()


@pytest.mark.parametrize("args, env", [(("nonsense",), {}), ((), {"MODE": "nonsense"})])
def test_unknown_mode_exits_2_naming_allowed_modes(
    sandbox: Sandbox, args: tuple[str, ...], env: dict[str, str]
) -> None:
    result = sandbox.run(*args, env=env)

    assert result.returncode == 2
    assert "unknown mode 'nonsense'" in result.stderr
    assert "allowed: backup, restore, drill, check, help" in result.stderr
    assert sandbox.aws_calls() == []


def test_unknown_mode_equal_to_the_password_is_not_echoed(sandbox: Sandbox) -> None:
    result = sandbox.run(PASSWORD)

    assert result.returncode == 2
    assert "unknown mode" in result.stderr
    assert PASSWORD not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("backup", "--dbname=host=db user=u password=hunter2"),
        ("password=hunter2",),
        ("PASSWORD=hunter2",),
        ("--help", "postgresql://u@db/app?password=hunter2"),
    ],
)
def test_password_on_command_line_is_refused(sandbox: Sandbox, args: tuple[str, ...]) -> None:
    result = sandbox.run(*args)

    assert result.returncode == 2
    assert "refusing to run" in result.stderr
    assert "password=" in result.stderr
    assert "hunter2" not in result.output
    assert sandbox.aws_calls() == []
    assert not (sandbox.state / "pg_dump.argv").exists()


def test_more_than_one_argument_is_refused(sandbox: Sandbox) -> None:
    result = sandbox.run("backup", "extra")
    assert result.returncode == 2
    assert "at most one argument" in result.stderr


@pytest.mark.parametrize(
    "env, message",
    [
        ({"BACKUP_BUCKET": "s3://acme-staging-backups"}, "BACKUP_BUCKET must be a bucket name, not a URL"),
        ({"BACKUP_BUCKET": "Bad_Bucket"}, "BACKUP_BUCKET is not a valid S3 bucket name"),
        ({"PGPORT": "54x"}, "PGPORT must be a TCP port number"),
        ({"PGPORT": "70000"}, "PGPORT must be a TCP port number"),
        ({"PGSSLMODE": "sometimes"}, "PGSSLMODE must be one of"),
        ({"PGDATABASE": "app/db"}, "PGDATABASE must match"),
        ({"BACKUP_EXPECTED_SIZE": "10GB"}, "BACKUP_EXPECTED_SIZE must be a number of bytes"),
        ({"BACKUP_PREFIX": "a b/"}, "BACKUP_PREFIX may only contain"),
    ],
)
def test_invalid_values_exit_2(sandbox: Sandbox, env: dict[str, str], message: str) -> None:
    result = sandbox.run(env=env)
    assert result.returncode == 2
    assert message in result.stderr
    assert sandbox.aws_calls() == []


@pytest.mark.parametrize("arg", ["--help", "help", "-h"])
def test_help_prints_usage_without_any_environment(sandbox: Sandbox, arg: str) -> None:
    result = sandbox.run(arg, env=dict.fromkeys(REQUIRED_BACKUP_VARS))

    assert result.returncode == 0
    assert result.stdout.startswith("Usage: pg-backup")
    for var in (*REQUIRED_BACKUP_VARS, "RESTORE_KEY", "RESTORE_TARGET_DATABASE", "BACKUP_KMS_KEY_ID"):
        assert var in result.stdout


# ---------------------------------------------------------------------------------------------------
# Restore validation
# ---------------------------------------------------------------------------------------------------
RESTORE_ENV = {"RESTORE_KEY": "postgres/appdb/2025/01/31/appdb-20250131T010002Z.dump"}


@pytest.mark.parametrize("var", ["RESTORE_KEY", "RESTORE_TARGET_DATABASE"])
def test_restore_requires_key_and_target(sandbox: Sandbox, var: str) -> None:
    env: dict[str, str | None] = {**RESTORE_ENV, "RESTORE_TARGET_DATABASE": "appdb_restore", var: None}
    result = sandbox.run("restore", env=env)

    assert result.returncode == 2
    assert f"pg-backup: {var} is required" in result.stderr.splitlines()
    assert sandbox.aws_calls() == []


def test_restore_mode_from_env(sandbox: Sandbox) -> None:
    result = sandbox.run(env={"MODE": "restore", "RESTORE_TARGET_DATABASE": "appdb_restore"})
    assert result.returncode == 2
    assert "pg-backup: RESTORE_KEY is required" in result.stderr


def test_restore_into_source_database_is_refused(sandbox: Sandbox) -> None:
    result = sandbox.run("restore", env={**RESTORE_ENV, "RESTORE_TARGET_DATABASE": "appdb"})

    assert result.returncode == 2
    assert "refusing to restore into the source database 'appdb'" in result.stderr
    assert "RESTORE_ALLOW_SAME_DATABASE=yes" in result.stderr
    assert sandbox.aws_calls() == []
    assert sandbox.pg_restore_calls() == []


@pytest.mark.parametrize("value", ["1", "true", "YES", "no"])
def test_restore_into_source_database_needs_exactly_yes(sandbox: Sandbox, value: str) -> None:
    env = {**RESTORE_ENV, "RESTORE_TARGET_DATABASE": "appdb", "RESTORE_ALLOW_SAME_DATABASE": value}
    result = sandbox.run("restore", env=env)
    assert result.returncode == 2


@pytest.mark.parametrize(
    "env, message",
    [
        ({"RESTORE_KEY": f"s3://{BUCKET}/postgres/x.dump"}, "RESTORE_KEY must be a key inside BACKUP_BUCKET"),
        ({"RESTORE_TARGET_DATABASE": "dbname=x host=evil"}, "RESTORE_TARGET_DATABASE must match"),
        ({"RESTORE_TARGET_DATABASE": "-x"}, "RESTORE_TARGET_DATABASE must match"),
    ],
)
def test_restore_invalid_values_exit_2(sandbox: Sandbox, env: dict[str, str], message: str) -> None:
    result = sandbox.run("restore", env={**RESTORE_ENV, "RESTORE_TARGET_DATABASE": "appdb_restore", **env})
    assert result.returncode == 2
    assert message in result.stderr


# ---------------------------------------------------------------------------------------------------
# check / DRY_RUN
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, env",
    [(("--check",), {}), (("check",), {}), ((), {"MODE": "check"}), ((), {"DRY_RUN": "1"})],
)
def test_check_passes_with_tools_on_path(
    sandbox: Sandbox, args: tuple[str, ...], env: dict[str, str]
) -> None:
    result = sandbox.run(*args, env=env)

    assert result.returncode == 0, result.stderr
    assert _last_json(result.stdout)["event"] == "pg_backup_check"
    assert "pg_dump (PostgreSQL) 15.99" in result.stderr
    # Only `--version` calls: neither the database nor S3 was touched.
    assert sandbox.aws_calls() == [["--version"]]
    assert not (sandbox.state / "pg_dump.argv").exists()
    assert sandbox.pg_restore_calls() == []
    _assert_no_secret(sandbox, result)


@pytest.mark.parametrize(
    ("env", "seen"),
    [({}, "standard 3"), ({"AWS_RETRY_MODE": "adaptive", "AWS_MAX_ATTEMPTS": "6"}, "adaptive 6")],
)
def test_the_aws_cli_retries_like_cli_v2_whichever_version_runs(
    sandbox: Sandbox, env: dict[str, str], seen: str
) -> None:
    """CLI v2 (the image) defaults to standard mode, 3 attempts; v1 (PyPI, the tests' real peer) to legacy
    with 5 and longer backoff (docs.aws.amazon.com/cli/latest/userguide/cli-configure-retries.html). The
    script pins v2's defaults so both behave alike; a task's own settings win."""
    result = sandbox.run("check", env=env)

    assert result.returncode == 0, result.stderr
    assert (sandbox.state / "aws.retry").read_text().strip() == seen


def test_check_still_validates_the_environment(sandbox: Sandbox) -> None:
    result = sandbox.run("--check", env={"BACKUP_BUCKET": None})
    assert result.returncode == 2
    assert "pg-backup: BACKUP_BUCKET is required" in result.stderr


@pytest.mark.parametrize("tool", FAKE_TOOLS)
def test_check_fails_naming_the_missing_tool(sandbox: Sandbox, tool: str) -> None:
    sandbox.install_fakes(only=[t for t in FAKE_TOOLS if t != tool])
    result = sandbox.run("--check")

    assert result.returncode == 3
    assert f"required executable '{tool}' not found on PATH" in result.stderr
    assert result.stdout == ""


def test_check_fails_when_no_tool_is_installed(sandbox: Sandbox) -> None:
    sandbox.install_fakes(only=[])
    result = sandbox.run("--check")

    assert result.returncode == 3
    for tool in FAKE_TOOLS:
        assert f"required executable '{tool}' not found on PATH" in result.stderr


def test_backup_without_pg_dump_fails_before_touching_s3(sandbox: Sandbox) -> None:
    sandbox.install_fakes(only=["aws"])
    result = sandbox.run("backup")

    assert result.returncode == 3
    assert "'pg_dump' not found" in result.stderr
    assert sandbox.aws_calls() == []


# ---------------------------------------------------------------------------------------------------
# Static checks of the script
# ---------------------------------------------------------------------------------------------------
def test_script_is_executable_bash_with_strict_mode() -> None:
    text = SCRIPT.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert "set -x" not in text
    assert os.access(SCRIPT, os.X_OK)
    subprocess.run([BASH, "-n", str(SCRIPT)], check=True, timeout=30)


def test_script_is_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        if os.environ.get("CI"):  # .ci/run installs it: a missing binary there is a CI defect
            pytest.fail("shellcheck is not installed; .ci/run should have installed it")
        pytest.skip("shellcheck binary not installed (apt-get install -y shellcheck)")
    proc = subprocess.run(
        [shellcheck, "--shell=bash", "--severity=style", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---------------------------------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------------------------------
def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    if current:
        logical.append(current)
    result: list[tuple[str, str]] = []
    for entry in logical:
        keyword, _, rest = entry.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def _args(instruction: str) -> list[str]:
    return [rest for keyword, rest in _instructions() if keyword == instruction]


def test_dockerfile_pg_major_build_arg_selects_the_base_image() -> None:
    args = _args("ARG")
    assert "PG_MAJOR=15" in args
    base_default = next(a for a in args if a.startswith("BASE_IMAGE="))
    assert base_default.startswith("BASE_IMAGE=postgres:${PG_MAJOR}-alpine")
    assert _args("FROM") == ["${BASE_IMAGE}"]


def test_dockerfile_runs_as_non_root() -> None:
    users = _args("USER")
    assert users, "a USER instruction is required"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0", ""}


def test_dockerfile_declares_the_restore_scratch_volume_owned_by_the_user() -> None:
    """The ECS restore task (read-only root) mounts a task volume at /var/lib/pg-backup: the image must
    declare that path as a VOLUME and create it owned by the non-root user, or the mount is root-owned."""
    assert _args("VOLUME") == ['["/var/lib/pg-backup"]']
    runs = " ".join(_args("RUN"))
    assert "install -d -o pgbackup -g pgbackup -m 0700 /var/lib/pg-backup" in runs
    assert "-u 10001 -G pgbackup" in runs and _args("USER")[-1] == "10001:10001"
    instructions = [keyword for keyword, _ in _instructions()]
    # Created before it is declared: changes to a VOLUME path after the VOLUME instruction are discarded.
    assert instructions.index("RUN") < instructions.index("VOLUME")


def test_dockerfile_entrypoint_is_the_script() -> None:
    entrypoints = _args("ENTRYPOINT")
    assert entrypoints
    entrypoint = json.loads(entrypoints[-1])
    assert entrypoint == ["/usr/local/bin/pg-backup"]
    copies = _args("COPY")
    assert any(c.split()[-2:] == ["pg-backup.sh", "/usr/local/bin/pg-backup"] for c in copies), copies
    # The base image's CMD ("postgres") must not reach the script as a mode.
    assert _args("CMD") == ["[]"]


def test_dockerfile_bakes_no_secret() -> None:
    for keyword, rest in _instructions():
        if keyword in {"ENV", "ARG"}:
            assert not re.search(r"PASSWORD|SECRET|TOKEN|AWS_ACCESS_KEY", rest, re.IGNORECASE), rest


def test_dockerfile_has_labels_and_installs_the_tools() -> None:
    labels = " ".join(_args("LABEL"))
    assert "org.opencontainers.image.title" in labels
    assert "PG_MAJOR" in labels
    runs = " ".join(_args("RUN"))
    assert "aws-cli" in runs
    assert not _args("HEALTHCHECK")
