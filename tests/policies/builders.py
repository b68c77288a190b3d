"""Recorded-resource fixtures: a complete stack that passes every policy, and tools to break one thing.

Resources are built the way preflight's recording monitor sees them: camelCase inputs in the engine's wire
encoding (``UNKNOWN`` for values unknown at preview, secret envelopes), URNs derived from parent chains.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from preflight.analyzer import Violation
from preflight.model import SECRET_SIG, SECRET_SIG_VALUE, UNKNOWN, RecordedResource

STACK = "test"
PROJECT = "saas-backend"
APP = "escalating-reminders"

ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
AUTOSCALING_TARGET = "aws:appautoscaling/target:Target"
BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def secret(value: Any) -> dict[str, Any]:
    return {SECRET_SIG: SECRET_SIG_VALUE, "value": value}


def make_urn(type_: str, name: str, parent: RecordedResource | None = None) -> str:
    qualified = type_ if parent is None else f"{parent.urn.split('::')[2]}${type_}"
    return f"urn:pulumi:{STACK}::{PROJECT}::{qualified}::{name}"


def res(
    type_: str,
    name: str,
    inputs: Mapping[str, Any],
    *,
    parent: RecordedResource | None = None,
    custom: bool = True,
    protect: bool = False,
    property_dependencies: Mapping[str, list[str]] | None = None,
    provider: RecordedResource | None = None,
) -> RecordedResource:
    property_dependencies = dict(property_dependencies or {})
    return RecordedResource(
        urn=make_urn(type_, name, parent),
        type=type_,
        name=name,
        custom=custom,
        parent=parent.urn if parent is not None else None,
        inputs=copy.deepcopy(dict(inputs)),
        dependencies=sorted({u for urns in property_dependencies.values() for u in urns}),
        property_dependencies=property_dependencies,
        protect=protect,
        provider=f"{provider.urn}::{provider.id or 'provider-id'}" if provider is not None else "",
    )


def tags(env: str, **extra: str) -> dict[str, str]:
    return {"environment": env, "app": APP, "managed-by": "pulumi", **extra}


def container_definitions(
    name: str,
    env: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
    *,
    privileged: bool | None = None,
    logging: bool = True,
) -> str:
    container: dict[str, Any] = {
        "name": name,
        "image": f"123456789012.dkr.ecr.us-west-2.amazonaws.com/{APP}-api:abc123",
        "essential": True,
        "environment": [{"name": k, "value": v} for k, v in (env or {}).items()],
        "secrets": [
            {"name": s, "valueFrom": f"arn:aws:secretsmanager:us-west-2:123456789012:secret:{APP}/test/{s}"}
            for s in secrets
        ],
    }
    if privileged is not None:
        container["privileged"] = privileged
    if logging:
        container["logConfiguration"] = {
            "logDriver": "awslogs",
            "options": {"awslogs-group": f"/ecs/{APP}/{name}", "awslogs-region": "us-west-2"},
        }
    return json.dumps([container])


APP_ENV = {
    "NODE_ENV": "production",
    "PORT": "3801",
    "API_URL": "https://api.escalating-reminders.com",
    "LOG_LEVEL": "info",
    "DATABASE_PORT": "5432",
    "DATABASE_NAME": "escalating_reminders",
    "DATABASE_USER": "app",
    "DATABASE_SSLMODE": "require",
    "REDIS_PORT": "6379",
    "REDIS_TLS": "true",
    "KEYCLOAK_URL": "https://id.example.com",
    "JWT_SECRET_ARN": "arn:aws:secretsmanager:us-west-2:123456789012:secret:jwt",
    "ACCESS_TOKEN_TTL": "900",
}
APP_SECRETS = ("JWT_SECRET", "ENCRYPTION_KEY", "DATABASE_URL", "REDIS_AUTH_TOKEN", "SENTRY_DSN")


class _Stack:
    """The resources of a fixture stack being built, in order, and its environment."""

    def __init__(self, env: str) -> None:
        self.env = env
        self.prod = env == "production"
        self.prefix = f"{APP}-{env}"
        self.resources: list[RecordedResource] = []

    def add(self, r: RecordedResource) -> RecordedResource:
        self.resources.append(r)
        return r


def good_stack(env: str = "staging") -> list[RecordedResource]:
    """A small but complete saas-backend stack that satisfies every policy of the pack."""
    s = _Stack(env)
    _network(s)
    if not s.prod:
        s.resources += nat_instance(env, find(s.resources, "net-vpc"))
    kms = _data(s)
    _backups(s, kms)
    _alb_logs_bucket(s)
    if s.prod:
        _backup_replica(s)
    _app(s)
    _load_balancer(s)
    _alerts(s)
    _edge(s)
    return s.resources


def _network(s: _Stack) -> None:
    """Network: inline ingress only from Cloudflare ranges, rules from the VPC / other groups."""
    network = s.add(res("saas:network:Network", "net", {}, custom=False))
    s.add(
        res("aws:ec2/vpc:Vpc", "net-vpc", {"cidrBlock": "10.20.0.0/16", "tags": tags(s.env)}, parent=network)
    )
    s.add(
        res(
            "aws:ec2/securityGroup:SecurityGroup",
            "alb-sg",
            {
                "ingress": [
                    {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["173.245.48.0/20"]},
                    {"protocol": "tcp", "fromPort": 443, "toPort": 443, "ipv6CidrBlocks": ["2400:cb00::/32"]},
                ],
                "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
                "tags": tags(s.env),
            },
        )
    )
    s.add(
        res(
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            "app-egress",
            {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]},
        )
    )
    s.add(
        res(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "db-from-vpc",
            {
                "ipProtocol": "tcp",
                "fromPort": 5432,
                "toPort": 5432,
                "cidrIpv4": "10.20.0.0/16",
                "tags": tags(s.env),
            },
        )
    )


TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"


def tunnel_stack(env: str = "staging") -> list[RecordedResource]:
    """The good stack served through a Cloudflare Tunnel (edge.origin tunnel): no load balancer, the API
    service in the app group and the tunnel's egress-only group, neither admitting anything."""
    stack = without(good_stack(env), "alb", "alb-https", "alb-http", "alb-sg")
    edge = res("saas:edge:Tunnel", "edge-tunnel", {}, custom=False)
    tunnel = res(
        TUNNEL, "edge-tunnel-tunnel", {"accountId": "a" * 32, "name": "t", "configSrc": "cloudflare"}
    )
    groups = [
        res(SECURITY_GROUP, "app-sg", {"namePrefix": f"{APP}-{env}-app-", "tags": tags(env)}),
        res(
            SECURITY_GROUP,
            "tunnel-sg",
            {"namePrefix": f"{APP}-{env}-tunnel-", "tags": tags(env)},
            parent=edge,
        ),
    ]
    api = find(stack, "api-service")
    deps = {**api.property_dependencies, "networkConfiguration": [g.urn for g in groups]}
    wired = replace(
        api,
        inputs={**api.inputs, "networkConfiguration": {"securityGroups": [UNKNOWN, UNKNOWN]}},
        property_dependencies=deps,
        dependencies=sorted({u for urns in deps.values() for u in urns}),
    )
    return [*(wired if r is api else r for r in stack), edge, tunnel, *groups]


