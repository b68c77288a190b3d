"""The Cloudflare edge in front of the ALB.

:class:`EdgeOrigin` (before the ALB: certificate, Cloudflare ranges, origin secret), :class:`Edge` (after it:
proxied record, zone settings, rulesets) and the zone check that runs before any resource.
"""

from .args import EdgeArgs, OwaspAction
from .component import ZONE_SETTINGS, Edge
from .expressions import (
    EXPLOIT_PATHS,
    challenge_expression,
    exploit_expression,
    host_expression,
    path_prefix_expression,
    rate_limit_expression,
)
from .origin import ORIGIN_HEADER_NAME, EdgeOrigin, EdgeOriginArgs
from .rulesets import CLOUDFLARE_MANAGED_RULESET_ID, OWASP_ANOMALY_RULE_ID, OWASP_CORE_RULESET_ID
from .zone import CloudflareZone, verified_zone

__all__ = [
    "CLOUDFLARE_MANAGED_RULESET_ID",
    "EXPLOIT_PATHS",
    "ORIGIN_HEADER_NAME",
    "OWASP_ANOMALY_RULE_ID",
    "OWASP_CORE_RULESET_ID",
    "ZONE_SETTINGS",
    "CloudflareZone",
    "Edge",
    "EdgeArgs",
    "EdgeOrigin",
    "EdgeOriginArgs",
    "OwaspAction",
    "challenge_expression",
    "exploit_expression",
    "host_expression",
    "path_prefix_expression",
    "rate_limit_expression",
    "verified_zone",
]
