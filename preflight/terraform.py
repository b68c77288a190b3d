"""Export the recorded resources as Terraform-plan JSON, and run Checkov on it.

Checkov reads ``terraform show -json`` output. Pulumi's AWS and Cloudflare providers are bridged from the
Terraform providers, so a recorded resource maps onto the Terraform resource it wraps:

* the type through :data:`TF_TYPES` (``aws:rds/instance:Instance`` -> ``aws_db_instance``); resources of a
  type not in the table are left out and listed (``Plan.unmapped``);
* engine names are camelCase, Terraform's snake_case; nested objects become single-element block lists and
  lists of objects keep their order under the singular block name Terraform uses (Pulumi pluralises
  repeated blocks: ``defaultActions`` -> ``default_action``); maps (``tags``, alarm ``dimensions``) stay maps;
* a property dependency becomes a reference in ``configuration.root_module.resources[].expressions``
  (``{"references": ["aws_s3_bucket.backups.id", "aws_s3_bucket.backups"]}``), which is how Checkov's graph
  checks connect, e.g., a bucket to its public access block; values unknown at preview are left out of
  ``values`` and flagged in ``after_unknown``, as Terraform does;
* secrets are unwrapped (Checkov must see them to flag, e.g., plaintext in task definitions) and listed in
  ``sensitive_values``.

``python -m preflight <stack> --export-tfplan out.json`` writes the plan; ``python -m preflight.terraform
check PLAN...`` runs Checkov (pinned, in an isolated ``uv tool`` environment: its pins conflict with
pulumi's protobuf/grpc) with the reviewed skip list ``checkov/skips.yaml`` and exits 1 on any failed check.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .engine import Evaluation
from .model import SECRET_SIG, UNKNOWN, RecordedResource

REPO_ROOT = Path(__file__).resolve().parent.parent
SKIPS_FILE = REPO_ROOT / "checkov" / "skips.yaml"
CHECKOV_VERSION = "3.3.30"
CHECKOV_COMMAND = ("uv", "tool", "run", "--from", f"checkov=={CHECKOV_VERSION}", "checkov")

# Pulumi type token -> Terraform resource type, for every type the program uses (and their neighbours).
TF_TYPES: dict[str, str] = {
    "aws:acm/certificate:Certificate": "aws_acm_certificate",
    "aws:acm/certificateValidation:CertificateValidation": "aws_acm_certificate_validation",
    "aws:appautoscaling/policy:Policy": "aws_appautoscaling_policy",
    "aws:appautoscaling/target:Target": "aws_appautoscaling_target",
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": "aws_cloudwatch_composite_alarm",
    "aws:cloudwatch/dashboard:Dashboard": "aws_cloudwatch_dashboard",
    "aws:cloudwatch/eventRule:EventRule": "aws_cloudwatch_event_rule",
    "aws:cloudwatch/eventTarget:EventTarget": "aws_cloudwatch_event_target",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": "aws_cloudwatch_log_metric_filter",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "aws_cloudwatch_log_resource_policy",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/instance:Instance": "aws_instance",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/route:Route": "aws_route",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "aws_security_group_rule",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "aws_ecr_lifecycle_policy",
    "aws:ecr/repository:Repository": "aws_ecr_repository",
    "aws:ecs/cluster:Cluster": "aws_ecs_cluster",
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": "aws_ecs_cluster_capacity_providers",
    "aws:ecs/service:Service": "aws_ecs_service",
    "aws:ecs/taskDefinition:TaskDefinition": "aws_ecs_task_definition",
    "aws:elasticache/parameterGroup:ParameterGroup": "aws_elasticache_parameter_group",
    "aws:elasticache/replicationGroup:ReplicationGroup": "aws_elasticache_replication_group",
    "aws:elasticache/subnetGroup:SubnetGroup": "aws_elasticache_subnet_group",
    "aws:iam/policy:Policy": "aws_iam_policy",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:kms/replicaKey:ReplicaKey": "aws_kms_replica_key",
    "aws:lb/listener:Listener": "aws_lb_listener",
    "aws:lb/listenerRule:ListenerRule": "aws_lb_listener_rule",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:lb/targetGroup:TargetGroup": "aws_lb_target_group",
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketV2:BucketV2": "aws_s3_bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "aws_s3_bucket_lifecycle_configuration"
    ),
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": (
        "aws_s3_bucket_lifecycle_configuration"
    ),
    "aws:s3/bucketLogging:BucketLogging": "aws_s3_bucket_logging",
    "aws:s3/bucketLoggingV2:BucketLoggingV2": "aws_s3_bucket_logging",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2": "aws_s3_bucket_versioning",
    "aws:scheduler/schedule:Schedule": "aws_scheduler_schedule",
    "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
    "aws:secretsmanager/secretVersion:SecretVersion": "aws_secretsmanager_secret_version",
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": (
        "aws_service_discovery_private_dns_namespace"
    ),
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sqs/queue:Queue": "aws_sqs_queue",
    "aws:sqs/queuePolicy:QueuePolicy": "aws_sqs_queue_policy",
    "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
    "aws:wafv2/webAcl:WebAcl": "aws_wafv2_web_acl",
    "cloudflare:index/dnsRecord:DnsRecord": "cloudflare_dns_record",
    "cloudflare:index/ruleset:Ruleset": "cloudflare_ruleset",
    "cloudflare:index/zoneSetting:ZoneSetting": "cloudflare_zone_setting",
    "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared": (
        "cloudflare_zero_trust_tunnel_cloudflared"
    ),
    "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig": (
        "cloudflare_zero_trust_tunnel_cloudflared_config"
    ),
    "random:index/randomBytes:RandomBytes": "random_bytes",
    "random:index/randomId:RandomId": "random_id",
    "random:index/randomPassword:RandomPassword": "random_password",
    "random:index/randomString:RandomString": "random_string",
}
# Types that have no Terraform counterpart to check (leaving them out is expected, not a gap).
NOT_TERRAFORM = frozenset({"docker:index/image:Image", "docker-build:index:Image"})
# Attributes whose object values are maps in Terraform (not blocks): keys are kept verbatim.
MAP_ATTRIBUTES = frozenset({"tags", "tagsAll", "dimensions", "variables", "triggers", "keepers"})
PROVIDERS = {
    "aws": "registry.terraform.io/hashicorp/aws",
    "cloudflare": "registry.terraform.io/cloudflare/cloudflare",
    "random": "registry.terraform.io/hashicorp/random",
}


def snake(name: str) -> str:
    """camelCase -> snake_case (``cidrIpv4`` -> ``cidr_ipv4``, ``kmsKeyId`` -> ``kms_key_id``)."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text).lower()


