"""A stack that serves its API through a Cloudflare Tunnel (``edge.origin: tunnel``) admits nothing inbound.

The mode is read from the stack itself: it has a ``ZeroTrustTunnelCloudflared``. With a tunnel, cloudflared in
each API task dials out to Cloudflare ("cloudflared connects to Cloudflare's global network on port 7844",
Cloudflare docs, Tunnel with firewall: "You can implement a positive security model with Cloudflare Tunnel
by blocking all ingress traffic and allowing only egress traffic from cloudflared",
https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/configure-tunnels/tunnel-with-firewall/),
so no load balancer is needed and the API service's security groups admit nothing: no inline ingress and no
ingress rule resource on any group of the service (found through the service's ``networkConfiguration``
dependencies, so the check holds at preview, before the groups have ids).
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import Report, UnknownValueError, as_list, tag

TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared"
ECS_SERVICE = "aws:ecs/service:Service"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
LOAD_BALANCER_PREFIXES = ("aws:lb/", "aws:alb/", "aws:elb/loadBalancer:")


def _get(props: Any, key: str) -> Any:
    try:
        return props.get(key)
    except UnknownValueError:
        return None


def _groups_of(service: PolicyResource) -> list[PolicyResource]:
    deps = service.property_dependencies.get("networkConfiguration", [])
    return [r for r in deps if r.resource_type == SECURITY_GROUP]


def _is_ingress_rule(r: PolicyResource) -> bool:
    if r.resource_type == INGRESS_RULE:
        return True
    return r.resource_type == SECURITY_GROUP_RULE and _get(r.props, "type") == "ingress"


def _check(args: StackValidationArgs, report: Report) -> None:
    resources = args.resources
    if not any(r.resource_type == TUNNEL for r in resources):
        return
    for r in resources:
        if r.resource_type.startswith(LOAD_BALANCER_PREFIXES):
            report(
                f"'{r.name}' ({r.resource_type}) in a stack served through a Cloudflare Tunnel: the tunnel "
                "origin has no load balancer (edge.origin tunnel).",
                r.urn,
            )
    rules = [r for r in resources if _is_ingress_rule(r)]
    apis = [r for r in resources if r.resource_type == ECS_SERVICE and tag(r.props, "role") == "api"]
    for api in apis:
        for group in _groups_of(api):
            _check_group(api, group, rules, report)


def _check_group(
    api: PolicyResource, group: PolicyResource, rules: list[PolicyResource], report: Report
) -> None:
    why = "with a Cloudflare Tunnel the API tasks admit nothing inbound."
    if as_list(_get(group.props, "ingress")):
        report(
            f"security group '{group.name}' of the API service '{api.name}' has inline ingress; {why}",
            group.urn,
        )
    for rule in rules:
        if group.urn in {g.urn for g in rule.property_dependencies.get("securityGroupId", [])}:
            report(
                f"ingress rule '{rule.name}' admits traffic to '{group.name}', a security group of the API "
                f"service '{api.name}'; {why}",
                rule.urn,
            )


tunnel_api_no_ingress = StackValidationPolicy(
    name="tunnel-api-no-ingress",
    description=(
        "A stack with a Cloudflare Tunnel (edge.origin tunnel) has no load balancer, and its API service's "
        "security groups admit nothing (no inline ingress, no ingress rule)."
    ),
    validate=_check,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

POLICIES = [tunnel_api_no_ingress]
