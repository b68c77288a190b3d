"""Session fixtures of the real-peer tests: one PostgreSQL server and one moto S3 API per session."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.images.peers import S3, Postgres, postgres_server, s3_server


@pytest.fixture(scope="session")
def pg() -> Iterator[Postgres]:
    with tempfile.TemporaryDirectory(prefix="pg-backup-pg-") as tmp, postgres_server(Path(tmp)) as server:
        yield server


@pytest.fixture(scope="session")
def s3() -> Iterator[S3]:
    with tempfile.TemporaryDirectory(prefix="pg-backup-s3-") as tmp, s3_server(Path(tmp)) as server:
        yield server
