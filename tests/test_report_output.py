"""The report a reviewer reads: identical bytes for identical runs, short as a PR comment, edge rules shown
as Cloudflare enforces them, a diagram for every stack, the job summary written even when the pack fails,
and Checkov's STALE lines only for skips that concern the plans checked."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import Future
from pathlib import Path

import pytest
import yaml

from preflight import diagram, report, terraform
from preflight.engine import Evaluation
from tests.conftest import REPO, stack_evaluation
from tests.early import POOL, starts_early

STACKS = ("staging", "production", "dev")


# A second evaluation of every stack, in one other process with another hash seed (set and dict order
# differ there). That the CLI prints report.markdown itself: tests/test_report.py.
SECOND_RUN = """
import sys
from pathlib import Path
from preflight import report, terraform
from preflight.engine import evaluate
out = Path(sys.argv[1])
for stack in sys.argv[2:]:
    evaluation = evaluate(stack, preview=True)
    assert evaluation.error is None, evaluation.error
    (out / f"{stack}.md").write_text(report.markdown(evaluation, stack, "preview"))
    terraform.write_plan(evaluation, out / f"{stack}.tfplan.json")
"""


@starts_early
def second_runs(out: Path) -> Future[dict[str, tuple[str, str]]]:
    """Markdown and plan of every stack from a second run, started with the session: it runs on the
    other core while the rest of the suite does."""
    env = {**os.environ, "PYTHONHASHSEED": "7"}
    proc = subprocess.Popen(
        [sys.executable, "-c", SECOND_RUN, str(out), *STACKS],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def collect() -> dict[str, tuple[str, str]]:
        _, errors = proc.communicate(timeout=300)
        assert proc.returncode == 0, errors[-2000:]
        return {s: ((out / f"{s}.md").read_text(), (out / f"{s}.tfplan.json").read_text()) for s in STACKS}

    return POOL.submit(collect)


@pytest.mark.parametrize("stack", STACKS)
def test_two_runs_print_the_same_bytes(
    stack: str, second_runs: dict[str, tuple[str, str]], tmp_path: Path
) -> None:
    """The engine records resources and dependencies in async registration order; every view sorts."""
    first = stack_evaluation(stack, True)
    terraform.write_plan(first, tmp_path / "plan.json")
    markdown, plan = second_runs[stack]
    assert report.markdown(first, stack, "preview") == markdown
    assert (tmp_path / "plan.json").read_text() == plan


@pytest.mark.parametrize("stack", STACKS)
def test_markdown_folds_the_tree_and_stays_short(stack: str) -> None:
    text = report.markdown(stack_evaluation(stack, True), stack, "preview")
    assert "<details><summary>Resources (" in text
    assert report.visible_lines(text) < 150


def test_edge_rules_show_expression_count_period_mitigation_and_action(staging: Evaluation) -> None:
    lines = report.edge_rule_lines(staging)
    rate = [line for line in lines if line.startswith("[http_ratelimit]")]
    assert rate == [
        "[http_ratelimit] edge_authratelimit: block for 10 s once a client exceeds 40 requests per 10 s per "
        'cf.colo.id + ip.src; counts requests matching ((http.request.uri.path eq "/v1/auth" or '
        'starts_with(http.request.uri.path, "/v1/auth/")))'
    ]  # the app's auth routes live under its route prefix /v1 (tests/fixtures/app-contract.yaml)
    assert any(line.startswith("[http_request_firewall_custom] block_exploit_paths: block") for line in lines)


def test_the_dev_stack_has_a_diagram_of_its_containers(dev: Evaluation) -> None:
    d = diagram.build(dev.resources)
    assert d.has_edge("client", "dev-api 127.0.0.1:3801")
    assert d.has_edge("dev-worker-1", "dev-postgres")
    assert d.has_edge("dev-backup", "dev-postgres")
    assert {n.tier for n in d.nodes if "dev-redis" in n.label} == {"data"}


def test_the_job_summary_is_written_before_the_exit_code_propagates() -> None:
    workflow = yaml.safe_load((REPO / ".github/workflows/pull-request.yml").read_text())
    steps = workflow["jobs"]["offline"]["steps"]
    script = next(s["run"] for s in steps if str(s.get("name", "")).startswith("preflight staging"))
    assert "|| rc=$?" in script  # a failing preflight does not stop the loop before the summary
    assert script.index("GITHUB_STEP_SUMMARY") < script.index('exit "$status"')


def _finding(check: str, stack: str, resource: str = "aws_s3_bucket.b") -> terraform.Finding:
    return terraform.Finding(check, resource, "name", f"/{stack}.tfplan.json")


def test_checkov_stale_only_for_skips_that_concern_the_checked_plans() -> None:
    staging_only = terraform.Skip("CKV_1", "why", stacks=("staging",))
    on_resource = terraform.Skip("CKV_2", "why", resources=("aws_s3_bucket.only_in_staging",))
    skips = [staging_only, on_resource]
    nothing_failed = terraform.CheckovResult(10, [], 0, 0)
    production = {"production": {"aws_s3_bucket.b"}}
    assert terraform.classify(nothing_failed, skips, production).stale == []
    both = {**production, "staging": {"aws_s3_bucket.b", "aws_s3_bucket.only_in_staging"}}
    assert terraform.classify(nothing_failed, skips, both).stale == skips
    used = terraform.CheckovResult(9, [_finding("CKV_1", "staging")], 0, 0)
    assert terraform.classify(used, skips, both).stale == [on_resource]


def test_preflight_runs_from_any_directory(tmp_path: Path) -> None:
    """The project is installed editable: `python -m preflight` and the `preflight` script work anywhere."""
    for cmd in (
        [sys.executable, "-m", "preflight", "nope"],
        [str(Path(sys.executable).parent / "preflight"), "nope"],
    ):
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 2, proc.stderr
        assert "no stack file Pulumi.nope.yaml; stacks here: dev, production, staging" in proc.stderr


def test_readme_diagram_is_what_preflight_draws() -> None:
    from scripts import readme_diagram

    shown = readme_diagram.current((REPO / "README.md").read_text())
    assert shown == readme_diagram.block(stack_evaluation("production", True)), (
        "README diagram is stale: uv run python -m scripts.readme_diagram --write"
    )
