"""The Cloudflare API token permissions the stacks need, derived from the resources they create.

Names as the dashboard's custom-token builder shows them (scope / group / level; the API says Write for
Edit): Cloudflare docs, Fundamentals > API token permissions (zone and account permissions tables). README
"Cloudflare API token" lists the same set; a test derives it from the recorded resources and compares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# The zone check (getZone invoke) runs for every stack with an edge.
ZONE_READ = "Zone / Zone / Read"
# A tunnel (edge.origin tunnel) is an account resource: its configuration and the token function take the same
# group. pulumi-cloudflare 6.23.1 lists "Cloudflare Tunnel Write" among the accepted permissions of
# ZeroTrustTunnelCloudflared, ZeroTrustTunnelCloudflaredConfig and getZeroTrustTunnelCloudflaredToken.
TUNNEL_EDIT = "Account / Cloudflare Tunnel / Edit"
BY_TYPE: dict[str, str] = {
    "cloudflare:index/dnsRecord:DnsRecord": "Zone / DNS / Edit",
    "cloudflare:index/zoneSetting:ZoneSetting": "Zone / Zone Settings / Edit",
    "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared": TUNNEL_EDIT,
    "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig": TUNNEL_EDIT,
}
# Ruleset entry points by phase. Rate limiting rules are a WAF feature (the Zone WAF group covers /waf/, where
# they are documented); no permission of their own.
BY_PHASE: dict[str, str] = {
    "http_config_settings": "Zone / Config Rules / Edit",
    "http_request_late_transform": "Zone / Transform Rules / Edit",
    "http_request_firewall_custom": "Zone / Zone WAF / Edit",
    "http_request_firewall_managed": "Zone / Zone WAF / Edit",
    "http_ratelimit": "Zone / Zone WAF / Edit",
}
RULESET = "cloudflare:index/ruleset:Ruleset"


def required_permissions(resources: Iterable[tuple[str, Mapping[str, Any]]]) -> set[str]:
    """The permissions for ``(type, inputs)`` resources; a Cloudflare type or phase not listed is an error."""
    needed: set[str] = set()
    for type_, inputs in resources:
        if not type_.startswith("cloudflare:"):
            continue
        needed.add(ZONE_READ)
        if type_ == RULESET:
            phase = inputs.get("phase")
            if phase not in BY_PHASE:
                raise KeyError(f"ruleset phase {phase!r} has no token permission in {__name__}.BY_PHASE")
            needed.add(BY_PHASE[phase])
        elif type_ in BY_TYPE:
            needed.add(BY_TYPE[type_])
        else:
            raise KeyError(f"Cloudflare type {type_} has no token permission in {__name__}.BY_TYPE")
    return needed
