"""``python -m preflight [stack]``: evaluate the program for a stack offline and report.

Exit codes: 0 ok; 1 the program failed (config error, program error); 2 usage error.
"""

from __future__ import annotations

import argparse
import sys

from . import report
from .engine import evaluate
from .stackfile import StackFileError, available_stacks

DEFAULT_STACK = "staging"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m preflight",
        description="Evaluate the Pulumi program for a stack offline (mock runtime) and report.",
    )
    parser.add_argument(
        "stack", nargs="?", default=DEFAULT_STACK, help=f"stack name (default {DEFAULT_STACK})"
    )
    parser.add_argument(
        "--mode",
        choices=("preview", "up"),
        default="preview",
        help="preview: computed values unknown, as in `pulumi preview`; up: mocks answer realistic outputs",
    )
    parser.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="markdown: the whole report (diagram, cost, deploy time, ...) for a PR comment or job summary",
    )
    parser.add_argument(
        "--export-tfplan",
        metavar="PATH",
        help="also write the recorded resources as Terraform-plan JSON (for Checkov) to PATH",
    )
    args = parser.parse_args(argv)

    try:
        evaluation = evaluate(args.stack, preview=args.mode == "preview")
    except StackFileError as exc:
        print(f"preflight: {exc}", file=sys.stderr)
        return 2
    if evaluation.error:
        print(f"preflight: stack {args.stack} failed: {evaluation.error}", file=sys.stderr)
        return 1

    if args.export_tfplan:
        from .terraform import write_plan

        write_plan(evaluation, args.export_tfplan)
    if args.format == "markdown":
        print(report.markdown(evaluation, args.stack, args.mode), end="")
        return 0

    out = sys.stdout
    print(f"# preflight {args.stack} ({args.mode}); stacks: {', '.join(available_stacks())}", file=out)
    print("\n## Resources", file=out)
    for line in report.tree_lines(evaluation):
        print(line, file=out)
    print("\n## Counts", file=out)
    for line in report.counts_lines(evaluation):
        print(line, file=out)
    print("\n## Outputs", file=out)
    for line in report.outputs_lines(evaluation):
        print(line, file=out)
    sections = report.analysis_sections(evaluation, report.cloudflare_plan(args.stack))
    for line in report.text_lines(sections):
        print(line, file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
