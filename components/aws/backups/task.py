"""The pg-backup image, the task log groups and the ``backup`` / ``restore`` task definitions.

Both tasks run with a read-only root file system; PGHOST/PGPASSWORD come from the DATABASE secret through
``secrets``, everything else is literal ``environment`` (the policy pack reads it at preview).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ...backup_sizing import FARGATE_DEFAULT_GIB, restore_storage_gib
from ...common import Deployment, child
from ..cluster import CPU_ARCHITECTURES, BuiltImage
from .iam import TaskRole
from .naming import BACKUP_PREFIX, CONTAINER, SSL_MODE

# pg_dump --compress=9 is CPU bound: half a vCPU; the dump streams to S3, so memory stays small (the
# measured peak of the script, pg_dump/pg_restore and the AWS CLI together: 124 MiB, README "Backup and
# restore, measured"); 1 GiB is the least Fargate gives half a vCPU.
TASK_CPU, TASK_MEMORY = 512, 1024
# The restore downloads the whole dump before pg_restore reads it: storage from the database's ceiling
# (components/backup_sizing.py).
# ... into a task volume (its root file system is read-only) mounted where the image declares
# `VOLUME /var/lib/pg-backup`, owned by the image's user: ECS gives the volume that owner and mode.
RESTORE_SCRATCH_VOLUME = "restore-scratch"
RESTORE_WORKDIR = "/var/lib/pg-backup"
# The backup writes only small files there (its SHA-256, the manifest), in the task's default storage.
BACKUP_SCRATCH_VOLUME = "backup-scratch"


@dataclass(frozen=True)
class TaskEnvironment:
    """What both containers are given: literal environment and the two secret references."""

    common: dict[str, str]
    secrets: list[dict[str, str]]


def task_environment(
    d: Deployment, bucket: str, database: str, user: str, port: int, secret_key: str
) -> TaskEnvironment:
    return TaskEnvironment(
        common={
            "AWS_REGION": d.region,
            "BACKUP_BUCKET": bucket,
            "BACKUP_PREFIX": BACKUP_PREFIX,
            "PGDATABASE": database,
            "PGPORT": str(port),
            "PGSSLMODE": SSL_MODE,
            "PGUSER": user,
        },
        secrets=[
            {"name": "PGHOST", "valueFrom": d.secret_arn(secret_key, "host")},
            {"name": "PGPASSWORD", "valueFrom": d.secret_arn(secret_key, "password")},
        ],
    )


def container(
    d: Deployment,
    image_ref: str,
    environment: dict[str, str],
    secrets: list[dict[str, str]],
    log_group: str,
    stream_prefix: str,
    mount_points: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The pg-backup container definition (read-only root, awslogs, an init process)."""
    definition: dict[str, Any] = {
        "name": CONTAINER,
        "image": image_ref,
        "essential": True,
        "privileged": False,
        "readonlyRootFilesystem": True,
        "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
        "secrets": secrets,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": d.region,
                "awslogs-stream-prefix": stream_prefix,
            },
        },
        # Forwards SIGTERM from `ecs stop-task` to pg_dump/aws so that they stop cleanly.
        "linuxParameters": {"initProcessEnabled": True},
        "stopTimeout": 60,
    }
    if mount_points is not None:
        definition["mountPoints"] = mount_points
    return definition


def backup_container(
    d: Deployment,
    image_ref: str,
    env: TaskEnvironment,
    log_group: str,
    kms_alias_arn: str,
    drill_max_age_seconds: int,
):
    """MODE backup: pg_dump streams into `aws s3 cp -` (the dump never touches the disk); the scratch
    volume holds its checksum and manifest. After its dump it reports whether the drill is stale."""
    return container(
        d,
        image_ref,
        {
            **env.common,
            "MODE": "backup",
            "BACKUP_KMS_KEY_ID": kms_alias_arn,
            "WORKDIR": RESTORE_WORKDIR,
            "DRILL_MAX_AGE_SECONDS": str(drill_max_age_seconds),
        },
        env.secrets,
        log_group,
        "backup",
        mount_points=[
            {"sourceVolume": BACKUP_SCRATCH_VOLUME, "containerPath": RESTORE_WORKDIR, "readOnly": False}
        ],
    )


