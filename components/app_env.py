"""The environment every app task (api, worker, scheduler) starts with: plain variables and secret references.

Plain values go to the task definition's ``environment``; every secret goes to ``secrets`` as a literal
Secrets Manager ARN (``valueFrom``), so the whole container definition is known at preview and the policy
pack can read it. Built once in ``__main__.py`` and handed to the three services, so they are identical.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .config import StackConfig, looks_secret
from .variables import PROGRAM_VARIABLES

# Variables the program computes; the `env` config map may not redefine them (LOG_LEVEL excepted).
COMPUTED = PROGRAM_VARIABLES
DEFAULT_LOG_LEVEL = "info"


@dataclass(frozen=True)
class AppEnvironment:
    """Plain variables and secret references of the app containers (plain Python values only)."""

    variables: Mapping[str, str]
    secrets: tuple[Mapping[str, str], ...]
    secret_arn_patterns: tuple[str, ...]

    def container_environment(self) -> list[dict[str, str]]:
        """ECS ``environment``: ``[{"name", "value"}]`` sorted by name."""
        return [{"name": k, "value": self.variables[k]} for k in sorted(self.variables)]

    def container_secrets(self) -> list[dict[str, str]]:
        """ECS ``secrets``: ``[{"name", "valueFrom"}]`` sorted by name."""
        return [
            {"name": s["name"], "valueFrom": s["valueFrom"]}
            for s in sorted(self.secrets, key=lambda s: s["name"])
        ]


def secret_base_arn(value_from: str) -> str:
    """The secret's ARN without a JSON key / version suffix (``arn:...:secret:<name>``)."""
    return ":".join(value_from.split(":")[:7])


def covered_by(value_from: str, patterns: Sequence[str]) -> bool:
    """Whether a ``valueFrom`` (partial or full ARN, optionally ``:json-key::``) matches an IAM pattern."""
    base = secret_base_arn(value_from)
    # A partial ARN resolves to the full one, which carries Secrets Manager's 6-character suffix.
    candidates = (base, f"{base}-AbC123")
    return any(fnmatch.fnmatchcase(c, p) for c in candidates for p in patterns)


def build_app_environment(
    cfg: StackConfig,
    *,
    env_parts: Sequence[Mapping[str, str]] = (),
    secret_parts: Sequence[Sequence[Mapping[str, str]]] = (),
    secret_arn_patterns: Sequence[Sequence[str]] = (),
) -> AppEnvironment:
    """Compose the app environment from the stack config and the data tier's plain ``env`` dicts,
    ``ecs_secrets`` lists and ``secret_arn_patterns`` lists.

    Raises ``ValueError`` (one line naming the variable) on a secret-looking plain name, a name defined
    twice, a non-literal value or a secret reference no IAM pattern covers.
    """
    variables: dict[str, str] = {
        "NODE_ENV": cfg.environment,
        "PORT": str(cfg.api.port),
        "API_URL": f"https://{cfg.api_hostname}",
        "LOG_LEVEL": DEFAULT_LOG_LEVEL,
        "RATE_LIMIT_WINDOW_MS": str(cfg.edge.rate_limit.period_seconds * 1000),
        "RATE_LIMIT_MAX_REQUESTS": str(cfg.edge.rate_limit.requests),
        "AUTH_RATE_LIMIT_MAX": str(cfg.edge.auth_rate_limit.requests),
    }
    for name, value in cfg.env.items():
        if name in COMPUTED:
            raise ValueError(
                f"saas-backend:env.{name} is {value!r}; {name} is computed by the program "
                f"(it is {variables[name]!r}) and cannot be set in the env map"
            )
        variables[name] = value
    for part in env_parts:
        for name, value in part.items():
            if name in variables:
                raise ValueError(
                    f"app environment: {name} is defined twice ({variables[name]!r} and {value!r})"
                )
            variables[name] = value
    for name, value in variables.items():
        if not isinstance(value, str):
            raise ValueError(f"app environment: {name} is {value!r}; values must be literal strings")
        if looks_secret(name):
            raise ValueError(
                f"app environment: {name} looks like a secret; pass it through ecs_secrets instead"
            )

    patterns = tuple(sorted({p for part in secret_arn_patterns for p in part}))
    secrets: dict[str, Mapping[str, str]] = {}
    for part in secret_parts:
        for entry in part:
            name, value_from = entry.get("name"), entry.get("valueFrom")
            if not isinstance(name, str) or not isinstance(value_from, str):
                raise ValueError(f"app secrets: {entry!r} must have a literal name and valueFrom")
            if name in secrets or name in variables:
                raise ValueError(f"app secrets: {name} is defined twice")
            if not value_from.startswith("arn:") or ":secretsmanager:" not in value_from:
                raise ValueError(
                    f"app secrets: {name} has valueFrom {value_from!r}; expected a Secrets Manager ARN"
                )
            if not covered_by(value_from, patterns):
                raise ValueError(
                    f"app secrets: {name} has valueFrom {value_from!r}, which no secret_arn_patterns entry "
                    "covers; the execution role could not read it"
                )
            secrets[name] = {"name": name, "valueFrom": value_from}
    return AppEnvironment(
        variables=dict(sorted(variables.items())),
        secrets=tuple(secrets[n] for n in sorted(secrets)),
        secret_arn_patterns=patterns,
    )
