"""IAM of the backup and restore tasks: one execution role, a task role each, and their policy documents.

Each right is scoped to the dump prefix, the one DATABASE secret, and KMS use through one service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ...common import Deployment, assume_role_policy, child, policy_json
from .naming import BACKUP_PREFIX, bucket_name, drill_record_key


@dataclass(frozen=True)
class TaskRole:
    role: aws.iam.Role
    # The role's inline policies: a task definition waits for them.
    policies: list[aws.iam.RolePolicy]


def kms_grant(
    sid: str, actions: list[str], key_arn: str, via_service: str, context: list[str] | None
) -> dict:
    """Allow ``actions`` on one key, only through ``via_service``, only for the S3 ARNs in ``context``."""
    condition: dict[str, Any] = {"StringEquals": {"kms:ViaService": via_service}}
    if context:
        condition["StringLike"] = {"kms:EncryptionContext:aws:s3:arn": context}
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": key_arn, "Condition": condition}


def backup_task_s3_policy(bucket_arn: str, database: str) -> str:
    """The backup task's S3 rights: only this database's dump prefix, and nothing that destroys data.

    The bucket is versioned and ``s3:DeleteObjectVersion`` is granted only under ``incoming/`` (the
    temporary key of an upload in progress, never a dump), so neither an overwrite nor a delete by this role
    can destroy an existing dump (a delete only adds a delete marker).
    """
    objects = f"{bucket_arn}/{BACKUP_PREFIX}{database}/*"
    incoming = f"{bucket_arn}/{BACKUP_PREFIX}{database}/incoming/*"
    return policy_json(
        {
            # The drill's staleness check after each dump: with no drill record yet it lists this
            # database's dumps for the oldest one (and a missing record answers 404, not 403).
            "Sid": "ListDumpsForDrillAge",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": f"{BACKUP_PREFIX}{database}/*"}},
        },
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
            # GetObject: `aws s3api head-object` verifies the upload (HeadObject is authorised by GetObject),
            # and the drill record is read.
            "Sid": "VerifyDump",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": objects,
        },
        {
            # DeleteObject: `aws s3 rm` of a final dump whose check failed (a delete marker hides it).
            "Sid": "RemoveTruncatedDump",
            "Effect": "Allow",
            "Action": "s3:DeleteObject",
            "Resource": objects,
        },
        {
            # The temporary upload is removed with its version, so no hidden partial version stays behind.
            "Sid": "DiscardTemporaryUpload",
            "Effect": "Allow",
            "Action": "s3:DeleteObjectVersion",
            "Resource": incoming,
        },
    )


def restore_task_s3_policy(bucket_arn: str) -> str:
    """The restore task only reads dumps: head-object and download are GetObject; listing the dump prefix
    finds the newest one (the drill)."""
    return policy_json(*_read_dumps(bucket_arn))


def drill_task_s3_policy(bucket_arn: str, database: str) -> str:
    """The drill reads dumps like the restore and writes exactly one object: its success record."""
    return policy_json(
        *_read_dumps(bucket_arn),
        {
            "Sid": "RecordDrillSuccess",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{drill_record_key(database)}",
        },
    )


def _read_dumps(bucket_arn: str) -> list[dict[str, Any]]:
    return [
        {
            "Sid": "ReadDumps",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"{bucket_arn}/{BACKUP_PREFIX}*",
        },
        {
            "Sid": "ListDumps",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": f"{BACKUP_PREFIX}*"}},
        },
    ]


def execution_policy(
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


def ecs_trust(d: Deployment) -> str:
    """ECS tasks of this account (and region) may assume the role."""
    return assume_role_policy(
        "ecs-tasks.amazonaws.com",
        StringEquals={"aws:SourceAccount": d.account_id},
        ArnLike={"aws:SourceArn": f"arn:{d.partition}:ecs:{d.region}:{d.account_id}:*"},
    )


def execution_role(
    parent: pulumi.Resource,
    d: Deployment,
    name: str,
    database_secret_name: str,
    secrets_kms_key_arn: pulumi.Input[str],
    repository_arn: str,
    log_group_arns: Sequence[str],
) -> TaskRole:
    """The execution role of both tasks: image, logs, the DATABASE secret (its key via Secrets Manager)."""
    role = aws.iam.Role(
        f"{name}-execution-role",
        name=f"{d.prefix}-backup-execution",
        description=f"ECS execution role of the {d.prefix} backup/restore tasks: image, logs, DB secret",
        assume_role_policy=ecs_trust(d),
        tags=d.tags(),
        opts=child(parent),
    )
    via_secrets = f"secretsmanager.{d.region}.amazonaws.com"
    policies = [
        aws.iam.RolePolicy(
            f"{name}-execution-policy",
            name="pull-logs-database-secret",
            role=role.id,
            policy=execution_policy(d, database_secret_name, repository_arn, log_group_arns),
            opts=child(parent),
        ),
        aws.iam.RolePolicy(
            f"{name}-execution-kms-policy",
            name="decrypt-database-secret",
            role=role.id,
            policy=pulumi.Output.from_input(secrets_kms_key_arn).apply(
                lambda arn: policy_json(
                    kms_grant("DecryptDatabaseSecret", ["kms:Decrypt"], arn, via_secrets, None)
                )
            ),
            opts=child(parent),
        ),
    ]
    return TaskRole(role, policies)


@dataclass(frozen=True)
class TaskRoleSpec:
    """One task role: its logical/physical name, what it is for, its S3 document and its KMS grant."""

    slug: str  # `backup-task` -> logical `<name>-backup-task-role`, physical `<prefix>-backup-task`
    description: str
    s3_policy_name: str
    s3_policy: str
    kms_policy_name: str
    kms_sid: str
    kms_actions: list[str]


def task_role(
    parent: pulumi.Resource, d: Deployment, name: str, key: aws.kms.Key, spec: TaskRoleSpec
) -> TaskRole:
    """A task role with one S3 policy and one KMS grant on the backups key (through S3, this bucket only)."""
    role = aws.iam.Role(
        f"{name}-{spec.slug}-role",
        name=f"{d.prefix}-{spec.slug}",
        description=spec.description,
        assume_role_policy=ecs_trust(d),
        tags=d.tags(),
        opts=child(parent),
    )
    bucket_arn = f"arn:{d.partition}:s3:::{bucket_name(d)}"
    via_s3, context = f"s3.{d.region}.amazonaws.com", [bucket_arn, f"{bucket_arn}/*"]
    policies = [
        aws.iam.RolePolicy(
            f"{name}-{spec.slug}-s3-policy",
            name=spec.s3_policy_name,
            role=role.id,
            policy=spec.s3_policy,
            opts=child(parent),
        ),
        aws.iam.RolePolicy(
            f"{name}-{spec.slug}-kms-policy",
            name=spec.kms_policy_name,
            role=role.id,
            policy=key.arn.apply(
                lambda arn: policy_json(kms_grant(spec.kms_sid, spec.kms_actions, arn, via_s3, context))
            ),
            opts=child(parent),
        ),
    ]
    return TaskRole(role, policies)


def backup_role_spec(d: Deployment, database: str) -> TaskRoleSpec:
    return TaskRoleSpec(
        slug="backup-task",
        description=f"Task role of the {d.prefix} backup task: write dumps under {BACKUP_PREFIX}",
        s3_policy_name="write-dumps",
        s3_policy=backup_task_s3_policy(f"arn:{d.partition}:s3:::{bucket_name(d)}", database),
        kms_policy_name="encrypt-dumps",
        # GenerateDataKey: SSE-KMS data key of a new object; Decrypt: S3 needs it to complete a multipart
        # (streamed) upload encrypted with the key. Only through S3, only for this bucket.
        kms_sid="EncryptDumps",
        kms_actions=["kms:Decrypt", "kms:GenerateDataKey"],
    )


def restore_role_spec(d: Deployment) -> TaskRoleSpec:
    return TaskRoleSpec(
        slug="restore-task",
        description=f"Task role of the {d.prefix} restore task: read dumps under {BACKUP_PREFIX}",
        s3_policy_name="read-dumps",
        s3_policy=restore_task_s3_policy(f"arn:{d.partition}:s3:::{bucket_name(d)}"),
        kms_policy_name="decrypt-dumps",
        kms_sid="DecryptDumps",
        kms_actions=["kms:Decrypt"],
    )


def drill_role_spec(d: Deployment, database: str) -> TaskRoleSpec:
    return TaskRoleSpec(
        slug="drill-task",
        description=f"Task role of the {d.prefix} restore drill: read dumps, write the drill's record",
        s3_policy_name="read-dumps-record-drill",
        s3_policy=drill_task_s3_policy(f"arn:{d.partition}:s3:::{bucket_name(d)}", database),
        kms_policy_name="decrypt-dumps-encrypt-record",
        kms_sid="DecryptDumpsEncryptRecord",
        kms_actions=["kms:Decrypt", "kms:GenerateDataKey"],
    )
