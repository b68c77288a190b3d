"""The committed stacks pass the pack: no violation, and no rule skipped because a value it reads is unknown
(the program keeps policy-read properties literal, docs/conventions.md)."""

from __future__ import annotations

import pytest

from preflight.analyzer import PackProcess
from preflight.engine import Evaluation

from .builders import explain


def test_committed_stacks_pass_at_preview(pack: PackProcess, stack: Evaluation) -> None:
    violations = pack.analyze(stack.resources)
    assert violations == [], f"{stack.stack}:\n{explain(violations)}"


@pytest.mark.parametrize("fixture", ["staging_up", "production_up"])
def test_committed_stacks_pass_in_up_mode(
    pack: PackProcess, fixture: str, request: pytest.FixtureRequest
) -> None:
    evaluation: Evaluation = request.getfixturevalue(fixture)
    violations = pack.analyze(evaluation.resources)
    assert violations == [], f"{evaluation.stack}:\n{explain(violations)}"


def test_committed_stacks_are_not_trivially_empty(stack: Evaluation) -> None:
    custom = [r for r in stack.resources if r.custom]
    assert len(custom) > 10, [r.type for r in custom]


def test_staging_without_nat_gateways_passes(pack: PackProcess) -> None:
    """``natGateways: none`` (VPC endpoints and their security group instead of NAT) stays within the pack."""
    from tests.test_data_tier import no_nat_staging

    evaluation = no_nat_staging(preview=True)
    assert [r for r in evaluation.resources if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint"]
    violations = pack.analyze(evaluation.resources)
    assert violations == [], f"staging (natGateways none):\n{explain(violations)}"
