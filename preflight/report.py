"""Human-readable views of an evaluation: the resource tree with the properties that matter, and counts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import cost, deploytime, diagram
from .engine import Evaluation
from .model import SECRET_SIG, UNKNOWN, RecordedResource
from .stackfile import StackFileError, load_stack_config, project_name

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


# --- analysis sections (diagram, cost, deploy time) and the markdown report -----------------------------


@dataclass(frozen=True)
class Section:
    """One report section. ``kind``: "lines" (plain lines), "mermaid" (a diagram) or "code" (preformatted)."""

    title: str
    lines: list[str]
    kind: str = "lines"


def cloudflare_plan(stack: str) -> str | None:
    """Cloudflare plan of ``stack`` (``saas-backend:edge.plan``, default free); None without a stack file."""
    try:
        config = load_stack_config(stack)
    except StackFileError:
        return None
    edge = json.loads(config.get(f"{project_name()}:edge", "{}") or "{}")
    return str(edge.get("plan", "free")) if isinstance(edge, dict) else "free"


def aws_region(stack: str) -> str | None:
    """``aws:region`` of ``stack``; None without a stack file or without the key (platform docker)."""
    try:
        return load_stack_config(stack).get("aws:region")
    except StackFileError:
        return None


def analysis_sections(
    evaluation: Evaluation, plan: str | None = None, region: str | None = None
) -> list[Section]:
    """Topology diagram, estimated monthly cost (priced for ``region``) and fresh-deploy time."""
    estimate = cost.estimate(evaluation.resources, plan=plan, region=region)
    return [
        Section("Topology", diagram.mermaid(evaluation.resources).splitlines(), "mermaid"),
        Section("Estimated monthly cost", cost.cost_lines(estimate), "code"),
        Section(
            "Estimated fresh-deploy time",
            deploytime.deploytime_lines(deploytime.estimate(evaluation.resources)),
            "code",
        ),
    ]


def text_lines(sections: Sequence[Section]) -> list[str]:
    lines: list[str] = []
    for section in sections:
        lines += ["", f"## {section.title}", *section.lines]
    return lines


def markdown(
    evaluation: Evaluation,
    stack: str,
    mode: str,
    *,
    policy: Section | None = None,
    sections: Sequence[Section] = (),
) -> str:
    """The whole report as GitHub-flavoured markdown, for a PR comment or the job summary.

    ``policy`` is the policy-verdicts section (the CLI passes it when the pack ran); ``sections`` are
    appended after the built-in ones (topology, cost, deploy time).
    """
    custom = len(evaluation.custom)
    out = [
        f"# preflight `{stack}` ({mode})",
        "",
        f"{custom} resources, {len(evaluation.resources) - custom} components.",
    ]
    all_sections = [
        policy or Section("Policy verdicts", ["policy pack not run in this report"]),
        *analysis_sections(evaluation, cloudflare_plan(stack), aws_region(stack)),
        Section("Resources", tree_lines(evaluation), "code"),
        Section("Outputs", outputs_lines(evaluation), "code"),
        *sections,
    ]
    for section in all_sections:
        out += ["", f"## {section.title}", ""]
        if section.kind == "mermaid":
            out += ["```mermaid", *section.lines, "```"]
        elif section.kind == "code":
            out += ["```text", *section.lines, "```"]
        else:
            out += [f"- {line}" for line in section.lines]
    return "\n".join(out) + "\n"
