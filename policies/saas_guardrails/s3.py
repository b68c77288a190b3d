"""S3 buckets: public access blocked and default encryption on every bucket; backup buckets are versioned and
expire old dumps.

With pulumi-aws v7 these settings are separate resources that point at the bucket through their ``bucket``
input, so the rules are stack rules. A companion belongs to a bucket when its ``bucket`` input depends on the
bucket (``property_dependencies["bucket"]``: the program passes ``bucket.id`` or ``bucket.bucket``); when it
has no such dependency (a literal bucket name), it belongs to the bucket with the same parent whose logical
name is the longest prefix of the companion's logical name (``backups`` -> ``backups-pab``). The ``bucket``
value itself is never read: it is unknown at preview.
"""

from __future__ import annotations

from collections.abc import Iterable

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import Report, as_list, as_map, config_str_list, show, tag

BUCKET_TYPES = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
PUBLIC_ACCESS_BLOCK = frozenset({"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"})
ENCRYPTION = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
VERSIONING = frozenset(
    {"aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"}
)
LIFECYCLE = frozenset(
    {
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
    }
)
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
SSE_ALGORITHMS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})
DEFAULT_BACKUP_PURPOSES = ("backups",)


def _parent_urn(resource: PolicyResource) -> str | None:
    return resource.parent.urn if resource.parent is not None else None


def bucket_of(companion: PolicyResource, buckets: list[PolicyResource]) -> PolicyResource | None:
    """The bucket a companion resource (public access block, encryption, ...) configures."""
    deps = companion.property_dependencies.get("bucket", [])
    if deps:
        by_urn = {b.urn: b for b in buckets}
        for dep in deps:
            if dep.urn in by_urn:
                return by_urn[dep.urn]
        return None
    parent = _parent_urn(companion)
    candidates = [b for b in buckets if _parent_urn(b) == parent and companion.name.startswith(b.name)]
    return max(candidates, key=lambda b: len(b.name), default=None)


def _companions(
    resources: list[PolicyResource], buckets: list[PolicyResource], types: Iterable[str]
) -> dict[str, list[PolicyResource]]:
    wanted = frozenset(types)
    found: dict[str, list[PolicyResource]] = {b.urn: [] for b in buckets}
    for r in resources:
        if r.resource_type in wanted:
            bucket = bucket_of(r, buckets)
            if bucket is not None:
                found[bucket.urn].append(r)
    return found


def _buckets(args: StackValidationArgs) -> list[PolicyResource]:
    return [r for r in args.resources if r.resource_type in BUCKET_TYPES]


def _check_public_access_block(args: StackValidationArgs, report: Report) -> None:
    buckets = _buckets(args)
    blocks = _companions(args.resources, buckets, PUBLIC_ACCESS_BLOCK)
    for bucket in buckets:
        mine = blocks[bucket.urn]
        if not mine:
            report(f"S3 bucket '{bucket.name}' has no BucketPublicAccessBlock.", bucket.urn)
            continue
        for block in mine:
            off = [
                f"{flag}={show(block.props.get(flag))}"
                for flag in PUBLIC_ACCESS_FLAGS
                if block.props.get(flag) is not True
            ]
            if off:
                report(
                    f"S3 bucket '{bucket.name}': BucketPublicAccessBlock '{block.name}' must set all four "
                    f"flags true, but has {', '.join(off)}.",
                    block.urn,
                )


s3_public_access_block = StackValidationPolicy(
    name="s3-public-access-block",
    description=(
        "Every S3 bucket has a BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, "
        "ignorePublicAcls and restrictPublicBuckets all true."
    ),
    validate=_check_public_access_block,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)


def _sse_algorithms(config: PolicyResource) -> list[str]:
    algorithms: list[str] = []
    for rule in as_list(config.props.get("rules")):
        entry = as_map(rule)
        default = as_map(entry.get("applyServerSideEncryptionByDefault")) if entry is not None else None
        if default is not None:
            algorithm = default.get("sseAlgorithm")
            if isinstance(algorithm, str):
                algorithms.append(algorithm)
    return algorithms


