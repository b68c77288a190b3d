"""Estimated fresh-deploy time: the critical path through the recorded dependency graph.

Every recorded resource is a node. A resource starts when everything it depends on is done:

* its ``dependencies`` (what the engine receives: property dependencies plus explicit ``depends_on``),
* the URNs of its ``property_dependencies`` (inputs that are outputs of other resources),
* a dependency on a component means "all of the component's descendants": a component is done when its
  children are (parent/child edges), and takes no time itself.

A custom resource then takes its typical creation time from ``preflight/data/create_times.yaml`` (type,
optionally refined by its inputs, e.g. RDS Multi-AZ). The deploy time is the latest finish; the chain of
resources that produces it is the critical path.

The *unavoidable chain* is the same computation over data dependencies only: edges that the resources'
inputs require (property dependencies, i.e. an input is another resource's output), with explicit
``depends_on`` edges that are not property dependencies dropped. No engine could deploy faster than this
chain, so ``critical / unavoidable`` measures how much ordering the program adds on top (target <= 1.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .model import RecordedResource

DATA_FILE = Path(__file__).resolve().parent / "data" / "create_times.yaml"


@dataclass(frozen=True)
class CreateTimes:
    default_seconds: float
    component_seconds: float
    types: Mapping[str, Mapping[str, Any]]

    def seconds(self, resource: RecordedResource) -> tuple[float, bool]:
        """(typical creation seconds, whether the type is listed in the data file)."""
        if not resource.custom:
            return self.component_seconds, True
        entry = self.types.get(resource.type)
        if entry is None:
            return self.default_seconds, False
        for rule in entry.get("when", ()):
            wanted: Mapping[str, Any] = rule.get("inputs", {})
            if all(resource.inputs.get(k) == v for k, v in wanted.items()):
                return float(rule["seconds"]), True
        return float(entry["seconds"]), True


@cache
def load_create_times(path: Path = DATA_FILE) -> CreateTimes:
    raw = yaml.safe_load(path.read_text())
    return CreateTimes(
        default_seconds=float(raw["default_seconds"]),
        component_seconds=float(raw.get("component_seconds", 0)),
        types=raw["types"],
    )


@dataclass(frozen=True)
class Step:
    resource: RecordedResource
    seconds: float
    finish: float


@dataclass
class DeployTime:
    """The critical path (all ordering edges) and the unavoidable chain (data dependencies only)."""

    total_seconds: float
    chain: list[Step]
    unavoidable_seconds: float
    unavoidable_chain: list[Step]
    unlisted_types: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.total_seconds / self.unavoidable_seconds if self.unavoidable_seconds else 1.0


def _edges(resource: RecordedResource, data_only: bool) -> set[str]:
    data = {urn for urns in resource.property_dependencies.values() for urn in urns}
    if data_only:
        return data
    return data | set(resource.dependencies)


def critical_path(
    resources: Iterable[RecordedResource], *, data_only: bool = False, times: CreateTimes | None = None
) -> tuple[float, list[Step]]:
    """Latest finish time of a fresh deployment and the chain of custom resources that produces it."""
    times = times or load_create_times()
    by_urn = {r.urn: r for r in resources}
    children: dict[str, list[str]] = {}
    for r in by_urn.values():
        if r.parent in by_urn:
            children.setdefault(r.parent, []).append(r.urn)

    # done[urn] = (finish time, predecessor urn on the chain or None); components finish with their
    # latest descendant and pass that descendant's chain through.
    done: dict[str, tuple[float, str | None]] = {}
    visiting: set[str] = set()

    def finish(urn: str) -> tuple[float, str | None]:
        if urn in done:
            return done[urn]
        if urn in visiting:  # a cycle cannot be deployed; treat the back edge as absent
            return 0.0, None
        visiting.add(urn)
        r = by_urn[urn]
        if not r.custom:
            best: tuple[float, str | None] = (0.0, None)
            # done with its latest descendant; its own dependencies also gate it (children may be instant)
            # sorted: the recorded order is async registration order; ties must break the same every run
            gates = sorted({*children.get(urn, ()), *(d for d in _edges(r, data_only) if d in by_urn)})
            for gate in gates:
                t, via = finish(gate)
                if t > best[0]:
                    best = (t, gate if by_urn[gate].custom else via)
            done[urn] = best
        else:
            start, pred = 0.0, None
            for dep in sorted(_edges(r, data_only)):
                if dep not in by_urn:
                    continue
                t, via = finish(dep)
                if t > start:
                    start, pred = t, (dep if by_urn[dep].custom else via)
            seconds, _ = times.seconds(r)
            done[urn] = (start + seconds, pred)
        visiting.discard(urn)
        return done[urn]

    for urn in by_urn:
        finish(urn)
    custom_done = [(done[u][0], u) for u, r in by_urn.items() if r.custom]
    if not custom_done:
        return 0.0, []
    total, last = max(custom_done, key=lambda item: item[0])
    chain: list[Step] = []
    cursor: str | None = last
    while cursor is not None:
        r = by_urn[cursor]
        chain.append(Step(r, times.seconds(r)[0], done[cursor][0]))
        cursor = done[cursor][1]
    chain.reverse()
    return total, chain


def estimate(resources: Iterable[RecordedResource], times: CreateTimes | None = None) -> DeployTime:
    items = list(resources)
    times = times or load_create_times()
    total, chain = critical_path(items, times=times)
    unavoidable, unavoidable_chain = critical_path(items, data_only=True, times=times)
    unlisted = sorted({r.type for r in items if r.custom and not times.seconds(r)[1]})
    return DeployTime(total, chain, unavoidable, unavoidable_chain, unlisted)


def _fmt(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def _chain_lines(chain: list[Step]) -> list[str]:
    return [
        f"  {_fmt(s.finish - s.seconds)} -> {_fmt(s.finish)}  +{_fmt(s.seconds)}  {s.resource.name} "
        f"[{s.resource.type}]"
        for s in chain
    ]


def deploytime_lines(result: DeployTime) -> list[str]:
    lines = [
        f"estimated fresh deploy: {_fmt(result.total_seconds)} "
        f"(critical path, {len(result.chain)} resources)",
        *_chain_lines(result.chain),
        f"unavoidable chain (data dependencies only): {_fmt(result.unavoidable_seconds)}; "
        f"ratio {result.ratio:.2f}",
    ]
    if result.unavoidable_chain != result.chain:
        lines += _chain_lines(result.unavoidable_chain)
    if result.unlisted_types:
        lines.append(
            f"types without a typical create time (counted as {_fmt(load_create_times().default_seconds)}): "
            + ", ".join(result.unlisted_types)
        )
    return lines
