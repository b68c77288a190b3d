"""The three app services on ECS Fargate: API (behind the ALB, autoscaled), worker, singleton scheduler.

They share one base (:class:`AppService`): log group ``/ecs/<prefix>/<role>`` (encrypted with the stack's
logs key, ``log_kms_key_arn``), a task role of their own
(no permissions: the app talks to Postgres, Redis and third parties, not to AWS APIs), a task definition
(family ``<prefix>-<role>``, awsvpc, Fargate, ARM64 when the image is linux/arm64) whose
``containerDefinitions`` is a literal JSON string (known at preview: image ref, environment, secret ARNs,
log options are all plain values), and a service in the private subnets without public IPs, with the
deployment circuit breaker rolling back a failed deployment; the provider waits for each service's steady
state, so `pulumi up` returns only once the new tasks run.

Secrets and deploy order: the task definitions name their secrets by literal ARN (known at preview), which
gives the engine no edge from a service to the secret *values*. ECS resolves ``secrets`` when a task starts
and a task whose secret has no value fails ("unable to pull secrets"), so each service takes
``secret_versions`` (secret name -> Secrets Manager version id of every secret its tasks read) as its
``triggers`` map, with ``forceNewDeployment``: a data dependency that makes the engine create the service only
after every version exists (the DATABASE and REDIS versions only exist once RDS and ElastiCache are up), and a
new version (a rotated password, a replaced key) redeploys the service so its tasks read the new value. The
provider ignores a ``triggers`` change unless ``forceNewDeployment`` is set; that flag also makes every
service update a new deployment, which every update of these services is anyway.

The scheduler is a singleton by construction: :class:`SchedulerServiceArgs` has no replicas field; the
service always runs 1 task and a deployment stops the old task before starting the new one.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from .. import specs
from ..app_env import AppEnvironment
from ..common import Deployment, assume_role_policy, child, require
from ..config import FARGATE_SIZES, LOG_RETENTION_DAYS, TaskSize
from .cluster import Cluster
from .edge.tunnel import EdgeTunnel
from .load_balancer import LoadBalancer
from .service_names import SERVICE_COMPONENTS

TMP_VOLUME = "tmp"


@dataclass(frozen=True, kw_only=True)
class AppServiceArgs:
    """What every app service needs. Subclasses add their own knobs."""

    deployment: Deployment
    cluster: Cluster
    app: AppEnvironment
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    log_retention_days: int
    # The stack's logs key (Network.logs_kms_key_arn): encrypts the service's log group.
    log_kms_key_arn: pulumi.Input[str]
    size: TaskSize = field(default_factory=TaskSize)
    # Overrides the image's CMD (one image started as api / worker / scheduler).
    command: Sequence[str] | None = None
    # Secret name -> version id of every secret the tasks read: the service's `triggers` (module docstring).
    secret_versions: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # FARGATE_SPOT capacity (interruptible, X86_64 only); allowed only outside production.
    spot: bool = False


@dataclass(frozen=True, kw_only=True)
class ApiServiceArgs(AppServiceArgs):
    # The origin Cloudflare reaches (edge.origin): the ALB's target group, or the tunnel whose cloudflared
    # runs beside the API in each task. Exactly one.
    load_balancer: LoadBalancer | None = None
    tunnel: EdgeTunnel | None = None
    port: int = 3801
    # Checked by the ALB's target group, or (tunnel) by the API container's own health check.
    health_check_path: str = "/health"
    health_check_grace_seconds: int = 60
    min_replicas: int = 1
    max_replicas: int = 2
    cpu_target_percent: int = 70
    memory_target_percent: int = 80
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60
    # Run once before new API tasks serve (app.migrateCommand); None: the app has no migrations.
    migrate_command: Sequence[str] | None = None


@dataclass(frozen=True, kw_only=True)
class WorkerServiceArgs(AppServiceArgs):
    replicas: int = 2


@dataclass(frozen=True, kw_only=True)
class SchedulerServiceArgs(AppServiceArgs):
    """Deliberately nothing to add: the scheduler always runs exactly one task."""


class AppService(pulumi.ComponentResource):
    """Shared base of the app services (not instantiated itself).

    Plain: ``role``, ``service_name``, ``family``, ``log_group_name``, ``container_definitions`` (the JSON
    string given to the task definition). Outputs: ``task_definition_arn``, ``task_role_arn``,
    ``service_arn``. Resources: ``log_group``, ``task_role``, ``task_definition``, ``service``.
    """

    role: ClassVar[str]
    component: ClassVar[str]

    def __init__(self, name: str, args: AppServiceArgs, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(f"saas:app:{self.component}", name, None, opts)
        d = args.deployment
        who = self.component
        require(
            not (args.spot and d.is_production),
            who,
            "spot",
            args.spot,
            f"saas-backend:{self.role}.spot must be false in production (FARGATE_SPOT tasks can be "
            "interrupted at two minutes' notice); use it in staging or dev only",
        )
        self.capacity_provider = "FARGATE_SPOT" if args.spot else "FARGATE"
        require(
            self.role in args.cluster.image_refs,
            who,
            "cluster",
            self.role,
            "the cluster has no image for this role",
        )
        require(
            args.size.cpu in FARGATE_SIZES and args.size.memory in FARGATE_SIZES[args.size.cpu],
            who,
            "size",
            args.size.model_dump(),
            "must be a Fargate cpu/memory combination",
        )
        require(
            args.log_retention_days in LOG_RETENTION_DAYS,
            who,
            "log_retention_days",
            args.log_retention_days,
            "must be a CloudWatch retention period",
        )
        require(
            args.command is None or (len(args.command) > 0 and all(args.command)),
            who,
            "command",
            args.command,
            "must be a non-empty list of non-empty strings",
        )
        require(
            len(args.subnet_ids) > 0, who, "subnet_ids", list(args.subnet_ids), "give the private subnets"
        )
        self.deployment = d
        self.service_name = f"{d.prefix}-{self.role}"
        self.family = f"{d.prefix}-{self.role}"
        self.log_group_name = f"{args.cluster.log_group_prefix}/{self.role}"
        self.container_name = self.role
        self.image_ref = args.cluster.image_refs[self.role]
        self._args = args
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=self.log_group_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_kms_key_arn,
            tags=d.tags(role=self.role),
            opts=child(self),
        )
        self.task_role = aws.iam.Role(
            f"{name}-task-role",
            name=f"{d.prefix}-{self.role}-task",
            description=f"ECS task role of {self.service_name} (no AWS API permissions)",
            assume_role_policy=assume_role_policy(
                "ecs-tasks.amazonaws.com",
                StringEquals={"aws:SourceAccount": d.account_id},
                ArnLike={"aws:SourceArn": f"arn:{d.partition}:ecs:{d.region}:{d.account_id}:*"},
            ),
            tags=d.tags(role=self.role),
            opts=child(self),
        )
        self.task_role_arn = self.task_role.arn

    # -- building blocks ------------------------------------------------------------------------------------
    def container_definition(
        self, *, port: int | None = None, command: Sequence[str] | None = None, health_path: str | None = None
    ) -> dict:
        """The app container (plain values only); ``health_path``: a container health check GETs it on
        ``port``."""
        args = self._args
        container: dict[str, Any] = {
            "name": self.container_name,
            "image": self.image_ref,
            "essential": True,
            "environment": args.app.container_environment(),
            "secrets": args.app.container_secrets(),
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": self.log_group_name,
                    "awslogs-region": self.deployment.region,
                    "awslogs-stream-prefix": self.role,
                },
            },
            "linuxParameters": {"initProcessEnabled": True},
            "privileged": False,
            # The root filesystem is read-only; /tmp is a task-local writable volume.
            "readonlyRootFilesystem": True,
            "mountPoints": [{"sourceVolume": TMP_VOLUME, "containerPath": specs.TASK_TMP, "readOnly": False}],
        }
        cmd = command if command is not None else args.command
        if cmd is not None:
            container["command"] = list(cmd)
        if port is not None:
            container["portMappings"] = [{"name": "http", "containerPort": port, "protocol": "tcp"}]
        if port is not None and health_path is not None:
            container["healthCheck"] = http_health_check(port, health_path)
        return container

    def _task_definition(self, name: str, *containers: dict) -> None:
        args = self._args
        d = self.deployment
        self.container_definitions = json.dumps(list(containers), sort_keys=True)
        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=self.family,
            cpu=str(args.size.cpu),
            memory=str(args.size.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform={
                "cpu_architecture": args.cluster.cpu_architecture(self.role),
                "operating_system_family": "LINUX",
            },
            execution_role_arn=args.cluster.execution_role_arn,
            task_role_arn=self.task_role.arn,
            container_definitions=self.container_definitions,
            volumes=[{"name": TMP_VOLUME}],
            tags=d.tags(role=self.role),
            opts=child(
                self,
                depends_on=[
                    self.log_group,
                    *args.cluster.execution_policies,
                    *args.cluster.build_dependencies[self.role],
                ],
            ),
        )
        self.task_definition_arn = self.task_definition.arn

    def _service(
        self,
        name: str,
        *,
        desired_count: int,
        maximum_percent: int,
        minimum_healthy_percent: int,
        extra: dict[str, Any] | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
        ignore_changes: Sequence[str] = (),
        extra_security_group_ids: Sequence[pulumi.Input[str]] = (),
    ) -> None:
        args = self._args
        self.service = aws.ecs.Service(
            f"{name}-service",
            name=self.service_name,
            cluster=args.cluster.cluster_arn,
            task_definition=self.task_definition.arn,
            desired_count=desired_count,
            deployment_maximum_percent=maximum_percent,
            deployment_minimum_healthy_percent=minimum_healthy_percent,
            deployment_circuit_breaker={"enable": True, "rollback": True},
            # `pulumi up` returns once every task runs (one deployment, running == desired), so a deploy
            # that succeeded means the API, worker and scheduler run (docs/decisions/deploy-time.md).
            wait_for_steady_state=True,
            capacity_provider_strategies=[
                {"capacity_provider": self.capacity_provider, "weight": 1, "base": 0}
            ],
            network_configuration={
                "subnets": list(args.subnet_ids),
                "security_groups": [args.security_group_id, *extra_security_group_ids],
                "assign_public_ip": False,
            },
            # ECS Exec needs a writable root filesystem; the containers have a read-only one.
            enable_execute_command=False,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            tags=self.deployment.tags(role=self.role),
            **self._secret_triggers(),
            **(extra or {}),
            opts=child(
                self,
                depends_on=[args.cluster.capacity_providers, *depends_on],
                ignore_changes=list(ignore_changes) or None,
            ),
        )
        self.service_arn = self.service.id

    def _secret_triggers(self) -> dict[str, Any]:
        """``triggers`` (+ ``force_new_deployment``, without which the provider ignores them) from the
        secret versions: created after them, redeployed when one changes."""
        versions = {**self._args.secret_versions, **self._own_secret_versions()}
        if not versions:
            return {}
        return {
            "triggers": {f"secret-{k}": v for k, v in sorted(versions.items())},
            "force_new_deployment": True,
        }

    def _own_secret_versions(self) -> dict[str, pulumi.Input[str]]:
        """Versions of secrets only this service's tasks read (beyond ``secret_versions``)."""
        return {}

    def _register(self, **extra: Any) -> None:
        self.register_outputs(
            {
                "serviceName": self.service_name,
                "logGroupName": self.log_group_name,
                "taskDefinitionArn": self.task_definition_arn,
                "taskRoleArn": self.task_role_arn,
                **extra,
            }
        )


