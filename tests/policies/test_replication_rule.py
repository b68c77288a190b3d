"""The rule "a replication role can use the replica key the way S3 needs" (s3-replication-replica-key).

Amazon S3 User Guide, "Replicating encrypted objects", section "S3 Bucket Keys and replication"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html): with
S3 Bucket Keys the replica key must allow kms:Decrypt as well as kms:Encrypt for the replication role.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest

from preflight.analyzer import Violation
from preflight.engine import Evaluation
from preflight.model import RecordedResource

from .builders import explain, replication_stack

Analyze = Callable[[Sequence[RecordedResource]], list[Violation]]
RULE = "s3-replication-replica-key"


def _mine(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.policy_name == RULE]


@pytest.mark.parametrize("preview", [True, False])
def test_a_grant_of_encrypt_and_decrypt_on_the_replica_key_passes(analyze: Analyze, preview: bool) -> None:
    violations = _mine(analyze(replication_stack(preview=preview)))
    assert violations == [], explain(violations)


def test_encrypt_only_on_the_replica_key_fails(analyze: Analyze) -> None:
    (violation,) = _mine(analyze(replication_stack(actions=["kms:Encrypt"])))
    assert "lacks kms:Decrypt on the replica key" in violation.message


def test_a_context_of_objects_only_fails(analyze: Analyze) -> None:
    """With Bucket Keys S3 presents the bucket's ARN as encryption context, not the object's."""
    bucket = "arn:aws:s3:::escalating-reminders-production-backups-123456789012-us-east-2"
    (violation,) = _mine(analyze(replication_stack(context=[f"{bucket}/*"])))
    assert "lacks kms:Decrypt, kms:Encrypt" in violation.message


def test_no_policy_built_from_the_replica_key_fails_at_preview(analyze: Analyze) -> None:
    (violation,) = _mine(analyze(replication_stack(preview=True, policy_uses_key=False)))
    assert "no policy of its role grants the replica key 'replica-kms'" in violation.message


def test_the_real_production_grant_passes_and_fails_without_decrypt(
    analyze: Analyze, production_up: Evaluation
) -> None:
    """The committed production stack passes; its grant with kms:Decrypt dropped on the replica key fails."""
    assert _mine(analyze(production_up.resources)) == []
    broken = []
    for r in production_up.resources:
        if r.name == "backups-replication-kms-policy":
            document = json.loads(r.inputs["policy"])
            for statement in document["Statement"]:
                if statement["Sid"] == "EncryptReplica":
                    statement["Action"] = ["kms:Encrypt"]
            r = replace(r, inputs={**r.inputs, "policy": json.dumps(document)})
        broken.append(r)
    (violation,) = _mine(analyze(broken))
    assert "backups-replication" in violation.message and "kms:Decrypt" in violation.message
