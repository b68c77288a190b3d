"""The Edge's one Args object (a module of its own: the component and the ruleset builders both read it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi

from ...common import Deployment
from ...ratelimit import EdgeRateLimit

OwaspAction = Literal["log", "block"]


@dataclass(frozen=True)
class EdgeArgs:
    deployment: Deployment
    zone_id: pulumi.Input[str]
    # The API hostname (cfg.api_hostname) and the CNAME target of its proxied record: the ALB's DNS name, or
    # any other origin name Cloudflare can reach (such as a tunnel's <id>.cfargotunnel.com).
    hostname: str
    alb_dns_name: pulumi.Input[str]
    # Cloudflare plan of the zone (cfg.edge.plan): decides managed WAF, periods and rule counts.
    plan: str
    # Rate limiting rules, already translated for the plan (components.ratelimit.translate_all).
    rate_limits: Sequence[EdgeRateLimit]
    # The header the ALB requires (EdgeOrigin.origin_header_name / origin_secret).
    origin_header_name: str
    origin_secret: pulumi.Input[str]
    # What the OWASP Core Ruleset does on a high anomaly score (cfg.edge.owaspAction, per environment).
    owasp_action: OwaspAction = "block"
