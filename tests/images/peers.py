"""Real peers for the pg-backup script: a PostgreSQL server and moto's S3 API on loopback.

Each starts on a free port in a temporary directory and stops by its PID. PostgreSQL refuses to run as
root, so as root the cluster belongs to ``nobody``. Missing binaries fail the tests in CI (``CI`` set) and
skip them, with the reason, elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "images" / "pg-backup" / "pg-backup.sh"
PG_MAJOR = 15  # the stacks' postgres.majorVersion
PASSWORD = "s3cr3t-Pa55"  # a throwaway cluster's superuser
REGION = "us-west-2"
SOURCE = "app_src"  # the database the tasks back up
# The backup task's drill limit (components/aws/backups/task.py sets one on every backup): a weekly
# drill plus a day.
DRILL_LIMIT = 8 * 86400

# Every kind of object pg_dump must carry: an enum, identity and sequence defaults, a partial index, a
# view, constraints, jsonb, and a role with a grant (restores leave grants out: README).
SCHEMA = """
CREATE TYPE priority AS ENUM ('low', 'normal', 'high');
CREATE TABLE reminders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  title text NOT NULL,
  level priority NOT NULL DEFAULT 'normal',
  due timestamptz NOT NULL,
  payload jsonb,
  rank integer CHECK (rank <= 5)
);
CREATE INDEX reminders_due ON reminders (due) WHERE level = 'high';
CREATE SEQUENCE ticket_seq START 1000 INCREMENT 7;
CREATE TABLE tickets (
  n bigint DEFAULT nextval('ticket_seq') PRIMARY KEY,
  reminder bigint REFERENCES reminders
);
CREATE VIEW overdue AS SELECT id, title FROM reminders WHERE due < '2026-01-01';
INSERT INTO reminders (title, level, due, payload, rank)
  SELECT 'r' || g, (ARRAY['low','normal','high'])[1 + g % 3]::priority,
         '2025-01-01'::timestamptz + g * interval '1 minute',
         jsonb_build_object('g', g, 'tags', jsonb_build_array(g % 7)), g % 6
  FROM generate_series(1, 5000) g;