def api_ingress(group: str, **inputs: Any) -> list[RecordedResource]:
    """The tunnel stack plus an ingress rule on one of the API service's groups."""
    stack = tunnel_stack()
    target = find(stack, group)
    rule = res(
        INGRESS_RULE,
        "api-in",
        {"ipProtocol": "tcp", "fromPort": 3801, "toPort": 3801, **inputs, "tags": tags("staging")},
        property_dependencies={"securityGroupId": [target.urn]},
    )
    return [*stack, rule]


def replacement_digest(forcing: Mapping[str, Any]) -> str:
    """The digest suffix the fixed-name-replacement rule expects (the program's own helper is tested against
    the rule's separately)."""
    from policies.saas_guardrails.replacement import replacement_digest as digest

    return digest(forcing)


def nat_instance(env: str, vpc: RecordedResource) -> list[RecordedResource]:
    """A hardened NAT instance (network.natGateways instance): its group admits the VPC CIDR only."""
    sg = res(
        "aws:ec2/securityGroup:SecurityGroup",
        "nat-sg",
        {"vpcId": UNKNOWN, "tags": tags(env)},
        property_dependencies={"vpcId": [vpc.urn]},
    )
    rule = res(
        INGRESS_RULE,
        "nat-from-vpc",
        {"ipProtocol": "-1", "cidrIpv4": "10.20.0.0/16", "securityGroupId": UNKNOWN, "tags": tags(env)},
        property_dependencies={"securityGroupId": [sg.urn]},
    )
    instance = res(
        "aws:ec2/instance:Instance",
        "nat-ec2",
        {
            "ami": "ami-0123456789abcdef0",
            "instanceType": "t4g.nano",
            "sourceDestCheck": False,
            "vpcSecurityGroupIds": [UNKNOWN],
            "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"},
            "rootBlockDevice": {"encrypted": True, "volumeType": "gp3", "volumeSize": 8},
            "tags": tags(env, role="nat"),
        },
        property_dependencies={"vpcSecurityGroupIds": [sg.urn]},
    )
    return [sg, rule, instance]


