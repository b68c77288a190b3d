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

from tests.images.peers import S3, Postgres, Run, run_script

DB = "drill_age_src"
LIMIT = 8 * 86400  # a weekly drill plus a day
_names = count()


@pytest.fixture(scope="module")
def small(pg: Postgres) -> Postgres:
    pg.psql(f"DROP DATABASE IF EXISTS {DB}")
    pg.psql(f"CREATE DATABASE {DB}")
    pg.psql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10);", db=DB)
    return pg


@pytest.fixture
def env(small: Postgres, s3: S3, tmp_path: Path) -> dict[str, str]:
    bucket = s3.bucket(f"drill-age-{os.getpid()}-{next(_names)}")
    return {
        **small.env,
        **s3.env,
        "PATH": f"{small.env['PATH'].split(':')[0]}:{s3.env['PATH']}",
        "BACKUP_BUCKET": bucket,
        "BACKUP_PREFIX": "postgres/",
        "PGDATABASE": DB,
        "WORKDIR": str(tmp_path),
        "DRILL_MAX_AGE_SECONDS": str(LIMIT),
    }


@pytest.fixture(scope="module")
def drilled(small: Postgres, s3: S3, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Run]:
    """One bucket with a dump (its backup ran the check: no record yet) and then a successful drill, shared
    by the tests that only read them: (environment, the backup's run)."""
    tmp = tmp_path_factory.mktemp("drilled")
    bucket = s3.bucket(f"drill-age-{os.getpid()}-drilled")
    env = {**small.env, **s3.env, "PATH": f"{small.env['PATH'].split(':')[0]}:{s3.env['PATH']}",
           "BACKUP_BUCKET": bucket, "BACKUP_PREFIX": "postgres/", "PGDATABASE": DB, "WORKDIR": str(tmp),
           "DRILL_MAX_AGE_SECONDS": str(LIMIT)}  # fmt: skip
    backup = run_script({**env, "MODE": "backup"})
    assert backup.code == 0, backup.stderr
    drill = run_script({**env, "MODE": "drill"})
    assert drill.code == 0, drill.stderr
    return env, backup


def events(run: Run) -> list[dict]:
    return [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]


def only(run: Run) -> dict:
    assert run.code == 0, run.stderr
    (event,) = events(run)
    return event


def record_key() -> str:
    return f"postgres/{DB}/drill/last-success.json"


def dump_key(stamp: str) -> str:
    return f"postgres/{DB}/{stamp[:4]}/{stamp[4:6]}/{stamp[6:8]}/{DB}-{stamp}.dump"


def stamp(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def test_a_backup_with_the_limit_set_runs_the_check_after_its_dump(drilled) -> None:
    _, backup = drilled
    assert [e["event"] for e in events(backup)] == ["pg_backup_complete", "pg_drill_age"]
    assert events(backup)[1]["reference"] == "oldest_dump"


def test_a_successful_drill_records_itself_and_the_next_check_is_quiet(s3: S3, drilled, tmp_path) -> None:
    env, _ = drilled
    record = json.loads(s3.read(env["BACKUP_BUCKET"], record_key()))
    assert record["event"] == "pg_drill_complete" and record["tables"] == 1 and record["rows"] == 10
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


def test_the_staleness_metric_filter_matches_the_printed_stale_line_only(s3: S3, env, drilled) -> None:
    from tests.test_backups import isolated

    ev, _ = isolated("staging", True)
    metric = ev.one("aws:cloudwatch/logMetricFilter:LogMetricFilter", "backups-drill-stale-filter").inputs
    s3.write(env["BACKUP_BUCKET"], record_key(), json.dumps({"completed_epoch": 1}).encode())
    stale = run_script(env, "drill-age")
    assert only(stale)["event"] == "pg_drill_stale"
    lines = [*stale.stdout.splitlines(), *drilled[1].stdout.splitlines()]  # stale; the backup's two lines
    assert [cloudwatch_json_match(metric["pattern"], line) for line in lines] == [True, False, False]


def cloudwatch_json_match(pattern: str, line: str) -> bool:
    """CloudWatch Logs JSON filter ``{ $.field = "value" }`` (Amazon CloudWatch Logs User Guide, "Filter
    pattern syntax for metric filters": "Using metric filters to match terms in JSON log events",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntaxForMetricFilters.html):
    the one form the stacks use, matched exactly."""
    m = re.fullmatch(r'\{ \$\.(\w+) = "([\w-]+)" \}', pattern)
    assert m is not None, pattern
    return json.loads(line).get(m.group(1)) == m.group(2)
