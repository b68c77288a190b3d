"""pg-backup.sh against real peers: PostgreSQL 15 with pg_dump/pg_restore, the AWS CLI and moto's S3 API.

The script runs in the mode and with the environment the ECS tasks give it (PGSSLMODE=require, SSE-KMS
with the key's alias ARN, the dump prefix); only the S3 endpoint and credentials point at moto.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import resource
import signal
import subprocess
import time
from pathlib import Path

import pytest

from preflight.engine import Evaluation
from tests.images.peers import S3, SCRIPT, SOURCE, Dump, Postgres, Run, run_script, s3_server, task_env

_names = itertools.count()

FINGERPRINT = """
SELECT json_build_object(
  'tables', (SELECT json_object_agg(t, md5(r)) FROM (
     SELECT 'reminders' t, string_agg(x::text, '|' ORDER BY x.id) r FROM reminders x
     UNION ALL SELECT 'tickets', string_agg(y::text, '|' ORDER BY y.n) FROM tickets y) f),
  'sequences', (SELECT json_object_agg(sequencename, last_value) FROM pg_sequences),
  'enum', (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum),
  'views', (SELECT json_object_agg(viewname, definition) FROM pg_views WHERE schemaname = 'public'),
  'indexes', (SELECT json_object_agg(indexname, indexdef) FROM pg_indexes WHERE schemaname = 'public'),
  'constraints', (SELECT json_object_agg(conname, pg_get_constraintdef(oid)) FROM pg_constraint
                  WHERE connamespace = 'public'::regnamespace));