class ApiService(AppService):
    """HTTP API behind the ALB (a target group) or a tunnel (a cloudflared sidecar, health from container
    health checks), autoscaled between min and max replicas on CPU and memory.

    Adds: ``autoscaling_target``, ``cpu_policy``, ``memory_policy``, ``scaling_resource_id`` *plain*,
    ``port`` *plain*, ``migrate_command`` (Output[str] | None: the ``aws ecs run-task`` line running the
    migrations, docs/decisions/migrations-before-traffic.md), ``migrate_targets`` (URNs a migration needs).
    """

    role = "api"
    component = SERVICE_COMPONENTS[role]

    def __init__(self, name: str, args: ApiServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        _validate_api(args)
        self.port = args.port
        self._task_definition(name, *self._containers(args))
        self._api_service(name, args)
        self._autoscaling(name, args)
        self._migration(args)
        self._register(migrateCommand=self.migrate_command)

    def _containers(self, args: ApiServiceArgs) -> list[dict]:
        """The API container; with a tunnel, its own health check and the cloudflared sidecar."""
        if args.tunnel is None:
            return [self.container_definition(port=args.port)]
        api = self.container_definition(port=args.port, health_path=args.health_check_path)
        sidecar = args.tunnel.container(
            log_group_name=self.log_group_name, log_stream_prefix=self.role, app_container=self.container_name
        )
        return [api, sidecar]

    def _own_secret_versions(self) -> dict[str, pulumi.Input[str]]:
        tunnel = self._args.tunnel if isinstance(self._args, ApiServiceArgs) else None
        return {} if tunnel is None else {"TUNNEL_TOKEN": tunnel.token_version_id}

    def _api_service(self, name: str, args: ApiServiceArgs) -> None:
        # The grace period covers the ALB's checks and (tunnel) the containers' own health checks alike.
        extra: dict[str, Any] = {"health_check_grace_period_seconds": args.health_check_grace_seconds}
        origin: pulumi.Resource
        if args.load_balancer is not None:
            extra["load_balancers"] = [
                {
                    "target_group_arn": args.load_balancer.target_group_arn,
                    "container_name": self.container_name,
                    "container_port": args.port,
                }
            ]
            # The target group must be attached to the ALB (listener rule) before the service uses it.
            origin = args.load_balancer
        else:
            assert args.tunnel is not None  # _validate_api
            origin = args.tunnel
        self._service(
            name,
            # Autoscaling owns the running count after creation.
            desired_count=args.min_replicas,
            maximum_percent=200,
            minimum_healthy_percent=100,
            extra=extra,
            depends_on=[origin],
            ignore_changes=["desiredCount"],
            extra_security_group_ids=[args.tunnel.security_group_id] if args.tunnel is not None else [],
        )

    def _autoscaling(self, name: str, args: ApiServiceArgs) -> None:
        self.scaling_resource_id = f"service/{args.cluster.cluster_name}/{self.service_name}"
        self.autoscaling_target = aws.appautoscaling.Target(
            f"{name}-scaling-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=self.scaling_resource_id,
            min_capacity=args.min_replicas,
            max_capacity=args.max_replicas,
            tags=self.deployment.tags(role=self.role),
            opts=child(self, depends_on=[self.service]),
        )
        policies = {
            "cpu": ("ECSServiceAverageCPUUtilization", args.cpu_target_percent),
            "memory": ("ECSServiceAverageMemoryUtilization", args.memory_target_percent),
        }
        made: dict[str, aws.appautoscaling.Policy] = {}
        for kind, (metric, target) in policies.items():
            made[kind] = aws.appautoscaling.Policy(
                f"{name}-scale-{kind}",
                name=f"{self.service_name}-{kind}-{target}",
                policy_type="TargetTrackingScaling",
                service_namespace="ecs",
                scalable_dimension="ecs:service:DesiredCount",
                resource_id=self.scaling_resource_id,
                target_tracking_scaling_policy_configuration={
                    "target_value": float(target),
                    "predefined_metric_specification": {"predefined_metric_type": metric},
                    "scale_in_cooldown": args.scale_in_cooldown_seconds,
                    "scale_out_cooldown": args.scale_out_cooldown_seconds,
                },
                opts=child(self, depends_on=[self.autoscaling_target]),
            )
        self.cpu_policy, self.memory_policy = made["cpu"], made["memory"]

    def _migration(self, args: ApiServiceArgs) -> None:
        """The one-off migration task (same family, image, environment and secrets as the API)."""
        self.migrate_command: pulumi.Output[str] | None = None
        if args.migrate_command is not None:
            self.migrate_command = migrate_command(
                self.deployment,
                cluster_name=args.cluster.cluster_name,
                task_definition=self.family,
                container_name=self.container_name,
                subnet_ids=args.subnet_ids,
                security_group_id=args.security_group_id,
                command=args.migrate_command,
            )
        # What a targeted `pulumi up` must update to register a new API revision before migrating:
        # the task definition and, for a built image, its build.
        self.migrate_targets: list[pulumi.Output[str]] = [
            self.task_definition.urn,
            *(r.urn for r in args.cluster.build_dependencies[self.role]),
        ]


def http_health_check(port: int, path: str) -> dict[str, Any]:
    """A container health check that GETs ``path`` on the task's loopback with the image's Node.js (the app
    image has no curl; Node 18+ has fetch): healthy on a 2xx answer."""
    script = f"fetch('http://127.0.0.1:{port}{path}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
    return {
        "command": ["CMD", "node", "-e", script],
        "interval": 15,
        "timeout": 5,
        "retries": 3,
        "startPeriod": 30,
    }


def _validate_api(args: ApiServiceArgs) -> None:
    require(1 <= args.port <= 65535, "ApiService", "port", args.port, "must be a TCP port")
    require(
        (args.load_balancer is None) != (args.tunnel is None),
        "ApiService",
        "load_balancer/tunnel",
        (args.load_balancer is not None, args.tunnel is not None),
        "give exactly one origin: the ALB (edge.origin alb) or the tunnel (edge.origin tunnel)",
    )
    require(
        args.health_check_path.startswith("/"),
        "ApiService",
        "health_check_path",
        args.health_check_path,
        "must be an absolute path such as /health",
    )
    require(
        1 <= args.min_replicas <= args.max_replicas,
        "ApiService",
        "min_replicas",
        (args.min_replicas, args.max_replicas),
        "need 1 <= min_replicas <= max_replicas",
    )
    if args.deployment.is_production:
        require(
            args.min_replicas >= 2, "ApiService", "min_replicas", args.min_replicas, "production needs >= 2"
        )
    require(
        args.migrate_command is None or (len(args.migrate_command) > 0 and all(args.migrate_command)),
        "ApiService",
        "migrate_command",
        args.migrate_command,
        "must be a non-empty list of non-empty strings",
    )


class WorkerService(AppService):
    """Background worker: no load balancer, ``replicas`` tasks (FARGATE_SPOT when ``spot``, staging only)."""

    role = "worker"
    component = SERVICE_COMPONENTS[role]

    def __init__(
        self, name: str, args: WorkerServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        require(1 <= args.replicas <= 100, "WorkerService", "replicas", args.replicas, "must be 1..100")
        self.replicas = args.replicas
        self._task_definition(name, self.container_definition())
        self._service(
            name,
            desired_count=args.replicas,
            maximum_percent=200,
            minimum_healthy_percent=100,
        )
        self._register()


class SchedulerService(AppService):
    """The singleton scheduler: exactly one task, always.

    desiredCount 1, deploymentMaximumPercent 100 and deploymentMinimumHealthyPercent 0 (a deployment stops
    the old task before the new one starts), no autoscaling. On FARGATE_SPOT (staging only) an
    interruption stops the one task and ECS starts the next within maximumPercent 100: a gap, never two.
    There is no replicas argument: :class:`SchedulerServiceArgs` has no such field.
    """

    role = "scheduler"
    component = SERVICE_COMPONENTS[role]
    DESIRED_COUNT: ClassVar[int] = 1

    def __init__(
        self, name: str, args: SchedulerServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        self._task_definition(name, self.container_definition())
        self._service(
            name,
            desired_count=self.DESIRED_COUNT,
            maximum_percent=100,
            minimum_healthy_percent=0,
        )
        self._register()


def migrate_command(
    d: Deployment,
    *,
    cluster_name: str,
    task_definition: str,
    container_name: str,
    subnet_ids: Sequence[pulumi.Input[str]],
    security_group_id: pulumi.Input[str],
    command: Sequence[str],
) -> pulumi.Output[str]:
    """The ``aws ecs run-task`` command running ``command`` once in a task of ``task_definition`` (a family:
    its latest ACTIVE revision) in the private subnets with the app security group."""
    overrides = json.dumps(
        {"containerOverrides": [{"name": container_name, "command": list(command)}]}, separators=(",", ":")
    )

    def render(values: list[Any]) -> str:
        *subnets, sg = values
        network = (
            f"awsvpcConfiguration={{subnets=[{','.join(subnets)}],"
            f"securityGroups=[{sg}],assignPublicIp=DISABLED}}"
        )
        parts = [
            "aws ecs run-task",
            f"--region {d.region}",
            f"--cluster {cluster_name}",
            f"--task-definition {task_definition}",
            "--launch-type FARGATE",
            "--count 1",
            "--started-by migrate",
            f"--network-configuration {shlex.quote(network)}",
            f"--overrides {shlex.quote(overrides)}",
        ]
        return " ".join(parts)

    return pulumi.Output.all(*subnet_ids, security_group_id).apply(render)
