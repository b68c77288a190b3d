"""SNS: every service that targets a KMS-encrypted topic can use the topic's key."""

from __future__ import annotations

import json
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import Report, UnknownValueError, as_list, as_map

SNS_TOPIC = "aws:sns/topic:Topic"
KMS_KEY = "aws:kms/key:Key"
# Resource type -> (service principal that publishes, properties naming the topic).
PUBLISHERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        "cloudwatch.amazonaws.com",
        ("alarmActions", "okActions", "insufficientDataActions"),
    ),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": (
        "cloudwatch.amazonaws.com",
        ("alarmActions", "okActions", "insufficientDataActions"),
    ),
    "aws:cloudwatch/eventTarget:EventTarget": ("events.amazonaws.com", ("arn",)),
}
# What SNS asks KMS for on the publisher's behalf.
NEEDED_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
# Conditions SNS documents as unsupported in the key policy for EventBridge publishing to an encrypted topic.
UNSUPPORTED_FOR_EVENTBRIDGE = ("aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid")
DOC = (
    'SNS developer guide, "Key management", "Enable compatibility between event sources from AWS services '
    'and encrypted topics" (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html'
    "#compatibility-with-aws-services)"
)


def _services(principal: Any) -> list[str]:
    principal_map = as_map(principal)
    if principal_map is None:
        return []
    value = principal_map.get("Service")
    return [value] if isinstance(value, str) else [s for s in as_list(value) if isinstance(s, str)]


def _allows(statement: Mapping[str, Any], action: str) -> bool:
    actions = statement.get("Action")
    patterns = [actions] if isinstance(actions, str) else [a for a in as_list(actions) if isinstance(a, str)]
    return any(fnmatchcase(action.lower(), p.lower()) for p in patterns)


def _condition_keys(statement: Mapping[str, Any]) -> set[str]:
    condition = as_map(statement.get("Condition")) or {}
    return {key.lower() for operator in condition for key in (as_map(condition[operator]) or {})}


def _key_problem(policy: Mapping[str, Any], service: str) -> str | None:
    """Why the key policy does not let ``service`` publish to a topic encrypted with it (None: it does)."""
    statements = [s for s in as_list(policy.get("Statement")) if isinstance(s, Mapping)]
    granting = [
        s for s in statements if s.get("Effect") == "Allow" and service in _services(s.get("Principal"))
    ]
    for action in NEEDED_ACTIONS:
        if not any(_allows(s, action) for s in granting):
            return f"no Allow statement for {service} with {action}"
    if service == "events.amazonaws.com":
        usable = [s for s in granting if not (_condition_keys(s) & set(UNSUPPORTED_FOR_EVENTBRIDGE))]
        if not all(any(_allows(s, a) for s in usable) for a in NEEDED_ACTIONS):
            return (
                "statements for events.amazonaws.com only under aws:SourceAccount/aws:SourceArn/"
                "aws:SourceOrgID conditions, which SNS does not support for EventBridge publishing to an "
                "encrypted topic"
            )
    return None


def _publishers(resources: list[PolicyResource], topic: PolicyResource) -> dict[str, list[str]]:
    """Service principal -> names of the resources that publish to ``topic`` (found by dependency)."""
    found: dict[str, list[str]] = {}
    for r in resources:
        publisher = PUBLISHERS.get(r.resource_type)
        if publisher is None:
            continue
        service, props = publisher
        if any(d.urn == topic.urn for p in props for d in r.property_dependencies.get(p, [])):
            found.setdefault(service, []).append(r.name)
    return found


def _check_topic_publishers(args: StackValidationArgs, report: Report) -> None:
    for topic in args.resources:
        if topic.resource_type != SNS_TOPIC:
            continue
        publishers = _publishers(args.resources, topic)
        if not publishers:
            continue
        try:
            key_id = topic.props.get("kmsMasterKeyId")
        except UnknownValueError:
            key_id = None
        if isinstance(key_id, str) and key_id.endswith("alias/aws/sns"):
            report(
                f"SNS topic '{topic.name}' is encrypted with the AWS-managed alias/aws/sns key, whose policy "
                f"cannot admit {', '.join(sorted(publishers))}: their notifications would be dropped "
                f"({DOC}).",
                topic.urn,
            )
            continue
        keys = [
            k for k in topic.property_dependencies.get("kmsMasterKeyId", []) if k.resource_type == KMS_KEY
        ]
        for key in keys:
            try:
                policy = json.loads(key.props.get("policy") or "{}")
            except (UnknownValueError, TypeError, ValueError):
                continue
            for service, names in sorted(publishers.items()):
                problem = _key_problem(policy, service)
                if problem is not None:
                    report(
                        f"SNS topic '{topic.name}' is encrypted with KMS key '{key.name}', whose policy has "
                        f"{problem}; {', '.join(names)} publish to the topic and their notifications would "
                        f"be dropped ({DOC}).",
                        topic.urn,
                    )


encrypted_topic_publishers = StackValidationPolicy(
    name="sns-encrypted-topic-publishers",
    description=(
        "A KMS-encrypted SNS topic can be published to by every service that targets it: the key policy "
        "grants each publishing service principal kms:GenerateDataKey* and kms:Decrypt, without "
        "aws:SourceAccount/aws:SourceArn conditions for EventBridge, which SNS does not support there "
        f"({DOC})."
    ),
    validate=_check_topic_publishers,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

POLICIES = [encrypted_topic_publishers]
