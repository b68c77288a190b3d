"""LocalBackups: the daily pg_dump of the dev stack, into the local MinIO bucket, by the same pg-backup image.

Local Docker has no scheduler service (EventBridge Scheduler runs the ECS task on AWS), so the image runs as a
long-lived container in its ``schedule`` mode: it sleeps until the next time of ``backups.schedule`` (the
same expression, in UTC), runs ``backup``, logs a failure and carries on. The dump goes to
``s3://<bucket>/postgres/<db>/YYYY/MM/DD/...`` on MinIO through ``AWS_ENDPOINT_URL``; the bucket expires
dumps after ``backups.retentionDays`` like S3 does.

On demand, from this machine (the container already has every variable)::

    docker exec <prefix>-backup pg-backup backup
    docker exec -e RESTORE_KEY=postgres/<db>/.../<db>-<ts>.dump -e RESTORE_TARGET_DATABASE=<db>_restore \\
        <prefix>-backup pg-backup restore
    docker exec <prefix>-backup pg-backup drill
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from ..common import Deployment, child, require
from ..config import BackupsConfig
from ..specs import BACKUP_IMAGE_CONTEXT as IMAGE_CONTEXT
from ..specs import BACKUP_IMAGE_REPOSITORY as IMAGE_REPOSITORY
from ..specs import BACKUP_PREFIX
from .common import RESTART, STOP_GRACE_SECONDS, built_image, env_list, labels, network_attachment
from .data import LocalObjectStore, LocalPostgres
from .network import LocalNetwork

COMPONENT = "LocalBackups"
# What pg-backup's schedule mode honours (images/pg-backup/pg-backup.sh: CRON_DAILY_RE, RATE_RE).
LOCAL_SCHEDULE_RE = re.compile(
    r"^cron\((?P<minute>[0-9]{1,2}) (?P<hour>[0-9]{1,2}) (\* \* \?|\? \* \*) \*\)$"
    r"|^rate\((?P<count>[0-9]{1,5}) (hour|hours|day|days)\)$"
)


def require_local_schedule(schedule: str) -> None:
    """One-line error unless pg-backup's schedule mode can run ``schedule``."""
    require(
        locally_supported(schedule),
        COMPONENT,
        "config.schedule",
        schedule,
        "the local scheduler (pg-backup schedule mode) runs only a daily cron(M H * * ? *) (UTC) "
        "or rate(N hours|days)",
    )


def locally_supported(schedule: str) -> bool:
    """Whether pg-backup's ``schedule`` mode can run ``schedule`` (daily cron at H:M UTC or rate(N h|d))."""
    m = LOCAL_SCHEDULE_RE.match(schedule)
    if m is None:
        return False
    if m["count"] is not None:
        return int(m["count"]) >= 1
    return int(m["minute"]) <= 59 and int(m["hour"]) <= 23


@dataclass(frozen=True)
class LocalBackupsArgs:
    deployment: Deployment
    config: BackupsConfig
    # The database's major version: the image's pg_dump must match it (build arg PG_MAJOR).
    postgres_major_version: int
    network: LocalNetwork
    postgres: LocalPostgres
    store: LocalObjectStore


class LocalBackups(pulumi.ComponentResource):
    """The pg-backup image built from ``images/pg-backup`` (PG_MAJOR) and its ``schedule`` container.

    Plain: ``container_name``, ``schedule``, ``bucket``, ``image_ref``, ``backup_now_command``,
    ``restore_command``, ``list_command``. Resource: ``container``.
    """

    def __init__(self, name: str, args: LocalBackupsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        cfg = args.config
        require_local_schedule(cfg.schedule)
        require(
            15 <= args.postgres_major_version <= 17,
            COMPONENT,
            "postgres_major_version",
            args.postgres_major_version,
            "must be 15, 16 or 17 (the pg-backup image's PG_MAJOR)",
        )
        super().__init__("saas:local:Backups", name, None, opts)
        d, db, store = args.deployment, args.postgres, args.store
        self.schedule = cfg.schedule
        self.bucket = store.bucket
        self.container_name = f"{d.prefix}-backup"

        image, self.image_ref = built_image(
            f"{name}-image",
            d,
            IMAGE_REPOSITORY,
            IMAGE_CONTEXT,
            self,
            build_args={"PG_MAJOR": str(args.postgres_major_version)},
            component=COMPONENT,
        )
        self.environment = {
            "PGHOST": db.host,
            "PGPORT": str(db.port),
            "PGDATABASE": db.database_name,
            "PGUSER": db.username,
            "PGSSLMODE": "disable",
            "BACKUP_BUCKET": store.bucket,
            "BACKUP_PREFIX": BACKUP_PREFIX,
            "BACKUP_SCHEDULE": cfg.schedule,
            "AWS_ENDPOINT_URL": store.endpoint,
            "AWS_REGION": store.region,
            "AWS_ACCESS_KEY_ID": store.access_key,
            # AWS CLI >= 2.23 adds new default checksums to every upload; S3-compatible stores are only
            # guaranteed to accept the classic behaviour (AWS's advice for third-party endpoints).
            "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
            "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
        }
        self.container = docker.Container(
            f"{name}-container",
            name=self.container_name,
            image=image.image_id,
            command=["schedule"],
            envs=env_list(
                self.environment,
                {"PGPASSWORD": db.password, "AWS_SECRET_ACCESS_KEY": store.secret_key},
            ),
            networks_advanced=[network_attachment(args.network.name)],
            # An init process forwards `docker stop` to the script, which then exits at once (143).
            init=True,
            restart=RESTART,
            destroy_grace_seconds=STOP_GRACE_SECONDS,
            labels=labels(d, role="backup"),
            opts=child(self, depends_on=[db.container, store.setup], delete_before_replace=True),
        )

        self._commands(store.bucket)
        self.register_outputs(
            {
                "containerName": self.container_name,
                "schedule": self.schedule,
                "bucket": self.bucket,
                "imageRef": self.image_ref,
                "backupNowCommand": self.backup_now_command,
                "restoreCommand": self.restore_command,
            }
        )

    def _commands(self, bucket: str) -> None:
        """The runbook's commands against the schedule container."""
        c = self.container_name
        self.backup_now_command = f"docker exec {c} pg-backup backup"
        # Like the AWS restore task: the script creates a missing target database, then restores into it.
        self.restore_command = (
            f"docker exec -e RESTORE_KEY=<RESTORE_KEY> -e RESTORE_TARGET_DATABASE=<RESTORE_TARGET_DATABASE> "
            f"{c} pg-backup restore"
        )
        self.drill_command = f"docker exec {c} pg-backup drill"
        self.list_command = f"docker exec {c} aws s3 ls --recursive s3://{bucket}/{BACKUP_PREFIX}"
        self.logs_command = f"docker logs {c}"
