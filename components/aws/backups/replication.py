"""Production's copy: a replica bucket in ``backups.copyRegion`` and S3 replication of every dump to it.

Every object is copied, SSE-KMS ones included, delete markers too; the replication role is limited to the
two buckets and their two keys. A copy that fails is loud: replication metrics are on, and an alarm on
``OperationsFailedReplication`` goes to the alerts topic.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from ...common import Deployment, assume_role_policy, child, policy_json
from .bucket import DumpBucket, access_log_bucket, dump_bucket, key_policy, kms_key
from .iam import kms_grant
from .naming import access_log_bucket_name, bucket_name, replica_bucket_name


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


# Both buckets use S3 Bucket Keys; with Bucket Keys the replica key must allow kms:Decrypt as well as
# kms:Encrypt for the replication role (Amazon S3 User Guide, "Replicating encrypted objects", section
# "S3 Bucket Keys and replication":
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html).
REPLICA_KEY_ACTIONS = ["kms:Decrypt", "kms:Encrypt"]
# S3 replication metrics, reported in the source region per rule (Amazon S3 User Guide, "Metrics and
# dimensions", replication metrics: https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html).
FAILED_REPLICATION_METRIC = "OperationsFailedReplication"


def rule_id(region: str) -> str:
    return f"copy-to-{region}"


def replication_kms_policy(d: Deployment, region: str, source_key_arn: str, replica_key_arn: str) -> str:
    """Decrypt source objects, encrypt their replicas, each key only through S3 of its region and bucket.

    With S3 Bucket Keys the encryption context is the bucket ARN, so both the bucket and its objects are
    admitted."""
    source_arn = f"arn:{d.partition}:s3:::{bucket_name(d)}"
    replica_arn = f"arn:{d.partition}:s3:::{replica_bucket_name(d, region)}"
    return policy_json(
        kms_grant(
            "DecryptSource",
            ["kms:Decrypt"],
            source_key_arn,
            f"s3.{d.region}.amazonaws.com",
            [source_arn, f"{source_arn}/*"],
        ),
        kms_grant(
            "EncryptReplica",
            REPLICA_KEY_ACTIONS,
            replica_key_arn,
            f"s3.{region}.amazonaws.com",
            [replica_arn, f"{replica_arn}/*"],
        ),
    )


class Replica:
    """The replica's provider, key and bucket in ``region``, and the replication of ``source`` into it."""

    def __init__(
        self,
        parent: pulumi.Resource,
        d: Deployment,
        name: str,
        source: DumpBucket,
        source_key: aws.kms.Key,
        retention_days: int,
        region: str,
        topic_arn: pulumi.Input[str],
    ) -> None:
        self.provider = aws.Provider(f"{name}-replica-provider", region=region, opts=child(parent))
        self.key = kms_key(
            parent,
            d,
            f"{name}-replica-kms",
            "backups-replica",
            f"S3 backup copies of {d.prefix} (replicated from {d.region})",
            key_policy(d),
            self.provider,
        )
        replica_name = replica_bucket_name(d, region)
        logs = access_log_bucket(
            parent,
            d,
            f"{name}-replica-access-logs",
            access_log_bucket_name(d, region),
            replica_name,
            self.provider,
        )
        self.bucket = dump_bucket(
            parent,
            d,
            f"{name}-replica",
            replica_name,
            "backups-replica",
            self.key,
            retention_days,
            logs,
            self.provider,
        )
        policies = self._role(parent, d, name, source_key, region)
        aws.s3.BucketReplicationConfig(
            f"{name}-replication",
            bucket=source.resource.id,
            role=self.role.arn,
            rules=[
                {
                    "id": rule_id(region),
                    "status": "Enabled",
                    "priority": 1,
                    "filter": {"prefix": ""},
                    "delete_marker_replication": {"status": "Enabled"},
                    "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                    "destination": {
                        "bucket": self.bucket.resource.arn,
                        "encryption_configuration": {"replica_kms_key_id": self.key.arn},
                        # Publishes OperationsFailedReplication (and the OperationFailedReplication event).
                        "metrics": {"status": "Enabled"},
                    },
                }
            ],
            # Replication needs versioning on both sides and the role's rights in place.
            opts=child(parent, depends_on=[source.versioning, self.bucket.versioning, *policies]),
        )
        self._failed_alarm(parent, d, name, replica_name, region, topic_arn)

    def _failed_alarm(
        self,
        parent: pulumi.Resource,
        d: Deployment,
        name: str,
        replica: str,
        region: str,
        topic: pulumi.Input[str],
    ) -> None:
        """Any dump (or delete marker) that S3 failed to copy in a 5-minute window alarms the topic."""
        aws.cloudwatch.MetricAlarm(
            f"{name}-replication-failed-alarm",
            name=f"{d.prefix}-backup-replication-failed",
            alarm_description=(
                f"S3 could not copy a dump from {bucket_name(d)} to {replica} ({region}); check the "
                "replication role's S3 and KMS rights and the replica bucket. Failed objects are not retried."
            ),
            namespace="AWS/S3",
            metric_name=FAILED_REPLICATION_METRIC,
            dimensions={
                "SourceBucket": bucket_name(d),
                "DestinationBucket": replica,
                "RuleId": rule_id(region),
            },
            statistic="Sum",
            period=300,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            # The metric exists only once something was replicated; no data is no failure.
            treat_missing_data="notBreaching",
            alarm_actions=[topic],
            ok_actions=[topic],
            tags=d.tags(),
            opts=child(parent),
        )

    def _role(
        self, parent: pulumi.Resource, d: Deployment, name: str, source_key: aws.kms.Key, region: str
    ) -> list[aws.iam.RolePolicy]:
        source_arn = f"arn:{d.partition}:s3:::{bucket_name(d)}"
        replica_name = replica_bucket_name(d, region)
        self.role = aws.iam.Role(
            f"{name}-replication-role",
            name=f"{d.prefix}-backup-replication",
            description=f"S3 replication of {bucket_name(d)} to {replica_name}",
            assume_role_policy=assume_role_policy(
                "s3.amazonaws.com", StringEquals={"aws:SourceAccount": d.account_id}
            ),
            tags=d.tags(),
            opts=child(parent),
        )
        return [
            aws.iam.RolePolicy(
                f"{name}-replication-s3-policy",
                name="replicate-dumps",
                role=self.role.id,
                policy=replication_s3_policy(source_arn, f"arn:{d.partition}:s3:::{replica_name}"),
                opts=child(parent),
            ),
            aws.iam.RolePolicy(
                f"{name}-replication-kms-policy",
                name="replicate-dumps-kms",
                role=self.role.id,
                policy=pulumi.Output.all(source_key.arn, self.key.arn).apply(
                    lambda arns: replication_kms_policy(d, region, arns[0], arns[1])
                ),
                opts=child(parent),
            ),
        ]
