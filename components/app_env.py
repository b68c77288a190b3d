"""The environment every app task (api, worker, scheduler) starts with: plain variables and secret references.

Plain values go to the task definition's ``environment``; every secret goes to ``secrets`` as a literal
Secrets Manager ARN (``valueFrom``), so the whole container definition is known at preview and the policy
pack can read it. Built once in ``__main__.py`` and handed to the three services, so they are identical.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .config import StackConfig, looks_secret
from .variables import PROGRAM_VARIABLES, WRITABLE_HOME_ENV

# Variables the program computes; the `env` config map may not redefine them.
COMPUTED = PROGRAM_VARIABLES


def node_env(cfg: StackConfig) -> str:
    """``production`` on the AWS stacks (staging too: Node libraries switch dev behaviour on anything else),
    ``development`` on the dev stack."""
    return "development" if cfg.environment == "dev" else "production"


def computed_variables(cfg: StackConfig) -> dict[str, str]:
    """What the program sets itself: NODE_ENV, PORT, a writable HOME and npm cache, the rate-limit variables
    the app declares (``app.rateLimitEnv``)."""
    variables = {"NODE_ENV": node_env(cfg), "PORT": str(cfg.api.port), **WRITABLE_HOME_ENV}
    names = cfg.app.rate_limit_env
    if names is not None:
        variables[names.window_ms] = str(cfg.edge.rate_limit.period_seconds * 1000)
        variables[names.max_requests] = str(cfg.edge.rate_limit.requests)
        variables[names.auth_max_requests] = str(cfg.edge.auth_rate_limit.requests)
    return variables


def check_required(required: Sequence[str], provided: Iterable[str]) -> None:
    """Every ``required`` name (``app.requiredEnv``) must reach the tasks (plain, secret, data tier)."""
    have = set(provided)
    for n, name in enumerate(required):
        if name not in have:
            raise ValueError(
                f"saas-backend:app.requiredEnv[{n}] is {name!r}; no task receives it: set it in env or "
                "secretNames (the data tier sets DATABASE_*, REDIS_*; JWT_*, ENCRYPTION_KEY are generated)"
            )


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
    required: Sequence[str] = (),
) -> AppEnvironment:
    """Compose the app environment from the stack config and the data tier's plain ``env`` dicts,
    ``ecs_secrets`` lists and ``secret_arn_patterns`` lists.

    Raises ``ValueError`` (one line naming the variable) on a secret-looking plain name, a name defined
    twice, a non-literal value or a secret reference no IAM pattern covers.
    """
    variables = _plain_variables(cfg, env_parts)
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
    check_required(required, [*variables, *secrets])
    return AppEnvironment(
        variables=dict(sorted(variables.items())),
        secrets=tuple(secrets[n] for n in sorted(secrets)),
        secret_arn_patterns=patterns,
    )


def _plain_variables(cfg: StackConfig, env_parts: Sequence[Mapping[str, str]]) -> dict[str, str]:
    variables = computed_variables(cfg)
    for name, value in cfg.env.items():
        if name in variables:
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
    return variables
