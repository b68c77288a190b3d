"""Deploy order of the committed stacks on a fresh deploy, through the dependencies the engine records.

The app services start tasks that read Secrets Manager values at start-up (DATABASE and REDIS hold the
RDS / ElastiCache addresses); the task definitions name those secrets by literal ARN, so the order has to
come from a real data dependency: each service's ``triggers`` map holds the version id of every secret its
tasks read (components/aws/services.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest

from preflight.engine import Evaluation
from preflight.model import UNKNOWN, RecordedResource
from tests.test_app_tier import APP_ROLES, app_tasks, services

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
RDS = "aws:rds/instance:Instance"
REDIS_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"


def secrets_read(task: RecordedResource) -> set[str]:
    """Secret names (``<app>/<env>/<NAME>`` -> NAME) the task's containers read through ``secrets`` (the app
    container's, and a tunnel stack's cloudflared reads TUNNEL_TOKEN)."""
    # valueFrom: arn:aws:secretsmanager:<region>:<account>:secret:<app>/<env>/<NAME>[:<json key>::]
    entries = [s for c in json.loads(task.inputs["containerDefinitions"]) for s in c.get("secrets", [])]
    return {s["valueFrom"].split(":")[6].rsplit("/", 1)[-1] for s in entries}


def versions_by_secret(ev: Evaluation) -> dict[str, RecordedResource]:
    """NAME -> the SecretVersion of the secret ``<app>/<env>/<NAME>``."""
    secrets = {s.urn: s.inputs["name"].rsplit("/", 1)[-1] for s in ev.of_type(SECRET)}
    found: dict[str, RecordedResource] = {}
    for version in ev.of_type(SECRET_VERSION):
        (secret_urn,) = version.property_dependencies["secretId"]
        assert secrets[secret_urn] not in found, f"two versions for {secrets[secret_urn]}"
        found[secrets[secret_urn]] = version
    return found


def upstream(ev: Evaluation, start: RecordedResource) -> set[str]:
    """Every URN ``start`` waits for, transitively, in the recorded dependency graph."""
    by_urn = {r.urn: r for r in ev.resources}
    seen: set[str] = set()
    todo: list[str] = list(start.dependencies)
    while todo:
        urn = todo.pop()
        if urn in seen:
            continue
        seen.add(urn)
        node = by_urn.get(urn)
        if node is not None:
            todo.extend(node.dependencies)
    return seen


def urns(resources: Iterable[RecordedResource]) -> set[str]:
    return {r.urn for r in resources}


def test_every_service_triggers_on_the_versions_of_the_secrets_its_tasks_read(stack: Evaluation) -> None:
    versions = versions_by_secret(stack)
    tasks = app_tasks(stack)
    for role in APP_ROLES:
        service = services(stack)[role]
        read = secrets_read(tasks[role])
        assert {"DATABASE", "REDIS", "JWT_SECRET", "GOOGLE_CLIENT_SECRET"} <= read
        # One trigger per secret read, depending on exactly that secret's version.
        assert set(service.inputs["triggers"]) == {f"secret-{name}" for name in read}
        assert set(service.property_dependencies["triggers"]) == {versions[name].urn for name in read}
        # The provider ignores a triggers change unless forceNewDeployment is set.
        assert service.inputs["forceNewDeployment"] is True
        # Policy-read properties stay literal.
        for key in ("desiredCount", "deploymentMaximumPercent", "deploymentMinimumHealthyPercent"):
            assert isinstance(service.inputs[key], float | int), (role, key)  # numbers arrive as floats
            assert service.property_dependencies.get(key, []) == []


@pytest.mark.parametrize("stack_name", ["staging", "production"])
def test_triggers_hold_the_version_ids_in_up_mode(
    stack_name: str, staging_up: Evaluation, production_up: Evaluation
) -> None:
    ev = staging_up if stack_name == "staging" else production_up
    versions = versions_by_secret(ev)
    for role, service in services(ev).items():
        if role not in APP_ROLES:
            continue
        triggers = service.inputs["triggers"]
        assert UNKNOWN not in triggers.values()
        read = secrets_read(app_tasks(ev)[role])
        assert triggers == {f"secret-{name}": versions[name].outputs["versionId"] for name in read}
        assert len(set(triggers.values())) == len(triggers)  # one distinct version per secret


def test_services_are_created_after_the_database_and_cache_connections_exist(stack: Evaluation) -> None:
    rds = stack.one(RDS)
    group = stack.one(REDIS_GROUP)
    versions = versions_by_secret(stack)
    # The connection secrets' versions wait for the instance / group (their JSON holds the address) ...
    assert rds.urn in upstream(stack, versions["DATABASE"])
    assert group.urn in upstream(stack, versions["REDIS"])
    for role in APP_ROLES:
        before = upstream(stack, services(stack)[role])
        # ... and every app service waits for every secret version its tasks read, hence for RDS and Redis.
        read = secrets_read(app_tasks(stack)[role])
        assert urns(versions[name] for name in read) <= before, role
        assert {rds.urn, group.urn} <= before, role
