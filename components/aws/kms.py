"""KMS building blocks: customer keys and the statements of their key policies. Every AWS component that
encrypts with its own key builds the key and its policy from here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from ..common import Deployment, child, policy_json

# What the account's administrators may do with a key: manage it, never use it (no Encrypt/Decrypt, no
# CreateGrant). IAM policies decide which principals of the account those are (the key policy names the
# account).
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
)
# Using a data key through an AWS service (envelope encryption on the caller's behalf); DescribeKey is an
# administrator action above.
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")


def key_admin_statement(d: Deployment) -> dict[str, Any]:
    """The account administers the key (through IAM); nobody uses it by this statement."""
    return {
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{d.partition}:iam::{d.account_id}:root"},
        "Action": list(KEY_ADMIN_ACTIONS),
        "Resource": "*",
    }


# What CloudWatch Logs needs on a key that encrypts log groups (CloudWatch Logs user guide, "Encrypt log data
# in CloudWatch Logs using AWS KMS": the key policy statement for the logs service principal).
LOGS_ACTIONS = ("kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*")


def logs_use_statement(d: Deployment, sid: str, condition: dict[str, Any]) -> dict[str, Any]:
    """CloudWatch Logs in the stack's region may use the key for the log groups ``condition`` admits (an
    ``kms:EncryptionContext:aws:logs:arn`` condition)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{d.region}.amazonaws.com"},
        "Action": list(LOGS_ACTIONS),
        "Resource": "*",
        "Condition": condition,
    }


def _via_services(d: Deployment, services: Sequence[str]) -> dict[str, Any]:
    return {
        "kms:CallerAccount": d.account_id,
        "kms:ViaService": [f"{s}.{d.region}.amazonaws.com" for s in services],
    }


def service_use_statement(
    d: Deployment, services: Sequence[str], condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Principals of the account may use the key, but only through ``services`` in the stack's region
    (``kms:ViaService``), plus ``condition`` (e.g. an encryption context)."""
    return {
        "Sid": "UseThroughServices",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{d.partition}:iam::{d.account_id}:root"},
        "Action": list(KEY_USE_ACTIONS),
        "Resource": "*",
        "Condition": {"StringEquals": _via_services(d, services), **(condition or {})},
    }


def service_key_policy(d: Deployment, services: Sequence[str], *, grants: bool = False) -> str:
    """Key policy of a key that only AWS services use on a caller's behalf.

    The account administers the key (:func:`key_admin_statement`); principals of the account (with the IAM
    permission as well) may use it only through ``services`` in the stack's region (``kms:ViaService``
    ``<service>.<region>.amazonaws.com``), never by calling KMS directly. ``grants``: those services may also
    create grants for their own resources (``kms:GrantIsForAWSResource``): RDS and ElastiCache keep using the
    key for storage, snapshots and Performance Insights through a grant made when the resource is created.
    """
    root = f"arn:{d.partition}:iam::{d.account_id}:root"
    statements: list[dict[str, Any]] = [key_admin_statement(d), service_use_statement(d, services)]
    if grants:
        statements.append(
            {
                "Sid": "ServicesCreateGrants",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {
                    "StringEquals": _via_services(d, services),
                    "Bool": {"kms:GrantIsForAWSResource": "true"},
                },
            }
        )
    return policy_json(*statements)


def kms_key(
    name: str,
    deployment: Deployment,
    purpose: str,
    description: str,
    parent: pulumi.Resource,
    *,
    policy: str,
) -> aws.kms.Key:
    """A symmetric customer key with an explicit ``policy`` (literal JSON), rotated, aliased
    ``alias/<prefix>/<purpose>``, protected in production."""
    key = aws.kms.Key(
        f"{name}-kms",
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30 if deployment.is_production else 7,
        policy=policy,
        tags=deployment.tags(purpose=purpose),
        opts=child(parent, protect=deployment.is_production),
    )
    aws.kms.Alias(
        f"{name}-kms-alias",
        name=f"alias/{deployment.prefix}/{purpose}",
        target_key_id=key.key_id,
        opts=child(parent),
    )
    return key
