"""The app tier in the committed stacks (staging and production), end to end through __main__.py."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import pytest
import yaml

from components.app_env import covered_by
from components.aws.edge.tunnel import CONTAINER_NAME as SIDECAR
from components.config import looks_secret
from components.images import image_tag
from preflight import mocks
from preflight.engine import Evaluation, evaluate
from preflight.model import UNKNOWN
from preflight.stackfile import REPO_ROOT

SERVICE = "aws:ecs/service:Service"
TASK_DEF = "aws:ecs/taskDefinition:TaskDefinition"
TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
LISTENER = "aws:lb/listener:Listener"
ALB = "aws:lb/loadBalancer:LoadBalancer"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
APP_ROLES = ("api", "worker", "scheduler")


def env_of(evaluation: Evaluation) -> str:
    return evaluation.stack


def prefix_of(evaluation: Evaluation) -> str:
    return f"escalating-reminders-{evaluation.stack}"


def stack_file(stack: str) -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


def app_tasks(evaluation: Evaluation) -> dict[str, Any]:
    """role -> task definition of the three app services."""
    found = {t.inputs["tags"]["role"]: t for t in evaluation.of_type(TASK_DEF)}
    return {role: found[role] for role in APP_ROLES}


def services(evaluation: Evaluation) -> dict[str, Any]:
    return {s.inputs["tags"]["role"]: s for s in evaluation.of_type(SERVICE)}


def container(task: Any) -> dict[str, Any]:
    raw = task.inputs["containerDefinitions"]
    assert isinstance(raw, str) and raw != UNKNOWN, f"{task.name}: containerDefinitions not literal"
    # The app container; a tunnel stack's API task also runs cloudflared (tests/test_tunnel.py).
    (only,) = [c for c in json.loads(raw) if c["name"] != SIDECAR]
    return only


# ---------------------------------------------------------------------------------------------------------
# Outputs


def test_stack_outputs(stack: Evaluation) -> None:
    prefix = prefix_of(stack)
    hostname = (
        "api.escalating-reminders.com"
        if stack.stack == "production"
        else "api-staging.escalating-reminders.dev"
    )
    out = stack.outputs
    assert out["apiUrl"] == f"https://{hostname}"
    assert out["clusterName"] == prefix
    assert (out["apiServiceName"], out["workerServiceName"], out["schedulerServiceName"]) == (
        f"{prefix}-api",
        f"{prefix}-worker",
        f"{prefix}-scheduler",
    )
    assert out["logGroups"] == {role: f"/ecs/{prefix}/{role}" for role in APP_ROLES}


@pytest.mark.parametrize("stack_name", ["staging", "production"])
def test_migrate_command_targets_the_api_family_in_private_subnets(
    stack_name: str, staging_up: Evaluation, production_up: Evaluation
) -> None:
    evaluation = staging_up if stack_name == "staging" else production_up
    prefix = prefix_of(evaluation)
    words = shlex.split(evaluation.outputs["migrateCommand"])
    assert words[:3] == ["aws", "ecs", "run-task"]
    options = dict(zip(words[3::2], words[4::2], strict=True))
    assert options["--cluster"] == prefix
    assert options["--task-definition"] == f"{prefix}-api" == app_tasks(evaluation)["api"].inputs["family"]
    assert options["--launch-type"] == "FARGATE" and options["--count"] == "1"
    subnets = ",".join(evaluation.outputs["privateSubnetIds"])
    app_sg = services(evaluation)["api"].inputs["networkConfiguration"]["securityGroups"][0]
    assert options["--network-configuration"] == (
        f"awsvpcConfiguration={{subnets=[{subnets}],securityGroups=[{app_sg}],assignPublicIp=DISABLED}}"
    )
    # The API revision and the build of its image (from the app checkout) are what a migration needs.
    build = evaluation.one("docker:index/image:Image", "app-api-image")
    assert evaluation.outputs["migrateTargets"] == [app_tasks(evaluation)["api"].urn, build.urn]
    # npx --no never downloads (npm exec: without a TTY --yes is assumed): the image's own prisma CLI runs.
    assert json.loads(options["--overrides"]) == {
        "containerOverrides": [{"name": "api", "command": ["npx", "--no", "prisma", "migrate", "deploy"]}]
    }


# ---------------------------------------------------------------------------------------------------------
# Scheduler singleton, worker, API scaling


def test_scheduler_is_a_singleton(stack: Evaluation) -> None:
    schedulers = [s for s in stack.of_type(SERVICE) if s.inputs["tags"].get("role") == "scheduler"]
    assert len(schedulers) == 1
    inputs = schedulers[0].inputs
    assert inputs["desiredCount"] == 1
    assert inputs["deploymentMaximumPercent"] == 100
    assert inputs["deploymentMinimumHealthyPercent"] == 0
    assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    # Staging's scheduler is on Fargate Spot: an interruption stops it before the next starts (maximum 100 %).
    provider = "FARGATE_SPOT" if stack.stack == "staging" else "FARGATE"
    assert inputs["capacityProviderStrategies"] == [{"capacityProvider": provider, "base": 0, "weight": 1}]


def test_no_autoscaling_target_points_at_the_scheduler(stack: Evaluation) -> None:
    prefix = prefix_of(stack)
    scheduler = services(stack)["scheduler"]
    targets = stack.of_type(TARGET)
    assert [t.inputs["resourceId"] for t in targets] == [f"service/{prefix}/{prefix}-api"]  # literal
    for target in targets:
        assert target.property_dependencies.get("resourceId", []) == []
        assert not target.inputs["resourceId"].endswith(f"/{scheduler.inputs['name']}")
    for policy in stack.of_type(SCALING_POLICY):
        assert policy.inputs["resourceId"] == f"service/{prefix}/{prefix}-api"


def test_api_autoscaling_bounds_and_targets(stack: Evaluation) -> None:
    expected = (2, 5) if stack.stack == "production" else (1, 2)
    (target,) = stack.of_type(TARGET)
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == expected
    api = services(stack)["api"]
    assert api.inputs["desiredCount"] == expected[0] and api.ignore_changes == ["desiredCount"]
    assert api.inputs["healthCheckGracePeriodSeconds"] == 60
    configs = [p.inputs["targetTrackingScalingPolicyConfiguration"] for p in stack.of_type(SCALING_POLICY)]
    by_metric = {c["predefinedMetricSpecification"]["predefinedMetricType"]: c for c in configs}
    assert by_metric["ECSServiceAverageCPUUtilization"]["targetValue"] == 70
    assert by_metric["ECSServiceAverageMemoryUtilization"]["targetValue"] == 80
    assert all(c["scaleInCooldown"] == 300 for c in configs) and len(configs) == 2


def test_worker_replicas_and_capacity(stack: Evaluation) -> None:
    worker = services(stack)["worker"].inputs
    assert worker["desiredCount"] == 2 and "loadBalancers" not in worker
    assert worker["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    provider = "FARGATE_SPOT" if stack.stack == "staging" else "FARGATE"  # staging sets worker.spot: true
    assert worker["capacityProviderStrategies"] == [{"capacityProvider": provider, "base": 0, "weight": 1}]


def test_worker_spot_is_refused_in_production() -> None:
    worker = dict(stack_file("production")["saas-backend:worker"], spot=True)
    worker["source"] = dict(worker["source"], platform="linux/amd64")  # Spot's own X86_64 rule satisfied
    evaluation = evaluate("production", preview=True, overrides={"saas-backend:worker": worker})
    assert evaluation.error is not None
    assert evaluation.error.startswith("saas-backend:worker.spot is true; production runs workers on regular")
    assert evaluation.resources == []  # refused by the config validation, before any resource


def test_services_run_in_private_subnets_without_public_ips(staging_up: Evaluation) -> None:
    private = staging_up.outputs["privateSubnetIds"]
    for role, service in services(staging_up).items():
        network = service.inputs["networkConfiguration"]
        assert network["subnets"] == private, role
        assert network["assignPublicIp"] is False, role
        assert service.inputs["enableExecuteCommand"] is False


def test_cluster_and_runtime_platform(stack: Evaluation) -> None:
    cluster = stack.one("aws:ecs/cluster:Cluster")
    assert cluster.inputs["name"] == prefix_of(stack)
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    providers = stack.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert providers.inputs["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    platforms = {
        role: stack_file(stack.stack)[f"saas-backend:{role}"]["source"].get("platform") for role in APP_ROLES
    }
    for role, task in app_tasks(stack).items():
        # Graviton unless the source says amd64 (staging's Spot workers: Fargate Spot is X86_64 only).
        arch = "X86_64" if platforms[role] == "linux/amd64" else "ARM64"
        assert task.inputs["runtimePlatform"] == {"cpuArchitecture": arch, "operatingSystemFamily": "LINUX"}
    assert (platforms["worker"] == "linux/amd64") == (stack.stack == "staging")


# ---------------------------------------------------------------------------------------------------------
# Task definitions: literal, no secrets in plain text, secrets readable by exactly the execution role


def test_container_definitions_are_literal_at_preview(stack: Evaluation) -> None:
    assert stack.preview
    prefix = prefix_of(stack)
    for role, task in app_tasks(stack).items():
        c = container(task)  # asserts literal JSON
        assert task.inputs["family"] == f"{prefix}-{role}"
        # Built from the app checkout into this stack's ECR repository: one build serves the three roles
        # (staging: linux/amd64 for Fargate Spot; production: linux/arm64).
        repo = "api"
        assert re.fullmatch(
            rf"{mocks.ACCOUNT_ID}\.dkr\.ecr\.us-west-2\.amazonaws\.com/{prefix}/{repo}:sha-[0-9a-f]{{12}}",
            c["image"],
        ), c["image"]
        assert c["privileged"] is False and c["readonlyRootFilesystem"] is True
        assert c["linuxParameters"]["initProcessEnabled"] is True
        assert c["logConfiguration"]["options"]["awslogs-group"] == f"/ecs/{prefix}/{role}"


def test_no_task_definition_in_the_stack_carries_a_secret_in_environment(stack: Evaluation) -> None:
    # Every task definition (app, migrate, backups), judged by the one rule config validation and the policy
    # pack share: names that end in a reference suffix (BACKUP_KMS_KEY_ID) are references, not secrets.
    for task in stack.of_type(TASK_DEF):
        for c in json.loads(task.inputs["containerDefinitions"]):
            leaked = [e["name"] for e in c.get("environment", []) if looks_secret(e["name"])]
            assert leaked == [], (task.name, leaked)


def test_app_environment_is_identical_and_complete(stack: Evaluation) -> None:
    envs = {
        role: {e["name"]: e["value"] for e in container(t)["environment"]}
        for role, t in app_tasks(stack).items()
    }
    assert envs["api"] == envs["worker"] == envs["scheduler"]
    env = envs["api"]
    domain = stack_file(stack.stack)["saas-backend:domain"]
    # Node's production mode on both AWS stacks; npm's HOME and cache on the task's writable /tmp.
    assert env["NODE_ENV"] == "production" and env["PORT"] == "3801"
    assert (env["HOME"], env["NPM_CONFIG_CACHE"]) == ("/tmp", "/tmp/.npm")
    assert env["CORS_ORIGIN"] == env["OAUTH_REDIRECT_BASE_URL"] == f"https://{domain}"
    assert (env["SMTP_PORT"], env["SMTP_FROM"]) == ("587", f"noreply@{domain}")
    assert env["SMS_INBOUND_WEBHOOK_URL"] == f"{stack.outputs['apiUrl']}/v1/webhooks/sms"
    # Nothing the app does not read: no seed-era API_URL, LOG_LEVEL, RATE_LIMIT_*, FEATURE_*.
    assert not {"API_URL", "LOG_LEVEL", "RATE_LIMIT_WINDOW_MS", "FEATURE_MARKETPLACE"} & set(env)
    assert {
        "DATABASE_PORT",
        "DATABASE_NAME",
        "DATABASE_USER",
        "DATABASE_SSLMODE",
        "REDIS_PORT",
        "REDIS_TLS",
    } <= set(env)
    secrets = {s["name"] for s in container(app_tasks(stack)["api"])["secrets"]}
    assert {
        "DATABASE_URL",
        "DATABASE_PASSWORD",
        "REDIS_URL",
        "REDIS_AUTH_TOKEN",
        "JWT_SECRET",
        "JWT_REFRESH_SECRET",
        "ENCRYPTION_KEY",
        "GOOGLE_CLIENT_ID",
        "GOOGLE_CLIENT_SECRET",
        "NOCTUSOFT_API_KEY",
    } <= secrets
    assert not {"SENDGRID_API_KEY", "TWILIO_AUTH_TOKEN", "SENTRY_DSN"} & secrets  # the app reads none
    assert not secrets & set(env)


def test_secrets_are_literal_arns_the_execution_role_may_read(stack: Evaluation) -> None:
    policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy", "app-execution-policy").inputs["policy"])
    (read,) = [s for s in policy["Statement"] if s["Sid"] == "ReadSecrets"]
    patterns = read["Resource"]
    arn_prefix = (
        f"arn:aws:secretsmanager:us-west-2:{mocks.ACCOUNT_ID}:secret:escalating-reminders/{stack.stack}/"
    )
    referenced = set()
    for task in app_tasks(stack).values():
        # every container's secrets: the app's, and the tunnel token of a tunnel stack's cloudflared
        containers = json.loads(task.inputs["containerDefinitions"])
        for secret in [s for c in containers for s in c.get("secrets", [])]:
            assert secret["valueFrom"].startswith(arn_prefix), secret
            assert covered_by(secret["valueFrom"], patterns), secret
            referenced.add(secret["valueFrom"])
    # exactly the referenced secrets: every pattern is used, each names one secret of this stack
    for pattern in patterns:
        assert pattern.startswith(arn_prefix) and pattern.endswith("-??????") and "*" not in pattern
        assert any(covered_by(v, [pattern]) for v in referenced), pattern
    execution = {t.inputs["executionRoleArn"] for t in app_tasks(stack).values()}
    assert len(execution) == 1


def test_task_roles_are_per_service(staging_up: Evaluation) -> None:
    roles = {t.inputs["taskRoleArn"] for t in app_tasks(staging_up).values()}
    executions = {t.inputs["executionRoleArn"] for t in app_tasks(staging_up).values()}
    assert len(roles) == 3 and not roles & executions


def test_log_retention(stack: Evaluation) -> None:
    days = 90 if stack.stack == "production" else 14
    groups = {g.inputs["name"]: g.inputs["retentionInDays"] for g in stack.of_type(LOG_GROUP)}
    for role in APP_ROLES:
        assert groups[f"/ecs/{prefix_of(stack)}/{role}"] == days


# ---------------------------------------------------------------------------------------------------------
# Load balancer


def test_alb_listeners_and_flags(production: Evaluation) -> None:
    stack = production  # the ALB origin; staging runs the tunnel (tests/test_tunnel.py)
    (alb,) = stack.of_type(ALB)
    assert alb.inputs["dropInvalidHeaderFields"] is True
    assert alb.inputs["enableDeletionProtection"] is (stack.stack == "production")
    listeners = {listener.inputs["port"]: listener for listener in stack.of_type(LISTENER)}
    https, http = listeners[443].inputs, listeners[80].inputs
    assert https["protocol"] == "HTTPS" and https["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert [a["type"] for a in https["defaultActions"]] == ["fixed-response"]
    assert https["defaultActions"][0]["fixedResponse"]["statusCode"] == "403"
    assert http["protocol"] == "HTTP"
    assert http["defaultActions"] == [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    ]
    # the certificate comes through the edge's validation resource (validated before use)
    validation = stack.one("aws:acm/certificateValidation:CertificateValidation")
    assert listeners[443].property_dependencies["certificateArn"] == [validation.urn]
    rule = stack.one("aws:lb/listenerRule:ListenerRule")
    (condition,) = rule.inputs["conditions"]
    assert condition["httpHeader"]["httpHeaderName"] == stack_origin_header()
    assert [a["type"] for a in rule.inputs["actions"]] == ["forward"]


def stack_origin_header() -> str:
    from components.aws.edge import ORIGIN_HEADER_NAME

    return ORIGIN_HEADER_NAME


def test_alb_admits_only_cloudflare(production: Evaluation) -> None:
    stack = production  # the ALB origin; staging runs the tunnel (tests/test_tunnel.py)
    alb_sg = next(
        sg
        for sg in stack.of_type("aws:ec2/securityGroup:SecurityGroup")
        if sg.inputs.get("namePrefix", "").endswith("-alb-")
    )
    rules = [
        r for r in stack.of_type(INGRESS) if alb_sg.urn in r.property_dependencies.get("securityGroupId", [])
    ]
    seen = sorted((r.inputs["fromPort"], r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6")) for r in rules)
    expected = sorted(
        (port, cidr) for port in (443, 80) for cidr in mocks.CLOUDFLARE_IPV4 + mocks.CLOUDFLARE_IPV6
    )
    assert seen == expected
    assert "ingress" not in alb_sg.inputs
    bucket = next(
        b for b in stack.of_type("aws:s3/bucket:Bucket") if b.inputs["tags"].get("purpose") == "alb-logs"
    )
    assert bucket.inputs["bucket"] == f"{prefix_of(stack)}-alb-logs-{mocks.ACCOUNT_ID}"
    (alb,) = stack.of_type(ALB)
    assert (
        alb.inputs["accessLogs"]["bucket"] == bucket.inputs["bucket"] and alb.inputs["accessLogs"]["enabled"]
    )


# ---------------------------------------------------------------------------------------------------------
# Observability


@pytest.mark.parametrize("stack_name", ["staging", "production"])
def test_alarm_dimensions_match_the_data_tier(
    stack_name: str, staging_up: Evaluation, production_up: Evaluation
) -> None:
    evaluation = staging_up if stack_name == "staging" else production_up
    alarms = {
        a.inputs["name"].removeprefix(prefix_of(evaluation) + "-"): a.inputs
        for a in evaluation.of_type(ALARM)
    }
    group = evaluation.one("aws:elasticache/replicationGroup:ReplicationGroup")
    nodes = sorted(
        a["dimensions"]["CacheClusterId"] for k, a in alarms.items() if k.startswith("redis-memory")
    )
    assert nodes == sorted(group.outputs["memberClusters"])  # one alarm per Redis node, by its real id
    db = evaluation.one("aws:rds/instance:Instance")
    assert alarms["rds-cpu"]["dimensions"] == {"DBInstanceIdentifier": db.inputs["identifier"]}
    assert alarms["rds-free-storage"]["dimensions"] == {"DBInstanceIdentifier": db.inputs["identifier"]}
    topic = evaluation.one("aws:sns/topic:Topic")
    for name, alarm in alarms.items():
        if name.startswith(("alb-", "api-", "rds-", "redis-", "scheduler-")):
            assert topic.outputs["arn"] in alarm["alarmActions"], name
    scheduler = alarms["scheduler-running-count"]
    assert scheduler["dimensions"]["ServiceName"] == evaluation.outputs["schedulerServiceName"]
    assert alarms["scheduler-running-count"]["treatMissingData"] == "breaching"
    if stack_name == "production":  # the ALB origin
        lb = evaluation.one(ALB)
        queries = {q["id"]: q for q in alarms["alb-5xx-rate"]["metricQueries"]}
        assert queries["requests"]["metric"]["dimensions"] == {"LoadBalancer": lb.outputs["arnSuffix"]}
        assert "api-running-count" not in alarms
    else:  # the tunnel origin: no load balancer to alarm on; the API's running tasks instead
        assert not [k for k in alarms if k.startswith("alb-") or k == "api-unhealthy-targets"]
        api = alarms["api-running-count"]
        assert api["dimensions"]["ServiceName"] == evaluation.outputs["apiServiceName"]
        assert (api["treatMissingData"], api["statistic"], api["threshold"]) == (
            "breaching",
            "SampleCount",
            1,
        )
    sub = evaluation.one("aws:sns/topicSubscription:TopicSubscription")
    assert sub.inputs["endpoint"] == "ops@escalating-reminders.com"


# ---------------------------------------------------------------------------------------------------------
# A build context instead of a pinned image


def test_build_context_is_built_once_and_tagged_by_content() -> None:
    staging = stack_file("staging")
    overrides = {
        key: dict(staging[key], source={"context": "images/pg-backup"})
        for key in ("saas-backend:api", "saas-backend:worker", "saas-backend:scheduler")
    }
    for key in overrides:  # one platform (arm64) for the three roles
        overrides[key]["spot"] = False
    evaluation = evaluate("staging", preview=True, overrides=overrides)
    assert evaluation.error is None, evaluation.error
    cluster = evaluation.one("saas:app:Cluster")
    builds = [r for r in evaluation.resources if r.type == "saas:app:BuiltImage" and r.parent == cluster.urn]
    assert len(builds) == 1  # one shared build for the three roles
    repos = [r for r in evaluation.of_type("aws:ecr/repository:Repository") if r.parent == builds[0].urn]
    images = [r for r in evaluation.of_type("docker:index/image:Image") if r.parent == builds[0].urn]
    assert len(repos) == 1 and len(images) == 1
    tag = image_tag(REPO_ROOT / "images/pg-backup")
    ref = f"{mocks.ACCOUNT_ID}.dkr.ecr.us-west-2.amazonaws.com/escalating-reminders-staging/api:{tag}"
    assert images[0].inputs["imageName"] == ref
    assert re.fullmatch(r"sha-[0-9a-f]{12}", tag)
    for task in app_tasks(evaluation).values():
        assert container(task)["image"] == ref  # literal at preview
        assert images[0].urn in task.dependencies
    assert repos[0].inputs["imageTagMutability"] == "IMMUTABLE"
    # registering a new API revision before a migration also pushes its image
    assert evaluation.outputs["migrateTargets"] == [app_tasks(evaluation)["api"].urn, images[0].urn]
