"""No fixed-name resource replaces itself into a collision.

When a change forces a replacement, Pulumi creates the new resource before deleting the old one. A resource
whose physical name is fixed then asks AWS for a second resource under the name of the first, and the
update fails ("already exists") after part of the stack has changed. For every type below, a resource that
sets its name *and* sets a property that forces replacement must do one of:

- name itself with a generated suffix (``namePrefix``, where the type has one);
- carry a suffix that is the digest of its replace-forcing inputs (:func:`replacement_digest`), so any
  change of them is also a change of name (for types without ``namePrefix``);
- set ``deleteBeforeReplace``;
- be ``protect``-ed: "any deployment that would delete it (including a replacement) fails with an error
  instead" (Pulumi docs, "Protecting against undesired changes"); the engine refuses it while planning;
- list the replace-forcing properties it sets in ``ignoreChanges``: the program never asks for the change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import Report, UnknownValueError, has_key, is_set

DIGEST_LENGTH = 8
TF = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources"


@dataclass(frozen=True)
class Naming:
    """How a type is named and which of its inputs force a replacement (besides the name itself)."""

    name: str
    prefix: str | None
    forces: tuple[str, ...]
    doc: str


# Replace-forcing arguments: the "Forces new resource" arguments of each Terraform AWS provider resource (the
# provider the Pulumi AWS SDK is bridged from), Argument Reference sections of the pages named in ``doc``.
# Scope arguments (the VPC of a rule, the role of an inline policy) are left out where the name is unique
# only within that scope.
NAMING: dict[str, Naming] = {
    "aws:ec2/securityGroup:SecurityGroup": Naming(
        "name", "namePrefix", ("description", "vpcId"), f"{TF}/security_group"
    ),
    "aws:lb/targetGroup:TargetGroup": Naming(
        "name",
        "namePrefix",
        ("port", "protocol", "protocolVersion", "targetType", "vpcId", "ipAddressType"),
        f"{TF}/lb_target_group",
    ),
    "aws:lb/loadBalancer:LoadBalancer": Naming(
        "name", "namePrefix", ("internal", "loadBalancerType"), f"{TF}/lb"
    ),
    "aws:rds/instance:Instance": Naming(
        "identifier",
        "identifierPrefix",
        (
            "engine",
            "kmsKeyId",
            "storageEncrypted",
            "dbName",
            "username",
            "availabilityZone",
            "characterSetName",
            "timezone",
        ),
        f"{TF}/db_instance",
    ),
    "aws:rds/parameterGroup:ParameterGroup": Naming(
        "name", "namePrefix", ("family", "description"), f"{TF}/db_parameter_group"
    ),
    "aws:rds/subnetGroup:SubnetGroup": Naming("name", "namePrefix", (), f"{TF}/db_subnet_group"),
    "aws:elasticache/replicationGroup:ReplicationGroup": Naming(
        "replicationGroupId",
        None,
        ("atRestEncryptionEnabled", "kmsKeyId", "port", "subnetGroupName", "snapshotArns", "snapshotName"),
        f"{TF}/elasticache_replication_group",
    ),
    "aws:elasticache/parameterGroup:ParameterGroup": Naming(
        "name", None, ("family", "description"), f"{TF}/elasticache_parameter_group"
    ),
    "aws:elasticache/subnetGroup:SubnetGroup": Naming("name", None, (), f"{TF}/elasticache_subnet_group"),
    "aws:ecr/repository:Repository": Naming(
        "name", None, ("encryptionConfigurations",), f"{TF}/ecr_repository"
    ),
    "aws:ecs/service:Service": Naming(
        "name", None, ("launchType", "schedulingStrategy"), f"{TF}/ecs_service"
    ),
    "aws:iam/role:Role": Naming("name", "namePrefix", ("path",), f"{TF}/iam_role"),
    "aws:cloudwatch/logGroup:LogGroup": Naming(
        "name", "namePrefix", ("logGroupClass",), f"{TF}/cloudwatch_log_group"
    ),
    "aws:secretsmanager/secret:Secret": Naming("name", "namePrefix", (), f"{TF}/secretsmanager_secret"),
    "aws:s3/bucket:Bucket": Naming("bucket", "bucketPrefix", ("objectLockEnabled",), f"{TF}/s3_bucket"),
    "aws:sns/topic:Topic": Naming("name", "namePrefix", ("fifoTopic",), f"{TF}/sns_topic"),
    "aws:sqs/queue:Queue": Naming("name", "namePrefix", ("fifoQueue",), f"{TF}/sqs_queue"),
    "aws:scheduler/schedule:Schedule": Naming(
        "name", "namePrefix", ("groupName",), f"{TF}/scheduler_schedule"
    ),
}


def replacement_digest(forcing: Mapping[str, Any]) -> str:
    """The name suffix of a resource whose replace-forcing inputs are ``forcing`` (camelCase keys)."""
    canonical = json.dumps(dict(forcing), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:DIGEST_LENGTH]


def _plain(value: Any) -> Any:
    """A property proxy as plain JSON-able data (raises UnknownValueError on an unknown value)."""
    if isinstance(value, Mapping):
        return {k: _plain(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(value[i]) for i in range(len(value))]
    return value


def _digest_matches(r: PolicyResource, name: str, forcing: list[str]) -> bool:
    try:
        values = {k: _plain(r.props[k]) for k in forcing}
    except UnknownValueError:
        return False
    return name.endswith(f"-{replacement_digest(values)}")


def _problem(r: PolicyResource, naming: Naming) -> str | None:
    props = r.props
    if naming.prefix is not None and is_set(props, naming.prefix):
        return None
    if not has_key(props, naming.name):
        return None
    forcing = [k for k in naming.forces if is_set(props, k)]
    unguarded = [k for k in forcing if k not in set(r.opts.ignore_changes or [])]
    if not unguarded or r.opts.delete_before_replace or r.opts.protect:
        return None
    try:
        name = props[naming.name]
    except UnknownValueError:
        return None
    if isinstance(name, str) and _digest_matches(r, name, forcing):
        return None
    remedy = f"{naming.prefix} instead of {naming.name}, " if naming.prefix else "a digest suffix, "
    return (
        f"{r.resource_type.split(':')[1]} '{r.name}' has the fixed {naming.name} {json.dumps(name)} and sets "
        f"{', '.join(unguarded)}, which force a replacement ({naming.doc}); Pulumi creates the replacement "
        f"before deleting the old one, so it would collide with its own name. Use {remedy}"
        "deleteBeforeReplace, protect, or ignoreChanges on those properties."
    )


def _check_fixed_names(args: StackValidationArgs, report: Report) -> None:
    for r in args.resources:
        naming = NAMING.get(r.resource_type)
        if naming is None:
            continue
        problem = _problem(r, naming)
        if problem is not None:
            report(problem, r.urn)


fixed_name_replacement = StackValidationPolicy(
    name="fixed-name-replacement",
    description=(
        "No fixed-name resource replaces itself into a collision: a resource that sets its physical "
        "name and a property the provider marks 'Forces new resource' (Terraform AWS provider docs, "
        "Argument Reference) uses a name prefix or a digest suffix of those properties, "
        "deleteBeforeReplace, protect, or ignoreChanges on them (Pulumi creates a replacement before "
        "deleting the original by default: Pulumi docs, resource option deleteBeforeReplace)."
    ),
    validate=_check_fixed_names,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

POLICIES = [fixed_name_replacement]
