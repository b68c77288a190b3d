"""A Mermaid flowchart of the deployed topology, derived from the recorded resources (never hard-coded).

Nodes are the resources a reader cares about, found by type (and tags for labels): Cloudflare DNS records
and rulesets (edge), load balancers, ECS services, scheduled tasks (EventBridge Scheduler), RDS instances,
ElastiCache replication groups and S3 buckets. Edges come from what the program actually wired:

* client -> proxied DNS record; DNS record -> load balancer when the record's inputs come from it;
* load balancer -> service when a listener (rule) of the load balancer forwards to a target group the
  service registers with;
* A -> B when a security-group ingress rule on one of B's security groups admits one of A's security groups
  (``aws:vpc/securityGroupIngressRule``, ``aws:ec2/securityGroupRule`` or inline ``ingress``), matched by
  the property dependencies recorded for the rule, so it works at preview when IDs are unknown;
* task (service or scheduled task) -> S3 bucket when the task's IAM role is granted access to the bucket
  (an IAM policy that depends on the bucket, or names it literally);
* bucket -.-> bucket for S3 replication configurations;
* Docker containers (the dev stack): client -> containers with published ports, container -> the
  containers it depends on (volumes make a container a data store);
* Cloudflare Tunnel (``edge.origin: tunnel``): DNS record -> tunnel when the record's content comes from the
  tunnel, tunnel -> service when the service's task runs the ``cloudflared`` connector;
* the compute tier -.-> each way out to the internet (NAT gateways, the NAT instance).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .model import UNKNOWN, RecordedResource

TIERS: tuple[tuple[str, str], ...] = (
    ("edge", "Cloudflare"),
    ("lb", "load balancing"),
    ("compute", "ECS services and scheduled tasks"),
    ("data", "data stores"),
    ("egress", "egress to the internet"),
)
DNS = "cloudflare:index/dnsRecord:DnsRecord"
RULESET = "cloudflare:index/ruleset:Ruleset"
LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENERS = ("aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule")
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
SERVICE = "aws:ecs/service:Service"
TASK_DEF = "aws:ecs/taskDefinition:TaskDefinition"
SCHEDULES = ("aws:scheduler/schedule:Schedule", "aws:cloudwatch/eventTarget:EventTarget")
RDS = "aws:rds/instance:Instance"
REDIS = "aws:elasticache/replicationGroup:ReplicationGroup"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
EC2_INSTANCE = "aws:ec2/instance:Instance"


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    tier: str
    shape: str  # mermaid brackets, e.g. "[(" + ")]"
    urn: str


@dataclass
class Diagram:
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (from id, to id, style "-->"|"-.->")

    def has_edge(self, src_label_part: str, dst_label_part: str) -> bool:
        """Whether some edge goes from a node whose label contains the first text to one with the second."""
        by_id = {n.id: n for n in self.nodes}
        by_id["client"] = Node("client", "client", "", "((", "")
        return any(
            src_label_part in by_id[a].label and dst_label_part in by_id[b].label for a, b, _ in self.edges
        )


def _known(value: object) -> bool:
    return value is not None and value != UNKNOWN


def _deps(r: RecordedResource) -> set[str]:
    return set(r.dependencies) | {u for urns in r.property_dependencies.values() for u in urns}


def _tags(r: RecordedResource) -> dict[str, str]:
    tags = r.inputs.get("tags")
    return tags if isinstance(tags, dict) else {}


class _Graph:
    def __init__(self, resources: Iterable[RecordedResource]) -> None:
        self.resources = [r for r in resources if r.custom]
        self.by_urn = {r.urn: r for r in self.resources}
        self.dependents: dict[str, set[str]] = {}
        for r in self.resources:
            for dep in _deps(r):
                self.dependents.setdefault(dep, set()).add(r.urn)

    def of(self, *types: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type in types]

    def deps_of_type(self, r: RecordedResource, *types: str) -> list[RecordedResource]:
        return [self.by_urn[u] for u in sorted(_deps(r)) if u in self.by_urn and self.by_urn[u].type in types]

    def security_groups(self, r: RecordedResource) -> set[str]:
        return {d.urn for d in self.deps_of_type(r, SECURITY_GROUP)}

    def ingress_pairs(self) -> set[tuple[str, str]]:
        """(source SG urn, destination SG urn) for every ingress rule that references a security group."""
        pairs: set[tuple[str, str]] = set()
        for rule in self.of(INGRESS_RULE, SG_RULE):
            if rule.type == SG_RULE and rule.inputs.get("type") not in ("ingress", UNKNOWN):
                continue
            source_key = "referencedSecurityGroupId" if rule.type == INGRESS_RULE else "sourceSecurityGroupId"
            for dst in rule.property_dependencies.get("securityGroupId", ()):
                for src in rule.property_dependencies.get(source_key, ()):
                    pairs.add((src, dst))
        for sg in self.of(SECURITY_GROUP):
            for src in sg.property_dependencies.get("ingress", ()):
                pairs.add((src, sg.urn))
        return pairs

    def iam_reach(self, start: Iterable[str]) -> set[str]:
        """IAM resources connected to ``start`` (roles) through IAM resources, in either direction."""
        seen: set[str] = set()
        todo = [u for u in start if u in self.by_urn]
        while todo:
            urn = todo.pop()
            if urn in seen:
                continue
            seen.add(urn)
            r = self.by_urn[urn]
            for n in _deps(r) | self.dependents.get(urn, set()):
                if n in self.by_urn and self.by_urn[n].type.startswith("aws:iam/") and n not in seen:
                    todo.append(n)
        return seen


def _sanitize(name: str) -> str:
    return "r_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _num(value: object) -> str:
    """Engine numbers arrive as floats: show 2.0 as 2."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _label_text(text: str) -> str:
    return text.replace('"', "#quot;")


