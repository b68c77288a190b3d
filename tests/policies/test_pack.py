"""The pack as a whole: what the CLI sees (GetAnalyzerInfo), how it is built and started."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import sys
from pathlib import Path

import pytest
import yaml

from policies.saas_guardrails import ALL_POLICIES
from policies.saas_guardrails.aws_taggable import AWS_TAGGABLE_TYPES, PULUMI_AWS_VERSION
from policies.tools.generate_aws_taggable import pulumi_aws_dir, taggable_types
from preflight.analyzer import DEFAULT_PACK_DIR, PackProcess, PackStartError, Violation, start_pack

PACK_DIR = DEFAULT_PACK_DIR
STACK_POLICIES = {
    "scheduler-exactly-one",
    "scheduler-no-autoscaling",
    "ecs-fargate-spot-x86",
    "s3-public-access-block",
    "s3-encryption",
    "s3-backup-versioning",
    "s3-backup-lifecycle",
    "s3-replication-replica-key",
    "sns-encrypted-topic-publishers",
    "fixed-name-replacement",
    "nat-instance-vpc-only",
    "backup-drill-stale-alarm",
    "tunnel-api-no-ingress",
}


def test_analyzer_info_lists_every_policy_as_mandatory(pack: PackProcess) -> None:
    info = pack.info()
    assert info.name == "saas-guardrails"
    assert info.policy_names == [p.name for p in ALL_POLICIES]
    assert len(set(info.policy_names)) == len(info.policy_names)
    # No rule is advisory: each guards an invariant of the design (docs/conventions.md).
    assert {p.name: p.level for p in info.policies} == {p.name: "mandatory" for p in ALL_POLICIES}
    assert {p.name for p in info.policies if p.kind == "stack"} == STACK_POLICIES
    assert all(p.kind in ("resource", "stack") and p.description and p.severity for p in info.policies)
    assert info.initial_config == {}


def test_tunable_thresholds_are_policy_config_with_defaults(pack: PackProcess) -> None:
    info = pack.info()
    assert info.policy("rds-backup-retention").config_schema["minimumDays"]["default"] == 7
    assert info.policy("log-retention").config_schema["minimumDays"]["default"] == 14
    assert info.policy("required-tags").config_schema["requiredTags"]["default"] == [
        "environment",
        "app",
        "managed-by",
    ]
    resolved = pack.configure()
    assert resolved["log-retention"] == {"enforcementLevel": "mandatory", "minimumDays": 14}
    assert resolved["scheduler-singleton"] == {"enforcementLevel": "mandatory"}
    assert set(resolved) == set(info.policy_names)


def test_pack_runs_as_its_own_process_in_the_pack_directory(pack: PackProcess) -> None:
    assert pack.process.pid != os.getpid()
    assert pack.process.poll() is None
    assert pack.process.args == [sys.executable, "-u", "__main__.py"]
    if Path("/proc").is_dir():
        assert Path(f"/proc/{pack.process.pid}/cwd").resolve() == PACK_DIR.resolve()


def test_main_only_builds_the_policy_pack() -> None:
    tree = ast.parse((PACK_DIR / "__main__.py").read_text())
    body = list(tree.body)
    assert ast.get_docstring(tree)
    body = body[1:]
    calls = [node for node in body if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)]
    others = [node for node in body if node not in calls]
    assert all(isinstance(node, ast.Import | ast.ImportFrom) for node in others), ast.dump(tree)
    assert not any(isinstance(node, ast.FunctionDef | ast.ClassDef) for node in ast.walk(tree))
    rendered = [ast.unparse(call) for call in calls]
    assert rendered[0] == "sys.path.insert(0, str(Path(__file__).resolve().parent))"
    # The faster Struct conversion (saas_guardrails/struct_fast.py), then the pack itself.
    assert rendered[1] == "struct_fast.install(pulumi_policy.policy)"
    assert len(rendered) == 3 and rendered[2].startswith("PolicyPack(")
    pack_call = calls[2].value
    assert isinstance(pack_call, ast.Call)
    keywords = {k.arg: ast.unparse(k.value) for k in pack_call.keywords}
    assert keywords["name"] == "PACK_NAME"
    assert keywords["policies"] == "ALL_POLICIES"
    assert keywords["enforcement_level"] == "EnforcementLevel.MANDATORY"
    imported = {alias.name for node in others if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert {"ALL_POLICIES", "PolicyPack", "EnforcementLevel"} <= imported


def test_pack_project_files() -> None:
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    # Same toolchain as Pulumi.yaml: the CLI runs the pack with the project's uv-managed .venv.
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "uv"}}
    assert project["name"] == "saas-guardrails"
    assert project["version"] and project["description"]
    requirements = (PACK_DIR / "requirements.txt").read_text().split()
    assert requirements == ["pulumi==3.272.0", "pulumi-policy==1.21.0"]


def test_taggable_types_match_the_pinned_pulumi_aws() -> None:
    assert importlib.metadata.version("pulumi-aws") == PULUMI_AWS_VERSION, "regenerate aws_taggable.py"
    assert set(AWS_TAGGABLE_TYPES) == taggable_types(pulumi_aws_dir()), "regenerate aws_taggable.py"
    assert {
        "aws:ecs/service:Service",
        "aws:rds/instance:Instance",
        "aws:s3/bucket:Bucket",
    } <= AWS_TAGGABLE_TYPES
    assert "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock" not in AWS_TAGGABLE_TYPES
    assert "aws:autoscaling/group:Group" not in AWS_TAGGABLE_TYPES  # list-shaped tags, not a map


def _fake_pack(tmp_path: Path, body: str) -> Path:
    (tmp_path / "__main__.py").write_text(body)
    return tmp_path


def test_start_reports_a_pack_that_dies(tmp_path: Path) -> None:
    pack_dir = _fake_pack(tmp_path, "raise RuntimeError('rule module is broken')\n")
    with pytest.raises(PackStartError) as error:
        start_pack(pack_dir)
    assert "exited with code 1 before printing its port" in str(error.value)
    assert "RuntimeError: rule module is broken" in str(error.value)


def test_start_reports_a_pack_that_prints_something_else(tmp_path: Path) -> None:
    pack_dir = _fake_pack(tmp_path, "print('hello')\nimport time\ntime.sleep(30)\n")
    with pytest.raises(PackStartError, match="printed 'hello' instead of its port"):
        start_pack(pack_dir)


def test_start_reports_a_silent_pack(tmp_path: Path) -> None:
    pack_dir = _fake_pack(tmp_path, "import sys, time\nprint('starting', file=sys.stderr)\ntime.sleep(30)\n")
    with pytest.raises(PackStartError) as error:
        start_pack(pack_dir, timeout=0.5)
    assert "printed no port within 0.5 s" in str(error.value) and "starting" in str(error.value)


def test_start_reports_a_missing_interpreter(tmp_path: Path) -> None:
    pack_dir = _fake_pack(tmp_path, "")
    with pytest.raises(PackStartError, match="cannot start policy pack"):
        start_pack(pack_dir, python=str(tmp_path / "no-such-python"))


def test_start_refuses_a_directory_without_main(tmp_path: Path) -> None:
    with pytest.raises(PackStartError, match=r"has no __main__\.py"):
        start_pack(tmp_path)


def test_violation_text() -> None:
    violation = Violation(
        policy_name="kms-key-rotation",
        policy_pack="saas-guardrails",
        level="mandatory",
        urn="urn:pulumi:test::saas-backend::aws:kms/key:Key::k",
        message="Symmetric KMS keys rotate.\nKMS key 'k' has enableKeyRotation false; it must be true.",
        description="Symmetric KMS keys rotate.",
        severity="medium",
        kind="resource",
    )
    assert violation.detail == "KMS key 'k' has enableKeyRotation false; it must be true."
    assert str(violation).startswith("[mandatory] saas-guardrails/kms-key-rotation urn:pulumi:")
    assert not violation.is_preview_skip
