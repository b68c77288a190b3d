"""The policy pack runs once per test session as its own process, started and configured like the CLI does."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest

from preflight.analyzer import DEFAULT_PACK_DIR, PackProcess, Violation, start_pack
from preflight.model import RecordedResource


@pytest.fixture(scope="session")
def pack() -> Iterator[PackProcess]:
    with start_pack(DEFAULT_PACK_DIR) as process:
        process.configure()
        yield process


@pytest.fixture
def analyze(pack: PackProcess) -> Callable[[Sequence[RecordedResource]], list[Violation]]:
    return pack.analyze


@pytest.fixture
def configure(pack: PackProcess) -> Iterator[Callable[..., object]]:
    """Configure the session's pack for one test; the defaults are restored afterwards."""
    yield pack.configure
    pack.configure()
