"""Every rule of the pack, through the real gRPC path: a complete stack that passes, and one failing
fixture per rule and way of breaking it, asserted by policy name and message."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import pytest

from policies.saas_guardrails import ALL_POLICIES
from preflight.analyzer import PackProcess, Violation
from preflight.model import UNKNOWN, RecordedResource

from .builders import (
    APP,
    AUTOSCALING_TARGET,
    DNS_RECORD,
    DROP,
    api_ingress,
    container_definitions,
    explain,
    find,
    good_dev_stack,
    good_stack,
    make_urn,
    nat_instance,
    policies_of,
    replication_stack,
    res,
    tags,
    topic_key_policy,
    tunnel_stack,
    with_inputs,
    with_options,
    without,
)

Analyze = Callable[[Sequence[RecordedResource]], list[Violation]]
STG = f"{APP}-staging"
PRD = f"{APP}-production"


def staging() -> list[RecordedResource]:
    return good_stack("staging")


def production() -> list[RecordedResource]:
    return good_stack("production")


@pytest.mark.parametrize("env", ["staging", "production"])
def test_complete_stack_passes_every_policy(analyze: Analyze, env: str) -> None:
    violations = analyze(good_stack(env))
    assert violations == [], explain(violations)


def test_tunnel_stack_passes_every_policy(analyze: Analyze) -> None:
    """edge.origin tunnel: no load balancer, the API's groups admit nothing (tunnel-api-no-ingress)."""
    violations = analyze(tunnel_stack())
    assert violations == [], explain(violations)


# --- one failing fixture per rule (and per way of breaking it) -------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[], list[RecordedResource]]
    policy: str
    fragment: str
    also: frozenset[str] = frozenset()  # other policies the same mistake legitimately trips


def _second_scheduler() -> list[RecordedResource]:
    stack = staging()
    original = find(stack, "scheduler-service")
    clone = replace(
        original,
        name="scheduler-2-service",
        urn=original.urn.replace("::scheduler-service", "::scheduler-2-service"),
        inputs={**original.inputs, "name": f"{STG}-scheduler-2"},
    )
    return [*stack, clone]


def _scheduler_target(resource_id: str, deps: dict[str, list[str]] | None = None) -> list[RecordedResource]:
    stack = staging()
    target = res(
        AUTOSCALING_TARGET,
        "scheduler-scaling",
        {
            "resourceId": resource_id,
            "scalableDimension": "ecs:service:DesiredCount",
            "serviceNamespace": "ecs",
            "minCapacity": 1,
            "maxCapacity": 3,
            "tags": tags("staging"),
        },
        property_dependencies=deps,
    )
    return [*stack, target]


def _scheduler_target_by_dependency() -> list[RecordedResource]:
    stack = staging()
    service = find(stack, "scheduler-service")
    return _scheduler_target(UNKNOWN, {"resourceId": [service.urn]})


def _task(
    env: dict[str, str] | None = None, *, privileged: bool | None = None, logging: bool = True
) -> Callable[[], list[RecordedResource]]:
    def build() -> list[RecordedResource]:
        definitions = container_definitions("api", env, privileged=privileged, logging=logging)
        return with_inputs(staging(), "api-task", containerDefinitions=definitions)

    return build


def _open_rule(type_: str, inputs: dict[str, object]) -> Callable[[], list[RecordedResource]]:
    return lambda: [*staging(), res(type_, "open-rule", {**inputs, "tags": tags("staging")})]


