"""The stack's Cloudflare zone, looked up and checked before any resource exists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pulumi

from . import cloudflare_sdk as cloudflare


@dataclass(frozen=True)
class CloudflareZone:
    """The zone as Cloudflare answers the getZone invoke: id, name, plan (legacy id), status and the id of
    the account that holds it (where a tunnel for the zone's hostnames is created)."""

    id: str
    name: str
    plan: str
    status: str
    account_id: str = ""


def verified_zone(domain: str, plan: str, zone_id: str | None = None) -> CloudflareZone:
    """The stack's zone (an invoke, so known at preview), checked before any resource exists.

    A zone that is not active would leave ACM validation waiting (up to 75 minutes); a plan other than the
    configured one fails at apply (rulesets, periods) instead of here. Either stops with one line.
    """
    if zone_id is not None:
        found = cloudflare.get_zone(zone_id=zone_id)
    else:
        found = cloudflare.get_zone(filter={"match": "all", "name": domain})
    # Read past the `plan` getter: it warns on every read (the provider deprecates *changing* a plan
    # there in favour of subscriptions), and reading the plan is what the check needs.
    plan_found = pulumi.get(found, "plan")
    plan_seen = cast(str, plan_found.legacy_id if plan_found else "")
    zone = CloudflareZone(
        id=found.id or found.zone_id or "",
        name=found.name or "",
        plan=plan_seen,
        status=found.status or "",
        # GetZoneAccountResult.id: pyright sees the builtin-shadowing getter as a method.
        account_id=cast(str, found.account.id if found.account else "") or "",
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
