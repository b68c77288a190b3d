"""Backup and restore of a generated database with the real pg-backup script, measured.

``uv run python -m scripts.benchmark --backup-size-gb 1``: a PostgreSQL 15 server and moto's S3 API on
loopback (the real-peer tests' starters), about ``size`` GB of generated data in several tables with
indexes and text, then the script's ``backup`` (streamed to S3) and ``restore`` (into a new database),
each sampled every 0.2 s for the disk its working directory holds and the resident memory of its process
tree (the script, pg_dump/pg_restore, the AWS CLI; the database server is not part of the task).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.images.peers import S3, SCRIPT, Postgres, postgres_server, s3_server

DATABASE = "bench"
CHUNK_ROWS = 200_000
# Share of the target size the tables fill before the indexes are built (the indexes add the rest).
TABLE_SHARE = 0.78

SCHEMA = """
CREATE TYPE state AS ENUM ('pending', 'sent', 'acknowledged', 'escalated');
CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL,
  created timestamptz NOT NULL, settings jsonb NOT NULL);
CREATE TABLE reminders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account bigint NOT NULL,
  title text NOT NULL, body text NOT NULL, state state NOT NULL, due timestamptz NOT NULL, rank integer);
CREATE TABLE deliveries (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, reminder bigint NOT NULL,
  channel text NOT NULL, attempt smallint NOT NULL, sent timestamptz NOT NULL, response jsonb);
"""

# One chunk: accounts, reminders with sentence-like text (words drawn from a small vocabulary plus a hash,
# so it compresses like real prose, not like repeated bytes), deliveries with a JSON response.
CHUNK = """
INSERT INTO accounts SELECT g, 'user' || g || '@example' || (g % 97) || '.com', initcap(md5(g::text)),
  '2024-01-01'::timestamptz + g * interval '7 seconds',
  jsonb_build_object('tz', (ARRAY['UTC','Europe/Berlin','America/New_York'])[1 + g % 3], 'digest', g % 2 = 0)
FROM generate_series({lo} / 8 + 1, {hi} / 8) g;
INSERT INTO reminders (account, title, body, state, due, rank)
SELECT 1 + g % greatest({hi} / 8, 1),
  (ARRAY['Pay','Call','Renew','Send','Review','Book'])[1 + g % 6] || ' ' || substr(md5(g::text), 1, 10),
  (SELECT string_agg((ARRAY['the','invoice','meeting','please','reminder','tomorrow','contract','team',
     'urgent','follow','up','on','before','friday','client','review'])[1 + (g * 31 + i * 7) % 16], ' ')
   FROM generate_series(1, 12 + g % 20) i) || ' ' || md5((g * 3)::text),
  (ARRAY['pending','sent','acknowledged','escalated'])[1 + g % 4]::state,
  '2025-01-01'::timestamptz + g * interval '1 minute', g % 10
FROM generate_series({lo} + 1, {hi}) g;
INSERT INTO deliveries (reminder, channel, attempt, sent, response)
SELECT g, (ARRAY['email','sms','push'])[1 + g % 3], 1 + g % 3,
  '2025-01-01'::timestamptz + g * interval '61 seconds',
  jsonb_build_object('status', 200 + (g % 5) * 100, 'id', md5(g::text))
