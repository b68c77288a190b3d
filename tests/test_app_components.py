"""App tier components in isolation (literal inputs): images, cluster, services, load balancer, alarms."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.app_env import AppEnvironment, build_app_environment, covered_by
from components.aws.cluster import (
    KEEP_IMAGES,
    BuiltImage,
    BuiltImageArgs,
    Cluster,
    ClusterArgs,
)
from components.aws.load_balancer import TLS_POLICY, LoadBalancer, LoadBalancerArgs, aws_name
from components.aws.observability import Observability, ObservabilityArgs
from components.aws.services import (
    ApiService,
    ApiServiceArgs,
    SchedulerService,
    SchedulerServiceArgs,
    WorkerService,
    WorkerServiceArgs,
)
from components.common import Deployment
from components.config import ConfigError, ImageSource, StackConfig, TaskSize, load, looks_secret
from components.images import context_digest, image_tag
from preflight.engine import Evaluation, run_program
from preflight.model import SECRET_SIG, UNKNOWN
from preflight.stackfile import REPO_ROOT, load_stack_config

ACCOUNT = "123456789012"
REGION = "us-west-2"
LOGS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/logs"
PG_BACKUP = "images/pg-backup"
CF_V4 = ["173.245.48.0/20", "103.21.244.0/22"]
CF_V6 = ["2400:cb00::/32"]
PINNED = "ghcr.io/yolovibecode/escalating-reminders-api:1.0.0@sha256:" + "ab" * 32

SERVICE = "aws:ecs/service:Service"
TASK_DEF = "aws:ecs/taskDefinition:TaskDefinition"
TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
REPO = "aws:ecr/repository:Repository"
DOCKER_IMAGE = "docker:index/image:Image"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LISTENER = "aws:lb/listener:Listener"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def deployment(env: str = "staging") -> Deployment:
    return Deployment("escalating-reminders", env, REGION, ACCOUNT)


def stack_config(env: str) -> StackConfig:
    return load(load_stack_config(env))


def fake_app(cfg: StackConfig, d: Deployment) -> AppEnvironment:
    """The app environment with data-tier-shaped fake inputs (literal ARNs from the deployment)."""
    return build_app_environment(
        cfg,
        env_parts=[
            {
                "DATABASE_PORT": "5432",
                "DATABASE_NAME": "app",
                "DATABASE_USER": "app",
                "DATABASE_SSLMODE": "require",
            },
            {"REDIS_PORT": "6379", "REDIS_TLS": "true"},
        ],
        secret_parts=[
            [
                {"name": "DATABASE_URL", "valueFrom": d.secret_arn("DATABASE", "url")},
                {"name": "DATABASE_PASSWORD", "valueFrom": d.secret_arn("DATABASE", "password")},
            ],
            [{"name": "REDIS_AUTH_TOKEN", "valueFrom": d.secret_arn("REDIS", "authToken")}],
            [
                {"name": n, "valueFrom": d.secret_arn(n)}
                for n in ("JWT_SECRET", "ENCRYPTION_KEY", *cfg.secret_names)
            ],
        ],
        secret_arn_patterns=[
            [d.secret_arn_pattern("DATABASE")],
            [d.secret_arn_pattern("REDIS")],
            [d.secret_arn_pattern(n) for n in ("JWT_SECRET", "ENCRYPTION_KEY", *cfg.secret_names)],
        ],
    )


def _load_balancer(d: Deployment) -> LoadBalancer:
    return LoadBalancer(
        "lb",
        LoadBalancerArgs(
            deployment=d,
            vpc_id="vpc-123",
            public_subnet_ids=["subnet-pub-a", "subnet-pub-b"],
            app_security_group_id="sg-app",
            certificate_arn=f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/validated",
            cloudflare_ipv4=CF_V4,
            cloudflare_ipv6=CF_V6,
            origin_header_name="X-Origin-Verify",
            origin_secret=pulumi.Output.secret("origin-s3cr3t"),
        ),
    )


def app_tier(
    env: str = "staging",
    *,
    sources: dict[str, ImageSource] | None = None,
    spot: bool = False,
    min_replicas: int | None = None,
    max_replicas: int = 5,
    alert_email: str | None = "ops@example.com",
) -> Callable[[], None]:
    """A program that declares the whole app tier from literal inputs."""

    def program() -> None:
        d = deployment(env)
        cfg = stack_config(env)
        app = fake_app(cfg, d)
        pinned = ImageSource(image=PINNED)
        cluster = Cluster(
            "cluster",
            ClusterArgs(
                deployment=d,
                sources=sources or {"api": pinned, "worker": pinned, "scheduler": pinned},
                secret_arn_patterns=app.secret_arn_patterns,
                secret_kms_key_arns=[f"arn:aws:kms:{REGION}:{ACCOUNT}:key/secrets"],
            ),
        )
        lb = _load_balancer(d)
        common: dict[str, Any] = {
            "deployment": d,
            "cluster": cluster,
            "app": app,
            "subnet_ids": ["subnet-priv-a", "subnet-priv-b"],
            "security_group_id": "sg-app",
            "log_retention_days": cfg.effective_log_retention_days,
            "log_kms_key_arn": LOGS_KEY,
        }
        api = ApiService(
            "api",
            ApiServiceArgs(
                **common,
                load_balancer=lb,
                command=["npm", "run", "start:api"],
                migrate_command=["npx", "--no", "prisma", "migrate", "deploy"],
                min_replicas=min_replicas or (2 if d.is_production else 1),
                max_replicas=max_replicas,
            ),
        )
        WorkerService(
            "worker", WorkerServiceArgs(**common, replicas=2, spot=spot, command=["npm", "run", "w"])
        )
        scheduler = SchedulerService(
            "scheduler", SchedulerServiceArgs(**common, size=TaskSize(cpu=512, memory=1024))
        )
        Observability(
            "obs",
            ObservabilityArgs(
                deployment=d,
                cluster_name=cluster.cluster_name,
                api_service_name=api.service_name,
                scheduler_service_name=scheduler.service_name,
                alb_arn_suffix=lb.arn_suffix,
                target_group_arn_suffix=lb.target_group_arn_suffix,
                db_instance_identifier=f"{d.prefix}-postgres",
                redis_cache_cluster_ids=[f"{d.prefix}-redis-001", f"{d.prefix}-redis-002"],
                alert_email=alert_email,
            ),
        )
        pulumi.export("migrateCommand", api.migrate_command)

    return program


def run(program: Callable[[], None], preview: bool = True) -> Evaluation:
    evaluation = run_program(program, preview=preview, config={"aws:region": REGION})
    assert evaluation.error is None, evaluation.error
    return evaluation


@functools.cache
def default_tier(env: str, preview: bool = True) -> Evaluation:
    """The app tier with its default arguments, evaluated once per environment and mode (tests only read)."""
    return run(app_tier(env), preview)


def containers(task_def: Any) -> list[dict[str, Any]]:
    raw = task_def.inputs["containerDefinitions"]
    assert isinstance(raw, str) and raw != UNKNOWN
    return json.loads(raw)


def policy_of(resource: Any) -> dict[str, Any]:
    return json.loads(resource.inputs["policy"])


# ---------------------------------------------------------------------------------------------------------
# Content hash and image tag


def _context(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "Dockerfile").write_text("FROM alpine:3.20\nCOPY src /src\n")
    (root / "src" / "app.js").write_text("console.log('hi')\n")
    return root


def test_context_digest_is_reproducible_and_content_addressed(tmp_path: Path) -> None:
    a = _context(tmp_path / "a")
    b = _context(tmp_path / "b")
    assert context_digest(a) == context_digest(b)  # same files, other directory: same digest
    assert re.fullmatch(r"[0-9a-f]{64}", context_digest(a))
    before = context_digest(a)
    (a / "src" / "app.js").write_text("console.log('bye')\n")
    assert context_digest(a) != before
    (a / "src" / "app.js").write_text("console.log('hi')\n")
    assert context_digest(a) == before
    (a / "src" / "app.js").rename(a / "src" / "main.js")  # same bytes, other path
    assert context_digest(a) != before


def test_context_digest_ignores_git_pycache_node_modules(tmp_path: Path) -> None:
    ctx = _context(tmp_path / "ctx")
    before = context_digest(ctx)
    for ignored in (".git", "__pycache__", "node_modules", "src/node_modules", "src/__pycache__"):
        (ctx / ignored).mkdir(parents=True, exist_ok=True)
        (ctx / ignored / "junk").write_text(ignored)
    assert context_digest(ctx) == before
    (ctx / "src" / "new.txt").write_text("x")
    assert context_digest(ctx) != before


def test_context_digest_sees_the_executable_bit(tmp_path: Path) -> None:
    ctx = _context(tmp_path / "ctx")
    before = context_digest(ctx)
    os.chmod(ctx / "src" / "app.js", 0o755)
    assert context_digest(ctx) != before


def test_image_tag_format_and_build_settings(tmp_path: Path) -> None:
    ctx = _context(tmp_path / "ctx")
    tag = image_tag(ctx)
    assert re.fullmatch(r"sha-[0-9a-f]{12}", tag)
    assert image_tag(ctx) == tag
    assert image_tag(ctx, platform="linux/amd64") != tag
    assert image_tag(ctx, build_args={"PG_MAJOR": "16"}) != tag
    assert image_tag(ctx, dockerfile="Dockerfile.prod") != tag


def test_context_digest_rejects_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a directory"):
        context_digest(tmp_path / "nope")


# ---------------------------------------------------------------------------------------------------------
# BuiltImage (the helper the backups tier reuses)


def _built(env: str, context: str, **kw: Any) -> Callable[[], None]:
    def program() -> None:
        img = BuiltImage(
            "backup-image",
            BuiltImageArgs(deployment=deployment(env), repository="pg-backup", context=context, **kw),
        )
        pulumi.export("ref", img.image_ref)
        pulumi.export("digest", img.repo_digest)

    return program


@pytest.mark.parametrize("env", ["staging", "production"])
def test_built_image_repository_settings(env: str) -> None:
    evaluation = run(_built(env, PG_BACKUP))
    repo = evaluation.one(REPO)
    assert repo.inputs["name"] == f"escalating-reminders-{env}/pg-backup"
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS"}]
    assert repo.inputs["forceDelete"] is (env != "production")
    assert repo.inputs["tags"] == {"environment": env, "app": "escalating-reminders", "managed-by": "pulumi"}
    lifecycle = json.loads(evaluation.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])
    (rule,) = lifecycle["rules"]
    assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10}
    assert rule["action"] == {"type": "expire"} and KEEP_IMAGES == 10


def test_built_image_tag_is_the_context_hash_and_known_at_preview(tmp_path: Path) -> None:
    ctx = _context(tmp_path / "ctx")
    evaluation = run(_built("staging", str(ctx), platform="linux/amd64"), preview=True)
    expected = (
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/escalating-reminders-staging/pg-backup:"
        f"{image_tag(ctx, platform='linux/amd64')}"
    )
    assert evaluation.outputs["ref"] == expected
    image = evaluation.one(DOCKER_IMAGE)
    assert image.inputs["imageName"] == expected
    assert image.inputs["build"] == {
        "context": str(ctx),
        "dockerfile": str(ctx / "Dockerfile"),
        "platform": "linux/amd64",
    }
    registry = image.inputs["registry"]
    assert registry["server"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    assert registry["username"] == "AWS"
    assert registry["password"][SECRET_SIG]  # the ECR token is a secret
    repo = evaluation.one(REPO)
    assert repo.urn in image.dependencies  # pushed only once the repository exists


def test_built_image_pg_backup_with_build_args_up_mode() -> None:
    evaluation = run(_built("staging", PG_BACKUP, build_args={"PG_MAJOR": "15"}), preview=False)
    image = evaluation.one(DOCKER_IMAGE)
    assert image.inputs["build"]["args"] == {"PG_MAJOR": "15"}
    tag = image_tag(REPO_ROOT / PG_BACKUP, build_args={"PG_MAJOR": "15"})
    assert evaluation.outputs["ref"].endswith(f"/escalating-reminders-staging/pg-backup:{tag}")
    assert evaluation.outputs["digest"].startswith(
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/escalating-reminders-staging/pg-backup@sha256:"
    )


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"context": "images/does-not-exist"},
            "BuiltImage: context is 'images/does-not-exist'; must be an existing",
        ),
        (
            {"context": PG_BACKUP, "dockerfile": "Nope"},
            "BuiltImage: dockerfile is 'Nope'; must be a file relative to the build context",
        ),
        ({"context": PG_BACKUP, "repository": "Bad Name"}, "BuiltImage: repository is 'Bad Name'"),
    ],
)
def test_built_image_rejects_bad_inputs(kw: dict[str, Any], message: str) -> None:
    args = {"repository": "pg-backup", **kw}

    def program() -> None:
        BuiltImage("img", BuiltImageArgs(deployment=deployment(), **args))

    evaluation = run_program(program, preview=True)
    assert evaluation.error is not None and message in evaluation.error


# ---------------------------------------------------------------------------------------------------------
# Cluster


def test_cluster_insights_capacity_providers_and_shared_build() -> None:
    built = ImageSource(context=PG_BACKUP)
    sources = {"api": built, "worker": built, "scheduler": ImageSource(image=PINNED)}
    evaluation = run(app_tier("staging", sources=sources))
    cluster = evaluation.one("aws:ecs/cluster:Cluster")
    assert cluster.inputs["name"] == "escalating-reminders-staging"
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    providers = evaluation.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert providers.inputs["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    # api and worker share one context: one repository, one build; the scheduler's image is used as is
    assert len(evaluation.of_type(REPO)) == 1 and len(evaluation.of_type(DOCKER_IMAGE)) == 1
    image = evaluation.one(DOCKER_IMAGE)
    images = {t.name: containers(t)[0]["image"] for t in evaluation.of_type(TASK_DEF)}
    assert images["api-task"] == images["worker-task"] == image.inputs["imageName"]
    assert re.fullmatch(
        rf"{ACCOUNT}\.dkr\.ecr\.{REGION}\.amazonaws\.com/escalating-reminders-staging/api:sha-[0-9a-f]{{12}}",
        images["api-task"],
    )
    assert images["scheduler-task"] == PINNED
    tasks = {t.name: t for t in evaluation.of_type(TASK_DEF)}
    assert image.urn in tasks["api-task"].dependencies and image.urn in tasks["worker-task"].dependencies
    assert image.urn not in tasks["scheduler-task"].dependencies


def test_runtime_platform_follows_the_image_platform() -> None:
    sources = {
        "api": ImageSource(image=PINNED),
        "worker": ImageSource(image=PINNED, platform="linux/amd64"),
        "scheduler": ImageSource(image=PINNED),
    }
    evaluation = run(app_tier("staging", sources=sources))
    platforms = {t.name: t.inputs["runtimePlatform"] for t in evaluation.of_type(TASK_DEF)}
    assert platforms["api-task"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert platforms["worker-task"] == {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}


def test_execution_role_reads_exactly_the_referenced_secrets() -> None:
    evaluation = default_tier("staging")
    role = evaluation.one("aws:iam/role:Role", "cluster-execution-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    policy = policy_of(evaluation.one(ROLE_POLICY, "cluster-execution-policy"))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    secrets_resources = by_sid["ReadSecrets"]["Resource"]
    referenced = {
        s["valueFrom"] for t in evaluation.of_type(TASK_DEF) for c in containers(t) for s in c["secrets"]
    }
    assert referenced and all(covered_by(v, secrets_resources) for v in referenced)
    # exactly: every pattern is used by some reference, and none is a wildcard over all secrets
    assert all(any(covered_by(v, [p]) for v in referenced) for p in secrets_resources)
    assert all(p.endswith("-??????") and "/staging/" in p for p in secrets_resources)
    assert by_sid["ReadSecrets"]["Action"] == "secretsmanager:GetSecretValue"
    assert by_sid["Logs"]["Resource"] == (
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/escalating-reminders-staging/*:log-stream:*"
    )
    assert (
        by_sid["EcrPull"]["Resource"]
        == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/escalating-reminders-staging/*"
    )
    actions = [
        a
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert not any(a.endswith("*") for a in actions)


def test_execution_role_decrypts_only_via_secrets_manager() -> None:
    evaluation = default_tier("staging", preview=False)
    kms = policy_of(evaluation.one(ROLE_POLICY, "cluster-execution-kms-policy"))
    (statement,) = kms["Statement"]
    assert statement["Action"] == "kms:Decrypt"
    assert statement["Resource"] == [f"arn:aws:kms:{REGION}:{ACCOUNT}:key/secrets"]
    assert statement["Condition"] == {
        "StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
    }


# ---------------------------------------------------------------------------------------------------------
# Services


def test_scheduler_args_offer_no_replicas_knob() -> None:
    names = {f.name for f in dataclasses.fields(SchedulerServiceArgs)}
    assert not any(re.search(r"replica|desired|count|scal", n) for n in names), names
    params = set(inspect.signature(SchedulerService.__init__).parameters)
    assert params == {"self", "name", "args", "opts"}
    # the worker and the API do have theirs (the check above would see them)
    assert "replicas" in {f.name for f in dataclasses.fields(WorkerServiceArgs)}
    assert {"min_replicas", "max_replicas"} <= {f.name for f in dataclasses.fields(ApiServiceArgs)}
    with pytest.raises(TypeError):
        SchedulerServiceArgs(replicas=2)  # type: ignore[call-arg]


@pytest.mark.parametrize("env", ["staging", "production"])
def test_scheduler_runs_exactly_one_task(env: str) -> None:
    evaluation = default_tier(env)
    service = evaluation.one(SERVICE, "scheduler-service")
    assert service.inputs["name"] == f"escalating-reminders-{env}-scheduler"
    assert service.inputs["desiredCount"] == 1
    assert service.inputs["deploymentMaximumPercent"] == 100
    assert service.inputs["deploymentMinimumHealthyPercent"] == 0
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service.inputs["capacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "base": 0, "weight": 1}
    ]
    assert service.inputs["tags"]["role"] == "scheduler"
    assert "desiredCount" not in service.ignore_changes
    targets = [t.inputs["resourceId"] for t in evaluation.of_type(TARGET)]
    assert targets == [f"service/escalating-reminders-{env}/escalating-reminders-{env}-api"]
    assert not any(service.urn in t.dependencies for t in evaluation.of_type(TARGET))


def test_worker_replicas_and_spot_in_staging() -> None:
    evaluation = run(app_tier("staging", spot=True))
    worker = evaluation.one(SERVICE, "worker-service")
    assert worker.inputs["desiredCount"] == 2
    assert worker.inputs["capacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 1}
    ]
    assert "loadBalancers" not in worker.inputs
    assert worker.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert run(app_tier("staging", spot=False)).one(SERVICE, "worker-service").inputs[
        "capacityProviderStrategies"
    ] == [{"capacityProvider": "FARGATE", "base": 0, "weight": 1}]


def test_worker_spot_is_refused_in_production() -> None:
    evaluation = run_program(app_tier("production", spot=True), preview=True)
    assert evaluation.error is not None
    assert (
        "WorkerService: spot is True; saas-backend:worker.spot must be false in production"
        in evaluation.error
    )


@pytest.mark.parametrize("env", ["staging", "production"])
def test_api_service_autoscaling_and_load_balancer(env: str) -> None:
    evaluation = run(app_tier(env, min_replicas=2, max_replicas=5))
    prefix = f"escalating-reminders-{env}"
    api = evaluation.one(SERVICE, "api-service")
    assert api.inputs["desiredCount"] == 2 and api.ignore_changes == ["desiredCount"]
    assert api.inputs["healthCheckGracePeriodSeconds"] == 60
    assert api.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert api.inputs["networkConfiguration"] == {
        "assignPublicIp": False,
        "subnets": ["subnet-priv-a", "subnet-priv-b"],
        "securityGroups": ["sg-app"],
    }
    (lb_cfg,) = api.inputs["loadBalancers"]
    assert (lb_cfg["containerName"], lb_cfg["containerPort"]) == ("api", 3801)
    rule = evaluation.one("aws:lb/listenerRule:ListenerRule")
    assert rule.urn in api.dependencies  # the target group is attached before the service uses it
    target = evaluation.one(TARGET)
    assert target.inputs["resourceId"] == f"service/{prefix}/{prefix}-api"
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (2, 5)
    assert target.inputs["scalableDimension"] == "ecs:service:DesiredCount"
    tracking = {
        p.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"][
            "predefinedMetricType"
        ]: p.inputs["targetTrackingScalingPolicyConfiguration"]
        for p in evaluation.of_type(SCALING_POLICY)
    }
    assert tracking["ECSServiceAverageCPUUtilization"]["targetValue"] == 70
    assert tracking["ECSServiceAverageMemoryUtilization"]["targetValue"] == 80
    assert {t["scaleInCooldown"] for t in tracking.values()} == {300}
    assert {p.inputs["resourceId"] for p in evaluation.of_type(SCALING_POLICY)} == {
        target.inputs["resourceId"]
    }


def test_api_needs_two_replicas_in_production() -> None:
    evaluation = run_program(app_tier("production", min_replicas=1), preview=True)
    assert (
        evaluation.error is not None
        and "ApiService: min_replicas is 1; production needs >= 2" in evaluation.error
    )


def test_task_definitions_are_literal_and_hardened_at_preview() -> None:
    evaluation = default_tier("production")
    tasks = {t.name: t for t in evaluation.of_type(TASK_DEF)}
    assert set(tasks) == {"api-task", "worker-task", "scheduler-task"}
    envs = []
    for name, task in tasks.items():
        role = name.removesuffix("-task")
        (c,) = containers(task)
        assert task.inputs["family"] == f"escalating-reminders-production-{role}"
        assert task.inputs["networkMode"] == "awsvpc" and task.inputs["requiresCompatibilities"] == [
            "FARGATE"
        ]
        assert task.inputs["tags"]["role"] == role
        assert c["name"] == role and c["essential"] is True
        assert c["privileged"] is False and c["readonlyRootFilesystem"] is True
        assert c["linuxParameters"] == {"initProcessEnabled": True}
        assert c["logConfiguration"] == {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": f"/ecs/escalating-reminders-production/{role}",
                "awslogs-region": REGION,
                "awslogs-stream-prefix": role,
            },
        }
        assert not [e["name"] for e in c["environment"] if looks_secret(e["name"])]
        assert all(
            s["valueFrom"].startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:")
            for s in c["secrets"]
        )
        envs.append(c["environment"])
    assert envs[0] == envs[1] == envs[2]
    assert (tasks["scheduler-task"].inputs["cpu"], tasks["scheduler-task"].inputs["memory"]) == (
        "512",
        "1024",
    )
    assert containers(tasks["api-task"])[0]["portMappings"] == [
        {"name": "http", "containerPort": 3801, "protocol": "tcp"}
    ]
    assert "portMappings" not in containers(tasks["worker-task"])[0]


def test_service_log_groups_are_encrypted_with_the_logs_key() -> None:
    evaluation = default_tier("staging")
    groups = {g.inputs["name"]: g.inputs for g in evaluation.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert set(groups) == {f"/ecs/escalating-reminders-staging/{r}" for r in ("api", "worker", "scheduler")}
    assert {g["kmsKeyId"] for g in groups.values()} == {LOGS_KEY}


def test_task_roles_are_separate_and_hold_no_permissions() -> None:
    evaluation = default_tier("staging", preview=False)
    task_roles = {t.inputs["taskRoleArn"] for t in evaluation.of_type(TASK_DEF)}
    assert len(task_roles) == 3
    execution = {t.inputs["executionRoleArn"] for t in evaluation.of_type(TASK_DEF)}
    assert len(execution) == 1 and not execution & task_roles
    policies = evaluation.of_type(ROLE_POLICY)
    assert {p.name for p in policies} == {"cluster-execution-policy", "cluster-execution-kms-policy"}
    assert not evaluation.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    for service in evaluation.of_type(SERVICE):
        assert service.inputs["enableExecuteCommand"] is False


def test_migrate_command_runs_the_api_family_in_private_subnets() -> None:
    evaluation = default_tier("staging", preview=False)
    assert evaluation.outputs["migrateCommand"] == (
        "aws ecs run-task --region us-west-2 --cluster escalating-reminders-staging "
        "--task-definition escalating-reminders-staging-api --launch-type FARGATE --count 1 "
        "--started-by migrate "
        "--network-configuration 'awsvpcConfiguration={subnets=[subnet-priv-a,subnet-priv-b],"
        "securityGroups=[sg-app],assignPublicIp=DISABLED}' "
        """--overrides '{"containerOverrides":[{"name":"api","""
        """"command":["npx","--no","prisma","migrate","deploy"]}]}'"""
    )


