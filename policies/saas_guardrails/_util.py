"""Small helpers shared by the rules.

Rules receive resource properties wrapped by pulumi_policy's unknown-checking proxy: reading a value that is
unknown at preview raises ``UnknownValueError`` (pulumi_policy turns it into an advisory "can't run policy
... during preview" diagnostic). Mappings arrive as ``collections.abc.Mapping`` proxies and lists as
``Sequence`` proxies, never as ``dict``/``list``: test with the abstract types.

Iterating over a mapping's keys never reads a value, so ``has_key`` checks presence without tripping the
proxy (used for secrets such as the ElastiCache auth token, unknown at preview by nature).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

# What a check receives to report a violation: ``report(message)`` in resource rules (the engine attaches
# the resource's URN), ``report(message, urn)`` in stack rules (``None`` for the stack as a whole).
# pulumi_policy types it as ``Callable[[str, Optional[str]], None]`` although the URN is optional.
Report = Callable[..., None]

__all__ = [
    "Report",
    "UnknownValueError",
    "as_list",
    "as_map",
    "config_int",
    "config_str_list",
    "has_key",
    "is_production",
    "is_set",
    "known",
    "number",
    "show",
    "tag",
]


def as_map(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def as_list(value: Any) -> list[Any]:
    """The elements of a list property (empty when absent or not a list)."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [value[i] for i in range(len(value))]
    return []


def known(props: Any, key: str) -> Any:
    """``props[key]``, or None when it is absent or unknown at preview."""
    try:
        return props.get(key)
    except UnknownValueError:
        return None


def has_key(props: Mapping[str, Any], key: str) -> bool:
    """True when ``key`` is present, without reading its (possibly unknown or secret) value."""
    return any(k == key for k in props)


def is_set(props: Mapping[str, Any], key: str) -> bool:
    """True when ``key`` holds a value other than null/"": an unknown value counts as set (it is computed)."""
    if not has_key(props, key):
        return False
    try:
        value = props[key]
    except UnknownValueError:
        return True
    return value is not None and value != ""


def tag(props: Mapping[str, Any], key: str) -> str | None:
    """The value of tag ``key`` (None when the resource has no such tag)."""
    tags = as_map(props.get("tags"))
    if tags is None or not has_key(tags, key):
        return None
    value = tags[key]
    return value if isinstance(value, str) else None


def is_production(props: Mapping[str, Any]) -> bool:
    return tag(props, "environment") == "production"


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def show(value: Any) -> str:
    """Render a property value for a violation message (numbers without a spurious ``.0``)."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return json.dumps({k: value[k] for k in value}, default=str)
    if isinstance(value, Sequence):
        return json.dumps(as_list(value), default=str)
    return str(value)


def config_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = number(config.get(key))
    return default if value is None else int(value)


def config_str_list(config: Mapping[str, Any], key: str, default: Iterable[str]) -> list[str]:
    value = config.get(key)
    if value is None:
        return list(default)
    return [str(v) for v in as_list(value)]