"""


def fingerprint(pg: Postgres, db: str) -> dict:
    return json.loads(pg.psql(FINGERPRINT, db=db))


@pytest.fixture
def bucket(s3: S3) -> str:
    return s3.bucket(f"backups-{os.getpid()}-{next(_names)}")


@pytest.fixture
def env(source: Postgres, s3: S3, bucket: str, kms_alias: str, tmp_path: Path) -> dict[str, str]:
    return task_env(source, s3, bucket, tmp_path, MODE="backup", BACKUP_KMS_KEY_ID=kms_alias)


def dumps(s3: S3, bucket: str) -> list[str]:
    """Every version or delete marker of an object that looks like a dump (final key, .dump)."""
    return [k for k in s3.keys(bucket) if k.endswith(".dump")]


def restore(env: dict[str, str], key: str, target: str, **extra: str) -> Run:
    return run_script(
        {**env, "MODE": "restore", "RESTORE_KEY": key, "RESTORE_TARGET_DATABASE": target, **extra}
    )


def new_db() -> str:
    return f"restored_{os.getpid()}_{next(_names)}"


# ---------------------------------------------------------------------------------------------------------
# Round trip and verified dumps


def test_backup_then_restore_into_a_new_database_is_equal(source: Postgres, s3: S3, dumped: Dump) -> None:
    env, done = dumped.env, dumped.done
    bucket, key = env["BACKUP_BUCKET"], done["key"]
    before = fingerprint(source, SOURCE)
    assert key.startswith(f"postgres/{SOURCE}/") and key.endswith(".dump")
    head = s3.client.head_object(Bucket=bucket, Key=key)
    assert head["Metadata"] == {"sha256": done["sha256"], "pg-dump-version": done["pg_dump_version"]}
    assert hashlib.sha256(s3.read(bucket, key)).hexdigest() == done["sha256"]
    assert done["pg_dump_version"].startswith("15.")
    manifest = json.loads(s3.read(bucket, f"{key}.manifest.json"))
    assert manifest["tables"] == {"public.reminders": 5000, "public.tickets": 500}
    assert manifest["sha256"] == done["sha256"] and manifest["size_bytes"] == head["ContentLength"]
    # Nothing but the dump and its manifest right after the backup: the temporary upload left no version.
    assert dumped.keys == [key, f"{key}.manifest.json"]

    target = new_db()
    run = restore(env, key, target)
    assert run.code == 0, run.stderr
    assert [e["event"] for e in run.events] == ["pg_restore_complete"]
    assert fingerprint(source, target) == before == fingerprint(source, SOURCE)


def test_restore_leaves_out_grants_as_the_readme_says(source: Postgres, dumped: Dump) -> None:
    """``--no-privileges``: GRANTs are not restored (README: re-apply them after a restore)."""
    env, done = dumped.env, dumped.done
    assert source.psql("SELECT has_table_privilege('reporting', 'reminders', 'SELECT')", db=SOURCE) == "t"
    target = new_db()
    assert restore(env, done["key"], target).code == 0
    assert source.psql("SELECT has_table_privilege('reporting', 'reminders', 'SELECT')", db=target) == "f"
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "GRANT" in readme and "--no-privileges" in readme


def test_a_flipped_byte_in_storage_is_refused_before_pg_restore(
    source: Postgres, s3: S3, dumped: Dump
) -> None:
    env, done = dumped.env, dumped.done
    bucket = env["BACKUP_BUCKET"]
    data = bytearray(s3.read(bucket, done["key"]))
    data[len(data) // 2] ^= 0x01
    key = done["key"].replace(".dump", "-flipped.dump")
    s3.write(bucket, key, bytes(data), {"sha256": done["sha256"], "pg-dump-version": done["pg_dump_version"]})
    target = new_db()
    run = restore(env, key, target)
    assert run.code == 1
    (message,) = run.messages
    assert "checksum mismatch" in message and "refusing to restore" in message
    assert source.psql(f"SELECT count(*) FROM pg_database WHERE datname = '{target}'") == "0"


def test_restore_into_the_source_needs_the_flag(source: Postgres, dumped: Dump) -> None:
    env, done = dumped.env, dumped.done
    before, key = fingerprint(source, SOURCE), done["key"]
    refused = restore(env, key, SOURCE)
    assert refused.code == 2 and "refusing to restore into the source database" in refused.stderr
    allowed = restore(env, key, SOURCE, RESTORE_ALLOW_SAME_DATABASE="yes")
    assert allowed.code == 0, allowed.stderr
    assert fingerprint(source, SOURCE) == before
    # A restore over the live database drops the grants of every restored table (README says so, and
    # how to re-apply them).
    grant = "SELECT has_table_privilege('reporting', 'reminders', 'SELECT')"
    assert source.psql(grant, db=SOURCE) == "f"
    source.psql("GRANT SELECT ON reminders TO reporting", db=SOURCE)
    assert source.psql(grant, db=SOURCE) == "t"


# ---------------------------------------------------------------------------------------------------------
# Faults: non-zero exit, one clear message, the source unchanged, no dump at a final key


def _assert_failed_cleanly(
    run: Run, source: Postgres, s3: S3, bucket: str, before: dict, fragment: str
) -> None:
    assert run.code != 0
    assert len(run.messages) == 1, run.messages
    assert fragment in run.messages[0], run.messages
    assert fingerprint(source, SOURCE) == before
    if bucket:
        assert dumps(s3, bucket) == [] and [k for k in s3.keys(bucket) if "incoming/" in k] == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"PGPASSWORD": "wrong"}, "cannot connect to database 'app_src'"),
        ({"PGPORT": "1"}, "cannot connect to database 'app_src' on 127.0.0.1:1"),
        ({"BACKUP_BUCKET": "no-such-bucket-here"}, "upload of the dump to s3://no-such-bucket-here/"),
    ],
    ids=["wrong-password", "unreachable-database", "missing-bucket"],
)
def test_backup_faults(source: Postgres, s3: S3, env, bucket, change, fragment) -> None:
    before = fingerprint(source, SOURCE)
    run = run_script({**env, **change})
    _assert_failed_cleanly(run, source, s3, bucket, before, fragment)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"PGPASSWORD": "wrong"}, "cannot connect to database"),
        ({"RESTORE_KEY": "postgres/none.dump"}, "cannot read"),
    ],
    ids=["wrong-password-before-download", "missing-key"],
)
def test_restore_faults(source: Postgres, dumped: Dump, change, fragment) -> None:
    env, done = dumped.env, dumped.done
    key = done["key"]
    before, target = fingerprint(source, SOURCE), new_db()
    run = restore({**env, **change}, change.get("RESTORE_KEY", key), target, **change)
    assert run.code == 1 and len(run.messages) == 1 and fragment in run.messages[0], run.messages
    assert fingerprint(source, SOURCE) == before
    assert source.psql(f"SELECT count(*) FROM pg_database WHERE datname = '{target}'") == "0"


def test_a_wrong_password_fails_before_the_key_is_even_looked_up(env) -> None:
    run = restore({**env, "PGPASSWORD": "wrong"}, "postgres/does/not/exist.dump", new_db())
    assert run.code == 1 and run.messages[0].startswith("pg-backup: cannot connect to database"), run.messages


@pytest.mark.parametrize("kind", ["truncated", "garbage"])
def test_truncated_or_garbage_objects_are_refused(source: Postgres, s3: S3, dumped: Dump, kind) -> None:
    env, done = dumped.env, dumped.done
    bucket = env["BACKUP_BUCKET"]
    key = (
        f"postgres/{SOURCE}/2000/01/01/{kind}.dump"  # older than every real dump (the drill takes the newest)
    )
    if kind == "truncated":
        s3.write(bucket, key, s3.read(bucket, done["key"])[:4096], {"sha256": done["sha256"]})
    else:
        s3.write(bucket, key, os.urandom(5000))
    target = new_db()
    run = restore(env, key, target)
    assert run.code == 1
    expected = "checksum mismatch" if kind == "truncated" else "has no recorded SHA-256"
    assert expected in run.stderr and len(run.messages) == 1, run.messages
    unverified = restore(env, key, target, RESTORE_ALLOW_UNVERIFIED="yes")
    if kind == "garbage":
        assert unverified.code == 1 and "not a readable pg_dump custom-format archive" in unverified.stderr
    assert source.psql(f"SELECT count(*) FROM pg_database WHERE datname = '{target}'") == "0"


def test_a_full_disk_during_the_download_fails_the_restore(source: Postgres, dumped: Dump) -> None:
    env, done = dumped.env, dumped.done
    key = done["key"]

    def small_disk() -> None:  # writes beyond 64 KiB fail, as on a full volume
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    target = new_db()
    run = run_script({**env, "MODE": "restore", "RESTORE_KEY": key, "RESTORE_TARGET_DATABASE": target},
                     preexec=small_disk)  # fmt: skip
    assert run.code == 1 and "download of" in run.stderr, run.stderr
    assert source.psql(f"SELECT count(*) FROM pg_database WHERE datname = '{target}'") == "0"


# ---------------------------------------------------------------------------------------------------------
# Mid-stream faults: the real pg_dump behind a shim that stops it part way (a marker file says when)

SHIM = """#!/usr/bin/env bash
if [ "${1:-}" = "--version" ]; then exec "$REAL_PG_DUMP" --version; fi
"$REAL_PG_DUMP" "$@" > "$SHIM_DIR/full.dump" || exit $?
head -c 3000 "$SHIM_DIR/full.dump"
touch "$SHIM_DIR/started"
case "$SHIM_MODE" in
  die) exit 137 ;;
  hold) sleep 60 ;;
  wait) while [ ! -e "$SHIM_DIR/go" ]; do sleep 0.05; done ;;
