"""What every component shares: the deployment's identity (names, tags, account, region) and helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi

from .config import LOG_RETENTION_DAYS, StackConfig


@dataclass(frozen=True)
class Deployment:
    """Who and where we deploy. Plain values only, so that names and ARNs built from it stay literal."""

    app_name: str
    environment: str
    region: str
    account_id: str
    partition: str = "aws"

    @classmethod
    def from_config(cls, cfg: StackConfig, account_id: str, partition: str = "aws") -> Deployment:
        return cls(cfg.app_name, cfg.environment, cfg.aws_region, account_id, partition)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def prefix(self) -> str:
        """``<app>-<environment>``: the physical-name prefix of every resource."""
        return f"{self.app_name}-{self.environment}"

    def tags(self, **extra: str) -> dict[str, str]:
        """The required tags (environment, app, managed-by) plus ``extra``."""
        return {"environment": self.environment, "app": self.app_name, "managed-by": "pulumi", **extra}

    def secret_name(self, key: str) -> str:
        """Secrets Manager name of a secret, e.g. ``escalating-reminders/staging/JWT_SECRET``."""
        return f"{self.app_name}/{self.environment}/{key}"

    def secret_arn(self, key: str, json_key: str | None = None) -> str:
        """A literal (partial) ARN of a named secret, usable as ECS ``valueFrom`` at preview time.

        Secrets Manager resolves a partial ARN (without the random 6-character suffix); ``json_key``
        selects one key of a JSON secret (``arn:...:secret:name:json-key::``).
        """
        base = f"arn:{self.partition}:secretsmanager:{self.region}:{self.account_id}:secret"
        arn = f"{base}:{self.secret_name(key)}"
        return f"{arn}:{json_key}::" if json_key else arn

    @property
    def log_group_prefixes(self) -> tuple[str, ...]:
        """Name prefixes under which every CloudWatch log group of the stack lives (docs/conventions.md):
        VPC flow logs, ECS tasks, RDS log exports, ElastiCache logs. The stack's logs key (Network) lets
        CloudWatch Logs use it for log groups under these prefixes only."""
        return (
            f"/vpc/{self.prefix}/",
            f"/ecs/{self.prefix}/",
            f"/aws/rds/instance/{self.prefix}-postgres/",
            f"/elasticache/{self.prefix}-redis/",
        )

    def log_group_arn(self, name: str) -> str:
        """The ARN of the log group ``name`` (a trailing ``*`` makes it a pattern)."""
        return f"arn:{self.partition}:logs:{self.region}:{self.account_id}:log-group:{name}"

    def secret_arn_pattern(self, key: str) -> str:
        """IAM resource pattern matching the full ARN of a named secret (``name-XXXXXX``)."""
        return (
            f"arn:{self.partition}:secretsmanager:{self.region}:{self.account_id}:secret:"
            f"{self.secret_name(key)}-??????"
        )


def policy_json(*statements: dict[str, Any]) -> str:
    """An IAM policy document as a literal JSON string (no invoke, known at preview)."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def assume_role_policy(service: str, **condition: Any) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return policy_json(statement)


def child(parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
    """Options for a component's child: ``parent=parent`` plus anything else given."""
    return pulumi.ResourceOptions(parent=parent, **kwargs)


def require(condition: bool, component: str, field: str, value: Any, allowed: str) -> None:
    """Validate a component input at construction: raise a one-line error naming the bad input."""
    if not condition:
        raise ValueError(f"{component}: {field} is {value!r}; {allowed}")


def require_log_retention(days: int, component: str, field: str = "log_retention_days") -> None:
    """Validate a CloudWatch Logs retention period (one of the values PutRetentionPolicy accepts)."""
    require(
        days in LOG_RETENTION_DAYS,
        component,
        field,
        days,
        f"must be a CloudWatch retention period: {', '.join(map(str, LOG_RETENTION_DAYS))}",
    )