def _task_definition(g: _Graph, r: RecordedResource) -> RecordedResource | None:
    found = g.deps_of_type(r, TASK_DEF)
    return found[0] if found else None


def _size(task: RecordedResource | None) -> str:
    if task is None:
        return ""
    cpu, memory = task.inputs.get("cpu"), task.inputs.get("memory")
    if (
        isinstance(cpu, str | int | float)
        and isinstance(memory, str | int | float)
        and UNKNOWN not in (cpu, memory)
    ):
        return f" {float(cpu) / 1024:g} vCPU/{float(memory) / 1024:g} GB"
    return ""


def _uses_spot(r: RecordedResource) -> bool:
    strategies = r.inputs.get("capacityProviderStrategies")
    return isinstance(strategies, list) and any(
        isinstance(s, dict) and s.get("capacityProvider") == "FARGATE_SPOT" for s in strategies
    )


CONTAINER = "docker:index/container:Container"


def _published(r: RecordedResource) -> list[str]:
    """``ip:port`` of each port a container publishes on the host."""
    ports = r.inputs.get("ports")
    return sorted(
        f"{p.get('ip', '')}:{_num(p.get('external'))}".lstrip(":")
        for p in (ports if isinstance(ports, list) else [])
        if isinstance(p, dict) and _known(p.get("external"))
    )


