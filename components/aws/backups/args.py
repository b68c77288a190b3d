"""The component's one Args object and its validation at construction (each error names the bad input)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from ...backup_sizing import largest_restorable_gb
from ...common import Deployment, require, require_log_retention
from ...config import BackupsConfig
from .naming import BUCKET_RE, COMPONENT, DB_RE, access_log_bucket_name, bucket_name, replica_bucket_name


@dataclass(frozen=True)
class BackupsArgs:
    deployment: Deployment
    config: BackupsConfig
    # RDS major version: the image's pg_dump must match it (build arg PG_MAJOR).
    postgres_major_version: int
    database_name: str
    database_user: str
    # Name of the JSON secret holding the connection (keys `host` and `password` are read), e.g.
    # `<app>/<environment>/DATABASE` (Postgres.secret_name), and the KMS key it is encrypted with.
    database_secret_name: str
    secrets_kms_key_arn: pulumi.Input[str]
    cluster_name: str
    cluster_arn: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    # A security group the database admits on 5432 (the app tasks' group).
    security_group_id: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    database_port: int = 5432
    log_retention_days: int = 14
    # The most the database can grow to (postgres.maxAllocatedStorageGb): sizes the restore's storage.
    max_database_size_gb: int = 100


def validate(args: BackupsArgs) -> None:
    _validate_buckets(args)
    d = args.deployment
    require(
        15 <= args.postgres_major_version <= 17,
        COMPONENT,
        "postgres_major_version",
        args.postgres_major_version,
        "must be 15, 16 or 17 (the pg-backup image's PG_MAJOR)",
    )
    require(
        bool(DB_RE.match(args.database_name)),
        COMPONENT,
        "database_name",
        args.database_name,
        "must match [A-Za-z0-9_][A-Za-z0-9_.-]* (it is part of every dump's key)",
    )
    secret_prefix = d.secret_name("")
    require(
        args.database_secret_name.startswith(secret_prefix)
        and "/" not in args.database_secret_name[len(secret_prefix) :],
        COMPONENT,
        "database_secret_name",
        args.database_secret_name,
        f"must be a secret of this deployment named {secret_prefix}<NAME>",
    )
    require(bool(args.subnet_ids), COMPONENT, "subnet_ids", list(args.subnet_ids), "give the private subnets")
    require(bool(args.cluster_name), COMPONENT, "cluster_name", args.cluster_name, "must be the ECS cluster")
    require_log_retention(args.log_retention_days, COMPONENT)
    require(
        1 <= args.max_database_size_gb <= largest_restorable_gb(),
        COMPONENT,
        "max_database_size_gb",
        args.max_database_size_gb,
        f"must be 1-{largest_restorable_gb()} (a restore's dump must fit Fargate's 200 GiB of storage)",
    )
    require(
        len(f"{d.prefix}-backup-replication") <= 64,
        COMPONENT,
        "deployment.prefix",
        d.prefix,
        "IAM role names <prefix>-backup-replication must fit 64 characters",
    )


def _validate_buckets(args: BackupsArgs) -> None:
    d, cfg = args.deployment, args.config
    names = [bucket_name(d), access_log_bucket_name(d)]
    if cfg.copy_region:
        names += [replica_bucket_name(d, cfg.copy_region), access_log_bucket_name(d, cfg.copy_region)]
    for name in names:
        require(
            bool(BUCKET_RE.match(name)) and ".." not in name,
            COMPONENT,
            "bucket name",
            name,
            "must be a valid S3 bucket name of at most 63 characters (shorten appName)",
        )
    if d.is_production:
        require(
            cfg.copy_region is not None,
            COMPONENT,
            "config.copy_region",
            cfg.copy_region,
            "production copies every dump to a second region: set backups.copyRegion",
        )
    require(
        cfg.copy_region != d.region,
        COMPONENT,
        "config.copy_region",
        cfg.copy_region,
        f"must differ from the stack's region {d.region}",
    )
