"""Helpers over the session's policy pack (``pack`` in tests/conftest.py: one process per test session)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest

from preflight.analyzer import PackProcess, Violation
from preflight.model import RecordedResource


@pytest.fixture
def analyze(pack: PackProcess) -> Callable[[Sequence[RecordedResource]], list[Violation]]:
    return pack.analyze


@pytest.fixture
def configure(pack: PackProcess) -> Iterator[Callable[..., object]]:
    """Configure the session's pack for one test; the defaults are restored afterwards."""
    yield pack.configure
    pack.configure()