class _Builder:
    """Adds the nodes, then the edges, of one diagram: each ``_<thing>`` method is one kind of either."""

    def __init__(self, g: _Graph) -> None:
        self.g = g
        self.diagram = Diagram()
        self.ids: dict[str, str] = {}  # urn -> node id
        self.used: set[str] = {"client"}

    def add(self, r: RecordedResource, label: str, tier: str, shape: str) -> None:
        base = _sanitize(r.name) or "n"
        node_id, n = base, 2
        while node_id in self.used:
            node_id, n = f"{base}_{n}", n + 1
        self.used.add(node_id)
        self.ids[r.urn] = node_id
        self.diagram.nodes.append(Node(node_id, label, tier, shape, r.urn))

    def link(self, src: str, dst: str, style: str = "-->") -> None:
        if src != dst and (src, dst, style) not in self.diagram.edges:
            self.diagram.edges.append((src, dst, style))

    # --- nodes

    def edge_nodes(self) -> None:
        for r in self.g.of(DNS):
            name = r.inputs.get("name")
            proxied = r.inputs.get("proxied") is True
            label = f"DNS {name if _known(name) else r.name} {r.inputs.get('type', '')}".strip()
            self.add(r, label + (" (proxied)" if proxied else ""), "edge", "([")
        for r in self.g.of(RULESET):
            phase = r.inputs.get("phase")
            self.add(r, f"ruleset {phase if _known(phase) else r.name}", "edge", "[")
        for r in self.g.of(TUNNEL):
            self.add(r, f"Cloudflare Tunnel {r.name}", "edge", "[")

    def egress_nodes(self) -> None:
        for r in self.g.of(NAT_GATEWAY):
            self.add(r, f"NAT gateway {r.name}", "egress", "[")
        for r in self.g.of(EC2_INSTANCE):
            if r.inputs.get("sourceDestCheck") is False:
                self.add(
                    r, f"NAT instance {r.name} {r.inputs.get('instanceType', '')}".strip(), "egress", "["
                )

    def lb_nodes(self) -> None:
        for r in self.g.of(LB):
            listeners = [ls for ls in self.g.of(LISTENERS[0]) if r.urn in _deps(ls)]
            ports = sorted(
                f"{ls.inputs.get('protocol', '?')}:{_num(ls.inputs.get('port', '?'))}"
                for ls in listeners
                if _known(ls.inputs.get("port"))
            )
            scheme = "internal" if r.inputs.get("internal") is True else "internet-facing"
            lb_type = r.inputs.get("loadBalancerType", "application")
            kind = "ALB" if lb_type in ("application", UNKNOWN) else f"LB ({lb_type})"
            self.add(r, f"{kind} {r.name} {scheme}" + (f" {' '.join(ports)}" if ports else ""), "lb", "[")

    def compute_nodes(self) -> None:
        for r in self.g.of(SERVICE):
            task = _task_definition(self.g, r)
            role = _tags(r).get("role") or (task and _tags(task).get("role"))
            name = r.inputs.get("name")
            title = role or (name if _known(name) else r.name)
            count = r.inputs.get("desiredCount")
            label = f"service {title}" + (f" x{_num(count)}" if _known(count) else "") + _size(task)
            self.add(r, label + (" spot" if _uses_spot(r) else ""), "compute", "[")
        for r in self.g.of(*SCHEDULES):
            task = _task_definition(self.g, r)
            if task is None:
                continue
            role = _tags(task).get("role") or task.name
            expression = r.inputs.get("scheduleExpression")
            self.add(r, f"task {role}" + (f" {expression}" if _known(expression) else ""), "compute", "[[")

    def data_nodes(self) -> None:
        for r in self.g.of(RDS):
            engine = r.inputs.get("engine", "db")
            version = r.inputs.get("engineVersion", "")
            klass = r.inputs.get("instanceClass", "")
            multi = " multi-AZ" if r.inputs.get("multiAz") is True else ""
            self.add(r, f"RDS {engine} {version} {klass}{multi}".replace("  ", " "), "data", "[(")
        for r in self.g.of(REDIS):
            nodes = r.inputs.get("numCacheClusters")
            label = f"ElastiCache {r.inputs.get('engine', 'redis')} {r.inputs.get('engineVersion', '')} "
            label += f"{r.inputs.get('nodeType', '')}" + (f" x{_num(nodes)}" if _known(nodes) else "")
            self.add(r, label, "data", "[(")
        for r in self.g.of(*BUCKETS):
            purpose = _tags(r).get("purpose")
            self.add(r, f"S3 {r.name}" + (f" ({purpose})" if purpose else ""), "data", "[(")

    def container_nodes(self) -> None:
        """Docker containers (the dev stack): with a volume they hold data, otherwise they compute."""
        for r in self.g.of(CONTAINER):
            name = r.inputs.get("name")
            label = f"container {name if _known(name) else r.name}" + "".join(f" {p}" for p in _published(r))
            data = bool(r.inputs.get("volumes"))
            self.add(r, label, "data" if data else "compute", "[(" if data else "[")

    # --- edges

    def dns_links(self) -> None:
        lbs, records = self.g.of(LB), self.g.of(DNS)
        for r in records:
            if r.inputs.get("proxied") is True:
                self.link("client", self.ids[r.urn])
            for origin in [*lbs, *self.g.of(TUNNEL)]:
                if origin.urn in _deps(r):
                    self.link(self.ids[r.urn], self.ids[origin.urn])
        for r in self.g.of(RULESET):  # a zone's rulesets apply to the zone's proxied records
            for dns in records:
                same_source = set(r.property_dependencies.get("zoneId", ())) & set(
                    dns.property_dependencies.get("zoneId", ())
                )
                zone = r.inputs.get("zoneId")
                if dns.inputs.get("proxied") is True and (
                    same_source or (_known(zone) and zone == dns.inputs.get("zoneId"))
                ):
                    self.link(self.ids[r.urn], self.ids[dns.urn], "-.-")

    def tunnel_links(self) -> None:
        """tunnel -> service whose task runs the cloudflared connector."""
        for tunnel in self.g.of(TUNNEL):
            for service in self.g.of(SERVICE):
                task = _task_definition(self.g, service)
                if task is not None and "cloudflared" in str(task.inputs.get("containerDefinitions", "")):
                    self.link(self.ids[tunnel.urn], self.ids[service.urn])

    def egress_links(self) -> None:
        """The compute tier (one subgraph edge) -.-> each way out to the internet."""
        if not any(n.tier == "compute" for n in self.diagram.nodes):
            return
        for n in self.diagram.nodes:
            if n.tier == "egress":
                self.link("tier_compute", n.id, "-.->")

    def listener_links(self) -> None:
        """load balancer -> service through listener -> target group <- service."""
        lbs = self.g.of(LB)
        for listener in self.g.of(*LISTENERS):
            listener_lbs = {lb.urn for lb in lbs if lb.urn in _deps(listener)}
            if not listener_lbs and listener.type == LISTENERS[1]:  # rule -> listener -> lb
                for parent_listener in self.g.deps_of_type(listener, LISTENERS[0]):
                    listener_lbs |= {lb.urn for lb in lbs if lb.urn in _deps(parent_listener)}
            groups = {tg.urn for tg in self.g.deps_of_type(listener, TARGET_GROUP)}
            for service in self.g.of(SERVICE):
                if groups & _deps(service):
                    for lb in sorted(listener_lbs):
                        self.link(self.ids[lb], self.ids[service.urn])

    def security_group_links(self) -> None:
        """Tasks -> data stores their security groups admit (load balancer -> task goes by target group)."""
        pairs = self.g.ingress_pairs()
        tiers = {n.urn: n.tier for n in self.diagram.nodes}
        sgs = {urn: self.g.security_groups(self.g.by_urn[urn]) for urn in self.ids}
        for a, sg_a in sgs.items():
            for b, sg_b in sgs.items():
                if (tiers[a], tiers[b]) == ("compute", "data") and any(
                    (s, d) in pairs for s in sg_a for d in sg_b
                ):
                    self.link(self.ids[a], self.ids[b])

    def bucket_links(self) -> None:
        """Task -> bucket when the task's IAM role is granted access to it."""
        buckets = self.g.of(*BUCKETS)
        for r in [*self.g.of(SERVICE), *self.g.of(*SCHEDULES)]:
            task = _task_definition(self.g, r) if r.urn in self.ids else None
            if task is None:
                continue
            roles = [d.urn for d in self.g.deps_of_type(task, "aws:iam/role:Role")]
            reach = sorted(self.g.iam_reach(roles))
            for bucket in buckets:
                if any(self._grants(urn, bucket) for urn in reach):
                    self.link(self.ids[r.urn], self.ids[bucket.urn])

    def _grants(self, iam_urn: str, bucket: RecordedResource) -> bool:
        iam = self.g.by_urn[iam_urn]
        name = bucket.inputs.get("bucket")
        policy = iam.inputs.get("policy")
        text = policy if isinstance(policy, str) else json.dumps(policy)
        return bucket.urn in _deps(iam) or (_known(name) and isinstance(name, str) and name in text)

    def replication_links(self) -> None:
        for replication in self.g.of(REPLICATION):
            sources = (
                replication.property_dependencies.get("bucket", [])
                or [b.urn for b in self.g.deps_of_type(replication, *BUCKETS)][:1]
            )
            for src in sources:
                for dst in replication.property_dependencies.get("rules", []):
                    if src in self.ids and dst in self.ids:
                        self.link(self.ids[src], self.ids[dst], "-.->")

    def container_links(self) -> None:
        """client -> app containers with published ports; container -> the containers it depends on."""
        for r in self.g.of(CONTAINER):
            if _published(r) and not r.inputs.get("volumes"):
                self.link("client", self.ids[r.urn])
            for dep in self.g.deps_of_type(r, CONTAINER):
                self.link(self.ids[r.urn], self.ids[dep.urn])


