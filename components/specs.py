"""What the AWS and Docker platforms agree on: secret variable names, data-store ports and credential
shapes, the backup layout and the tasks' writable scratch space. Both rooms import it; neither imports the
other."""

from __future__ import annotations

from .common import Deployment

# The names live in a leaf module so that config validation can read them; re-exported here.
from .variables import GENERATED as GENERATED
from .variables import POSTGRES_ECS_SECRETS as POSTGRES_ECS_SECRETS
from .variables import POSTGRES_SECRET_KEY as POSTGRES_SECRET_KEY
from .variables import REDIS_ECS_SECRETS as REDIS_ECS_SECRETS
from .variables import REDIS_SECRET_KEY as REDIS_SECRET_KEY
from .variables import TASK_TMP as TASK_TMP
from .variables import WRITABLE_HOME_ENV as WRITABLE_HOME_ENV
from .variables import reserved_names as reserved_names

GENERATED_BYTES = 32

POSTGRES_PORT = 5432
# RDS rejects '/', '@', '"' and spaces in the master password; '-' and '_' are also URL-safe.
POSTGRES_PASSWORD_SPECIALS = "-_"
POSTGRES_PASSWORD_LENGTH = 32

REDIS_PORT = 6379
# AUTH tokens: 16-128 printable characters without '/', '"' or '@'; alphanumeric only is the safe subset.
REDIS_AUTH_TOKEN_LENGTH = 64

# Backups: key prefix of the dumps (the image's default): <prefix><database>/YYYY/MM/DD/<database>-<ts>.dump
BACKUP_PREFIX = "postgres/"
BACKUP_IMAGE_CONTEXT = "images/pg-backup"
BACKUP_IMAGE_REPOSITORY = "pg-backup"
NONCURRENT_VERSION_DAYS = 7


def backup_bucket_name(d: Deployment) -> str:
    return f"{d.prefix}-backups-{d.account_id}"
