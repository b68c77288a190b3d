"""Redis: an ElastiCache (Redis 7) replication group in the private subnets, reachable only from the app SG.

TLS required, an AUTH token from ``pulumi_random``, its own KMS key, ``maxmemory-policy`` from the config
(a queue's Redis is tagged ``queue`` and held to noeviction by the pack), daily snapshots, the slow log to a
log group with a retention; production adds a replica with automatic failover across AZs. The token and the
connection live in the JSON secret ``<app>/<environment>/REDIS``; tasks read single keys via ``ecs_secrets``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from .. import specs
from ..common import Deployment, child, require, require_log_retention
from ..config import RedisConfig
from .kms import kms_key, service_key_policy
from .network import app_only_security_group
from .replacement import replacement_digest
from .secrets import connection_secret, json_key_references

COMPONENT = "Redis"
PORT = specs.REDIS_PORT
SECRET_KEY = specs.REDIS_SECRET_KEY
# ECS secret name -> key of the REDIS JSON secret.
ECS_SECRETS = specs.REDIS_ECS_SECRETS
PARAMETER_FAMILY = "redis7"
AUTH_TOKEN_LENGTH = specs.REDIS_AUTH_TOKEN_LENGTH
SNAPSHOT_WINDOW = "05:00-06:00"
MAINTENANCE_WINDOW = "sun:06:30-sun:07:30"
_GROUP_ID_RE = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,39}(?<!-)$")


def redis_url(token: str, host: str) -> str:
    """``rediss://:<token>@<host>:6379`` (TLS; the token is alphanumeric, so nothing needs escaping)."""
    return f"rediss://:{token}@{host}:{PORT}"


@dataclass(frozen=True)
class RedisArgs:
    deployment: Deployment
    config: RedisConfig
    vpc_id: pulumi.Input[str]
    # Private subnets; production (replica in another AZ) needs at least two.
    subnet_ids: Sequence[pulumi.Input[str]]
    # The ECS tasks' security group: the only source admitted on 6379.
    app_security_group_id: pulumi.Input[str]
    # The key of the REDIS secret (AppSecrets.kms_key_arn).
    secrets_kms_key_arn: pulumi.Input[str]
    # The stack's logs key (Network.logs_kms_key_arn): encrypts the slow log's log group.
    log_kms_key_arn: pulumi.Input[str]
    log_retention_days: int = 14
    # The app's job queue on this Redis (config app.queue): tags the parameter group for the policy pack.
    queue: str | None = None


def _validate(args: RedisArgs) -> None:
    d = args.deployment
    minimum = 2 if d.is_production else 1
    require(
        len(args.subnet_ids) >= minimum,
        COMPONENT,
        "len(subnet_ids)",
        len(args.subnet_ids),
        f"needs private subnets in at least {minimum} AZ(s) ({d.environment})",
    )
    require(
        args.config.engine_version.split(".")[0] == "7",
        COMPONENT,
        "config.engine_version",
        args.config.engine_version,
        "must be a Redis 7 version (the parameter group family is redis7)",
    )
    require(
        bool(_GROUP_ID_RE.match(f"{d.prefix}-redis")),
        COMPONENT,
        "deployment.prefix",
        d.prefix,
        "the replication group id <prefix>-redis must be 1-40 lowercase letters, digits and single hyphens",
    )
    require_log_retention(args.log_retention_days, COMPONENT)


