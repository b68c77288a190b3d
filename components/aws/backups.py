"""Backups: a daily logical dump of PostgreSQL to S3, its alarms, and an on-demand restore task.

Seed 004 (daily full backup at 01:00 UTC, 30 days, a copy in a separate region) and seed 001 (``pg_dump``,
compressed, keep 30 days), on top of RDS point-in-time recovery (5-minute RPO, data tier).

What it creates
    * **Bucket** ``<prefix>-backups-<account>`` (literal name, so task definitions stay literal): tag
      ``purpose=backups``, versioning, SSE-KMS with its own customer key (rotation on, S3 Bucket Key),
      public access block, ``BucketOwnerEnforced``, a policy denying non-TLS access, and a lifecycle that
      expires dumps after ``backups.retentionDays``, noncurrent versions after 7 days and incomplete
      multipart uploads after 1 day. Production: ``protect`` + ``retain_on_delete`` on bucket and key;
      staging: ``force_destroy`` (a stack can be torn down).
    * **Access logs**: S3 server access logs of each backup bucket (every read, write and delete of a dump,
      with the caller) under ``<bucket name>/`` (date-partitioned keys) in a log bucket of the same region,
      ``<prefix>-s3logs-<account>[-<region>]`` (tag ``purpose=s3-access-logs``): SSE-S3 (S3 delivers access
      logs only to SSE-S3 buckets), versioned, public access block, ``BucketOwnerEnforced``, TLS-only, a
      policy admitting ``logging.s3.amazonaws.com`` for that one source bucket of this account only, logs
      expire after 365 days. The log buckets themselves are not logged (that would log into themselves).
    * **Copy (production only)**: an ``aws.Provider`` for ``backups.copyRegion`` and a replica bucket there
      (same settings, its own key, ``purpose=backups-replica``), S3 replication of every object, SSE-KMS
      objects included, delete markers replicated; a replication role limited to those two buckets/keys.
    * **Image** ``images/pg-backup`` built with the cluster's :class:`~components.aws.cluster.BuiltImage`
      (``PG_MAJOR`` = the RDS major version) into ``<prefix>/pg-backup`` with an immutable content tag.
    * **Task definitions** ``<prefix>-backup`` (MODE backup, role tag ``backup``: it streams, nothing on
      disk) and ``<prefix>-restore`` (MODE restore, role tag ``restore``: it downloads the dump into a task
      volume at ``RESTORE_WORKDIR`` ``/var/lib/pg-backup``, ``ephemeralStorage`` 100 GiB, so a dump of up to
      about 95 GiB fits), both with a read-only root file system: PGHOST/PGPASSWORD from the DATABASE
      secret through ``secrets``, everything else literal in ``environment``; one log group each
      (encrypted with the backups key); one execution role that reads exactly the DATABASE secret; a
      task role each, limited to the dump prefix (see ``_backup_task_s3_policy``). The backup uploads with
      ``BACKUP_KMS_KEY_ID`` = the key's literal alias ARN (``alias/<prefix>/backups``), the same key as the
      bucket's default SSE-KMS, so a dump is encrypted with it even if the default were changed.
    * **Schedule**: EventBridge Scheduler ``backups.schedule`` (timezone UTC) -> ECS RunTask on Fargate in
      the private subnets without a public IP, 2 retries, a dead-letter queue, encrypted with the backups
      key; its role may only run the backup family on this cluster, pass its two roles and decrypt this
      schedule (``kms:Decrypt`` with the schedule's ARN as encryption context).
    * **Alarms** to the alerting topic: (1) an EventBridge rule on ``ECS Task State Change`` STOPPED for the
      backup family with a non-zero exit code or a failed start -> SNS; (2) "no dump for
      ``backups.missingDumpAlarmHours``": a metric filter on the script's success line emits
      ``BackupSucceeded``, alarmed when its sum stays below 1 for that many hours (missing data breaching);
      (3) a message in the schedule's dead-letter queue (RunTask itself failed).

Why an EventBridge rule for failures, not a metric filter on the task's log: a task that never starts (image
pull, secret fetch, capacity) or is killed (OOM) writes no log line; the ECS event carries the exit code and
``stoppedReason`` for all of them and reaches the topic within a minute (the topic policy admits
``events.amazonaws.com``). The success metric covers everything else, including a schedule that never fired.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import specs
from ..common import Deployment, assume_role_policy, child, policy_json, require
from ..config import LOG_RETENTION_DAYS, BackupsConfig
from .cluster import CPU_ARCHITECTURES, BuiltImage, BuiltImageArgs

COMPONENT = "Backups"
CONTAINER = "pg-backup"
BACKUP_PREFIX = specs.BACKUP_PREFIX
IMAGE_CONTEXT = specs.BACKUP_IMAGE_CONTEXT
IMAGE_REPOSITORY = specs.BACKUP_IMAGE_REPOSITORY
IMAGE_PLATFORM = "linux/arm64"
SSL_MODE = "require"
NONCURRENT_VERSION_DAYS = specs.NONCURRENT_VERSION_DAYS
ABORT_MULTIPART_DAYS = 1
SCHEDULE_TIMEZONE = "UTC"
RETRY_ATTEMPTS = 2
MAX_EVENT_AGE_SECONDS = 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
# pg_dump --compress=9 is CPU bound: half a vCPU; the dump streams to S3, so memory stays small.
TASK_CPU, TASK_MEMORY = 512, 1024
# The restore downloads the whole dump before pg_restore reads it (Fargate default is 20 GiB).
RESTORE_EPHEMERAL_STORAGE_GIB = 100
# ... into a task volume (its root file system is read-only) mounted where the image declares
# `VOLUME /var/lib/pg-backup`, owned by the image's user: ECS gives the volume that owner and mode.
RESTORE_SCRATCH_VOLUME = "restore-scratch"
RESTORE_WORKDIR = "/var/lib/pg-backup"
METRIC_SUCCEEDED = "BackupSucceeded"
# S3 server access logs of each backup bucket (who read, wrote or deleted a dump), kept for a year in a log
# bucket of the same region (S3 delivers them only there, and only to SSE-S3 buckets).
ACCESS_LOG_DAYS = 365
ACCESS_LOG_PURPOSE = "s3-access-logs"
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_DB_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$")


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


bucket_name = specs.backup_bucket_name


def replica_bucket_name(d: Deployment, region: str) -> str:
    return f"{d.prefix}-backups-{d.account_id}-{region}"


def access_log_bucket_name(d: Deployment, region: str | None = None) -> str:
    """The server-access-log bucket of the backup bucket (``region`` None) or of its replica in ``region``."""
    base = f"{d.prefix}-s3logs-{d.account_id}"
    return f"{base}-{region}" if region else base


def _validate(args: BackupsArgs) -> None:
    d, cfg = args.deployment, args.config
    names = [bucket_name(d), access_log_bucket_name(d)]
    if cfg.copy_region:
        names += [replica_bucket_name(d, cfg.copy_region), access_log_bucket_name(d, cfg.copy_region)]
    for name in names:
        require(
            bool(_BUCKET_RE.match(name)) and ".." not in name,
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
    require(
        15 <= args.postgres_major_version <= 17,
        COMPONENT,
        "postgres_major_version",
        args.postgres_major_version,
        "must be 15, 16 or 17 (the pg-backup image's PG_MAJOR)",
    )
    require(
        bool(_DB_RE.match(args.database_name)),
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
    require(
        args.log_retention_days in LOG_RETENTION_DAYS,
        COMPONENT,
        "log_retention_days",
        args.log_retention_days,
        f"must be a CloudWatch retention period: {', '.join(map(str, LOG_RETENTION_DAYS))}",
    )
    require(
        len(f"{d.prefix}-backup-replication") <= 64,
        COMPONENT,
        "deployment.prefix",
        d.prefix,
        "IAM role names <prefix>-backup-replication must fit 64 characters",
    )


# ---------------------------------------------------------------------------------------------------------
# Literal documents (known at preview: the policy pack and the tests read them)


def tls_only_bucket_policy(bucket_arn: str) -> str:
    """Deny every request to the bucket and its objects that does not use TLS."""
    return policy_json(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def access_log_bucket_policy(d: Deployment, log_bucket: str, source_bucket: str) -> str:
    """S3 log delivery may write the logs of ``source_bucket`` (this account) under its prefix; TLS only."""
    log_arn = f"arn:{d.partition}:s3:::{log_bucket}"
    return policy_json(
        {
            "Sid": "S3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{log_arn}/{source_bucket}/*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:{d.partition}:s3:::{source_bucket}"},
                "StringEquals": {"aws:SourceAccount": d.account_id},
            },
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [log_arn, f"{log_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )


def lifecycle_rules(retention_days: int) -> list[aws.s3.BucketLifecycleConfigurationRuleArgsDict]:
    """Expire dumps after ``retention_days`` (then their noncurrent version after 7 days), clean up."""
    everything: aws.s3.BucketLifecycleConfigurationRuleFilterArgsDict = {"prefix": ""}
    return [
        {
            "id": "expire-dumps",
            "status": "Enabled",
            "filter": everything,
            "expiration": {"days": retention_days},
            "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_VERSION_DAYS},
        },
        {
            # pg-backup streams with multipart uploads; a stopped task leaves parts behind.
            "id": "abort-incomplete-multipart-uploads",
            "status": "Enabled",
            "filter": everything,
            "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_DAYS},
        },
        {
            # Once the last noncurrent version is gone, drop the delete marker left by expiration.
            "id": "remove-expired-delete-markers",
            "status": "Enabled",
            "filter": everything,
            "expiration": {"expired_object_delete_marker": True},
        },
    ]


def _backup_task_s3_policy(bucket_arn: str, database: str) -> str:
    """The backup task's S3 rights: only this database's dump prefix, and nothing that destroys data.

    The bucket is versioned and ``s3:DeleteObjectVersion`` is not granted, so neither an overwrite nor a
    delete by this role can destroy an existing dump (a delete only adds a delete marker).
    """
    objects = f"{bucket_arn}/{BACKUP_PREFIX}{database}/*"
    return policy_json(
        {
            # PutObject: `aws s3 cp - s3://...` (a streamed multipart upload is authorised by PutObject);
            # AbortMultipartUpload: the CLI aborts its upload when pg_dump fails, instead of leaving parts
            # for the 1-day lifecycle rule.
            "Sid": "WriteDumps",
            "Effect": "Allow",
            "Action": ["s3:AbortMultipartUpload", "s3:PutObject"],
            "Resource": objects,
        },
        {
            # GetObject: `aws s3api head-object` verifies the upload (HeadObject is authorised by GetObject;
            # without s3:ListBucket a missing key answers 403 instead of 404, which fails the run the same
            # way, so ListBucket is not granted).
            "Sid": "VerifyDump",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": objects,
        },
        {
            # DeleteObject: `aws s3 rm` of a possibly truncated dump after pg_dump failed, so that no
            # incomplete object looks like a valid backup (versioning keeps it as a noncurrent version).
            "Sid": "RemoveTruncatedDump",
            "Effect": "Allow",
            "Action": "s3:DeleteObject",
            "Resource": objects,
        },
    )


def _restore_task_s3_policy(bucket_arn: str) -> str:
    """The restore task only reads dumps (head-object and download are both GetObject)."""
    return policy_json(
        {
            "Sid": "ReadDumps",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"{bucket_arn}/{BACKUP_PREFIX}*",
        }
    )


def _execution_policy(
    d: Deployment, secret_name: str, repository_arn: str, log_group_arns: Sequence[str]
) -> str:
    """Pull the pg-backup image, write the two log groups, read exactly the DATABASE secret."""
    region, account, partition = d.region, d.account_id, d.partition
    secret_pattern = f"arn:{partition}:secretsmanager:{region}:{account}:secret:{secret_name}-??????"
    return policy_json(
        {"Sid": "EcrAuth", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Sid": "EcrPull",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": repository_arn,
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{arn}:log-stream:*" for arn in log_group_arns],
        },
        {
            "Sid": "ReadDatabaseSecret",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secret_pattern,
        },
    )


def key_policy(d: Deployment, log_group_arns: Sequence[str] = ()) -> str:
    """Key policy: the account administers the key and grants its use through IAM (the task, restore and
    replication roles' policies); CloudWatch Logs may use it for exactly ``log_group_arns``."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdmin",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{d.partition}:iam::{d.account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if log_group_arns:
        statements.append(
            {
                "Sid": "CloudWatchLogs",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{d.region}.amazonaws.com"},
                "Action": [
                    "kms:Decrypt*",
                    "kms:Describe*",
                    "kms:Encrypt*",
                    "kms:GenerateDataKey*",
                    "kms:ReEncrypt*",
                ],
                "Resource": "*",
                "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": list(log_group_arns)}},
            }
        )
    return policy_json(*statements)


