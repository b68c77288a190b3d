"""Production stateful resources carry Pulumi's ``protect`` option: no `pulumi up`/`destroy` deletes them."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import Report, is_production, tag

RDS_INSTANCE = "aws:rds/instance:Instance"
KMS_KEY = "aws:kms/key:Key"
BUCKET_TYPES = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
PROTECTED_BUCKET_PURPOSES = frozenset({"backups", "backups-replica"})


def _kind(args: ResourceValidationArgs) -> str | None:
    if args.resource_type == RDS_INSTANCE:
        return "RDS instance"
    if args.resource_type == KMS_KEY:
        return "KMS key"
    if args.resource_type in BUCKET_TYPES:
        purpose = tag(args.props, "purpose")
        if purpose in PROTECTED_BUCKET_PURPOSES:
            return f"S3 bucket (purpose={purpose})"
    return None


def _check_protected(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type not in BUCKET_TYPES | {RDS_INSTANCE, KMS_KEY}:
        return
    if not is_production(args.props):
        return
    kind = _kind(args)
    if kind is not None and not args.opts.protect:
        report(
            f"production {kind} '{args.name}' is not protected; create it with ResourceOptions(protect=True)."
        )


production_stateful_protected = ResourceValidationPolicy(
    name="production-stateful-protected",
    description=(
        "In production (tag environment=production), RDS instances, backup buckets (purpose=backups or "
        "backups-replica) and KMS keys have the Pulumi protect option."
    ),
    validate=_check_protected,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

POLICIES = [production_stateful_protected]
