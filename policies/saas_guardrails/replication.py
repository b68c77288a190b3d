"""S3 replication: the replication role can use the replica key the way S3 needs.

With S3 Bucket Keys, S3 needs ``kms:Decrypt`` as well as ``kms:Encrypt`` on the key that encrypts replicas,
and the encryption context it presents is the destination bucket's ARN (Amazon S3 User Guide,
"Replicating encrypted objects", section "S3 Bucket Keys and replication",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html). Without
them every copy ends FAILED while the deploy reports success.

The grant is an inline policy of the role that names the replica key's ARN, which is unknown at preview:
then the rule checks that one of the role's policies is built from the replica key; once values are known
(``up``), it checks the actions and the encryption-context condition.
"""

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

REPLICATION = frozenset(
    {
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "aws:s3/bucketReplicationConfigV2:BucketReplicationConfigV2",
    }
)
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KMS_KEY = "aws:kms/key:Key"
NEEDED = ("kms:Decrypt", "kms:Encrypt")
CONTEXT_KEY = "kms:EncryptionContext:aws:s3:arn"


def _known(props: Mapping[str, Any], key: str) -> Any:
    """The value of ``key``, or None when it is absent or unknown at preview."""
    try:
        return props.get(key)
    except UnknownValueError:
        return None


def _deps(resource: PolicyResource, prop: str, type_: str) -> list[PolicyResource]:
    return [r for r in resource.property_dependencies.get(prop, []) if r.resource_type == type_]


def _destinations(config: PolicyResource) -> list[tuple[str | None, str | None]]:
    """(replica key ARN, destination bucket ARN) of each rule that names a replica key (None: unknown)."""
    found = []
    for rule in as_list(_known(config.props, "rules")):
        entry = as_map(rule)
        destination = as_map(entry.get("destination")) if entry is not None else None
        if destination is None:
            continue
        encryption = as_map(destination.get("encryptionConfiguration"))
        if encryption is None or not any(k == "replicaKmsKeyId" for k in encryption):
            continue
        key, bucket = _known(encryption, "replicaKmsKeyId"), _known(destination, "bucket")
        found.append((key if isinstance(key, str) else None, bucket if isinstance(bucket, str) else None))
    return found


def _statements(document: str) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(document)
    except ValueError:
        return []
    statements = parsed.get("Statement", []) if isinstance(parsed, dict) else []
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def _strings(value: Any) -> list[str]:
    return (
        [value]
        if isinstance(value, str)
        else [v for v in value if isinstance(v, str)]
        if isinstance(value, list)
        else []
    )


def _context_admits(statement: dict[str, Any], bucket_arn: str | None) -> bool:
    """An encryption-context condition on the S3 ARN, if any, admits the destination bucket's own ARN."""
    if bucket_arn is None:
        return True
    for operator, conditions in (statement.get("Condition") or {}).items():
        if isinstance(conditions, dict) and CONTEXT_KEY in conditions:
            patterns = _strings(conditions[CONTEXT_KEY])
            like = "Like" in operator
            if not any(fnmatchcase(bucket_arn, p) if like else bucket_arn == p for p in patterns):
                return False
    return True


def _granted(documents: list[str], key_arn: str, bucket_arn: str | None) -> set[str]:
    """The needed KMS actions that Allow statements grant on ``key_arn`` in a context S3 presents."""
    granted: set[str] = set()
    for statement in (s for doc in documents for s in _statements(doc)):
        if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotResource" in statement:
            continue
        if not any(fnmatchcase(key_arn, r) for r in _strings(statement.get("Resource"))):
            continue
        if not _context_admits(statement, bucket_arn):
            continue
        actions = _strings(statement.get("Action"))
        granted.update(n for n in NEEDED if any(fnmatchcase(n.lower(), a.lower()) for a in actions))
    return granted


def _check(args: StackValidationArgs, report: Report) -> None:
    policies = [r for r in args.resources if r.resource_type == ROLE_POLICY]
    for config in (r for r in args.resources if r.resource_type in REPLICATION):
        roles = {r.urn for r in _deps(config, "role", ROLE)}
        if not roles:
            continue  # a role of another stack: its policies are not visible here
        mine = [p for p in policies if roles & {r.urn for r in _deps(p, "role", ROLE)}]
        keys = _deps(config, "rules", KMS_KEY)
        for key in keys:
            if not any(key.urn in {k.urn for k in _deps(p, "policy", KMS_KEY)} for p in mine):
                report(
                    f"S3 replication '{config.name}': no policy of its role grants the replica key "
                    f"'{key.name}'; with S3 Bucket Keys S3 needs kms:Encrypt and kms:Decrypt on it.",
                    config.urn,
                )
        documents = [d for d in (_known(p.props, "policy") for p in mine) if isinstance(d, str)]
        if len(documents) < len(mine):
            continue  # a policy is unknown at preview; the grant is checked once values are known
        for key_arn, bucket_arn in _destinations(config):
            if key_arn is None:
                continue
            missing = [n for n in NEEDED if n not in _granted(documents, key_arn, bucket_arn)]
            if missing:
                report(
                    f"S3 replication '{config.name}': its role lacks {', '.join(missing)} on the replica key "
                    f"{key_arn} for the context {bucket_arn}; with S3 Bucket Keys S3 needs kms:Encrypt and "
                    "kms:Decrypt there, with the destination bucket's ARN as encryption context.",
                    config.urn,
                )


s3_replication_replica_key = StackValidationPolicy(
    name="s3-replication-replica-key",
    description=(
        "An S3 replication role can use the replica KMS key the way S3 needs: kms:Encrypt and kms:Decrypt, "
        "with the destination bucket's ARN admitted as encryption context (Amazon S3 User Guide, "
        "'S3 Bucket Keys and replication', "
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html)."
    ),
    validate=_check,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

POLICIES = [s3_replication_replica_key]
