"""Storage: the customer KMS keys, the backup (and replica) buckets, and their server-access-log buckets.

Production protects and retains buckets and keys (retained dumps stay readable); elsewhere a stack can be
torn down (``force_destroy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ...common import Deployment, child, policy_json
from ..kms import logs_use_statement
from .naming import ABORT_MULTIPART_DAYS, ACCESS_LOG_DAYS, ACCESS_LOG_PURPOSE, NONCURRENT_VERSION_DAYS


@dataclass(frozen=True)
class DumpBucket:
    resource: aws.s3.Bucket
    # Replication needs versioning in place on both sides.
    versioning: aws.s3.BucketVersioning


def tls_only_bucket_policy(bucket_arn: str) -> str:
    """Deny every request to the bucket and its objects that does not use TLS."""
    return policy_json(_deny_insecure_transport(bucket_arn))


def _deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


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
        _deny_insecure_transport(log_arn),
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


def key_policy(d: Deployment, log_group_arns: list[str] | tuple[str, ...] = ()) -> str:
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
        condition = {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": list(log_group_arns)}}
        statements.append(logs_use_statement(d, "CloudWatchLogs", condition))
    return policy_json(*statements)


def kms_key(
    parent: pulumi.Resource,
    d: Deployment,
    name: str,
    purpose: str,
    description: str,
    policy: str,
    provider: aws.Provider | None = None,
) -> aws.kms.Key:
    """A symmetric customer key with rotation and an alias ``alias/<prefix>/<purpose>``."""
    prod = d.is_production
    key = aws.kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30 if prod else 7,
        policy=policy,
        tags=d.tags(purpose=purpose),
        opts=child(parent, provider=provider, protect=prod, retain_on_delete=prod),
    )
    aws.kms.Alias(
        f"{name}-alias",
        name=f"alias/{d.prefix}/{purpose}",
        target_key_id=key.key_id,
        opts=child(parent, provider=provider),
    )
    return key


def _private(parent: pulumi.Resource, name: str, bucket: aws.s3.Bucket, provider: aws.Provider | None):
    """Owner-enforced objects and a full public access block; returns the block (a policy waits for it)."""
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},
        opts=child(parent, provider=provider),
    )
    return aws.s3.BucketPublicAccessBlock(
        f"{name}-pab",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child(parent, provider=provider),
    )


def _versioned(parent: pulumi.Resource, name: str, bucket: aws.s3.Bucket, provider: aws.Provider | None):
    return aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
        opts=child(parent, provider=provider),
    )


def dump_bucket(
    parent: pulumi.Resource,
    d: Deployment,
    name: str,
    physical_name: str,
    purpose: str,
    key: aws.kms.Key,
    retention_days: int,
    access_logs: aws.s3.BucketPolicy,
    provider: aws.Provider | None = None,
) -> DumpBucket:
    """A private, versioned, SSE-KMS, TLS-only bucket whose objects expire after ``retention_days``, with
    S3 server access logs to the log bucket whose policy is ``access_logs``."""
    prod = d.is_production
    bucket = aws.s3.Bucket(
        name,
        bucket=physical_name,
        force_destroy=not prod,
        tags=d.tags(purpose=purpose, Name=physical_name),
        opts=child(parent, provider=provider, protect=prod, retain_on_delete=prod),
    )
    public_access_block = _private(parent, name, bucket, provider)
    versioning = _versioned(parent, name, bucket, provider)
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
        opts=child(parent, provider=provider),
    )
    aws.s3.BucketPolicy(
        f"{name}-policy",
        bucket=bucket.id,
        policy=tls_only_bucket_policy(f"arn:{d.partition}:s3:::{physical_name}"),
        # S3 rejects concurrent changes to a bucket's policy and its public access block.
        opts=child(parent, provider=provider, depends_on=[public_access_block]),
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=lifecycle_rules(retention_days),
        opts=child(parent, provider=provider, depends_on=[versioning]),
    )
    aws.s3.BucketLogging(
        f"{name}-logging",
        bucket=bucket.id,
        target_bucket=access_logs.bucket,
        target_prefix=f"{physical_name}/",
        target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
        opts=child(parent, provider=provider),
    )
    return DumpBucket(bucket, versioning)


def access_log_bucket(
    parent: pulumi.Resource,
    d: Deployment,
    name: str,
    physical_name: str,
    source_bucket: str,
    provider: aws.Provider | None = None,
) -> aws.s3.BucketPolicy:
    """The server-access-log bucket of ``source_bucket`` (same region): private, SSE-S3 (S3 delivers
    access logs to SSE-S3 buckets only), versioned, TLS-only, logs expire after ``ACCESS_LOG_DAYS``.
    Returns its bucket policy, which admits S3 log delivery for ``source_bucket`` only."""
    log_bucket = aws.s3.Bucket(
        name,
        bucket=physical_name,
        force_destroy=not d.is_production,
        tags=d.tags(purpose=ACCESS_LOG_PURPOSE, Name=physical_name),
        opts=child(parent, provider=provider),
    )
    public_access_block = _private(parent, name, log_bucket, provider)
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-sse",
        bucket=log_bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
        opts=child(parent, provider=provider),
    )
    versioning = _versioned(parent, name, log_bucket, provider)
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
        opts=child(parent, provider=provider, depends_on=[versioning]),
    )
    return aws.s3.BucketPolicy(
        f"{name}-policy",
        bucket=log_bucket.id,
        policy=access_log_bucket_policy(d, physical_name, source_bucket),
        # S3 rejects concurrent changes to a bucket's policy and its public access block.
        opts=child(parent, provider=provider, depends_on=[public_access_block]),
    )
