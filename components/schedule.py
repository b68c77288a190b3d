"""The EventBridge schedule-expression grammar: ``cron(...)`` with its six fields and ranges, ``rate(...)``.

Written after "Cron expressions reference" and "Rate expressions reference" (Amazon EventBridge User
Guide, docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html and
eb-rate-expressions.html), which EventBridge Scheduler shares: a bad expression is refused by the API at
``pulumi up``; checking it here names the config key before any resource exists.
"""

from __future__ import annotations

import re

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
