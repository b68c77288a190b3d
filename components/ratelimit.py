"""Translate the stack's rate limits (requests per period per IP) into Cloudflare rate limiting rules.

Pure functions, no Pulumi: usable from config validation, ``__main__.py`` and tests alike.

What each Cloudflare plan allows for rate limiting rules (developers.cloudflare.com/waf/rate-limiting-rules/,
"Availability"; cloudflare/cloudflare-docs src/content/partials/waf/rate-limiting-availability-by-plan.mdx
at commit 07acbb6612b5cefa1f8348106c158b0814a2972a):

=========== ================================ ================================ ===== =========================
plan        counting periods                 mitigation timeouts              rules rule expression fields
=========== ================================ ================================ ===== =========================
free        10 s                             10 s                             1     Path (and Verified Bot)
pro         supported values up to 1 min     supported values up to 1 h       2     Host, URI, Path, Query
business    supported values up to 10 min    supported values up to 1 day     5     + Method, Source IP, UA
enterprise  supported values up to 65,535 s  supported values up to 1 day     100   all request fields
=========== ================================ ================================ ===== =========================

Supported period values (s): 10, 15, 20, 30, 40, 45, 60, 90, 120, 180, 240, 300, 480, 600, 900, 1200, 1800,
2400, 3600, 65535, 86400. (An older revision of the same page, commit 8bce8c0d, listed fewer values: pro
10 s / 1 min, business 10 s / 1 min / 10 min, enterprise 10 s .. 10 min (1 h with Advanced Rate Limiting);
for the stacks' 15-minute limits both revisions give the same period on free, pro and business.)
Enterprise rule counts depend on the contract; 100 is the documented figure.

Translation of ``requests`` per ``period_seconds``:

* period: the LONGEST period the plan allows that is <= the requested period (a longer window would let a
  client spend a whole budget in a burst the app never allowed);
* requests per period: the same rate, ``ceil(requests * period / period_seconds)``, at least 1. Rounding
  UP means the edge is never stricter than the configured rate: the app enforces the exact limit itself
  (RATE_LIMIT_* env vars) and the edge is the coarse outer shield that stops floods before the origin.
  Rounding down would block clients the app allows (and turns slow limits such as 5 / 15 min into 0);
  the price of rounding up is at most one request per edge period above the configured rate;
* mitigation timeout: the longest supported value the plan allows that is <= the requested period (a
  blocked client waits about as long as the app's window), at least the plan's shortest timeout.

A limit that cannot be expressed raises :class:`RateLimitError`, one line naming the key, the value and
what the plan allows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .config import EdgeConfig

Plan = Literal["free", "pro", "business", "enterprise"]

# Cloudflare's supported counting / mitigation period values, seconds (footnote 3 of the table above).
SUPPORTED_PERIODS: tuple[int, ...] = (
    10, 15, 20, 30, 40, 45, 60, 90, 120, 180, 240, 300, 480, 600, 900, 1200, 1800, 2400, 3600, 65535, 86400,
)  # fmt: skip


def _up_to(limit: int) -> tuple[int, ...]:
    return tuple(p for p in SUPPORTED_PERIODS if p <= limit)


@dataclass(frozen=True)
class PlanLimits:
    periods: tuple[int, ...]
    mitigation_timeouts: tuple[int, ...]
    max_rules: int
    # Whether rate limiting rule expressions may use the Host field (free: Path only).
    host_field: bool


PLAN_LIMITS: dict[str, PlanLimits] = {
    "free": PlanLimits(periods=(10,), mitigation_timeouts=(10,), max_rules=1, host_field=False),
    "pro": PlanLimits(periods=_up_to(60), mitigation_timeouts=_up_to(3600), max_rules=2, host_field=True),
    "business": PlanLimits(
        periods=_up_to(600), mitigation_timeouts=_up_to(86400), max_rules=5, host_field=True
    ),
    "enterprise": PlanLimits(
        periods=_up_to(65535), mitigation_timeouts=_up_to(86400), max_rules=100, host_field=True
    ),
}


class RateLimitError(ValueError):
    """A rate limit the plan cannot express. ``str()`` is one line: key, value, what the plan allows."""


@dataclass(frozen=True)
class RequestedLimit:
    """One configured limit: ``key`` is the full config key (``saas-backend:edge.rateLimit``)."""

    key: str
    requests: int
    period_seconds: int
    path_prefix: str | None = None

    def show(self) -> str:
        value: dict[str, object] = {"requests": self.requests, "periodSeconds": self.period_seconds}
        if self.path_prefix is not None:
            value["pathPrefix"] = self.path_prefix
        return json.dumps(value, separators=(", ", ": "))


@dataclass(frozen=True)
class EdgeRateLimit:
    """A limit as one Cloudflare rate limiting rule will enforce it."""

    key: str
    requests_per_period: int
    period: int
    mitigation_timeout: int
    path_prefix: str | None

    @property
    def per_second(self) -> float:
        return self.requests_per_period / self.period


def stack_limits(edge: EdgeConfig) -> list[RequestedLimit]:
    """The stack's limits in priority order: the auth limit first (credential brute force is what the
    edge must stop), then the overall per-IP limit."""
    return [
        RequestedLimit(
            key="saas-backend:edge.authRateLimit",
            requests=edge.auth_rate_limit.requests,
            period_seconds=edge.auth_rate_limit.period_seconds,
            path_prefix=edge.auth_rate_limit.path_prefix,
        ),
        RequestedLimit(
            key="saas-backend:edge.rateLimit",
            requests=edge.rate_limit.requests,
            period_seconds=edge.rate_limit.period_seconds,
            path_prefix=edge.rate_limit.path_prefix,
        ),
    ]


def _seconds(values: Sequence[int]) -> str:
    return ", ".join(str(v) for v in values) + " s"


def plan_limits(plan: str) -> PlanLimits:
    try:
        return PLAN_LIMITS[plan]
    except KeyError:
        raise RateLimitError(
            f"saas-backend:edge.plan is {json.dumps(plan)}; allowed: {', '.join(PLAN_LIMITS)}"
        ) from None


def translate(plan: str, limit: RequestedLimit) -> EdgeRateLimit:
    """The rule that enforces ``limit`` on ``plan`` (see the module docstring for the rounding)."""
    limits = plan_limits(plan)
    if limit.requests < 1 or limit.period_seconds < 1:
        raise RateLimitError(f"{limit.key} is {limit.show()}; requests and periodSeconds must be at least 1")
    fitting = [p for p in limits.periods if p <= limit.period_seconds]
    if not fitting:
        raise RateLimitError(
            f"{limit.key} is {limit.show()}; periodSeconds must be at least {limits.periods[0]}: "
            f"the Cloudflare {plan} plan counts over {_seconds(limits.periods)}"
        )
    period = fitting[-1]
    # ceil(requests * period / period_seconds) in integers: the same rate, rounded up, at least 1.
    requests = max(1, -(-limit.requests * period // limit.period_seconds))
    timeouts = [t for t in limits.mitigation_timeouts if t <= limit.period_seconds]
    timeout = timeouts[-1] if timeouts else limits.mitigation_timeouts[0]
    return EdgeRateLimit(
        key=limit.key,
        requests_per_period=requests,
        period=period,
        mitigation_timeout=timeout,
        path_prefix=limit.path_prefix,
    )


@dataclass(frozen=True)
class EdgeRateLimits:
    """The rules to create, and one warning line per limit left to the app (see :func:`translate_all`)."""

    rules: list[EdgeRateLimit]
    app_only: list[str]


def translate_all(plan: str, limits: Sequence[RequestedLimit], *, strict: bool) -> EdgeRateLimits:
    """One rule per limit, ``limits`` in priority order; the plan must allow that many rules.

    Every limit is translated (and must be expressible) first. When the plan allows fewer rules than
    limits: with ``strict`` (production) that is an error naming the first limit that does not fit;
    otherwise the first ``max_rules`` limits get edge rules and each other one gets a warning line: it is
    then enforced by the app only (RATE_LIMIT_* env vars). Without that, the free plan (one rule) could
    never carry the two limits every stack has (edge.rateLimit and edge.authRateLimit).
    """
    allowed = plan_limits(plan)
    rules = [translate(plan, limit) for limit in limits]
    if len(rules) <= allowed.max_rules:
        return EdgeRateLimits(rules=rules, app_only=[])
    kept = limits[: allowed.max_rules]
    used = ", ".join(limit.key.split(":", 1)[-1] for limit in kept)
    budget = (
        f"the Cloudflare {plan} plan allows {allowed.max_rules} rate limiting "
        f"rule{'s' if allowed.max_rules != 1 else ''} ({used}) and this stack has {len(limits)} limits"
    )
    if strict:
        extra = limits[allowed.max_rules]
        raise RateLimitError(
            f"{extra.key} is {extra.show()}; {budget}; production needs every limit at the edge: use a plan "
            f"with more rules (pro: 2, business: 5, enterprise: 100)"
        )
    app_only = [
        f"{extra.key} is {extra.show()}; {budget}: this limit is enforced by the app only, not at the edge"
        for extra in limits[allowed.max_rules :]
    ]
    return EdgeRateLimits(rules=rules[: allowed.max_rules], app_only=app_only)
