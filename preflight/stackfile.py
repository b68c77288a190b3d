"""Read ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` the way the Pulumi CLI hands them to the program."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent


class StackFileError(Exception):
    """A stack file that cannot be read as a Pulumi stack file (or does not exist): one line."""


class UnknownStackError(StackFileError):
    """No ``Pulumi.<stack>.yaml`` for the stack asked for."""


class CiphertextError(StackFileError):
    """The stack file holds a ``secure:`` (encrypted) value: this project's stack files carry none."""


# Top-level keys of a Pulumi stack settings file (Pulumi docs, "Project and stack settings file reference").
_STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")


# libyaml when PyYAML has it (the wheels do): the same documents, parsed about ten times faster.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error becomes one line: file, line, column and what the parser expected."""
    text = path.read_text()
    try:
        return yaml.load(text, Loader=_FAST_LOADER)  # a safe loader: plain data only
    except yaml.YAMLError:
        pass  # the pure-Python parser words the error (its messages are the ones documented)
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path.name}:{mark.line + 1}:{mark.column + 1}" if mark else path.name
        what = str(exc.problem or exc.context)
        if exc.context and exc.problem:
            started = exc.context_mark
            at = f" at {started.line + 1}:{started.column + 1}" if started else ""
            what += f" ({exc.context}{at})"
        raise StackFileError(f"{where}: YAML syntax error: {what}") from None
    except yaml.YAMLError as exc:
        raise StackFileError(f"{path.name}: YAML error: {' '.join(str(exc).split())}") from None


def _config_section(path: Path, data: Any, project: str) -> dict[str, Any]:
    """The ``config:`` mapping of a parsed stack file, with a one-line error for a misplaced layout."""
    if data is None:
        raise StackFileError(
            f"{path.name} is empty; it needs a config: mapping "
            f"({project}:environment, {project}:appName, ...)"
        )
    if not isinstance(data, dict):
        raise StackFileError(
            f"{path.name}: the file must be a mapping with a config: key, not a {type(data).__name__}"
        )
    stray = [str(k) for k in data if k not in _STACK_FILE_KEYS]
    if stray:
        raise StackFileError(
            f"{path.name}: {stray[0]} is at the top level; stack settings go under config: indent them "
            f"below a config: line (top-level keys allowed: {', '.join(_STACK_FILE_KEYS)})"
        )
    section = data.get("config")
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise StackFileError(
            f"{path.name}: config is {json.dumps(section, default=str)}; it must be a mapping of keys"
        )
    return section


def project_name(root: Path = REPO_ROOT) -> str:
    data = read_yaml(root / "Pulumi.yaml")
    return str(data["name"])


def available_stacks(root: Path = REPO_ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def _as_config_string(value: Any) -> str:
    """The CLI passes scalars as their string form and objects/lists as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    if value is None:
        return ""
    return str(value)


def _holds_ciphertext(value: Any) -> bool:
    """A ``{secure: ...}`` value, at the top or inside an object or list (structured config)."""
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_holds_ciphertext(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_ciphertext(v) for v in value)
    return False


def load_stack_config(
    stack: str, overrides: Mapping[str, Any] | None = None, root: Path = REPO_ROOT
) -> dict[str, str]:
    """The flat ``namespace:key -> string`` config map for ``stack``; refuses ``secure:`` values."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise UnknownStackError(
            f"no stack file {path.name}; stacks here: {', '.join(available_stacks(root))}"
        )
    project = project_name(root)
    raw: dict[str, Any] = dict(_config_section(path, read_yaml(path), project))
    raw.update(overrides or {})
    config: dict[str, str] = {}
    for key, value in raw.items():
        full = str(key) if ":" in str(key) else f"{project}:{key}"
        if _holds_ciphertext(value):
            raise CiphertextError(
                f"{path.name}: {full} holds ciphertext (secure:); stack files carry no secrets by design"
            )
        if value is None and overrides is not None and key in overrides:
            continue  # an override of None removes the key
        config[full] = _as_config_string(value)
    return config