class Redis(pulumi.ComponentResource):
    primary_endpoint: pulumi.Output[str]
    port: pulumi.Output[int]
    replication_group_id: str
    cache_cluster_ids: list[str]
    secret_name: str
    secret_arn: pulumi.Output[str]
    secret_version_id: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    ecs_secrets: list[dict[str, str]]
    env: dict[str, str]
    secret_arn_patterns: list[str]
    _deployment: Deployment

    def __init__(self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(args)
        super().__init__("saas:data:Redis", name, None, opts)
        d = args.deployment
        self._deployment = d
        self.replication_group_id = f"{d.prefix}-redis"
        # ElastiCache names a replication group's member clusters (nodes) <group id>-001, -002, ...
        node_count = 2 if d.is_production else 1
        self.cache_cluster_ids = [f"{self.replication_group_id}-{n:03d}" for n in range(1, node_count + 1)]
        self.secret_name = d.secret_name(SECRET_KEY)

        key = self._key(name)
        sg = self._security_group(name, args)
        subnet_group, parameter_group = self._groups(name, args)
        slow_log = self._slow_log(name, args)
        token = self._auth_token(name)
        group = self._group(
            name,
            args,
            key=key,
            sg=sg,
            subnet_group=subnet_group,
            parameter_group=parameter_group,
            slow_log=slow_log,
            token=token,
        )
        self._secret(name, args, token, group)
        self._task_interface()

        self.register_outputs(
            {
                "primaryEndpoint": self.primary_endpoint,
                "port": self.port,
                "replicationGroupId": self.replication_group_id,
                "cacheClusterIds": self.cache_cluster_ids,
                "secretName": self.secret_name,
                "secretArn": self.secret_arn,
                "secretVersionId": self.secret_version_id,
                "kmsKeyArn": self.kms_key_arn,
                "securityGroupId": self.security_group_id,
            }
        )

    def _key(self, name: str) -> aws.kms.Key:
        """Used only by ElastiCache (data at rest, snapshots) through the grant it makes at creation."""
        d = self._deployment
        key = kms_key(
            name,
            d,
            "redis",
            f"ElastiCache (Redis) data at rest of {d.prefix}",
            self,
            policy=service_key_policy(d, ["elasticache"], grants=True),
        )
        self.kms_key_arn = key.arn
        return key

    def _security_group(self, name: str, args: RedisArgs) -> aws.ec2.SecurityGroup:
        sg = app_only_security_group(
            name,
            self._deployment,
            label="redis",
            what="Redis",
            port=PORT,
            rule_description="Redis (TLS) from the ECS tasks",
            vpc_id=args.vpc_id,
            app_security_group_id=args.app_security_group_id,
            parent=self,
        )
        self.security_group_id = sg.id
        return sg

    def _groups(
        self, name: str, args: RedisArgs
    ) -> tuple[aws.elasticache.SubnetGroup, aws.elasticache.ParameterGroup]:
        """The subnet group, and the parameter group that sets the eviction policy."""
        d = self._deployment
        subnet_group = aws.elasticache.SubnetGroup(
            f"{name}-subnets",
            name=f"{d.prefix}-redis",
            description=f"Private subnets of {d.prefix} for Redis",
            subnet_ids=list(args.subnet_ids),
            tags=d.tags(),
            opts=child(self),
        )
        description = f"{d.prefix} Redis 7: maxmemory-policy {args.config.maxmemory_policy}"
        # No name prefix for this type: the name ends with a digest of the replace-forcing inputs, so a change
        # of them is a new name and the replacement cannot collide with the group still in use.
        suffix = replacement_digest({"description": description, "family": PARAMETER_FAMILY})
        parameter_group = aws.elasticache.ParameterGroup(
            f"{name}-params",
            name=f"{d.prefix}-{PARAMETER_FAMILY}-{suffix}",
            family=PARAMETER_FAMILY,
            description=description,
            parameters=[{"name": "maxmemory-policy", "value": args.config.maxmemory_policy}],
            tags=d.tags(**({"queue": args.queue} if args.queue else {})),
            opts=child(self),
        )
        return subnet_group, parameter_group

    def _slow_log(self, name: str, args: RedisArgs) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            f"{name}-slow-log",
            name=f"/elasticache/{self.replication_group_id}/slow-log",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_kms_key_arn,
            tags=self._deployment.tags(),
            opts=child(self),
        )

    def _auth_token(self, name: str) -> random.RandomPassword:
        """The AUTH token: alphanumeric, so the URL needs no escaping."""
        return random.RandomPassword(
            f"{name}-auth-token",
            length=AUTH_TOKEN_LENGTH,
            special=False,
            min_lower=1,
            min_upper=1,
            min_numeric=1,
            opts=child(self, additional_secret_outputs=["result", "bcryptHash"]),
        )

    def _group(
        self,
        name: str,
        args: RedisArgs,
        *,
        key: aws.kms.Key,
        sg: aws.ec2.SecurityGroup,
        subnet_group: aws.elasticache.SubnetGroup,
        parameter_group: aws.elasticache.ParameterGroup,
        slow_log: aws.cloudwatch.LogGroup,
        token: random.RandomPassword,
    ) -> aws.elasticache.ReplicationGroup:
        """The replication group: TLS required, AUTH token, encrypted at rest; production adds a replica with
        automatic failover across AZs and a final snapshot."""
        d, cfg = self._deployment, args.config
        prod = d.is_production
        group = aws.elasticache.ReplicationGroup(
            f"{name}-group",
            replication_group_id=self.replication_group_id,
            description=f"Redis of {d.prefix}",
            engine="redis",
            engine_version=cfg.engine_version,
            node_type=cfg.node_type,
            port=PORT,
            num_cache_clusters=len(self.cache_cluster_ids),
            automatic_failover_enabled=prod,
            multi_az_enabled=prod,
            subnet_group_name=subnet_group.name,
            security_group_ids=[sg.id],
            parameter_group_name=parameter_group.name,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=pulumi.Output.secret(token.result),
            auth_token_update_strategy="ROTATE",
            at_rest_encryption_enabled=True,
            kms_key_id=key.arn,
            snapshot_retention_limit=cfg.snapshot_retention_days,
            snapshot_window=SNAPSHOT_WINDOW,
            maintenance_window=MAINTENANCE_WINDOW,
            final_snapshot_identifier=f"{self.replication_group_id}-final" if prod else None,
            auto_minor_version_upgrade=True,
            apply_immediately=not prod,
            log_delivery_configurations=[
                {
                    "destination": slow_log.name,
                    "destination_type": "cloudwatch-logs",
                    "log_format": "json",
                    "log_type": "slow-log",
                }
            ],
            tags=d.tags(Name=self.replication_group_id),
            # A replacement (port, key, subnet group) deletes first: the fixed group id cannot exist twice. A
            # replaced cache starts empty either way; production takes its final snapshot.
            opts=child(self, delete_before_replace=True),
        )
        self.primary_endpoint = group.primary_endpoint_address
        self.port = group.port.apply(lambda p: p if p is not None else PORT)
        return group

    def _secret(
        self,
        name: str,
        args: RedisArgs,
        token: random.RandomPassword,
        group: aws.elasticache.ReplicationGroup,
    ) -> None:
        """The ``REDIS`` JSON secret and its version (token and endpoint)."""
        d = self._deployment
        fields = pulumi.Output.all(token.result, group.primary_endpoint_address).apply(
            lambda values: {
                "authToken": values[0],
                "host": values[1],
                "port": PORT,
                "url": redis_url(values[0], values[1]),
            }
        )
        secret, version = connection_secret(
            name,
            d,
            SECRET_KEY,
            args.secrets_kms_key_arn,
            f"Redis connection of {d.prefix} (JSON: authToken, host, port, url)",
            fields,
            self,
        )
        self.secret_arn = secret.arn
        # Known once the group is up and its connection is stored: the app services wait for it (`triggers`).
        self.secret_version_id = version.version_id

    def _task_interface(self) -> None:
        """What the app's tasks get: single keys of the secret (``ecs_secrets``) and plain env values."""
        d = self._deployment
        self.ecs_secrets = json_key_references(d, SECRET_KEY, ECS_SECRETS)
        self.env = {"REDIS_PORT": str(PORT), "REDIS_TLS": "true"}
        self.secret_arn_patterns = [d.secret_arn_pattern(SECRET_KEY)]
