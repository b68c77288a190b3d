"""Edge (``saas:edge:Edge``), created after the origin: the proxied record, zone settings and the rulesets."""

from __future__ import annotations

import re
from typing import Any

import pulumi

from ...common import child, require
from ...ratelimit import PLAN_LIMITS
from . import cloudflare_sdk as cloudflare
from .args import EdgeArgs
from .origin import HOST_RE
from .rulesets import (
    MANAGED_WAF_PLANS,
    api_config_ruleset,
    origin_header_ruleset,
    rate_limit_ruleset,
    waf_custom_ruleset,
    waf_managed_ruleset,
)

# Zone settings (one cloudflare.ZoneSetting each in provider v6): setting id -> value. They apply to every
# hostname of the zone; SSL strict is set for the API host alone by a configuration rule
# (docs/decisions/edge-zone-ownership.md).
ZONE_SETTINGS: dict[str, str] = {
    "always_use_https": "on",
    "min_tls_version": "1.2",
    "tls_1_3": "on",
}

_HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


class Edge(pulumi.ComponentResource):
    """Cloudflare in front of the origin (ALB or tunnel): proxied DNS record, zone TLS settings, WAF, rate
    limits, and the origin header the ALB requires.

    Attributes: ``hostname`` (plain), ``record_id`` (Output), ``ruleset_ids`` (dict phase -> Output id),
    ``managed_waf`` (plain bool: whether the managed WAF ruleset exists).
    """

    record_id: pulumi.Output[str]

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _validate_edge(args)
        super().__init__("saas:edge:Edge", name, None, opts)
        self.hostname = args.hostname
        self.managed_waf = args.plan in MANAGED_WAF_PLANS
        self.ruleset_ids: dict[str, pulumi.Output[str]] = {}
        settings = self._zone_settings(name, args)
        api_tls = self._ruleset(name, "api-config", args, api_config_ruleset(args))
        origin_header = (
            [self._ruleset(name, "origin-header", args, origin_header_ruleset(args))]
            if args.origin_header_name is not None
            else []
        )
        custom = self._ruleset(name, "waf-custom", args, waf_custom_ruleset(args))
        if self.managed_waf:
            self._ruleset(name, "waf-managed", args, waf_managed_ruleset(args))
        ratelimit = self._ruleset(name, "rate-limit", args, rate_limit_ruleset(args))
        # The proxied record goes live last: after strict TLS to the origin, the origin header and filters.
        self.record_id = self._api_record(
            name, args, depends_on=[*settings, api_tls, *origin_header, custom, ratelimit, *args.origin_ready]
        )
        self.register_outputs(
            {
                "hostname": self.hostname,
                "recordId": self.record_id,
                "rulesetIds": self.ruleset_ids,
                "managedWaf": self.managed_waf,
            }
        )

    def _zone_settings(self, name: str, args: EdgeArgs) -> list[cloudflare.ZoneSetting]:
        return [
            cloudflare.ZoneSetting(
                f"{name}-{setting_id.replace('_', '-')}",
                zone_id=args.zone_id,
                setting_id=setting_id,
                value=value,
                opts=child(self),
            )
            for setting_id, value in ZONE_SETTINGS.items()
        ]

    def _ruleset(self, name: str, suffix: str, args: EdgeArgs, spec: dict[str, Any]) -> cloudflare.Ruleset:
        """One zone entry-point ruleset (``spec``: phase, name, description, rules); its id is recorded."""
        ruleset = cloudflare.Ruleset(
            f"{name}-{suffix}", zone_id=args.zone_id, kind="zone", **spec, opts=child(self)
        )
        self.ruleset_ids[spec["phase"]] = ruleset.id
        return ruleset

    def _api_record(self, name: str, args: EdgeArgs, depends_on: list[pulumi.Resource]) -> pulumi.Output[str]:
        record = cloudflare.DnsRecord(
            f"{name}-api-record",
            zone_id=args.zone_id,
            name=args.hostname,
            type="CNAME",
            content=args.origin_name,
            proxied=True,
            ttl=1,  # automatic: required for proxied records
            comment=f"{args.deployment.prefix} API -> {args.origin_kind} (proxied)",
            opts=child(self, depends_on=depends_on),
        )
        return record.id


def _validate_edge(args: EdgeArgs) -> None:
    component = "Edge"
    require(args.plan in PLAN_LIMITS, component, "plan", args.plan, f"allowed: {', '.join(PLAN_LIMITS)}")
    require(bool(HOST_RE.match(args.hostname)), component, "hostname", args.hostname, "must be a hostname")
    require(
        args.origin_header_name is None or bool(_HEADER_NAME_RE.match(args.origin_header_name)),
        component,
        "origin_header_name",
        args.origin_header_name,
        "must be an HTTP header name such as X-Origin-Verify",
    )
    limits = PLAN_LIMITS[args.plan]
    require(
        1 <= len(args.rate_limits) <= limits.max_rules,
        component,
        "rate_limits",
        [r.key for r in args.rate_limits],
        f"the {args.plan} plan allows 1..{limits.max_rules} rate limiting rules",
    )
    for rule in args.rate_limits:
        require(
            rule.period in limits.periods
            and limits.allows_timeout(rule.mitigation_timeout)
            and rule.requests_per_period >= 1,
            component,
            "rate_limits",
            rule,
            f"{args.plan} allows periods {limits.periods} s, timeouts {limits.mitigation_timeouts} s",
        )
