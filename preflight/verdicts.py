"""Policy verdicts for an evaluation: the real policy pack, run as its own process over gRPC."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .analyzer import DEFAULT_PACK_DIR, LaunchedPack, PackInfo, PackProcess, Violation, launch_pack
from .engine import Evaluation


@dataclass
class Verdicts:
    pack: str
    version: str
    policies: list[str]
    violations: list[Violation] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def preview_skips(self) -> list[Violation]:
        return [v for v in self.violations if v.is_preview_skip]

    @property
    def passed(self) -> bool:
        return not self.mandatory


class Session:
    """The pack for one CLI run: launched at once (it loads its rules while the first program is
    evaluated), connected to when the first evaluation is judged, then judging each stack; close ends it."""

    def __init__(self, pack_dir: Path = DEFAULT_PACK_DIR) -> None:
        self._launched: LaunchedPack = launch_pack(pack_dir)
        self._process: PackProcess | None = None

    def judge(self, evaluation: Evaluation, config: Mapping[str, Any] | None = None) -> Verdicts:
        if self._process is None:
            self._process = self._launched.connect()
        return judge(self._process, evaluation, config)

    def close(self) -> None:
        if self._process is not None:
            self._process.close()
        else:
            self._launched.close()


def judge(pack: PackProcess, evaluation: Evaluation, config: Mapping[str, Any] | None = None) -> Verdicts:
    """Configure a running pack like the CLI does for this stack, analyze every resource and the stack."""
    info: PackInfo = pack.info()
    pack.configure(config)
    pack.configure_stack(evaluation.stack, dry_run=evaluation.preview)
    violations = pack.analyze(evaluation.resources)
    return Verdicts(info.name, info.version, info.policy_names, violations)


def lines(verdicts: Verdicts) -> list[str]:
    out = [
        f"policy pack {verdicts.pack}: {len(verdicts.policies)} policies, "
        f"{len(verdicts.mandatory)} mandatory violation(s), "
        f"{len(verdicts.violations) - len(verdicts.mandatory)} advisory finding(s)"
    ]
    for v in sorted(verdicts.violations, key=lambda v: (v.level != "mandatory", v.policy_name, v.urn)):
        where = v.urn.rsplit("::", 1)[-1] if v.urn else "(stack)"
        out.append(f"  [{v.level}] {v.policy_name} on {where}: {v.detail}")
    if verdicts.passed:
        out.append("  result: PASS (no mandatory violation)")
    else:
        out.append("  result: FAIL (mandatory violations block `pulumi up`)")
    return out
