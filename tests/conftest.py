"""Shared fixtures: each committed stack is evaluated once per test session (preview and up mode)."""

from __future__ import annotations

import fcntl
import gc
import os
import pickle
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from preflight.analyzer import DEFAULT_PACK_DIR, PackProcess, start_pack  # noqa: E402
from preflight.engine import Evaluation, evaluate, reset_runtime  # noqa: E402
from tests import early  # noqa: E402

# Under pytest-xdist the workers share each evaluation as well: the first worker to need a stack and mode
# evaluates it and leaves it pickled in the run's shared temporary directory (set by `_shared_directory`);
# another waits for that and loads it instead of evaluating the same stack again.
_SHARED: list[Path] = []


@cache
def stack_evaluation(stack: str, preview: bool) -> Evaluation:
    evaluation = _shared_evaluation(stack, preview) if _SHARED else _evaluate(stack, preview)
    # The evaluation (and the SDK modules it imported) live until the session ends: later collections
    # need not walk them again and again.
    gc.freeze()
    return evaluation


def _evaluate(stack: str, preview: bool) -> Evaluation:
    evaluation = evaluate(stack, preview=preview)
    assert evaluation.error is None, f"{stack} failed: {evaluation.error}"
    return evaluation


def _shared_evaluation(stack: str, preview: bool) -> Evaluation:
    path = _SHARED[0] / f"{stack}-{'preview' if preview else 'up'}.pickle"
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if path.exists():
            return pickle.loads(path.read_bytes())
        evaluation = _evaluate(stack, preview)
        partial = path.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(evaluation))
        partial.replace(path)
        return evaluation


@pytest.fixture(scope="session", autouse=True)
def _shared_directory(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A worker's base temporary directory sits in the run's own (``.../pytest-N/popen-gw0``)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = tmp_path_factory.getbasetemp().parent / "stack-evaluations"
        shared.mkdir(exist_ok=True)
        _SHARED.append(shared)


# pytest-xdist (`--dist loadgroup`, pyproject addopts) sends a group's tests to one worker, in order. The
# real-peer tests that read the shared backup (tests/images/conftest.py) are a group, so that one backup and
# one drill serve them all; the other real-peer tests run on either worker, each worker with its own
# PostgreSQL server and S3 API. A module whose tests wait for early work (tests/early.py) is a group too, so
# that its first test can start that work and its other tests run meanwhile. Everything else is balanced
# test by test.
SHARED_BACKUP = frozenset({"dumped", "drilled"})
_GROUP = pytest.StashKey[str | None]()
_EARLY_DONE: set[str] = set()


def _wants_early(item: pytest.Item) -> bool:
    return bool(set(getattr(item, "fixturenames", ())) & set(early.STARTS))


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the marks into the node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    early_modules = {item.path for item in items if _wants_early(item)}
    for item in items:
        if SHARED_BACKUP & set(getattr(item, "fixturenames", ())):
            group = "shared-backup"
        else:
            group = item.path.name if item.path in early_modules else None
        item.stash[_GROUP] = group
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(autouse=True)
def _early_work(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Start the slow work (tests/early.py) that the collected tests wait for: at the first test of the
    session, or under xdist at the first test of each group (a worker runs only the groups it is sent)."""
    worker = bool(os.environ.get("PYTEST_XDIST_WORKER"))
    group = request.node.stash.get(_GROUP, None) if worker else "session"
    if group is None or group in _EARLY_DONE:
        return
    _EARLY_DONE.add(group)
    items = [item for item in request.session.items if not worker or item.stash.get(_GROUP, None) == group]
    early.start_wanted(
        {name for item in items for name in getattr(item, "fixturenames", ())}, tmp_path_factory
    )


@pytest.fixture(autouse=True)
def _isolated_pulumi_runtime() -> Iterator[None]:
    """Pulumi's mock runtime is process-global: start and end every test from a clean one."""
    reset_runtime()
    yield
    reset_runtime()


@pytest.fixture(scope="session")
def staging() -> Evaluation:
    return stack_evaluation("staging", True)


@pytest.fixture(scope="session")
def staging_up() -> Evaluation:
    return stack_evaluation("staging", False)


@pytest.fixture(scope="session")
def production() -> Evaluation:
    return stack_evaluation("production", True)


@pytest.fixture(scope="session")
def production_up() -> Evaluation:
    return stack_evaluation("production", False)


@pytest.fixture(scope="session")
def dev() -> Evaluation:
    """The local dev stack (``platform: docker``) in preview mode."""
    return stack_evaluation("dev", True)


@pytest.fixture(scope="session")
def dev_up() -> Evaluation:
    return stack_evaluation("dev", False)


@pytest.fixture(params=["staging", "production"])
def stack(request: pytest.FixtureRequest) -> Evaluation:
    """Both committed stacks in preview mode (what `pulumi preview` and the policy pack see)."""
    return stack_evaluation(request.param, True)


@pytest.fixture(scope="session")
def pack() -> Iterator[PackProcess]:
    """The policy pack, once per session as its own process, started and configured like the CLI does.
    Tests that change its configuration restore the defaults (``configure`` in tests/policies)."""
    with start_pack(DEFAULT_PACK_DIR) as process:
        process.configure()
        yield process
