"""Security groups admit nothing from the whole internet.

No exception: the ALB is reachable only from Cloudflare's published ranges (the edge terminates client
traffic), and everything else sits behind it, so no rule ever needs 0.0.0.0/0 or ::/0 ingress. Egress is
not restricted by this pack.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import Report, as_list, as_map, show

SECURITY_GROUP_TYPES = frozenset(
    {"aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"}
)
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def is_open_to_world(cidr: Any) -> bool:
    """A CIDR that covers every address (0.0.0.0/0, ::/0 and their spellings)."""
    if not isinstance(cidr, str):
        return False
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _ports(rule: Mapping[str, Any], from_key: str, to_key: str, protocol_key: str) -> str:
    protocol = rule.get(protocol_key)
    from_port, to_port = rule.get(from_key), rule.get(to_key)
    if protocol in ("-1", -1, "all"):
        return "all traffic"
    return f"{show(protocol)} ports {show(from_port)}-{show(to_port)}"


def _open_cidrs(rule: Mapping[str, Any], keys: tuple[str, ...]) -> list[str]:
    open_cidrs: list[str] = []
    for key in keys:
        value = rule.get(key)
        candidates = [value] if isinstance(value, str) else as_list(value)
        open_cidrs.extend(c for c in candidates if is_open_to_world(c))
    return open_cidrs


def _check_ingress(args: ResourceValidationArgs, report: Report) -> None:
    props = args.props
    if args.resource_type in SECURITY_GROUP_TYPES:
        for index, rule in enumerate(as_list(props.get("ingress"))):
            entry = as_map(rule)
            if entry is None:
                continue
            cidrs = _open_cidrs(entry, ("cidrBlocks", "ipv6CidrBlocks"))
            if cidrs:
                report(
                    f"security group '{args.name}' ingress rule #{index} "
                    f"({_ports(entry, 'fromPort', 'toPort', 'protocol')}) admits {', '.join(cidrs)}."
                )
    elif args.resource_type == SECURITY_GROUP_RULE:
        if props.get("type") != "ingress":
            return
        cidrs = _open_cidrs(props, ("cidrBlocks", "ipv6CidrBlocks"))
        if cidrs:
            report(
                f"security group rule '{args.name}' ({_ports(props, 'fromPort', 'toPort', 'protocol')}) "
                f"admits {', '.join(cidrs)}."
            )
    elif args.resource_type == INGRESS_RULE:
        cidrs = _open_cidrs(props, ("cidrIpv4", "cidrIpv6"))
        if cidrs:
            report(
                f"security group ingress rule '{args.name}' "
                f"({_ports(props, 'fromPort', 'toPort', 'ipProtocol')}) admits {', '.join(cidrs)}."
            )


no_public_ingress = ResourceValidationPolicy(
    name="no-public-ingress",
    description=(
        "No security group ingress from 0.0.0.0/0 or ::/0 (inline ingress, SecurityGroupRule of type "
        "ingress, vpc.SecurityGroupIngressRule). No exception: the ALB admits Cloudflare's ranges only."
    ),
    validate=_check_ingress,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

POLICIES = [no_public_ingress]
