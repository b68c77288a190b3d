"""The rate-limit translation: the edge never blocks a client that the app's own limiter admits.

Plan facts: Cloudflare docs, WAF > Rate limiting rules > Availability (cloudflare-docs
src/content/partials/waf/rate-limiting-availability-by-plan.mdx at 07acbb6612b5cefa1f8348106c158b0814a2972a):
counting periods free 10 s, pro up to 1 min, business up to 10 min, enterprise up to 65,535 s; mitigation
timeouts free 10 s, pro up to 1 h, business and enterprise up to 1 day (enterprise: any value via the API);
rules 1 / 2 / 5 / 100. Counting models: tests/ratelimit_models.py.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.ratelimit import (
    PLAN_LIMITS,
    SUPPORTED_PERIODS,
    EdgeRateLimit,
    RateLimitError,
    RequestedLimit,
    app_windows_in_count,
    translate,
    translate_all,
)
from tests.ratelimit_models import admitted_only, app_admits, counters, edge_blocks

AUTH_KEY = "saas-backend:edge.authRateLimit"
OVERALL_KEY = "saas-backend:edge.rateLimit"


def _limit(requests: int, period: int, key: str = OVERALL_KEY, prefix: str | None = None) -> RequestedLimit:
    return RequestedLimit(key=key, requests=requests, period_seconds=period, path_prefix=prefix)


@st.composite
def _scenarios(draw: st.DrawFn) -> tuple[str, int, int, list[float], float]:
    """A plan, an app limit, a request timeline with bursts around window edges, a counting phase."""
    plan = draw(st.sampled_from(list(PLAN_LIMITS)))
    requests = draw(st.integers(1, 12))
    window = draw(
        st.one_of(st.sampled_from([p for p in SUPPORTED_PERIODS if p <= 4000]), st.integers(10, 4000))
    )
    period = translate(plan, _limit(requests, window)).period
    edges = [0.0, 0.001, period - 0.001, period, window - 0.001, window, window + 0.001]
    gap = st.one_of(st.sampled_from(edges), st.floats(0, 2), st.floats(0, 1.5 * window, allow_nan=False))
    gaps = draw(st.lists(gap, min_size=1, max_size=8 * requests))
    phase = draw(st.floats(0, period, allow_nan=False, exclude_max=True))
    return plan, requests, window, list(itertools.accumulate(gaps)), phase


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenarios())
def test_edge_never_blocks_a_client_the_app_admits(
    scenario: tuple[str, int, int, list[float], float],
) -> None:
    plan, requests, window, times, phase = scenario
    rule = translate(plan, _limit(requests, window))
    client = admitted_only(times, requests, window)
    assert all(app_admits(client, requests, window))
    for name, counter in counters(phase).items():
        assert not any(edge_blocks(client, rule, counter)), (name, rule, client)


@pytest.mark.parametrize("plan", list(PLAN_LIMITS))
def test_rule_window_and_mitigation_are_no_longer_than_the_apps(plan: str) -> None:
    for requests in (1, 5, 20, 100, 1000):
        for window in (10, 11, 30, 59, 60, 61, 300, 599, 600, 900, 3600, 86400):
            rule = translate(plan, _limit(requests, window))
            assert rule.period <= window and rule.mitigation_timeout <= window
            assert rule.requests_per_period >= requests
            assert rule.period in PLAN_LIMITS[plan].periods
            assert PLAN_LIMITS[plan].allows_timeout(rule.mitigation_timeout)


@pytest.mark.parametrize("window", [p for p in SUPPORTED_PERIODS if p <= 65535])
def test_enterprise_counts_over_the_apps_exact_window(window: int) -> None:
    rule = translate("enterprise", _limit(5, window))
    assert (rule.period, rule.mitigation_timeout) == (window, window)
    assert rule.requests_per_period == 5 * app_windows_in_count(window, window) == 15


@pytest.mark.parametrize(
    ("plan", "requests", "window", "expected"),
    [
        # (requests per period, period, mitigation timeout)
        ("free", 1000, 900, (2000, 10, 10)),
        ("free", 20, 900, (40, 10, 10)),
        ("free", 7, 10, (21, 10, 10)),
        ("pro", 100, 900, (200, 60, 900)),
        ("pro", 5, 900, (10, 60, 900)),
        ("pro", 30, 30, (90, 30, 30)),
        ("business", 100, 900, (300, 600, 900)),
        ("enterprise", 100, 900, (300, 900, 900)),
        ("enterprise", 1000, 86400, (3000, 65535, 86400)),
    ],
)
def test_translation_table(plan: str, requests: int, window: int, expected: tuple[int, int, int]) -> None:
    rule = translate(plan, _limit(requests, window))
    assert (rule.requests_per_period, rule.period, rule.mitigation_timeout) == expected


def _blocked_anywhere(times: list[float], rule: EdgeRateLimit) -> bool:
    return any(any(edge_blocks(times, rule, counter)) for counter in counters(0.0).values())


def test_the_property_catches_a_burst_unsafe_rule() -> None:
    """The former rate-preserving rule (100 / 15 min as 7 / 60 s on pro) blocked a page load of 8 calls."""
    unsafe = EdgeRateLimit(
        OVERALL_KEY, requests_per_period=7, period=60, mitigation_timeout=900, path_prefix=None
    )
    page_load = [0.1 * n for n in range(8)]
    assert all(app_admits(page_load, 100, 900)) and _blocked_anywhere(page_load, unsafe)
    assert not _blocked_anywhere(page_load, translate("pro", _limit(100, 900)))


@pytest.mark.parametrize("plan", list(PLAN_LIMITS))
def test_a_flood_is_still_blocked(plan: str) -> None:
    rule = translate(plan, _limit(100, 900))
    flood = [0.001 * n for n in range(rule.requests_per_period + 1)]
    for counter in counters(0.0).values():
        assert edge_blocks(flood, rule, counter)[-1]


def test_login_then_refresh_passes_on_every_plan() -> None:
    for plan in PLAN_LIMITS:
        assert not _blocked_anywhere([0.0, 2.0], translate(plan, _limit(5, 900, AUTH_KEY, "/v1/auth")))


def test_plan_table_matches_cloudflare_docs() -> None:
    assert PLAN_LIMITS["free"].periods == (10,) and PLAN_LIMITS["free"].mitigation_timeouts == (10,)
    assert PLAN_LIMITS["pro"].periods == (10, 15, 20, 30, 40, 45, 60)
    assert PLAN_LIMITS["pro"].mitigation_timeouts[-1] == 3600
    assert PLAN_LIMITS["business"].periods[-1] == 600
    assert PLAN_LIMITS["business"].mitigation_timeouts[-1] == 86400
    assert PLAN_LIMITS["enterprise"].periods[-1] == 65535
    assert [PLAN_LIMITS[p].max_rules for p in ("free", "pro", "business", "enterprise")] == [1, 2, 5, 100]
    assert [PLAN_LIMITS[p].host_field for p in ("free", "pro")] == [False, True]
    assert [PLAN_LIMITS[p].custom_mitigation for p in PLAN_LIMITS] == [False, False, False, True]


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ("free", "periodSeconds must be at least 10: the Cloudflare free plan counts over 10 s"),
        (
            "pro",
            "periodSeconds must be at least 10: the Cloudflare pro plan counts over 10, 15, 20, 30, 40, 45, "
            "60 s",
        ),
        (
            "enterprise",
            "periodSeconds must be at least 10: the Cloudflare enterprise plan counts over 10, 15,",
        ),
    ],
)
def test_translate_rejects_a_window_shorter_than_the_plan_counts(plan: str, message: str) -> None:
    with pytest.raises(RateLimitError) as error:
        translate(plan, _limit(3, 5))
    assert str(error.value).startswith('saas-backend:edge.rateLimit is {"requests": 3, "periodSeconds": 5}; ')
    assert message in str(error.value) and "\n" not in str(error.value)


def test_translate_rejects_unknown_plans_and_empty_limits() -> None:
    with pytest.raises(RateLimitError, match=r'^saas-backend:edge.plan is "gold"; allowed: free, pro, '):
        translate("gold", _limit(1, 60))
    with pytest.raises(RateLimitError, match=r"requests and periodSeconds must be at least 1$"):
        translate("pro", _limit(0, 60))


STACK_LIMITS = [_limit(5, 900, AUTH_KEY, "/v1/auth"), _limit(100, 900)]


@pytest.mark.parametrize("plan", ["pro", "business", "enterprise"])
def test_translate_all_fits_both_limits_on_paid_plans(plan: str) -> None:
    for strict in (True, False):
        result = translate_all(plan, STACK_LIMITS, strict=strict)
        assert [r.key for r in result.rules] == [AUTH_KEY, OVERALL_KEY]
        assert result.app_only == []


def test_translate_all_free_plan_is_an_error_in_production() -> None:
    with pytest.raises(RateLimitError) as error:
        translate_all("free", STACK_LIMITS, strict=True)
    assert str(error.value) == (
        'saas-backend:edge.rateLimit is {"requests": 100, "periodSeconds": 900}; the Cloudflare free plan '
        "allows 1 rate limiting rule (authRateLimit) and this stack has 2 limits; production needs "
        "every limit at the edge: use a plan with more rules (pro: 2, business: 5, enterprise: 100)"
    )


def test_translate_all_free_plan_warns_about_the_limit_left_to_the_app() -> None:
    result = translate_all("free", STACK_LIMITS, strict=False)
    assert [(r.key, r.requests_per_period, r.period) for r in result.rules] == [(AUTH_KEY, 10, 10)]
    assert result.app_only == [
        'saas-backend:edge.rateLimit is {"requests": 100, "periodSeconds": 900}; the Cloudflare free plan '
        "allows 1 rate limiting rule (authRateLimit) and this stack has 2 limits: this limit is "
        "enforced by the app only, not at the edge (acknowledge it with edge.appOnlyLimits: [rateLimit])"
    ]


def test_an_acknowledgement_silences_the_warning_and_a_stale_one_is_refused() -> None:
    quiet = translate_all("free", STACK_LIMITS, strict=False, acknowledged=["rateLimit"])
    assert quiet.app_only == [] and [r.key for r in quiet.rules] == [AUTH_KEY]
    with pytest.raises(RateLimitError) as error:
        translate_all("pro", STACK_LIMITS, strict=False, acknowledged=["rateLimit"])
    assert str(error.value) == (
        "saas-backend:edge.appOnlyLimits lists rateLimit; the Cloudflare pro plan enforces it at the edge: "
        "remove the acknowledgement"
    )


def test_translate_all_pro_plan_with_three_limits_names_the_third() -> None:
    third = _limit(10, 60, "saas-backend:edge.extraRateLimit", "/upload")
    with pytest.raises(
        RateLimitError, match=r"^saas-backend:edge.extraRateLimit is .*pro plan allows 2 rate"
    ):
        translate_all("pro", [*STACK_LIMITS, third], strict=True)


def test_translate_all_checks_every_limit_even_those_beyond_the_rule_count() -> None:
    with pytest.raises(RateLimitError, match=r"^saas-backend:edge.rateLimit is .*at least 10"):
        translate_all("free", [STACK_LIMITS[0], _limit(1, 5)], strict=False)


def test_two_app_windows_per_count_are_not_enough_for_the_two_window_estimate() -> None:
    """Why the count covers three app windows when the period is the app's window (enterprise): a client
    admitted by the app (4 / 120 s) meets an estimate of 10.7 requests, above twice its limit."""
    client = [5.0, 120.0, 120.1, 120.2, 125.5, 125.6, 125.7, 125.8, 245.5, 245.6, 245.7, 245.8]
    assert all(app_admits(client, 4, 120))
    two_windows = EdgeRateLimit(
        OVERALL_KEY, requests_per_period=8, period=120, mitigation_timeout=120, path_prefix=None
    )
    assert edge_blocks(client, two_windows, counters(0.0)["two-window estimate"])[-1]
    rule = translate("enterprise", _limit(4, 120))
    assert (rule.requests_per_period, rule.period) == (12, 120) and not _blocked_anywhere(client, rule)
