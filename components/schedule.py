"""The EventBridge schedule-expression grammar: ``cron(...)`` with its six fields and ranges, ``rate(...)``.

Written after "Cron expressions reference" and "Rate expressions reference" (Amazon EventBridge User
Guide, docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html and
eb-rate-expressions.html), which EventBridge Scheduler shares: a bad expression is refused by the API at
``pulumi up``; checking it here names the config key before any resource exists.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable
from datetime import date, timedelta

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


class _Field:
    def __init__(self, name: str, low: int, high: int, specials: str, names: tuple[str, ...] = ()) -> None:
        self.name, self.low, self.high, self.specials, self.names = name, low, high, specials, names

    def number(self, text: str) -> int | None:
        if text.isdigit():
            value = int(text)
            return value if self.low <= value <= self.high else None
        if text in self.names:
            return self.low + self.names.index(text)
        return None

    def allowed(self) -> str:
        names = f" or {self.names[0]}-{self.names[-1]}" if self.names else ""
        return f"{self.name} takes {self.low}-{self.high}{names} with the wildcards {self.specials}"


# Field, values and wildcards as the cron table lists them.
FIELDS = (
    _Field("minutes", 0, 59, ", - * /"),
    _Field("hours", 0, 23, ", - * /"),
    _Field("day-of-month", 1, 31, ", - * ? / L W"),
    _Field("month", 1, 12, ", - * /", _MONTHS),
    _Field("day-of-week", 1, 7, ", - * ? L #", _DAYS),
    _Field("year", 1970, 2199, ", - * /"),
)


def _item_ok(field: _Field, item: str) -> bool:
    """One comma-separated item: ``*``, ``?``, ``N``, ``N-M``, ``N/K``, ``*/K``, ``L``, ``NW``, ``N#K``."""
    if item in ("*", "?"):
        return item in field.specials.split()
    if item == "L" or (field.name == "day-of-week" and item.endswith("L")):
        return "L" in field.specials.split() and (item == "L" or field.number(item[:-1]) is not None)
    if item.endswith("W") and field.name == "day-of-month":
        return field.number(item[:-1]) is not None
    if "#" in item:
        day, _, nth = item.partition("#")
        nth_ok = nth in ("1", "2", "3", "4", "5")
        return "#" in field.specials.split() and field.number(day) is not None and nth_ok
    base, slash, step = item.partition("/")
    if slash and ("/" not in field.specials.split() or not step.isdigit() or int(step) < 1):
        return False
    if base == "*":
        return True
    low, dash, high = base.partition("-")
    if dash:
        return field.number(low) is not None and field.number(high) is not None
    return field.number(base) is not None


def cron_problem(fields: list[str]) -> str | None:
    """What is wrong with the six fields of a cron expression, or None."""
    if len(fields) != 6:
        return f"cron takes six fields (minutes hours day-of-month month day-of-week year), not {len(fields)}"
    for field, text in zip(FIELDS, fields, strict=True):
        items = text.split(",")
        if not all(_item_ok(field, item) for item in items):
            return f"{field.name} field {text!r} is out of range: {field.allowed()}"
        if "#" in text and len(items) > 1:
            return f"{field.name} field {text!r}: '#' allows a single expression"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    return None


def rate_problem(text: str) -> str | None:
    """What is wrong with the inside of a rate expression (``1 day``, ``12 hours``), or None."""
    m = re.fullmatch(r"(\d+) (minute|minutes|hour|hours|day|days)", text)
    if not m:
        return "rate takes a positive whole number and minute(s), hour(s) or day(s), e.g. rate(1 day)"
    value, unit = int(m.group(1)), m.group(2)
    if value < 1:
        return "the rate value must be positive"
    if (value == 1) == unit.endswith("s"):
        return "a value of 1 takes a singular unit (rate(1 day)), a larger one a plural (rate(2 days))"
    return None


def schedule_problem(expression: str) -> str | None:
    """None when ``expression`` is a valid EventBridge ``cron(...)`` or ``rate(...)`` expression."""
    m = re.fullmatch(r"(cron|rate)\((.*)\)", expression.strip())
    if not m:
        return "must be cron(minutes hours day-of-month month day-of-week year) or rate(value unit)"
    if m.group(1) == "rate":
        return rate_problem(m.group(2))
    return cron_problem(m.group(2).split())


