"""The pack as preflight runs it: real program -> recorded resources -> pack process over gRPC -> verdicts."""

from __future__ import annotations

import json

import pulumi_aws as aws

from preflight import verdicts
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
    scheduler = {"source": {"image": "ghcr.io/acme/app:1.0.0"}, "replicas": 2}
    evaluation = evaluate("staging", overrides={"saas-backend:scheduler": scheduler})
    assert (
        evaluation.error == "saas-backend:scheduler.replicas is 2; the scheduler is a singleton and must be 1"
    )
    assert evaluation.resources == []


def test_scheduler_with_two_tasks_is_caught_by_the_pack_when_config_is_bypassed() -> None:
    evaluation = run_program(_rogue_scheduler, stack="staging", preview=True)
    assert evaluation.error is None
    result = verdicts.run(evaluation)
    assert not result.passed
    assert {"scheduler-singleton", "scheduler-no-autoscaling"} <= {v.policy_name for v in result.mandatory}
    singleton = [v for v in result.mandatory if v.policy_name == "scheduler-singleton"]
    details = " | ".join(v.detail for v in singleton)
    assert "desiredCount 2" in details and "deploymentMaximumPercent 200" in details, details
    assert all(v.urn.endswith("::rogue-scheduler") for v in singleton)
    lines = verdicts.lines(result)
    assert lines[-1] == "  result: FAIL (mandatory violations block `pulumi up`)"
    assert any(line.startswith("  [mandatory] scheduler-singleton on rogue-scheduler:") for line in lines)


def test_committed_stacks_pass_with_no_preview_skips(stack: Evaluation) -> None:
    result = verdicts.run(stack)
    assert result.passed, "\n".join(verdicts.lines(result))
    assert result.preview_skips == []
    assert len(result.policies) >= 26


def test_task_definitions_are_literal_for_the_pack(stack: Evaluation) -> None:
    for task in stack.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        containers = json.loads(task.inputs["containerDefinitions"])
        assert containers and all("logConfiguration" in c for c in containers), task.name