def _kms_policy(
    sid: str, actions: list[str], key_arn: str, via_service: str, context: list[str] | None
) -> dict:
    condition: dict[str, Any] = {"StringEquals": {"kms:ViaService": via_service}}
    if context:
        condition["StringLike"] = {"kms:EncryptionContext:aws:s3:arn": context}
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": key_arn, "Condition": condition}


def failure_event_pattern(cluster_arn: str, task_definition_family_arn: str) -> str:
    """ECS Task State Change: a backup task of this cluster stopped with a non-zero exit or never started."""
    return json.dumps(
        {
            "source": ["aws.ecs"],
            "detail-type": ["ECS Task State Change"],
            "detail": {
                "clusterArn": [cluster_arn],
                "lastStatus": ["STOPPED"],
                "taskDefinitionArn": [{"prefix": f"{task_definition_family_arn}:"}],
                "$or": [
                    {"containers": {"exitCode": [{"anything-but": 0}]}},
                    {"stopCode": ["TaskFailedToStart"]},
                ],
            },
        },
        sort_keys=True,
    )


def run_task_command(
    d: Deployment,
    cluster_name: str,
    family: str,
    subnet_ids: Sequence[str],
    security_group_id: str,
    overrides: dict[str, Any] | None = None,
) -> str:
    """The ``aws ecs run-task`` command that starts one task of ``family`` the way the schedule does."""
    network = (
        f"awsvpcConfiguration={{subnets=[{','.join(subnet_ids)}],"
        f"securityGroups=[{security_group_id}],assignPublicIp=DISABLED}}"
    )
    parts = [
        "aws ecs run-task",
        f"--region {d.region}",
        f"--cluster {cluster_name}",
        f"--task-definition {family}",
        "--launch-type FARGATE",
        f"--network-configuration '{network}'",
    ]
    if overrides is not None:
        parts.append(f"--overrides '{json.dumps(overrides, separators=(',', ':'))}'")
    return " ".join(parts)


