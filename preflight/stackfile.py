"""Read ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` the way the Pulumi CLI hands them to the program."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent


class StackFileError(Exception):
    pass


def project_name(root: Path = REPO_ROOT) -> str:
    data = yaml.safe_load((root / "Pulumi.yaml").read_text())
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


def load_stack_config(
    stack: str, overrides: Mapping[str, Any] | None = None, root: Path = REPO_ROOT
) -> dict[str, str]:
    """The flat ``namespace:key -> string`` config map for ``stack``; refuses ``secure:`` values."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise StackFileError(f"no stack file {path.name}; stacks here: {', '.join(available_stacks(root))}")
    data = yaml.safe_load(path.read_text()) or {}
    project = project_name(root)
    raw: dict[str, Any] = dict(data.get("config") or {})
    raw.update(overrides or {})
    config: dict[str, str] = {}
    for key, value in raw.items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            raise StackFileError(
                f"{path.name}: {full} holds ciphertext (secure:); stack files carry no secrets by design"
            )
        if value is None and overrides is not None and key in overrides:
            continue  # an override of None removes the key
        config[full] = _as_config_string(value)
    return config
