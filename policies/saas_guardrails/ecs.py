"""ECS rules: the singleton scheduler, and what task definitions may carry.

The scheduler (ECS service tagged ``role=scheduler``) runs cron-like jobs: two copies would run every job
twice. It must run exactly one task, and a deployment must stop the old task before starting the new one
(``deploymentMaximumPercent <= 100`` with ``deploymentMinimumHealthyPercent == 0``), nothing may scale it,
and the stack holds exactly one of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import Report, config_str_list, number, show, tag
from .docker import DOCKER_CONTAINER, is_scheduler_container
from .names import embeds_credentials, is_secret_name

ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
AUTOSCALING_TARGET = "aws:appautoscaling/target:Target"
SCHEDULER_ROLE = "scheduler"


# --- scheduler -------------------------------------------------------------------------------------------


def _check_scheduler_service(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != ECS_SERVICE or tag(args.props, "role") != SCHEDULER_ROLE:
        return
    props = args.props
    who = f"ECS service '{args.name}' (role=scheduler)"
    desired = props.get("desiredCount")
    if number(desired) != 1:
        report(
            f"{who} has desiredCount {show(desired)}; the scheduler is a singleton and must run exactly "
            "1 task."
        )
    max_percent = props.get("deploymentMaximumPercent")
    max_value = number(max_percent)
    if max_value is None or max_value > 100:
        shown = show(max_percent) if max_percent is not None else "unset (AWS default 200)"
        report(
            f"{who} has deploymentMaximumPercent {shown}; it must be <= 100 so a deployment never runs "
            "two schedulers side by side."
        )
    min_healthy = props.get("deploymentMinimumHealthyPercent")
    if number(min_healthy) != 0:
        shown = show(min_healthy) if min_healthy is not None else "unset (AWS default 100)"
        report(
            f"{who} has deploymentMinimumHealthyPercent {shown}; it must be 0 so a deployment stops the old "
            "task before starting the new one."
        )
    strategy = props.get("schedulingStrategy")
    if strategy == "DAEMON":
        report(
            f'{who} has schedulingStrategy "DAEMON" (one task per instance); it must be REPLICA with 1 task.'
        )


scheduler_singleton = ResourceValidationPolicy(
    name="scheduler-singleton",
    description=(
        "The scheduler ECS service (tag role=scheduler) runs exactly one task: desiredCount == 1, "
        "deploymentMaximumPercent <= 100, deploymentMinimumHealthyPercent == 0."
    ),
    validate=_check_scheduler_service,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Create the scheduler with desired_count=1, deployment_maximum_percent=100, "
    "deployment_minimum_healthy_percent=0 (SchedulerService does this and offers no replicas knob).",
)


def _is_docker_scheduler(resource: PolicyResource) -> bool:
    """A Docker container (dev stack) labelled role=scheduler, or whose logical name ends in "scheduler"."""
    return is_scheduler_container(resource.name, resource.props)


def _schedulers(resources: list[PolicyResource]) -> list[PolicyResource]:
    found: list[PolicyResource] = []
    for r in resources:
        if (r.resource_type == ECS_SERVICE and tag(r.props, "role") == SCHEDULER_ROLE) or (
            r.resource_type == DOCKER_CONTAINER and _is_docker_scheduler(r)
        ):
            found.append(r)
    return found


def _check_exactly_one_scheduler(args: StackValidationArgs, report: Report) -> None:
    workloads = [r for r in args.resources if r.resource_type in (ECS_SERVICE, DOCKER_CONTAINER)]
    if not workloads:
        # A stack without any service (e.g. a data-only stack) has nothing to schedule.
        args.not_applicable("the stack has no ECS service or Docker container")
        return
    schedulers = _schedulers(args.resources)
    if not schedulers:
        names = ", ".join(sorted(r.name for r in workloads))
        report(f"no scheduler in the stack: none of the services ({names}) is tagged role=scheduler.")
    elif len(schedulers) > 1:
        listed = ", ".join(f"'{r.name}' ({r.urn})" for r in schedulers)
        report(f"{len(schedulers)} schedulers in the stack: {listed}; exactly one may exist.")


scheduler_exactly_one = StackValidationPolicy(
    name="scheduler-exactly-one",
    description=(
        "A stack that runs services has exactly one scheduler (ECS service tagged role=scheduler, or Docker "
        "container labelled role=scheduler)."
    ),
    validate=_check_exactly_one_scheduler,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)


def _service_name_of_resource_id(resource_id: str) -> tuple[str, str] | None:
    """``service/<cluster>/<service>`` -> (cluster, service)."""
    parts = resource_id.split("/")
    if len(parts) == 3 and parts[0] == "service":
        return parts[1], parts[2]
    return None


def _check_scheduler_not_autoscaled(args: StackValidationArgs, report: Report) -> None:
    schedulers = [r for r in _schedulers(args.resources) if r.resource_type == ECS_SERVICE]
    if not schedulers:
        return
    scheduler_urns = {r.urn for r in schedulers}
    by_name: dict[str, PolicyResource] = {}
    for r in schedulers:
        physical = r.props.get("name")
        if isinstance(physical, str):
            by_name[physical] = r
    for target in args.resources:
        if target.resource_type != AUTOSCALING_TARGET:
            continue
        # A resourceId computed from the scheduler service's outputs points at it by construction.
        deps = target.property_dependencies.get("resourceId", [])
        hit = next((d for d in deps if d.urn in scheduler_urns), None)
        if hit is not None:
            report(
                f"autoscaling target '{target.name}' has a resourceId computed from scheduler service "
                f"'{hit.name}'; the scheduler must never be scaled.",
                target.urn,
            )
            continue
        resource_id = target.props.get("resourceId")
        parsed = _service_name_of_resource_id(resource_id) if isinstance(resource_id, str) else None
        if parsed is not None and parsed[1] in by_name:
            report(
                f"autoscaling target '{target.name}' has resourceId {show(resource_id)}, which is scheduler "
                f"service '{by_name[parsed[1]].name}'; the scheduler must never be scaled.",
                target.urn,
            )


scheduler_no_autoscaling = StackValidationPolicy(
    name="scheduler-no-autoscaling",
    description=(
        "No Application Auto Scaling target points at the scheduler service (service/<cluster>/<name>)."
    ),
    validate=_check_scheduler_not_autoscaled,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)


# --- capacity --------------------------------------------------------------------------------------------


def _check_spot_architecture(args: StackValidationArgs, report: Report) -> None:
    for service in args.resources:
        if service.resource_type != ECS_SERVICE:
            continue
        strategies = service.props.get("capacityProviderStrategies") or []
        if not any(
            isinstance(s, Mapping) and s.get("capacityProvider") == "FARGATE_SPOT" for s in strategies
        ):
            continue
        for task in service.property_dependencies.get("taskDefinition", []):
            if task.resource_type != TASK_DEFINITION:
                continue
            platform = task.props.get("runtimePlatform") or {}
            arch = platform.get("cpuArchitecture", "X86_64") if isinstance(platform, Mapping) else "X86_64"
            if arch != "X86_64":
                report(
                    f"ECS service '{service.name}' uses FARGATE_SPOT with task definition '{task.name}' "
                    f"(cpuArchitecture {show(arch)}); Fargate Spot runs only X86_64 Linux tasks, so its "
                    "tasks would never be placed.",
                    service.urn,
                )


spot_runs_x86 = StackValidationPolicy(
    name="ecs-fargate-spot-x86",
    description="A service on the FARGATE_SPOT capacity provider runs X86_64 task definitions (no ARM64).",
    validate=_check_spot_architecture,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)


# --- task definitions ------------------------------------------------------------------------------------


def _containers(args: ResourceValidationArgs, report: Report) -> list[Mapping[str, Any]] | None:
    raw = args.props.get("containerDefinitions")
    if not isinstance(raw, str):
        report(f"task definition '{args.name}' has containerDefinitions {show(raw)}; expected a JSON string.")
        return None
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        report(f"task definition '{args.name}' has containerDefinitions that are not valid JSON: {exc}.")
        return None
    if not isinstance(parsed, list) or not all(isinstance(c, dict) for c in parsed):
        report(
            f"task definition '{args.name}' has containerDefinitions that are not a JSON array of objects."
        )
        return None
    return parsed


def _container_name(container: Mapping[str, Any], index: int) -> str:
    name = container.get("name")
    return name if isinstance(name, str) and name else f"#{index}"


def _check_environment(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != TASK_DEFINITION:
        return
    containers = _containers(args, report)
    if containers is None:
        return
    config = args.get_config()
    extra = frozenset(w.upper() for w in config_str_list(config, "extraSecretWords", []))
    allowed = {n.upper() for n in config_str_list(config, "allowedNames", [])}
    for index, container in enumerate(containers):
        environment = container.get("environment") or []
        if not isinstance(environment, list):
            continue
        for entry in environment:
            if not isinstance(entry, dict):
                continue
            name = entry.get("name")
            value = entry.get("value")
            if not isinstance(name, str) or name.upper() in allowed:
                continue
            where = f"task definition '{args.name}' container '{_container_name(container, index)}'"
            if is_secret_name(name, extra):
                report(
                    f"{where} sets environment variable {name} in plain text; secret-looking names must come "
                    "from `secrets` (Secrets Manager valueFrom)."
                )
            elif isinstance(value, str) and embeds_credentials(value):
                report(
                    f"{where} sets environment variable {name} to a URL with an embedded password; pass it "
                    "through `secrets` instead."
                )


no_secrets_in_environment = ResourceValidationPolicy(
    name="ecs-no-secrets-in-environment",
    description=(
        "ECS task definitions carry no secrets in plain-text `environment`: no secret-looking variable "
        "names (SECRET, PASSWORD, TOKEN, KEY, DSN, CREDENTIAL as a whole word) and no URLs with passwords."
    ),
    validate=_check_environment,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PolicyConfigSchema(
        properties={
            "extraSecretWords": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "More whole words that make a variable name secret-looking.",
            },
            "allowedNames": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Variable names that look secret but are not (reviewed exceptions).",
            },
        }
    ),
)


def _check_privileged(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != TASK_DEFINITION:
        return
    containers = _containers(args, report)
    for index, container in enumerate(containers or []):
        if container.get("privileged") is True:
            report(
                f"task definition '{args.name}' container '{_container_name(container, index)}' has "
                "privileged: true."
            )


no_privileged_containers = ResourceValidationPolicy(
    name="ecs-no-privileged-containers",
    description="ECS containers never run privileged.",
    validate=_check_privileged,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)


def _check_logging(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != TASK_DEFINITION:
        return
    containers = _containers(args, report)
    for index, container in enumerate(containers or []):
        log_config = container.get("logConfiguration")
        if not isinstance(log_config, dict) or not log_config.get("logDriver"):
            report(
                f"task definition '{args.name}' container '{_container_name(container, index)}' has no "
                "logConfiguration with a logDriver; its output would be lost."
            )


container_logging = ResourceValidationPolicy(
    name="ecs-container-logging",
    description="Every ECS container sends its logs somewhere (logConfiguration with a logDriver).",
    validate=_check_logging,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
)

POLICIES = [
    scheduler_singleton,
    scheduler_exactly_one,
    scheduler_no_autoscaling,
    spot_runs_x86,
    no_secrets_in_environment,
    no_privileged_containers,
    container_logging,
]