def singular(name: str) -> str:
    """The block name Terraform uses for a list Pulumi pluralised (``rules`` -> ``rule``)."""
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("sses", "shes", "ches", "xes")):
        return name[:-2]
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


def _plain(value: Any) -> Any:
    """Engine encoding -> plain JSON: unwrap secrets, integral floats become ints."""
    if _is_secret(value):
        return _plain(value.get("value"))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _has_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    return False


def convert_attributes(inputs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Engine inputs -> (Terraform ``values``, ``after_unknown``); unknown scalars are left out of values."""
    values: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    for key, raw in inputs.items():
        if key.startswith("__"):
            continue
        value = _plain(raw)
        if key in MAP_ATTRIBUTES and isinstance(value, dict):
            known = {k: v for k, v in value.items() if v != UNKNOWN}
            values[snake(key)] = known
            if len(known) != len(value):
                unknown[snake(key)] = True
            continue
        if value == UNKNOWN:
            unknown[snake(key)] = True
            continue
        if isinstance(value, dict):
            block, block_unknown = convert_attributes(value)
            values[snake(key)] = [block]
            if block_unknown:
                unknown[snake(key)] = [block_unknown]
            continue
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            name = singular(snake(key))
            converted = [convert_attributes(v) for v in value]
            values[name] = [c[0] for c in converted]
            if any(c[1] for c in converted):
                unknown[name] = [c[1] for c in converted]
            continue
        if isinstance(value, list) and _has_unknown(value):
            values[snake(key)] = [v for v in value if v != UNKNOWN]
            unknown[snake(key)] = [v == UNKNOWN for v in value]
            continue
        values[snake(key)] = value
    return values, unknown


@dataclass
class Plan:
    document: dict[str, Any]
    addresses: dict[str, str] = field(default_factory=dict)  # urn -> Terraform address
    unmapped: dict[str, list[str]] = field(default_factory=dict)  # pulumi type -> resource names


def _tf_names(resources: Sequence[RecordedResource]) -> dict[str, tuple[str, str]]:
    names: dict[str, tuple[str, str]] = {}
    used: set[str] = set()
    for r in resources:
        tf_type = TF_TYPES[r.type]
        base = re.sub(r"[^A-Za-z0-9_-]", "_", r.name)
        if not re.match(r"[A-Za-z_]", base):
            base = f"r_{base}"
        name, n = base, 2
        while f"{tf_type}.{name}" in used:
            name, n = f"{base}_{n}", n + 1
        used.add(f"{tf_type}.{name}")
        names[r.urn] = (tf_type, name)
    return names


def to_plan(resources: Iterable[RecordedResource]) -> Plan:
    """The Terraform-plan JSON document (format 1.2) for the custom resources among ``resources``."""
    # By URN: the engine's registration order differs between identical runs (async program code).
    custom = sorted(
        (r for r in resources if r.custom and not r.type.startswith("pulumi:providers:")), key=lambda r: r.urn
    )
    unmapped: dict[str, list[str]] = {}
    for r in custom:
        if r.type not in TF_TYPES and r.type not in NOT_TERRAFORM:
            unmapped.setdefault(r.type, []).append(r.name)
    mapped = [r for r in custom if r.type in TF_TYPES]
    names = _tf_names(mapped)
    addresses = {urn: f"{t}.{n}" for urn, (t, n) in names.items()}

    planned: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    configuration: list[dict[str, Any]] = []
    for r in mapped:
        tf_type, name = names[r.urn]
        address = addresses[r.urn]
        provider = PROVIDERS.get(r.type.split(":", 1)[0], "")
        values, after_unknown = convert_attributes(r.inputs)
        sensitive = {snake(k): True for k, v in r.inputs.items() if _is_secret(v)}
        expressions: dict[str, Any] = {}
        for key, urns in sorted(r.property_dependencies.items()):
            refs: list[str] = []
            for urn in sorted(urns):
                if urn in addresses:
                    refs += [f"{addresses[urn]}.id", addresses[urn]]
            if refs:
                expressions[snake(key)] = {"references": refs}
        for key, value in values.items():
            if key not in expressions and not isinstance(value, list | dict):
                expressions[key] = {"constant_value": value}
        common = {"address": address, "mode": "managed", "type": tf_type, "name": name}
        planned.append(
            {
                **common,
                "provider_name": provider,
                "schema_version": 0,
                "values": values,
                "sensitive_values": sensitive,
            }
        )
        changes.append(
            {
                **common,
                "provider_name": provider,
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": values,
                    "after_unknown": after_unknown,
                    "before_sensitive": False,
                    "after_sensitive": sensitive,
                },
            }
        )
        configuration.append(
            {
                **common,
                "provider_config_key": tf_type.split("_", 1)[0],
                "expressions": expressions,
                "schema_version": 0,
            }
        )
    document = {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {key: {"name": key, "full_name": full} for key, full in PROVIDERS.items()},
            "root_module": {"resources": configuration},
        },
    }
    return Plan(document, addresses, unmapped)


def write_plan(evaluation: Evaluation, path: str | os.PathLike[str]) -> Plan:
    plan = to_plan(evaluation.resources)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(plan.document, indent=1, sort_keys=True))
    if plan.unmapped:
        listed = "; ".join(f"{t} ({', '.join(n)})" for t, n in sorted(plan.unmapped.items()))
        print(f"preflight: not exported (no Terraform type mapped): {listed}", file=sys.stderr)
    return plan


# --- Checkov --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Skip:
    """A reviewed exception: the whole check (no qualifiers), or only some stacks and/or resources."""

    check_id: str
    justification: str
    stacks: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()

    @property
    def is_global(self) -> bool:
        return not self.stacks and not self.resources

    def applies_to(self, plans: Mapping[str, set[str] | None]) -> bool:
        """Whether the skip concerns any of ``plans`` (stack -> resource addresses in its plan; None when
        the plan could not be read, taken as holding every resource)."""
        stacks = [s for s in plans if not self.stacks or s in self.stacks]
        return any(
            not self.resources or (addresses := plans[s]) is None or bool(set(self.resources) & addresses)
            for s in stacks
        )

    def matches(self, finding: Finding) -> bool:
        stack = Path(finding.file).name.split(".", 1)[0]
        return (
            finding.check_id == self.check_id
            and (not self.stacks or stack in self.stacks)
            and (not self.resources or finding.resource in self.resources)
        )


SKIP_KEYS = frozenset({"id", "why", "stacks", "resources"})


def load_skips(path: Path = SKIPS_FILE) -> list[Skip]:
    """The one reviewed list (``skips:``); every entry needs a one-line ``why``. Nothing else is tolerated:
    a failure is either fixed or skipped here with its justification (there is no list of known gaps)."""
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict) or set(raw) - {"skips"}:
        extra = ", ".join(sorted(set(raw) - {"skips"})) if isinstance(raw, dict) else type(raw).__name__
        raise ValueError(
            f"{path.name}: only a 'skips:' list is allowed (found {extra}); fix a failure or skip it there "
            "with a one-line 'why'"
        )
    skips = []
    for entry in raw.get("skips") or []:
        unknown = set(entry) - SKIP_KEYS
        if unknown:
            raise ValueError(
                f"{path.name}: {entry.get('id')} has unknown key(s) {', '.join(sorted(unknown))} "
                f"(allowed: {', '.join(sorted(SKIP_KEYS))})"
            )
        why = str(entry.get("why", "")).strip()
        if not why or "\n" in why:
            raise ValueError(f"{path.name}: {entry.get('id')} needs a one-line justification ('why')")
        skips.append(
            Skip(
                str(entry["id"]),
                why,
                tuple(entry.get("stacks") or ()),
                tuple(entry.get("resources") or ()),
            )
        )
    return skips


@dataclass(frozen=True)
class Finding:
    check_id: str
    resource: str
    name: str
    file: str


@dataclass
class CheckovResult:
    passed: int
    failed: list[Finding]
    skipped: int
    returncode: int
    raw: Any = None


def checkov_command() -> list[str]:
    override = os.environ.get("CHECKOV")
    if override:
        return shlex.split(override)
    # `uv run` names its own binary in $UV: the pinned uv of ./uvw works without any uv on PATH.
    return [os.environ.get("UV") or CHECKOV_COMMAND[0], *CHECKOV_COMMAND[1:]]


def run_checkov(
    plan_files: Sequence[str | os.PathLike[str]],
    *,
    skips: Sequence[Skip] = (),
    checks: Sequence[str] = (),
    timeout: float = 900,
) -> CheckovResult:
    """Run Checkov's terraform_plan framework on ``plan_files``; parse its JSON report."""
    cmd = [*checkov_command(), "--framework", "terraform_plan", "--output", "json", "--compact"]
    cmd += ["--skip-download", "--soft-fail"]
    for plan in plan_files:
        cmd += ["--file", str(plan)]
    global_skips = [s.check_id for s in skips if s.is_global]
    if global_skips:
        cmd += ["--skip-check", ",".join(global_skips)]
    if checks:
        cmd += ["--check", ",".join(checks)]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    return parse_report(proc.stdout, proc.returncode, proc.stderr)


def parse_report(stdout: str, returncode: int, stderr: str = "") -> CheckovResult:
    """Checkov's ``--output json`` report (one framework: an object; several: a list) as a result."""
    try:
        report = json.loads(stdout) if stdout.strip() else []
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"checkov printed no JSON (exit {returncode}): {stderr[-2000:]}") from exc
    reports = report if isinstance(report, list) else [report]
    passed = skipped = 0
    failed: list[Finding] = []
    for item in reports:
        if not isinstance(item, dict):
            continue
        results = item.get("results", {})
        passed += len(results.get("passed_checks", []))
        skipped += len(results.get("skipped_checks", []))
        for check in results.get("failed_checks", []):
            failed.append(
                Finding(
                    check["check_id"],
                    check.get("resource", ""),
                    check.get("check_name", ""),
                    check.get("file_path", ""),
                )
            )
    return CheckovResult(passed, failed, skipped, returncode, reports)