# ---------------------------------------------------------------------------------------------------------
# App environment


def test_app_environment_values() -> None:
    """Computed: NODE_ENV production on AWS, PORT, HOME and the npm cache on the writable /tmp; the rest is
    the stack's plain env and the data tier's. The app reads no rate-limit variables: none are set."""
    for env in ("staging", "production"):
        cfg = stack_config(env)
        app = fake_app(cfg, deployment(env))
        v = app.variables
        assert v["NODE_ENV"] == "production" and v["PORT"] == "3801"
        assert (v["HOME"], v["NPM_CONFIG_CACHE"]) == ("/tmp", "/tmp/.npm")
        assert v["CORS_ORIGIN"] == f"https://{cfg.domain}" and v["SMTP_PORT"] == "587"
        assert v["DATABASE_SSLMODE"] == "require"
        assert not {"API_URL", "LOG_LEVEL", "RATE_LIMIT_WINDOW_MS", "AUTH_RATE_LIMIT_MAX"} & set(v)
        assert {s["name"] for s in app.secrets} >= {
            "DATABASE_URL",
            "REDIS_AUTH_TOKEN",
            "JWT_SECRET",
            "GOOGLE_CLIENT_SECRET",
        }


def test_declared_rate_limit_variables_carry_the_edge_limits() -> None:
    """``app.rateLimitEnv`` names the app's own rate-limit variables; the program fills them."""
    raw = load_stack_config(
        "production",
        {
            "saas-backend:app": {
                "rateLimitEnv": {
                    "windowMs": "RATE_LIMIT_WINDOW_MS",
                    "maxRequests": "RATE_LIMIT_MAX_REQUESTS",
                    "authMaxRequests": "AUTH_RATE_LIMIT_MAX",
                }
            }
        },
    )
    v = build_app_environment(load(raw)).variables
    assert (v["RATE_LIMIT_WINDOW_MS"], v["RATE_LIMIT_MAX_REQUESTS"], v["AUTH_RATE_LIMIT_MAX"]) == (
        "900000",
        "100",
        "5",
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"env_parts": [{"DB_PASSWORD": "x"}]}, "app environment: DB_PASSWORD looks like a secret"),
        ({"env_parts": [{"PORT": "80"}]}, "app environment: PORT is defined twice"),
        (
            {
                "secret_parts": [
                    [{"name": "X", "valueFrom": "arn:aws:secretsmanager:us-west-2:1:secret:other/X"}]
                ]
            },
            "app secrets: X has valueFrom 'arn:aws:secretsmanager:us-west-2:1:secret:other/X', which no",
        ),
        ({"secret_parts": [[{"name": "X", "valueFrom": "plain"}]]}, "expected a Secrets Manager ARN"),
    ],
)
def test_app_environment_rejects(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        build_app_environment(stack_config("staging"), **kwargs)


def test_env_map_cannot_redefine_computed_variables() -> None:
    """Refused by the config validation already, before any resource exists."""
    raw = load_stack_config("staging", {"saas-backend:env": {"NODE_ENV": "development"}})
    with pytest.raises(
        ConfigError, match=r'saas-backend:env\.NODE_ENV is "development"; NODE_ENV is computed'
    ):
        load(raw)


def test_covered_by_handles_json_keys_and_full_arns() -> None:
    d = deployment()
    pattern = [d.secret_arn_pattern("DATABASE")]
    assert covered_by(d.secret_arn("DATABASE", "password"), pattern)
    assert covered_by(d.secret_arn("DATABASE") + "-Ab12Cd", pattern)
    assert not covered_by(d.secret_arn("DATABASE_OTHER"), pattern)


# ---------------------------------------------------------------------------------------------------------
# Load balancer


@pytest.mark.parametrize("env", ["staging", "production"])
def test_alb_flags_and_listeners(env: str) -> None:
    evaluation = default_tier(env)
    alb = evaluation.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["dropInvalidHeaderFields"] is True
    assert alb.inputs["enableDeletionProtection"] is (env == "production")
    assert alb.inputs["internal"] is False and alb.inputs["subnets"] == ["subnet-pub-a", "subnet-pub-b"]
    assert alb.inputs["accessLogs"] == {
        "bucket": f"escalating-reminders-{env}-alb-logs-{ACCOUNT}",
        "prefix": "alb",
        "enabled": True,
    }
    listeners = {listener.inputs["port"]: listener.inputs for listener in evaluation.of_type(LISTENER)}
    https, http = listeners[443], listeners[80]
    assert (
        https["protocol"] == "HTTPS"
        and https["sslPolicy"] == TLS_POLICY == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    )
    assert https["certificateArn"] == f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/validated"
    assert https["defaultActions"] == [
        {
            "type": "fixed-response",
            "fixedResponse": {"contentType": "text/plain", "messageBody": "Forbidden", "statusCode": "403"},
        }
    ]
    assert http["protocol"] == "HTTP"
    assert http["defaultActions"] == [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    ]
    rule = evaluation.one("aws:lb/listenerRule:ListenerRule")
    (condition,) = rule.inputs["conditions"]
    header = condition["httpHeader"]
    assert header["httpHeaderName"] == "X-Origin-Verify"
    (value,) = header["values"]
    assert value[SECRET_SIG] and value["value"] == "origin-s3cr3t"  # the secret stays a secret
    assert [a["type"] for a in rule.inputs["actions"]] == ["forward"]
    tg = evaluation.one("aws:lb/targetGroup:TargetGroup")
    assert tg.inputs["healthCheck"]["path"] == "/health" and tg.inputs["port"] == 3801
    # AWS allows a target group name prefix of at most 6 characters.
    assert tg.inputs["targetType"] == "ip" and tg.inputs["namePrefix"] == "api-" and "name" not in tg.inputs


def test_alb_security_group_admits_only_cloudflare() -> None:
    evaluation = default_tier("staging")
    lb_sg = evaluation.one("aws:ec2/securityGroup:SecurityGroup")
    assert "ingress" not in lb_sg.inputs and "egress" not in lb_sg.inputs
    ingress = [r for r in evaluation.of_type(INGRESS) if r.name.startswith("lb-in-")]
    seen = {(r.inputs["fromPort"], r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6")) for r in ingress}
    assert seen == {(port, cidr) for port in (443, 80) for cidr in CF_V4 + CF_V6}
    assert all(
        r.inputs["toPort"] == r.inputs["fromPort"] and r.inputs["ipProtocol"] == "tcp" for r in ingress
    )
    assert all(lb_sg.urn in r.dependencies for r in ingress)
    (egress,) = evaluation.of_type(EGRESS)
    assert (egress.inputs["fromPort"], egress.inputs["toPort"]) == (3801, 3801)
    assert egress.inputs["referencedSecurityGroupId"] == "sg-app" and "cidrIpv4" not in egress.inputs
    app_in = evaluation.one(INGRESS, "lb-app-in")
    assert app_in.inputs["securityGroupId"] == "sg-app"
    assert (app_in.inputs["fromPort"], app_in.inputs["toPort"]) == (3801, 3801)
    assert lb_sg.urn in app_in.property_dependencies["referencedSecurityGroupId"]


def test_alb_log_bucket_is_locked_down() -> None:
    evaluation = default_tier("production")
    bucket = evaluation.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["tags"]["purpose"] == "alb-logs" and bucket.inputs["forceDestroy"] is False

    def companion(kind: str) -> dict[str, Any]:
        resource = evaluation.one(f"aws:s3/{kind[0].lower()}{kind[1:]}:{kind}")
        assert resource.property_dependencies["bucket"] == [bucket.urn]
        return resource.inputs

    pab = companion("BucketPublicAccessBlock")
    assert all(
        pab[k] is True
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    assert companion("BucketOwnershipControls")["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    sse = companion("BucketServerSideEncryptionConfiguration")["rules"]
    assert sse == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    assert companion("BucketVersioning")["versioningConfiguration"] == {"status": "Enabled"}
    (rule,) = companion("BucketLifecycleConfiguration")["rules"]
    assert rule["status"] == "Enabled" and rule["expiration"] == {"days": 90}
    policy = json.loads(companion("BucketPolicy")["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    delivery = by_sid["AlbAccessLogDelivery"]
    assert delivery["Principal"] == {"AWS": "arn:aws:iam::797873946194:root"}  # ELB account of us-west-2
    assert delivery["Resource"] == (
        f"arn:aws:s3:::escalating-reminders-production-alb-logs-{ACCOUNT}/alb/AWSLogs/{ACCOUNT}/*"
    )
    deny = by_sid["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_aws_name_fits_32_characters() -> None:
    assert aws_name("escalating-reminders-staging-api") == "escalating-reminders-staging-api"
    long = aws_name("escalating-reminders-production-api")
    assert len(long) <= 32 and long.startswith("escalating-reminders-pro") and long != aws_name("x" * 40)


def test_load_balancer_rejects_open_ranges() -> None:
    def program() -> None:
        LoadBalancer(
            "lb",
            LoadBalancerArgs(
                deployment=deployment(),
                vpc_id="vpc-1",
                public_subnet_ids=["a", "b"],
                app_security_group_id="sg",
                certificate_arn="arn",
                cloudflare_ipv4=["0.0.0.0/0"],
                cloudflare_ipv6=[],
                origin_header_name="X-Origin-Verify",
                origin_secret="s",
            ),
        )

    evaluation = run_program(program, preview=True)
    assert (
        evaluation.error is not None and "LoadBalancer: cloudflare ranges is '0.0.0.0/0'" in evaluation.error
    )


# ---------------------------------------------------------------------------------------------------------
# Observability


@pytest.mark.parametrize("env", ["staging", "production"])
def test_alarms_notify_the_encrypted_topic(env: str) -> None:
    evaluation = default_tier(env, preview=False)
    topic = evaluation.one("aws:sns/topic:Topic")
    key = evaluation.one("aws:kms/key:Key")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True and key.protect is (env == "production")
    key_policy = json.loads(key.inputs["policy"])
    statements = {s["Sid"]: s for s in key_policy["Statement"]}
    alarms_use = statements["CloudWatchAlarmsUseKey"]
    assert alarms_use["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms_use["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    # SNS does not support aws:SourceAccount / aws:SourceArn in the key policy for EventBridge publishing to
    # an encrypted topic (SNS developer guide, "Key management", compatibility with AWS services).
    events_use = statements["EventBridgeUsesKey"]
    assert events_use["Principal"] == {"Service": "events.amazonaws.com"} and "Condition" not in events_use
    assert sorted(events_use["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    topic_policy = json.loads(evaluation.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    rules_publish = next(s for s in topic_policy["Statement"] if s["Sid"] == "EventBridgeRulesPublish")
    assert rules_publish["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:events:us-west-2:123456789012:rule/escalating-reminders-{env}-*"
    }
    sub = evaluation.one("aws:sns/topicSubscription:TopicSubscription")
    assert (sub.inputs["protocol"], sub.inputs["endpoint"]) == ("email", "ops@example.com")
    alarms = {a.name.removeprefix("obs-"): a.inputs for a in evaluation.of_type(ALARM)}
    assert set(alarms) == {
        "alb-5xx-rate",
        "api-unhealthy-targets",
        "api-cpu",
        "rds-cpu",
        "rds-free-storage",
        "redis-memory-001",
        "redis-memory-002",
        "scheduler-running-count",
    }
    for alarm in alarms.values():
        assert alarm["alarmActions"] == [topic.outputs["arn"]] and alarm["tags"]["environment"] == env
    prefix = f"escalating-reminders-{env}"
    assert alarms["api-cpu"]["dimensions"] == {"ClusterName": prefix, "ServiceName": f"{prefix}-api"}
    assert (
        alarms["api-cpu"]["threshold"],
        alarms["api-cpu"]["period"] * alarms["api-cpu"]["evaluationPeriods"],
    ) == (
        85,
        600,
    )
    assert alarms["rds-cpu"]["dimensions"] == {"DBInstanceIdentifier": f"{prefix}-postgres"}
    assert alarms["rds-cpu"]["threshold"] == 80
    storage = alarms["rds-free-storage"]
    assert (storage["comparisonOperator"], storage["threshold"]) == ("LessThanThreshold", 2 * 1024**3)
    redis = alarms["redis-memory-001"]
    assert redis["metricName"] == "DatabaseMemoryUsagePercentage" and redis["threshold"] == 80
    assert redis["dimensions"] == {"CacheClusterId": f"{prefix}-redis-001"}
    unhealthy = alarms["api-unhealthy-targets"]
    assert (unhealthy["metricName"], unhealthy["comparisonOperator"], unhealthy["threshold"]) == (
        "UnHealthyHostCount",
        "GreaterThanThreshold",
        0,
    )
    assert unhealthy["period"] * unhealthy["evaluationPeriods"] == 300
    assert unhealthy["dimensions"]["TargetGroup"].startswith("targetgroup/")
    rate = alarms["alb-5xx-rate"]
    queries = {q["id"]: q for q in rate["metricQueries"]}
    assert queries["rate"]["expression"] == "100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests"
    assert queries["elb5xx"]["metric"]["metricName"] == "HTTPCode_ELB_5XX_Count"
    assert queries["target5xx"]["metric"]["metricName"] == "HTTPCode_Target_5XX_Count"
    assert queries["requests"]["metric"]["metricName"] == "RequestCount"
    assert queries["requests"]["metric"]["dimensions"]["LoadBalancer"].startswith("app/")
    assert rate["threshold"] == 5 and rate["comparisonOperator"] == "GreaterThanThreshold"


def test_scheduler_alarm_fires_when_no_task_runs_without_container_insights() -> None:
    """Amazon ECS Developer Guide, "Amazon ECS CloudWatch metrics" (available-metrics.html): metrics "are
    collected for resources that have tasks in the RUNNING state ... no running tasks, no metrics will be
    reported": missing AWS/ECS data breaches; two tasks are excluded by maximumPercent 100."""
    evaluation = default_tier("production")
    alarm = evaluation.one(ALARM, "obs-scheduler-running-count").inputs
    assert (alarm["namespace"], alarm["metricName"], alarm["statistic"]) == (
        "AWS/ECS",
        "CPUUtilization",
        "SampleCount",
    )
    assert alarm["dimensions"] == {
        "ClusterName": "escalating-reminders-production",
        "ServiceName": "escalating-reminders-production-scheduler",
    }
    assert (alarm["comparisonOperator"], alarm["threshold"]) == ("LessThanThreshold", 1)
    assert alarm["period"] * alarm["evaluationPeriods"] == 300 and alarm["datapointsToAlarm"] == 5
    assert alarm["treatMissingData"] == "breaching"
    scheduler = evaluation.one(SERVICE, "scheduler-service").inputs
    assert scheduler["deploymentMaximumPercent"] == 100


def test_no_email_no_subscription() -> None:
    evaluation = run(app_tier("staging", alert_email=None))
    assert evaluation.of_type("aws:sns/topicSubscription:TopicSubscription") == []


def test_every_taggable_app_resource_carries_the_required_tags() -> None:
    evaluation = default_tier("production")
    untaggable = {
        "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:appautoscaling/policy:Policy",
        "aws:kms/alias:Alias",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:sns/topicSubscription:TopicSubscription",
    }
    required = {"environment": "production", "app": "escalating-reminders", "managed-by": "pulumi"}
    for r in evaluation.custom:
        if (
            not r.type.startswith("aws:")
            or r.type in untaggable
            or (r.type.startswith("aws:s3/bucket") and r.type != "aws:s3/bucket:Bucket")
        ):
            continue
        tags = r.inputs.get("tags")
        assert isinstance(tags, dict) and required.items() <= tags.items(), (r.type, r.name, tags)
