"""The Cloudflare edge: EdgeOrigin (certificate, ranges, origin secret) and Edge (DNS, settings, rulesets)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.aws.edge import ORIGIN_HEADER_NAME, Edge, EdgeArgs, EdgeOrigin, EdgeOriginArgs
from components.common import Deployment
from components.ratelimit import PLAN_LIMITS, RequestedLimit, translate_all
from preflight import mocks
from preflight.engine import Evaluation, evaluate, reset_runtime, run_program
from preflight.model import SECRET_SIG, UNKNOWN

CERT = "aws:acm/certificate:Certificate"
CERT_VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "cloudflare:index/dnsRecord:DnsRecord"
PASSWORD = "random:index/randomPassword:RandomPassword"
ORIGIN = "saas:edge:Origin"

HOSTNAMES = {"staging": "api-staging.escalating-reminders.dev", "production": "api.escalating-reminders.com"}
DEPLOYMENT = Deployment("escalating-reminders", "staging", "us-west-2", mocks.ACCOUNT_ID)
ZONE_ID = "0123456789abcdef0123456789abcdef"


def _origin_program(holder: dict[str, Any], **overrides: Any):
    def program() -> None:
        args = {
            "deployment": DEPLOYMENT,
            "domain": "example.com",
            "hostname": "api.example.com",
            **overrides,
        }
        origin = EdgeOrigin("edge-origin", EdgeOriginArgs(**args))
        holder["origin"] = origin
        pulumi.export("zoneId", origin.zone_id)
        pulumi.export("certificateArn", origin.certificate_arn)
        pulumi.export("originSecret", origin.origin_secret)

    return program


def _validation_records(ev: Evaluation) -> list[Any]:
    return [r for r in ev.of_type(RECORD) if r.name.startswith("edge-origin-cert-validation")]


# ---------------------------------------------------------------------------------------------------------
# EdgeOrigin in isolation


def test_origin_attributes_in_isolation() -> None:
    holder: dict[str, Any] = {}
    ev = run_program(_origin_program(holder), preview=False)
    assert ev.error is None
    origin = holder["origin"]
    assert origin.cloudflare_ipv4 == mocks.CLOUDFLARE_IPV4
    assert origin.cloudflare_ipv6 == mocks.CLOUDFLARE_IPV6
    assert isinstance(origin.cloudflare_ipv4, list) and isinstance(origin.cloudflare_ipv6, list)
    assert origin.origin_header_name == ORIGIN_HEADER_NAME == "X-Origin-Verify"
    # Zone looked up by name (mock answers a hash of the name), certificate ARN from the validation.
    assert ev.outputs["zoneId"] == mocks._h("zone", "example.com", n=32)
    validation = ev.one(CERT_VALIDATION)
    cert = ev.one(CERT)
    assert ev.outputs["certificateArn"] == cert.outputs["arn"] == validation.inputs["certificateArn"]
    assert "originSecret" in ev.secret_outputs
    assert len(ev.outputs["originSecret"]) == 48


def test_origin_uses_the_configured_zone_id_without_lookup() -> None:
    ev = run_program(_origin_program({}, zone_id=ZONE_ID), preview=True)
    assert ev.error is None
    assert ev.outputs["zoneId"] == ZONE_ID
    assert all(r.inputs["zoneId"] == ZONE_ID for r in _validation_records(ev))


def test_origin_certificate_is_dns_validated_through_unproxied_cloudflare_records() -> None:
    ev = run_program(_origin_program({}), preview=False)
    cert = ev.one(CERT)
    assert cert.inputs["domainName"] == "api.example.com"
    assert cert.inputs["validationMethod"] == "DNS"
    assert cert.inputs["tags"] == DEPLOYMENT.tags(Name="api.example.com")
    (record,) = _validation_records(ev)
    assert record.inputs["proxied"] is False and record.inputs["type"] == "CNAME"
    assert record.inputs["ttl"] == 60
    # Name and content come from the certificate's validation option for the hostname (no trailing dot).
    option = cert.outputs["domainValidationOptions"][0]
    assert record.inputs["name"] == option["resourceRecordName"].rstrip(".")
    assert record.inputs["content"] == option["resourceRecordValue"].rstrip(".")
    assert record.property_dependencies["name"] == [cert.urn]
    validation = ev.one(CERT_VALIDATION)
    assert validation.inputs["validationRecordFqdns"] == [record.inputs["name"]]
    assert validation.property_dependencies["validationRecordFqdns"] == [record.urn]
    assert validation.property_dependencies["certificateArn"] == [cert.urn]


def test_origin_secret_is_alphanumeric_48() -> None:
    ev = run_program(_origin_program({}), preview=True)
    password = ev.one(PASSWORD)
    assert password.inputs["length"] == 48
    assert password.inputs["special"] is False
    assert all(password.inputs[k] is True for k in ("upper", "lower", "numeric"))


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    [
        ("domain", {"domain": "Example"}, "EdgeOrigin: domain is 'Example'; must be a DNS domain"),
        ("hostname", {"hostname": "api.other.com"}, "must be a hostname inside example.com"),
        ("zone_id", {"zone_id": "zone"}, "EdgeOrigin: zone_id is 'zone'; must be a Cloudflare zone id"),
    ],
)
def test_origin_rejects_bad_inputs(field: str, overrides: dict[str, Any], message: str) -> None:
    ev = run_program(_origin_program({}, **overrides), preview=True)
    assert ev.error is not None and message in ev.error and field in ev.error
    assert ev.of_type(CERT) == []


# ---------------------------------------------------------------------------------------------------------
# Both committed stacks


def test_stack_origin_certificate_for_the_api_hostname(production: Evaluation) -> None:
    stack = production  # the ALB origin; staging runs the tunnel (tests/test_tunnel.py)
    origin = stack.one(ORIGIN, "edge-origin")
    cert = stack.one(CERT)
    assert cert.parent == origin.urn
    assert cert.inputs["domainName"] == HOSTNAMES[stack.stack]
    (record,) = _validation_records(stack)
    assert record.parent == origin.urn
    assert record.inputs["proxied"] is False and record.inputs["type"] == "CNAME"
    assert record.inputs["name"] == UNKNOWN  # computed by ACM: known after apply
    validation = stack.one(CERT_VALIDATION)
    assert validation.property_dependencies["validationRecordFqdns"] == [record.urn]


def test_stack_up_validation_record_names_the_hostname(production_up: Evaluation) -> None:
    (record,) = _validation_records(production_up)
    assert record.inputs["name"].startswith("_")
    assert record.inputs["name"].endswith("." + HOSTNAMES["production"])


AUTH_KEY = "saas-backend:edge.authRateLimit"
OVERALL_KEY = "saas-backend:edge.rateLimit"


def _limit(requests: int, period: int, key: str = OVERALL_KEY, prefix: str | None = None) -> RequestedLimit:
    return RequestedLimit(key=key, requests=requests, period_seconds=period, path_prefix=prefix)


STACK_LIMITS = [_limit(5, 900, AUTH_KEY, "/auth"), _limit(100, 900)]


# ---------------------------------------------------------------------------------------------------------
# Edge in isolation (a literal ALB DNS name)

ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
RULESET = "cloudflare:index/ruleset:Ruleset"
EDGE = "saas:edge:Edge"
ALB_DNS = "escalating-reminders-staging-123456.us-west-2.elb.amazonaws.com"
HOST = "api.example.com"


def _edge_program(plan: str, holder: dict[str, Any] | None = None, /, **overrides: Any):
    def program() -> None:
        limits = translate_all(
            plan, [_limit(5, 900, AUTH_KEY, "/auth"), _limit(100, 900)], strict=False
        ).rules
        args: dict[str, Any] = {
            "deployment": DEPLOYMENT,
            "zone_id": ZONE_ID,
            "hostname": HOST,
            "origin_name": ALB_DNS,
            "plan": plan,
            "rate_limits": limits,
            "origin_header_name": ORIGIN_HEADER_NAME,
            "origin_secret": pulumi.Output.secret("s3cr3t-origin-value"),
            **overrides,
        }
        edge = Edge("edge", EdgeArgs(**args))
        if holder is not None:
            holder["edge"] = edge

    return program


def _phase(ev: Evaluation, phase: str) -> Any:
    (ruleset,) = [r for r in ev.of_type(RULESET) if r.inputs["phase"] == phase]
    return ruleset


def _unsecret(value: Any) -> Any:
    return value["value"] if isinstance(value, dict) and SECRET_SIG in value else value


@pytest.fixture(scope="module", params=["free", "pro", "business", "enterprise"])
def edge_ev(request: pytest.FixtureRequest) -> tuple[str, Evaluation]:
    reset_runtime()
    ev = run_program(_edge_program(request.param), preview=True)
    assert ev.error is None, ev.error
    return request.param, ev


def test_edge_record_is_a_proxied_cname_to_the_alb(edge_ev: tuple[str, Evaluation]) -> None:
    _, ev = edge_ev
    record = ev.one(RECORD)
    assert record.parent == ev.one(EDGE).urn
    assert record.inputs["name"] == HOST and record.inputs["type"] == "CNAME"
    assert record.inputs["proxied"] is True and record.inputs["ttl"] == 1
    assert record.inputs["content"] == ALB_DNS and record.inputs["zoneId"] == ZONE_ID
    # Live only once the zone's TLS settings are strict and Cloudflare adds the origin header and filters.
    rulesets = {r.urn for r in ev.of_type(RULESET) if r.inputs["phase"] != "http_request_firewall_managed"}
    settings = {r.urn for r in ev.of_type(ZONE_SETTING)}
    assert len(settings) == 3 and settings | rulesets <= set(record.dependencies)


def test_edge_zone_settings(edge_ev: tuple[str, Evaluation]) -> None:
    _, ev = edge_ev
    settings = {r.inputs["settingId"]: r.inputs["value"] for r in ev.of_type(ZONE_SETTING)}
    assert settings == {"always_use_https": "on", "min_tls_version": "1.2", "tls_1_3": "on"}
    assert all(r.inputs["zoneId"] == ZONE_ID for r in ev.of_type(ZONE_SETTING))


def test_edge_strict_tls_for_the_api_host_alone(edge_ev: tuple[str, Evaluation]) -> None:
    """Configuration Rules (http_config_settings, action set_config) override the zone's SSL mode for
    matching requests only (Rules > Configuration Rules > Settings: SSL)."""
    _, ev = edge_ev
    (rule,) = _phase(ev, "http_config_settings").inputs["rules"]
    assert rule["expression"] == f'(http.host eq "{HOST}")'
    assert rule["action"] == "set_config" and rule["actionParameters"] == {"ssl": "strict"}
    assert _phase(ev, "http_config_settings").urn in ev.one(RECORD).dependencies


def test_edge_rulesets_are_zone_entrypoints(edge_ev: tuple[str, Evaluation]) -> None:
    plan, ev = edge_ev
    phases = sorted(r.inputs["phase"] for r in ev.of_type(RULESET))
    expected = [
        "http_config_settings",
        "http_ratelimit",
        "http_request_firewall_custom",
        "http_request_late_transform",
    ]
    if plan != "free":
        expected.append("http_request_firewall_managed")
    assert phases == sorted(expected)
    for ruleset in ev.of_type(RULESET):
        assert ruleset.inputs["kind"] == "zone" and ruleset.inputs["zoneId"] == ZONE_ID
        assert ruleset.inputs["name"].startswith(DEPLOYMENT.prefix)


def test_edge_waf_blocks_exploit_paths_and_challenges_without_threat_score(
    edge_ev: tuple[str, Evaluation],
) -> None:
    plan, ev = edge_ev
    block, challenge = _phase(ev, "http_request_firewall_custom").inputs["rules"]
    assert block["action"] == "block"
    for path in ("/wp-admin", "/wp-login.php", "/.env", "/.git", "/phpmyadmin", "/xmlrpc.php", "/cgi-bin"):
        assert f'lower(http.request.uri.path) contains "{path}"' in block["expression"]
    assert '"/server-status"' in block["expression"]
    assert 'raw.http.request.uri.path contains "/.."' in block["expression"]
    assert 'lower(raw.http.request.uri) contains "%2e%2e"' in block["expression"]
    assert block["expression"].startswith(f'(http.host eq "{HOST}") and (')
    assert " matches " not in block["expression"]  # regex needs business: not on free/pro
    assert challenge["action"] == "managed_challenge"
    assert "threat_score" not in challenge["expression"]  # always 0 nowadays
    assert 'ip.src.country eq "T1"' in challenge["expression"]
    assert ("cf.waf.score.class" in challenge["expression"]) == (plan in ("business", "enterprise"))


def test_edge_managed_waf_only_where_the_plan_allows(edge_ev: tuple[str, Evaluation]) -> None:
    plan, ev = edge_ev
    managed = [r for r in ev.of_type(RULESET) if r.inputs["phase"] == "http_request_firewall_managed"]
    if plan == "free":
        assert managed == []
        return
    (ruleset,) = managed
    executed = [(r["action"], r["actionParameters"]["id"]) for r in ruleset.inputs["rules"]]
    assert executed == [
        ("execute", "efb7b8c949ac4650a09736fc376e9aee"),
        ("execute", "4814384a9e5d4991b9815dcfc25d2f1f"),
    ]
    assert all(r["expression"] == f'(http.host eq "{HOST}")' for r in ruleset.inputs["rules"])
    owasp = ruleset.inputs["rules"][1]["actionParameters"]["overrides"]
    assert owasp == {"rules": [{"id": "6179ae15870a4bb7b2d480d4843b323c", "action": "block"}]}


def test_edge_rate_limits_per_ip(edge_ev: tuple[str, Evaluation]) -> None:
    plan, ev = edge_ev
    rules = _phase(ev, "http_ratelimit").inputs["rules"]
    expected = translate_all(plan, STACK_LIMITS, strict=False).rules
    assert len(rules) == len(expected) == min(2, PLAN_LIMITS[plan].max_rules)
    for rule, want in zip(rules, expected, strict=True):
        assert rule["action"] == "block"
        assert rule["ratelimit"] == {
            "characteristics": ["cf.colo.id", "ip.src"],
            "period": want.period,
            "requestsPerPeriod": want.requests_per_period,
            "mitigationTimeout": want.mitigation_timeout,
        }
    auth = rules[0]["expression"]
    assert 'http.request.uri.path eq "/auth" or starts_with(http.request.uri.path, "/auth/")' in auth
    if plan == "free":  # only the path field is allowed on free
        assert "http.host" not in auth
    else:
        assert auth.startswith(f'((http.host eq "{HOST}") and ')
        assert rules[1]["expression"] == f'(http.host eq "{HOST}")'


def test_edge_origin_header_transform(edge_ev: tuple[str, Evaluation]) -> None:
    _, ev = edge_ev
    (rule,) = _phase(ev, "http_request_late_transform").inputs["rules"]
    assert rule["action"] == "rewrite" and rule["expression"] == f'(http.host eq "{HOST}")'
    headers = rule["actionParameters"]["headers"]
    assert list(headers) == [ORIGIN_HEADER_NAME]
    assert headers[ORIGIN_HEADER_NAME]["operation"] == "set"
    value = headers[ORIGIN_HEADER_NAME]["value"]
    assert isinstance(value, dict) and SECRET_SIG in value  # the secret stays a secret in the state
    assert _unsecret(value) == "s3cr3t-origin-value"


def test_edge_attributes() -> None:
    holder: dict[str, Any] = {}
    ev = run_program(_edge_program("pro", holder), preview=False)
    assert ev.error is None
    edge = holder["edge"]
    assert edge.hostname == HOST and edge.managed_waf is True
    assert sorted(edge.ruleset_ids) == [
        "http_config_settings",
        "http_ratelimit",
        "http_request_firewall_custom",
        "http_request_firewall_managed",
        "http_request_late_transform",
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"plan": "gold"}, "Edge: plan is 'gold'; allowed: free, pro, business, enterprise"),
        (
            {"origin_header_name": "X Origin"},
            "Edge: origin_header_name is 'X Origin'; must be an HTTP header",
        ),
        ({"rate_limits": []}, "the free plan allows 1..1 rate limiting rules"),
    ],
)
def test_edge_rejects_bad_inputs(overrides: dict[str, Any], message: str) -> None:
    ev = run_program(_edge_program("free", **overrides), preview=True)
    assert ev.error is not None and message in ev.error
    assert ev.of_type(RULESET) == []


def test_edge_rejects_rules_the_plan_cannot_hold() -> None:
    too_many = translate_all("pro", STACK_LIMITS, strict=True).rules
    ev = run_program(_edge_program("free", rate_limits=too_many), preview=True)
    assert ev.error is not None and "Edge: rate_limits is" in ev.error
    assert "the free plan allows 1..1 rate limiting rules" in ev.error
    pro_periods = translate_all("pro", STACK_LIMITS[:1], strict=True).rules
    ev = run_program(_edge_program("free", rate_limits=pro_periods), preview=True)
    assert ev.error is not None and "free allows periods (10,) s, timeouts (10,) s" in ev.error


# ---------------------------------------------------------------------------------------------------------
# Both committed stacks: the edge in front of the app tier's ALB

ALB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
WORLD = {"0.0.0.0/0", "::/0"}


def _edge_child(ev: Evaluation, type_: str) -> list[Any]:
    return [r for r in ev.children(ev.one(EDGE, "edge").urn) if r.type == type_]


def _https_listener(ev: Evaluation) -> Any:
    (listener,) = [r for r in ev.of_type(LISTENER) if r.inputs.get("protocol") == "HTTPS"]
    return listener


def test_stack_api_record_is_proxied_and_points_at_the_alb(production: Evaluation) -> None:
    stack = production  # the ALB origin; staging runs the tunnel (tests/test_tunnel.py)
    (record,) = _edge_child(stack, RECORD)
    alb = stack.one(ALB)
    assert record.inputs["name"] == HOSTNAMES[stack.stack]
    assert (record.inputs["type"], record.inputs["proxied"], record.inputs["ttl"]) == ("CNAME", True, 1)
    assert record.inputs["content"] == UNKNOWN  # the ALB's DNS name is known after apply
    assert record.property_dependencies["content"] == [alb.urn]
    assert record.inputs["zoneId"] == stack.outputs["cloudflareZoneId"]


def test_stack_up_api_record_targets_the_alb_dns_name(production_up: Evaluation) -> None:
    (record,) = _edge_child(production_up, RECORD)
    dns_name = production_up.one(ALB).outputs["dnsName"]
    assert record.inputs["content"] == dns_name and dns_name.endswith(".elb.amazonaws.com")


def test_stack_validation_records_are_not_proxied(production: Evaluation) -> None:
    stack = production  # the ALB origin; staging runs the tunnel (tests/test_tunnel.py)
    records = stack.of_type(RECORD)
    validation = [r for r in records if r.parent == stack.one(ORIGIN).urn]
    assert len(validation) == 1 and len(records) == 2
    assert all(r.inputs["proxied"] is False for r in validation)


def test_stack_certificate_is_validated_before_the_https_listener(production: Evaluation) -> None:
    stack = production  # the ALB origin; staging runs the tunnel (tests/test_tunnel.py)
    listener = _https_listener(stack)
    validation = stack.one(CERT_VALIDATION)
    assert listener.property_dependencies["certificateArn"] == [validation.urn]
    assert stack.one(CERT).urn not in listener.property_dependencies["certificateArn"]


def test_stack_up_listener_uses_the_validated_certificate(production_up: Evaluation) -> None:
    listener = _https_listener(production_up)
    assert listener.inputs["certificateArn"] == production_up.one(CERT).outputs["arn"]


def test_stack_zone_settings(stack: Evaluation) -> None:
    settings = {r.inputs["settingId"]: r.inputs["value"] for r in _edge_child(stack, ZONE_SETTING)}
    assert settings == {"always_use_https": "on", "min_tls_version": "1.2", "tls_1_3": "on"}
    (rule,) = _phase(stack, "http_config_settings").inputs["rules"]
    assert rule["actionParameters"] == {"ssl": "strict"} and HOSTNAMES[stack.stack] in rule["expression"]


def test_stack_waf_custom_rules_block_exploit_paths(stack: Evaluation) -> None:
    block, challenge = _phase(stack, "http_request_firewall_custom").inputs["rules"]
    assert block["action"] == "block" and challenge["action"] == "managed_challenge"
    for path in ("/wp-admin", "/wp-login.php", "/.env", "/.git", "/phpmyadmin", "/xmlrpc.php", "/cgi-bin"):
        assert f'contains "{path}"' in block["expression"]
    assert "/server-status" in block["expression"] and '"/.."' in block["expression"]
    assert f'(http.host eq "{HOSTNAMES[stack.stack]}")' in block["expression"]


def test_stack_managed_waf_for_production_pro_only(production: Evaluation, staging: Evaluation) -> None:
    managed = _phase(production, "http_request_firewall_managed")
    assert [r["actionParameters"]["id"] for r in managed.inputs["rules"]] == [
        "efb7b8c949ac4650a09736fc376e9aee",
        "4814384a9e5d4991b9815dcfc25d2f1f",
    ]
    # OWASP's anomaly-score rule only logs in production by default (edge.owaspAction).
    owasp = managed.inputs["rules"][1]["actionParameters"]["overrides"]["rules"]
    assert owasp == [{"id": "6179ae15870a4bb7b2d480d4843b323c", "action": "log"}]
    assert [r for r in staging.of_type(RULESET) if r.inputs["phase"] == "http_request_firewall_managed"] == []


def test_stack_owasp_action_is_a_config_choice() -> None:
    edge = {"plan": "pro", "apiSubdomain": "api", "owaspAction": "block"}
    ev = evaluate("production", overrides={"saas-backend:edge": edge})
    assert ev.error is None, ev.error
    (owasp,) = _phase(ev, "http_request_firewall_managed").inputs["rules"][1]["actionParameters"][
        "overrides"
    ]["rules"]
    assert owasp["action"] == "block"


def test_stack_rate_limits_from_seed_000(production: Evaluation, staging: Evaluation) -> None:
    # production, pro: 5 / 15 min on /auth -> 10 / min; 100 / 15 min -> 200 / min; blocked for 15 min.
    prod = _phase(production, "http_ratelimit").inputs["rules"]
    assert [
        (r["ratelimit"]["requestsPerPeriod"], r["ratelimit"]["period"], r["ratelimit"]["mitigationTimeout"])
        for r in prod
    ] == [(10, 60, 900), (200, 60, 900)]
    assert prod[0]["expression"].startswith('((http.host eq "api.escalating-reminders.com") and ')
    assert prod[1]["expression"] == '(http.host eq "api.escalating-reminders.com")'
    assert all(r["ratelimit"]["characteristics"] == ["cf.colo.id", "ip.src"] for r in prod)
    # staging, free: one rule (10 s only): the auth limit 20 / 15 min -> 40 / 10 s; path field only.
    (stage,) = _phase(staging, "http_ratelimit").inputs["rules"]
    assert (stage["ratelimit"]["requestsPerPeriod"], stage["ratelimit"]["period"]) == (40, 10)
    assert stage["ratelimit"]["mitigationTimeout"] == 10 and "http.host" not in stage["expression"]
    assert "/auth" in stage["expression"]


def test_stack_origin_header_is_what_the_alb_requires(production: Evaluation) -> None:
    stack = production  # the ALB origin; staging runs the tunnel (tests/test_tunnel.py)
    (rule,) = _phase(stack, "http_request_late_transform").inputs["rules"]
    (forward,) = stack.of_type(LISTENER_RULE)
    (condition,) = forward.inputs["conditions"]
    header = condition["httpHeader"]["httpHeaderName"]
    assert header == ORIGIN_HEADER_NAME and list(rule["actionParameters"]["headers"]) == [header]
    assert rule["expression"] == f'(http.host eq "{HOSTNAMES[stack.stack]}")'
    # The ALB's default answer is 403: only requests carrying the header reach the app.
    listener = _https_listener(stack)
    assert listener.inputs["defaultActions"][0]["fixedResponse"]["statusCode"] == "403"


def test_stack_up_origin_header_value_is_the_alb_secret(production_up: Evaluation) -> None:
    ev = production_up
    (rule,) = _phase(ev, "http_request_late_transform").inputs["rules"]
    sent = rule["actionParameters"]["headers"][ORIGIN_HEADER_NAME]["value"]
    (forward,) = ev.of_type(LISTENER_RULE)
    (required,) = forward.inputs["conditions"][0]["httpHeader"]["values"]
    assert SECRET_SIG in sent and SECRET_SIG in required
    assert (
        _unsecret(sent)
        == _unsecret(required)
        == ev.one(PASSWORD, "edge-origin-origin-secret").outputs["result"]
    )
    assert len(_unsecret(sent)) == 48


def _covers_443(props: dict[str, Any]) -> bool:
    protocol = str(props.get("ipProtocol") or props.get("protocol") or "")
    if protocol in ("-1", "all"):
        return True
    return int(props.get("fromPort", -1)) <= 443 <= int(props.get("toPort", -1))


def test_stack_alb_admits_443_from_cloudflare_only(production: Evaluation) -> None:
    stack = production  # the ALB origin; staging runs the tunnel (tests/test_tunnel.py)
    alb = stack.one(ALB)
    (alb_sg_urn,) = alb.property_dependencies["securityGroups"]
    alb_sg = stack.by_urn(alb_sg_urn)
    assert alb_sg.type == SG and not alb_sg.inputs.get("ingress")  # no inline rules
    admitted: set[str] = set()
    for rule in stack.of_type(SG_INGRESS) + stack.of_type(SG_RULE):
        if rule.type == SG_RULE and rule.inputs.get("type") != "ingress":
            continue
        if not _covers_443(rule.inputs):
            continue
        found = [rule.inputs.get("cidrIpv4"), rule.inputs.get("cidrIpv6")]
        found += [*(rule.inputs.get("cidrBlocks") or []), *(rule.inputs.get("ipv6CidrBlocks") or [])]
        cidrs = {str(c) for c in found if c is not None}
        assert not cidrs & WORLD, f"{rule.name} opens 443 to the world: {cidrs}"
        if alb_sg_urn in rule.property_dependencies.get("securityGroupId", []):
            admitted |= cidrs
    # Every security group in the stack: no inline ingress open to the world on 443 either.
    for group in stack.of_type(SG):
        for entry in group.inputs.get("ingress") or []:
            if _covers_443(entry):
                world = set(entry.get("cidrBlocks") or []) | set(entry.get("ipv6CidrBlocks") or [])
                assert not world & WORLD, f"{group.name} opens 443 to the world"
    assert admitted == set(mocks.CLOUDFLARE_IPV4) | set(mocks.CLOUDFLARE_IPV6)
