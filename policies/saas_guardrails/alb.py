"""Application load balancers: HTTPS with a TLS 1.2+ policy (HTTP only to redirect), invalid headers dropped,
deletion protection in production."""

from __future__ import annotations

import re

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import Report, as_list, as_map, is_production, show

LISTENER_TYPES = frozenset({"aws:lb/listener:Listener", "aws:alb/listener:Listener"})
LOAD_BALANCER_TYPES = frozenset({"aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"})

# Policies whose minimum protocol is TLS 1.2 or 1.3; everything else (ELBSecurityPolicy-2016-08, the
# TLS13-1-0/1-1 variants, TLS-1-1-*) still accepts TLS 1.0/1.1.
TLS12_POLICIES = frozenset(
    {
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-FS-1-2-Res-2020-10",
        "ELBSecurityPolicy-FS-1-2-Res-2019-08",
        "ELBSecurityPolicy-FS-1-2-2019-08",
        "ELBSecurityPolicy-TLS-1-2-2017-01",
        "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    }
)
# Newer TLS 1.2+/1.3 policies (FIPS, post-quantum, ...) follow the same naming scheme.
TLS12_POLICY_PATTERN = re.compile(r"^ELBSecurityPolicy-(TLS13-1-[23]|FS-1-2|TLS-1-2)-")


def is_tls12_policy(name: object) -> bool:
    return isinstance(name, str) and (name in TLS12_POLICIES or bool(TLS12_POLICY_PATTERN.match(name)))


def _is_https_redirect(action: object) -> bool:
    entry = as_map(action)
    if entry is None or entry.get("type") != "redirect":
        return False
    redirect = as_map(entry.get("redirect"))
    return redirect is not None and redirect.get("protocol") == "HTTPS"


def _describe_action(action: object) -> str:
    entry = as_map(action)
    if entry is None:
        return show(action)
    if entry.get("type") == "redirect":
        redirect = as_map(entry.get("redirect"))
        protocol = redirect.get("protocol") if redirect is not None else None
        return f"redirect to {show(protocol)}"
    return show(entry.get("type"))


def _check_listener(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type not in LISTENER_TYPES:
        return
    props = args.props
    protocol = props.get("protocol") or "HTTP"  # the AWS default for an ALB listener
    if protocol in ("HTTPS", "TLS"):
        policy = props.get("sslPolicy")
        if not is_tls12_policy(policy):
            shown = show(policy) if policy is not None else "unset (AWS default ELBSecurityPolicy-2016-08)"
            report(
                f"{protocol} listener '{args.name}' has sslPolicy {shown}; use a TLS 1.2+ policy such as "
                "ELBSecurityPolicy-TLS13-1-2-2021-06."
            )
    elif protocol == "HTTP":
        actions = as_list(props.get("defaultActions"))
        if not actions or not all(_is_https_redirect(a) for a in actions):
            kinds = [_describe_action(a) for a in actions]
            report(
                f"HTTP listener '{args.name}' has default actions {', '.join(kinds) or 'none'}; a plain-HTTP "
                "listener may only redirect to HTTPS."
            )
    else:
        report(
            f"listener '{args.name}' has protocol {show(protocol)}; only HTTPS (or HTTP redirecting to "
            "HTTPS) is allowed."
        )


alb_listener_https = ResourceValidationPolicy(
    name="alb-listener-https",
    description=(
        "Load balancer listeners serve HTTPS with a TLS 1.2+ sslPolicy; a plain-HTTP listener only redirects "
        "to HTTPS."
    ),
    validate=_check_listener,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)


def _is_application(args: ResourceValidationArgs) -> bool:
    return (
        args.resource_type in LOAD_BALANCER_TYPES
        and (args.props.get("loadBalancerType") or "application") == "application"
    )


def _check_invalid_headers(args: ResourceValidationArgs, report: Report) -> None:
    if not _is_application(args):
        return
    value = args.props.get("dropInvalidHeaderFields")
    if value is not True:
        report(
            f"application load balancer '{args.name}' has dropInvalidHeaderFields {show(value)}; "
            "it must be true (HTTP desync/smuggling protection)."
        )


alb_drop_invalid_headers = ResourceValidationPolicy(
    name="alb-drop-invalid-headers",
    description="Application load balancers drop invalid HTTP header fields (dropInvalidHeaderFields: true).",
    validate=_check_invalid_headers,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
)


def _check_deletion_protection(args: ResourceValidationArgs, report: Report) -> None:
    if not _is_application(args) or not is_production(args.props):
        return
    value = args.props.get("enableDeletionProtection")
    if value is not True:
        report(
            f"production application load balancer '{args.name}' has enableDeletionProtection "
            f"{show(value)}; it must be true."
        )


alb_production_deletion_protection = ResourceValidationPolicy(
    name="alb-production-deletion-protection",
    description="Production application load balancers have deletion protection enabled.",
    validate=_check_deletion_protection,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
)

POLICIES = [alb_listener_https, alb_drop_invalid_headers, alb_production_deletion_protection]
