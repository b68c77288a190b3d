"""KMS keys rotate their key material."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import Report, has_key, show

KMS_KEY = "aws:kms/key:Key"


def _check_rotation(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != KMS_KEY:
        return
    # Automatic rotation exists for symmetric encryption keys only.
    if has_key(args.props, "customerMasterKeySpec"):
        spec = args.props.get("customerMasterKeySpec")
        if spec not in (None, "SYMMETRIC_DEFAULT"):
            return
    value = args.props.get("enableKeyRotation")
    if value is not True:
        report(f"KMS key '{args.name}' has enableKeyRotation {show(value)}; it must be true.")


kms_key_rotation = ResourceValidationPolicy(
    name="kms-key-rotation",
    description="Symmetric KMS keys have automatic key rotation enabled.",
    validate=_check_rotation,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
)

POLICIES = [kms_key_rotation]
