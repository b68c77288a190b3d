"""Terraform-plan JSON export: types, attribute shapes, references, and that Checkov reads it faithfully."""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import Future
from pathlib import Path

import pulumi_aws as aws
import pytest
import yaml

from preflight import terraform
from preflight.engine import Evaluation, run_program
from preflight.model import SECRET_SIG, SECRET_SIG_VALUE, UNKNOWN
from tests.early import POOL, starts_early


@pytest.mark.parametrize(
    ("camel", "snake"),
    [("cidrIpv4", "cidr_ipv4"), ("kmsKeyId", "kms_key_id"), ("multiAz", "multi_az"), ("tags", "tags")],
)
def test_snake_case(camel: str, snake: str) -> None:
    assert terraform.snake(camel) == snake


@pytest.mark.parametrize(
    ("plural", "single"),
    [
        ("default_actions", "default_action"),
        ("capacity_provider_strategies", "capacity_provider_strategy"),
        ("rules", "rule"),
        ("ingress", "ingress"),
        ("egress", "egress"),
    ],
)
def test_block_names_are_singular(plural: str, single: str) -> None:
    assert terraform.singular(plural) == single


def test_attributes_become_terraform_shapes() -> None:
    values, unknown = terraform.convert_attributes(
        {
            "storageEncrypted": True,
            "allocatedStorage": 20.0,
            "tags": {"environment": "staging", "Name": "x"},
            "networkConfiguration": {"assignPublicIp": False, "securityGroups": [UNKNOWN]},
            "defaultActions": [{"type": "forward", "targetGroupArn": UNKNOWN}],
            "kmsKeyId": UNKNOWN,
            "password": {SECRET_SIG: SECRET_SIG_VALUE, "value": "hunter2"},
        }
    )
    assert values == {
        "storage_encrypted": True,
        "allocated_storage": 20,
        "tags": {"environment": "staging", "Name": "x"},
        "network_configuration": [{"assign_public_ip": False, "security_groups": []}],
        "default_action": [{"type": "forward"}],
        "password": "hunter2",
    }
    assert unknown == {
        "network_configuration": [{"security_groups": [True]}],
        "default_action": [{"target_group_arn": True}],
        "kms_key_id": True,
    }


