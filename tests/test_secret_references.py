"""ECS task definitions reference secrets by partial ARN, under the conditions that make that safe
(docs/decisions/partial-secret-arns.md).

Secrets Manager cannot resolve a partial ARN whose name ends with a hyphen and six characters (Secrets
Manager user guide, troubleshooting, "Finding a secret from a partial ARN"); ECS accepts the name of a
secret in the task's Region (ECS developer guide, "Pass Secrets Manager secrets through Amazon ECS
environment variables").
"""

from __future__ import annotations

import json
import re

from preflight.engine import Evaluation

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
_ARN = re.compile(
    r"^arn:aws:secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):secret:(?P<name>[^:]+)"
    r"(?::(?P<json_key>[^:]+)::)?$"
)


def _references(ev: Evaluation) -> list[str]:
    refs = []
    for task in ev.of_type(TASK_DEFINITION):
        for container in json.loads(task.inputs["containerDefinitions"]):
            refs += [s["valueFrom"] for s in container.get("secrets", [])]
    return refs


def test_partial_arns_resolve_in_the_stacks_own_account_and_region(stack: Evaluation) -> None:
    refs = _references(stack)
    assert refs
    for ref in refs:
        match = _ARN.match(ref)
        assert match, ref
        assert (match["region"], match["account"]) == ("us-west-2", "123456789012"), ref
        name = match["name"]
        assert not re.search(r"-[A-Za-z0-9]{6}$", name), f"{ref}: a partial ARN Secrets Manager may misread"
        assert name.startswith(f"escalating-reminders/{stack.stack}/"), ref


def test_the_execution_roles_grant_each_referenced_secret_by_its_full_arn(stack: Evaluation) -> None:
    granted: set[str] = set()
    for policy in stack.of_type(ROLE_POLICY):
        document = policy.inputs.get("policy")
        if not isinstance(document, str) or "secretsmanager:GetSecretValue" not in document:
            continue
        for statement in json.loads(document)["Statement"]:
            resources = statement["Resource"]
            granted |= set([resources] if isinstance(resources, str) else resources)
    for ref in _references(stack):
        base = ref.split(":secret:", 1)[0] + ":secret:" + _ARN.match(ref)["name"]  # type: ignore[index]
        assert f"{base}-??????" in granted, ref