def restore_container(d: Deployment, image_ref: str, env: TaskEnvironment, log_group: str):
    """MODE restore: the dump is downloaded into the scratch volume (the task's ephemeral storage).

    A Fargate bind mount is root-owned 0755 unless the image declares the path as a VOLUME owned by its
    user, which images/pg-backup does for RESTORE_WORKDIR (10001:10001, 0700). The image's entrypoint
    (the script) stays: a container ``command`` is its mode, and the script creates a missing target.
    """
    return container(
        d,
        image_ref,
        {**env.common, "MODE": "restore", "RESTORE_WORKDIR": RESTORE_WORKDIR},
        env.secrets,
        log_group,
        "restore",
        mount_points=[
            {"sourceVolume": RESTORE_SCRATCH_VOLUME, "containerPath": RESTORE_WORKDIR, "readOnly": False}
        ],
    )


def drill_container(d: Deployment, image_ref: str, env: TaskEnvironment, log_group: str, kms_alias_arn: str):
    """MODE drill: the restore container (scratch volume and logs, stream prefix ``drill``) that restores
    the newest dump into a scratch database, checks it against its manifest, drops it and records its
    success (encrypted with the backups key, like the dumps)."""
    definition = restore_container(d, image_ref, env, log_group)
    environment = {e["name"]: e["value"] for e in definition["environment"]}
    environment.update(MODE="drill", BACKUP_KMS_KEY_ID=kms_alias_arn)
    definition["environment"] = [{"name": k, "value": v} for k, v in sorted(environment.items())]
    definition["logConfiguration"]["options"]["awslogs-stream-prefix"] = "drill"
    return definition


def log_group(parent: pulumi.Resource, d: Deployment, name: str, role: str, group: str, days: int, key):
    return aws.cloudwatch.LogGroup(
        f"{name}-{role}-logs",
        name=group,
        retention_in_days=days,
        kms_key_id=key.arn,
        tags=d.tags(role=role),
        opts=child(parent),
    )


def task_definition(
    parent: pulumi.Resource,
    d: Deployment,
    name: str,
    role: str,
    family: str,
    definition: dict[str, Any],
    image: BuiltImage,
    execution: TaskRole,
    task_role: TaskRole,
    logs: aws.cloudwatch.LogGroup,
    **extra: Any,
) -> aws.ecs.TaskDefinition:
    """A Fargate task definition of one pg-backup container; it waits for its image, logs and rights."""
    return aws.ecs.TaskDefinition(
        f"{name}-{role}-task",
        family=family,
        container_definitions=json.dumps([definition], sort_keys=True),
        task_role_arn=task_role.role.arn,
        tags=d.tags(role=role),
        opts=child(parent, depends_on=[*image.dependencies, logs, *execution.policies, *task_role.policies]),
        cpu=str(TASK_CPU),
        memory=str(TASK_MEMORY),
        network_mode="awsvpc",
        requires_compatibilities=["FARGATE"],
        execution_role_arn=execution.role.arn,
        runtime_platform={
            "operating_system_family": "LINUX",
            "cpu_architecture": CPU_ARCHITECTURES[image.platform],
        },
        **extra,
    )


def backup_storage() -> dict[str, Any]:
    return {"volumes": [{"name": BACKUP_SCRATCH_VOLUME}]}


def restore_storage(max_database_gb: int) -> dict[str, Any]:
    """The restore (and drill) task's scratch volume, and ephemeral storage beyond Fargate's default when a
    dump of the largest database the stack allows needs it."""
    size = restore_storage_gib(max_database_gb)
    storage: dict[str, Any] = {"volumes": [{"name": RESTORE_SCRATCH_VOLUME}]}
    if size > FARGATE_DEFAULT_GIB:
        storage["ephemeral_storage"] = {"size_in_gib": size}
    return storage
