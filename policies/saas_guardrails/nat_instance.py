"""EC2 instances (the NAT instance of ``network.natGateways: instance``) are hardened, and a NAT instance
forwards traffic from its own VPC only, outside production.

A NAT instance must have source/destination checking off ("Each EC2 instance performs source/destination
checks by default... you must disable source/destination checks on the NAT instance", Amazon VPC User
Guide, "NAT instances", https://docs.aws.amazon.com/vpc/latest/userguide/VPC_NAT_Instance.html): that is
what marks one here. Being one instance in one AZ, it is a single point of failure, so not in production.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import Report, as_map
from ._util import known as _get

INSTANCE = "aws:ec2/instance:Instance"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
VPC = "aws:ec2/vpc:Vpc"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def _is_nat(props: Any) -> bool:
    return _get(props, "sourceDestCheck") is False


def _check_instance(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != INSTANCE:
        return
    props = args.props
    metadata = as_map(_get(props, "metadataOptions")) or {}
    if metadata.get("httpTokens") != "required":
        report(f"EC2 instance '{args.name}': metadataOptions.httpTokens must be 'required' (IMDSv2 only).")
    root = as_map(_get(props, "rootBlockDevice")) or {}
    if root.get("encrypted") is not True:
        report(f"EC2 instance '{args.name}': rootBlockDevice.encrypted must be true.")
    if _get(props, "keyName"):
        report(f"EC2 instance '{args.name}': no SSH key pair (keyName); nothing logs into it.")
    tags = as_map(_get(props, "tags")) or {}
    if _is_nat(props) and tags.get("environment") == "production":
        report(
            f"EC2 instance '{args.name}' is a NAT instance (sourceDestCheck false) in production: one "
            "instance in one AZ is a single point of failure; production uses a NAT gateway per AZ."
        )


def _within(cidr: Any, vpc_cidr: Any) -> bool:
    try:
        return ipaddress.ip_network(str(cidr), strict=False).subnet_of(
            ipaddress.ip_network(str(vpc_cidr), strict=False)  # type: ignore[arg-type]
        )
    except (TypeError, ValueError):
        return False


def _deps(resource: PolicyResource, prop: str, type_: str) -> list[PolicyResource]:
    return [r for r in resource.property_dependencies.get(prop, []) if r.resource_type == type_]


def _check_ingress(args: StackValidationArgs, report: Report) -> None:
    rules = [r for r in args.resources if r.resource_type == INGRESS_RULE]
    for nat in (r for r in args.resources if r.resource_type == INSTANCE and _is_nat(r.props)):
        for group in _deps(nat, "vpcSecurityGroupIds", SECURITY_GROUP):
            vpcs = _deps(group, "vpcId", VPC)
            vpc_cidr = _get(vpcs[0].props, "cidrBlock") if vpcs else None
            for rule in rules:
                if group.urn not in {g.urn for g in _deps(rule, "securityGroupId", SECURITY_GROUP)}:
                    continue
                cidr = _get(rule.props, "cidrIpv4")
                if vpc_cidr is None or not _within(cidr, vpc_cidr) or _get(rule.props, "cidrIpv6"):
                    report(
                        f"NAT instance '{nat.name}': ingress rule '{rule.name}' admits "
                        f"{cidr or _get(rule.props, 'cidrIpv6') or 'a non-CIDR source'}; a NAT instance "
                        f"forwards traffic from its VPC ({vpc_cidr}) only.",
                        rule.urn,
                    )


ec2_instance_hardened = ResourceValidationPolicy(
    name="ec2-instance-hardened",
    description=(
        "EC2 instances: IMDSv2 only, encrypted root volume, no SSH key pair; a NAT instance "
        "(sourceDestCheck false) is a single point of failure and not allowed in production."
    ),
    validate=_check_instance,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

nat_instance_vpc_only = StackValidationPolicy(
    name="nat-instance-vpc-only",
    description="A NAT instance's security groups admit traffic from the VPC's own CIDR only.",
    validate=_check_ingress,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

POLICIES = [ec2_instance_hardened, nat_instance_vpc_only]
