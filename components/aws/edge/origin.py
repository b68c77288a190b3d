"""EdgeOrigin (``saas:edge:Origin``), created before the ALB: what the ALB needs from the edge.

The ACM certificate for the API hostname validated through Cloudflare DNS, Cloudflare's published IP ranges
(the ALB admits only those) and the origin secret that Cloudflare adds to every request (the ALB answers 403
without it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from ...common import Deployment, child, require
from . import cloudflare_sdk as cloudflare

ORIGIN_HEADER_NAME = "X-Origin-Verify"
ORIGIN_SECRET_LENGTH = 48

HOST_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
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
    require(bool(HOST_RE.match(args.domain)), component, "domain", args.domain, "must be a DNS domain")
    require(
        bool(HOST_RE.match(args.hostname)) and args.hostname.endswith(f".{args.domain}"),
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
