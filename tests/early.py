"""Slow work a test waits for, started as the session begins so that it runs on the other core meanwhile.

A test module turns ``start(directory) -> Future`` into a session fixture with :func:`starts_early`. When a
collected test uses that fixture, ``tests/conftest.py`` calls ``start`` before the first test runs (in the
main thread: evaluations must not overlap) and the fixture returns the future's result. ``start`` should
hand only a subprocess (Checkov) to :data:`POOL`; its thread just waits for it. Under pytest-xdist a worker
starts the work when it begins the first test of the group that wants it (``tests/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="early")
STARTS: dict[str, Callable[[Path], Future[Any]]] = {}
STARTED: dict[str, Future[Any]] = {}


def starts_early(start: Callable[[Path], Future[T]]) -> Callable[..., T]:
    """A session fixture named after ``start`` whose work begins when the session does."""
    name = start.__name__
    STARTS[name] = start

    @pytest.fixture(scope="session", name=name)
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> T:
        if name not in STARTED:
            STARTED[name] = start(tmp_path_factory.mktemp(name))
        return STARTED[name].result()

    return fixture


def start_wanted(fixture_names: set[str], tmp_path_factory: pytest.TempPathFactory) -> None:
    for name, start in STARTS.items():
        if name in fixture_names and name not in STARTED:
            STARTED[name] = start(tmp_path_factory.mktemp(name))
