"""The zone entry-point rulesets the Edge writes, one builder per phase.

The stack owns these phases for the whole zone: docs/decisions/edge-zone-ownership.md.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pulumi

from .expressions import (
    RATE_LIMIT_CHARACTERISTICS,
    challenge_expression,
    exploit_expression,
    host_expression,
    rate_limit_expression,
)

if TYPE_CHECKING:
    from .args import EdgeArgs

# Managed rulesets executed in the http_request_firewall_managed phase (pro and above; the free plan only
# gets Cloudflare's Free Managed Ruleset, which Cloudflare deploys itself).
CLOUDFLARE_MANAGED_RULESET_ID = "efb7b8c949ac4650a09736fc376e9aee"
OWASP_CORE_RULESET_ID = "4814384a9e5d4991b9815dcfc25d2f1f"
MANAGED_WAF_PLANS = frozenset({"pro", "business", "enterprise"})

# OWASP's last rule ("949110: Inbound Anomaly Score Exceeded") decides what a high anomaly score does; its
# action is the one override the stacks set (WAF > OWASP Core Ruleset > Configure via API).
OWASP_ANOMALY_RULE_ID = "6179ae15870a4bb7b2d480d4843b323c"

# Configuration rule for the API host: Full (strict), Cloudflare -> origin over TLS with a valid certificate.
API_HOST_SSL = "strict"
_ORIGIN_TLS = {
    "ALB": "the ALB has a valid ACM certificate",
    "tunnel": "the tunnel carries the traffic encrypted (cloudflared)",
}


def origin_header_ruleset(args: EdgeArgs) -> dict[str, Any]:
    """The ALB answers 403 without this header: Cloudflare adds it to every request for the API hostname."""
    host = args.hostname
    assert args.origin_header_name is not None, "the origin header is the ALB's (edge.origin alb)"
    return {
        "phase": "http_request_late_transform",
        "name": f"{args.deployment.prefix} origin header",
        "description": f"Adds {args.origin_header_name} (the origin secret) to requests for {host}",
        "rules": [
            {
                "ref": "origin_secret_header",
                "description": f"Set {args.origin_header_name} for {host}",
                "expression": host_expression(host),
                "action": "rewrite",
                "action_parameters": {
                    "headers": {
                        args.origin_header_name: {
                            "operation": "set",
                            "value": pulumi.Output.secret(args.origin_secret),
                        }
                    }
                },
            }
        ],
    }


def api_config_ruleset(args: EdgeArgs) -> dict[str, Any]:
    """SSL Full (strict) for the API host only: other hosts of the zone keep their own SSL mode."""
    host = args.hostname
    return {
        "phase": "http_config_settings",
        "name": f"{args.deployment.prefix} API host configuration",
        "description": f"SSL {API_HOST_SSL} to the origin for {host}",
        "rules": [
            {
                "ref": "api_ssl_strict",
                "description": f"SSL Full (strict) for {host}: {_ORIGIN_TLS[args.origin_kind]}",
                "expression": host_expression(host),
                "action": "set_config",
                "action_parameters": {"ssl": API_HOST_SSL},
            }
        ],
    }


def waf_custom_ruleset(args: EdgeArgs) -> dict[str, Any]:
    host = args.hostname
    return {
        "phase": "http_request_firewall_custom",
        "name": f"{args.deployment.prefix} WAF custom rules",
        "description": f"Exploit probes and suspicious clients on {host}",
        "rules": [
            {
                "ref": "block_exploit_paths",
                "description": "Block paths the API never serves (CMS/admin probes, dotfiles, traversal)",
                "expression": exploit_expression(host),
                "action": "block",
            },
            {
                "ref": "challenge_suspicious_clients",
                "description": "Managed challenge: Tor exit nodes (and WAF attack score where available)",
                "expression": challenge_expression(host, args.plan),
                "action": "managed_challenge",
            },
        ],
    }


def waf_managed_ruleset(args: EdgeArgs) -> dict[str, Any]:
    host = args.hostname
    return {
        "phase": "http_request_firewall_managed",
        "name": f"{args.deployment.prefix} WAF managed rules",
        "description": f"Cloudflare Managed Ruleset and OWASP Core Ruleset on {host}",
        "rules": [
            {
                "ref": "execute_cloudflare_managed",
                "description": "Cloudflare Managed Ruleset",
                "expression": host_expression(host),
                "action": "execute",
                "action_parameters": {"id": CLOUDFLARE_MANAGED_RULESET_ID},
            },
            {
                "ref": "execute_owasp_core",
                "description": f"Cloudflare OWASP Core Ruleset, high anomaly score: {args.owasp_action}",
                "expression": host_expression(host),
                "action": "execute",
                "action_parameters": {
                    "id": OWASP_CORE_RULESET_ID,
                    "overrides": {"rules": [{"id": OWASP_ANOMALY_RULE_ID, "action": args.owasp_action}]},
                },
            },
        ],
    }


def rate_limit_ruleset(args: EdgeArgs) -> dict[str, Any]:
    host = args.hostname
    return {
        "phase": "http_ratelimit",
        "name": f"{args.deployment.prefix} rate limits",
        "description": f"Per-IP rate limits for {host} (the app enforces the exact limits too)",
        "rules": [
            {
                "ref": _rule_ref(rule.key),
                "description": (
                    f"{rule.key}: {rule.requests_per_period} requests / {rule.period} s per IP, "
                    f"blocked for {rule.mitigation_timeout} s"
                ),
                "expression": rate_limit_expression(host, args.plan, rule),
                "action": "block",
                "ratelimit": {
                    "characteristics": list(RATE_LIMIT_CHARACTERISTICS),
                    "period": rule.period,
                    "requests_per_period": rule.requests_per_period,
                    "mitigation_timeout": rule.mitigation_timeout,
                },
            }
            for rule in args.rate_limits
        ],
    }


def _rule_ref(key: str) -> str:
    """A stable rule ref from a config key: ``saas-backend:edge.authRateLimit`` -> ``edge_authratelimit``."""
    return re.sub(r"[^a-z0-9]+", "_", key.split(":", 1)[-1].lower()).strip("_")
