"""Postgres: RDS for PostgreSQL in the private subnets, reachable only from the app security group.

Its own KMS key, TLS forced, slow statements and upgrade logs exported to log groups with a retention,
Enhanced Monitoring, PITR backups; production adds multi-AZ, deletion protection and a final snapshot.
The master password (``pulumi_random``) and the connection live in the JSON secret
``<app>/<environment>/DATABASE``; tasks read single keys of it through ``ecs_secrets``. RDS writes Enhanced
Monitoring to the account's shared ``RDSOSMetrics`` log group, which RDS owns (one per account and region).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from .. import specs
from ..common import Deployment, assume_role_policy, child, require, require_log_retention
from ..config import PostgresConfig
from .kms import kms_key, service_key_policy
from .network import app_only_security_group
from .secrets import connection_secret, json_key_references

COMPONENT = "Postgres"
PORT = specs.POSTGRES_PORT
SECRET_KEY = specs.POSTGRES_SECRET_KEY
# ECS secret name -> key of the DATABASE JSON secret.
ECS_SECRETS = specs.POSTGRES_ECS_SECRETS
SSL_MODE = "require"
SLOW_QUERY_MS = 500
LOG_EXPORTS = ("postgresql", "upgrade")
PASSWORD_SPECIALS = specs.POSTGRES_PASSWORD_SPECIALS
PASSWORD_LENGTH = specs.POSTGRES_PASSWORD_LENGTH
# Daily logical backup runs at 01:00 UTC (seed 004): RDS snapshots and maintenance come after it.
BACKUP_WINDOW = "03:00-03:30"
MAINTENANCE_WINDOW = "sun:04:00-sun:04:30"
# Enhanced Monitoring: OS metrics every 60 s (to the account's RDSOSMetrics log group) through a role with
# the AWS managed policy for it.
MONITORING_INTERVAL_SECONDS = 60
MONITORING_POLICY = "policy/service-role/AmazonRDSEnhancedMonitoringRole"
_IDENTIFIER_RE = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")


def database_url(username: str, password: str, host: str, dbname: str) -> str:
    """``postgresql://user:pass@host:5432/db?sslmode=require`` with user and password percent-encoded."""
    return (
        f"postgresql://{quote(username, safe='')}:{quote(password, safe='')}@{host}:{PORT}/{dbname}"
        f"?sslmode={SSL_MODE}"
    )


@dataclass(frozen=True)
class PostgresArgs:
    deployment: Deployment
    config: PostgresConfig
    vpc_id: pulumi.Input[str]
    # Private subnets in at least two AZs (an RDS subnet group requires two).
    subnet_ids: Sequence[pulumi.Input[str]]
    # The ECS tasks' security group: the only source admitted on 5432.
    app_security_group_id: pulumi.Input[str]
    # The key of the DATABASE secret (AppSecrets.kms_key_arn, so tasks decrypt every secret with one key).
    secrets_kms_key_arn: pulumi.Input[str]
    # The stack's logs key (Network.logs_kms_key_arn): encrypts the exported log groups.
    log_kms_key_arn: pulumi.Input[str]
    log_retention_days: int = 14


def _validate(args: PostgresArgs) -> None:
    cfg = args.config
    prefix = args.deployment.prefix
    require(
        len(args.subnet_ids) >= 2,
        COMPONENT,
        "len(subnet_ids)",
        len(args.subnet_ids),
        "an RDS subnet group needs private subnets in at least 2 AZs (network.azCount >= 2)",
    )
    require(
        cfg.major_version >= 15, COMPONENT, "config.engine_version", cfg.engine_version, "must be 15 or later"
    )
    require(
        bool(_IDENTIFIER_RE.match(f"{prefix}-postgres")),
        COMPONENT,
        "deployment.prefix",
        prefix,
        "the RDS identifier <prefix>-postgres must be 1-63 lowercase letters, digits and single hyphens",
    )
    require(
        len(f"{prefix}-rds-monitoring") <= 64,
        COMPONENT,
        "deployment.prefix",
        prefix,
        "the IAM role name <prefix>-rds-monitoring must fit 64 characters",
    )
    require_log_retention(args.log_retention_days, COMPONENT)


