"""Measure the README's targets and exit 1 if one is missed: ``uv run python -m scripts.benchmark``.

* cost: estimated monthly cost of each stack at its committed sizing (preflight/cost.py) against its budget;
  a stack with UNKNOWN prices cannot meet its budget (the estimate would be a lower bound);
* deploy time: critical path of a fresh deploy / physical minimum (by resource kinds), <= 1.1;
* speed: ``python -m preflight production`` (program, policy pack, report) against the plain import of the
  SDKs (the import floor: no program of this stack can start sooner), fresh subprocesses, interleaved,
  median of N, ratio <= 1.5.

``--backup-size-gb N`` instead measures backup and restore of a generated database of about N GB with the
real pg-backup script (scripts/backup_benchmark.py; minutes, so not part of ``.ci/run``).
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
from preflight.engine import Evaluation, evaluate  # noqa: E402

BUDGETS = {"staging": 90.0, "production": 300.0}  # USD per month
MAX_DEPLOY_RATIO = 1.1
MAX_PREFLIGHT_RATIO = 1.5

# The import floor: what any Pulumi program of this stack pays before it declares a resource.
IMPORT_FLOOR = (
    "-c",
    "import pulumi, pulumi_aws, pulumi_cloudflare, pulumi_docker, pulumi_random, pulumi_policy",
)
# What a user runs: the CLI evaluates the program, runs the policy pack (its own process, over gRPC) and
# prints the whole report.
PREFLIGHT_PRODUCTION = ("-m", "preflight", "production")


@dataclass
class Row:
    target: str
    measured: str
    limit: str
    ok: bool


def _seconds(args: Sequence[str]) -> float:
    """Wall time of ``python <args>`` in a fresh subprocess (output kept only to report a failure)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        command = " ".join(args)
        raise SystemExit(f"benchmark: python {command} exited {done.returncode}:\n{done.stderr.decode()}")
    return seconds


def speed_row(runs: int) -> Row:
    """Preflight of production against the import floor: ``runs`` timed pairs, interleaved so that a
    change in machine load hits both sides alike. No untimed warm-up: a cold first pair is one outlier,
    and the median of an odd number of runs leaves it out."""
    floor: list[float] = []
    full: list[float] = []
    for _ in range(runs):
        floor.append(_seconds(IMPORT_FLOOR))
        full.append(_seconds(PREFLIGHT_PRODUCTION))
    sdk, run = statistics.median(floor), statistics.median(full)
    return Row(
        f"`python -m preflight production` vs SDK import floor (median of {runs}, interleaved)",
        f"{run:.2f} s / {sdk:.2f} s = {run / sdk:.2f} "
        f"(preflight {min(full):.2f}-{max(full):.2f} s, floor {min(floor):.2f}-{max(floor):.2f} s)",
        f"<= {MAX_PREFLIGHT_RATIO}",
        run / sdk <= MAX_PREFLIGHT_RATIO,
    )


PARTS = ("cost", "deploy", "speed")


def measure(runs: int, parts: Sequence[str] = PARTS) -> list[Row]:
    rows: list[Row] = []
    for stack, budget in BUDGETS.items() if {"cost", "deploy"} & set(parts) else ():
        evaluation = evaluate(stack, preview=True)
        if evaluation.error:
            raise SystemExit(f"benchmark: {stack} failed: {evaluation.error}")
        if "cost" in parts:
            rows.append(_cost_row(stack, budget, evaluation))
        if "deploy" in parts:
            rows.append(_deploy_row(stack, evaluation))
    if "speed" in parts:
        rows.append(speed_row(runs))
    return rows


def _cost_row(stack: str, budget: float, evaluation: Evaluation) -> Row:
    estimate = cost.estimate(
        evaluation.resources, plan=report.cloudflare_plan(stack), region=report.aws_region(stack)
    )
    # Every line item, its total, the usage assumptions and the prices behind them.
    print(f"== cost {stack} ({report.aws_region(stack)})", *cost.cost_lines(estimate), sep="\n")
    unknown = len(estimate.unknown)
    measured = f"${estimate.total:,.2f}/month" + (f" + {unknown} UNKNOWN" if unknown else "")
    return Row(f"cost {stack}", measured, f"<= ${budget:,.0f}", estimate.total <= budget and not unknown)


def _deploy_row(stack: str, evaluation: Evaluation) -> Row:
    times = deploytime.estimate(evaluation.resources)
    return Row(
        f"deploy {stack}",
        f"{times.total_seconds / 60:.1f} min (likely {times.low_seconds / 60:.1f}-"
        f"{times.high_seconds / 60:.1f}) / {times.unavoidable_seconds / 60:.1f} min "
        f"= {times.ratio:.2f}",
        f"<= {MAX_DEPLOY_RATIO}",
        times.ratio <= MAX_DEPLOY_RATIO,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.benchmark", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="subprocess runs per timing (median)")
    parser.add_argument(
        "--targets",
        default=",".join(PARTS),
        help=f"comma-separated subset of {','.join(PARTS)} (default: all; .ci/run times speed alone)",
    )
    parser.add_argument(
        "--waive",
        action="append",
        default=[],
        metavar="TARGET",
        help="report a known, reported miss of TARGET (e.g. 'cost staging') as waived instead of failing",
    )
    parser.add_argument(
        "--backup-size-gb",
        type=float,
        metavar="N",
        help="only measure pg-backup's backup and restore of a generated database of about N GB",
    )
    args = parser.parse_args(argv)
    if args.backup_size_gb:
        from scripts import backup_benchmark

        return backup_benchmark.run(args.backup_size_gb)
    parts = [p.strip() for p in args.targets.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        parser.error(f"--targets {args.targets!r}: choose from {', '.join(PARTS)}")
    rows = measure(args.runs, parts)
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
