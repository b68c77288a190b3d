"""Data-tier components in isolation: inputs -> recorded resources, plain attributes and input validation."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components.aws.network import Network, NetworkArgs, subnet_cidrs
from components.aws.postgres import Postgres, PostgresArgs, database_url
from components.aws.redis import Redis, RedisArgs, redis_url
from components.aws.secrets import AppSecrets, AppSecretsArgs
from components.common import Deployment
from components.config import PostgresConfig, RedisConfig
from preflight.engine import Evaluation, run_program

STAGING = Deployment("acme", "staging", "us-west-2", "123456789012")
PRODUCTION = Deployment("acme", "production", "us-west-2", "123456789012")
ARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret"
SUBNETS = ["subnet-a", "subnet-b"]
LOGS_KEY = "arn:aws:kms:us-west-2:123456789012:key/logs"


def run(build: Callable[[], Any], preview: bool = False) -> tuple[Evaluation, Any]:
    """Run ``build`` under the mock engine; return the evaluation and what ``build`` returned."""
    made: list[Any] = []

    def program() -> None:
        made.append(build())

    evaluation = run_program(program, preview=preview)
    return evaluation, (made[0] if made else None)


def postgres_args(deployment: Deployment = STAGING, **changes: Any) -> PostgresArgs:
    values: dict[str, Any] = {
        "deployment": deployment,
        "config": PostgresConfig(),
        "vpc_id": "vpc-1",
        "subnet_ids": SUBNETS,
        "app_security_group_id": "sg-app",
        "secrets_kms_key_arn": "arn:aws:kms:us-west-2:123456789012:key/secrets",
        "log_kms_key_arn": LOGS_KEY,
        **changes,
    }
    return PostgresArgs(**values)


def redis_args(deployment: Deployment = STAGING, **changes: Any) -> RedisArgs:
    values: dict[str, Any] = {
        "deployment": deployment,
        "config": RedisConfig(),
        "vpc_id": "vpc-1",
        "subnet_ids": SUBNETS,
        "app_security_group_id": "sg-app",
        "secrets_kms_key_arn": "arn:aws:kms:us-west-2:123456789012:key/secrets",
        "log_kms_key_arn": LOGS_KEY,
        **changes,
    }
    return RedisArgs(**values)


# ---------------------------------------------------------------------------------------------------------
# Network


@pytest.mark.parametrize("cidr", ["10.20.0.0/16", "10.40.16.0/20", "172.16.0.0/18"])
@pytest.mark.parametrize("az_count", [1, 2, 3, 6])
def test_subnet_cidrs_are_disjoint_and_inside_the_vpc(cidr: str, az_count: int) -> None:
    public, private = subnet_cidrs(cidr, az_count)
    assert len(public) == len(private) == az_count
    vpc = ipaddress.IPv4Network(cidr)
    nets = [ipaddress.IPv4Network(c) for c in public + private]
    assert all(n.subnet_of(vpc) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    assert all(n.prefixlen == vpc.prefixlen + 3 for n in nets[az_count:])  # private: an eighth each
    assert all(n.prefixlen == vpc.prefixlen + 6 for n in nets[:az_count])
    assert subnet_cidrs(cidr, az_count) == (public, private)  # deterministic


def test_subnet_cidrs_of_a_slash_20() -> None:
    assert subnet_cidrs("10.40.16.0/20", 2) == (
        ["10.40.30.0/26", "10.40.30.64/26"],
        ["10.40.16.0/23", "10.40.18.0/23"],
    )


def test_single_nat_serves_every_private_subnet() -> None:
    ev, net = run(lambda: Network("net", NetworkArgs(STAGING, az_count=3, nat_gateways="single")))
    assert ev.error is None
    (nat,) = ev.of_type("aws:ec2/natGateway:NatGateway")
    routes = [r for r in ev.of_type("aws:ec2/route:Route") if "natGatewayId" in r.inputs]
    assert len(routes) == 3 and {r.inputs["natGatewayId"] for r in routes} == {nat.id}
    assert net.availability_zones == ["us-west-2a", "us-west-2b", "us-west-2c"]
    assert net.vpc_cidr == "10.20.0.0/16"
    assert len(net.public_subnet_ids) == len(net.private_subnet_ids) == 3


def test_per_az_nat_gives_each_az_its_own_nat() -> None:
    ev, _ = run(lambda: Network("net", NetworkArgs(STAGING, az_count=2, nat_gateways="perAz")))
    nats = ev.of_type("aws:ec2/natGateway:NatGateway")
    routes = [r for r in ev.of_type("aws:ec2/route:Route") if "natGatewayId" in r.inputs]
    assert len(nats) == 2 and sorted(r.inputs["natGatewayId"] for r in routes) == sorted(
        str(n.id) for n in nats
    )
    assert len(ev.of_type("aws:ec2/eip:Eip")) == 2


def test_network_without_nat_has_no_private_default_route() -> None:
    ev, net = run(lambda: Network("net", NetworkArgs(STAGING, az_count=2, nat_gateways="none")))
    assert ev.of_type("aws:ec2/natGateway:NatGateway") == [] and ev.of_type("aws:ec2/eip:Eip") == []
    assert [r.name for r in ev.of_type("aws:ec2/route:Route")] == ["net-public-default"]
    assert net.nat_gateway_ids == []


def test_network_exposes_plain_and_output_attributes() -> None:
    def build() -> Network:
        net = Network("net", NetworkArgs(STAGING, cidr="10.50.0.0/16", flow_log_retention_days=30))
        pulumi.export("vpc", net.vpc_id)
        pulumi.export("private", net.private_subnet_ids)
        pulumi.export("public", net.public_subnet_ids)
        pulumi.export("app", net.app_security_group_id)
        pulumi.export("logsKey", net.logs_kms_key_arn)
        return net

    ev, net = run(build)
    assert ev.outputs["vpc"] == ev.one("aws:ec2/vpc:Vpc").id
    subnets = {s.inputs["cidrBlock"]: s.id for s in ev.of_type("aws:ec2/subnet:Subnet")}
    assert ev.outputs["private"] == [subnets["10.50.0.0/19"], subnets["10.50.32.0/19"]]
    assert ev.outputs["public"] == [subnets["10.50.224.0/22"], subnets["10.50.228.0/22"]]
    assert ev.outputs["app"] == ev.one("aws:ec2/securityGroup:SecurityGroup").id
    assert net.flow_log_group_name == "/vpc/acme-staging/flow-logs"
    flow_logs = ev.one("aws:cloudwatch/logGroup:LogGroup")
    assert flow_logs.inputs["retentionInDays"] == 30
    key = ev.one("aws:kms/key:Key", "net-logs-kms")
    assert ev.outputs["logsKey"] == key.outputs["arn"] == flow_logs.inputs["kmsKeyId"]
    assert key.inputs["enableKeyRotation"] is True and key.protect is False
    assert ev.one("saas:network:Network").type == "saas:network:Network"


def test_network_logs_key_is_protected_in_production() -> None:
    ev, _ = run(lambda: Network("net", NetworkArgs(PRODUCTION)), preview=True)
    key = ev.one("aws:kms/key:Key", "net-logs-kms")
    assert key.protect is True and key.inputs["deletionWindowInDays"] == 30


def test_data_log_groups_use_the_given_logs_key() -> None:
    def build() -> None:
        Postgres("pg", postgres_args())
        Redis("redis", redis_args())

    ev, _ = run(build, preview=True)
    groups = {g.inputs["name"]: g.inputs["kmsKeyId"] for g in ev.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert groups == {
        "/aws/rds/instance/acme-staging-postgres/postgresql": LOGS_KEY,
        "/aws/rds/instance/acme-staging-postgres/upgrade": LOGS_KEY,
        "/elasticache/acme-staging-redis/slow-log": LOGS_KEY,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            NetworkArgs(STAGING, az_count=5),
            "Network: az_count is 5; region us-west-2 has 4 available AZs "
            "(us-west-2a, us-west-2b, us-west-2c, us-west-2d)",
        ),
        (NetworkArgs(STAGING, az_count=0), "Network: az_count is 0; must be between 1 and 6"),
        (
            NetworkArgs(STAGING, cidr="10.0.0.0/24"),
            "Network: cidr is '10.0.0.0/24'; must have a prefix length /16../20",
        ),
        (
            NetworkArgs(STAGING, cidr="10.0.0.1/16"),
            "Network: cidr is '10.0.0.1/16'; must be an IPv4 network such as 10.20.0.0/16",
        ),
        (
            NetworkArgs(STAGING, nat_gateways="two"),  # type: ignore[arg-type]
            "Network: nat_gateways is 'two'; allowed: ('none', 'single', 'perAz', 'instance')",
        ),
    ],
    ids=["az-count-vs-region", "az-count-zero", "cidr-too-small", "cidr-host-bits", "nat-mode"],
)
def test_network_rejects_bad_inputs_with_one_line(args: NetworkArgs, message: str) -> None:
    ev, _ = run(lambda: Network("net", args))
    assert ev.error == f"ValueError: {message}"
    assert ev.resources == []  # nothing registered, not even the component


# ---------------------------------------------------------------------------------------------------------
# AppSecrets


def test_app_secrets_attributes_are_literal() -> None:
    ev, secrets = run(
        lambda: AppSecrets("s", AppSecretsArgs(STAGING, secret_names=["SENTRY_DSN", "OPENAI_API_KEY"]))
    )
    assert ev.error is None
    names = ["JWT_SECRET", "JWT_REFRESH_SECRET", "ENCRYPTION_KEY", "SENTRY_DSN", "OPENAI_API_KEY"]
    assert secrets.ecs_secrets == [{"name": n, "valueFrom": f"{ARN}:acme/staging/{n}"} for n in names]
    assert secrets.secret_arn_patterns == [f"{ARN}:acme/staging/{n}-??????" for n in names]
    assert sorted(secrets.secret_arns) == sorted(names)
    assert secrets.fill_commands == {
        n: "aws secretsmanager put-secret-value --region us-west-2 "
        f'--secret-id acme/staging/{n} --secret-string "${n}"'
        for n in ("SENTRY_DSN", "OPENAI_API_KEY")
    }
    # One version per secret: the generated values and the third-party placeholders.
    assert len(ev.of_type("aws:secretsmanager/secretVersion:SecretVersion")) == 5
    assert len(ev.of_type("aws:secretsmanager/secret:Secret")) == 5
    assert sorted(secrets.secret_version_ids) == sorted(names)


def test_app_secrets_outputs_resolve_to_the_created_resources() -> None:
    def build() -> AppSecrets:
        secrets = AppSecrets("s", AppSecretsArgs(PRODUCTION))
        pulumi.export("key", secrets.kms_key_arn)
        pulumi.export("jwt", secrets.secret_arns["JWT_SECRET"])
        return secrets

    ev, _ = run(build)
    key = ev.one("aws:kms/key:Key")
    assert ev.outputs["key"] == key.outputs["arn"] and key.protect is True
    assert ev.outputs["jwt"].startswith(f"{ARN}:acme/production/JWT_SECRET-")
    assert ev.one("aws:kms/alias:Alias").inputs["name"] == "alias/acme-production/secrets"
    assert {s.inputs["recoveryWindowInDays"] for s in ev.of_type("aws:secretsmanager/secret:Secret")} == {30}


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["SENTRY_DSN", "SENTRY_DSN"], "AppSecrets: secret_names[1] is 'SENTRY_DSN'; names must be unique"),
        (
            ["sentry_dsn"],
            "AppSecrets: secret_names[0] is 'sentry_dsn'; must be an env var name (A-Z, 0-9, _)",
        ),
        (
            ["REDIS_AUTH_TOKEN"],
            "AppSecrets: secret_names[0] is 'REDIS_AUTH_TOKEN'; the name is reserved (set by Redis)",
        ),
        (["DATABASE"], "AppSecrets: secret_names[0] is 'DATABASE'; the name is reserved (set by Postgres)"),
        (
            ["ENCRYPTION_KEY"],
            "AppSecrets: secret_names[0] is 'ENCRYPTION_KEY'; the name is reserved (generated by AppSecrets)",
        ),
    ],
)
def test_app_secrets_rejects_bad_names(names: list[str], message: str) -> None:
    ev, _ = run(lambda: AppSecrets("s", AppSecretsArgs(STAGING, secret_names=names)))
    assert ev.error == f"ValueError: {message}"


# ---------------------------------------------------------------------------------------------------------
# Postgres


def test_postgres_plain_attributes() -> None:
    ev, pg = run(
        lambda: Postgres("pg", postgres_args(config=PostgresConfig.model_validate({"databaseName": "core"})))
    )
    assert ev.error is None
    assert pg.instance_identifier == "acme-staging-postgres"
    assert (pg.database_name, pg.username) == ("core", "app")
    assert pg.secret_name == "acme/staging/DATABASE"
    assert pg.secret_arn_patterns == [f"{ARN}:acme/staging/DATABASE-??????"]
    assert pg.ecs_secrets == [
        {"name": "DATABASE_URL", "valueFrom": f"{ARN}:acme/staging/DATABASE:url::"},
        {"name": "DATABASE_HOST", "valueFrom": f"{ARN}:acme/staging/DATABASE:host::"},
        {"name": "DATABASE_PASSWORD", "valueFrom": f"{ARN}:acme/staging/DATABASE:password::"},
    ]
    assert pg.env == {
        "DATABASE_PORT": "5432",
        "DATABASE_NAME": "core",
        "DATABASE_USER": "app",
        "DATABASE_SSLMODE": "require",
    }


def test_postgres_outputs_resolve_to_the_instance() -> None:
    def build() -> Postgres:
        pg = Postgres("pg", postgres_args(PRODUCTION))
        pulumi.export("address", pg.address)
        pulumi.export("port", pg.port)
        pulumi.export("sg", pg.security_group_id)
        pulumi.export("secret", pg.secret_arn)
        pulumi.export("key", pg.kms_key_arn)
        return pg

    ev, _ = run(build)
    db = ev.one("aws:rds/instance:Instance")
    assert ev.outputs["address"] == db.outputs["address"] and ev.outputs["port"] == 5432
    assert ev.outputs["sg"] == ev.one("aws:ec2/securityGroup:SecurityGroup").id
    assert ev.outputs["secret"].startswith(f"{ARN}:acme/production/DATABASE-")
    assert ev.outputs["key"] == ev.one("aws:kms/key:Key").outputs["arn"] == db.inputs["kmsKeyId"]
    assert db.inputs["multiAz"] is True and db.protect is True
    secret = ev.one("aws:secretsmanager/secret:Secret")
    assert secret.inputs["kmsKeyId"] == "arn:aws:kms:us-west-2:123456789012:key/secrets"
    assert (
        ev.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs[
            "referencedSecurityGroupId"
        ]
        == "sg-app"
    )
    assert ev.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"] == SUBNETS


def test_postgres_follows_the_configured_major_version() -> None:
    config = PostgresConfig.model_validate({"engineVersion": "16.4", "performanceInsights": False})
    ev, _ = run(lambda: Postgres("pg", postgres_args(config=config)), preview=True)
    params = ev.one("aws:rds/parameterGroup:ParameterGroup")
    assert (params.inputs["family"], params.inputs["namePrefix"]) == (
        "postgres16",
        "acme-staging-postgres16-",
    )
    db = ev.one("aws:rds/instance:Instance").inputs
    assert db["engineVersion"] == "16.4"
    assert db["performanceInsightsEnabled"] is False and "performanceInsightsKmsKeyId" not in db


def test_database_url_escapes_user_and_password() -> None:
    assert database_url("app", "a-b_C9", "db.example", "core") == (
        "postgresql://app:a-b_C9@db.example:5432/core?sslmode=require"
    )
    assert (
        database_url("app", "p@ss/w:rd", "h", "d")
        == "postgresql://app:p%40ss%2Fw%3Ard@h:5432/d?sslmode=require"
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Postgres("pg", postgres_args(subnet_ids=["subnet-a"])),
            "Postgres: len(subnet_ids) is 1; an RDS subnet group needs private subnets in at least 2 AZs "
            "(network.azCount >= 2)",
        ),
        (
            lambda: Postgres("pg", postgres_args(log_retention_days=10)),
            "Postgres: log_retention_days is 10; must be a CloudWatch retention period: "
            "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557",
        ),
        (
            lambda: Postgres("pg", postgres_args(Deployment("a" * 60, "staging", "us-west-2", "1"))),
            f"Postgres: deployment.prefix is '{'a' * 60}-staging'; the RDS identifier <prefix>-postgres "
            "must be 1-63 lowercase letters, digits and single hyphens",
        ),
        (
            lambda: Postgres("pg", postgres_args(Deployment("a" * 42, "production", "us-west-2", "1"))),
            f"Postgres: deployment.prefix is '{'a' * 42}-production'; the IAM role name "
            "<prefix>-rds-monitoring must fit 64 characters",
        ),
    ],
    ids=["one-subnet", "retention", "identifier-too-long", "monitoring-role-name"],
)
def test_postgres_rejects_bad_inputs(build: Callable[[], Any], message: str) -> None:
    ev, _ = run(build)
    assert ev.error == f"ValueError: {message}"
    assert ev.resources == []


# ---------------------------------------------------------------------------------------------------------
# Redis


def test_redis_plain_attributes() -> None:
    ev, redis = run(lambda: Redis("cache", redis_args()))
    assert ev.error is None
    assert redis.replication_group_id == "acme-staging-redis"
    assert redis.cache_cluster_ids == ["acme-staging-redis-001"]  # one node outside production
    assert redis.secret_name == "acme/staging/REDIS"
    assert redis.secret_arn_patterns == [f"{ARN}:acme/staging/REDIS-??????"]
    assert redis.ecs_secrets == [
        {"name": "REDIS_URL", "valueFrom": f"{ARN}:acme/staging/REDIS:url::"},
        {"name": "REDIS_HOST", "valueFrom": f"{ARN}:acme/staging/REDIS:host::"},
        {"name": "REDIS_AUTH_TOKEN", "valueFrom": f"{ARN}:acme/staging/REDIS:authToken::"},
    ]
    assert redis.env == {"REDIS_PORT": "6379", "REDIS_TLS": "true"}


def test_redis_outputs_resolve_to_the_replication_group() -> None:
    def build() -> Redis:
        redis = Redis("cache", redis_args(PRODUCTION))
        pulumi.export("endpoint", redis.primary_endpoint)
        pulumi.export("port", redis.port)
        pulumi.export("sg", redis.security_group_id)
        pulumi.export("secret", redis.secret_arn)
        return redis

    ev, redis = run(build)
    group = ev.one("aws:elasticache/replicationGroup:ReplicationGroup")
    assert ev.outputs["endpoint"] == group.outputs["primaryEndpointAddress"] and ev.outputs["port"] == 6379
    # Plain at preview, and the names ElastiCache gives the member clusters (primary + replica).
    assert redis.cache_cluster_ids == ["acme-production-redis-001", "acme-production-redis-002"]
    assert redis.cache_cluster_ids == group.outputs["memberClusters"]
    assert ev.outputs["sg"] == ev.one("aws:ec2/securityGroup:SecurityGroup").id
    assert ev.outputs["secret"].startswith(f"{ARN}:acme/production/REDIS-")
    assert (group.inputs["numCacheClusters"], group.inputs["automaticFailoverEnabled"]) == (2, True)
    assert ev.one("aws:kms/key:Key").protect is True
    data = json.loads(
        ev.one("aws:secretsmanager/secretVersion:SecretVersion").inputs["secretString"]["value"]
    )
    assert data["url"] == redis_url(data["authToken"], group.outputs["primaryEndpointAddress"])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Redis("cache", redis_args(PRODUCTION, subnet_ids=["subnet-a"])),
            "Redis: len(subnet_ids) is 1; needs private subnets in at least 2 AZ(s) (production)",
        ),
        (
            lambda: Redis("cache", redis_args(subnet_ids=[])),
            "Redis: len(subnet_ids) is 0; needs private subnets in at least 1 AZ(s) (staging)",
        ),
        (
            lambda: Redis(
                "cache",
                redis_args(Deployment("a-very-long-application-name", "production", "us-west-2", "1")),
            ),
            "Redis: deployment.prefix is 'a-very-long-application-name-production'; the replication group id "
            "<prefix>-redis must be 1-40 lowercase letters, digits and single hyphens",
        ),
    ],
    ids=["production-one-subnet", "no-subnet", "group-id-too-long"],
)
def test_redis_rejects_bad_inputs(build: Callable[[], Any], message: str) -> None:
    ev, _ = run(build)
    assert ev.error == f"ValueError: {message}"
    assert ev.resources == []
