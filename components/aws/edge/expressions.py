"""Rules language expressions of the edge's rules (every one parses with Cloudflare's wirefilter, tested)."""

from __future__ import annotations

from ...ratelimit import EdgeRateLimit, plan_limits

# The WAF attack score class (cf.waf.score.class) needs business or above (and attack score detection).
ATTACK_SCORE_PLANS = frozenset({"business", "enterprise"})

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