# The Gregorian calendar repeats its weekdays and leap years every 28 years between 1901 and 2099, so the
# runs of a cron expression over these 28 years show every gap it will ever have in that range.
_CYCLE_START = date(2024, 1, 1)
_CYCLE_DAYS = (date(2052, 1, 1) - _CYCLE_START).days
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@functools.cache
def longest_interval_seconds(expression: str) -> int | None:
    """The longest time between two consecutive runs of a valid expression (UTC), or None when it does not
    run forever (a year other than ``*``, or a day that never comes, such as 30 FEB). Cached: a pure
    function of the text, asked by the config and by the backups component of every evaluation."""
    m = re.fullmatch(r"(cron|rate)\((.*)\)", expression.strip())
    if m is None or schedule_problem(expression):
        raise ValueError(f"not a valid schedule expression: {expression!r}")
    if m.group(1) == "rate":
        value, unit = m.group(2).split()
        return int(value) * _UNIT_SECONDS[unit.rstrip("s")]
    minutes, hours, dom, month, dow, year = m.group(2).split()
    if year != "*":
        return None
    times = sorted(h * 60 + mi for h in _expand(FIELDS[1], hours) for mi in _expand(FIELDS[0], minutes))
    months = _expand(FIELDS[3], month)
    matches = _day_matcher(dom, dow)
    days = [
        n
        for n in range(_CYCLE_DAYS)
        if (day := _CYCLE_START + timedelta(days=n)).month in months and matches(day)
    ]
    if not days:
        return None
    gaps = [b - a for a, b in itertools.pairwise(times)]
    gaps += [
        (b - a) * 1440 - times[-1] + times[0] for a, b in itertools.pairwise([*days, days[0] + _CYCLE_DAYS])
    ]
    return max(gaps) * 60


def _expand(field: _Field, text: str) -> set[int]:
    """The values of a field without day wildcards: ``*``, ``N``, ``N-M``, ``N/K``, ``*/K``, lists."""
    values: set[int] = set()
    for item in text.split(","):
        base, _, step = item.partition("/")
        low, _, high = base.partition("-")
        first = field.low if base == "*" else field.number(low)
        last = field.high if base == "*" or (step and not high) else field.number(high or low)
        assert first is not None and last is not None  # validated by cron_problem
        span = (
            range(first, last + 1)
            if first <= last
            else [*range(first, field.high + 1), *range(field.low, last + 1)]
        )
        values.update(span[:: int(step or 1)])
    return values


_DayTest = Callable[[date, date, int], bool]  # (day, last day of its month, weekday 1 = SUN)


def _day_matcher(dom: str, dow: str) -> Callable[[date], bool]:
    """Whether a day is a run day: by day-of-month unless it is ``?``, else by day-of-week. Each item is
    parsed once, not once per day of the 28-year cycle."""
    tests = (
        [_dom_item(item) for item in dom.split(",")] if dom != "?" else [_dow_item(i) for i in dow.split(",")]
    )

    def matches(day: date) -> bool:
        last = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        weekday = (day.isoweekday() % 7) + 1
        return any(test(day, last, weekday) for test in tests)

    return matches


def _dom_item(item: str) -> _DayTest:
    if item == "L":
        return lambda day, last, _weekday: day == last
    if item.endswith("W"):
        wanted = int(item[:-1])

        def nearest_weekday(day: date, last: date, _weekday: int) -> bool:
            target = day.replace(day=min(wanted, last.day))
            if target.isoweekday() == 6:  # Saturday: the Friday before, or the Monday after on the 1st
                target += timedelta(days=2) if target.day == 1 else timedelta(days=-1)
            elif target.isoweekday() == 7:  # Sunday: the Monday after, or the Friday before on the last day
                target += timedelta(days=-2) if target == last else timedelta(days=1)
            return day == target

        return nearest_weekday
    days = _expand(FIELDS[2], item)
    return lambda day, _last, _weekday: day.day in days


def _dow_item(item: str) -> _DayTest:
    field = FIELDS[4]
    if item == "L":
        return lambda _day, _last, weekday: weekday == 7
    if item.endswith("L"):
        wanted = field.number(item[:-1])
        return lambda day, last, weekday: weekday == wanted and day + timedelta(days=7) > last
    if "#" in item:
        name, _, nth = item.partition("#")
        wanted, n = field.number(name), int(nth)
        return lambda day, _last, weekday: weekday == wanted and (day.day - 1) // 7 + 1 == n
    weekdays = _expand(field, item)
    return lambda _day, _last, weekday: weekday in weekdays


def drill_max_age_seconds(expression: str) -> int | None:
    """How long the restore drill may go without a success before it is stale: its longest interval plus
    a day (None when the schedule does not repeat forever)."""
    longest = longest_interval_seconds(expression)
    return None if longest is None else longest + 86400
