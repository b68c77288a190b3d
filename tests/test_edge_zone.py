"""The zone check: a zone that is not active, or on another plan than edge.plan, stops the program first.

Cloudflare API, Zone Details (GET /zones/{zone_id}): ``status`` is one of initializing, pending, active,
moved; ``plan.legacy_id`` names the plan (free, pro, business, enterprise). pulumi-cloudflare v6 answers
them through the getZone invoke (``status``, ``plan.legacyId``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from components.aws.edge import CloudflareZone, verified_zone
from preflight import mocks
from preflight.engine import Evaluation, evaluate, run_program
from preflight.report import cloudflare_plan

GET_ZONE = "cloudflare:index/getZone:getZone"
STAGING_ZONE = "escalating-reminders.dev"


def _check(holder: dict[str, Any], domain: str, plan: str, zone_id: str | None = None) -> Callable[[], None]:
    def program() -> None:
        holder["zone"] = verified_zone(domain, plan, zone_id)

    return program


@pytest.fixture
def zone_answers(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Point the getZone answer at a zone in another state (a component-level test: no stack mock changes)."""

    def answer_status(status: str) -> None:
        def answer(m: mocks.SaasMocks, args: dict) -> dict:
            name = (args.get("filter") or {}).get("name", "")
            return mocks.zone_answer(name, mocks._h("zone", name, n=32), "free", status)

        monkeypatch.setitem(mocks.INVOKES, GET_ZONE, answer)

    return answer_status


def test_mock_zones_are_on_the_plans_the_stack_files_declare() -> None:
    assert {
        STAGING_ZONE: (cloudflare_plan("staging"), "active"),
        "escalating-reminders.com": (cloudflare_plan("production"), "active"),
    } == mocks.ZONES


def test_an_active_zone_on_the_configured_plan_passes() -> None:
    holder: dict[str, Any] = {}
    ev = run_program(_check(holder, STAGING_ZONE, "free"), preview=True)
    assert ev.error is None
    assert holder["zone"] == CloudflareZone(
        mocks._h("zone", STAGING_ZONE, n=32), STAGING_ZONE, "free", "active", mocks._h("account", n=32)
    )


def test_a_zone_on_another_plan_is_refused() -> None:
    ev = run_program(_check({}, STAGING_ZONE, "pro"), preview=True)
    zone_id = mocks._h("zone", STAGING_ZONE, n=32)
    assert ev.error is not None and ev.error.splitlines()[-1].endswith(
        f"saas-backend:edge.plan is 'pro'; Cloudflare zone {STAGING_ZONE} ({zone_id}) is on the free plan, "
        "expected pro: set edge.plan to 'free' or change the zone's plan"
    )


@pytest.mark.parametrize("status", ["pending", "initializing", "moved"])
def test_a_zone_that_is_not_active_is_refused(zone_answers: Callable[[str], None], status: str) -> None:
    zone_answers(status)
    ev = run_program(_check({}, STAGING_ZONE, "free"), preview=True)
    zone_id = mocks._h("zone", STAGING_ZONE, n=32)
    assert ev.error is not None and ev.error.splitlines()[-1].endswith(
        f"Cloudflare zone {STAGING_ZONE} ({zone_id}) is {status}, expected active: finish adding the zone "
        "(name servers) before the first up; ACM validation would wait for it"
    )


def test_a_configured_zone_id_of_another_zone_is_refused() -> None:
    ev = run_program(_check({}, STAGING_ZONE, "free", "0123456789abcdef0123456789abcdef"), preview=True)
    assert ev.error is not None and ev.error.splitlines()[-1].endswith(
        "saas-backend:domain is 'escalating-reminders.dev'; Cloudflare zone example.com "
        "(0123456789abcdef0123456789abcdef) is not that zone: check edge.zoneId"
    )


def _refused_before_any_resource(ev: Evaluation, text: str) -> None:
    assert ev.error is not None and text in ev.error
    assert ev.resources == []


def test_the_stack_stops_before_any_resource_on_a_plan_mismatch() -> None:
    edge = {"plan": "pro", "apiSubdomain": "api-staging"}
    ev = evaluate("staging", overrides={"saas-backend:edge": edge})
    _refused_before_any_resource(
        ev, "saas-backend:edge.plan is 'pro'; Cloudflare zone escalating-reminders.dev"
    )


def test_the_stack_stops_before_any_resource_on_a_pending_zone(zone_answers: Callable[[str], None]) -> None:
    zone_answers("pending")
    ev = evaluate("staging")
    _refused_before_any_resource(ev, "is pending, expected active")
