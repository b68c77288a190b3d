"""Measure the README's targets and exit 1 if one is missed: ``uv run python -m scripts.benchmark``.

* cost: estimated monthly cost of each stack at its committed sizing (preflight/cost.py) against its budget;
  a stack with UNKNOWN prices cannot meet its budget (the estimate would be a lower bound);
* deploy time: critical path of a fresh deploy / unavoidable chain (data dependencies only), <= 1.1;
* speed: preflight of production (program + policy pack) against importing the SDKs (the packages and the
  class of every resource type production registers), each in fresh subprocesses, median of N, ratio <= 2.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from preflight import cost, deploytime, report  # noqa: E402
from preflight.engine import evaluate  # noqa: E402

BUDGETS = {"staging": 90.0, "production": 300.0}  # USD per month
MAX_DEPLOY_RATIO = 1.1
MAX_PREFLIGHT_RATIO = 2.0

SDK_PACKAGES = ("pulumi", "pulumi_aws", "pulumi_cloudflare", "pulumi_random", "pulumi_docker")


def import_sdks_code(types: set[str]) -> str:
    """Code that imports the SDKs the way the program needs them: every package, and the class of every
    resource type the stack registers (the SDKs load their submodules lazily, on first use of a class)."""
    lines = ["import importlib", *(f"import {p}" for p in SDK_PACKAGES)]
    for token in sorted(types):
        package, _, rest = token.partition(":")
        module, _, name = rest.partition(":")
        if package == "pulumi" or not name:
            continue
        sdk = f"pulumi_{package.replace('-', '_')}"
        submodule = module.split("/", 1)[0]
        path = sdk if submodule == "index" else f"{sdk}.{submodule}"
        lines.append(f"getattr(importlib.import_module({path!r}), {name!r})")
    return "\n".join(lines) + "\n"


# What a user runs: the CLI evaluates the program, runs the policy pack (its own process, over gRPC) and
# prints the whole report.
PREFLIGHT_PRODUCTION = ("-m", "preflight", "production")


@dataclass
class Row:
    target: str
    measured: str
    limit: str
    ok: bool


def _median_seconds(args: Sequence[str], runs: int) -> float:
    """Median wall time of ``python <args>`` in fresh subprocesses (output discarded)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(runs: int) -> list[Row]:
    rows: list[Row] = []
    for stack, budget in BUDGETS.items():
        evaluation = evaluate(stack, preview=True)
        if evaluation.error:
            raise SystemExit(f"benchmark: {stack} failed: {evaluation.error}")
        estimate = cost.estimate(evaluation.resources, plan=report.cloudflare_plan(stack))
        unknown = len(estimate.unknown)
        measured = f"${estimate.total:,.2f}/month" + (f" + {unknown} UNKNOWN" if unknown else "")
        rows.append(
            Row(f"cost {stack}", measured, f"<= ${budget:,.0f}", estimate.total <= budget and not unknown)
        )
        times = deploytime.estimate(evaluation.resources)
        rows.append(
            Row(
                f"deploy {stack}",
                f"{times.total_seconds / 60:.1f} min / {times.unavoidable_seconds / 60:.1f} min "
                f"= {times.ratio:.2f}",
                f"<= {MAX_DEPLOY_RATIO}",
                times.ratio <= MAX_DEPLOY_RATIO,
            )
        )
    production = evaluate("production", preview=True)
    sdk = _median_seconds(["-c", import_sdks_code({r.type for r in production.resources if r.custom})], runs)
    full = _median_seconds(PREFLIGHT_PRODUCTION, runs)
    rows.append(
        Row(
            f"`python -m preflight production` vs SDK import (median of {runs})",
            f"{full:.2f} s / {sdk:.2f} s = {full / sdk:.2f}",
            f"<= {MAX_PREFLIGHT_RATIO}",
            full / sdk <= MAX_PREFLIGHT_RATIO,
        )
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.benchmark", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="subprocess runs per timing (median)")
    parser.add_argument(
        "--waive",
        action="append",
        default=[],
        metavar="TARGET",
        help="report a known, reported miss of TARGET (e.g. 'cost staging') as waived instead of failing",
    )
    args = parser.parse_args(argv)
    rows = measure(args.runs)
    widths = [max(len(getattr(r, f)) for r in rows) for f in ("target", "measured", "limit")]
    header = ("target", "measured", "limit")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + "  result")
    for r in rows:
        cells = (r.target, r.measured, r.limit)
        verdict = "ok" if r.ok else "MISSED (waived)" if r.target in args.waive else "MISSED"
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + "  " + verdict)
    stale = sorted(set(args.waive) - {r.target for r in rows if not r.ok})
    if stale:
        print(
            f"benchmark: waived target(s) met or unknown, drop the waiver: {', '.join(stale)}",
            file=sys.stderr,
        )
        return 1
    missed = [r.target for r in rows if not r.ok and r.target not in args.waive]
    if missed:
        print(f"benchmark: missed {len(missed)} target(s): {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
