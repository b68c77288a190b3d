"""RDS instances: encrypted, private, backed up; production: multi-AZ, deletion protection, final snapshot."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import Report, config_int, is_production, is_set, number, show

RDS_INSTANCE = "aws:rds/instance:Instance"
DEFAULT_MIN_BACKUP_DAYS = 7


def _check_encrypted(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != RDS_INSTANCE:
        return
    value = args.props.get("storageEncrypted")
    if value is not True:
        report(f"RDS instance '{args.name}' has storageEncrypted {show(value)}; it must be true.")


rds_storage_encrypted = ResourceValidationPolicy(
    name="rds-storage-encrypted",
    description="RDS instances encrypt their storage (storageEncrypted: true).",
    validate=_check_encrypted,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)


def _check_private(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != RDS_INSTANCE:
        return
    value = args.props.get("publiclyAccessible")
    if value is True:
        report(f"RDS instance '{args.name}' has publiclyAccessible true; databases stay in private subnets.")


rds_not_public = ResourceValidationPolicy(
    name="rds-not-public",
    description="RDS instances are not publicly accessible.",
    validate=_check_private,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)


def _check_backup_retention(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != RDS_INSTANCE:
        return
    minimum = config_int(args.get_config(), "minimumDays", DEFAULT_MIN_BACKUP_DAYS)
    value = args.props.get("backupRetentionPeriod")
    days = number(value)
    if days is None or days < minimum:
        report(
            f"RDS instance '{args.name}' has backupRetentionPeriod {show(value)}; point-in-time recovery "
            f"needs at least {minimum} days."
        )


rds_backup_retention = ResourceValidationPolicy(
    name="rds-backup-retention",
    description="RDS instances keep automated backups (PITR) for at least the configured number of days.",
    validate=_check_backup_retention,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PolicyConfigSchema(
        properties={
            "minimumDays": {
                "type": "integer",
                "minimum": 1,
                "maximum": 35,
                "default": DEFAULT_MIN_BACKUP_DAYS,
                "description": "Minimum backupRetentionPeriod in days.",
            }
        }
    ),
)


def _check_production(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != RDS_INSTANCE or not is_production(args.props):
        return
    props = args.props
    who = f"production RDS instance '{args.name}'"
    multi_az = props.get("multiAz")
    if multi_az is not True:
        report(f"{who} has multiAz {show(multi_az)}; production databases must be multi-AZ.")
    deletion_protection = props.get("deletionProtection")
    if deletion_protection is not True:
        report(f"{who} has deletionProtection {show(deletion_protection)}; it must be true.")
    skip = props.get("skipFinalSnapshot")
    if skip is True:
        report(f"{who} has skipFinalSnapshot true; production must take a final snapshot on deletion.")
    if not is_set(props, "finalSnapshotIdentifier"):
        report(f"{who} has no finalSnapshotIdentifier; name the final snapshot taken on deletion.")


rds_production_resilience = ResourceValidationPolicy(
    name="rds-production-resilience",
    description=(
        "Production RDS instances (tag environment=production) are multi-AZ, deletion protected and take a "
        "named final snapshot (skipFinalSnapshot false, finalSnapshotIdentifier set)."
    ),
    validate=_check_production,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

POLICIES = [rds_storage_encrypted, rds_not_public, rds_backup_retention, rds_production_resilience]