def build(resources: Iterable[RecordedResource]) -> Diagram:
    """Nodes by tier, then the edges the program wired (see the module docstring)."""
    b = _Builder(_Graph(resources))
    for nodes in (b.edge_nodes, b.lb_nodes, b.compute_nodes, b.data_nodes, b.container_nodes, b.egress_nodes):
        nodes()
    for edges in (
        b.dns_links,
        b.tunnel_links,
        b.listener_links,
        b.security_group_links,
        b.bucket_links,
        b.replication_links,
        b.container_links,
        b.egress_links,
    ):
        edges()
    return b.diagram


_CLOSE = {"[": "]", "([": "])", "[(": ")]", "[[": "]]", "((": "))"}


def render(diagram: Diagram) -> str:
    lines = ["flowchart LR", "  client((client))"]
    for tier, title in TIERS:
        members = [n for n in diagram.nodes if n.tier == tier]
        if not members:
            continue
        lines.append(f'  subgraph tier_{tier}["{title}"]')
        for n in members:
            lines.append(f'    {n.id}{n.shape}"{_label_text(n.label)}"{_CLOSE[n.shape]}')
        lines.append("  end")
    for src, dst, style in diagram.edges:
        lines.append(f"  {src} {style} {dst}")
    return "\n".join(lines)


def mermaid(resources: Iterable[RecordedResource]) -> str:
    return render(build(resources))
