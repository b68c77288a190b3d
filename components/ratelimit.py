"""Translate the stack's rate limits (requests per window per IP) into Cloudflare rate limiting rules.

The edge is a flood guard in front of the app's own limiter: a rule never blocks a client whose requests the
app's limiter admits, whatever their timing. Pure functions, no Pulumi. The plan table, the counting model
and the choice of period and count: docs/decisions/edge-rate-limits.md.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .config import EdgeConfig

Plan = Literal["free", "pro", "business", "enterprise"]

# Cloudflare's supported counting / mitigation period values, seconds (WAF > Rate limiting rules >
# Availability, footnote 3).
SUPPORTED_PERIODS: tuple[int, ...] = (
    10, 15, 20, 30, 40, 45, 60, 90, 120, 180, 240, 300, 480, 600, 900, 1200, 1800, 2400, 3600, 65535, 86400,
)  # fmt: skip
LONGEST_MITIGATION = 86400


def _up_to(limit: int) -> tuple[int, ...]:
    return tuple(p for p in SUPPORTED_PERIODS if p <= limit)


@dataclass(frozen=True)
class PlanLimits:
    periods: tuple[int, ...]
    mitigation_timeouts: tuple[int, ...]
    max_rules: int
    # Whether rate limiting rule expressions may use the Host field (free: Path only).
    host_field: bool
    # Enterprise may set any mitigation timeout through the API (Availability, footnote 4).
    custom_mitigation: bool = False

    def allows_timeout(self, seconds: int) -> bool:
        if self.custom_mitigation:
            return 1 <= seconds <= LONGEST_MITIGATION
        return seconds in self.mitigation_timeouts


PLAN_LIMITS: dict[str, PlanLimits] = {
    "free": PlanLimits(periods=(10,), mitigation_timeouts=(10,), max_rules=1, host_field=False),
    "pro": PlanLimits(periods=_up_to(60), mitigation_timeouts=_up_to(3600), max_rules=2, host_field=True),
    "business": PlanLimits(
        periods=_up_to(600), mitigation_timeouts=_up_to(86400), max_rules=5, host_field=True
    ),
    "enterprise": PlanLimits(
        periods=_up_to(65535),
        mitigation_timeouts=_up_to(86400),
        max_rules=100,
        host_field=True,
        custom_mitigation=True,
    ),
}

# The short config keys of the stack's limits, in priority order (the auth limit first: credential brute
# force is what the edge must stop).
LIMIT_KEYS: tuple[str, ...] = ("authRateLimit", "rateLimit")


class RateLimitError(ValueError):
    """A rate limit the plan cannot express. ``str()`` is one line: key, value, what the plan allows."""


@dataclass(frozen=True)
class RequestedLimit:
    """One configured limit: ``key`` is the full config key (``saas-backend:edge.rateLimit``)."""

    key: str
    requests: int
    period_seconds: int
    path_prefix: str | None = None

    @property
    def short_key(self) -> str:
        return self.key.split(".", 1)[-1]

    def show(self) -> str:
        value: dict[str, object] = {"requests": self.requests, "periodSeconds": self.period_seconds}
        if self.path_prefix is not None:
            value["pathPrefix"] = self.path_prefix
        return json.dumps(value, separators=(", ", ": "))


@dataclass(frozen=True)
class EdgeRateLimit:
    """A limit as one Cloudflare rate limiting rule enforces it."""

    key: str
    requests_per_period: int
    period: int
    mitigation_timeout: int
    path_prefix: str | None


def app_windows_in_count(period: int, window: int) -> int:
    """How many of the app's fixed windows one Cloudflare count can overlap.

    Cloudflare counts over at most two consecutive periods (a span shorter than ``2 * period``); a span of
    length L overlaps at most ``1 + ceil(L / window)`` fixed windows, each holding at most the app's limit.
    """
    return 1 + -(-2 * period // window)


def stack_limits(edge: EdgeConfig) -> list[RequestedLimit]:
    """The stack's limits in priority order (:data:`LIMIT_KEYS`)."""
    limits = {"authRateLimit": edge.auth_rate_limit, "rateLimit": edge.rate_limit}
    return [
        RequestedLimit(
            key=f"saas-backend:edge.{key}",
            requests=limits[key].requests,
            period_seconds=limits[key].period_seconds,
            path_prefix=limits[key].path_prefix,
        )
        for key in LIMIT_KEYS
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
    """The tightest rule on ``plan`` that never blocks a client the app admits under ``limit``.

    For each period the plan supports up to the app's window, the count is the app's limit times the app
    windows one Cloudflare count can overlap; the period with the lowest resulting rate wins (on enterprise
    that is the app's own window whenever Cloudflare supports it). The mitigation timeout is the longest the
    plan allows up to the app's window (enterprise: the window itself).
    """
    limits = plan_limits(plan)
    window = limit.period_seconds
    if limit.requests < 1 or window < 1:
        raise RateLimitError(f"{limit.key} is {limit.show()}; requests and periodSeconds must be at least 1")
    fitting = [p for p in limits.periods if p <= window]
    if not fitting:
        raise RateLimitError(
            f"{limit.key} is {limit.show()}; periodSeconds must be at least {limits.periods[0]}: "
            f"the Cloudflare {plan} plan counts over {_seconds(limits.periods)}"
        )
    # Lowest rate (count / period); on a tie the longer period.
    period = min(fitting, key=lambda p: (limit.requests * app_windows_in_count(p, window) / p, -p))
    if limits.custom_mitigation:
        timeout = min(window, LONGEST_MITIGATION)
    else:
        timeout = max(t for t in limits.mitigation_timeouts if t <= window)
    return EdgeRateLimit(
        key=limit.key,
        requests_per_period=limit.requests * app_windows_in_count(period, window),
        period=period,
        mitigation_timeout=timeout,
        path_prefix=limit.path_prefix,
    )


@dataclass(frozen=True)
class EdgeRateLimits:
    """The rules to create, and one warning line per unacknowledged limit left to the app."""

    rules: list[EdgeRateLimit]
    app_only: list[str]


def translate_all(
    plan: str,
    limits: Sequence[RequestedLimit],
    *,
    strict: bool,
    acknowledged: Collection[str] = (),
) -> EdgeRateLimits:
    """One rule per limit, ``limits`` in priority order; the plan must allow that many rules.

    Every limit is translated (and must be expressible) first. When the plan allows fewer rules than
    limits: with ``strict`` (production) that is an error naming the first limit that does not fit;
    otherwise the first ``max_rules`` limits get edge rules and every other one is left to the app: a
    warning line each, unless its short key is in ``acknowledged`` (``edge.appOnlyLimits``). An
    acknowledgement of a limit that does get an edge rule is an error (it would hide nothing, silently).
    """
    allowed = plan_limits(plan)
    rules = [translate(plan, limit) for limit in limits]
    kept, extra = limits[: allowed.max_rules], limits[allowed.max_rules :]
    stale = sorted(set(acknowledged) & {limit.short_key for limit in kept})
    if stale:
        raise RateLimitError(
            f"saas-backend:edge.appOnlyLimits lists {', '.join(stale)}; the Cloudflare {plan} plan enforces "
            f"{'it' if len(stale) == 1 else 'them'} at the edge: remove the acknowledgement"
        )
    if not extra:
        return EdgeRateLimits(rules=rules, app_only=[])
    used = ", ".join(limit.short_key for limit in kept)
    budget = (
        f"the Cloudflare {plan} plan allows {allowed.max_rules} rate limiting "
        f"rule{'s' if allowed.max_rules != 1 else ''} ({used}) and this stack has {len(limits)} limits"
    )
    if strict:
        raise RateLimitError(
            f"{extra[0].key} is {extra[0].show()}; {budget}; production needs every limit at the edge: use a "
            f"plan with more rules (pro: 2, business: 5, enterprise: 100)"
        )
    app_only = [
        f"{limit.key} is {limit.show()}; {budget}: this limit is enforced by the app only, not at the edge "
        f"(acknowledge it with edge.appOnlyLimits: [{limit.short_key}])"
        for limit in extra
        if limit.short_key not in acknowledged
    ]
    return EdgeRateLimits(rules=rules[: allowed.max_rules], app_only=app_only)
