"""The ``Backups`` component: a table of contents over the modules of this package."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from ...common import Deployment, child
from ...schedule import drill_max_age_seconds
from ..cluster import BuiltImage, BuiltImageArgs
from .alarms import drill_stale, drill_succeeded, dump_missing, schedule_failed, task_failed
from .args import BackupsArgs, validate
from .bucket import DumpBucket, access_log_bucket, dump_bucket, key_policy, kms_key
from .commands import restore_overrides, run_task_command
from .iam import backup_role_spec, drill_role_spec, execution_role, restore_role_spec, task_role
from .naming import (
    BACKUP_PREFIX,
    IMAGE_CONTEXT,
    IMAGE_PLATFORM,
    IMAGE_REPOSITORY,
    TYPE_TOKEN,
    access_log_bucket_name,
    bucket_name,
)
from .replication import Replica
from .schedule import BackupSchedule
from .task import (
    backup_container,
    backup_storage,
    drill_container,
    log_group,
    restore_container,
    restore_storage,
    task_definition,
    task_environment,
)


class Backups(pulumi.ComponentResource):
    """A daily pg_dump to S3, its alarms, and an on-demand restore task (see the package docstring).

    Plain: ``bucket`` (name), ``access_log_bucket`` (name), ``schedule_name``, ``backup_family``,
    ``restore_family``, ``log_group_name``, ``restore_log_group_name``, ``image_ref``, ``kms_alias_arn``,
    ``replica_region``. Outputs: ``bucket_name``, ``bucket_arn``, ``kms_key_arn``, ``task_definition_arn``,
    ``restore_task_definition_arn``, ``restore_command``, ``backup_now_command``, ``replica_bucket_name``
    (production only, else None)."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    restore_task_definition_arn: pulumi.Output[str]
    restore_command: pulumi.Output[str]
    backup_now_command: pulumi.Output[str]
    replica_bucket_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: BackupsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__(TYPE_TOKEN, name, None, opts)
        self._name, self._args = name, args
        d = self._deployment = args.deployment
        self._names(d)
        key = self._storage()
        self._replica(key)
        self._image()
        log_groups = self._log_groups(key)
        backup_task = self._tasks(key, log_groups)
        schedule = self._schedule(key, backup_task)
        self._alarms(log_groups, schedule)
        self._commands()
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

    def _names(self, d: Deployment) -> None:
        """Every literal name and ARN the resources, the pack and the operator commands share."""
        region, account, partition = d.region, d.account_id, d.partition
        self.bucket = bucket_name(d)
        self.access_log_bucket = access_log_bucket_name(d)
        self.schedule_name = f"{d.prefix}-backup"
        self.backup_family = f"{d.prefix}-backup"
        self.restore_family = f"{d.prefix}-restore"
        self.drill_family = f"{d.prefix}-drill"
        self.log_group_name = f"/ecs/{d.prefix}/backup"
        self.restore_log_group_name = f"/ecs/{d.prefix}/restore"
        self.kms_alias_name = f"alias/{d.prefix}/backups"
        self.kms_alias_arn = f"arn:{partition}:kms:{region}:{account}:{self.kms_alias_name}"
        self.replica_region = self._args.config.copy_region if d.is_production else None
        self._cluster_arn = f"arn:{partition}:ecs:{region}:{account}:cluster/{self._args.cluster_name}"
        self._family_arn = f"arn:{partition}:ecs:{region}:{account}:task-definition/{self.backup_family}"
        self._log_group_arns = [
            f"arn:{partition}:logs:{region}:{account}:log-group:{group}"
            for group in (self.log_group_name, self.restore_log_group_name)
        ]

    def _storage(self) -> aws.kms.Key:
        """The backups key (dumps, task logs, the schedule) and the dump bucket with its access logs."""
        d, name = self._deployment, self._name
        key = kms_key(
            self,
            d,
            f"{name}-kms",
            "backups",
            f"S3 backups (pg_dump), backup/restore task logs and the backup schedule of {d.prefix}",
            key_policy(d, self._log_group_arns),
        )
        self.kms_key_arn = key.arn
        logs = access_log_bucket(self, d, f"{name}-access-logs", self.access_log_bucket, self.bucket)
        self._dump_bucket: DumpBucket = dump_bucket(
            self, d, f"{name}-bucket", self.bucket, "backups", key, self._args.config.retention_days, logs
        )
        self.bucket_name = self._dump_bucket.resource.bucket
        self.bucket_arn = self._dump_bucket.resource.arn
        return key

    def _replica(self, key: aws.kms.Key) -> None:
        self.replica_bucket_name = None
        if self.replica_region is None:
            return
        replica = Replica(
            self,
            self._deployment,
            self._name,
            self._dump_bucket,
            key,
            self._args.config.retention_days,
            self.replica_region,
            self._args.alarm_topic_arn,
        )
        self.replica_provider = replica.provider
        self.replica_bucket_name = replica.bucket.resource.bucket

    def _image(self) -> None:
        """The pg-backup image; its pg_dump is the RDS major version (build arg PG_MAJOR)."""
        self.image = BuiltImage(
            f"{self._name}-image",
            BuiltImageArgs(
                deployment=self._deployment,
                repository=IMAGE_REPOSITORY,
                context=IMAGE_CONTEXT,
                platform=IMAGE_PLATFORM,
                build_args={"PG_MAJOR": str(self._args.postgres_major_version)},
            ),
            opts=child(self),
        )
        self.image_ref = self.image.image_ref

    def _log_groups(self, key: aws.kms.Key) -> dict[str, aws.cloudwatch.LogGroup]:
        d, days = self._deployment, self._args.log_retention_days
        return {
            role: log_group(self, d, self._name, role, group, days, key)
            for role, group in (("backup", self.log_group_name), ("restore", self.restore_log_group_name))
        }

    def _tasks(
        self, key: aws.kms.Key, log_groups: dict[str, aws.cloudwatch.LogGroup]
    ) -> aws.ecs.TaskDefinition:
        """The execution role, the two task roles and the backup/restore task definitions."""
        d, name, args = self._deployment, self._name, self._args
        execution = execution_role(
            self,
            d,
            name,
            args.database_secret_name,
            args.secrets_kms_key_arn,
            self.image.repository_arn,
            self._log_group_arns,
        )
        backup_role = task_role(self, d, name, key, backup_role_spec(d, args.database_name))
        restore_role = task_role(self, d, name, key, restore_role_spec(d))
        drill_role = task_role(self, d, name, key, drill_role_spec(d, args.database_name))
        secret_key = args.database_secret_name[len(d.secret_name("")) :]
        env = task_environment(
            d, self.bucket, args.database_name, args.database_user, args.database_port, secret_key
        )
        self.backup_container = backup_container(
            d, self.image_ref, env, self.log_group_name, self.kms_alias_arn, self._drill_max_age()
        )
        self.restore_container = restore_container(d, self.image_ref, env, self.restore_log_group_name)
        backup_task = task_definition(
            self,
            d,
            name,
            "backup",
            self.backup_family,
            self.backup_container,
            self.image,
            execution,
            backup_role,
            log_groups["backup"],
            **backup_storage(),
        )
        restore_task = task_definition(
            self,
            d,
            name,
            "restore",
            self.restore_family,
            self.restore_container,
            self.image,
            execution,
            restore_role,
            log_groups["restore"],
            **restore_storage(args.max_database_size_gb),
        )
        self.drill_container = drill_container(
            d, self.image_ref, env, self.restore_log_group_name, self.kms_alias_arn
        )
        self._drill_task = task_definition(
            self,
            d,
            name,
            "drill",
            self.drill_family,
            self.drill_container,
            self.image,
            execution,
            drill_role,
            log_groups["restore"],
            **restore_storage(args.max_database_size_gb),
        )
        self.task_definition_arn = backup_task.arn
        self.restore_task_definition_arn = restore_task.arn
        return backup_task

    def _drill_max_age(self) -> int:
        """The drill's longest interval plus a day (the config refuses a schedule without one)."""
        limit = drill_max_age_seconds(self._args.config.drill.schedule)
        assert limit is not None, "validated by BackupsConfig"
        return limit

    def _schedule(self, key: aws.kms.Key, backup_task: aws.ecs.TaskDefinition) -> BackupSchedule:
        args = self._args
        return BackupSchedule(
            self,
            self._deployment,
            self._name,
            schedule_name=self.schedule_name,
            expression=args.config.schedule,
            description=f"Daily pg_dump of {args.database_name} to s3://{self.bucket}/{BACKUP_PREFIX}",
            key=key,
            cluster_arn=args.cluster_arn,
            cluster_name=args.cluster_name,
            family_arn=self._family_arn,
            task_definition=backup_task,
            drill=(args.config.drill.schedule, self._drill_task),
            subnet_ids=args.subnet_ids,
            security_group_id=args.security_group_id,
        )

    def _alarms(self, log_groups: dict[str, aws.cloudwatch.LogGroup], schedule: BackupSchedule) -> None:
        backup_logs, restore_logs = log_groups["backup"], log_groups["restore"]
        d, name, args = self._deployment, self._name, self._args
        topic = args.alarm_topic_arn
        task_failed(
            self,
            d,
            name,
            family=self.backup_family,
            cluster_arn=self._cluster_arn,
            family_arn=self._family_arn,
            log_group=self.log_group_name,
            topic_arn=topic,
        )
        hours, cfg = args.config.missing_dump_alarm_hours, args.config
        dump_missing(
            self,
            d,
            name,
            hours=hours,
            description=(
                f"No verified pg_dump of {args.database_name} reached s3://{self.bucket} in {hours} hours "
                f"(schedule {cfg.schedule} UTC). Check {self.log_group_name} and the schedule's DLQ."
            ),
            log_group_name=self.log_group_name,
            log_group=backup_logs,
            topic_arn=topic,
        )
        schedule_failed(self, d, name, family=self.backup_family, dlq=schedule.dlq, topic_arn=topic)
        drill_arn = self._family_arn.rsplit("/", 1)[0] + f"/{self.drill_family}"
        task_failed(
            self,
            d,
            name,
            family=self.drill_family,
            cluster_arn=self._cluster_arn,
            family_arn=drill_arn,
            log_group=self.restore_log_group_name,
            topic_arn=topic,
            what="drill",
        )
        drill_succeeded(self, d, name, log_group_name=self.restore_log_group_name, log_group=restore_logs)
        days = self._drill_max_age() / 86400
        drill_stale(
            self,
            d,
            name,
            description=(
                f"No successful restore drill of {args.database_name} for more than {days:g} days (schedule "
                f"{cfg.drill.schedule} UTC, plus a day), found by the daily backup. Check the drill task's "
                f"logs in {self.restore_log_group_name} (stream prefix drill) and run it by hand (README)."
            ),
            log_group_name=self.log_group_name,
            log_group=backup_logs,
            topic_arn=topic,
        )

    def _commands(self) -> None:
        """``aws ecs run-task`` commands that start a backup now or a restore, as the schedule would."""
        d, args = self._deployment, self._args
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
