"""The pack as preflight runs it: real program -> recorded resources -> pack process over gRPC -> verdicts."""

from __future__ import annotations

import json

import pulumi_aws as aws

from preflight import verdicts
from preflight.analyzer import PackProcess
from preflight.engine import Evaluation, evaluate, run_program


def _rogue_scheduler() -> None:
    """A program that bypasses the config and the SchedulerService class: two scheduler tasks."""
    tags = {"environment": "staging", "app": "rogue", "managed-by": "pulumi", "role": "scheduler"}
    aws.ecs.Service(
        "rogue-scheduler",
        name="rogue-staging-scheduler",
        cluster="rogue-staging",
        task_definition="rogue-staging-scheduler:1",
        desired_count=2,
        deployment_maximum_percent=200,
        deployment_minimum_healthy_percent=50,
        launch_type="FARGATE",
        tags=tags,
    )
    aws.appautoscaling.Target(
        "rogue-scheduler-scaling",
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id="service/rogue-staging/rogue-staging-scheduler",
        min_capacity=1,
        max_capacity=3,
        tags=tags,
    )


def test_scheduler_with_two_tasks_is_caught_by_config_validation() -> None:
    scheduler = {"source": {"image": "ghcr.io/acme/app:1.0.0@sha256:" + "ab" * 32}, "replicas": 2}
    evaluation = evaluate("staging", overrides={"saas-backend:scheduler": scheduler})
    assert (
        evaluation.error == "saas-backend:scheduler.replicas is 2; the scheduler is a singleton and must be 1"
    )
    assert evaluation.resources == []


def test_scheduler_with_two_tasks_is_caught_by_the_pack_when_config_is_bypassed(pack: PackProcess) -> None:
    evaluation = run_program(_rogue_scheduler, stack="staging", preview=True)
    assert evaluation.error is None
    result = verdicts.judge(pack, evaluation)
    assert not result.passed
    assert {"scheduler-singleton", "scheduler-no-autoscaling"} <= {v.policy_name for v in result.mandatory}
    singleton = [v for v in result.mandatory if v.policy_name == "scheduler-singleton"]
    details = " | ".join(v.detail for v in singleton)
    assert "desiredCount 2" in details and "deploymentMaximumPercent 200" in details, details
    assert all(v.urn.endswith("::rogue-scheduler") for v in singleton)
    lines = verdicts.lines(result)
    assert lines[-1] == "  result: FAIL (mandatory violations block `pulumi up`)"
    assert any(line.startswith("  [mandatory] scheduler-singleton on rogue-scheduler:") for line in lines)


def test_committed_stacks_pass_with_no_preview_skips(pack: PackProcess, stack: Evaluation) -> None:
    result = verdicts.judge(pack, stack)
    assert result.passed, "\n".join(verdicts.lines(result))
    assert result.preview_skips == []
    assert len(result.policies) >= 26


def test_task_definitions_are_literal_for_the_pack(stack: Evaluation) -> None:
    for task in stack.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        containers = json.loads(task.inputs["containerDefinitions"])
        assert containers and all("logConfiguration" in c for c in containers), task.name


def _spot_service(arch: str) -> None:
    tags = {"environment": "staging", "app": "spot", "managed-by": "pulumi", "role": "worker"}
    task = aws.ecs.TaskDefinition(
        "spot-task",
        family="spot-staging-worker",
        cpu="256",
        memory="512",
        network_mode="awsvpc",
        requires_compatibilities=["FARGATE"],
        runtime_platform={"cpu_architecture": arch, "operating_system_family": "LINUX"},
        container_definitions=json.dumps(
            [
                {
                    "name": "worker",
                    "image": "ghcr.io/acme/app:1.0.0",
                    "logConfiguration": {"logDriver": "awslogs"},
                }
            ]
        ),
        tags=tags,
    )
    aws.ecs.Service(
        "spot-service",
        name="spot-staging-worker",
        cluster="spot-staging",
        task_definition=task.arn,
        desired_count=2,
        capacity_provider_strategies=[{"capacity_provider": "FARGATE_SPOT", "weight": 1}],
        tags=tags,
    )


def test_fargate_spot_on_arm64_is_caught_by_the_pack(pack: PackProcess) -> None:
    arm = verdicts.judge(pack, run_program(lambda: _spot_service("ARM64"), stack="staging", preview=True))
    x86 = verdicts.judge(pack, run_program(lambda: _spot_service("X86_64"), stack="staging", preview=True))
    spot_arm = [v for v in arm.mandatory if v.policy_name == "ecs-fargate-spot-x86"]
    assert len(spot_arm) == 1
    assert 'cpuArchitecture "ARM64"' in spot_arm[0].detail or "cpuArchitecture ARM64" in spot_arm[0].detail
    assert spot_arm[0].urn.endswith("::spot-service")
    assert [v for v in x86.violations if v.policy_name == "ecs-fargate-spot-x86"] == []
