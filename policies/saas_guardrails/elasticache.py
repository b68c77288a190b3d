"""ElastiCache (Redis): TLS, auth token, encryption at rest; production fails over; a queue's Redis never
evicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import Report, as_list, as_map, has_key, is_production, show, tag

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
PARAMETER_GROUP = "aws:elasticache/parameterGroup:ParameterGroup"


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


def _maxmemory_policy(props: Mapping[str, Any]) -> str | None:
    for item in as_list(props.get("parameters")):
        entry = as_map(item)
        if entry is not None and entry.get("name") == "maxmemory-policy":
            value = entry.get("value")
            return value if isinstance(value, str) else None
    return None


def _check_queue_noeviction(args: ResourceValidationArgs, report: Report) -> None:
    # BullMQ, Going to production, "Max memory policy": noeviction "is the only setting that guarantees the
    # correct behavior of the queues" (https://docs.bullmq.io/guide/going-to-production). Without the
    # parameter the redis7 family's default applies: volatile-lru (ElastiCache User Guide, Redis OSS
    # parameters, maxmemory-policy).
    if args.resource_type != PARAMETER_GROUP:
        return
    queue = tag(args.props, "queue")
    if queue is None:
        return
    policy = _maxmemory_policy(args.props)
    if policy != "noeviction":
        shown = show(policy) if policy is not None else "unset (the family default volatile-lru)"
        report(
            f"ElastiCache parameter group '{args.name}' serves the {queue} queue and has maxmemory-policy "
            f"{shown}; a queue needs noeviction: an evicted job or lock key loses or repeats the job."
        )


elasticache_queue_noeviction = ResourceValidationPolicy(
    name="elasticache-queue-noeviction",
    description="A Redis parameter group tagged `queue` (a job queue such as BullMQ) never evicts keys.",
    validate=_check_queue_noeviction,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

POLICIES = [
    elasticache_encryption,
    elasticache_auth_token,
    elasticache_production_failover,
    elasticache_queue_noeviction,
]