@dataclass
class Verdict:
    failed: list[Finding]  # every failure no reviewed skip covers: the run fails
    skipped: list[tuple[Finding, Skip]]
    stale: list[Skip]  # scoped skips that matched nothing: remove them


def plan_addresses(plan_files: Sequence[str | os.PathLike[str]]) -> dict[str, set[str] | None]:
    """Stack (``<stack>.tfplan.json``) -> the resource addresses its plan holds (None: unreadable)."""
    plans: dict[str, set[str] | None] = {}
    for path in plan_files:
        stack = Path(path).name.split(".", 1)[0]
        try:
            changes = json.loads(Path(path).read_text()).get("resource_changes", [])
        except (OSError, ValueError):
            plans[stack] = None
            continue
        known = plans.get(stack, set())
        plans[stack] = None if known is None else known | {c["address"] for c in changes}
    return plans


def classify(
    result: CheckovResult, skips: Sequence[Skip], plans: Mapping[str, set[str] | None] | None = None
) -> Verdict:
    """Failures not covered by a skip, skipped failures, and stale skips: scoped skips that apply to the
    given ``plans`` (all of them when None) and matched nothing. A skip for a stack or resource that is
    not among the checked plans is not stale: checking one plan alone reports no false STALE."""
    scoped = [s for s in skips if not s.is_global]
    verdict = Verdict([], [], [])
    used: set[int] = set()
    for finding in result.failed:
        match = next(((i, s) for i, s in enumerate(scoped) if s.matches(finding)), None)
        if match is None:
            verdict.failed.append(finding)
            continue
        used.add(match[0])
        verdict.skipped.append((finding, match[1]))
    verdict.stale = [
        s for i, s in enumerate(scoped) if i not in used and (plans is None or s.applies_to(plans))
    ]
    return verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight.terraform")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="run Checkov on exported plans (<stack>.tfplan.json) with the skips")
    check.add_argument("plans", nargs="+")
    check.add_argument("--skips", default=str(SKIPS_FILE))
    args = parser.parse_args(argv)

    skips = load_skips(Path(args.skips))
    result = run_checkov(args.plans, skips=skips)
    verdict = classify(result, skips, plan_addresses(args.plans))
    print(
        f"checkov {CHECKOV_VERSION}: {result.passed} passed, {len(verdict.failed)} failed, "
        f"{result.skipped + len(verdict.skipped)} skipped (reviewed list)"
    )
    globally = [s.check_id for s in skips if s.is_global]
    print(f"skipped everywhere ({Path(args.skips).name}): {', '.join(globally) or 'none'}")
    for finding in sorted(verdict.failed, key=lambda f: (f.check_id, f.resource)):
        print(f"  FAILED {finding.check_id} {finding.resource} ({finding.file}): {finding.name}")
    for skip in verdict.stale:
        print(
            f"  STALE {skip.check_id} {skip.stacks or ''} {skip.resources or ''}: matched nothing, remove it"
        )
    return 1 if verdict.failed or verdict.stale else 0


if __name__ == "__main__":
    sys.exit(main())
