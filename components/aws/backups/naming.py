"""Constants and physical names of the backups component (literal: the pack and tests read them)."""

from __future__ import annotations

import re

from ... import specs
from ...common import Deployment

COMPONENT = "Backups"
TYPE_TOKEN = "saas:backups:Backups"
CONTAINER = "pg-backup"
BACKUP_PREFIX = specs.BACKUP_PREFIX
IMAGE_CONTEXT = specs.BACKUP_IMAGE_CONTEXT
IMAGE_REPOSITORY = specs.BACKUP_IMAGE_REPOSITORY
IMAGE_PLATFORM = "linux/arm64"
SSL_MODE = "require"
NONCURRENT_VERSION_DAYS = specs.NONCURRENT_VERSION_DAYS
ABORT_MULTIPART_DAYS = 1
METRIC_SUCCEEDED = "BackupSucceeded"
METRIC_DRILL_SUCCEEDED = "DrillSucceeded"
# 1 each time the daily backup finds the drill's last success older than its limit (pg_drill_stale).
METRIC_DRILL_STALE = "DrillStale"
# S3 server access logs of each backup bucket (who read, wrote or deleted a dump), kept for a year in a log
# bucket of the same region (S3 delivers them only there, and only to SSE-S3 buckets).
ACCESS_LOG_DAYS = 365
ACCESS_LOG_PURPOSE = "s3-access-logs"
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
DB_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$")

bucket_name = specs.backup_bucket_name


def replica_bucket_name(d: Deployment, region: str) -> str:
    return f"{d.prefix}-backups-{d.account_id}-{region}"


def access_log_bucket_name(d: Deployment, region: str | None = None) -> str:
    """The server-access-log bucket of the backup bucket (``region`` None) or of its replica in ``region``."""
    base = f"{d.prefix}-s3logs-{d.account_id}"
    return f"{base}-{region}" if region else base


def drill_record_key(database: str) -> str:
    """What a successful drill writes and the daily backup reads (pg-backup.sh: drill_record_key)."""
    return f"{BACKUP_PREFIX}{database}/drill/last-success.json"


def namespace(d: Deployment) -> str:
    """The CloudWatch namespace of the backup metrics."""
    return f"{d.prefix}/Backups"
