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


def ordered(resources: Sequence[RecordedResource]) -> list[RecordedResource]:
    """Resources by URN: the engine records them in the order the program's async code registers them,
    which differs between identical runs; every view sorts first so that two runs print the same bytes."""
    return sorted(resources, key=lambda r: r.urn)


def tree_lines(evaluation: Evaluation) -> list[str]:
    children: dict[str | None, list[RecordedResource]] = {}
    urns = {r.urn for r in evaluation.resources}
    for r in ordered(evaluation.resources):
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
    """One report section. ``kind``: "lines" (plain lines), "mermaid" (a diagram) or "code" (preformatted);
    ``collapsed`` sections go inside ``<details>`` in markdown (a PR comment shows their title only)."""

    title: str
    lines: list[str]
    kind: str = "lines"
    collapsed: bool = False


RULESET = "cloudflare:index/ruleset:Ruleset"


def _n(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else show_value(value)


def _edge_rule(phase: str, rule: dict[str, Any]) -> str:
    """One rule as Cloudflare enforces it: what it matches, the count per period, mitigation and action."""
    name = rule.get("ref") or rule.get("description") or "rule"
    expression, action = rule.get("expression", "true"), rule.get("action", "?")
    limit = rule.get("ratelimit")
    if isinstance(limit, dict):
        per = " + ".join(limit.get("characteristics") or ["ip.src"])
        count = f"{_n(limit.get('requestsPerPeriod'))} requests per {_n(limit.get('period'))} s per {per}"
        return (
            f"[{phase}] {name}: {action} for {_n(limit.get('mitigationTimeout', 0))} s once a client exceeds "
            f"{count}; counts requests matching {expression}"
        )
    return f"[{phase}] {name}: {action} requests matching {expression}"


def edge_rule_lines(evaluation: Evaluation) -> list[str]:
    """Every Cloudflare ruleset rule the program creates (rate limits, WAF, transforms), one line each."""
    lines = []
    for r in ordered(evaluation.of_type(RULESET)):
        phase = str(r.inputs.get("phase", "?"))
        rules = r.inputs.get("rules")
        for rule in rules if isinstance(rules, list) else []:
            if isinstance(rule, dict):
                lines.append(_edge_rule(phase, rule))
    return lines or ["no Cloudflare rules (this stack has no edge)"]


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
    resources = ordered(evaluation.resources)
    estimate = cost.estimate(resources, plan=plan, region=region)
    return [
        Section("Topology", diagram.mermaid(resources).splitlines(), "mermaid"),
        Section("Estimated monthly cost", cost.cost_lines(estimate), "code"),
        Section(
            "Estimated fresh-deploy time",
            deploytime.deploytime_lines(deploytime.estimate(resources)),
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
    tree = tree_lines(evaluation)
    all_sections = [
        policy or Section("Policy verdicts", ["policy pack not run in this report"]),
        Section("Edge rules (as Cloudflare enforces them)", edge_rule_lines(evaluation), "code"),
        *analysis_sections(evaluation, cloudflare_plan(stack), aws_region(stack)),
        Section(f"Resources ({len(tree)})", tree, "code", collapsed=True),
        Section("Outputs", outputs_lines(evaluation), "code", collapsed=True),
        *sections,
    ]
    for section in all_sections:
        out += ["", *_markdown_section(section)]
    return "\n".join(out) + "\n"


# A preformatted section longer than this shows its first lines and folds the rest (PR comments stay short).
FOLD_AFTER = 25


def _markdown_section(section: Section) -> list[str]:
    if section.kind == "mermaid":
        body = ["```mermaid", *section.lines, "```"]
    elif section.kind == "code" and not section.collapsed and len(section.lines) > FOLD_AFTER + 5:
        head, rest = section.lines[:FOLD_AFTER], section.lines[FOLD_AFTER:]
        body = ["```text", *head, "```", f"<details><summary>{len(rest)} more lines</summary>", ""]
        body += ["```text", *rest, "```", "", "</details>"]
    elif section.kind == "code":
        body = ["```text", *section.lines, "```"]
    else:
        body = [f"- {line}" for line in section.lines]
    if section.collapsed:
        return [f"<details><summary>{section.title}</summary>", "", *body, "", "</details>"]
    return [f"## {section.title}", "", *body]


def visible_lines(markdown_text: str) -> int:
    """Lines a reader sees of a markdown report before expanding any ``<details>`` block."""
    count, hidden = 0, 0
    for line in markdown_text.splitlines():
        if line.startswith("<details>"):
            hidden += 1
            count += 1  # the summary line shows
        elif line.startswith("</details>"):
            hidden -= 1
        elif not hidden:
            count += 1
    return count