def restore_overrides() -> dict[str, Any]:
    """Container overrides naming the dump and the target database (placeholders to replace)."""
    return {
        "containerOverrides": [
            {
                "name": CONTAINER,
                "environment": [
                    {"name": "RESTORE_KEY", "value": "<RESTORE_KEY>"},
                    {"name": "RESTORE_TARGET_DATABASE", "value": "<RESTORE_TARGET_DATABASE>"},
                ],
            }
        ]
    }


# ---------------------------------------------------------------------------------------------------------
# The component


class Backups(pulumi.ComponentResource):
    """See the module docstring. Plain: ``bucket`` (name), ``access_log_bucket`` (name), ``schedule_name``,
    ``backup_family``, ``restore_family``, ``log_group_name``, ``restore_log_group_name``, ``image_ref``,
    ``kms_alias_arn``, ``replica_region``. Outputs: ``bucket_name``, ``bucket_arn``, ``kms_key_arn``,
    ``task_definition_arn``, ``restore_task_definition_arn``, ``restore_command``, ``backup_now_command``,
    ``replica_bucket_name`` (production only, else None)."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    restore_task_definition_arn: pulumi.Output[str]
    restore_command: pulumi.Output[str]
    backup_now_command: pulumi.Output[str]
    replica_bucket_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: BackupsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(args)
        super().__init__("saas:backups:Backups", name, None, opts)
        d, cfg = args.deployment, args.config
        self._deployment = d
        self._versionings: dict[str, aws.s3.BucketVersioning] = {}
        prod = d.is_production
        region, account, partition = d.region, d.account_id, d.partition

        self.bucket = bucket_name(d)
        self.schedule_name = f"{d.prefix}-backup"
        self.backup_family = f"{d.prefix}-backup"
        self.restore_family = f"{d.prefix}-restore"
        self.log_group_name = f"/ecs/{d.prefix}/backup"
        self.restore_log_group_name = f"/ecs/{d.prefix}/restore"
        self.kms_alias_name = f"alias/{d.prefix}/backups"
        self.kms_alias_arn = f"arn:{partition}:kms:{region}:{account}:{self.kms_alias_name}"
        self.replica_region = cfg.copy_region if prod else None
        bucket_arn_literal = f"arn:{partition}:s3:::{self.bucket}"
        cluster_arn_literal = f"arn:{partition}:ecs:{region}:{account}:cluster/{args.cluster_name}"
        family_arn = f"arn:{partition}:ecs:{region}:{account}:task-definition/{self.backup_family}"
        secret_key = args.database_secret_name[len(d.secret_name("")) :]

        log_group_arns = [
            f"arn:{partition}:logs:{region}:{account}:log-group:{group}"
            for group in (self.log_group_name, self.restore_log_group_name)
        ]

        # -- storage ------------------------------------------------------------------------------------
        key = self._kms_key(
            f"{name}-kms",
            "backups",
            f"S3 backups (pg_dump), backup/restore task logs and the backup schedule of {d.prefix}",
            key_policy(d, log_group_arns),
        )
        self.kms_key_arn = key.arn
        self.access_log_bucket = access_log_bucket_name(d)
        bucket = self._bucket(
            f"{name}-bucket",
            self.bucket,
            "backups",
            key,
            cfg.retention_days,
            self._access_log_bucket(f"{name}-access-logs", self.access_log_bucket, self.bucket),
        )
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn

        self.replica_bucket_name = None
        if self.replica_region is not None:
            self._replicate(name, bucket, key, cfg.retention_days, self.replica_region)

        # -- image --------------------------------------------------------------------------------------
        self.image = BuiltImage(
            f"{name}-image",
            BuiltImageArgs(
                deployment=d,
                repository=IMAGE_REPOSITORY,
                context=IMAGE_CONTEXT,
                platform=IMAGE_PLATFORM,
                build_args={"PG_MAJOR": str(args.postgres_major_version)},
            ),
            opts=child(self),
        )
        self.image_ref = self.image.image_ref

        # -- logs ---------------------------------------------------------------------------------------
        log_groups = {
            role: aws.cloudwatch.LogGroup(
                f"{name}-{role}-logs",
                name=group,
                retention_in_days=args.log_retention_days,
                kms_key_id=key.arn,
                tags=d.tags(role=role),
                opts=child(self),
            )
            for role, group in (("backup", self.log_group_name), ("restore", self.restore_log_group_name))
        }
        # -- roles --------------------------------------------------------------------------------------
        ecs_trust = assume_role_policy(
            "ecs-tasks.amazonaws.com",
            StringEquals={"aws:SourceAccount": account},
            ArnLike={"aws:SourceArn": f"arn:{partition}:ecs:{region}:{account}:*"},
        )
        execution_role = aws.iam.Role(
            f"{name}-execution-role",
            name=f"{d.prefix}-backup-execution",
            description=f"ECS execution role of the {d.prefix} backup/restore tasks: image, logs, DB secret",
            assume_role_policy=ecs_trust,
            tags=d.tags(),
            opts=child(self),
        )
        execution_policies = [
            aws.iam.RolePolicy(
                f"{name}-execution-policy",
                name="pull-logs-database-secret",
                role=execution_role.id,
                policy=_execution_policy(
                    d, args.database_secret_name, self.image.repository_arn, log_group_arns
                ),
                opts=child(self),
            ),
            aws.iam.RolePolicy(
                f"{name}-execution-kms-policy",
                name="decrypt-database-secret",
                role=execution_role.id,
                policy=pulumi.Output.from_input(args.secrets_kms_key_arn).apply(
                    lambda arn: policy_json(
                        _kms_policy(
                            "DecryptDatabaseSecret",
                            ["kms:Decrypt"],
                            arn,
                            f"secretsmanager.{region}.amazonaws.com",
                            None,
                        )
                    )
                ),
                opts=child(self),
            ),
        ]

        via_s3 = f"s3.{region}.amazonaws.com"
        s3_context = [bucket_arn_literal, f"{bucket_arn_literal}/*"]
        backup_role = aws.iam.Role(
            f"{name}-backup-task-role",
            name=f"{d.prefix}-backup-task",
            description=f"Task role of the {d.prefix} backup task: write dumps under {BACKUP_PREFIX}",
            assume_role_policy=ecs_trust,
            tags=d.tags(),
            opts=child(self),
        )
        backup_policies = [
            aws.iam.RolePolicy(
                f"{name}-backup-task-s3-policy",
                name="write-dumps",
                role=backup_role.id,
                policy=_backup_task_s3_policy(bucket_arn_literal, args.database_name),
                opts=child(self),
            ),
            aws.iam.RolePolicy(
                f"{name}-backup-task-kms-policy",
                name="encrypt-dumps",
                role=backup_role.id,
                # GenerateDataKey: SSE-KMS data key of a new object; Decrypt: S3 needs it to complete a
                # multipart (streamed) upload encrypted with the key. Only through S3, only for this bucket.
                policy=key.arn.apply(
                    lambda arn: policy_json(
                        _kms_policy(
                            "EncryptDumps", ["kms:Decrypt", "kms:GenerateDataKey"], arn, via_s3, s3_context
                        )
                    )
                ),
                opts=child(self),
            ),
        ]
        restore_role = aws.iam.Role(
            f"{name}-restore-task-role",
            name=f"{d.prefix}-restore-task",
            description=f"Task role of the {d.prefix} restore task: read dumps under {BACKUP_PREFIX}",
            assume_role_policy=ecs_trust,
            tags=d.tags(),
            opts=child(self),
        )
        restore_policies = [
            aws.iam.RolePolicy(
                f"{name}-restore-task-s3-policy",
                name="read-dumps",
                role=restore_role.id,
                policy=_restore_task_s3_policy(bucket_arn_literal),
                opts=child(self),
            ),
            aws.iam.RolePolicy(
                f"{name}-restore-task-kms-policy",
                name="decrypt-dumps",
                role=restore_role.id,
                policy=key.arn.apply(
                    lambda arn: policy_json(
                        _kms_policy("DecryptDumps", ["kms:Decrypt"], arn, via_s3, s3_context)
                    )
                ),
                opts=child(self),
            ),
        ]

        # -- task definitions ---------------------------------------------------------------------------
        common_env = {
            "AWS_REGION": region,
            "BACKUP_BUCKET": self.bucket,
            "BACKUP_PREFIX": BACKUP_PREFIX,
            "PGDATABASE": args.database_name,
            "PGPORT": str(args.database_port),
            "PGSSLMODE": SSL_MODE,
            "PGUSER": args.database_user,
        }
        secrets = [
            {"name": "PGHOST", "valueFrom": d.secret_arn(secret_key, "host")},
            {"name": "PGPASSWORD", "valueFrom": d.secret_arn(secret_key, "password")},
        ]
        self.backup_container = self._container(
            {**common_env, "MODE": "backup", "BACKUP_KMS_KEY_ID": self.kms_alias_arn},
            secrets,
            self.log_group_name,
            "backup",
            # pg_dump streams into `aws s3 cp -`: nothing is written to disk.
            read_only_root=True,
        )
        # The restore target must exist: create it first when it does not (an "already exists" error is
        # logged and ignored), then run the image's entrypoint, which validates everything else.
        self.restore_container = self._container(
            {**common_env, "MODE": "restore", "RESTORE_WORKDIR": RESTORE_WORKDIR},
            secrets,
            self.restore_log_group_name,
            "restore",
            # The dump is downloaded into the scratch volume (the task's ephemeral storage), nowhere else.
            # A Fargate bind mount is root-owned 0755 unless the image declares the path as a VOLUME owned
            # by its user, which images/pg-backup does for RESTORE_WORKDIR (10001:10001, 0700).
            read_only_root=True,
            mount_points=[
                {"sourceVolume": RESTORE_SCRATCH_VOLUME, "containerPath": RESTORE_WORKDIR, "readOnly": False}
            ],
            entry_point=[
                "/bin/sh",
                "-c",
                'createdb --no-password -- "$RESTORE_TARGET_DATABASE" || true; exec /usr/local/bin/pg-backup',
            ],
        )
        architecture = CPU_ARCHITECTURES[self.image.platform]
        task_common: dict[str, Any] = {
            "cpu": str(TASK_CPU),
            "memory": str(TASK_MEMORY),
            "network_mode": "awsvpc",
            "requires_compatibilities": ["FARGATE"],
            "execution_role_arn": execution_role.arn,
            "runtime_platform": {"operating_system_family": "LINUX", "cpu_architecture": architecture},
        }
        backup_task = aws.ecs.TaskDefinition(
            f"{name}-backup-task",
            family=self.backup_family,
            container_definitions=json.dumps([self.backup_container], sort_keys=True),
            task_role_arn=backup_role.arn,
            tags=d.tags(role="backup"),
            opts=child(
                self,
                depends_on=[
                    *self.image.dependencies,
                    log_groups["backup"],
                    *execution_policies,
                    *backup_policies,
                ],
            ),
            **task_common,
        )
        restore_task = aws.ecs.TaskDefinition(
            f"{name}-restore-task",
            family=self.restore_family,
            container_definitions=json.dumps([self.restore_container], sort_keys=True),
            task_role_arn=restore_role.arn,
            ephemeral_storage={"size_in_gib": RESTORE_EPHEMERAL_STORAGE_GIB},
            volumes=[{"name": RESTORE_SCRATCH_VOLUME}],
            tags=d.tags(role="restore"),
            opts=child(
                self,
                depends_on=[
                    *self.image.dependencies,
                    log_groups["restore"],
                    *execution_policies,
                    *restore_policies,
                ],
            ),
            **task_common,
        )
        self.task_definition_arn = backup_task.arn
        self.restore_task_definition_arn = restore_task.arn

        # -- schedule -----------------------------------------------------------------------------------
        dlq_name = f"{d.prefix}-backup-dlq"
        dlq_arn = f"arn:{partition}:sqs:{region}:{account}:{dlq_name}"
        dlq = aws.sqs.Queue(
            f"{name}-schedule-dlq",
            name=dlq_name,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            tags=d.tags(),
            opts=child(self),
        )
        role_arn = f"arn:{partition}:iam::{account}"
        scheduler_role = aws.iam.Role(
            f"{name}-scheduler-role",
            name=f"{d.prefix}-backup-scheduler",
            description=f"EventBridge Scheduler role of {self.schedule_name}: run the backup task only",
            assume_role_policy=assume_role_policy(
                "scheduler.amazonaws.com", StringEquals={"aws:SourceAccount": account}
            ),
            tags=d.tags(),
            opts=child(self),
        )
        scheduler_policy = aws.iam.RolePolicy(
            f"{name}-scheduler-policy",
            name="run-backup-task",
            role=scheduler_role.id,
            policy=policy_json(
                {
                    "Sid": "RunBackupTask",
                    "Effect": "Allow",
                    "Action": "ecs:RunTask",
                    "Resource": f"{family_arn}:*",
                    "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn_literal}},
                },
                {
                    "Sid": "PassBackupRoles",
                    "Effect": "Allow",
                    "Action": "iam:PassRole",
                    "Resource": [
                        f"{role_arn}:role/{d.prefix}-backup-execution",
                        f"{role_arn}:role/{d.prefix}-backup-task",
                    ],
                    "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
                },
                {
                    # The schedule's dead-letter queue: an invocation that still fails after the retries.
                    "Sid": "DeadLetter",
                    "Effect": "Allow",
                    "Action": "sqs:SendMessage",
                    "Resource": dlq_arn,
                },
            ),
            opts=child(self),
        )
        # The schedule is encrypted with the backups key; Scheduler decrypts it with this role when it fires
        # (encryption context: the schedule's ARN). The key policy delegates to IAM (AccountAdmin).
        schedule_arn = f"arn:{partition}:scheduler:{region}:{account}:schedule/default/{self.schedule_name}"
        scheduler_kms_policy = aws.iam.RolePolicy(
            f"{name}-scheduler-kms-policy",
            name="decrypt-schedule",
            role=scheduler_role.id,
            policy=key.arn.apply(
                lambda arn: policy_json(
                    {
                        "Sid": "DecryptSchedule",
                        "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": arn,
                        "Condition": {
                            "ArnEquals": {"kms:EncryptionContext:aws:scheduler:schedule:arn": schedule_arn}
                        },
                    }
                )
            ),
            opts=child(self),
        )
        aws.scheduler.Schedule(
            f"{name}-schedule",
            name=self.schedule_name,
            kms_key_arn=key.arn,
            description=f"Daily pg_dump of {args.database_name} to s3://{self.bucket}/{BACKUP_PREFIX}",
            schedule_expression=cfg.schedule,
            schedule_expression_timezone=SCHEDULE_TIMEZONE,
            flexible_time_window={"mode": "OFF"},
            state="ENABLED",
            target={
                "arn": args.cluster_arn,
                "role_arn": scheduler_role.arn,
                "ecs_parameters": {
                    "task_definition_arn": backup_task.arn,
                    "launch_type": "FARGATE",
                    "task_count": 1,
                    "network_configuration": {
                        "subnets": list(args.subnet_ids),
                        "security_groups": [args.security_group_id],
                        "assign_public_ip": False,
                    },
                },
                "retry_policy": {
                    "maximum_retry_attempts": RETRY_ATTEMPTS,
                    "maximum_event_age_in_seconds": MAX_EVENT_AGE_SECONDS,
                },
                "dead_letter_config": {"arn": dlq.arn},
            },
            opts=child(self, depends_on=[scheduler_policy, scheduler_kms_policy]),
        )

        # -- alarms -------------------------------------------------------------------------------------
        failure_rule = aws.cloudwatch.EventRule(
            f"{name}-failed-rule",
            name=f"{d.prefix}-backup-failed",
            description=f"A {self.backup_family} task stopped with a non-zero exit code or failed to start",
            event_pattern=failure_event_pattern(cluster_arn_literal, family_arn),
            tags=d.tags(),
            opts=child(self),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-failed-target",
            rule=failure_rule.name,
            arn=args.alarm_topic_arn,
            input_transformer={
                "input_paths": {
                    "task": "$.detail.taskArn",
                    "stopCode": "$.detail.stopCode",
                    "reason": "$.detail.stoppedReason",
                    "exitCode": "$.detail.containers[0].exitCode",
                },
                "input_template": json.dumps(
                    f"{d.prefix}: backup task <task> failed (<stopCode>, exit code <exitCode>): <reason>. "
                    f"Logs: {self.log_group_name}"
                ),
            },
            opts=child(self),
        )
        namespace = f"{d.prefix}/Backups"
        aws.cloudwatch.LogMetricFilter(
            f"{name}-succeeded-filter",
            name=f"{d.prefix}-backup-succeeded",
            log_group_name=self.log_group_name,
            # pg-backup prints exactly one JSON line with this event after a verified upload.
            pattern='{ $.event = "pg_backup_complete" }',
            metric_transformation={"name": METRIC_SUCCEEDED, "namespace": namespace, "value": "1"},
            opts=child(self, depends_on=[log_groups["backup"]]),
        )
        hours = cfg.missing_dump_alarm_hours
        aws.cloudwatch.MetricAlarm(
            f"{name}-missing-alarm",
            name=f"{d.prefix}-backup-missing",
            alarm_description=(
                f"No verified pg_dump of {args.database_name} reached s3://{self.bucket} in {hours} hours "
                f"(schedule {cfg.schedule} UTC). Check {self.log_group_name} and the schedule's DLQ."
            ),
            namespace=namespace,
            metric_name=METRIC_SUCCEEDED,
            statistic="Sum",
            period=3600,
            evaluation_periods=hours,
            datapoints_to_alarm=hours,
            threshold=1,
            comparison_operator="LessThanThreshold",
            treat_missing_data="breaching",
            alarm_actions=[args.alarm_topic_arn],
            ok_actions=[args.alarm_topic_arn],
            tags=d.tags(),
            opts=child(self),
        )
        aws.cloudwatch.MetricAlarm(
            f"{name}-dlq-alarm",
            name=f"{d.prefix}-backup-schedule-failed",
            alarm_description=(
                f"EventBridge Scheduler could not start {self.backup_family} after {RETRY_ATTEMPTS} "
                f"retries; the failed invocation is in {dlq_name}."
            ),
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": dlq_name},
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[args.alarm_topic_arn],
            ok_actions=[args.alarm_topic_arn],
            tags=d.tags(),
            opts=child(self, depends_on=[dlq]),
        )

        # -- operator commands --------------------------------------------------------------------------
        cluster_name, backup_family, restore_family = (
            args.cluster_name,
            self.backup_family,
            self.restore_family,
        )
        network = pulumi.Output.all(pulumi.Output.all(*args.subnet_ids), args.security_group_id)
        self.backup_now_command = network.apply(
            lambda v: run_task_command(d, cluster_name, backup_family, v[0], v[1])
        )
        self.restore_command = network.apply(
            lambda v: run_task_command(d, cluster_name, restore_family, v[0], v[1], restore_overrides())
        )

        self.register_outputs(
            {
                "bucketName": self.bucket_name,
                "bucketArn": self.bucket_arn,
                "kmsKeyArn": self.kms_key_arn,
                "taskDefinitionArn": self.task_definition_arn,
                "restoreTaskDefinitionArn": self.restore_task_definition_arn,
                "scheduleName": self.schedule_name,
                "restoreCommand": self.restore_command,
                "backupNowCommand": self.backup_now_command,
                "replicaBucketName": self.replica_bucket_name,
            }
        )

    # -- helpers ------------------------------------------------------------------------------------------
    def _kms_key(
        self, name: str, purpose: str, description: str, policy: str, provider: aws.Provider | None = None
    ) -> aws.kms.Key:
        """A symmetric customer key with rotation and an alias ``alias/<prefix>/<purpose>``.

        Production: protected, and retained if the stack is ever destroyed, like the bucket whose retained
        dumps would otherwise become unreadable.
        """
        d = self._deployment
        prod = d.is_production
        key = aws.kms.Key(
            name,
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=30 if prod else 7,
            policy=policy,
            tags=d.tags(purpose=purpose),
            opts=child(self, provider=provider, protect=prod, retain_on_delete=prod),
        )
        aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{d.prefix}/{purpose}",
            target_key_id=key.key_id,
            opts=child(self, provider=provider),
        )
        return key

    def _bucket(
        self,
        name: str,
        physical_name: str,
        purpose: str,
        key: aws.kms.Key,
        retention_days: int,
        access_logs: aws.s3.BucketPolicy,
        provider: aws.Provider | None = None,
    ) -> aws.s3.Bucket:
        """A private, versioned, SSE-KMS, TLS-only bucket whose objects expire after ``retention_days``, with
        S3 server access logs to the log bucket whose policy is ``access_logs``."""
        d = self._deployment
        prod = d.is_production
        bucket = aws.s3.Bucket(
            name,
            bucket=physical_name,
            force_destroy=not prod,
            tags=d.tags(purpose=purpose, Name=physical_name),
            opts=child(self, provider=provider, protect=prod, retain_on_delete=prod),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child(self, provider=provider),
        )
        public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-pab",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(self, provider=provider),
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child(self, provider=provider),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key.arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=child(self, provider=provider),
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=tls_only_bucket_policy(f"arn:{d.partition}:s3:::{physical_name}"),
            # S3 rejects concurrent changes to a bucket's policy and its public access block.
            opts=child(self, provider=provider, depends_on=[public_access_block]),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=lifecycle_rules(retention_days),
            opts=child(self, provider=provider, depends_on=[versioning]),
        )
        aws.s3.BucketLogging(
            f"{name}-logging",
            bucket=bucket.id,
            target_bucket=access_logs.bucket,
            target_prefix=f"{physical_name}/",
            target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
            opts=child(self, provider=provider),
        )
        self._versionings[name] = versioning
        return bucket

    def _access_log_bucket(
        self, name: str, physical_name: str, source_bucket: str, provider: aws.Provider | None = None
    ) -> aws.s3.BucketPolicy:
        """The server-access-log bucket of ``source_bucket`` (same region): private, SSE-S3 (S3 delivers
        access logs to SSE-S3 buckets only), versioned, TLS-only, logs expire after ``ACCESS_LOG_DAYS``.
        Returns its bucket policy, which admits S3 log delivery for ``source_bucket`` only."""
        d = self._deployment
        log_bucket = aws.s3.Bucket(
            name,
            bucket=physical_name,
            force_destroy=not d.is_production,
            tags=d.tags(purpose=ACCESS_LOG_PURPOSE, Name=physical_name),
            opts=child(self, provider=provider),
        )
        public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-pab",
            bucket=log_bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(self, provider=provider),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=log_bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child(self, provider=provider),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse",
            bucket=log_bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child(self, provider=provider),
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=log_bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child(self, provider=provider),
        )
        everything: aws.s3.BucketLifecycleConfigurationRuleFilterArgsDict = {"prefix": ""}
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=log_bucket.id,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": everything,
                    "expiration": {"days": ACCESS_LOG_DAYS},
                    "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_VERSION_DAYS},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_DAYS},
                }
            ],
            opts=child(self, provider=provider, depends_on=[versioning]),
        )
        return aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=log_bucket.id,
            policy=access_log_bucket_policy(d, physical_name, source_bucket),
            # S3 rejects concurrent changes to a bucket's policy and its public access block.
            opts=child(self, provider=provider, depends_on=[public_access_block]),
        )

    def _replicate(
        self, name: str, source: aws.s3.Bucket, source_key: aws.kms.Key, retention_days: int, region: str
    ) -> None:
        """Production: a replica bucket in ``region`` and S3 replication of every dump to it."""
        d = self._deployment
        provider = aws.Provider(f"{name}-replica-provider", region=region, opts=child(self))
        self.replica_provider = provider
        replica_key = self._kms_key(
            f"{name}-replica-kms",
            "backups-replica",
            f"S3 backup copies of {d.prefix} (replicated from {d.region})",
            key_policy(d),
            provider,
        )
        replica_name = replica_bucket_name(d, region)
        replica_logs = self._access_log_bucket(
            f"{name}-replica-access-logs", access_log_bucket_name(d, region), replica_name, provider
        )
        replica = self._bucket(
            f"{name}-replica",
            replica_name,
            "backups-replica",
            replica_key,
            retention_days,
            replica_logs,
            provider,
        )
        self.replica_bucket_name = replica.bucket

        source_arn = f"arn:{d.partition}:s3:::{bucket_name(d)}"
        replica_arn = f"arn:{d.partition}:s3:::{replica_name}"
        role = aws.iam.Role(
            f"{name}-replication-role",
            name=f"{d.prefix}-backup-replication",
            description=f"S3 replication of {bucket_name(d)} to {replica_name}",
            assume_role_policy=assume_role_policy(
                "s3.amazonaws.com", StringEquals={"aws:SourceAccount": d.account_id}
            ),
            tags=d.tags(),
            opts=child(self),
        )
        policies = [
            aws.iam.RolePolicy(
                f"{name}-replication-s3-policy",
                name="replicate-dumps",
                role=role.id,
                policy=replication_s3_policy(source_arn, replica_arn),
                opts=child(self),
            ),
            aws.iam.RolePolicy(
                f"{name}-replication-kms-policy",
                name="replicate-dumps-kms",
                role=role.id,
                policy=pulumi.Output.all(source_key.arn, replica_key.arn).apply(
                    lambda arns: policy_json(
                        _kms_policy(
                            "DecryptSource",
                            ["kms:Decrypt"],
                            arns[0],
                            f"s3.{d.region}.amazonaws.com",
                            [source_arn, f"{source_arn}/*"],
                        ),
                        _kms_policy(
                            "EncryptReplica",
                            ["kms:Encrypt"],
                            arns[1],
                            f"s3.{region}.amazonaws.com",
                            [replica_arn, f"{replica_arn}/*"],
                        ),
                    )
                ),
                opts=child(self),
            ),
        ]
        aws.s3.BucketReplicationConfig(
            f"{name}-replication",
            bucket=source.id,
            role=role.arn,
            rules=[
                {
                    "id": f"copy-to-{region}",
                    "status": "Enabled",
                    "priority": 1,
                    "filter": {"prefix": ""},
                    "delete_marker_replication": {"status": "Enabled"},
                    "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                    "destination": {
                        "bucket": replica.arn,
                        "encryption_configuration": {"replica_kms_key_id": replica_key.arn},
                    },
                }
            ],
            # Replication needs versioning on both sides and the role's rights in place.
            opts=child(
                self,
                depends_on=[
                    self._versionings[f"{name}-bucket"],
                    self._versionings[f"{name}-replica"],
                    *policies,
                ],
            ),
        )

    def _container(
        self,
        environment: dict[str, str],
        secrets: list[dict[str, str]],
        log_group: str,
        stream_prefix: str,
        read_only_root: bool,
        entry_point: list[str] | None = None,
        mount_points: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        container: dict[str, Any] = {
            "name": CONTAINER,
            "image": self.image_ref,
            "essential": True,
            "privileged": False,
            "readonlyRootFilesystem": read_only_root,
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            "secrets": secrets,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group,
                    "awslogs-region": self._deployment.region,
                    "awslogs-stream-prefix": stream_prefix,
                },
            },
            # Forwards SIGTERM from `ecs stop-task` to pg_dump/aws so that they stop cleanly.
            "linuxParameters": {"initProcessEnabled": True},
            "stopTimeout": 60,
        }
        if entry_point is not None:
            container["entryPoint"] = entry_point
        if mount_points is not None:
            container["mountPoints"] = mount_points
        return container


def replication_s3_policy(source_arn: str, replica_arn: str) -> str:
    """Read (for replication) from the source bucket only; replicate into the replica bucket only."""
    return policy_json(
        {
            "Sid": "SourceBucket",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": source_arn,
        },
        {
            "Sid": "SourceObjects",
            "Effect": "Allow",
            "Action": [
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionTagging",
            ],
            "Resource": f"{source_arn}/*",
        },
        {
            "Sid": "ReplicaObjects",
            "Effect": "Allow",
            "Action": ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
            "Resource": f"{replica_arn}/*",
        },
    )