def _data(s: _Stack) -> RecordedResource:
    """Data: the key, the database and the cache."""
    kms = s.add(
        res(
            "aws:kms/key:Key",
            "data-key",
            {"enableKeyRotation": True, "deletionWindowInDays": 30, "tags": tags(s.env)},
            protect=s.prod,
        )
    )
    s.add(
        res(
            "aws:rds/instance:Instance",
            "db",
            {
                "engine": "postgres",
                "storageEncrypted": True,
                "kmsKeyId": UNKNOWN,
                "publiclyAccessible": False,
                "backupRetentionPeriod": 7,
                "multiAz": s.prod,
                "deletionProtection": s.prod,
                "skipFinalSnapshot": not s.prod,
                **({"finalSnapshotIdentifier": f"{s.prefix}-final"} if s.prod else {}),
                "password": secret(UNKNOWN),
                "tags": tags(s.env),
            },
            protect=s.prod,
            property_dependencies={"kmsKeyId": [kms.urn]},
        )
    )
    s.add(
        res(
            "aws:elasticache/replicationGroup:ReplicationGroup",
            "redis",
            {
                "engine": "redis",
                "transitEncryptionEnabled": True,
                "atRestEncryptionEnabled": True,
                "authToken": secret(UNKNOWN),
                "automaticFailoverEnabled": s.prod,
                "multiAzEnabled": s.prod,
                "numCacheClusters": 2 if s.prod else 1,
                "tags": tags(s.env),
            },
        )
    )
    forcing = {"family": "redis7", "description": f"{s.prefix} Redis 7"}
    s.add(
        res(
            "aws:elasticache/parameterGroup:ParameterGroup",
            "redis-params",
            {
                "name": f"{s.prefix}-redis7-{replacement_digest(forcing)}",
                **forcing,
                "parameters": [{"name": "maxmemory-policy", "value": "noeviction"}],
                "tags": tags(s.env, queue="bullmq"),
            },
        )
    )
    return kms


