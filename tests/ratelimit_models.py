"""Executable models of the app's limiter and of Cloudflare's rate limiting rules, for the property tests.

App: express-rate-limit's default MemoryStore (and NestJS's throttler storage) keep one fixed window per
client that starts at the client's first request and lasts ``windowMs``; every request counts, rejected ones
too, and a request is admitted while the count is at most the limit.

Cloudflare: the docs define the parameters (requests per period, period, mitigation timeout: "once the rate
is reached, the rule applies the action to further requests" for that long; a request that takes the
counter above the limit is blocked, "Request rate calculation", example A) but not the counting algorithm.
Three candidates are modelled, all counting every request (blocked ones too): an exact sliding window, fixed
windows at an arbitrary phase, and the two-window estimate Cloudflare published for its rate limiting
(previous window weighted by the part of it still inside the period, plus the current window).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from components.ratelimit import EdgeRateLimit

Times = Sequence[float]


def app_admits(times: Times, limit: int, window: float) -> list[bool]:
    """Per request: does a fixed-window limiter (``limit`` per ``window`` from the first hit) admit it?"""
    admitted: list[bool] = []
    start, count = -math.inf, 0
    for t in times:
        if t >= start + window:
            start, count = t, 0
        count += 1
        admitted.append(count <= limit)
    return admitted


def admitted_only(times: Times, limit: int, window: float) -> list[float]:
    """The requests the app admits, the rejected ones left out (a client that stays within the limit)."""
    return [t for t, ok in zip(times, app_admits(times, limit, window), strict=True) if ok]


Counter = Callable[[list[float], float, int], float]


def _sliding_log(seen: list[float], now: float, period: int) -> float:
    return sum(1 for s in seen if now - period < s <= now)


def _fixed(phase: float) -> Counter:
    def count(seen: list[float], now: float, period: int) -> float:
        start = phase + math.floor((now - phase) / period) * period
        return sum(1 for s in seen if start <= s <= now)

    return count


def _estimate(phase: float) -> Counter:
    def count(seen: list[float], now: float, period: int) -> float:
        start = phase + math.floor((now - phase) / period) * period
        current = sum(1 for s in seen if start <= s <= now)
        previous = sum(1 for s in seen if start - period <= s < start)
        return previous * (1 - (now - start) / period) + current

    return count


def counters(phase: float) -> dict[str, Counter]:
    return {
        "sliding log": _sliding_log,
        "fixed windows": _fixed(phase),
        "two-window estimate": _estimate(phase),
    }


def edge_blocks(times: Times, rule: EdgeRateLimit, counter: Counter) -> list[bool]:
    """Per request: does the rule block it? Over the limit starts a mitigation of ``mitigation_timeout``."""
    seen: list[float] = []
    blocked_until = -math.inf
    out: list[bool] = []
    for t in times:
        seen.append(t)
        if t < blocked_until:
            out.append(True)
            continue
        over = counter(seen, t, rule.period) > rule.requests_per_period + 1e-9
        if over:
            blocked_until = t + rule.mitigation_timeout
        out.append(over)
    return out
