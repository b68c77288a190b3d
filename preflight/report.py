"""Human-readable views of an evaluation: the resource tree with the properties that matter, and counts."""

from __future__ import annotations

import json
from typing import Any

from .engine import Evaluation
from .model import SECRET_SIG, UNKNOWN, RecordedResource

# Per type, the inputs worth showing in the tree (engine names).
KEY_PROPS: dict[str, tuple[str, ...]] = {
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone", "mapPublicIpOnLaunch"),
    "aws:ec2/natGateway:NatGateway": ("connectivityType",),
    "aws:ec2/securityGroup:SecurityGroup": ("name", "description"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("fromPort", "cidrIpv4", "cidrIpv6"),
    "aws:rds/instance:Instance": (
        "engineVersion",
        "instanceClass",
        "multiAz",
        "storageEncrypted",
        "deletionProtection",
        "backupRetentionPeriod",
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "engineVersion",
        "nodeType",
        "numCacheClusters",
        "transitEncryptionEnabled",
        "automaticFailoverEnabled",
    ),
    "aws:ecs/service:Service": (
        "name",
        "desiredCount",
        "deploymentMaximumPercent",
        "deploymentMinimumHealthyPercent",
    ),
    "aws:ecs/taskDefinition:TaskDefinition": ("family", "cpu", "memory"),
    "aws:appautoscaling/target:Target": ("resourceId", "minCapacity", "maxCapacity"),
    "aws:lb/listener:Listener": ("protocol", "port", "sslPolicy"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "retentionInDays"),
    "aws:scheduler/schedule:Schedule": ("scheduleExpression",),
    "cloudflare:index/dnsRecord:DnsRecord": ("name", "type", "proxied"),
    "cloudflare:index/ruleset:Ruleset": ("phase", "kind"),
}


def show_value(value: Any) -> str:
    if value == UNKNOWN:
        return "(known after apply)"
    if isinstance(value, dict) and SECRET_SIG in value:
        return "[secret]"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _line(r: RecordedResource) -> str:
    kind = "component" if not r.custom else r.type
    flags = [f for f, on in (("protect", r.protect), ("retainOnDelete", r.retain_on_delete)) if on]
    props = [f"{k}={show_value(r.inputs[k])}" for k in KEY_PROPS.get(r.type, ()) if k in r.inputs]
    text = f"{r.name} [{kind if r.custom else r.type}]"
    if props:
        text += "  " + " ".join(props)
    if flags:
        text += "  (" + ", ".join(flags) + ")"
    return text


def tree_lines(evaluation: Evaluation) -> list[str]:
    children: dict[str | None, list[RecordedResource]] = {}
    urns = {r.urn for r in evaluation.resources}
    for r in evaluation.resources:
        parent = r.parent if r.parent in urns else None
        children.setdefault(parent, []).append(r)
    lines: list[str] = []

    def walk(parent: str | None, indent: str) -> None:
        items = children.get(parent, [])
        for n, r in enumerate(items):
            last = n == len(items) - 1
            lines.append(f"{indent}{'└─ ' if last else '├─ '}{_line(r)}")
            walk(r.urn, indent + ("   " if last else "│  "))

    walk(None, "")
    return lines


def counts_lines(evaluation: Evaluation) -> list[str]:
    counts = evaluation.counts()
    width = max((len(t) for t in counts), default=10)
    lines = [f"{t.ljust(width)}  {n}" for t, n in counts.items()]
    custom = len(evaluation.custom)
    lines.append(
        f"{'total'.ljust(width)}  {len(evaluation.resources)} ({custom} resources, "
        f"{len(evaluation.resources) - custom} components)"
    )
    return lines


def outputs_lines(evaluation: Evaluation) -> list[str]:
    return [
        f"{k} = {'[secret]' if k in evaluation.secret_outputs else show_value(v)}"
        for k, v in sorted(evaluation.outputs.items())
    ]