def _backups(s: _Stack, kms: RecordedResource) -> None:
    """Backups: companions point at the bucket through property dependencies."""
    backups = s.add(res("saas:backups:Backups", "backups", {}, custom=False))
    bucket = s.add(
        res(
            "aws:s3/bucket:Bucket",
            "backups-bucket",
            {"tags": tags(s.env, purpose="backups")},
            parent=backups,
            protect=s.prod,
        )
    )
    on_bucket = {"bucket": [bucket.urn]}
    s.add(
        res(
            PUBLIC_ACCESS_BLOCK,
            "backups-public-access",
            {
                "bucket": UNKNOWN,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            parent=backups,
            property_dependencies=on_bucket,
        )
    )
    s.add(
        res(
            SSE,
            "backups-encryption",
            {
                "bucket": UNKNOWN,
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": UNKNOWN,
                        }
                    }
                ],
            },
            parent=backups,
            property_dependencies={"bucket": [bucket.urn], "rules": [kms.urn]},
        )
    )
    s.add(
        res(
            VERSIONING,
            "backups-versioning",
            {"bucket": UNKNOWN, "versioningConfiguration": {"status": "Enabled"}},
            parent=backups,
            property_dependencies=on_bucket,
        )
    )
    s.add(
        res(
            LIFECYCLE,
            "backups-lifecycle",
            {
                "bucket": UNKNOWN,
                "rules": [
                    {"id": "expire-dumps", "status": "Enabled", "expiration": {"days": 30}},
                    {
                        "id": "old-versions",
                        "status": "Enabled",
                        "noncurrentVersionExpiration": {"noncurrentDays": 7},
                    },
                ],
            },
            parent=backups,
            property_dependencies=on_bucket,
        )
    )
    _drill(s, backups)


def _drill(s: _Stack, backups: RecordedResource) -> None:
    """The backup and drill tasks and the drill's staleness alarm (metric filter, alarm with actions)."""
    db = {"PGDATABASE": "escalating_reminders", "BACKUP_PREFIX": "postgres/"}
    for role, env in (
        ("backup", {"MODE": "backup", "DRILL_MAX_AGE_SECONDS": str(8 * 86400)}),
        ("drill", {"MODE": "drill"}),
    ):
        s.add(
            res(
                TASK_DEFINITION,
                f"backups-{role}-task",
                {
                    "family": f"{s.prefix}-{role}",
                    "containerDefinitions": container_definitions("pg-backup", {**db, **env}),
                    "tags": tags(s.env, role=role),
                },
                parent=backups,
            )
        )
    namespace = f"{s.prefix}/Backups"
    s.add(
        res(
            "aws:cloudwatch/logMetricFilter:LogMetricFilter",
            "backups-drill-stale-filter",
            {
                "logGroupName": f"/ecs/{s.prefix}/backup",
                "pattern": '{ $.event = "pg_drill_stale" }',
                "metricTransformation": {"name": "DrillStale", "namespace": namespace, "value": "1"},
            },
            parent=backups,
        )
    )
    s.add(
        res(
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "backups-drill-stale-alarm",
            {
                "namespace": namespace,
                "metricName": "DrillStale",
                "alarmActions": [UNKNOWN],
                "tags": tags(s.env),
            },
            parent=backups,
        )
    )


