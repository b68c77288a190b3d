"""The Cloudflare edge in front of the ALB.

* :class:`EdgeOrigin` (``saas:edge:Origin``), created before the ALB: the zone id, the ACM certificate for
  the API hostname validated through Cloudflare DNS, Cloudflare's published IP ranges (the ALB admits
  only those) and the origin secret header that Cloudflare adds to every request (the ALB answers 403
  without it).
* :class:`Edge` (``saas:edge:Edge``), created after the ALB: the proxied DNS record, zone settings and
  the rulesets (custom WAF, managed WAF where the plan allows it, rate limiting, origin header).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare
import pulumi_random as random

from ..common import Deployment, child, require
from ..ratelimit import PLAN_LIMITS, EdgeRateLimit, plan_limits

ORIGIN_HEADER_NAME = "X-Origin-Verify"
ORIGIN_SECRET_LENGTH = 48

_HOST_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ZONE_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def _strip_dot(value: str) -> str:
    return value[:-1] if value.endswith(".") else value


def _validation_option(options: Sequence[Any], domain: str) -> Any:
    """The certificate's DNS validation option for ``domain`` (ACM answers one per requested name)."""
    for option in options:
        if option.domain_name == domain:
            return option
    raise ValueError(f"ACM returned no DNS validation option for {domain}")


@dataclass(frozen=True)
class CloudflareZone:
    """The zone as Cloudflare answers the getZone invoke: id, name, plan (legacy id) and status."""

    id: str
    name: str
    plan: str
    status: str


def verified_zone(domain: str, plan: str, zone_id: str | None = None) -> CloudflareZone:
    """The stack's zone (an invoke, so known at preview), checked before any resource exists.

    A zone that is not active would leave ACM validation waiting (up to 75 minutes); a plan other than the
    configured one fails at apply (rulesets, periods) instead of here. Either stops with one line.
    """
    if zone_id is not None:
        found = cloudflare.get_zone(zone_id=zone_id)
    else:
        found = cloudflare.get_zone(filter={"match": "all", "name": domain})
    with warnings.catch_warnings():
        # The provider warns on every read of `plan` that changing a plan goes through subscriptions.
        warnings.simplefilter("ignore", UserWarning)
        plan_seen = cast(str, found.plan.legacy_id if found.plan else "")
    zone = CloudflareZone(
        id=found.id or found.zone_id or "", name=found.name or "", plan=plan_seen, status=found.status or ""
    )
    shown = f"Cloudflare zone {zone.name or domain} ({zone.id or 'not found'})"
    if not zone.id or zone.name != domain:
        raise ValueError(f"saas-backend:domain is {domain!r}; {shown} is not that zone: check edge.zoneId")
    if zone.status != "active":
        raise ValueError(
            f"{shown} is {zone.status or 'of unknown status'}, expected active: finish adding the zone "
            "(name servers) before the first up; ACM validation would wait for it"
        )
    if zone.plan != plan:
        raise ValueError(
            f"saas-backend:edge.plan is {plan!r}; {shown} is on the {zone.plan or 'unknown'} plan, expected "
            f"{plan}: set edge.plan to {zone.plan!r} or change the zone's plan"
        )
    return zone


@dataclass(frozen=True)
class EdgeOriginArgs:
    deployment: Deployment
    # The zone (apex) domain, e.g. example.com, and the API hostname inside it (cfg.api_hostname).
    domain: str
    hostname: str
    # Cloudflare zone id; when None it is looked up by `domain` (getZone invoke).
    zone_id: str | None = None


