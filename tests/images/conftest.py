"""Session fixtures of the real-peer tests: PostgreSQL, moto's S3 API, the source database, the backups'
KMS alias, and one backup of the source (with the drill after it) that the reading tests share.

Each xdist worker that runs a real-peer test has its own servers. The tests that read the shared backup
(they ask for ``dumped`` or ``drilled``) are one xdist group (tests/conftest.py), so it is made once.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.images.peers import (
    DRILL_LIMIT,
    REGION,
    S3,
    SCHEMA,
    SOURCE,
    Dump,
    Postgres,
    backed_up,
    postgres_server,
    run_script,
    s3_server,
    task_env,
)


@pytest.fixture(scope="session")
def pg() -> Iterator[Postgres]:
    with tempfile.TemporaryDirectory(prefix="pg-backup-pg-") as tmp, postgres_server(Path(tmp)) as server:
        yield server


@pytest.fixture(scope="session")
def s3() -> Iterator[S3]:
    with tempfile.TemporaryDirectory(prefix="pg-backup-s3-") as tmp, s3_server(Path(tmp)) as server:
        yield server


@pytest.fixture(scope="session")
def source(pg: Postgres) -> Postgres:
    """The database the tasks back up: every kind of object pg_dump must carry (tests/images/peers.py)."""
    pg.psql(f"DROP DATABASE IF EXISTS {SOURCE}")
    pg.psql("DROP ROLE IF EXISTS reporting")
    pg.psql(f"CREATE DATABASE {SOURCE}")
    pg.psql(SCHEMA, db=SOURCE)
    return pg


@pytest.fixture(scope="session")
def kms_alias(s3: S3) -> str:
    """The backups key's alias ARN, as the task passes it (moto serves KMS on the same endpoint)."""
    import boto3

    kms = boto3.client("kms", endpoint_url=s3.endpoint, region_name=REGION, aws_access_key_id="testing",
                       aws_secret_access_key="testing")  # fmt: skip
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/app-test/backups", TargetKeyId=key)
    return f"arn:aws:kms:{REGION}:123456789012:alias/app-test/backups"


@pytest.fixture(scope="session")
def dumped(source: Postgres, s3: S3, kms_alias: str, tmp_path_factory: pytest.TempPathFactory) -> Dump:
    """One backup of the source in a bucket of its own, run with the backup task's environment (the drill
    limit too, so its run also reports the drill's age): shared by the tests that only read it."""
    bucket = s3.bucket(f"backups-{os.getpid()}-shared")
    env = task_env(source, s3, bucket, tmp_path_factory.mktemp("dumped"), MODE="backup",
                   BACKUP_KMS_KEY_ID=kms_alias, DRILL_MAX_AGE_SECONDS=str(DRILL_LIMIT))  # fmt: skip
    return backed_up(env, s3)


@pytest.fixture(scope="session")
def drilled(s3: S3, dumped: Dump):
    """The restore drill on the shared bucket, after an older object was put beside the dump: the drill
    must take the newest dump, never that one."""
    key = dumped.done["key"]
    older = key.replace(f"/{key.split('/')[2]}/", "/2001/")
    s3.write(dumped.env["BACKUP_BUCKET"], older, b"an older dump, never chosen")
    return run_script({**dumped.env, "MODE": "drill"})
