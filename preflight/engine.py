"""Evaluate the real Pulumi program for a stack under Pulumi's mock runtime and record what it registers.

``evaluate("staging", preview=True)`` reads ``Pulumi.staging.yaml`` verbatim, sets it as the program's
config, runs ``__main__.py`` with a recording monitor and returns an :class:`Evaluation`: every
``RegisterResource`` request (type, name, URN, parent, inputs in engine encoding, dependencies, property
dependencies, protect, retainOnDelete, ...), the stack outputs, and the program's error if it failed.

The Pulumi runtime keeps process-global state; every evaluation resets it first, so evaluations (and
tests) do not leak into each other. Evaluations in one process run one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import runpy
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime
from google.protobuf import json_format
from pulumi.runtime import config as runtime_config
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from .mocks import SaasMocks
from .model import UNKNOWN, RecordedResource
from .stackfile import REPO_ROOT, load_stack_config, project_name

_LOCK = threading.Lock()


@dataclass
class Evaluation:
    stack: str
    preview: bool
    resources: list[RecordedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def custom(self) -> list[RecordedResource]:
        return [r for r in self.resources if r.custom]

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> RecordedResource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise LookupError(f"expected one {type_} named {name!r}, found {len(found)} among {names}")
        return found[0]

    def by_urn(self, urn: str) -> RecordedResource:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise LookupError(urn)

    def children(self, parent_urn: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == parent_urn]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.resources:
            counts[r.type] = counts.get(r.type, 0) + 1
        return dict(sorted(counts.items()))


class RecordingMonitor(MockMonitor):
    """A MockMonitor that keeps every RegisterResource request as the engine would receive it."""

    def __init__(self, mocks: SaasMocks, evaluation: Evaluation) -> None:
        super().__init__(mocks)
        self.evaluation = evaluation

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        urn = response.urn
        state = self.resources[urn].state
        self.evaluation.resources.append(
            RecordedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent or None,
                inputs=json_format.MessageToDict(request.object),
                outputs=dict(state) if isinstance(state, dict) else {},
                id=response.id or None,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace),
                ignore_changes=list(request.ignoreChanges),
                additional_secret_outputs=list(request.additionalSecretOutputs),
                provider=request.provider,
            )
        )
        return response


def reset_runtime(project: str = "", stack: str = "", preview: bool = False) -> None:
    """Put Pulumi's process-global runtime state back to a clean slate."""
    runtime_settings.reset_options(
        project=project, stack=stack, preview=preview, root_directory=str(REPO_ROOT)
    )
    runtime_config.set_all_config({}, [])
    for pending in ("rpc_manager", "outputs"):  # outstanding RPCs and outputs of a previous run
        getattr(runtime_settings.SETTINGS, pending).clear()


async def _resolve_output(value: Any) -> tuple[Any, bool]:
    out = pulumi.Output.from_input(value)
    known = await out.is_known()
    secret = await out.is_secret()
    if not known:
        return UNKNOWN, secret
    return await out.future(with_unknowns=True), secret


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a program is evaluated (the collector's state is restored after).

    An evaluation allocates about a million objects, nearly all alive until it ends; each full collection
    would walk them and every SDK class again, for nothing (docs/decisions/preflight-speed.md).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _no_source_positions() -> Iterator[None]:
    """The SDK walks the whole Python stack for every resource it registers (``traceback.extract_stack``
    with source lines, then a file URI per frame) to send the engine a source position. The recording
    monitor keeps none, so an evaluation sends an empty stack trace; the program is unchanged."""
    original = runtime_resource._get_stack_trace
    runtime_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        runtime_resource._get_stack_trace = original


def run_program(
    program: Callable[[], Any],
    *,
    stack: str = "test",
    config: Mapping[str, str] | None = None,
    preview: bool = False,
    region: str | None = None,
) -> Evaluation:
    """Run ``program`` (any callable that declares resources) under the recording mock engine."""
    config = dict(config or {})
    region = region or config.get("aws:region") or "us-west-2"
    evaluation = Evaluation(stack=stack, preview=preview)
    with _LOCK, collector_paused(), _no_source_positions():
        project = project_name()
        reset_runtime(project, stack, preview)
        runtime_config.set_all_config(config, [])
        mocks = SaasMocks(preview=preview, region=region)
        monitor = RecordingMonitor(mocks, evaluation)
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
        # set_mocks re-applies defaults to the config map: set it again for the program.
        runtime_config.set_all_config(config, [])
        root = runtime_settings.get_root_resource()
        try:
            _sync_await(run_pulumi_func(program))
        except pulumi.RunError as exc:
            evaluation.error = str(exc)
        except Exception as exc:
            evaluation.error = f"{type(exc).__name__}: {exc}"
        if evaluation.ok and root is not None:
            exported: dict[str, Any] = getattr(root, "outputs", {})
            for key, value in exported.items():
                resolved, secret = _sync_await(_resolve_output(value))
                evaluation.outputs[key] = resolved
                if secret:
                    evaluation.secret_outputs.add(key)
        reset_runtime(project, stack, preview)
    return evaluation


def evaluate(
    stack: str,
    *,
    preview: bool = True,
    overrides: Mapping[str, Any] | None = None,
    program_path: Path | None = None,
) -> Evaluation:
    """Evaluate ``__main__.py`` for ``stack`` from its committed ``Pulumi.<stack>.yaml``.

    ``overrides`` replace whole top-level config keys (``{"saas-backend:api": {...}}``), for tests.
    """
    config = load_stack_config(stack, overrides)
    path = program_path or REPO_ROOT / "__main__.py"

    def program() -> None:
        if str(REPO_ROOT) not in sys.path:
            sys.path.insert(0, str(REPO_ROOT))
        cwd = os.getcwd()
        os.chdir(REPO_ROOT)  # the CLI runs the program from the project directory
        try:
            runpy.run_path(str(path), run_name="__main__")
        finally:
            os.chdir(cwd)

    return run_program(program, stack=stack, config=config, preview=preview)


def ensure_event_loop() -> None:
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
