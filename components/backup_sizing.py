"""The restore and drill tasks' ephemeral storage, from the most the database can grow to.

The restore downloads the whole dump before ``pg_restore`` reads it (its SHA-256 is checked first); the
backup streams and needs no disk. Measured with ``python -m scripts.benchmark --backup-size-gb 1`` (README,
"Backup and restore, measured"): the dump of a generated 0.94 GiB database was 0.138 of its
``pg_database_size``. Sized at ``DUMP_SIZING_RATIO`` of ``postgres.maxAllocatedStorageGb`` (3.6 times the
measured ratio: real rows may hold less compressible values than generated ones), plus headroom for the
image, which shares the ephemeral storage: docs/decisions/backup-task-size.md.
"""

from __future__ import annotations

import math

MEASURED_DUMP_RATIO = 0.138
DUMP_SIZING_RATIO = 0.5
# The pulled and the unpacked image live on the same storage ("The pulled, compressed, and the
# uncompressed container image for the task is stored on the ephemeral storage", Amazon ECS Developer
# Guide, "Fargate task ephemeral storage", docs.aws.amazon.com/AmazonECS/latest/developerguide/
# fargate-task-storage.html); the pg-backup image is about 0.1 GiB, the rest is for the task's small files.
HEADROOM_GIB = 2
# "By default ... receive a minimum of 20 GiB of ephemeral storage"; ephemeralStorage.sizeInGiB: "The
# minimum supported value is 21 GiB and the maximum supported value is 200 GiB" (Amazon ECS API
# Reference, EphemeralStorage, docs.aws.amazon.com/AmazonECS/latest/APIReference/API_EphemeralStorage.html).
FARGATE_DEFAULT_GIB = 20
FARGATE_MAX_GIB = 200


def restore_storage_gib(max_database_gb: int) -> int:
    """The storage a restore of a ``max_database_gb`` database needs (GiB, at least Fargate's default)."""
    return max(FARGATE_DEFAULT_GIB, math.ceil(max_database_gb * DUMP_SIZING_RATIO + HEADROOM_GIB))


def largest_restorable_gb() -> int:
    """The largest database whose dump the restore task's storage can hold."""
    return math.floor((FARGATE_MAX_GIB - HEADROOM_GIB) / DUMP_SIZING_RATIO)