INSERT INTO tickets (reminder) SELECT g FROM generate_series(1, 500) g;
CREATE ROLE reporting NOLOGIN;
GRANT SELECT ON reminders TO reporting;
"""


def need(what: str) -> None:
    """Fail in CI, skip elsewhere: a real-peer test never passes silently without its peer."""
    message = f"real-peer test needs {what}; .ci/run installs it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin() -> Path:
    for candidate in (Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin"),):
        if (candidate / "postgres").exists():
            return candidate
    found = shutil.which("postgres")
    if found is None:
        need(f"PostgreSQL {PG_MAJOR} server binaries (Debian postgresql-{PG_MAJOR})")
    return Path(str(found)).parent


def venv_bin(name: str) -> str:
    path = Path(sys.executable).parent / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        need(f"{name} (uv dev dependency)")
    return str(found)


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the peer's whole process group (it was started in a session of its own, so a wrapper such
    as runuser and what it runs both get it), then SIGKILL the group if it is still there after 10 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@dataclass
class Postgres:
    port: int
    bindir: Path
    env: dict[str, str] = field(default_factory=dict)

    def psql(self, sql: str, db: str = "postgres", check: bool = True) -> str:
        run = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db],
            input=sql,
            capture_output=True,
            text=True,
            env=self.env,
            check=False,
        )
        if check and run.returncode != 0:
            raise AssertionError(f"psql failed: {run.stderr}")
        return run.stdout.strip()


@contextmanager
def postgres_server(tmp: Path) -> Iterator[Postgres]:
    bindir = pg_bin()
    data = tmp / "pgdata"
    as_root = os.geteuid() == 0
    owner = ["runuser", "-u", "nobody", "--"] if as_root else []
    tmp.chmod(0o755)
    data.mkdir(mode=0o700)
    (tmp / "pwfile").write_text(PASSWORD + "\n")
    if as_root:
        shutil.chown(data, "nobody")
        shutil.chown(tmp / "pwfile", "nobody")
    run = subprocess.run(
        [*owner, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "scram-sha-256",
         f"--pwfile={tmp / 'pwfile'}", "--no-sync", "-E", "UTF8", "--locale=C"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if run.returncode != 0:
        raise RuntimeError(f"initdb failed: {run.stderr}")
    # TLS with a throwaway self-signed certificate: the tasks run with PGSSLMODE=require.
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(data / "server.key"), "-out", str(data / "server.crt")],
        capture_output=True, check=True,
    )  # fmt: skip
    (data / "server.key").chmod(0o600)
    if as_root:
        for name in ("server.key", "server.crt"):
            shutil.chown(data / name, "nobody")
    port = free_port()
    proc = subprocess.Popen(
        [*owner, str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(data),
         "-c", "listen_addresses=127.0.0.1", "-c", "ssl=on", "-c", "fsync=off", "-c", "max_connections=40"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_port(port, proc, "postgres")
        env = {
            "PATH": f"{bindir}:{os.environ['PATH']}",
            "PGHOST": "127.0.0.1",
            "PGPORT": str(port),
            "PGUSER": "postgres",
            "PGPASSWORD": PASSWORD,
            "PGSSLMODE": "require",
        }
        server = Postgres(port, bindir, env)
        deadline = time.monotonic() + 20
        while server.psql("SELECT 1", check=False) != "1":
            if time.monotonic() > deadline:
                raise RuntimeError("postgres accepts no connection")
            time.sleep(0.1)
        yield server
    finally:
        stop(proc, signal.SIGINT)  # fast shutdown: end the sessions left open, do not wait for them


@dataclass
class S3:
    endpoint: str
    proc: subprocess.Popen[bytes]
    env: dict[str, str]

    @property
    def client(self):  # boto3 in-process: the tests' own reads and writes stay fast
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip

    def aws(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        run = subprocess.run(
            [venv_bin("aws"), *args], capture_output=True, text=True, env=self.env, check=False
        )
        if check and run.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {run.stderr}")
        return run

    def bucket(self, name: str) -> str:
        self.client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        self.client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def keys(self, bucket: str) -> list[str]:
        """Every version and delete marker: a hidden partial version counts."""
        data = self.client.list_object_versions(Bucket=bucket)
        return sorted(v["Key"] for v in [*data.get("Versions", []), *data.get("DeleteMarkers", [])])

    def read(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def write(self, bucket: str, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
        self.client.put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata or {})


def aws_env(endpoint: str) -> dict[str, str]:
    return {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "HOME": os.environ.get("HOME", "/tmp"),
    }


@contextmanager
def s3_server(tmp: Path) -> Iterator[S3]:
    binary = venv_bin("moto_server")
    venv_bin("aws")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_port(port, proc, "moto_server")
        endpoint = f"http://127.0.0.1:{port}"
        yield S3(endpoint, proc, aws_env(endpoint))
    finally:
        stop(proc)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def events(self) -> list[dict]:
        """The JSON lines the script prints on stdout, in order."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    @property
    def messages(self) -> list[str]:
        """The script's own lines, progress lines ("backing up ...", "downloading ...") left out."""
        progress = ("backing up ", "downloading ", "restoring into ", "created the target ", "drill: ")
        lines = [line for line in self.stderr.splitlines() if line.startswith("pg-backup: ")]
        return [line for line in lines if not line.removeprefix("pg-backup: ").startswith(progress)]


def run_script(
    env: Mapping[str, str], *args: str, timeout: float = 120, preexec=None, extra_path: str = ""
) -> Run:
    full = dict(env)
    if extra_path:
        full["PATH"] = f"{extra_path}:{full['PATH']}"
    proc = subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, env=full, timeout=timeout,
        check=False, preexec_fn=preexec,
    )  # fmt: skip
    return Run(proc.returncode, proc.stdout, proc.stderr)


def task_env(pg: Postgres, s3: S3, bucket: str, workdir: Path, **extra: str) -> dict[str, str]:
    """The backup task's environment (components/aws/backups/task.py) plus the test's endpoint."""
    return {
        **pg.env,
        **s3.env,
        "PATH": f"{pg.env['PATH'].split(':')[0]}:{s3.env['PATH']}",
        "BACKUP_BUCKET": bucket,
        "BACKUP_PREFIX": "postgres/",
        "PGDATABASE": SOURCE,
        "WORKDIR": str(workdir),
        **extra,
    }


@dataclass
class Dump:
    """A successful backup: its environment, its run, its ``pg_backup_complete`` event, and every key of
    its bucket (versions and delete markers too) right after it."""

    env: dict[str, str]
    run: Run
    done: dict
    keys: list[str]


def backed_up(env: dict[str, str], s3: S3) -> Dump:
    run = run_script(env)
    assert run.code == 0, run.stderr
    (done,) = [e for e in run.events if e["event"] == "pg_backup_complete"]
    return Dump(env, run, done, s3.keys(env["BACKUP_BUCKET"]))
