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


def _with(evaluation: Evaluation, resource: str, /, **inputs: object) -> list:
    """The stack's resources with ``inputs`` of ``resource`` changed (inputs and recorded outputs; None
    removes an input)."""
    from dataclasses import replace

    changed = []
    for r in evaluation.resources:
        if r.name == resource:
            new_inputs = {**r.inputs, **inputs}
            new_outputs = {**r.outputs, **inputs}
            for key in [k for k, v in inputs.items() if v is None]:
                new_inputs.pop(key)
                new_outputs.pop(key, None)
            r = replace(r, inputs=new_inputs, outputs=new_outputs)
        changed.append(r)
    return changed


def test_the_alerts_key_with_a_conditioned_eventbridge_statement_fails(
    pack: PackProcess, staging: Evaluation
) -> None:
    """The committed topic key as it was: EventBridge admitted only under aws:SourceAccount, which SNS
    does not support for EventBridge publishing to an encrypted topic: the backup-failure rule's deliveries
    fail."""
    import json

    key = next(r for r in staging.resources if r.name == "observability-key")
    policy = json.loads(key.inputs["policy"])
    for statement in policy["Statement"]:
        if statement.get("Principal") == {"Service": "events.amazonaws.com"}:
            statement["Condition"] = {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    violations = pack.analyze(_with(staging, "observability-key", policy=json.dumps(policy)))
    assert [v.policy_name for v in violations] == ["sns-encrypted-topic-publishers"], explain(violations)
    assert "backups-failed-target" in violations[0].detail


def test_a_security_group_back_on_a_fixed_name_fails(pack: PackProcess, staging: Evaluation) -> None:
    violations = pack.analyze(
        _with(staging, "network-app-sg", name="escalating-reminders-staging-app", namePrefix=None)
    )
    assert [v.policy_name for v in violations] == ["fixed-name-replacement"], explain(violations)
    assert "'network-app-sg' has the fixed name" in violations[0].detail