class Postgres(pulumi.ComponentResource):
    address: pulumi.Output[str]
    port: pulumi.Output[int]
    instance_arn: pulumi.Output[str]
    database_name: str
    username: str
    instance_identifier: str
    secret_name: str
    secret_arn: pulumi.Output[str]
    secret_version_id: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    ecs_secrets: list[dict[str, str]]
    env: dict[str, str]
    secret_arn_patterns: list[str]
    _deployment: Deployment

    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(args)
        super().__init__("saas:data:Postgres", name, None, opts)
        d, cfg = args.deployment, args.config
        self._deployment = d
        self.instance_identifier = f"{d.prefix}-postgres"
        self.database_name = cfg.database_name
        self.username = cfg.username
        self.secret_name = d.secret_name(SECRET_KEY)

        key = self._key(name)
        sg = self._security_group(name, args)
        subnet_group, parameter_group = self._groups(name, args)
        log_groups = self._log_groups(name, args)
        monitoring_role, monitoring_policy = self._monitoring_role(name)
        password = self._password(name)
        instance = self._instance(
            name,
            args,
            key=key,
            sg=sg,
            subnet_group=subnet_group,
            parameter_group=parameter_group,
            password=password,
            monitoring_role=monitoring_role,
            # RDS checks at creation that it can assume the monitoring role with its policy attached.
            depends_on=[*log_groups, monitoring_policy],
        )
        self._secret(name, args, password, instance)
        self._task_interface(cfg)

        self.register_outputs(
            {
                "address": self.address,
                "port": self.port,
                "instanceIdentifier": self.instance_identifier,
                "databaseName": self.database_name,
                "username": self.username,
                "secretName": self.secret_name,
                "secretArn": self.secret_arn,
                "secretVersionId": self.secret_version_id,
                "kmsKeyArn": self.kms_key_arn,
                "securityGroupId": self.security_group_id,
            }
        )

    def _key(self, name: str) -> aws.kms.Key:
        """The instance's key, used only by RDS (storage, snapshots, Performance Insights) through the grant
        it makes at creation."""
        d = self._deployment
        key = kms_key(
            name,
            d,
            "postgres",
            f"RDS storage and Performance Insights of {d.prefix}",
            self,
            policy=service_key_policy(d, ["rds"], grants=True),
        )
        self.kms_key_arn = key.arn
        return key

    def _security_group(self, name: str, args: PostgresArgs) -> aws.ec2.SecurityGroup:
        sg = app_only_security_group(
            name,
            self._deployment,
            label="postgres",
            what="PostgreSQL",
            port=PORT,
            rule_description="PostgreSQL from the ECS tasks",
            vpc_id=args.vpc_id,
            app_security_group_id=args.app_security_group_id,
            parent=self,
        )
        self.security_group_id = sg.id
        return sg

    def _groups(self, name: str, args: PostgresArgs) -> tuple[aws.rds.SubnetGroup, aws.rds.ParameterGroup]:
        """The subnet group, and the parameter group that forces TLS and logs slow statements."""
        d, cfg = self._deployment, args.config
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=f"{d.prefix}-postgres",
            description=f"Private subnets of {d.prefix} for PostgreSQL",
            subnet_ids=list(args.subnet_ids),
            tags=d.tags(),
            opts=child(self),
        )
        family = f"postgres{cfg.major_version}"
        parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            # A generated suffix: a replacement (family, description) is created while the instance still
            # uses the old group, so the two must not share a name.
            name_prefix=f"{d.prefix}-{family}-",
            family=family,
            description=f"{d.prefix} PostgreSQL {cfg.major_version}: TLS only, slow query log",
            parameters=[
                {"name": "rds.force_ssl", "value": "1"},
                {"name": "log_min_duration_statement", "value": str(SLOW_QUERY_MS)},
                {"name": "log_lock_waits", "value": "1"},
            ],
            tags=d.tags(),
            opts=child(self),
        )
        return subnet_group, parameter_group

    def _log_groups(self, name: str, args: PostgresArgs) -> list[aws.cloudwatch.LogGroup]:
        """RDS would create these on first export with "never expire": create them with a retention first."""
        return [
            aws.cloudwatch.LogGroup(
                f"{name}-log-{kind}",
                name=f"/aws/rds/instance/{self.instance_identifier}/{kind}",
                retention_in_days=args.log_retention_days,
                kms_key_id=args.log_kms_key_arn,
                tags=self._deployment.tags(),
                opts=child(self),
            )
            for kind in LOG_EXPORTS
        ]

    def _monitoring_role(self, name: str) -> tuple[aws.iam.Role, aws.iam.RolePolicyAttachment]:
        """Enhanced Monitoring's role, assumable by RDS monitoring for this instance only (confused
        deputy)."""
        d = self._deployment
        instance_arn = f"arn:{d.partition}:rds:{d.region}:{d.account_id}:db:{self.instance_identifier}"
        role = aws.iam.Role(
            f"{name}-monitoring-role",
            name=f"{d.prefix}-rds-monitoring",
            description=f"Enhanced Monitoring of {self.instance_identifier}: OS metrics to CloudWatch Logs",
            assume_role_policy=assume_role_policy(
                "monitoring.rds.amazonaws.com",
                StringEquals={"aws:SourceAccount": d.account_id},
                ArnLike={"aws:SourceArn": instance_arn},
            ),
            tags=d.tags(),
            opts=child(self),
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-monitoring-policy",
            role=role.name,
            policy_arn=f"arn:{d.partition}:iam::aws:{MONITORING_POLICY}",
            opts=child(self),
        )
        return role, attachment

    def _password(self, name: str) -> random.RandomPassword:
        """The master password: from ``pulumi_random``, never from config."""
        return random.RandomPassword(
            f"{name}-password",
            length=PASSWORD_LENGTH,
            special=True,
            override_special=PASSWORD_SPECIALS,
            min_lower=1,
            min_upper=1,
            min_numeric=1,
            opts=child(self, additional_secret_outputs=["result", "bcryptHash"]),
        )

    def _instance(
        self,
        name: str,
        args: PostgresArgs,
        *,
        key: aws.kms.Key,
        sg: aws.ec2.SecurityGroup,
        subnet_group: aws.rds.SubnetGroup,
        parameter_group: aws.rds.ParameterGroup,
        password: random.RandomPassword,
        monitoring_role: aws.iam.Role,
        depends_on: list[pulumi.Resource],
    ) -> aws.rds.Instance:
        """The instance; production adds multi-AZ, deletion protection, a final snapshot and ``protect``."""
        d, cfg = self._deployment, args.config
        prod = d.is_production
        performance_insights: dict[str, Any] = {"performance_insights_enabled": cfg.performance_insights}
        if cfg.performance_insights:
            performance_insights |= {
                "performance_insights_kms_key_id": key.arn,
                "performance_insights_retention_period": 7,  # the free tier
            }
        instance = aws.rds.Instance(
            f"{name}-db",
            identifier=self.instance_identifier,
            engine="postgres",
            engine_version=cfg.engine_version,
            instance_class=cfg.instance_class,
            allocated_storage=cfg.allocated_storage_gb,
            max_allocated_storage=cfg.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=key.arn,
            db_name=cfg.database_name,
            username=cfg.username,
            password=pulumi.Output.secret(password.result),
            port=PORT,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[sg.id],
            parameter_group_name=parameter_group.name,
            publicly_accessible=False,
            multi_az=prod,
            deletion_protection=prod,
            skip_final_snapshot=not prod,
            final_snapshot_identifier=f"{self.instance_identifier}-final" if prod else None,
            delete_automated_backups=not prod,
            backup_retention_period=cfg.backup_retention_days,
            backup_window=BACKUP_WINDOW,
            maintenance_window=MAINTENANCE_WINDOW,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            apply_immediately=not prod,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            monitoring_interval=MONITORING_INTERVAL_SECONDS,
            monitoring_role_arn=monitoring_role.arn,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            tags=d.tags(Name=self.instance_identifier),
            # A replacement (engine, key, database name, ...) deletes first outside production: the fixed
            # identifier cannot exist twice. Production is protected: the engine refuses the replacement.
            opts=child(self, protect=prod, delete_before_replace=not prod, depends_on=depends_on),
            **performance_insights,
        )
        self.address = instance.address
        self.port = instance.port
        self.instance_arn = instance.arn
        return instance

    def _secret(
        self, name: str, args: PostgresArgs, password: random.RandomPassword, instance: aws.rds.Instance
    ) -> None:
        """The ``DATABASE`` JSON secret and its version (the connection details, password included)."""
        d, cfg = self._deployment, args.config
        username, dbname, identifier = cfg.username, cfg.database_name, self.instance_identifier
        fields = pulumi.Output.all(password.result, instance.address).apply(
            lambda values: {
                "username": username,
                "password": values[0],
                "host": values[1],
                "port": PORT,
                "dbname": dbname,
                "engine": "postgres",
                "dbInstanceIdentifier": identifier,
                "url": database_url(username, values[0], values[1], dbname),
            }
        )
        secret, version = connection_secret(
            name,
            d,
            SECRET_KEY,
            args.secrets_kms_key_arn,
            f"PostgreSQL connection of {d.prefix} (JSON: username, password, host, port, dbname, url)",
            fields,
            self,
        )
        self.secret_arn = secret.arn
        # Known once the instance is up and its connection is stored: what the app services wait for (their
        # `triggers`), and what changes when the password or the address does (the tasks must restart).
        self.secret_version_id = version.version_id

    def _task_interface(self, cfg: PostgresConfig) -> None:
        """What the app's tasks get: single keys of the secret (``ecs_secrets``) and plain env values."""
        d = self._deployment
        self.ecs_secrets = json_key_references(d, SECRET_KEY, ECS_SECRETS)
        self.env = {
            "DATABASE_PORT": str(PORT),
            "DATABASE_NAME": cfg.database_name,
            "DATABASE_USER": cfg.username,
            "DATABASE_SSLMODE": SSL_MODE,
        }
        self.secret_arn_patterns = [d.secret_arn_pattern(SECRET_KEY)]
