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
    # the tunnel's <id>.cfargotunnel.com (EdgeTunnel.cname_target).
    hostname: str
    origin_name: pulumi.Input[str]
    # Cloudflare plan of the zone (cfg.edge.plan): decides managed WAF, periods and rule counts.
    plan: str
    # Rate limiting rules, already translated for the plan (components.ratelimit.translate_all).
    rate_limits: Sequence[EdgeRateLimit]
    # The header the ALB requires (EdgeOrigin.origin_header_name / origin_secret); None for a tunnel, which
    # nothing but Cloudflare can reach anyway (no origin-header ruleset then).
    origin_header_name: str | None
    origin_secret: pulumi.Input[str] | None
    # What the OWASP Core Ruleset does on a high anomaly score (cfg.edge.owaspAction, per environment).
    owasp_action: OwaspAction = "block"
    # What the record waits for besides the rulesets (the tunnel's configuration); the origin is named in
    # the record's comment.
    origin_ready: Sequence[pulumi.Resource] = ()
    origin_kind: str = "ALB"