class EdgeOrigin(pulumi.ComponentResource):
    """What the ALB needs from the edge: a validated certificate, Cloudflare's ranges, the origin secret.

    Attributes: ``zone_id`` (Output), ``certificate_arn`` (Output, available only once ACM validated the
    certificate), ``cloudflare_ipv4`` / ``cloudflare_ipv6`` (plain lists), ``origin_header_name``
    (plain), ``origin_secret`` (secret Output), ``hostname`` (plain).
    """

    zone_id: pulumi.Output[str]
    certificate_arn: pulumi.Output[str]
    origin_secret: pulumi.Output[str]

    def __init__(self, name: str, args: EdgeOriginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _validate_origin(args)
        super().__init__("saas:edge:Origin", name, None, opts)
        self.hostname = args.hostname
        self.origin_header_name = ORIGIN_HEADER_NAME
        zone_id = _zone_id(args)
        self.zone_id = pulumi.Output.from_input(zone_id)
        self.cloudflare_ipv4, self.cloudflare_ipv6 = _cloudflare_ranges()
        self.certificate_arn = self._certificate(name, args, zone_id)
        self.origin_secret = self._origin_secret(name)
        self.register_outputs(
            {
                "zoneId": self.zone_id,
                "certificateArn": self.certificate_arn,
                "cloudflareIpv4": self.cloudflare_ipv4,
                "cloudflareIpv6": self.cloudflare_ipv6,
                "originHeaderName": self.origin_header_name,
                "originSecret": self.origin_secret,
            }
        )

    def _certificate(self, name: str, args: EdgeOriginArgs, zone_id: str) -> pulumi.Output[str]:
        """ACM certificate for the API hostname, validated by DNS records in the Cloudflare zone; the ARN
        is handed out only through the validation (consumers get a validated certificate)."""
        d = args.deployment
        certificate = aws.acm.Certificate(
            f"{name}-cert",
            domain_name=args.hostname,
            validation_method="DNS",
            tags=d.tags(Name=args.hostname),
            opts=child(self),
        )
        # One validation record per requested name: the count is known without apply; each record picks
        # its own option inside the Output.
        records: list[cloudflare.DnsRecord] = []
        for n, requested in enumerate([args.hostname]):
            option = certificate.domain_validation_options.apply(
                lambda options, requested=requested: _validation_option(options, requested)
            )
            records.append(
                cloudflare.DnsRecord(
                    f"{name}-cert-validation-{n}",
                    zone_id=zone_id,
                    name=option.apply(lambda o: _strip_dot(o.resource_record_name)),
                    type="CNAME",
                    content=option.apply(lambda o: _strip_dot(o.resource_record_value)),
                    proxied=False,
                    ttl=60,
                    comment=f"ACM DNS validation for {requested} ({d.prefix})",
                    opts=child(self),
                )
            )
        validation = aws.acm.CertificateValidation(
            f"{name}-cert-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[r.name for r in records],
            opts=child(self),
        )
        return validation.certificate_arn

    def _origin_secret(self, name: str) -> pulumi.Output[str]:
        password = random.RandomPassword(
            f"{name}-origin-secret",
            length=ORIGIN_SECRET_LENGTH,
            special=False,
            upper=True,
            lower=True,
            numeric=True,
            opts=child(self),
        )
        return pulumi.Output.secret(password.result)


def _validate_origin(args: EdgeOriginArgs) -> None:
    component = "EdgeOrigin"
    require(bool(_HOST_RE.match(args.domain)), component, "domain", args.domain, "must be a DNS domain")
    require(
        bool(_HOST_RE.match(args.hostname)) and args.hostname.endswith(f".{args.domain}"),
        component,
        "hostname",
        args.hostname,
        f"must be a hostname inside {args.domain}",
    )
    require(
        args.zone_id is None or bool(_ZONE_ID_RE.match(args.zone_id)),
        component,
        "zone_id",
        args.zone_id,
        "must be a Cloudflare zone id (32 lowercase hex characters) or None to look it up",
    )


def _zone_id(args: EdgeOriginArgs) -> str:
    """The configured zone id, else the zone lookup by name (an invoke: known at preview)."""
    if args.zone_id is not None:
        return args.zone_id
    zone = cloudflare.get_zone(filter={"match": "all", "name": args.domain})
    zone_id = zone.id or zone.zone_id or ""
    require(bool(zone_id), "EdgeOrigin", "domain", args.domain, "no Cloudflare zone found by that name")
    return zone_id


def _cloudflare_ranges() -> tuple[list[str], list[str]]:
    """Cloudflare's published ranges (invoke): plain lists the ALB security group admits on 443."""
    ranges = cloudflare.get_ip_ranges()
    ipv4: list[str] = list(ranges.ipv4_cidrs)
    ipv6: list[str] = list(ranges.ipv6_cidrs)
    require(
        bool(ipv4) and bool(ipv6),
        "EdgeOrigin",
        "cloudflare ranges",
        (ipv4, ipv6),
        "the getIpRanges invoke must return IPv4 and IPv6 ranges",
    )
    return ipv4, ipv6


# ---------------------------------------------------------------------------------------------------------
# Edge: DNS, zone settings and rulesets, after the ALB

# Managed rulesets executed in the http_request_firewall_managed phase (pro and above; the free plan only
# gets Cloudflare's Free Managed Ruleset, which Cloudflare deploys itself).
CLOUDFLARE_MANAGED_RULESET_ID = "efb7b8c949ac4650a09736fc376e9aee"
OWASP_CORE_RULESET_ID = "4814384a9e5d4991b9815dcfc25d2f1f"
MANAGED_WAF_PLANS = frozenset({"pro", "business", "enterprise"})
# The WAF attack score class (cf.waf.score.class) needs business or above (and attack score detection).
ATTACK_SCORE_PLANS = frozenset({"business", "enterprise"})

# OWASP's last rule ("949110: Inbound Anomaly Score Exceeded") decides what a high anomaly score does; its
# action is the one override the stacks set (WAF > OWASP Core Ruleset > Configure via API).
OWASP_ANOMALY_RULE_ID = "6179ae15870a4bb7b2d480d4843b323c"
OwaspAction = Literal["log", "block"]

# Zone settings (one cloudflare.ZoneSetting each in provider v6): setting id -> value. They apply to every
# hostname of the zone; SSL strict is set for the API host alone by a configuration rule
# (docs/decisions/edge-zone-ownership.md).
ZONE_SETTINGS: dict[str, str] = {
    "always_use_https": "on",
    "min_tls_version": "1.2",
    "tls_1_3": "on",
}
# Configuration rule for the API host: Full (strict), Cloudflare -> origin over TLS with a valid certificate.
API_HOST_SSL = "strict"

# Paths the API never serves and scanners always probe; matched case-insensitively anywhere in the path.
EXPLOIT_PATHS: tuple[str, ...] = (
    "/wp-admin",
    "/wp-login.php",
    "/wp-content",
    "/wp-includes",
    "/xmlrpc.php",
    "/.env",
    "/.git",
    "/.svn",
    "/.aws",
    "/.ssh",
    "/.htaccess",
    "/.ds_store",
    "/phpmyadmin",
    "/cgi-bin",
    "/server-status",
    "/server-info",
    "/actuator",
    "/vendor/phpunit",
    "/etc/passwd",
    "/boaform",
)
# Path traversal, in the raw (not normalized) URI: Cloudflare's URL normalization removes dot segments and
# decodes %2e before http.request.uri.* fields are evaluated, so only the raw fields still show them.
TRAVERSAL_MARKERS_RAW_PATH: tuple[str, ...] = ("/..", "../")
TRAVERSAL_MARKERS_RAW_LOWER: tuple[str, ...] = ("%2e%2e", "%2e.", ".%2e", "..%2f", "..%5c", "..\\")
TOR_COUNTRY = "T1"  # Cloudflare's pseudo country code for Tor exit nodes (ip.src.country)
RATE_LIMIT_CHARACTERISTICS = ("cf.colo.id", "ip.src")  # per IP (per Cloudflare data center)

_HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


def _quote(value: str) -> str:
    """A Rules language string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def host_expression(hostname: str) -> str:
    return f"(http.host eq {_quote(hostname)})"


def exploit_expression(hostname: str) -> str:
    """Requests for paths the API never serves (WAF custom rule, action block). No regex: free/pro."""
    path = "lower(http.request.uri.path)"
    probes = [f"{path} contains {_quote(p)}" for p in EXPLOIT_PATHS]
    probes += [f"raw.http.request.uri.path contains {_quote(m)}" for m in TRAVERSAL_MARKERS_RAW_PATH]
    probes += [f"lower(raw.http.request.uri) contains {_quote(m)}" for m in TRAVERSAL_MARKERS_RAW_LOWER]
    return f"{host_expression(hostname)} and ({' or '.join(probes)})"


def challenge_expression(hostname: str, plan: str) -> str:
    """Suspicious clients get a managed challenge.

    ``cf.threat_score`` is no longer populated (always 0, developers.cloudflare.com/ruleset-engine/
    rules-language/fields/reference/cf.threat_score/), so a threat-score rule would never match. Signals
    that work instead: Tor exit nodes (pseudo country T1) on every plan; from business up also the WAF
    attack score class (cf.waf.score.class, needs attack score detection enabled on the zone).
    """
    signals = [f"ip.src.country eq {_quote(TOR_COUNTRY)}"]
    if plan in ATTACK_SCORE_PLANS:
        signals.append('cf.waf.score.class in {"attack" "likely_attack"}')
    return f"{host_expression(hostname)} and ({' or '.join(signals)})"


def path_prefix_expression(prefix: str) -> str:
    """``prefix`` itself or anything below it (``/auth`` matches /auth and /auth/login, not /authors)."""
    base = prefix.rstrip("/") or "/"
    if base == "/":
        return 'starts_with(http.request.uri.path, "/")'
    field = "http.request.uri.path"
    return f"({field} eq {_quote(base)} or starts_with({field}, {_quote(base + '/')}))"


def rate_limit_expression(hostname: str, plan: str, rule: EdgeRateLimit) -> str:
    """What a rate limiting rule counts. The free plan allows only the path field in these expressions, so
    there the rule is zone-wide (every hostname of the zone); pro and above scope it to the API hostname."""
    path = path_prefix_expression(rule.path_prefix or "/")
    if not plan_limits(plan).host_field:
        return f"({path})"
    if rule.path_prefix is None:
        return host_expression(hostname)
    return f"({host_expression(hostname)} and {path})"


@dataclass(frozen=True)
class EdgeArgs:
    deployment: Deployment
    zone_id: pulumi.Input[str]
    # The API hostname (cfg.api_hostname) and the ALB it points at.
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


class Edge(pulumi.ComponentResource):
    """Cloudflare in front of the ALB: proxied DNS record, zone TLS settings, WAF, rate limits, origin header.

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
        api_tls = self._ruleset(name, "api-config", args, _api_config_ruleset(args))
        origin_header = self._ruleset(name, "origin-header", args, _origin_header_ruleset(args))
        custom = self._ruleset(name, "waf-custom", args, _waf_custom_ruleset(args))
        if self.managed_waf:
            self._ruleset(name, "waf-managed", args, _waf_managed_ruleset(args))
        ratelimit = self._ruleset(name, "rate-limit", args, _rate_limit_ruleset(args))
        # The proxied record goes live last: after strict TLS to the origin, the origin header and filters.
        self.record_id = self._api_record(
            name, args, depends_on=[*settings, api_tls, origin_header, custom, ratelimit]
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
            content=args.alb_dns_name,
            proxied=True,
            ttl=1,  # automatic: required for proxied records
            comment=f"{args.deployment.prefix} API -> ALB (proxied)",
            opts=child(self, depends_on=depends_on),
        )
        return record.id


def _validate_edge(args: EdgeArgs) -> None:
    component = "Edge"
    require(args.plan in PLAN_LIMITS, component, "plan", args.plan, f"allowed: {', '.join(PLAN_LIMITS)}")
    require(bool(_HOST_RE.match(args.hostname)), component, "hostname", args.hostname, "must be a hostname")
    require(
        bool(_HEADER_NAME_RE.match(args.origin_header_name)),
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


def _origin_header_ruleset(args: EdgeArgs) -> dict[str, Any]:
    """The ALB answers 403 without this header: Cloudflare adds it to every request for the API hostname."""
    host = args.hostname
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


def _api_config_ruleset(args: EdgeArgs) -> dict[str, Any]:
    """SSL Full (strict) for the API host only: other hosts of the zone keep their own SSL mode."""
    host = args.hostname
    return {
        "phase": "http_config_settings",
        "name": f"{args.deployment.prefix} API host configuration",
        "description": f"SSL {API_HOST_SSL} to the origin for {host}",
        "rules": [
            {
                "ref": "api_ssl_strict",
                "description": f"SSL Full (strict) for {host}: the ALB has a valid ACM certificate",
                "expression": host_expression(host),
                "action": "set_config",
                "action_parameters": {"ssl": API_HOST_SSL},
            }
        ],
    }


def _waf_custom_ruleset(args: EdgeArgs) -> dict[str, Any]:
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


def _waf_managed_ruleset(args: EdgeArgs) -> dict[str, Any]:
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


def _rate_limit_ruleset(args: EdgeArgs) -> dict[str, Any]:
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