FROM generate_series({lo} + 1, {hi}) g;
"""

INDEXES = """
CREATE UNIQUE INDEX accounts_email ON accounts (email);
CREATE INDEX reminders_account_due ON reminders (account, due);
CREATE INDEX reminders_pending ON reminders (due) WHERE state = 'pending';
CREATE INDEX deliveries_reminder ON deliveries (reminder);
CREATE INDEX deliveries_sent ON deliveries (sent);
ANALYZE;
"""


def generate(pg: Postgres, size_gb: float) -> tuple[int, float]:
    """Fill ``DATABASE`` to about ``size_gb`` GB; returns (pg_database_size bytes, seconds)."""
    start = time.monotonic()
    pg.psql(f"DROP DATABASE IF EXISTS {DATABASE}")
    pg.psql(f"CREATE DATABASE {DATABASE}")
    pg.psql(SCHEMA, db=DATABASE)
    target, rows = size_gb * 1e9 * TABLE_SHARE, 0
    while database_size(pg) < target:
        pg.psql(CHUNK.format(lo=rows, hi=rows + CHUNK_ROWS), db=DATABASE)
        rows += CHUNK_ROWS
    pg.psql(INDEXES, db=DATABASE)
    return database_size(pg), time.monotonic() - start


def database_size(pg: Postgres, db: str = DATABASE) -> int:
    return int(pg.psql(f"SELECT pg_database_size('{db}')"))


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def disk_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


@dataclass
class Measured:
    seconds: float
    cpu_seconds: float  # user + system of the script and everything it ran (not the database server)
    peak_disk: int
    peak_rss: int
    events: list[dict]


def measured_run(env: Mapping[str, str], workdir: Path) -> Measured:
    """Run the script once, sampling its working directory and its process tree every 0.2 s."""
    peaks = {"disk": 0, "rss": 0}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.Popen(
        ["bash", str(SCRIPT)], env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peaks["disk"] = max(peaks["disk"], disk_bytes(workdir))
            peaks["rss"] = max(peaks["rss"], tree_rss_bytes(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    done.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"benchmark: pg-backup {env['MODE']} exited {proc.returncode}:\n{err}")
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return Measured(seconds, cpu, peaks["disk"], peaks["rss"], events)


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def summary(m: Measured) -> str:
    return (
        f"{m.seconds:.1f} s wall, {m.cpu_seconds:.1f} s CPU of the task's processes, peak disk "
        f"{mib(m.peak_disk)}, peak RSS {mib(m.peak_rss)}"
    )


def run(size_gb: float) -> int:
    with tempfile.TemporaryDirectory(prefix="pg-backup-bench-") as tmp_name:
        tmp = Path(tmp_name)
        tmp.chmod(0o755)  # as root the server runs as nobody, which must reach its directory
        (tmp / "pg").mkdir()
        (tmp / "s3").mkdir()
        with postgres_server(tmp / "pg") as pg, s3_server(tmp / "s3") as s3:
            return _measure(pg, s3, tmp, size_gb)


def _measure(pg: Postgres, s3: S3, tmp: Path, size_gb: float) -> int:
    load = os.getloadavg()[0]
    db_size, generate_seconds = generate(pg, size_gb)
    bucket = s3.bucket("bench-backups")
    work = tmp / "work"
    work.mkdir()
    env = {
        **pg.env,
        **s3.env,
        "PATH": f"{pg.env['PATH'].split(':')[0]}:{s3.env['PATH']}",
        "BACKUP_BUCKET": bucket,
        "BACKUP_PREFIX": "postgres/",
        "PGDATABASE": DATABASE,
        "WORKDIR": str(work),
    }
    backup = measured_run({**env, "MODE": "backup"}, work)
    (done,) = [e for e in backup.events if e["event"] == "pg_backup_complete"]
    target = f"{DATABASE}_restored"
    restore = measured_run(
        {**env, "MODE": "restore", "RESTORE_KEY": done["key"], "RESTORE_TARGET_DATABASE": target}, work
    )
    restored = database_size(pg, target)
    dump = int(done["size_bytes"])
    rows = [
        ("date (UTC)", time.strftime("%Y-%m-%d", time.gmtime())),
        ("machine", f"{platform.machine()}, {os.cpu_count()} cores, load {load:.1f} at start"),
        ("generated in", f"{generate_seconds:.0f} s"),
        ("pg_database_size", f"{gib(db_size)} ({db_size} bytes)"),
        ("dump size (custom, -Z 9)", f"{gib(dump)} ({dump} bytes), dump/database = {dump / db_size:.3f}"),
        ("backup", summary(backup)),
        ("restore", summary(restore)),
        ("restored pg_database_size", gib(restored)),
    ]  # fmt: skip
    width = max(len(k) for k, _ in rows)
    print("== backup and restore of a generated database (pg-backup.sh, PostgreSQL 15, moto S3)")
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    return 0
