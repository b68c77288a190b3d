"""ElastiCache (Redis) replication groups: TLS, auth token, encryption at rest; production fails over."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import Report, has_key, is_production, show

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"


def _check_encryption(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != REPLICATION_GROUP:
        return
    transit = args.props.get("transitEncryptionEnabled")
    if transit is not True:
        report(
            f"ElastiCache replication group '{args.name}' has transitEncryptionEnabled {show(transit)}; "
            "clients must connect over TLS."
        )
    at_rest = args.props.get("atRestEncryptionEnabled")
    if at_rest is not True:
        report(
            f"ElastiCache replication group '{args.name}' has atRestEncryptionEnabled {show(at_rest)}; "
            "it must be true."
        )


elasticache_encryption = ResourceValidationPolicy(
    name="elasticache-encryption",
    description="ElastiCache replication groups encrypt in transit (TLS) and at rest.",
    validate=_check_encryption,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)


def _check_auth_token(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != REPLICATION_GROUP:
        return
    # The token is a secret, unknown at preview: only its presence is checked, its value is never read.
    if not (has_key(args.props, "authToken") or has_key(args.props, "authTokenWo")):
        report(f"ElastiCache replication group '{args.name}' has no authToken; Redis must require AUTH.")


elasticache_auth_token = ResourceValidationPolicy(
    name="elasticache-auth-token",
    description=(
        "ElastiCache replication groups require an auth token (presence checked; the value is secret)."
    ),
    validate=_check_auth_token,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)


def _check_failover(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != REPLICATION_GROUP or not is_production(args.props):
        return
    who = f"production ElastiCache replication group '{args.name}'"
    failover = args.props.get("automaticFailoverEnabled")
    if failover is not True:
        report(f"{who} has automaticFailoverEnabled {show(failover)}; it must be true.")
    multi_az = args.props.get("multiAzEnabled")
    if multi_az is not True:
        report(f"{who} has multiAzEnabled {show(multi_az)}; it must be true.")


elasticache_production_failover = ResourceValidationPolicy(
    name="elasticache-production-failover",
    description="Production ElastiCache replication groups have automatic failover and multi-AZ enabled.",
    validate=_check_failover,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
)

POLICIES = [elasticache_encryption, elasticache_auth_token, elasticache_production_failover]
