"""Cloudflare DNS records that point at the origin are proxied, so clients only ever reach Cloudflare.

Records whose name starts with ``_`` (ACM validation CNAMEs, ``_dmarc``, ...) must not be proxied and are
exempt. An unproxied record whose ``name`` or ``type`` is not known at preview is computed from another
resource: in this program only ACM validation records are (origin records have literal names, see
docs/conventions.md), so it is not judged at preview; ``pulumi up`` runs the rule again with the real name.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import Report, UnknownValueError, show

RECORD_TYPES = frozenset({"cloudflare:index/dnsRecord:DnsRecord", "cloudflare:index/record:Record"})
ORIGIN_RECORD_TYPES = frozenset({"A", "AAAA", "CNAME"})


def _check_proxied(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type not in RECORD_TYPES:
        return
    proxied = args.props.get("proxied")  # must be literal: an unknown value stops the rule (advisory)
    if proxied is True:
        return
    try:
        record_type = args.props.get("type")
        name = args.props.get("name")
    except UnknownValueError:
        return  # computed (ACM validation) record, see the module docstring
    if record_type not in ORIGIN_RECORD_TYPES or not isinstance(name, str) or name.startswith("_"):
        return
    report(
        f"Cloudflare {record_type} record '{args.name}' (name {show(name)}) has proxied {show(proxied)}; "
        "records pointing at the origin must be proxied (names starting with '_' are exempt)."
    )


cloudflare_origin_proxied = ResourceValidationPolicy(
    name="cloudflare-origin-proxied",
    description=(
        "Cloudflare A/AAAA/CNAME records are proxied (proxied: true), except names starting with '_' such as "
        "ACM validation records."
    ),
    validate=_check_proxied,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

POLICIES = [cloudflare_origin_proxied]
