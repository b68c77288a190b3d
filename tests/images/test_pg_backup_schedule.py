"""pg-backup's ``schedule`` mode (the local dev stack's daily backup) and ``AWS_ENDPOINT_URL`` (MinIO).

Hermetic like ``test_pg_backup.py`` (same sandbox: fake ``pg_dump``/``aws`` on a private PATH) plus a fake
``sleep`` that records how long it was asked to sleep and returns at once, so nothing waits for real. The
clock is pinned with ``SCHEDULE_NOW`` (Unix seconds); ``SCHEDULE_ONCE=1`` ends the loop after one cycle.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.images.test_pg_backup import Result, Sandbox

# A fake sleep: records each call in state/events; on call number $SLEEP_STOP_AT it sends SIGTERM to
# the script (its parent), like `docker stop` does, to end the otherwise endless loop.
FAKE_SLEEP = """#!/bin/sh
state="{state}"
n=$(( $(cat "$state/sleep.count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$state/sleep.count"
echo "sleep $*" >> "$state/events"
if [ -n "${{SLEEP_STOP_AT:-}}" ] && [ "$n" -ge "$SLEEP_STOP_AT" ]; then kill -TERM "$PPID"; fi
exit 0
"""

# Wraps the sandbox's fake aws: also records the call order and the endpoint it was given.
AWS_WRAPPER = """#!/bin/sh
state="{state}"
echo "aws $1 $2" >> "$state/events"
echo "${{AWS_ENDPOINT_URL:-<unset>}}" >> "$state/aws.endpoint"
exec "{real}" "$@"
"""

DAILY = "cron(0 1 * * ? *)"


def epoch(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


class ScheduleSandbox(Sandbox):
    def install_fakes(self, **kwargs: Any) -> None:
        super().install_fakes(**kwargs)
        sleep = self.fakebin / "sleep"
        sleep.write_text(FAKE_SLEEP.format(state=self.state))
        sleep.chmod(0o755)
        aws = self.fakebin / "aws"
        if aws.exists():
            real = self.fakebin / "aws.real"
            aws.rename(real)
            aws.write_text(AWS_WRAPPER.format(state=self.state, real=real))
            aws.chmod(0o755)

    def base_env(self) -> dict[str, str]:
        return {**super().base_env(), "BACKUP_SCHEDULE": DAILY}

    def events(self) -> list[str]:
        path = self.state / "events"
        return path.read_text().splitlines() if path.exists() else []

    def sleeps(self) -> list[int]:
        return [int(e.split()[1]) for e in self.events() if e.startswith("sleep ")]

    def endpoints(self) -> list[str]:
        path = self.state / "aws.endpoint"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def sandbox(tmp_path: Path) -> ScheduleSandbox:
    return ScheduleSandbox(tmp_path)


def _json_lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _plan(sandbox: ScheduleSandbox, schedule: str, now: str) -> dict[str, object]:
    """The schedule line of a dry run: validates everything, computes the next run, sleeps never."""
    result = sandbox.run(
        "schedule", env={"BACKUP_SCHEDULE": schedule, "SCHEDULE_NOW": str(epoch(now)), "DRY_RUN": "1"}
    )
    assert result.returncode == 0, result.stderr
    assert sandbox.sleeps() == [], "a dry run never sleeps"
    lines = _json_lines(result.stdout)
    assert [line["event"] for line in lines] == ["pg_backup_schedule", "pg_backup_check"]
    assert lines[1]["mode"] == "schedule"
    return lines[0]


# ---------------------------------------------------------------------------------------------------
# Next run time
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "schedule, now, next_run",
    [
        # Daily at 01:00 UTC (seed 004), in both EventBridge spellings of "every day".
        (DAILY, "2025-01-31T00:30:00Z", "2025-01-31T01:00:00Z"),
        (DAILY, "2025-01-31T00:59:59Z", "2025-01-31T01:00:00Z"),
        (DAILY, "2025-01-31T01:00:00Z", "2025-02-01T01:00:00Z"),  # just ran: tomorrow
        (DAILY, "2025-01-31T13:45:10Z", "2025-02-01T01:00:00Z"),
        (DAILY, "2024-12-31T23:59:00Z", "2025-01-01T01:00:00Z"),  # across a year
        (DAILY, "2024-02-28T02:00:00Z", "2024-02-29T01:00:00Z"),  # leap day
        ("cron(0 1 ? * * *)", "2025-01-31T00:30:00Z", "2025-01-31T01:00:00Z"),
        ("cron(05 03 * * ? *)", "2025-01-31T03:04:00Z", "2025-01-31T03:05:00Z"),
        ("cron(59 23 * * ? *)", "2025-01-31T23:59:30Z", "2025-02-01T23:59:00Z"),
        # rate(): at multiples of the interval since the epoch (restarts neither shift nor skip runs).
        ("rate(1 hour)", "2025-01-31T00:30:00Z", "2025-01-31T01:00:00Z"),
        ("rate(6 hours)", "2025-01-31T05:59:59Z", "2025-01-31T06:00:00Z"),
        ("rate(6 hours)", "2025-01-31T06:00:00Z", "2025-01-31T12:00:00Z"),
        ("rate(1 day)", "2025-01-31T00:30:00Z", "2025-02-01T00:00:00Z"),
        ("rate(2 days)", "2025-01-31T12:00:00Z", "2025-02-01T00:00:00Z"),
    ],
)
def test_next_run_time(sandbox: ScheduleSandbox, schedule: str, now: str, next_run: str) -> None:
    line = _plan(sandbox, schedule, now)

    assert line["schedule"] == schedule
    assert line["now"] == now
    assert line["next_run"] == next_run
    assert line["sleep_seconds"] == epoch(next_run) - epoch(now)


def test_next_run_is_computed_in_utc_whatever_the_local_time_zone(sandbox: ScheduleSandbox) -> None:
    result = sandbox.run(
        "schedule",
        env={"SCHEDULE_NOW": str(epoch("2025-01-31T00:30:00Z")), "DRY_RUN": "1", "TZ": "Asia/Tokyo"},
    )
    assert result.returncode == 0, result.stderr
    assert _json_lines(result.stdout)[0]["next_run"] == "2025-01-31T01:00:00Z"


# ---------------------------------------------------------------------------------------------------
# Validation: an unsupported schedule is refused before anything runs
# ---------------------------------------------------------------------------------------------------
UNSUPPORTED = "the schedule mode supports only a daily cron(M H * * ? *) (UTC) or rate(N hours|days)"


@pytest.mark.parametrize(
    "schedule, message",
    [
        ("cron(0 1 ? * MON *)", UNSUPPORTED),  # weekly
        ("cron(0 1 1 * ? *)", UNSUPPORTED),  # monthly
        ("cron(0/15 * * * ? *)", UNSUPPORTED),
        ("cron(0 1,13 * * ? *)", UNSUPPORTED),
        ("cron(0 1 * 1 ? *)", UNSUPPORTED),  # January only
        ("cron(0 1 * * ? 2026)", UNSUPPORTED),
        ("rate(5 minutes)", UNSUPPORTED),
        ("rate(1 week)", UNSUPPORTED),
        ("at(2025-01-31T01:00:00)", UNSUPPORTED),
        ("0 1 * * *", UNSUPPORTED),  # a crontab line is not an EventBridge expression
        ("@daily", UNSUPPORTED),
        ("cron(60 1 * * ? *)", "minute must be 0-59 and hour 0-23"),
        ("cron(0 24 * * ? *)", "minute must be 0-59 and hour 0-23"),
        ("rate(0 hours)", "the rate must be at least 1"),
    ],
)
def test_unsupported_schedule_exits_2_naming_what_is_supported(
    sandbox: ScheduleSandbox, schedule: str, message: str
) -> None:
    result = sandbox.run("schedule", env={"BACKUP_SCHEDULE": schedule})

    assert result.returncode == 2
    assert f"pg-backup: BACKUP_SCHEDULE is '{schedule}'; {message}" in result.stderr.splitlines()
    assert sandbox.events() == [], "nothing slept, nothing reached S3"
    assert not (sandbox.state / "pg_dump.argv").exists()


def test_schedule_mode_requires_a_schedule(sandbox: ScheduleSandbox) -> None:
    result = sandbox.run("schedule", env={"BACKUP_SCHEDULE": None})
    assert result.returncode == 2
    assert "pg-backup: BACKUP_SCHEDULE is required" in result.stderr.splitlines()
    assert sandbox.events() == []


def test_schedule_mode_requires_the_backup_variables_too(sandbox: ScheduleSandbox) -> None:
    result = sandbox.run("schedule", env={"PGPASSWORD": None, "BACKUP_BUCKET": None})
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert "pg-backup: PGPASSWORD is required" in lines
    assert "pg-backup: BACKUP_BUCKET is required" in lines


@pytest.mark.parametrize("now", ["yesterday", "-5", "1.5", "123456789012"])
def test_bad_schedule_now_exits_2(sandbox: ScheduleSandbox, now: str) -> None:
    result = sandbox.run("schedule", env={"SCHEDULE_NOW": now})
    assert result.returncode == 2
    assert "SCHEDULE_NOW must be a Unix time in seconds" in result.stderr


def test_mode_schedule_from_the_environment(sandbox: ScheduleSandbox) -> None:
    result = sandbox.run(env={"MODE": "schedule", "BACKUP_SCHEDULE": "rate(0 days)"})
    assert result.returncode == 2
    assert "the rate must be at least 1" in result.stderr


def test_help_documents_the_schedule_mode(sandbox: ScheduleSandbox) -> None:
    result = sandbox.run("--help")
    assert result.returncode == 0
    assert "schedule" in result.stdout.splitlines()[0]
    for var in ("BACKUP_SCHEDULE", "SCHEDULE_ONCE", "SCHEDULE_NOW", "AWS_ENDPOINT_URL"):
        assert var in result.stdout


# ---------------------------------------------------------------------------------------------------
# The loop: sleep until the next run, back up, log failures and carry on
# ---------------------------------------------------------------------------------------------------
def _run_once(sandbox: ScheduleSandbox, now: str = "2025-01-31T00:30:00Z", **env: str | None) -> Result:
    return sandbox.run("schedule", env={"SCHEDULE_ONCE": "1", "SCHEDULE_NOW": str(epoch(now)), **env})


# ---------------------------------------------------------------------------------------------------
# AWS_ENDPOINT_URL: an S3-compatible store (MinIO on the local stack)
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["minio:9000", "ftp://minio", "http://minio:9000/bucket", "http://a b"])
def test_bad_endpoint_url_exits_2(sandbox: ScheduleSandbox, url: str) -> None:
    result = sandbox.run("backup", env={"AWS_ENDPOINT_URL": url})
    assert result.returncode == 2
    assert "AWS_ENDPOINT_URL must be an http(s) URL" in result.stderr
    assert sandbox.events() == []
