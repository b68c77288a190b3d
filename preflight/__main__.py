"""``python -m preflight [stack ...]``: evaluate the program for each stack offline and report.

Exit codes (README "Exit codes"): 0 ok; 1 the program failed (a program error); 2 usage error or unknown
stack; 3 a mandatory policy violation; 4 a config error (the stack file or a value in it); 5 a ``secure:``
(encrypted) value in the stack file.
"""

from __future__ import annotations

import gc

# The CLI is a short-lived process whose objects all live until it ends: the collector would only walk the
# SDKs' hundreds of thousands of objects again and again (docs/decisions/preflight-speed.md). Not when a
# test imports main().
if __name__ == "__main__":
    gc.disable()

import argparse
import os
import sys

from components.config import ConfigError, load

from . import report, verdicts
from .engine import evaluate
from .stackfile import CiphertextError, StackFileError, UnknownStackError, available_stacks, load_stack_config

DEFAULT_STACK = "staging"
EXIT_OK, EXIT_PROGRAM, EXIT_USAGE, EXIT_POLICY, EXIT_CONFIG, EXIT_CIPHERTEXT = range(6)


def check_config(stack: str, *, named: bool = False) -> int:
    """Read and validate the stack's config without running the program: every mistake, one line each
    (``named``: each line says which stack, when several run)."""
    prefix = f"preflight: {stack}: " if named else "preflight: "
    try:
        load(load_stack_config(stack))
    except UnknownStackError as exc:
        print(f"{prefix}{exc}", file=sys.stderr)
        return EXIT_USAGE
    except CiphertextError as exc:
        print(f"{prefix}{exc}", file=sys.stderr)
        return EXIT_CIPHERTEXT
    except StackFileError as exc:
        print(f"{prefix}{exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ConfigError as exc:
        for line in exc.lines:
            print(f"{prefix}{line}", file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m preflight",
        description="Evaluate the Pulumi program for a stack offline (mock runtime) and report.",
    )
    parser.add_argument(
        "stacks",
        nargs="*",
        metavar="stack",
        help=f"stack name (default {DEFAULT_STACK}); several run one after another in this process, with "
        "one policy pack process, and the exit code is the first stack's that is not 0",
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
        help="also write the recorded resources as Terraform-plan JSON (for Checkov) to PATH; with several "
        "stacks PATH names each stack's file with {stack}",
    )
    parser.add_argument(
        "--no-policy",
        action="store_true",
        help="skip the policy pack (it runs by default, as its own process over gRPC, like the CLI does)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stacks = list(dict.fromkeys(args.stacks)) or [DEFAULT_STACK]
    if args.export_tfplan and len(stacks) > 1 and "{stack}" not in args.export_tfplan:
        print("preflight: --export-tfplan PATH must contain {stack} when several stacks run", file=sys.stderr)
        return EXIT_USAGE
    statuses = {stack: check_config(stack, named=len(stacks) > 1) for stack in stacks}
    runnable = [stack for stack in stacks if statuses[stack] == EXIT_OK]
    # The pack process loads its rules on the other core while this one evaluates the first program.
    pack = None if args.no_policy or not runnable else verdicts.Session()
    try:
        for stack in runnable:
            statuses[stack] = _run(args, stack, pack)
    finally:
        if pack is not None:
            pack.close()
    return next((status for status in statuses.values() if status), EXIT_OK)


def _run(args: argparse.Namespace, stack: str, pack: verdicts.Session | None) -> int:
    evaluation = evaluate(stack, preview=args.mode == "preview")
    if evaluation.error:
        print(f"preflight: stack {stack} failed: {evaluation.error}", file=sys.stderr)
        return EXIT_PROGRAM

    if args.export_tfplan:
        from .terraform import write_plan

        write_plan(evaluation, args.export_tfplan.replace("{stack}", stack))
    result = None if pack is None else pack.judge(evaluation)
    status = EXIT_OK if result is None or result.passed else EXIT_POLICY
    if args.format == "markdown":
        policy = None if result is None else report.Section("Policy verdicts", verdicts.lines(result))
        print(report.markdown(evaluation, stack, args.mode, policy=policy), end="")
        return status

    out = sys.stdout
    print(f"# preflight {stack} ({args.mode}); stacks: {', '.join(available_stacks())}", file=out)
    print("\n## Resources", file=out)
    for line in report.tree_lines(evaluation):
        print(line, file=out)
    print("\n## Counts", file=out)
    for line in report.counts_lines(evaluation):
        print(line, file=out)
    print("\n## Outputs", file=out)
    for line in report.outputs_lines(evaluation):
        print(line, file=out)
    print("\n## Edge rules (as Cloudflare enforces them)", file=out)
    for line in report.edge_rule_lines(evaluation):
        print(line, file=out)
    sections = report.analysis_sections(evaluation, report.cloudflare_plan(stack), report.aws_region(stack))
    for line in report.text_lines(sections):
        print(line, file=out)
    print("\n## Policy verdicts", file=out)
    for line in verdicts.lines(result) if result is not None else ["policy pack not run (--no-policy)"]:
        print(line, file=out)
    if status:
        print(
            f"preflight: {stack}: {len(result.mandatory) if result else 0} mandatory policy violation(s)",
            file=sys.stderr,
        )
    return status


def _exit(status: int) -> None:
    """Flush the output and end the process without tearing the interpreter down object by object: every
    file is written and the pack process is ended by then, and teardown would take about a second."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        status = status or 1
    os._exit(status)


def entry() -> None:
    """``python -m preflight`` and the ``preflight`` console script."""
    gc.disable()  # the console script imports this module as a library: no collector from here on either
    try:
        code = main()
    except BrokenPipeError:  # e.g. `| head`: the reader is gone, and with it the rest of the output
        code = EXIT_PROGRAM
    _exit(code)


if __name__ == "__main__":
    entry()