def _bucket_program() -> None:
    bucket = aws.s3.Bucket("backups", bucket="acme-backups", tags={"purpose": "backups"})
    aws.s3.BucketPublicAccessBlock(
        "backups-pab",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    aws.s3.Bucket("lonely", bucket="acme-lonely")


def test_property_dependencies_become_references() -> None:
    plan = terraform.to_plan(run_program(_bucket_program, preview=True).resources)
    config = {r["address"]: r for r in plan.document["configuration"]["root_module"]["resources"]}
    pab = config["aws_s3_bucket_public_access_block.backups-pab"]
    assert pab["expressions"]["bucket"] == {
        "references": ["aws_s3_bucket.backups.id", "aws_s3_bucket.backups"]
    }
    assert pab["expressions"]["block_public_acls"] == {"constant_value": True}
    planned = {r["address"]: r for r in plan.document["planned_values"]["root_module"]["resources"]}
    assert "bucket" not in planned["aws_s3_bucket_public_access_block.backups-pab"]["values"]  # unknown
    changes = {r["address"]: r for r in plan.document["resource_changes"]}
    assert (
        changes["aws_s3_bucket_public_access_block.backups-pab"]["change"]["after_unknown"]["bucket"] is True
    )
    assert planned["aws_s3_bucket.backups"]["values"]["tags"] == {"purpose": "backups"}
    assert plan.unmapped == {}


def test_unmapped_types_are_listed_not_dropped_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def program() -> None:
        aws.dynamodb.Table("jobs", hash_key="id", attributes=[{"name": "id", "type": "S"}])
        aws.s3.Bucket("b")

    evaluation = run_program(program, preview=True)
    plan = terraform.write_plan(evaluation, tmp_path / "plan.json")
    assert plan.unmapped == {"aws:dynamodb/table:Table": ["jobs"]}
    assert "aws:dynamodb/table:Table (jobs)" in capsys.readouterr().err
    assert [r["type"] for r in json.loads((tmp_path / "plan.json").read_text())["resource_changes"]] == [
        "aws_s3_bucket"
    ]


def test_every_type_of_the_stacks_is_mapped(stack: Evaluation) -> None:
    plan = terraform.to_plan(stack.resources)
    assert plan.unmapped == {}


def test_skip_list_is_reviewed() -> None:
    skips = terraform.load_skips()
    keys = [(s.check_id, s.stacks, s.resources) for s in skips]
    assert len(set(keys)) == len(keys)
    assert all(s.check_id.startswith(("CKV_", "CKV2_")) and s.justification for s in skips)
    assert all("\n" not in s.justification for s in skips)
    # One list only: checkov/skips.yaml holds `skips:` and nothing else (no tolerated "known gaps").
    assert set(yaml.safe_load(terraform.SKIPS_FILE.read_text())) == {"skips"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "skips: []\ngaps:\n  - {id: CKV_AWS_18, owner: x, why: later}\n",
            "skips.yaml: only a 'skips:' list is allowed (found gaps); fix a failure or skip it there "
            "with a one-line 'why'",
        ),
        (
            "skips:\n  - {id: CKV_AWS_18, owner: x, why: later}\n",
            "skips.yaml: CKV_AWS_18 has unknown key(s) owner (allowed: id, resources, stacks, why)",
        ),
        ("skips:\n  - {id: CKV_AWS_18}\n", "skips.yaml: CKV_AWS_18 needs a one-line justification ('why')"),
    ],
    ids=["gaps-section", "owner-key", "no-why"],
)
def test_skip_list_refuses_anything_but_reviewed_skips(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "skips.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as raised:
        terraform.load_skips(path)
    assert str(raised.value) == message


def _rds_program() -> None:
    common = {
        "engine": "postgres",
        "engine_version": "15",
        "instance_class": "db.t4g.micro",
        "allocated_storage": 20,
    }
    aws.rds.Instance("unencrypted", storage_encrypted=False, **common)
    aws.rds.Instance(
        "encrypted", storage_encrypted=True, kms_key_id="arn:aws:kms:us-west-2:1:key/k", **common
    )
    _bucket_program()


SAMPLE_CHECKS = ("CKV_AWS_16", "CKV2_AWS_6")
# Checkov's answer for the sample plan, keyed by the hash of what it was asked (Checkov's version, the
# checks, the plan's bytes). A changed sample or a new Checkov misses the key: Checkov runs again, and
# outside CI its answer is recorded here. `.ci/run` runs Checkov fresh on the committed stacks' plans.
RECORDED = Path(__file__).parent / "fixtures" / "checkov-sample.json"


def _checkov_input_hash(plan: bytes) -> str:
    asked = f"checkov {terraform.CHECKOV_VERSION} --check {','.join(SAMPLE_CHECKS)}\n".encode()
    return hashlib.sha256(asked + plan).hexdigest()


def _record(key: str, result: terraform.CheckovResult) -> None:
    """Checkov's report reduced to what the test reads (no machine paths), in Checkov's own shape."""
    results = {
        kind: [{k: c[k] for k in ("check_id", "resource", "check_name") if k in c} for c in found]
        for report in result.raw
        for kind, found in report.get("results", {}).items()
        if kind in ("passed_checks", "failed_checks", "skipped_checks")
    }
    recording = {"input_sha256": key, "returncode": result.returncode, "report": [{"results": results}]}
    RECORDED.write_text(json.dumps(recording, indent=1, sort_keys=True) + "\n")


@starts_early
def checkov_on_sample(directory: Path) -> Future[terraform.CheckovResult]:
    """Checkov over the sample plan: the recorded answer when the input hash matches, else one run
    started with the session (it runs while the other tests do)."""
    path = directory / "plan.json"
    terraform.write_plan(run_program(_rds_program, preview=True), path)
    key = _checkov_input_hash(path.read_bytes())
    recorded = json.loads(RECORDED.read_text()) if RECORDED.exists() else {}
    if recorded.get("input_sha256") == key:
        answer: Future[terraform.CheckovResult] = Future()
        answer.set_result(terraform.parse_report(json.dumps(recorded["report"]), recorded["returncode"]))
        return answer

    def fresh() -> terraform.CheckovResult:
        result = terraform.run_checkov([path], checks=SAMPLE_CHECKS)
        if not os.environ.get("CI"):
            _record(key, result)
        return result

    return POOL.submit(fresh)


def test_checkov_fails_the_bad_resource_and_passes_the_fixed_one(
    checkov_on_sample: terraform.CheckovResult,
) -> None:
    """One Checkov run: RDS storage encryption (CKV_AWS_16) and bucket <-> public access block (graph)."""
    result = checkov_on_sample
    failed = {(f.check_id, f.resource) for f in result.failed}
    assert failed == {("CKV_AWS_16", "aws_db_instance.unencrypted"), ("CKV2_AWS_6", "aws_s3_bucket.lonely")}
    passed = {
        (c["check_id"], c["resource"])
        for report in result.raw
        for c in report.get("results", {}).get("passed_checks", [])
    }
    assert ("CKV_AWS_16", "aws_db_instance.encrypted") in passed
    assert ("CKV2_AWS_6", "aws_s3_bucket.backups") in passed  # connected through the reference


def test_scoped_skips_and_stale_entries() -> None:
    rds = terraform.Finding("CKV_AWS_157", "aws_db_instance.pg", "multi-AZ", "/staging.tfplan.json")
    rds_prod = terraform.Finding("CKV_AWS_157", "aws_db_instance.pg", "multi-AZ", "/production.tfplan.json")
    logs = terraform.Finding("CKV_AWS_18", "aws_s3_bucket.logs", "access logs", "/production.tfplan.json")
    other = terraform.Finding("CKV_AWS_158", "aws_cloudwatch_log_group.a", "kms", "/production.tfplan.json")
    skips = [
        terraform.Skip("CKV_AWS_157", "staging is single-AZ", stacks=("staging",)),
        terraform.Skip("CKV_AWS_18", "a log bucket", resources=("aws_s3_bucket.logs",)),
        terraform.Skip("CKV_AWS_144", "never fails here", resources=("aws_s3_bucket.b",)),
    ]
    result = terraform.CheckovResult(0, [rds, rds_prod, logs, other], 0, 0)
    verdict = terraform.classify(result, skips)
    # Production is not covered by the staging-only skip, and nothing is tolerated outside the list.
    assert verdict.failed == [rds_prod, other]
    assert verdict.skipped == [(rds, skips[0]), (logs, skips[1])]
    assert verdict.stale == [skips[2]]


def test_check_command_fails_on_a_failure_outside_the_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m preflight.terraform check`: exit 1 and a FAILED line for any failure not in the list."""
    skips = tmp_path / "skips.yaml"
    skips.write_text(
        "skips:\n  - id: CKV_AWS_18\n    resources: [aws_s3_bucket.logs]\n    why: a log bucket\n"
    )
    found = [
        terraform.Finding("CKV_AWS_18", "aws_s3_bucket.logs", "access logs", "/staging.tfplan.json"),
        terraform.Finding("CKV_AWS_158", "aws_cloudwatch_log_group.a", "kms", "/staging.tfplan.json"),
    ]
    monkeypatch.setattr(terraform, "run_checkov", lambda *a, **k: terraform.CheckovResult(7, found, 0, 0))
    assert terraform.main(["check", "staging.tfplan.json", "--skips", str(skips)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "checkov 3.3.30: 7 passed, 1 failed, 1 skipped (reviewed list)"
    assert "  FAILED CKV_AWS_158 aws_cloudwatch_log_group.a (/staging.tfplan.json): kms" in out
    assert "GAP" not in out
    monkeypatch.setattr(terraform, "run_checkov", lambda *a, **k: terraform.CheckovResult(7, found[:1], 0, 0))
    assert terraform.main(["check", "staging.tfplan.json", "--skips", str(skips)]) == 0
