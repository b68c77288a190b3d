"""Backups: a daily logical dump of PostgreSQL to S3, its alarms, and an on-demand restore task.

Seed 004 (daily full backup at 01:00 UTC, 30 days, a copy in a separate region) and seed 001 (``pg_dump``,
compressed, keep 30 days), on top of RDS point-in-time recovery (5-minute RPO, data tier). One module per
concern: ``naming`` (names, constants), ``args`` (input and validation), ``bucket`` (keys, buckets, access
logs), ``replication`` (production's copy), ``iam`` (task roles), ``task`` (image, task definitions),
``schedule``, ``alarms``, ``commands`` (operator commands), ``component`` (the table of contents).
"""

from .alarms import failure_event_pattern
from .args import BackupsArgs
from .bucket import access_log_bucket_policy, key_policy, lifecycle_rules, tls_only_bucket_policy
from .commands import restore_overrides, run_task_command
from .component import Backups
from .naming import (
    BACKUP_PREFIX,
    CONTAINER,
    IMAGE_CONTEXT,
    IMAGE_PLATFORM,
    IMAGE_REPOSITORY,
    METRIC_SUCCEEDED,
    access_log_bucket_name,
    bucket_name,
    replica_bucket_name,
)
from .replication import replication_s3_policy

__all__ = [
    "BACKUP_PREFIX",
    "CONTAINER",
    "IMAGE_CONTEXT",
    "IMAGE_PLATFORM",
    "IMAGE_REPOSITORY",
    "METRIC_SUCCEEDED",
    "Backups",
    "BackupsArgs",
    "access_log_bucket_name",
    "access_log_bucket_policy",
    "bucket_name",
    "failure_event_pattern",
    "key_policy",
    "lifecycle_rules",
    "replica_bucket_name",
    "replication_s3_policy",
    "restore_overrides",
    "run_task_command",
    "tls_only_bucket_policy",
]
