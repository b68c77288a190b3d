"""``python -m preflight [stack]``: evaluate the program for a stack offline and report.

Exit codes: 0 ok; 1 the program failed (config error, program error); 2 usage error;
3 the policy pack reported a mandatory violation.
"""

from __future__ import annotations

import argparse
import sys

from . import report, verdicts
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
    parser.add_argument(
        "--no-policy",
        action="store_true",
        help="skip the policy pack (it runs by default, as its own process over gRPC, like the CLI does)",
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
    result = None if args.no_policy else verdicts.run(evaluation)
    status = 0 if result is None or result.passed else 3
    if args.format == "markdown":
        policy = None if result is None else report.Section("Policy verdicts", verdicts.lines(result))
        print(report.markdown(evaluation, args.stack, args.mode, policy=policy), end="")
        return status

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
    print("\n## Policy verdicts", file=out)
    for line in verdicts.lines(result) if result is not None else ["policy pack not run (--no-policy)"]:
        print(line, file=out)
    if status:
        print(
            f"preflight: {len(result.mandatory) if result else 0} mandatory policy violation(s)",
            file=sys.stderr,
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