CASES = [
    # ecs-fargate-spot-x86
    Case(
        "spot-on-arm64",
        lambda: with_inputs(
            with_inputs(
                staging(),
                "worker-service",
                capacityProviderStrategies=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
            ),
            "worker-task",
            runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        ),
        "ecs-fargate-spot-x86",
        "ECS service 'worker-service' uses FARGATE_SPOT with task definition 'worker-task'",
    ),
    # scheduler-singleton
    Case(
        "scheduler-desired-2",
        lambda: with_inputs(staging(), "scheduler-service", desiredCount=2),
        "scheduler-singleton",
        "ECS service 'scheduler-service' (role=scheduler) has desiredCount 2",
    ),
    Case(
        "scheduler-desired-unset",
        lambda: with_inputs(staging(), "scheduler-service", desiredCount=DROP),
        "scheduler-singleton",
        "has desiredCount unset",
    ),
    Case(
        "scheduler-max-200",
        lambda: with_inputs(staging(), "scheduler-service", deploymentMaximumPercent=200),
        "scheduler-singleton",
        "deploymentMaximumPercent 200; it must be <= 100",
    ),
    Case(
        "scheduler-max-unset",
        lambda: with_inputs(staging(), "scheduler-service", deploymentMaximumPercent=DROP),
        "scheduler-singleton",
        "deploymentMaximumPercent unset (AWS default 200)",
    ),
    Case(
        "scheduler-min-50",
        lambda: with_inputs(staging(), "scheduler-service", deploymentMinimumHealthyPercent=50),
        "scheduler-singleton",
        "deploymentMinimumHealthyPercent 50; it must be 0",
    ),
    Case(
        "scheduler-daemon",
        lambda: with_inputs(staging(), "scheduler-service", schedulingStrategy="DAEMON"),
        "scheduler-singleton",
        'schedulingStrategy "DAEMON"',
        # schedulingStrategy forces a replacement of the fixed-name service.
        also=frozenset({"fixed-name-replacement"}),
    ),
    # scheduler-exactly-one
    Case("two-schedulers", _second_scheduler, "scheduler-exactly-one", "2 schedulers in the stack"),
    Case(
        "worker-tagged-scheduler",
        lambda: with_inputs(staging(), "worker-service", tags__role="scheduler"),
        "scheduler-exactly-one",
        "'worker-service'",
        also=frozenset({"scheduler-singleton"}),
    ),
    Case(
        "no-scheduler",
        lambda: without(staging(), "scheduler-service"),
        "scheduler-exactly-one",
        "no scheduler in the stack",
    ),
    # scheduler-no-autoscaling
    Case(
        "autoscaling-scheduler-by-id",
        lambda: _scheduler_target(f"service/{STG}/{STG}-scheduler"),
        "scheduler-no-autoscaling",
        f"resourceId \"service/{STG}/{STG}-scheduler\", which is scheduler service 'scheduler-service'",
    ),
    Case(
        "autoscaling-scheduler-by-dependency",
        _scheduler_target_by_dependency,
        "scheduler-no-autoscaling",
        "resourceId computed from scheduler service 'scheduler-service'",
    ),
    # ECS task definitions
    Case(
        "env-jwt-secret",
        _task(env={"NODE_ENV": "production", "JWT_SECRET": "hunter2"}),
        "ecs-no-secrets-in-environment",
        "container 'api' sets environment variable JWT_SECRET in plain text",
    ),
    Case(
        "env-api-key",
        _task(env={"SENDGRID_API_KEY": "SG.x"}),
        "ecs-no-secrets-in-environment",
        "environment variable SENDGRID_API_KEY in plain text",
    ),
    Case(
        "env-sentry-dsn",
        _task(env={"SENTRY_DSN": "https://k@sentry.io/1"}),
        "ecs-no-secrets-in-environment",
        "environment variable SENTRY_DSN in plain text",
    ),
    Case(
        "env-url-with-password",
        _task(env={"DATABASE_URL": "postgres://app:pw@db.internal:5432/app"}),
        "ecs-no-secrets-in-environment",
        "DATABASE_URL to a URL with an embedded password",
    ),
    Case(
        "not-json",
        lambda: with_inputs(staging(), "api-task", containerDefinitions="[{"),
        "ecs-no-secrets-in-environment",
        "containerDefinitions that are not valid JSON",
        also=frozenset({"ecs-no-privileged-containers", "ecs-container-logging"}),
    ),
    Case(
        "privileged",
        _task(privileged=True),
        "ecs-no-privileged-containers",
        "task definition 'api-task' container 'api' has privileged: true",
    ),
    Case(
        "no-logging",
        _task(logging=False),
        "ecs-container-logging",
        "task definition 'api-task' container 'api' has no logConfiguration",
    ),
    # RDS
    Case(
        "rds-unencrypted",
        lambda: with_inputs(staging(), "db", storageEncrypted=False),
        "rds-storage-encrypted",
        "RDS instance 'db' has storageEncrypted false",
    ),
    Case(
        "rds-encryption-unset",
        lambda: with_inputs(staging(), "db", storageEncrypted=DROP),
        "rds-storage-encrypted",
        "storageEncrypted unset",
    ),
    Case(
        "rds-public",
        lambda: with_inputs(staging(), "db", publiclyAccessible=True),
        "rds-not-public",
        "RDS instance 'db' has publiclyAccessible true",
    ),
    Case(
        "rds-retention-3",
        lambda: with_inputs(staging(), "db", backupRetentionPeriod=3),
        "rds-backup-retention",
        "backupRetentionPeriod 3; point-in-time recovery needs at least 7 days",
    ),
    Case(
        "rds-retention-unset",
        lambda: with_inputs(staging(), "db", backupRetentionPeriod=DROP),
        "rds-backup-retention",
        "backupRetentionPeriod unset",
    ),
    Case(
        "rds-prod-single-az",
        lambda: with_inputs(production(), "db", multiAz=False),
        "rds-production-resilience",
        "production RDS instance 'db' has multiAz false",
    ),
    Case(
        "rds-prod-no-deletion-protection",
        lambda: with_inputs(production(), "db", deletionProtection=False),
        "rds-production-resilience",
        "deletionProtection false",
    ),
    Case(
        "rds-prod-skip-final-snapshot",
        lambda: with_inputs(production(), "db", skipFinalSnapshot=True),
        "rds-production-resilience",
        "skipFinalSnapshot true",
    ),
    Case(
        "rds-prod-no-final-snapshot-name",
        lambda: with_inputs(production(), "db", finalSnapshotIdentifier=DROP),
        "rds-production-resilience",
        "has no finalSnapshotIdentifier",
    ),
    # ElastiCache
    Case(
        "redis-no-tls",
        lambda: with_inputs(staging(), "redis", transitEncryptionEnabled=False),
        "elasticache-encryption",
        "replication group 'redis' has transitEncryptionEnabled false",
    ),
    Case(
        "redis-at-rest-unset",
        lambda: with_inputs(staging(), "redis", atRestEncryptionEnabled=DROP),
        "elasticache-encryption",
        "atRestEncryptionEnabled unset",
    ),
    Case(
        "redis-no-auth",
        lambda: with_inputs(staging(), "redis", authToken=DROP),
        "elasticache-auth-token",
        "replication group 'redis' has no authToken",
    ),
    Case(
        "redis-prod-no-failover",
        lambda: with_inputs(production(), "redis", automaticFailoverEnabled=False),
        "elasticache-production-failover",
        "automaticFailoverEnabled false",
    ),
    Case(
        "redis-prod-single-az",
        lambda: with_inputs(production(), "redis", multiAzEnabled=DROP),
        "elasticache-production-failover",
        "multiAzEnabled unset",
    ),
    Case(
        "redis-queue-evicts",
        lambda: with_inputs(
            staging(), "redis-params", parameters=[{"name": "maxmemory-policy", "value": "volatile-lru"}]
        ),
        "elasticache-queue-noeviction",
        "parameter group 'redis-params' serves the bullmq queue and has maxmemory-policy \"volatile-lru\"",
    ),
    Case(
        "redis-queue-default-policy",
        lambda: with_inputs(staging(), "redis-params", parameters=[]),
        "elasticache-queue-noeviction",
        "maxmemory-policy unset (the family default volatile-lru)",
    ),
    Case(
        "dev-redis-queue-evicts",
        lambda: with_inputs(
            good_dev_stack(),
            "redis-container",
            command=["sh", "-c", "exec redis-server --maxmemory-policy allkeys-lru"],
        ),
        "docker-queue-redis-noeviction",
        "serves the bullmq queue and runs Redis with --maxmemory-policy allkeys-lru",
    ),
    # S3
    Case(
        "s3-no-public-access-block",
        lambda: without(staging(), "backups-public-access"),
        "s3-public-access-block",
        "S3 bucket 'backups-bucket' has no BucketPublicAccessBlock",
    ),
    Case(
        "s3-public-access-flag-off",
        lambda: with_inputs(staging(), "backups-public-access", restrictPublicBuckets=False),
        "s3-public-access-block",
        "must set all four flags true, but has restrictPublicBuckets=false",
    ),
    Case(
        "s3-name-prefix-match",
        lambda: without(staging(), "alb-logs-pab"),
        "s3-public-access-block",
        "S3 bucket 'alb-logs' has no BucketPublicAccessBlock",
    ),
    Case(
        "s3-replica-no-block",
        lambda: without(production(), "backups-replica-BucketPublicAccessBlock"),
        "s3-public-access-block",
        "S3 bucket 'backups-replica' has no BucketPublicAccessBlock",
    ),
    Case(
        "s3-no-encryption",
        lambda: without(staging(), "backups-encryption"),
        "s3-encryption",
        "S3 bucket 'backups-bucket' has no BucketServerSideEncryptionConfiguration",
    ),
    Case(
        "s3-encryption-no-algorithm",
        lambda: with_inputs(staging(), "alb-logs-sse", rules=[{"bucketKeyEnabled": True}]),
        "s3-encryption",
        "S3 bucket 'alb-logs': its encryption configuration sets no default sseAlgorithm",
    ),
    Case(
        "s3-backup-versioning-suspended",
        lambda: with_inputs(staging(), "backups-versioning", versioningConfiguration={"status": "Suspended"}),
        "s3-backup-versioning",
        'needs a BucketVersioning with status "Enabled" (found "Suspended")',
    ),
    Case(
        "s3-backup-no-versioning",
        lambda: without(staging(), "backups-versioning"),
        "s3-backup-versioning",
        "backup S3 bucket 'backups-bucket' (purpose=backups) needs a BucketVersioning",
    ),
    Case(
        "s3-backup-lifecycle-disabled",
        lambda: with_inputs(
            staging(),
            "backups-lifecycle",
            rules=[{"id": "x", "status": "Disabled", "expiration": {"days": 30}}],
        ),
        "s3-backup-lifecycle",
        "found a lifecycle configuration without one",
    ),
    Case(
        "s3-backup-no-lifecycle",
        lambda: without(staging(), "backups-lifecycle"),
        "s3-backup-lifecycle",
        "found no BucketLifecycleConfiguration",
    ),
    # network
    Case(
        "sg-inline-ssh-from-world",
        lambda: with_inputs(
            staging(),
            "alb-sg",
            ingress=[
                {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8", "0.0.0.0/0"]}
            ],
        ),
        "no-public-ingress",
        "security group 'alb-sg' ingress rule #0 (\"tcp\" ports 22-22) admits 0.0.0.0/0",
    ),
    Case(
        "sg-inline-http-ipv6-world",
        lambda: with_inputs(
            staging(),
            "alb-sg",
            ingress=[{"protocol": "tcp", "fromPort": 80, "toPort": 80, "ipv6CidrBlocks": ["::/0"]}],
        ),
        "no-public-ingress",
        'ingress rule #0 ("tcp" ports 80-80) admits ::/0',
    ),
    Case(
        "sg-rule-ingress-world",
        _open_rule(
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            {"type": "ingress", "protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]},
        ),
        "no-public-ingress",
        "security group rule 'open-rule' (all traffic) admits ::/0",
    ),
    Case(
        "vpc-ingress-rule-world",
        _open_rule(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"},
        ),
        "no-public-ingress",
        "security group ingress rule 'open-rule' (\"tcp\" ports 443-443) admits 0.0.0.0/0",
    ),
    # ALB
    Case(
        "listener-old-tls",
        lambda: with_inputs(staging(), "alb-https", sslPolicy="ELBSecurityPolicy-2016-08"),
        "alb-listener-https",
        "HTTPS listener 'alb-https' has sslPolicy \"ELBSecurityPolicy-2016-08\"",
    ),
    Case(
        "listener-tls13-1-0",
        lambda: with_inputs(staging(), "alb-https", sslPolicy="ELBSecurityPolicy-TLS13-1-0-2021-06"),
        "alb-listener-https",
        'sslPolicy "ELBSecurityPolicy-TLS13-1-0-2021-06"',
    ),
    Case(
        "listener-no-ssl-policy",
        lambda: with_inputs(staging(), "alb-https", sslPolicy=DROP),
        "alb-listener-https",
        "sslPolicy unset (AWS default ELBSecurityPolicy-2016-08)",
    ),
    Case(
        "listener-http-forward",
        lambda: with_inputs(
            staging(), "alb-http", defaultActions=[{"type": "forward", "targetGroupArn": UNKNOWN}]
        ),
        "alb-listener-https",
        "HTTP listener 'alb-http' has default actions \"forward\"",
    ),
    Case(
        "listener-http-redirect-to-http",
        lambda: with_inputs(
            staging(),
            "alb-http",
            defaultActions=[{"type": "redirect", "redirect": {"protocol": "HTTP", "port": "8080"}}],
        ),
        "alb-listener-https",
        'default actions redirect to "HTTP"',
    ),
    Case(
        "listener-protocol-unset-forward",
        lambda: with_inputs(staging(), "alb-http", protocol=DROP, defaultActions=[{"type": "forward"}]),
        "alb-listener-https",
        "HTTP listener 'alb-http'",
    ),
    Case(
        "alb-keeps-invalid-headers",
        lambda: with_inputs(staging(), "alb", dropInvalidHeaderFields=False),
        "alb-drop-invalid-headers",
        "application load balancer 'alb' has dropInvalidHeaderFields false",
    ),
    Case(
        "alb-invalid-headers-unset",
        lambda: with_inputs(staging(), "alb", dropInvalidHeaderFields=DROP),
        "alb-drop-invalid-headers",
        "dropInvalidHeaderFields unset",
    ),
    Case(
        "alb-prod-no-deletion-protection",
        lambda: with_inputs(production(), "alb", enableDeletionProtection=False),
        "alb-production-deletion-protection",
        "production application load balancer 'alb' has enableDeletionProtection false",
    ),
    # logs, KMS
    Case(
        "log-retention-7",
        lambda: with_inputs(staging(), "api-logs", retentionInDays=7),
        "log-retention",
        "log group 'api-logs' has retentionInDays 7; the minimum is 14 days",
    ),
    Case(
        "log-retention-unset",
        lambda: with_inputs(staging(), "api-logs", retentionInDays=DROP),
        "log-retention",
        "retentionInDays unset, so its logs never expire",
    ),
    Case(
        "log-retention-never",
        lambda: with_inputs(staging(), "api-logs", retentionInDays=0),
        "log-retention",
        "retentionInDays 0, so its logs never expire",
    ),
    Case(
        "kms-no-rotation",
        lambda: with_inputs(staging(), "data-key", enableKeyRotation=False),
        "kms-key-rotation",
        "KMS key 'data-key' has enableKeyRotation false",
    ),
    Case(
        "kms-rotation-unset",
        lambda: with_inputs(staging(), "data-key", enableKeyRotation=DROP),
        "kms-key-rotation",
        "enableKeyRotation unset",
    ),
    # tags
    Case(
        "tag-missing",
        lambda: with_inputs(staging(), "net-vpc", **{"tags__managed-by": DROP}),
        "required-tags",
        "aws:ec2/vpc:Vpc 'net-vpc' lacks required tags: missing managed-by",
    ),
    Case(
        "tags-absent",
        lambda: with_inputs(staging(), "net-vpc", tags=DROP),
        "required-tags",
        "lacks required tags: missing environment, app, managed-by",
    ),
    Case(
        "tag-empty",
        lambda: with_inputs(staging(), "app-cluster", tags__app=""),
        "required-tags",
        "aws:ecs/cluster:Cluster 'app-cluster' lacks required tags: empty app",
    ),
    Case(
        "untagged-ingress-rule",
        lambda: with_inputs(staging(), "db-from-vpc", tags=DROP),
        "required-tags",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule 'db-from-vpc'",
    ),
    # Cloudflare
    Case(
        "record-not-proxied",
        lambda: with_inputs(staging(), "api-record", proxied=False),
        "cloudflare-origin-proxied",
        "Cloudflare CNAME record 'api-record' (name \"api\") has proxied false",
    ),
    Case(
        "record-proxied-unset",
        lambda: with_inputs(staging(), "api-record", proxied=DROP),
        "cloudflare-origin-proxied",
        "has proxied unset",
    ),
    Case(
        "a-record-not-proxied",
        lambda: [
            *staging(),
            res(DNS_RECORD, "origin-a", {"name": "origin", "type": "A", "content": "192.0.2.1"}),
        ],
        "cloudflare-origin-proxied",
        "Cloudflare A record 'origin-a' (name \"origin\")",
    ),
    # protection
    Case(
        "prod-db-unprotected",
        lambda: with_options(production(), "db", protect=False),
        "production-stateful-protected",
        "production RDS instance 'db' is not protected",
    ),
    Case(
        "prod-backup-bucket-unprotected",
        lambda: with_options(production(), "backups-bucket", protect=False),
        "production-stateful-protected",
        "production S3 bucket (purpose=backups) 'backups-bucket' is not protected",
    ),
    Case(
        "prod-replica-unprotected",
        lambda: with_options(production(), "backups-replica", protect=False),
        "production-stateful-protected",
        "S3 bucket (purpose=backups-replica) 'backups-replica'",
    ),
    Case(
        "prod-kms-unprotected",
        lambda: with_options(production(), "data-key", protect=False),
        "production-stateful-protected",
        "production KMS key 'data-key' is not protected",
    ),
    # dev stack (Docker containers)
    Case(
        "docker-scheduler-no-restart",
        lambda: with_inputs(good_dev_stack(), "scheduler-container", restart=DROP),
        "docker-scheduler-container",
        'has restart unset (Docker default "no"); it must be always or unless-stopped',
    ),
    Case(
        "docker-scheduler-restart-on-failure",
        lambda: with_inputs(good_dev_stack(), "scheduler-container", restart="on-failure"),
        "docker-scheduler-container",
        'has restart "on-failure"',
    ),
    Case(
        "docker-scheduler-publishes-port",
        lambda: with_inputs(
            good_dev_stack(),
            "scheduler-container",
            ports=[{"internal": 9000, "external": 3809, "ip": "127.0.0.1", "protocol": "tcp"}],
        ),
        "docker-scheduler-container",
        "the scheduler serves nothing and publishes none",
    ),
    Case(
        "docker-scheduler-not-kept-running",
        lambda: with_inputs(good_dev_stack(), "scheduler-container", mustRun=False),
        "docker-scheduler-container",
        "has mustRun false",
    ),
    Case(
        "docker-port-on-every-interface",
        lambda: with_inputs(
            good_dev_stack(), "postgres-container", ports=[{"internal": 5432, "external": 3802}]
        ),
        "docker-ports-loopback",
        "publishes port 5432 as 3802 on ip unset (Docker default 0.0.0.0, every interface)",
    ),
    Case(
        "docker-port-on-a-lan-address",
        lambda: with_inputs(
            good_dev_stack(), "api-container", ports=[{"internal": 3801, "external": 3801, "ip": "0.0.0.0"}]
        ),
        "docker-ports-loopback",
        'on ip "0.0.0.0"; bind it to 127.0.0.1',
    ),
    Case(
        "docker-publish-all-ports",
        lambda: with_inputs(good_dev_stack(), "worker-container", publishAllPorts=True),
        "docker-ports-loopback",
        "has publishAllPorts true",
    ),
    Case(
        "docker-host-network",
        lambda: with_inputs(good_dev_stack(), "worker-container", networkMode="host"),
        "docker-ports-loopback",
        "uses the host network",
    ),
    Case(
        "docker-privileged",
        lambda: with_inputs(good_dev_stack(), "worker-container", privileged=True),
        "docker-no-privileged-containers",
        "Docker container 'worker-container' has privileged: true",
    ),
    Case(
        "nat-instance-imdsv1",
        lambda: with_inputs(staging(), "nat-ec2", metadataOptions={"httpTokens": "optional"}),
        "ec2-instance-hardened",
        "metadataOptions.httpTokens must be 'required'",
    ),
    Case(
        "nat-instance-unencrypted-root",
        lambda: with_inputs(staging(), "nat-ec2", rootBlockDevice={"volumeSize": 8}),
        "ec2-instance-hardened",
        "rootBlockDevice.encrypted must be true",
    ),
    Case(
        "nat-instance-in-production",
        lambda: [*production(), *nat_instance("production", find(production(), "net-vpc"))],
        "ec2-instance-hardened",
        "is a NAT instance (sourceDestCheck false) in production",
    ),
    Case(
        "nat-instance-admits-outside-the-vpc",
        lambda: with_inputs(staging(), "nat-from-vpc", cidrIpv4="192.168.0.0/16"),
        "nat-instance-vpc-only",
        "ingress rule 'nat-from-vpc' admits 192.168.0.0/16",
    ),
    # backup-drill-stale-alarm
    Case(
        "drill-without-stale-alarm",
        lambda: without(staging(), "backups-drill-stale-alarm"),
        "backup-drill-stale-alarm",
        "the drill 'backups-drill-task' has no alarm with actions on its staleness metric "
        f"({STG}/Backups/DrillStale)",
    ),
    Case(
        "drill-stale-alarm-without-actions",
        lambda: with_inputs(staging(), "backups-drill-stale-alarm", alarmActions=[]),
        "backup-drill-stale-alarm",
        "has no alarm with actions on its staleness metric",
    ),
    Case(
        "drill-without-stale-filter",
        lambda: without(staging(), "backups-drill-stale-filter"),
        "backup-drill-stale-alarm",
        "has no log metric filter on the backup's 'pg_drill_stale' event",
    ),
    Case(
        "backup-without-drill-age",
        lambda: with_inputs(
            production(),
            "backups-backup-task",
            containerDefinitions=container_definitions(
                "pg-backup", {"MODE": "backup", "PGDATABASE": "escalating_reminders"}
            ),
        ),
        "backup-drill-stale-alarm",
        "task definition 'backups-backup-task' (MODE=backup) has no DRILL_MAX_AGE_SECONDS (found none)",
    ),
    # tunnel-api-no-ingress (edge.origin tunnel)
    Case(
        "tunnel-api-ingress-from-a-cidr",
        lambda: api_ingress("app-sg", cidrIpv4="10.20.0.0/16"),
        "tunnel-api-no-ingress",
        "ingress rule 'api-in' admits traffic to 'app-sg', a security group of the API service",
    ),
    Case(
        "tunnel-api-ingress-from-a-group",
        lambda: api_ingress("tunnel-sg", referencedSecurityGroupId=UNKNOWN),
        "tunnel-api-no-ingress",
        "ingress rule 'api-in' admits traffic to 'tunnel-sg'",
    ),
    Case(
        "tunnel-api-inline-ingress",
        lambda: with_inputs(
            tunnel_stack(),
            "tunnel-sg",
            ingress=[{"protocol": "tcp", "fromPort": 3801, "toPort": 3801, "cidrBlocks": ["10.20.0.0/16"]}],
        ),
        "tunnel-api-no-ingress",
        "security group 'tunnel-sg' of the API service 'api-service' has inline ingress",
    ),
    Case(
        "tunnel-with-a-load-balancer",
        lambda: [*tunnel_stack(), find(staging(), "alb")],
        "tunnel-api-no-ingress",
        "'alb' (aws:lb/loadBalancer:LoadBalancer) in a stack served through a Cloudflare Tunnel",
    ),
    Case(
        "replica-key-encrypt-only",
        lambda: [*production(), *replication_stack(actions=["kms:Encrypt"])],
        "s3-replication-replica-key",
        "its role lacks kms:Decrypt on the replica key",
    ),
    # sns-encrypted-topic-publishers
    Case(
        "sns-eventbridge-key-statement-conditioned",
        lambda: with_inputs(
            staging(),
            "alerts-key",
            policy=topic_key_policy(events_condition={"StringEquals": {"aws:SourceAccount": "123456789012"}}),
        ),
        "sns-encrypted-topic-publishers",
        "statements for events.amazonaws.com only under aws:SourceAccount/aws:SourceArn",
    ),
    Case(
        "sns-key-admits-no-cloudwatch",
        lambda: with_inputs(
            staging(), "alerts-key", policy=topic_key_policy(services=["events.amazonaws.com"])
        ),
        "sns-encrypted-topic-publishers",
        "no Allow statement for cloudwatch.amazonaws.com with kms:GenerateDataKey; alerts-api-cpu publish",
    ),
    # fixed-name-replacement
    Case(
        "security-group-fixed-name",
        lambda: with_inputs(staging(), "alb-sg", name=f"{STG}-alb", description="ALB", vpcId=UNKNOWN),
        "fixed-name-replacement",
        f"ec2/securityGroup 'alb-sg' has the fixed name \"{STG}-alb\" and sets description, vpcId",
    ),
    Case(
        "elasticache-parameter-group-stale-digest",
        lambda: with_inputs(
            staging(), "redis-params", description=f"{STG} Redis 7: maxmemory-policy allkeys-lru"
        ),
        "fixed-name-replacement",
        "elasticache/parameterGroup 'redis-params' has the fixed name",
    ),
    Case(
        "sns-aws-managed-key",
        lambda: with_inputs(staging(), "alerts-topic", kmsMasterKeyId="alias/aws/sns"),
        "sns-encrypted-topic-publishers",
        "encrypted with the AWS-managed alias/aws/sns key",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_catches(analyze: Analyze, case: Case) -> None:
    violations = analyze(case.build())
    hits = [v for v in violations if v.policy_name == case.policy and case.fragment in v.message]
    assert hits, f"no {case.policy} violation containing {case.fragment!r}:\n{explain(violations)}"
    assert all(v.level == "mandatory" and v.policy_pack == "saas-guardrails" for v in hits)
    assert policies_of(violations) <= {case.policy, *case.also}, explain(violations)


def test_every_policy_has_a_failing_fixture() -> None:
    covered = {c.policy for c in CASES}
    assert {p.name for p in ALL_POLICIES} <= covered


# --- specific behaviours ---------------------------------------------------------------------------------


def test_scheduler_violation_names_the_resource(analyze: Analyze) -> None:
    stack = with_inputs(staging(), "scheduler-service", desiredCount=2)
    [hit] = [v for v in analyze(stack) if v.policy_name == "scheduler-singleton"]
    assert hit.urn == find(stack, "scheduler-service").urn
    assert hit.kind == "resource"
    assert hit.detail.startswith("ECS service 'scheduler-service' (role=scheduler) has desiredCount 2")
    assert hit.severity == "critical"


def test_stack_violations_point_at_the_offending_resource(analyze: Analyze) -> None:
    stack = _scheduler_target(f"service/{STG}/{STG}-scheduler")
    [hit] = analyze(stack)
    assert (hit.policy_name, hit.kind, hit.urn) == (
        "scheduler-no-autoscaling",
        "stack",
        make_urn(AUTOSCALING_TARGET, "scheduler-scaling"),
    )


def test_stack_wide_violation_has_no_urn(analyze: Analyze) -> None:
    [hit] = analyze(_second_scheduler())
    assert (hit.policy_name, hit.kind, hit.urn) == ("scheduler-exactly-one", "stack", "")
    assert "'scheduler-service'" in hit.message and "'scheduler-2-service'" in hit.message


def test_unknown_value_read_by_a_rule_is_reported_as_preview_skip(analyze: Analyze) -> None:
    stack = with_inputs(staging(), "scheduler-service", desiredCount=UNKNOWN)
    violations = analyze(stack)
    assert len(violations) == 1, explain(violations)
    [skip] = violations
    assert skip.is_preview_skip
    assert (skip.policy_name, skip.level, skip.kind) == ("scheduler-singleton", "advisory", "resource")
    assert skip.urn == find(stack, "scheduler-service").urn
    assert "can't run policy 'scheduler-singleton'" in skip.message
    assert ".desiredCount can't be known during preview" in skip.message


def test_unknown_value_in_a_stack_rule_is_reported_as_preview_skip(analyze: Analyze) -> None:
    violations = analyze(_scheduler_target(UNKNOWN))  # no property dependency: cannot be decided
    [skip] = violations
    assert skip.is_preview_skip and skip.kind == "stack" and skip.policy_name == "scheduler-no-autoscaling"
    assert ".resourceId can't be known during preview" in skip.message


def test_a_real_violation_is_not_a_preview_skip(analyze: Analyze) -> None:
    [hit] = analyze(with_inputs(staging(), "data-key", enableKeyRotation=False))
    assert not hit.is_preview_skip


def test_secret_auth_token_unknown_at_preview_is_only_checked_for_presence(analyze: Analyze) -> None:
    stack = staging()
    assert find(stack, "redis").inputs["authToken"]["value"] == UNKNOWN
    assert not [v for v in analyze(stack) if v.policy_name.startswith("elasticache")]


def test_acm_validation_record_with_computed_name_is_not_judged_at_preview(analyze: Analyze) -> None:
    stack = staging()
    assert find(stack, "cert-validation-0").inputs["name"] == UNKNOWN
    assert analyze(stack) == []
    literal = with_inputs(
        stack, "cert-validation-0", name="_abc123.api.escalating-reminders.com.", type="CNAME"
    )
    assert analyze(literal) == []
    misnamed = with_inputs(stack, "cert-validation-0", name="api-validation", type="CNAME")
    assert policies_of(analyze(misnamed)) == {"cloudflare-origin-proxied"}


def test_passing_variants(analyze: Analyze) -> None:
    stack = staging()
    stack = with_inputs(stack, "api-service", desiredCount=5)  # only the scheduler is a singleton
    stack = with_inputs(stack, "alb-https", sslPolicy="ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04")
    stack = with_inputs(stack, "api-logs", retentionInDays=14)
    stack = with_inputs(stack, "db", backupRetentionPeriod=7)
    stack = with_inputs(stack, "db", publiclyAccessible=DROP)  # AWS default: private
    stack = with_inputs(stack, "app-cluster", **{"tags__cost-center": "42"})  # extra tags are fine
    asymmetric = res(
        "aws:kms/key:Key", "signing-key", {"customerMasterKeySpec": "RSA_2048", "tags": tags("staging")}
    )
    nlb = res(
        "aws:lb/loadBalancer:LoadBalancer", "nlb", {"loadBalancerType": "network", "tags": tags("staging")}
    )
    violations = analyze([*stack, asymmetric, nlb])
    assert violations == [], explain(violations)


def test_staging_needs_no_production_safety(analyze: Analyze) -> None:
    stack = staging()
    for name in ("db", "backups-bucket", "data-key"):
        assert not find(stack, name).protect
    assert find(stack, "db").inputs["multiAz"] is False
    assert analyze(stack) == []


def test_components_are_not_sent(analyze: Analyze) -> None:
    component = res("aws:kms/key:Key", "not-a-real-key", {"enableKeyRotation": False}, custom=False)
    assert analyze([*staging(), component]) == []


def test_docker_scheduler_counts_for_the_stack_rule(analyze: Analyze) -> None:
    container = "docker:index/container:Container"
    # restart: the scheduler's container must be restarted by Docker (docker-scheduler-container).
    labelled = res(
        container,
        "dev-jobs",
        {"image": "x", "restart": "always", "labels": [{"label": "role", "value": "scheduler"}]},
    )
    named = res(container, "dev-scheduler", {"image": "x", "restart": "unless-stopped"})
    only_docker = [r for r in staging() if r.type != "aws:ecs/service:Service"] + [labelled]
    assert analyze(only_docker) == []
    violations = analyze([*only_docker, named])
    assert policies_of(violations) == {"scheduler-exactly-one"}, explain(violations)


def test_stack_without_services_has_no_scheduler_requirement(analyze: Analyze) -> None:
    data_only = [r for r in staging() if r.type.startswith(("aws:rds", "aws:kms"))]
    assert data_only and analyze(data_only) == []


# --- policy configuration (as `pulumi preview --policy-pack-config` would set it) -------------------------


def test_configured_thresholds_are_applied(analyze: Analyze, configure: Callable[..., object]) -> None:
    configure({"log-retention": {"minimumDays": 60}, "rds-backup-retention": {"minimumDays": 14}})
    violations = analyze(staging())
    assert policies_of(violations) == {"log-retention", "rds-backup-retention"}, explain(violations)
    assert any("retentionInDays 30; the minimum is 60 days" in v.message for v in violations)
    assert any("needs at least 14 days" in v.message for v in violations)


def test_configured_required_tags(analyze: Analyze, configure: Callable[..., object]) -> None:
    configure({"required-tags": {"requiredTags": ["environment", "owner"]}})
    violations = analyze(staging())
    assert violations and all(v.policy_name == "required-tags" for v in violations)
    assert all("missing owner" in v.message for v in violations)


def test_configured_secret_words_and_exceptions(analyze: Analyze, configure: Callable[..., object]) -> None:
    stack = with_inputs(
        staging(),
        "api-task",
        containerDefinitions=container_definitions("api", {"SIGNING_SALT": "x", "API_KEY": "k"}),
    )
    configure({"ecs-no-secrets-in-environment": {"extraSecretWords": ["salt"], "allowedNames": ["API_KEY"]}})
    [hit] = analyze(stack)
    assert "SIGNING_SALT" in hit.message


def test_enforcement_level_can_be_lowered_or_disabled(
    analyze: Analyze, configure: Callable[..., object]
) -> None:
    stack = with_inputs(staging(), "data-key", enableKeyRotation=False)
    configure({"kms-key-rotation": "advisory"})
    [hit] = analyze(stack)
    assert hit.level == "advisory" and not hit.is_preview_skip
    configure({"kms-key-rotation": {"enforcementLevel": "disabled"}})
    assert analyze(stack) == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"no-such-policy": {}}, "policy config names no-such-policy, not in policy pack saas-guardrails"),
        ({"log-retention": {"minimumDay": 30}}, "has unknown property 'minimumDay' (allowed: minimumDays)"),
        ({"log-retention": {"minimumDays": "ten"}}, "log-retention.minimumDays is 'ten'; expected integer"),
        ({"log-retention": {"minimumDays": 0}}, "log-retention.minimumDays is 0; the minimum is 1"),
        ({"rds-backup-retention": {"minimumDays": 7.5}}, "expected integer"),
        ({"required-tags": {"requiredTags": "environment"}}, "expected array"),
        ({"required-tags": {"requiredTags": ["environment", 3]}}, "expected array"),
        ({"kms-key-rotation": "strict"}, "enforcementLevel 'strict' is not one of"),
    ],
)
def test_bad_config_is_rejected_before_analysis(
    pack: PackProcess, config: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as error:
        pack.configure(config)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "guard",
    [
        {"delete_before_replace": True},
        {"protect": True},
        {"ignore_changes": ["description", "vpcId"]},
    ],
    ids=["delete-before-replace", "protect", "ignore-changes"],
)
def test_fixed_name_is_fine_when_a_replacement_cannot_collide(analyze: Analyze, guard: dict) -> None:
    """A fixed name with replace-forcing inputs passes when the replacement deletes first, is refused by the
    engine (protect), or can never be asked for (ignoreChanges)."""
    stack = with_inputs(staging(), "alb-sg", name=f"{STG}-alb", description="ALB", vpcId=UNKNOWN)
    violations = analyze(with_options(stack, "alb-sg", **guard))
    assert violations == [], explain(violations)


def test_name_prefix_is_not_a_fixed_name(analyze: Analyze) -> None:
    stack = with_inputs(staging(), "alb-sg", namePrefix=f"{STG}-alb-", description="ALB", vpcId=UNKNOWN)
    violations = analyze(stack)
    assert violations == [], explain(violations)