def _check_encryption(args: StackValidationArgs, report: Report) -> None:
    buckets = _buckets(args)
    configs = _companions(args.resources, buckets, ENCRYPTION)
    for bucket in buckets:
        mine = configs[bucket.urn]
        if not mine:
            report(f"S3 bucket '{bucket.name}' has no BucketServerSideEncryptionConfiguration.", bucket.urn)
            continue
        algorithms = [a for c in mine for a in _sse_algorithms(c)]
        if not any(a in SSE_ALGORITHMS for a in algorithms):
            report(
                f"S3 bucket '{bucket.name}': its encryption configuration sets no default sseAlgorithm among "
                f"{sorted(SSE_ALGORITHMS)} (found {algorithms or 'none'}).",
                bucket.urn,
            )


s3_encryption = StackValidationPolicy(
    name="s3-encryption",
    description="Every S3 bucket has a BucketServerSideEncryptionConfiguration with a default sseAlgorithm.",
    validate=_check_encryption,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

_PURPOSES_SCHEMA = PolicyConfigSchema(
    properties={
        "purposes": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(DEFAULT_BACKUP_PURPOSES),
            "description": "Values of the bucket tag `purpose` that mark a backup bucket.",
        }
    }
)


def _backup_buckets(args: StackValidationArgs) -> list[PolicyResource]:
    purposes = set(config_str_list(args.get_config(), "purposes", DEFAULT_BACKUP_PURPOSES))
    return [b for b in _buckets(args) if tag(b.props, "purpose") in purposes]


def _check_versioning(args: StackValidationArgs, report: Report) -> None:
    buckets = _backup_buckets(args)
    configs = _companions(args.resources, buckets, VERSIONING)
    for bucket in buckets:
        statuses = []
        for config in configs[bucket.urn]:
            versioning = as_map(config.props.get("versioningConfiguration"))
            statuses.append(versioning.get("status") if versioning is not None else None)
        if "Enabled" not in statuses:
            found = ", ".join(show(s) for s in statuses) if statuses else "no BucketVersioning"
            report(
                f"backup S3 bucket '{bucket.name}' (purpose={tag(bucket.props, 'purpose')}) needs a "
                f'BucketVersioning with status "Enabled" (found {found}).',
                bucket.urn,
            )


s3_backup_versioning = StackValidationPolicy(
    name="s3-backup-versioning",
    description="Backup S3 buckets (tag purpose=backups) have versioning enabled.",
    validate=_check_versioning,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=_PURPOSES_SCHEMA,
)


def _has_enabled_expiration(config: PolicyResource) -> bool:
    for rule in as_list(config.props.get("rules")):
        entry = as_map(rule)
        if entry is None or entry.get("status") != "Enabled":
            continue
        expiration = as_map(entry.get("expiration"))
        if expiration is not None and any(expiration.get(k) for k in ("days", "date")):
            return True
    return False


def _check_lifecycle(args: StackValidationArgs, report: Report) -> None:
    buckets = _backup_buckets(args)
    configs = _companions(args.resources, buckets, LIFECYCLE)
    for bucket in buckets:
        mine = configs[bucket.urn]
        if not any(_has_enabled_expiration(c) for c in mine):
            found = "a lifecycle configuration without one" if mine else "no BucketLifecycleConfiguration"
            report(
                f"backup S3 bucket '{bucket.name}' (purpose={tag(bucket.props, 'purpose')}) needs a "
                f'lifecycle rule with status "Enabled" and an expiration (days or date); found {found}.',
                bucket.urn,
            )


s3_backup_lifecycle = StackValidationPolicy(
    name="s3-backup-lifecycle",
    description="Backup S3 buckets (tag purpose=backups) expire old objects with an enabled lifecycle rule.",
    validate=_check_lifecycle,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    config_schema=_PURPOSES_SCHEMA,
)

POLICIES = [s3_public_access_block, s3_encryption, s3_backup_versioning, s3_backup_lifecycle]
