"""The edge's auth rate limit counts a prefix of the app's real auth routes.

The routes come from the app contract facts (tests/fixtures/app-contract.yaml, read from the app's source:
``app.setGlobalPrefix('v1', {exclude: [GET health]})`` and ``@Controller('auth')``). A prefix that matches no
real route (``/auth`` when the app serves ``/v1/auth/...``) would leave the login endpoints unprotected.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from preflight.engine import Evaluation

FACTS = Path(__file__).resolve().parent / "fixtures" / "app-contract.yaml"
RULESET = "cloudflare:index/ruleset:Ruleset"


def _counts_a_real_route(prefix: str, routes: list[str]) -> bool:
    return any(route == prefix or route.startswith(f"{prefix}/") for route in routes)


def _auth_rule_prefix(ev: Evaluation) -> str:
    (ruleset,) = [r for r in ev.of_type(RULESET) if r.inputs["phase"] == "http_ratelimit"]
    (rule,) = [r for r in ruleset.inputs["rules"] if r["ref"] == "edge_authratelimit"]
    (prefix,) = set(re.findall(r'http\.request\.uri\.path eq "([^"]+)"', rule["expression"]))
    return prefix


def test_the_auth_rule_counts_the_apps_auth_routes(stack: Evaluation) -> None:
    facts = yaml.safe_load(FACTS.read_text())
    prefix = _auth_rule_prefix(stack)
    assert prefix.startswith(f"{facts['route_prefix']}/")
    assert _counts_a_real_route(prefix, facts["auth_routes"]), (prefix, facts["auth_routes"])


def test_a_prefix_outside_the_route_prefix_matches_no_route() -> None:
    routes = yaml.safe_load(FACTS.read_text())["auth_routes"]
    assert not _counts_a_real_route("/auth", routes)
    assert not _counts_a_real_route("/v1/aut", routes)
