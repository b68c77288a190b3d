"""The drill's record and its staleness check, run for real (PostgreSQL 15, the AWS CLI, moto's S3).

A successful drill writes ``drill/last-success.json``; the daily backup (``DRILL_MAX_AGE_SECONDS`` set)
reports ``pg_drill_stale`` once the last success is older than the limit, and before any drill succeeded
it measures from the oldest dump, so a new stack stays quiet. The staleness alarm's metric filter is
matched against the line the script really prints.
"""

from __future__ import annotations

import json
import os
import re
import time
from itertools import count
from pathlib import Path

import pytest

from preflight.engine import Evaluation
from tests.images.peers import DRILL_LIMIT as LIMIT
from tests.images.peers import S3, SOURCE, Dump, Postgres, Run, run_script, task_env

DB = SOURCE
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
_names = count()


@pytest.fixture
def env(source: Postgres, s3: S3, tmp_path: Path) -> dict[str, str]:
    """A bucket of its own, with the backup task's drill limit."""
    bucket = s3.bucket(f"drill-age-{os.getpid()}-{next(_names)}")
    return task_env(source, s3, bucket, tmp_path, DRILL_MAX_AGE_SECONDS=str(LIMIT))


def only(run: Run) -> dict:
    assert run.code == 0, run.stderr
    (event,) = run.events
    return event


def record_key() -> str:
    return f"postgres/{DB}/drill/last-success.json"


def dump_key(stamp: str) -> str:
    return f"postgres/{DB}/{stamp[:4]}/{stamp[4:6]}/{stamp[6:8]}/{DB}-{stamp}.dump"


def stamp(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def test_a_backup_with_the_limit_set_runs_the_check_after_its_dump(dumped: Dump) -> None:
    """No drill yet: the age counts from the oldest dump, which is the one just made."""
    done, age = dumped.run.events
    assert (done["event"], age["event"], age["reference"]) == (
        "pg_backup_complete",
        "pg_drill_age",
        "oldest_dump",
    )
    assert 0 <= age["age_seconds"] < 120 and age["limit_seconds"] == LIMIT


def test_a_successful_drill_records_itself_and_the_next_check_is_quiet(
    s3: S3, dumped: Dump, drilled: Run, tmp_path: Path
) -> None:
    assert drilled.code == 0, drilled.stderr
    env = dumped.env
    record = json.loads(s3.read(env["BACKUP_BUCKET"], record_key()))
    assert record["event"] == "pg_drill_complete" and (record["tables"], record["rows"]) == (2, 5500)
    assert abs(record["completed_epoch"] - time.time()) < 120
    age = only(run_script({**env, "WORKDIR": str(tmp_path)}, "drill-age"))
    assert (age["event"], age["reference"], age["since"]) == (
        "pg_drill_age",
        "last_success",
        record["completed_epoch"],
    )
    assert 0 <= age["age_seconds"] < 120 and age["limit_seconds"] == LIMIT


def test_a_drill_record_older_than_the_limit_is_stale(s3: S3, env) -> None:
    old = int(time.time()) - LIMIT - 3600
    s3.write(env["BACKUP_BUCKET"], record_key(), json.dumps({"completed_epoch": old}).encode())
    run = run_script(env, "drill-age")
    stale = only(run)
    assert (stale["event"], stale["status"], stale["reference"], stale["since"]) == (
        "pg_drill_stale", "error", "last_success", old,
    )  # fmt: skip
    assert LIMIT + 3600 <= stale["age_seconds"] < LIMIT + 3700 and stale["limit_seconds"] == LIMIT
    assert "the last successful drill was" in stale["reason"] and "restore drill is stale" in run.stderr


def test_first_day_without_any_drill_is_quiet(s3: S3, env) -> None:
    """No record yet: the age counts from the oldest dump, which a new stack made today."""
    s3.write(env["BACKUP_BUCKET"], dump_key(stamp(time.time() - 3600)), b"dump")
    age = only(run_script(env, "drill-age"))
    assert (age["event"], age["reference"]) == ("pg_drill_age", "oldest_dump")
    assert 3600 <= age["age_seconds"] < 3700


def test_no_drill_since_the_oldest_dump_for_longer_than_the_limit_is_stale(s3: S3, env) -> None:
    """Also what a record that expired with the dumps (no success for retentionDays) looks like."""
    oldest = time.time() - LIMIT - 86400
    for epoch in (oldest, time.time() - 60):
        s3.write(env["BACKUP_BUCKET"], dump_key(stamp(epoch)), b"dump")
    stale = only(run_script(env, "drill-age"))
    assert (stale["event"], stale["reference"], stale["since"]) == (
        "pg_drill_stale",
        "oldest_dump",
        int(oldest),
    )
    assert "no drill has succeeded since the oldest dump" in stale["reason"]


def test_an_unreadable_record_is_stale(s3: S3, env) -> None:
    s3.write(env["BACKUP_BUCKET"], record_key(), b"not json")
    stale = only(run_script(env, "drill-age"))
    assert (stale["event"], stale["since"], stale["age_seconds"]) == ("pg_drill_stale", None, None)
    assert "is not readable" in stale["reason"]


def test_the_staleness_metric_filter_matches_the_printed_stale_line_only(
    s3: S3, env, dumped: Dump, staging: Evaluation
) -> None:
    metric = staging.one(METRIC_FILTER, "backups-drill-stale-filter").inputs
    s3.write(env["BACKUP_BUCKET"], record_key(), json.dumps({"completed_epoch": 1}).encode())
    stale = run_script(env, "drill-age")
    assert only(stale)["event"] == "pg_drill_stale"
    lines = [*stale.stdout.splitlines(), *dumped.run.stdout.splitlines()]  # stale; the backup's two lines
    assert [cloudwatch_json_match(metric["pattern"], line) for line in lines] == [True, False, False]


def cloudwatch_json_match(pattern: str, line: str) -> bool:
    """CloudWatch Logs JSON filter ``{ $.field = "value" }`` (Amazon CloudWatch Logs User Guide, "Filter
    pattern syntax for metric filters": "Using metric filters to match terms in JSON log events",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntaxForMetricFilters.html):
    the one form the stacks use, matched exactly."""
    m = re.fullmatch(r'\{ \$\.(\w+) = "([\w-]+)" \}', pattern)
    assert m is not None, pattern
    return json.loads(line).get(m.group(1)) == m.group(2)
