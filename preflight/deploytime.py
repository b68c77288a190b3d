"""Estimated fresh-deploy time: the critical path through the recorded dependency graph, against the physical
minimum that the kinds of resources allow.

*Critical path.* Every recorded resource is a node. A resource starts when everything it depends on is done:

* its ``dependencies`` (what the engine receives: property dependencies plus explicit ``depends_on``),
* the URNs of its ``property_dependencies`` (inputs that are outputs of other resources),
* a dependency on a component means "all of the component's descendants": a component is done when its
  children are (parent/child edges), and takes no time itself.

A custom resource then takes the time its provider waits for on create, from the data file
``preflight/data/create_times.yaml`` (type, refined by its inputs: RDS Multi-AZ, an ECS service that waits
for steady state), with a range. The deploy time is the latest finish; the chain of resources that produces
it is the critical path. The range is the same longest path with every resource at the low, then at the
high end of its range.

*Physical minimum.* The data file's ``kinds`` say what each kind of resource needs before it can exist, by
type and whatever the program declares: data stores, the network and the certificate in parallel, then the
services. Its longest path, each kind taking as long as its slowest resource, is what no program could beat;
``critical / minimum`` is the ordering the program adds on top, so a needless ``depends_on`` shows up as a
ratio above 1 (target <= 1.1). Why: docs/decisions/deploy-time.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from .model import RecordedResource

DATA_FILE = Path(__file__).resolve().parent / "data" / "create_times.yaml"
Estimate = Literal["typical", "low", "high"]
CERTIFICATE_VALIDATION = "aws:acm/certificateValidation:CertificateValidation"


@dataclass(frozen=True)
class Timing:
    """What the provider waits for on create: a typical duration and the range around it (seconds)."""

    typical: float
    low: float
    high: float

    def at(self, estimate: Estimate) -> float:
        return {"typical": self.typical, "low": self.low, "high": self.high}[estimate]


def _timing(entry: Mapping[str, Any]) -> Timing:
    typical = float(entry["seconds"])
    low, high = entry.get("range", (typical, typical))
    if not float(low) <= typical <= float(high):
        raise ValueError(f"create time {typical} s lies outside its range {low}-{high} s")
    return Timing(typical, float(low), float(high))


@dataclass(frozen=True)
class Kind:
    """A kind of resource in the physical minimum: its types and the kinds it needs to exist first."""

    name: str
    types: tuple[str, ...]
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class CreateTimes:
    default_seconds: float
    component_seconds: float
    types: Mapping[str, Mapping[str, Any]]
    kinds: tuple[Kind, ...] = ()

    def timing(self, resource: RecordedResource) -> tuple[Timing, bool]:
        """(create timing, whether the type is listed in the data file)."""
        if not resource.custom:
            return Timing(self.component_seconds, self.component_seconds, self.component_seconds), True
        entry = self.types.get(resource.type)
        if entry is None:
            return Timing(self.default_seconds, self.default_seconds, self.default_seconds), False
        for rule in entry.get("when", ()):
            wanted: Mapping[str, Any] = rule.get("inputs", {})
            if all(resource.inputs.get(k) == v for k, v in wanted.items()):
                return _timing(rule), True
        return _timing(entry), True

    def seconds(self, resource: RecordedResource) -> tuple[float, bool]:
        """(typical creation seconds, whether the type is listed in the data file)."""
        timing, listed = self.timing(resource)
        return timing.typical, listed

    def kind_of(self, type_: str) -> Kind | None:
        for kind in self.kinds:
            if type_ in kind.types:
                return kind
        return None


def _kinds(raw: Mapping[str, Mapping[str, Any]]) -> tuple[Kind, ...]:
    """The kinds, in an order where every kind comes after the kinds it needs; a bad table raises."""
    kinds = {n: Kind(n, tuple(v.get("types", ())), tuple(v.get("after", ()))) for n, v in raw.items()}
    seen: dict[str, str] = {}
    for kind in kinds.values():
        for type_ in kind.types:
            if type_ in seen:
                raise ValueError(f"kinds: {type_} is in both {seen[type_]} and {kind.name}")
            seen[type_] = kind.name
        unknown = [a for a in kind.after if a not in kinds]
        if unknown:
            raise ValueError(f"kinds: {kind.name} comes after unknown kind(s) {', '.join(unknown)}")
    ordered: list[Kind] = []
    placing: set[str] = set()

    def place(name: str) -> None:
        if any(k.name == name for k in ordered):
            return
        if name in placing:
            raise ValueError(f"kinds: {name} needs itself (a cycle through 'after')")
        placing.add(name)
        for before in kinds[name].after:
            place(before)
        ordered.append(kinds[name])

    for name in kinds:
        place(name)
    return tuple(ordered)


@cache
def load_create_times(path: Path = DATA_FILE) -> CreateTimes:
    raw = yaml.safe_load(path.read_text())
    times = CreateTimes(
        default_seconds=float(raw["default_seconds"]),
        component_seconds=float(raw.get("component_seconds", 0)),
        types=raw["types"],
        kinds=_kinds(raw.get("kinds", {})),
    )
    for type_, entry in times.types.items():  # every range is checked once, not on first use
        for rule in (entry, *entry.get("when", ())):
            try:
                _timing(rule)
            except ValueError as exc:
                raise ValueError(f"{path.name}: {type_}: {exc}") from None
    return times


@dataclass(frozen=True)
class Step:
    resource: RecordedResource
    seconds: float
    finish: float
    kind: str = ""  # on the physical minimum: the kind this resource stands for (its slowest)


@dataclass
class DeployTime:
    """The critical path (every ordering edge, with its range) and the physical minimum (resource kinds)."""

    total_seconds: float
    chain: list[Step]
    unavoidable_seconds: float
    unavoidable_chain: list[Step]
    unlisted_types: list[str] = field(default_factory=list)
    low_seconds: float = 0.0
    high_seconds: float = 0.0
    validates_certificate: bool = False

    @property
    def ratio(self) -> float:
        return self.total_seconds / self.unavoidable_seconds if self.unavoidable_seconds else 1.0


def _edges(resource: RecordedResource) -> set[str]:
    data = {urn for urns in resource.property_dependencies.values() for urn in urns}
    return data | set(resource.dependencies)


def critical_path(
    resources: Iterable[RecordedResource],
    *,
    times: CreateTimes | None = None,
    estimate: Estimate = "typical",
) -> tuple[float, list[Step]]:
    """Latest finish time of a fresh deployment and the chain of custom resources that produces it."""
    times = times or load_create_times()
    by_urn = {r.urn: r for r in resources}
    children: dict[str, list[str]] = {}
    for r in by_urn.values():
        if r.parent in by_urn:
            children.setdefault(r.parent, []).append(r.urn)

    def seconds(r: RecordedResource) -> float:
        return times.timing(r)[0].at(estimate)

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
        # a component is done with its latest descendant; its own dependencies also gate it. Sorted: the
        # recorded order is async registration order; ties must break the same every run.
        gates = {*children.get(urn, ())} if not r.custom else set()
        gates = sorted(gates | {d for d in _edges(r) if d in by_urn})
        start: tuple[float, str | None] = (0.0, None)
        for gate in gates:
            t, via = finish(gate)
            if t > start[0]:
                start = (t, gate if by_urn[gate].custom else via)
        done[urn] = (start[0] + seconds(r), start[1]) if r.custom else start
        visiting.discard(urn)
        return done[urn]

    for urn in by_urn:
        finish(urn)
    custom_done = [(done[u][0], u) for u, r in by_urn.items() if r.custom]
    if not custom_done:
        return 0.0, []
    total, last = max(custom_done)  # a tie goes to the greatest URN, the same every run
    chain: list[Step] = []
    cursor: str | None = last
    while cursor is not None:
        r = by_urn[cursor]
        chain.append(Step(r, seconds(r), done[cursor][0]))
        cursor = done[cursor][1]
    chain.reverse()
    return total, chain


def physical_minimum(
    resources: Iterable[RecordedResource], times: CreateTimes | None = None
) -> tuple[float, list[Step]]:
    """The longest path through the kinds (each as long as its slowest resource), or the slowest resource of
    no kind if that takes longer: the least time any program declaring these resources needs."""
    times = times or load_create_times()
    slowest: dict[str, tuple[float, RecordedResource]] = {}
    loose: tuple[float, RecordedResource] | None = None
    for r in sorted(resources, key=lambda r: r.urn):  # ties go to the first URN, the same every run
        if not r.custom:
            continue
        seconds = times.seconds(r)[0]
        kind = times.kind_of(r.type)
        if kind is None:
            if loose is None or seconds > loose[0]:
                loose = (seconds, r)
        elif kind.name not in slowest or seconds > slowest[kind.name][0]:
            slowest[kind.name] = (seconds, r)
    finish: dict[str, tuple[float, list[Step]]] = {}
    for kind in times.kinds:  # ordered: a kind's prerequisites are done first
        start, path = max(((finish[a][0], finish[a][1]) for a in kind.after), default=(0.0, []), key=_first)
        if kind.name in slowest:
            seconds, r = slowest[kind.name]
            path = [*path, Step(r, seconds, start + seconds, kind.name)]
            start += seconds
        finish[kind.name] = (start, path)
    total, chain = max(finish.values(), default=(0.0, []), key=_first)
    if loose is not None and loose[0] > total:
        return loose[0], [Step(loose[1], loose[0], loose[0])]
    return total, chain


def _first(item: tuple[float, Any]) -> float:
    return item[0]


def estimate(resources: Iterable[RecordedResource], times: CreateTimes | None = None) -> DeployTime:
    items = list(resources)
    times = times or load_create_times()
    total, chain = critical_path(items, times=times)
    low, _ = critical_path(items, times=times, estimate="low")
    high, _ = critical_path(items, times=times, estimate="high")
    unavoidable, unavoidable_chain = physical_minimum(items, times)
    unlisted = sorted({r.type for r in items if r.custom and not times.seconds(r)[1]})
    return DeployTime(
        total,
        chain,
        unavoidable,
        unavoidable_chain,
        unlisted,
        low_seconds=low,
        high_seconds=high,
        validates_certificate=any(r.type == CERTIFICATE_VALIDATION for r in items),
    )


def _fmt(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def _chain_lines(chain: Sequence[Step]) -> list[str]:
    return [
        f"  {_fmt(s.finish - s.seconds)} -> {_fmt(s.finish)}  +{_fmt(s.seconds)}  "
        + (f"{s.kind}: " if s.kind else "")
        + f"{s.resource.name} [{s.resource.type}]"
        for s in chain
    ]


NEW_ZONE_NOTE = (
    "note: ACM issues the certificate only once its validation record resolves publicly; on a new zone "
    "(nameservers just delegated, resolvers still caching the old answer) that can take far longer than "
    "typical and then dominates this estimate (the provider waits up to 75 min)"
)


def deploytime_lines(result: DeployTime) -> list[str]:
    lines = [
        f"estimated fresh deploy: {_fmt(result.total_seconds)}, likely {_fmt(result.low_seconds)} to "
        f"{_fmt(result.high_seconds)} (critical path, {len(result.chain)} resources)",
        *_chain_lines(result.chain),
        "physical minimum (data stores, network and certificate in parallel, then services): "
        f"{_fmt(result.unavoidable_seconds)}; ratio {result.ratio:.2f}",
        *_chain_lines(result.unavoidable_chain),
    ]
    if result.validates_certificate:
        lines.append(NEW_ZONE_NOTE)
    if result.unlisted_types:
        lines.append(
            f"types without a typical create time (counted as {_fmt(load_create_times().default_seconds)}): "
            + ", ".join(result.unlisted_types)
        )
    return lines