esac
tail -c +3001 "$SHIM_DIR/full.dump"
"""


def shim(tmp: Path, pg: Postgres, mode: str) -> dict[str, str]:
    bindir = tmp / "shim"
    bindir.mkdir()
    (bindir / "pg_dump").write_text(SHIM)
    (bindir / "pg_dump").chmod(0o755)
    return {"REAL_PG_DUMP": str(pg.bindir / "pg_dump"), "SHIM_DIR": str(bindir), "SHIM_MODE": mode,
            "PATH_PREFIX": str(bindir)}  # fmt: skip


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    full = {k: v for k, v in env.items() if k != "PATH_PREFIX"}
    if "PATH_PREFIX" in env:
        full["PATH"] = f"{env['PATH_PREFIX']}:{full['PATH']}"
    return subprocess.Popen(["bash", str(SCRIPT), *args], env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip


def wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> Run:
    out, err = proc.communicate(timeout=timeout)
    return Run(proc.returncode, out, err)


def test_pg_dump_dying_mid_stream_leaves_no_dump(source: Postgres, s3: S3, env, bucket, tmp_path) -> None:
    before = fingerprint(source, SOURCE)
    run = finish(start({**env, **shim(tmp_path, source, "die")}))
    _assert_failed_cleanly(run, source, s3, bucket, before, "pg_dump of 'app_src' failed (exit 137)")


def test_s3_going_down_mid_upload_fails_cleanly(source: Postgres, env, tmp_path) -> None:
    before = fingerprint(source, SOURCE)
    with s3_server(tmp_path) as private:
        private_bucket = private.bucket("backups-going-down")
        extra = shim(tmp_path, source, "wait")
        proc = start({**env, **private.env, "PATH": env["PATH"], "BACKUP_BUCKET": private_bucket, **extra})
        wait_for(Path(extra["SHIM_DIR"]) / "started")
        private.proc.send_signal(signal.SIGKILL)
        private.proc.wait(10)
        (Path(extra["SHIM_DIR"]) / "go").touch()
        run = finish(proc)
    assert run.code == 1 and fingerprint(source, SOURCE) == before
    assert "upload of the dump to" in run.messages[0] and "no dump was stored" in run.messages[0], (
        run.messages
    )


# ---------------------------------------------------------------------------------------------------------
# Schedule mode


def test_schedule_mode_backs_up_at_the_next_run_time(source: Postgres, s3: S3, env, bucket) -> None:
    """rate(1 hours) with the clock set 2 s before a full hour: it sleeps 2 s, then backs up once."""
    now = (int(time.time()) // 3600 + 1) * 3600 - 2
    schedule = {"BACKUP_SCHEDULE": "rate(1 hours)", "SCHEDULE_NOW": str(now), "SCHEDULE_ONCE": "1"}
    run = run_script({**env, **schedule}, "schedule", timeout=60)
    assert run.code == 0, run.stderr
    planned, done = run.events
    assert planned["event"] == "pg_backup_schedule" and planned["sleep_seconds"] == 2
    assert done["event"] == "pg_backup_complete" and done["duration_seconds"] < 30
    assert dumps(s3, bucket) == [done["key"]]


def test_sigterm_during_a_scheduled_backup_stops_at_once_and_leaves_nothing(
    source: Postgres, s3: S3, env, bucket, tmp_path
) -> None:
    """The dev container's stop grace is 10 s: the stop must not wait for the dump."""
    now = (int(time.time()) // 3600 + 1) * 3600 - 1
    extra = shim(tmp_path, source, "hold")
    proc = start({**env, **extra, "BACKUP_SCHEDULE": "rate(1 hours)", "SCHEDULE_NOW": str(now)}, "schedule")
    wait_for(Path(extra["SHIM_DIR"]) / "started")
    stopped = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    run = finish(proc, timeout=30)
    assert run.code == 143 and time.monotonic() - stopped < 8, run.stderr
    assert "stop signal received" in run.stderr
    # Nothing of the run lives on: an aws CLI left behind uploads what it read once its input closes.
    assert processes_with(f"SHIM_DIR={extra['SHIM_DIR']}") == []
    assert s3.keys(bucket) == []


def processes_with(environ_entry: str) -> list[str]:
    """Command lines of the live processes whose environment holds this exact entry."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if environ_entry.encode() in (proc / "environ").read_bytes().split(b"\0"):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip())
        except OSError:
            continue
    return found


# ---------------------------------------------------------------------------------------------------------
# Restore drill, and the container command reaching the script


def test_drill_restores_the_newest_dump_checks_counts_and_drops_the_scratch_database(
    source: Postgres, dumped: Dump, drilled: Run
) -> None:
    assert drilled.code == 0, drilled.stderr
    (done,) = [e for e in drilled.events if e["event"] == "pg_drill_complete"]
    assert (done["key"], done["tables"], done["rows"]) == (dumped.done["key"], 2, 5500)
    assert source.psql("SELECT count(*) FROM pg_database WHERE datname LIKE '%_drill_%'") == "0"


def test_drill_fails_when_the_restored_counts_differ_from_the_manifest(
    source: Postgres, s3: S3, dumped: Dump, env
) -> None:
    shared, done = dumped.env, dumped.done
    key = done["key"]
    head = s3.client.head_object(Bucket=shared["BACKUP_BUCKET"], Key=key)
    s3.write(env["BACKUP_BUCKET"], key, s3.read(shared["BACKUP_BUCKET"], key), head["Metadata"])
    manifest = json.loads(s3.read(shared["BACKUP_BUCKET"], f"{key}.manifest.json"))
    manifest["tables"]["public.tickets"] = 501
    s3.write(env["BACKUP_BUCKET"], f"{key}.manifest.json", json.dumps(manifest).encode())
    run = run_script({**env, "MODE": "drill"})
    assert run.code == 1
    (failed,) = [e for e in run.events if e["event"] == "pg_drill_failed"]
    assert "public.tickets expected 501 rows, found 500" in failed["reason"]
    assert source.psql("SELECT count(*) FROM pg_database WHERE datname LIKE '%_drill_%'") == "0"


def test_drill_without_any_dump_fails(env) -> None:
    run = run_script({**env, "MODE": "drill"})
    assert run.code == 1 and "no dump under" in run.stderr


def test_the_restore_task_command_reaches_the_script(source: Postgres, env, staging: Evaluation) -> None:
    """The restore task keeps the image's entrypoint (the script), so a container command is its mode:
    ``command: ["check"]`` checks instead of restoring."""
    containers = {
        r.name: json.loads(r.inputs["containerDefinitions"])[0]
        for r in staging.of_type("aws:ecs/taskDefinition:TaskDefinition")
    }
    restore_env = {e["name"]: e["value"] for e in containers["backups-restore-task"]["environment"]}
    assert "entryPoint" not in containers["backups-restore-task"] and restore_env["MODE"] == "restore"
    run = run_script({**env, "MODE": "restore", "RESTORE_KEY": "k.dump", "RESTORE_TARGET_DATABASE": new_db()},
                     "check")  # fmt: skip
    assert run.code == 0 and [e["event"] for e in run.events] == ["pg_backup_check"], run.stderr
