"""CloudWatch log groups expire their logs after a bounded, long-enough retention."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import Report, config_int, number, show

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
DEFAULT_MIN_RETENTION_DAYS = 14


def _check_retention(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != LOG_GROUP:
        return
    minimum = config_int(args.get_config(), "minimumDays", DEFAULT_MIN_RETENTION_DAYS)
    value = args.props.get("retentionInDays")
    days = number(value)
    if days is None or days == 0:
        report(
            f"log group '{args.name}' has retentionInDays {show(value)}, so its logs never expire; set a "
            f"retention of at least {minimum} days."
        )
    elif days < minimum:
        report(f"log group '{args.name}' has retentionInDays {show(value)}; the minimum is {minimum} days.")


log_retention = ResourceValidationPolicy(
    name="log-retention",
    description=(
        "CloudWatch log groups set retentionInDays to at least the configured minimum (unset or 0 means the "
        "logs never expire, which is a violation too)."
    ),
    validate=_check_retention,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.LOW,
    config_schema=PolicyConfigSchema(
        properties={
            "minimumDays": {
                "type": "integer",
                "minimum": 1,
                "default": DEFAULT_MIN_RETENTION_DAYS,
                "description": "Minimum retentionInDays of a log group.",
            }
        }
    ),
)

POLICIES = [log_retention]