def _alb_logs_bucket(s: _Stack) -> None:
    """ALB access logs bucket: companions with a literal bucket name, matched by parent + name prefix."""
    logs_bucket = s.add(
        res(BUCKET, "alb-logs", {"bucket": f"{s.prefix}-alb-logs", "tags": tags(s.env, purpose="alb-logs")})
    )
    s.add(
        res(
            PUBLIC_ACCESS_BLOCK,
            "alb-logs-pab",
            {
                "bucket": f"{s.prefix}-alb-logs",
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        )
    )
    s.add(
        res(
            SSE,
            "alb-logs-sse",
            {
                "bucket": f"{s.prefix}-alb-logs",
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
            },
        )
    )
    assert logs_bucket.name == "alb-logs"


def _backup_replica(s: _Stack) -> None:
    """The second-region copy uses an explicit provider."""
    replica_provider = s.add(res("pulumi:providers:aws", "replica-region", {"region": "us-east-1"}))
    replica_provider.id = "replica-provider-id"
    replica = s.add(
        res(
            BUCKET,
            "backups-replica",
            {"tags": tags(s.env, purpose="backups-replica")},
            protect=True,
            provider=replica_provider,
        )
    )
    for kind, extra in (
        (
            PUBLIC_ACCESS_BLOCK,
            {
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        (SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}),
    ):
        s.add(
            res(
                kind,
                f"backups-replica-{kind.rsplit(':', 1)[1]}",
                {"bucket": UNKNOWN, **extra},
                property_dependencies={"bucket": [replica.urn]},
                provider=replica_provider,
            )
        )


def _app(s: _Stack) -> None:
    """App: cluster, three services and their task definitions, autoscaling on the API only."""
    app = s.add(res("saas:app:Cluster", "app", {}, custom=False))
    s.add(res("aws:ecs/cluster:Cluster", "app-cluster", {"name": s.prefix, "tags": tags(s.env)}, parent=app))
    for role in ("api", "worker", "scheduler"):
        component = s.add(res(f"saas:app:{role.capitalize()}Service", role, {}, custom=False))
        task = s.add(
            res(
                TASK_DEFINITION,
                f"{role}-task",
                {
                    "family": f"{s.prefix}-{role}",
                    "containerDefinitions": container_definitions(role, APP_ENV, APP_SECRETS),
                    "tags": tags(s.env, role=role),
                },
                parent=component,
            )
        )
        s.add(
            res(
                "aws:cloudwatch/logGroup:LogGroup",
                f"{role}-logs",
                {"name": f"/ecs/{s.prefix}/{role}", "retentionInDays": 30, "tags": tags(s.env)},
                parent=component,
            )
        )
        singleton = role == "scheduler"
        s.add(
            res(
                ECS_SERVICE,
                f"{role}-service",
                {
                    "name": f"{s.prefix}-{role}",
                    "cluster": UNKNOWN,
                    "taskDefinition": UNKNOWN,
                    "desiredCount": 1 if singleton else 2,
                    "deploymentMaximumPercent": 100 if singleton else 200,
                    "deploymentMinimumHealthyPercent": 0 if singleton else 100,
                    "tags": tags(s.env, role=role),
                },
                parent=component,
                property_dependencies={"taskDefinition": [task.urn]},
            )
        )
        if role == "api":
            s.add(
                res(
                    AUTOSCALING_TARGET,
                    "api-scaling",
                    {
                        "resourceId": f"service/{s.prefix}/{s.prefix}-api",
                        "scalableDimension": "ecs:service:DesiredCount",
                        "serviceNamespace": "ecs",
                        "minCapacity": 1,
                        "maxCapacity": 4,
                        "tags": tags(s.env),
                    },
                    parent=component,
                )
            )


def _load_balancer(s: _Stack) -> None:
    """Load balancer: HTTPS with a TLS 1.2+ policy, HTTP only redirects."""
    s.add(
        res(
            "aws:lb/loadBalancer:LoadBalancer",
            "alb",
            {
                "loadBalancerType": "application",
                "internal": False,
                "dropInvalidHeaderFields": True,
                "enableDeletionProtection": s.prod,
                "tags": tags(s.env),
            },
        )
    )
    s.add(
        res(
            "aws:lb/listener:Listener",
            "alb-https",
            {
                "loadBalancerArn": UNKNOWN,
                "port": 443,
                "protocol": "HTTPS",
                "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                "certificateArn": UNKNOWN,
                "defaultActions": [{"type": "fixed-response", "fixedResponse": {"statusCode": "403"}}],
                "tags": tags(s.env),
            },
        )
    )
    s.add(
        res(
            "aws:lb/listener:Listener",
            "alb-http",
            {
                "loadBalancerArn": UNKNOWN,
                "port": 80,
                "protocol": "HTTP",
                "defaultActions": [
                    {
                        "type": "redirect",
                        "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
                    }
                ],
                "tags": tags(s.env),
            },
        )
    )


def topic_key_policy(*, events_condition: dict[str, Any] | None = None, services: Iterable[str] = ()) -> str:
    """The alerts key's policy: CloudWatch (conditioned on the account) and EventBridge (unconditioned, unless
    ``events_condition``) may use it; ``services`` replaces the publishing principals altogether."""
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    publishers = list(services) or ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    for service in publishers:
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        }
        if service == "cloudwatch.amazonaws.com":
            statement["Condition"] = {"StringEquals": {"aws:SourceAccount": "123456789012"}}
        if service == "events.amazonaws.com" and events_condition:
            statement["Condition"] = events_condition
        statements.append(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _alerts(s: _Stack) -> None:
    """Alerts: an encrypted topic that a CloudWatch alarm and an EventBridge rule publish to."""
    key = s.add(
        res(
            "aws:kms/key:Key",
            "alerts-key",
            {
                "enableKeyRotation": True,
                "deletionWindowInDays": 30,
                "policy": topic_key_policy(),
                "tags": tags(s.env),
            },
            protect=s.prod,
        )
    )
    topic = s.add(
        res(
            "aws:sns/topic:Topic",
            "alerts-topic",
            {"name": f"{s.prefix}-alerts", "kmsMasterKeyId": UNKNOWN, "tags": tags(s.env)},
            property_dependencies={"kmsMasterKeyId": [key.urn]},
        )
    )
    on_topic = [topic.urn]
    s.add(
        res(
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "alerts-api-cpu",
            {"name": f"{s.prefix}-api-cpu", "alarmActions": [UNKNOWN], "tags": tags(s.env)},
            property_dependencies={"alarmActions": on_topic},
        )
    )
    s.add(
        res(
            "aws:cloudwatch/eventTarget:EventTarget",
            "alerts-backup-failed-target",
            {"rule": f"{s.prefix}-backup-failed", "arn": UNKNOWN},
            property_dependencies={"arn": on_topic},
        )
    )


def _edge(s: _Stack) -> None:
    """Edge: the proxied API record and an ACM validation record computed from the certificate."""
    s.add(
        res(
            DNS_RECORD,
            "api-record",
            {"name": "api", "type": "CNAME", "content": UNKNOWN, "proxied": True, "ttl": 1},
        )
    )
    s.add(
        res(
            DNS_RECORD,
            "cert-validation-0",
            {"name": UNKNOWN, "type": UNKNOWN, "content": UNKNOWN, "proxied": False, "ttl": 60},
        )
    )
    s.add(
        res(
            DNS_RECORD, "dmarc", {"name": "_dmarc", "type": "TXT", "content": "v=DMARC1; p=none", "ttl": 3600}
        )
    )


def find(resources: list[RecordedResource], name: str) -> RecordedResource:
    found = [r for r in resources if r.name == name]
    assert len(found) == 1, f"{name}: {len(found)} matches among {[r.name for r in resources]}"
    return found[0]


def with_inputs(resources: list[RecordedResource], name: str, /, **changes: Any) -> list[RecordedResource]:
    """A copy of ``resources`` where resource ``name`` has ``changes`` applied to its inputs.

    A change whose value is ``DROP`` removes the input; ``__`` in a key walks into a nested map
    (``tags__role="scheduler"``, ``**{"tags__managed-by": DROP}``).
    """
    target = find(resources, name)
    inputs = copy.deepcopy(target.inputs)
    for key, value in changes.items():
        *path, last = key.split("__")
        node = inputs
        for part in path:
            node = node.setdefault(part, {})
        if value is DROP:
            node.pop(last, None)
        else:
            node[last] = value
    return [replace(r, inputs=inputs) if r is target else r for r in resources]


def with_options(resources: list[RecordedResource], name: str, /, **changes: Any) -> list[RecordedResource]:
    target = find(resources, name)
    return [replace(r, **changes) if r is target else r for r in resources]


def without(resources: list[RecordedResource], *names: str) -> list[RecordedResource]:
    for name in names:
        find(resources, name)
    return [r for r in resources if r.name not in names]


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP: Any = _Drop()


def policies_of(violations: list[Violation]) -> set[str]:
    return {v.policy_name for v in violations}


def explain(violations: list[Violation]) -> str:
    return "\n".join(str(v) for v in violations) or "(no violations)"


# --- the dev stack (platform docker) --------------------------------------------------------------------

DOCKER_CONTAINER = "docker:index/container:Container"


def docker_labels(**extra: str) -> list[dict[str, str]]:
    return [{"label": k, "value": v} for k, v in sorted(tags("dev", **extra).items())]


def good_dev_stack() -> list[RecordedResource]:
    """A small local (Docker) stack that satisfies every policy: loopback ports, one restarting scheduler."""
    prefix = f"{APP}-dev"
    network = res("docker:index/network:Network", "network-net", {"name": prefix, "driver": "bridge"})
    attach = [{"name": prefix, "aliases": []}]

    def container(name: str, role: str, **inputs: Any) -> RecordedResource:
        base = {
            "name": f"{prefix}-{role}",
            "image": UNKNOWN,
            "restart": "unless-stopped",
            "networksAdvanced": attach,
            "labels": docker_labels(role=role),
        }
        return res(DOCKER_CONTAINER, name, {**base, **inputs})

    loopback = {"protocol": "tcp", "ip": "127.0.0.1"}
    return [
        network,
        container("postgres-container", "postgres", ports=[{**loopback, "internal": 5432, "external": 3802}]),
        container(
            "redis-container",
            "redis",
            command=["sh", "-c", "exec redis-server --maxmemory 256mb --maxmemory-policy noeviction"],
            labels=docker_labels(role="redis", queue="bullmq"),
        ),
        container("api-container", "api", ports=[{**loopback, "internal": 3801, "external": 3801}]),
        container("worker-container", "worker"),
        container("scheduler-container", "scheduler", command=["npm", "run", "start:scheduler"]),
        container("object-store-setup", "setup", restart="no", mustRun=False, attach=True),
    ]


# --- S3 replication with a customer-managed replica key -------------------------------------------------

REPLICATION_CONFIG = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
REPLICA_KEY_ARN = "arn:aws:kms:us-east-2:123456789012:key/replica"
REPLICA_BUCKET_ARN = "arn:aws:s3:::escalating-reminders-production-backups-123456789012-us-east-2"


def replication_stack(
    *,
    actions: Iterable[str] = ("kms:Decrypt", "kms:Encrypt"),
    context: Iterable[str] = (REPLICA_BUCKET_ARN, f"{REPLICA_BUCKET_ARN}/*"),
    preview: bool = False,
    policy_uses_key: bool = True,
) -> list[RecordedResource]:
    """A replication role, its grant on the replica key, the replica key and the replication config.

    ``preview`` leaves the ARNs unknown, as the engine records them before the key exists."""
    key = res(
        "aws:kms/key:Key",
        "replica-kms",
        {"enableKeyRotation": True, "tags": tags("production")},
        protect=True,
    )
    role = res(
        "aws:iam/role:Role", "replication-role", {"assumeRolePolicy": "{}", "tags": tags("production")}
    )
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EncryptReplica",
                "Effect": "Allow",
                "Action": list(actions),
                "Resource": REPLICA_KEY_ARN,
                "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": list(context)}},
            }
        ],
    }
    policy = res(
        "aws:iam/rolePolicy:RolePolicy",
        "replication-kms-policy",
        {
            "role": UNKNOWN if preview else "replication-role",
            "policy": UNKNOWN if preview else json.dumps(grant),
        },
        property_dependencies={"role": [role.urn], "policy": [key.urn] if policy_uses_key else []},
    )
    destination = {
        "bucket": UNKNOWN if preview else REPLICA_BUCKET_ARN,
        "encryptionConfiguration": {"replicaKmsKeyId": UNKNOWN if preview else REPLICA_KEY_ARN},
    }
    config = res(
        REPLICATION_CONFIG,
        "replication",
        {"role": UNKNOWN, "rules": [{"id": "copy", "status": "Enabled", "destination": destination}]},
        property_dependencies={"role": [role.urn], "rules": [key.urn]},
    )
    return [key, role, policy, config]
