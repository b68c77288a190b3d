"""The stack's typed configuration: one object, read once, validated before any resource exists.

Every key lives under the project namespace (``saas-backend:<key>``) except the AWS region, which is the
provider's own ``aws:region`` key. Bad values raise :class:`ConfigError`: ONE line per mistake naming the
full key, the value and what is allowed, every mistake of the run, most explanatory first, e.g.::

    saas-backend:scheduler.replicas is 2; the scheduler is a singleton and must be 1

Ordering and derived limits: docs/decisions/config-errors.md.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from policies.saas_guardrails.logs import DEFAULT_MIN_RETENTION_DAYS
from policies.saas_guardrails.names import is_secret_name
from policies.saas_guardrails.rds import DEFAULT_MIN_BACKUP_DAYS

from .backup_sizing import largest_restorable_gb
from .regions import region_problem
from .schedule import drill_max_age_seconds, schedule_problem
from .variables import PROGRAM_VARIABLES, reserved_names

PROJECT = "saas-backend"
# Where relative build contexts are read from: the project directory (Pulumi runs the program there).
PROJECT_DIR = Path(__file__).resolve().parent.parent
# Config namespaces a stack may use besides the project's own: the providers this program runs.
PROVIDER_NAMESPACES = ("aws", "cloudflare", "docker", "random", "pulumi")

Environment = Literal["staging", "production", "dev"]
Platform = Literal["aws", "docker"]
NatMode = Literal["none", "single", "perAz", "instance"]
# How Cloudflare reaches the API: an internet-facing ALB admitting Cloudflare only, or a Cloudflare Tunnel
# whose connector runs beside each API task (no ALB, nothing inbound).
EdgeOriginMode = Literal["alb", "tunnel"]
CloudflarePlan = Literal["free", "pro", "business", "enterprise"]
# The app's logger levels (@er/interfaces LogLevel, switched on by the API's LoggingService).
LogLevel = Literal["debug", "info", "warn", "error"]

# Fargate CPU units and the memory (MiB) each allows (AWS ECS task size table).
FARGATE_SIZES: dict[int, range] = {
    256: range(512, 2048 + 1, 512),
    512: range(1024, 4096 + 1, 1024),
    1024: range(2048, 8192 + 1, 1024),
    2048: range(4096, 16384 + 1, 1024),
    4096: range(8192, 30720 + 1, 1024),
}
# Outbound ports the app security group always admits: HTTPS anywhere, PostgreSQL and Redis in the VPC.
ALWAYS_OPEN_EGRESS = (443, 5432, 6379)
# Ports an SMTP client may use from a task: submission (STARTTLS) and implicit TLS. AWS throttles port 25.
SMTP_PORTS = (465, 587)
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557)

_DOMAIN_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_APP_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
_ENV_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_RDS_CLASS_RE = re.compile(
    r"^db\.(t3|t4g|m5|m6g|m6i|m7g|r5|r6g|r6i|r7g)\.(micro|small|medium|large|\d*xlarge)$"
)
_CACHE_NODE_RE = re.compile(r"^cache\.(t3|t4g|m5|m6g|m7g|r5|r6g|r7g)\.(micro|small|medium|large|\d*xlarge)$")
_IMAGE_REF_RE = re.compile(r"^[a-z0-9]+([._/:@-][A-Za-z0-9_.-]+)+$")
_ECR_IMAGE_RE = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
_DIGEST_RE = re.compile(r"@sha256:[0-9a-f]{64}$")
_ROUTE_PREFIX_RE = re.compile(r"^(/[a-z0-9][a-z0-9._-]*)*$")


def looks_secret(name: str) -> bool:
    """True when an environment variable name reads like it holds a secret (JWT_SECRET, SENTRY_DSN...).

    The policy pack's own rule (``policies/saas_guardrails/names.py``), applied here before any resource
    exists, so that config validation and the pack can never disagree.
    """
    return is_secret_name(name)


class ConfigError(Exception):
    """The stack configuration is invalid: one line per mistake naming key, value and what is allowed.

    ``lines`` holds them, most explanatory first; ``str()`` joins them with newlines.
    """

    def __init__(self, message: str | list[str]) -> None:
        self.lines = [message] if isinstance(message, str) else list(message)
        super().__init__("\n".join(self.lines))


class _Section(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=False,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        use_attribute_docstrings=True,
    )


def _check_region(v: str) -> str:
    problem = region_problem(v)
    if problem:
        raise ValueError(problem)
    return v


def _check_positive_port(v: int) -> int:
    if not 1 <= v <= 65535:
        raise ValueError("must be a TCP port between 1 and 65535")
    return v


Port = Annotated[int, AfterValidator(_check_positive_port)]


class ImageSource(_Section):
    """Either a prebuilt image pinned by digest or a Docker build context (built and pushed to ECR)."""

    image: str | None = None
    """A prebuilt image pinned by digest (repo@sha256:... or repo:1.2.3@sha256:...)."""
    context: str | None = None
    """A Docker build context relative to the project (the app checkout `app`), built and pushed to ECR."""
    dockerfile: str | None = None
    """Dockerfile, relative to the project (default: Dockerfile inside the context)."""
    platform: Literal["linux/arm64", "linux/amd64"] = "linux/arm64"
    """Target platform; linux/arm64 runs on Graviton Fargate."""
    multi_arch: bool = False
    """The image is a multi-arch index (manifest list): only then may roles on two platforms share it."""

    @field_validator("image")
    @classmethod
    def _image_pinned(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not _IMAGE_REF_RE.match(v):
            raise ValueError("must be an image reference such as ghcr.io/org/app@sha256:<64 hex>")
        if not _DIGEST_RE.search(v):
            raise ValueError(
                "must be pinned by digest (repo@sha256:<64 hex>, optionally repo:1.2.3@sha256:...): "
                "a tag can be moved to other bytes"
            )
        return v

    @field_validator("context")
    @classmethod
    def _context_exists(cls, v: str | None) -> str | None:
        if v is not None and not (PROJECT_DIR / v).is_dir():
            raise ValueError("no such directory: a build context is a directory relative to the project")
        return v

    @model_validator(mode="after")
    def _one_of(self) -> ImageSource:
        if (self.image is None) == (self.context is None):
            raise ValueError(
                "give exactly one of image (pinned by digest) or context (a Docker build context)"
            )
        if self.image is not None and self.dockerfile is not None:
            raise _KeyedError("dockerfile", self.dockerfile, "only a build context has a Dockerfile")
        if self.context is not None and not (PROJECT_DIR / self.dockerfile_path).is_file():
            raise _KeyedError(
                "dockerfile",
                self.dockerfile_path,
                "no such file (relative to the project; the default is <context>/Dockerfile)",
            )
        return self

    @property
    def dockerfile_path(self) -> str:
        """The Dockerfile relative to the project (``<context>/Dockerfile`` unless ``dockerfile`` says)."""
        assert self.context is not None, "only a build context has a Dockerfile"
        return self.dockerfile or f"{self.context.rstrip('/')}/Dockerfile"


class TaskSize(_Section):
    cpu: int = 256
    """Fargate CPU units: 256, 512, 1024, 2048 or 4096."""
    memory: int = 512
    """Memory (MiB) allowed for the CPU size."""

    @field_validator("cpu", mode="before")
    @classmethod
    def _cpu_units(cls, v: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 16:
            raise ValueError(
                f"cpu is in Fargate CPU units, 1024 per vCPU: for {v:g} vCPU write {round(v * 1024)} "
                f"(allowed: {', '.join(map(str, FARGATE_SIZES))})"
            )
        return v

    @field_validator("memory", mode="before")
    @classmethod
    def _memory_units(cls, v: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 30:
            raise ValueError(f"memory is in MiB: for {v:g} GB write {round(v * 1024)}")
        return v

    @model_validator(mode="after")
    def _fargate(self) -> TaskSize:
        if self.cpu not in FARGATE_SIZES:
            raise _KeyedError("cpu", self.cpu, f"allowed Fargate sizes: {', '.join(map(str, FARGATE_SIZES))}")
        allowed = FARGATE_SIZES[self.cpu]
        if self.memory not in allowed:
            raise _KeyedError(
                "memory",
                self.memory,
                f"with cpu {self.cpu} allowed: {allowed.start}..{allowed.stop - 1} "
                f"in steps of {allowed.step}",
            )
        return self


class NetworkConfig(_Section):
    cidr: str = "10.20.0.0/16"
    """VPC CIDR (private range, /16 to /20)."""
    az_count: int = Field(default=2, ge=1, le=6)
    """Availability zones to span (production needs >= 2)."""
    nat_gateways: NatMode = "single"
    """NAT: none (AWS via VPC endpoints; no ghcr.io/Docker Hub, no third-party APIs), single, perAz (prod),
    instance (one fck-nat t4g.nano, a single point of failure: not in production)."""
    flow_log_retention_days: int = 14
    """Retention of VPC flow logs (a CloudWatch retention period)."""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        import ipaddress

        try:
            net = ipaddress.IPv4Network(v, strict=True)
        except ValueError:
            raise ValueError("must be an IPv4 network in CIDR form such as 10.20.0.0/16") from None
        if not 16 <= net.prefixlen <= 20:
            raise ValueError("must have a prefix length between /16 and /20")
        if not net.is_private:
            raise ValueError("must be a private (RFC 1918) range")
        return v

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        return _check_retention(v)


def _check_retention(v: int) -> int:
    """A CloudWatch retention period no shorter than the policy pack's log-retention floor (one constant)."""
    allowed = [d for d in LOG_RETENTION_DAYS if d >= DEFAULT_MIN_RETENTION_DAYS]
    if v not in allowed:
        floor = f" (the policy pack's log-retention rule needs >= {DEFAULT_MIN_RETENTION_DAYS})"
        raise ValueError(
            f"must be a CloudWatch retention period of at least {DEFAULT_MIN_RETENTION_DAYS} days{floor}: "
            f"{', '.join(map(str, allowed))}"
        )
    return v


class _ServiceConfig(_Section):
    source: ImageSource
    # Overrides the image's CMD (seed 003: one image, started as api / worker / scheduler).
    command: list[str] | None = None
    """Overrides the image's command (seed 003 starts one image as api, worker or scheduler)."""
    size: TaskSize = TaskSize()
    """Task size."""
    spot: bool = False
    """Run on Fargate Spot (not in production; X86_64 only, so source.platform linux/amd64)."""

    @model_validator(mode="after")
    def _spot_is_x86(self) -> _ServiceConfig:
        # AWS: "Linux tasks with the ARM64 architecture don't support the Fargate Spot capacity provider."
        if self.spot and self.source.platform != "linux/amd64":
            raise _KeyedError(
                "spot",
                True,
                f"Fargate Spot runs only X86_64 tasks and source.platform is {self.source.platform}: "
                "set source.platform to linux/amd64, or spot to false",
            )
        return self

    @field_validator("command")
    @classmethod
    def _command(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and (not v or any(not part for part in v)):
            raise ValueError("must be a non-empty list of non-empty strings such as [npm, run, start:worker]")
        return v


class ApiConfig(_ServiceConfig):
    port: Port = 3801
    """Container port (seed 003: 3801)."""
    health_check_path: str = "/health"
    """Target group health check path."""
    health_check_grace_seconds: int = Field(default=60, ge=0, le=7200)
    """Seconds ECS ignores failing health checks after a task starts."""
    min_replicas: int = Field(default=1, ge=1, le=100)
    """Autoscaling minimum (also the initial desired count)."""
    max_replicas: int = Field(default=2, ge=1, le=100)
    """Autoscaling maximum (seed 000: 5)."""
    cpu_target_percent: int = Field(default=70, ge=10, le=95)
    """Target tracking on average CPU (seed 000: 70)."""
    memory_target_percent: int = Field(default=80, ge=10, le=95)
    """Target tracking on average memory (seed 000: 80)."""
    scale_in_cooldown_seconds: int = Field(default=300, ge=0, le=3600)
    """Scale-in cooldown (seed 000: 300 s)."""
    scale_out_cooldown_seconds: int = Field(default=60, ge=0, le=3600)
    """Scale-out cooldown."""

    @field_validator("health_check_path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/") or " " in v:
            raise ValueError("must be an absolute URL path such as /health")
        return v

    @model_validator(mode="after")
    def _bounds(self) -> ApiConfig:
        if self.max_replicas < self.min_replicas:
            raise _KeyedError(
                "maxReplicas", self.max_replicas, f"must be >= minReplicas ({self.min_replicas})"
            )
        return self


class WorkerConfig(_ServiceConfig):
    replicas: int = Field(default=2, ge=1, le=100)
    """Number of worker tasks (seed 003: 2)."""


class SchedulerConfig(_ServiceConfig):
    # Accepted only so that a stack file that says it gets a precise error; the value is never used.
    replicas: int = 1
    """Only 1 is accepted: the scheduler is a singleton (any other value is an error)."""

    @field_validator("replicas")
    @classmethod
    def _singleton(cls, v: int) -> int:
        if v != 1:
            raise ValueError("the scheduler is a singleton and must be 1")
        return v


class PostgresConfig(_Section):
    engine_version: str = "15"
    """PostgreSQL version (major 15 to 17)."""
    instance_class: str = "db.t4g.micro"
    """RDS instance class."""
    allocated_storage_gb: int = Field(default=20, ge=20, le=65536)
    """Initial gp3 storage (GiB)."""
    max_allocated_storage_gb: int = Field(default=100, ge=20, le=65536)
    """Storage autoscaling ceiling (GiB)."""
    backup_retention_days: int = Field(default=7, ge=DEFAULT_MIN_BACKUP_DAYS, le=35)
    """Automated backups / point-in-time recovery window (days, >= 7, the policy pack's floor)."""
    database_name: str = "app"
    """Database name."""
    username: str = "app"
    """Master user name (password generated, kept in Secrets Manager)."""
    performance_insights: bool = True
    """Enable Performance Insights (7 days, free tier)."""

    @field_validator("engine_version")
    @classmethod
    def _version(cls, v: str) -> str:
        m = re.fullmatch(r"(\d+)(?:\.(\d+))?", v)
        if not m or not 15 <= int(m.group(1)) <= 17:
            raise ValueError(
                "must be a PostgreSQL major version 15, 16 or 17 (optionally with a minor: 15.7)"
            )
        return v

    @field_validator("instance_class")
    @classmethod
    def _class(cls, v: str) -> str:
        if not _RDS_CLASS_RE.match(v):
            raise ValueError(
                "must be an RDS instance class such as db.t4g.micro, db.t4g.small or db.m7g.large"
            )
        return v

    @field_validator("database_name", "username")
    @classmethod
    def _ident(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", v) or v in {"postgres", "rdsadmin", "admin"}:
            raise ValueError(
                "must be a lowercase identifier (a-z, 0-9, _) that is not postgres/rdsadmin/admin"
            )
        return v

    @model_validator(mode="after")
    def _storage(self) -> PostgresConfig:
        if self.max_allocated_storage_gb < self.allocated_storage_gb:
            raise _KeyedError(
                "maxAllocatedStorageGb",
                self.max_allocated_storage_gb,
                f"must be >= allocatedStorageGb ({self.allocated_storage_gb})",
            )
        return self

    @property
    def major_version(self) -> int:
        return int(self.engine_version.split(".")[0])


MaxmemoryPolicy = Literal[
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
]


class RedisConfig(_Section):
    engine_version: str = "7.1"
    """Redis engine version (7.x)."""
    node_type: str = "cache.t4g.micro"
    """ElastiCache node type (production runs two: primary + replica)."""
    snapshot_retention_days: int = Field(default=1, ge=0, le=35)
    """Days of automatic snapshots to keep."""
    maxmemory_policy: MaxmemoryPolicy = "noeviction"
    """What Redis evicts when full; a BullMQ queue needs noeviction (docs.bullmq.io, Going to production)."""

    @field_validator("engine_version")
    @classmethod
    def _version(cls, v: str) -> str:
        if not re.fullmatch(r"7(\.[0-9])?", v):
            raise ValueError("must be a Redis 7 engine version such as 7.1")
        return v

    @field_validator("node_type")
    @classmethod
    def _node(cls, v: str) -> str:
        if not _CACHE_NODE_RE.match(v):
            raise ValueError("must be an ElastiCache node type such as cache.t4g.micro or cache.t4g.small")
        return v


# Days between the drill's staleness limit and the expiry of what the check reads (retentionDays): the
# lifecycle expires objects up to a day late and the oldest dump can be a day younger than retentionDays.
DRILL_RECORD_MARGIN_DAYS = 2


class DrillConfig(_Section):
    schedule: str = "cron(0 3 ? * SUN *)"
    """When the drill restores the newest dump (UTC; weekly); longest gap + 1 day <= retentionDays - 2."""

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        problem = schedule_problem(v)
        if problem:
            raise ValueError(f"{problem}; e.g. cron(0 3 ? * SUN *) (Sundays 03:00 UTC) or rate(7 days)")
        return v


class BackupsConfig(_Section):
    # EventBridge Scheduler expression, evaluated in UTC. Seed 004: daily full backup at 01:00 UTC.
    schedule: str = "cron(0 1 * * ? *)"
    """When the logical backup runs (EventBridge Scheduler, UTC; seed 004: 01:00)."""
    retention_days: int = Field(default=30, ge=1, le=3650)
    """Days a dump is kept (seed 004: 30)."""
    copy_region: str | None = None
    """Second region for backup copies (required in production)."""
    missing_dump_alarm_hours: int = Field(default=26, ge=2, le=168)
    """Alarm when no new dump arrived for this many hours."""
    drill: DrillConfig = Field(default_factory=DrillConfig)
    """The scheduled restore drill (staging and production)."""

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        problem = schedule_problem(v)
        if problem:
            raise ValueError(f"{problem}; e.g. cron(0 1 * * ? *) (01:00 UTC daily) or rate(1 day)")
        return v

    @field_validator("copy_region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        return None if v is None else _check_region(v)

    @model_validator(mode="after")
    def _drill_period(self) -> BackupsConfig:
        # The daily backup checks the drill's age against its record and, before one exists, the oldest
        # dump; both expire after retentionDays, so the limit ends before: docs/decisions/drill-stale.md.
        limit = drill_max_age_seconds(self.drill.schedule)
        most = self.retention_days - DRILL_RECORD_MARGIN_DAYS
        if limit is None or limit > most * 86400:
            found = (
                "it does not repeat forever"
                if limit is None
                else f"its longest gap plus a day is {limit / 86400:g} days"
            )
            raise _KeyedError(
                "drill.schedule",
                self.drill.schedule,
                f"the drill must run at least every {most - 1} days ({found}; the staleness check needs "
                f"it <= retentionDays {self.retention_days} - {DRILL_RECORD_MARGIN_DAYS})",
            )
        return self


class RateLimit(_Section):
    requests: int = Field(ge=1, le=1_000_000)
    """Requests allowed per period, per client IP."""
    period_seconds: int = Field(ge=1, le=86400)
    """Counting period requested (translated to what the Cloudflare plan allows)."""
    path_prefix: str | None = None
    """Only count requests whose path starts with this prefix."""

    @field_validator("path_prefix")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        if v is not None and (not v.startswith("/") or '"' in v or " " in v):
            raise ValueError("must be an absolute URL path such as /auth")
        return v


# Seed 000: 5 requests / 15 min per IP on the auth path (under app.routePrefix when the app has one).
DEFAULT_AUTH_RATE_LIMIT = {"requests": 5, "periodSeconds": 900, "pathPrefix": "/auth"}


class EdgeConfig(_Section):
    plan: CloudflarePlan = "free"
    """Cloudflare plan of the zone (decides rate-limit periods and managed WAF)."""
    zone_id: str | None = None
    """Cloudflare zone id; looked up from domain when absent."""
    api_subdomain: str = "api"
    """API host label: <apiSubdomain>.<domain>."""
    origin: EdgeOriginMode = "alb"
    """How Cloudflare reaches the API: alb, or tunnel (cloudflared beside each API task, no ALB; not in
    production)."""
    # Seed 000 production values: 100 requests / 15 min per IP overall, 5 / 15 min on the auth path.
    rate_limit: RateLimit = Field(
        default_factory=lambda: RateLimit.model_validate({"requests": 100, "periodSeconds": 900})
    )
    auth_rate_limit: RateLimit = Field(
        default_factory=lambda: RateLimit.model_validate(DEFAULT_AUTH_RATE_LIMIT)
    )

    owasp_action: Literal["log", "block"] | None = None
    """OWASP Core Ruleset on a high anomaly score (pro and up); default: production log, elsewhere block."""
    app_only_limits: list[Literal["rateLimit", "authRateLimit"]] = Field(default_factory=list)
    """Limits accepted as enforced by the app only (the plan has too few rules): silences their warning."""

    @field_validator("zone_id")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[0-9a-f]{32}", v):
            raise ValueError("must be a Cloudflare zone id (32 lowercase hex characters)")
        return v

    @field_validator("api_subdomain")
    @classmethod
    def _label(cls, v: str) -> str:
        if not _LABEL_RE.match(v):
            raise ValueError("must be one DNS label such as api or api-staging")
        return v


class RateLimitEnv(_Section):
    """Names of the app's own rate-limit variables; the program fills them from the edge limits."""

    window_ms: str
    """Variable receiving edge.rateLimit.periodSeconds in milliseconds."""
    max_requests: str
    """Variable receiving edge.rateLimit.requests."""
    auth_max_requests: str
    """Variable receiving edge.authRateLimit.requests."""

    @field_validator("window_ms", "max_requests", "auth_max_requests")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _ENV_NAME_RE.match(v):
            raise ValueError("must be an environment variable name (A-Z, 0-9, _)")
        return v


class AppConfig(_Section):
    """What the app expects of the platform, beyond its services (README "The app contract")."""

    route_prefix: str = ""
    """Global prefix of the app's routes (not the health check); the edge rate-limit paths lie under it."""
    required_env: list[str] = Field(default_factory=list)
    """Variables the app cannot run without: the program stops if a task would not receive one."""
    egress_ports: list[Port] = Field(default_factory=list)
    """Extra outbound TCP ports to anywhere (webhooks); env.SMTP_PORT is added when env.SMTP_HOST is set."""
    queue: Literal["bullmq"] | None = None
    """Job queue the app keeps in Redis; bullmq needs redis.maxmemoryPolicy noeviction."""
    migrate_command: list[str] | None = None
    """Run once in the API image, with its environment, before new API tasks serve (none: no migrations)."""
    rate_limit_env: RateLimitEnv | None = None
    """Names of the app's rate-limit variables (none: the app reads none, the edge alone limits)."""

    @field_validator("route_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not _ROUTE_PREFIX_RE.match(v):
            raise ValueError("must be empty or an absolute path without a trailing slash, such as /v1")
        return v

    @field_validator("required_env")
    @classmethod
    def _required(cls, v: list[str]) -> list[str]:
        for n, name in enumerate(v):
            if not _ENV_NAME_RE.match(name):
                raise _KeyedError(f"[{n}]", name, "must be an environment variable name (A-Z, 0-9, _)")
            if name in v[:n]:
                raise _KeyedError(f"[{n}]", name, "names must be unique")
        return v

    @field_validator("egress_ports")
    @classmethod
    def _egress(cls, v: list[int]) -> list[int]:
        for n, port in enumerate(v):
            if port in ALWAYS_OPEN_EGRESS:
                raise _KeyedError(f"[{n}]", port, f"{port} is always open to the app; list only extra ports")
            if port == 25:
                raise _KeyedError(f"[{n}]", port, "AWS throttles outbound port 25; use 587 or 465")
            if port in v[:n]:
                raise _KeyedError(f"[{n}]", port, "ports must be unique")
        return v

    @field_validator("migrate_command")
    @classmethod
    def _migrate(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and (not v or any(not part for part in v)):
            raise ValueError("must be a non-empty list of non-empty strings such as [npx, --no, prisma, ...]")
        return v

    def route(self, path: str) -> str:
        """``path`` as the app serves it (under ``route_prefix``): ``/auth`` -> ``/v1/auth``."""
        return f"{self.route_prefix}{path}"


class AlertsConfig(_Section):
    email: str | None = None
    """Where alarm notifications are emailed (SNS subscription to confirm)."""

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not _EMAIL_RE.match(v):
            raise ValueError("must be an email address such as ops@example.com")
        return v


class StackConfig(_Section):
    """The whole stack configuration (keys are the camelCase names used in Pulumi.<stack>.yaml)."""

    environment: Environment
    """staging, production or dev; production turns on every production safety."""
    platform: Platform = "aws"
    """aws (staging, production) or docker (the local dev stack); environment dev goes with docker only."""
    app_name: str
    """Application name; prefixes every resource name."""
    domain: str
    """DNS zone (on Cloudflare) the API is served under; one zone per stack (settings are per zone)."""
    # Read it through the `aws_region` property. Optional only because platform docker (the local dev
    # stack) has no AWS region; platform aws requires it (validated below).
    aws_region_setting: str | None = Field(default=None, alias="aws:region", validate_default=True)
    """AWS region (the provider's own key); required on platform aws, not used on docker."""
    log_retention_days: int | None = None
    """Log retention override (default: staging 14, production 90 days)."""
    network: NetworkConfig = NetworkConfig()
    """Network sizing."""
    api: ApiConfig
    """HTTP API service."""
    worker: WorkerConfig
    """Background worker service."""
    scheduler: SchedulerConfig
    """Singleton scheduler service (always exactly one task)."""
    postgres: PostgresConfig = PostgresConfig()
    """RDS PostgreSQL."""
    redis: RedisConfig = RedisConfig()
    """ElastiCache Redis."""
    backups: BackupsConfig = BackupsConfig()
    """Daily logical backups to S3."""
    edge: EdgeConfig = EdgeConfig()
    """Cloudflare DNS, WAF and rate limits."""
    env: dict[str, str] = Field(default_factory=dict)
    """Plain (non-secret) environment variables for every app task; secret-looking names are refused."""
    secret_names: list[str] = Field(default_factory=list)
    """Third-party secrets the app reads: created holding an `unset:` placeholder, filled out of band."""
    app: AppConfig = AppConfig()
    """The app's contract: route prefix, required variables, extra egress, queue, migrations."""
    alerts: AlertsConfig = AlertsConfig()
    """Alarm notifications."""

    @model_validator(mode="before")
    @classmethod
    def _auth_path_under_route_prefix(cls, data: Any) -> Any:
        """Without an explicit ``edge.authRateLimit`` the default limit counts ``<routePrefix>/auth``."""
        if not isinstance(data, Mapping):
            return data
        app, edge = data.get("app"), data.get("edge", {})
        prefix = app.get("routePrefix") if isinstance(app, Mapping) else None
        if not isinstance(prefix, str) or not prefix or not isinstance(edge, Mapping):
            return data
        if "authRateLimit" in edge:
            return data
        auth = {**DEFAULT_AUTH_RATE_LIMIT, "pathPrefix": f"{prefix}{DEFAULT_AUTH_RATE_LIMIT['pathPrefix']}"}
        return {**data, "edge": {**edge, "authRateLimit": auth}}

    @field_validator("app_name")
    @classmethod
    def _app(cls, v: str) -> str:
        if not _APP_NAME_RE.match(v):
            raise ValueError(
                "must be 3-32 characters of lowercase letters, digits and '-', starting with a letter"
            )
        return v

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str) -> str:
        if not _DOMAIN_RE.match(v):
            raise ValueError("must be a lowercase DNS domain such as example.com (no scheme, no path)")
        return v

    @field_validator("aws_region_setting")
    @classmethod
    def _aws_region(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None:
            # `environment` and `platform` are validated first: when one is invalid, or environment dev
            # asks for platform aws, that is the error worth reporting (below or in `_cross`).
            if info.data.get("platform") == "aws" and info.data.get("environment") not in (None, "dev"):
                raise PydanticCustomError("missing", "Field required")
            return v
        return _check_region(v)

    @field_validator("log_retention_days")
    @classmethod
    def _log_retention(cls, v: int | None) -> int | None:
        return None if v is None else _check_retention(v)

    @field_validator("env")
    @classmethod
    def _env(cls, v: dict[str, str]) -> dict[str, str]:
        problems: list[_KeyedError] = []
        owned = reserved_names()
        for name, value in v.items():
            if not _ENV_NAME_RE.match(name):
                problems.append(
                    _KeyedError(name, value, "names must be environment variable names (A-Z, 0-9, _)")
                )
            elif name in PROGRAM_VARIABLES:
                problems.append(
                    _KeyedError(name, value, f"{name} is computed by the program and cannot be set here")
                )
            elif name in owned:
                problems.append(_KeyedError(name, value, f"{name} is a secret {owned[name]}"))
            elif looks_secret(name):
                problems.append(
                    _KeyedError(name, value, "the name looks like a secret; list it in secretNames instead")
                )
            elif name == "LOG_LEVEL" and value not in get_args(LogLevel):
                problems.append(
                    _KeyedError(name, value, f"the app's log levels are {', '.join(get_args(LogLevel))}")
                )
        _raise_all(problems)
        return v

    @field_validator("secret_names")
    @classmethod
    def _secret_names(cls, v: list[str]) -> list[str]:
        problems: list[_KeyedError] = []
        owned = reserved_names()
        for n, name in enumerate(v):
            if not _ENV_NAME_RE.match(name):
                problems.append(
                    _KeyedError(f"[{n}]", name, "must be an environment variable name (A-Z, 0-9, _)")
                )
            elif name in v[:n]:
                problems.append(_KeyedError(f"[{n}]", name, "names must be unique"))
            elif name in owned:
                problems.append(
                    _KeyedError(f"[{n}]", name, f"{name} is {owned[name]}; name third-party secrets apart")
                )
            elif name in PROGRAM_VARIABLES:
                problems.append(_KeyedError(f"[{n}]", name, f"{name} is a plain variable the program sets"))
        _raise_all(problems)
        return v

    @model_validator(mode="after")
    def _cross(self) -> StackConfig:
        platform = self._platform_problems()
        _raise_all(platform)  # a platform that cannot run this environment explains everything else
        problems = [*self._production_problems(), *self._name_problems()]
        if self.platform == "aws" and self.network.nat_gateways == "none":
            for role in ("api", "worker", "scheduler"):
                image = getattr(self, role).source.image
                if image is not None and not _ECR_IMAGE_RE.match(image):
                    problems.append(
                        _KeyedError(
                            "network.natGateways",
                            "none",
                            f"without NAT gateways tasks reach only AWS (VPC endpoints): {role}.source.image "
                            f"{image} cannot be pulled; use an ECR image or a build context, or NAT gateways",
                        )
                    )
        clash = set(self.env) & set(self.secret_names)
        if clash:
            problems.append(
                _KeyedError("env", sorted(clash), "a name cannot be both a plain env var and a secret")
            )
        problems += [*_queue_problems(self), *_shared_image_problems(self), *_smtp_problems(self)]
        problems += _edge_path_problems(self)
        if self.platform == "aws" and self.postgres.max_allocated_storage_gb > largest_restorable_gb():
            problems.append(
                _KeyedError(
                    "postgres.maxAllocatedStorageGb",
                    self.postgres.max_allocated_storage_gb,
                    f"at most {largest_restorable_gb()}: the restore task's ephemeral storage (200 GiB on "
                    "Fargate) must hold the dump of a database that large",
                )
            )
        _raise_all(problems)
        return self

    def _platform_problems(self) -> list[_KeyedError]:
        if self.platform == "docker" and self.environment != "dev":
            return [
                _KeyedError(
                    "platform",
                    self.platform,
                    f"only environment dev runs on the local Docker engine "
                    f"(environment is {self.environment})",
                )
            ]
        if self.environment == "dev" and self.platform != "docker":
            return [
                _KeyedError(
                    "platform",
                    self.platform,
                    "environment dev runs on the local Docker engine: set platform docker",
                )
            ]
        return []

    def _production_problems(self) -> list[_KeyedError]:
        problems: list[_KeyedError] = []
        if self.backups.copy_region is not None and self.backups.copy_region == self.aws_region_setting:
            problems.append(
                _KeyedError("backups.copyRegion", self.backups.copy_region, "must differ from aws:region")
            )
        if not self.is_production:
            return problems
        if self.network.az_count < 2:
            problems.append(
                _KeyedError("network.azCount", self.network.az_count, "production needs at least 2 AZs")
            )
        if self.network.nat_gateways != "perAz":
            why = (
                " (a NAT instance is a single point of failure)"
                if self.network.nat_gateways == "instance"
                else ""
            )
            problems.append(
                _KeyedError("network.natGateways", self.network.nat_gateways, f"production needs perAz{why}")
            )
        if self.backups.copy_region is None:
            problems.append(
                _KeyedError("backups.copyRegion", None, "production needs a second region for backup copies")
            )
        if self.edge.origin == "tunnel":
            problems.append(
                _KeyedError(
                    "edge.origin",
                    "tunnel",
                    "production serves through the ALB (alb); the tunnel origin is for non-production stacks",
                )
            )
        on_spot = {"api": self.api.spot, "worker": self.worker.spot, "scheduler": self.scheduler.spot}
        who = {"api": "API tasks", "worker": "workers", "scheduler": "the scheduler"}
        problems += [
            _KeyedError(
                f"{role}.spot",
                True,
                f"production runs {who[role]} on regular Fargate capacity (Fargate Spot tasks can be "
                "stopped with a two-minute warning): set it to false",
            )
            for role, spot in on_spot.items()
            if spot
        ]
        return problems

    def _name_problems(self) -> list[_KeyedError]:
        """``appName`` must leave room, in this environment, for the longest physical name it feeds."""
        if self.platform != "aws":
            return []
        longest = max(physical_names(self), key=lambda n: len(n.name) - n.limit)
        if len(longest.name) <= longest.limit:
            return []
        most = len(self.app_name) - (len(longest.name) - longest.limit)
        return [
            _KeyedError(
                "appName",
                self.app_name,
                f"in {self.environment} it may have at most {most} characters: {longest.what} "
                f"{longest.name} must fit {longest.limit}",
            )
        ]

    # Derived settings: production safety follows from `environment`, never from extra flags.
    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def prefix(self) -> str:
        return f"{self.app_name}-{self.environment}"

    @property
    def aws_region(self) -> str:
        """The AWS region (``aws:region``); platform docker has none, so asking for it there is an error."""
        if self.aws_region_setting is None:
            raise ConfigError(f"aws:region is not set; platform {self.platform} has no AWS region")
        return self.aws_region_setting

    @property
    def api_hostname(self) -> str:
        return f"{self.edge.api_subdomain}.{self.domain}"

    @property
    def effective_log_retention_days(self) -> int:
        if self.log_retention_days is not None:
            return self.log_retention_days
        return 90 if self.is_production else 14

    @property
    def tags(self) -> dict[str, str]:
        return {"environment": self.environment, "app": self.app_name, "managed-by": "pulumi"}

    @property
    def smtp_port(self) -> int | None:
        """The SMTP port the app sends mail to (``env.SMTP_PORT``) when ``env.SMTP_HOST`` is set."""
        if not self.env.get("SMTP_HOST"):
            return None
        return int(self.env["SMTP_PORT"])

    @property
    def egress_ports(self) -> tuple[int, ...]:
        """Outbound TCP ports to anywhere beyond 443: ``app.egressPorts`` plus the SMTP port."""
        ports = set(self.app.egress_ports)
        if self.smtp_port is not None:
            ports.add(self.smtp_port)
        return tuple(sorted(ports))


APP_ROLES = ("api", "worker", "scheduler")


def _queue_problems(cfg: StackConfig) -> list[_KeyedError]:
    # BullMQ, Going to production, "Max memory policy": noeviction "is the only setting that guarantees the
    # correct behavior of the queues" (https://docs.bullmq.io/guide/going-to-production).
    if cfg.app.queue == "bullmq" and cfg.redis.maxmemory_policy != "noeviction":
        return [
            _KeyedError(
                "redis.maxmemoryPolicy",
                cfg.redis.maxmemory_policy,
                "app.queue is bullmq, which needs noeviction (an evicted job lock runs the job twice)",
            )
        ]
    return []


def _shared_image_problems(cfg: StackConfig) -> list[_KeyedError]:
    """One prebuilt image on two CPU architectures must be a multi-arch index, declared as such."""
    platforms: dict[str, set[str]] = {}
    declared: dict[str, bool] = {}
    for role in APP_ROLES:
        source: ImageSource = getattr(cfg, role).source
        if source.image is None:
            continue
        platforms.setdefault(source.image, set()).add(source.platform)
        declared[source.image] = declared.get(source.image, True) and source.multi_arch
    problems = []
    for role in APP_ROLES:
        source = getattr(cfg, role).source
        if source.image is not None and len(platforms[source.image]) > 1 and not declared[source.image]:
            problems.append(
                _KeyedError(
                    f"{role}.source.image",
                    source.image,
                    f"runs on {' and '.join(sorted(platforms[source.image]))}: one image has one CPU "
                    "architecture unless it is a multi-arch index (multiArch: true on every role using it)",
                )
            )
    return problems


def _smtp_problems(cfg: StackConfig) -> list[_KeyedError]:
    """With SMTP_HOST set, SMTP_PORT is a port the AWS tasks may reach (465/587; any port locally)."""
    if not cfg.env.get("SMTP_HOST"):
        return []
    port = cfg.env.get("SMTP_PORT")
    if cfg.platform == "docker":
        if port is None or not port.isdigit() or not 1 <= int(port) <= 65535:
            return [_KeyedError("env.SMTP_PORT", port, "with env.SMTP_HOST set the app needs a TCP port")]
        return []
    allowed = " or ".join(map(str, SMTP_PORTS))
    if port is None or not port.isdigit() or int(port) not in SMTP_PORTS:
        return [
            _KeyedError(
                "env.SMTP_PORT",
                port,
                f"with env.SMTP_HOST set the tasks send mail to {allowed} (AWS throttles port 25)",
            )
        ]
    return []


def _edge_path_problems(cfg: StackConfig) -> list[_KeyedError]:
    """The Cloudflare rate-limit paths must lie under the app's route prefix (no edge on platform docker)."""
    prefix = cfg.app.route_prefix
    if not prefix or cfg.platform == "docker":
        return []
    problems = []
    for key, limit in (("rateLimit", cfg.edge.rate_limit), ("authRateLimit", cfg.edge.auth_rate_limit)):
        path = limit.path_prefix
        if path is not None and path != prefix and not path.startswith(f"{prefix}/"):
            problems.append(
                _KeyedError(
                    f"edge.{key}.pathPrefix",
                    path,
                    f"the app serves its routes under app.routePrefix {prefix}: use {prefix}{path}",
                )
            )
    return problems


class _KeyedError(ValueError):
    """An error that knows which key (relative to the model or field raising it) it is about."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        super().__init__(allowed)
        self.key = key
        self.value = value
        self.allowed = allowed


class _KeyedErrors(ValueError):
    """Several keyed errors found by one validator: each becomes a line of its own."""

    def __init__(self, errors: list[_KeyedError]) -> None:
        super().__init__("; ".join(e.allowed for e in errors))
        self.errors = errors


def _raise_all(problems: list[_KeyedError]) -> None:
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise _KeyedErrors(problems)


@dataclass(frozen=True)
class PhysicalName:
    """A physical name that ``<appName>-<environment>`` feeds, and the AWS limit on its length."""

    what: str
    name: str
    limit: int


# An AWS account id is 12 digits; names are checked with a placeholder of that length.
_ACCOUNT = "123456789012"


def physical_names(cfg: StackConfig) -> list[PhysicalName]:
    """The length-limited names built from the prefix (the components build the same strings)."""
    p = cfg.prefix
    names = [
        # ElastiCache CreateReplicationGroup: ReplicationGroupId "must contain from 1 to 40 ... characters".
        PhysicalName("the ElastiCache replication group id", f"{p}-redis", 40),
        # RDS DBInstanceIdentifier: 1 to 63 letters, digits or hyphens.
        PhysicalName("the RDS instance identifier", f"{p}-postgres", 63),
        # IAM CreateRole: RoleName maximum length 64.
        PhysicalName("the IAM role name", f"{p}-backup-replication", 64),
        PhysicalName("the IAM role name", f"{p}-rds-monitoring", 64),
        # S3 general purpose bucket naming rules: 3 to 63 characters.
        PhysicalName("the S3 bucket name", f"{p}-backups-{_ACCOUNT}", 63),
    ]
    if cfg.backups.copy_region:
        names.append(
            PhysicalName("the S3 bucket name", f"{p}-backups-{_ACCOUNT}-{cfg.backups.copy_region}", 63)
        )
    return names


# ---------------------------------------------------------------------------------------------------------
# Reading and error formatting


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake: ``rank`` orders the most explanatory first (a misplaced file layout or namespace, then
    environment/platform, unknown keys, bad values, and last missing keys, often a consequence)."""

    rank: int
    key: str
    line: str


_STRUCTURE, _CHOICE, _UNKNOWN_KEY, _VALUE, _MISSING = range(5)
_CHOICE_KEYS = (f"{PROJECT}:environment", f"{PROJECT}:platform")
# Keys that belong to a provider's namespace, as someone might write them without it.
_PROVIDER_KEYS = {"region": "aws:region"}


def _show(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, str):
        return json.dumps(value)
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except TypeError:
        return repr(value)


def _as_written(value: Any) -> str:
    """How a YAML scalar reads as text (``true``, ``7.1``): what to put in quotes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _key_of(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return PROJECT
    head, *rest = (str(p) for p in loc)
    field = StackConfig.model_fields.get(head)
    if field is not None and field.alias:  # an error in a default value is located by field name
        head = field.alias
    path = head if ":" in head else f"{PROJECT}:{head}"  # provider keys such as aws:region stay as they are
    for part in rest:
        path += f"[{part}]" if part.isdigit() else f".{part}"
    return path


def _join_key(loc: tuple[int | str, ...], key: str) -> str:
    if ":" in key:
        return key
    if not loc:
        return f"{PROJECT}:{key}"
    return _key_of(loc) + (key if key.startswith("[") else f".{key}")


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The camelCase keys allowed by the model that ``loc`` (minus its last part) points into."""
    current: Any = model
    for part in loc[:-1]:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = next(
            (f for n, f in current.model_fields.items() if (f.alias or n) == part),
            None,
        )
        if field is None:
            return []
        current = field.annotation
        args = getattr(current, "__args__", None)
        if args:  # Optional[X]
            current = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _unknown_key(loc: tuple[int | str, ...], key: str, value: Any) -> str:
    allowed = _fields_at(StackConfig, loc)
    name = str(loc[-1])
    if len(loc) == 1 and name in _PROVIDER_KEYS:
        hint = f"; it is the provider's key {_PROVIDER_KEYS[name]}: write it with the namespace"
        return f"{key} is {_show(value)}; it is not a key of {PROJECT}{hint}"
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"{key} is {_show(value)}; it is not a known key; {hint}allowed keys here: {', '.join(allowed)}"


def _generic(err: Mapping[str, Any]) -> Problem:
    loc = tuple(err["loc"])
    key, kind, value = _key_of(loc), err["type"], err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return Problem(_MISSING, key, f"{key} is missing; it is required")
    if kind == "extra_forbidden":
        return Problem(_UNKNOWN_KEY, key, _unknown_key(loc, key, value))
    if kind == "string_type" and isinstance(value, int | float | bool):
        allowed = f"must be a string: quote it ({json.dumps(_as_written(value))})"
    elif kind == "literal_error":
        allowed = f"allowed: {ctx.get('expected', '')}".replace("'", "")
    else:
        allowed = re.sub(r"^(Value error|Assertion failed), ", "", str(err["msg"]))
        allowed = allowed.replace("Input should be", "must be")
    return Problem(_CHOICE if key in _CHOICE_KEYS else _VALUE, key, f"{key} is {_show(value)}; {allowed}")


def _keyed(loc: tuple[int | str, ...], error: _KeyedError) -> Problem:
    key = _join_key(loc, error.key)
    rank = _CHOICE if key in _CHOICE_KEYS else _VALUE
    return Problem(rank, key, f"{key} is {_show(error.value)}; {error.allowed}")


def validation_problems(exc: ValidationError) -> list[Problem]:
    """Every error of a validation, as one-line problems."""
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        original = (err.get("ctx") or {}).get("error")
        if isinstance(original, _KeyedErrors):
            problems += [_keyed(loc, e) for e in original.errors]
        elif isinstance(original, _KeyedError):
            problems.append(_keyed(loc, original))
        else:
            problems.append(_generic(err))
    return problems


def format_validation_error(exc: ValidationError, raw: Mapping[str, Any] | None = None) -> str:
    """Every error of a validation, one line each, most explanatory first."""
    return "\n".join(p.line for p in sorted(validation_problems(exc)))


def parse_raw_value(value: str) -> Any:
    """Pulumi hands config values over as strings: objects and lists as JSON, scalars as their text.

    Numbers and booleans are read back as such, so a bad value is reported as it was written.
    """
    stripped = value.strip()
    if (
        stripped[:1] in ("{", "[")
        or stripped in ("true", "false")
        or re.fullmatch(r"-?\d+(\.\d+)?", stripped)
    ):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return value
    return value


def _is_text(key: str) -> bool:
    """Whether a top-level key holds text: the CLI hands ``15`` and ``"15"`` over alike, as "15"."""
    field = next((f for f in StackConfig.model_fields.values() if f.alias == key), None)
    if field is None:
        return False
    annotation = field.annotation
    optional = get_origin(annotation) in (Union, UnionType) and str in get_args(annotation)
    return annotation is str or get_origin(annotation) is Literal or optional


def _namespace_problem(full_key: str, value: str) -> Problem | None:
    namespace, _, key = full_key.partition(":")
    if namespace == PROJECT or namespace in PROVIDER_NAMESPACES:
        return None
    close = difflib.get_close_matches(namespace, [PROJECT], n=1, cutoff=0.6)
    hint = f": did you mean {PROJECT}:{key}?" if close else ""
    return Problem(
        _STRUCTURE,
        full_key,
        f"{full_key} is {_show(value)}; the namespace {namespace} is neither this project's ({PROJECT}) "
        f"nor a provider's ({', '.join(PROVIDER_NAMESPACES)}){hint}",
    )


def load(values: Mapping[str, str], secret_keys: frozenset[str] = frozenset()) -> StackConfig:
    """Build the typed config from the engine's flat ``namespace:key -> string`` config map.

    Raises :class:`ConfigError` listing every mistake found, one line each, most explanatory first.
    """
    raw: dict[str, Any] = {}
    problems: list[Problem] = []
    for full_key, value in sorted(values.items()):
        namespace, _, key = full_key.partition(":")
        if full_key in secret_keys:
            problems.append(
                Problem(
                    _STRUCTURE,
                    full_key,
                    f"{full_key} is a secure (encrypted) value; stack files carry no ciphertext: generated "
                    "secrets come from pulumi_random, third-party ones from secretNames filled in Secrets "
                    "Manager",
                )
            )
        elif namespace == PROJECT:
            raw[key] = value if _is_text(key) else parse_raw_value(value)
        elif full_key == "aws:region":
            raw["aws:region"] = value
        elif problem := _namespace_problem(full_key, value):
            problems.append(problem)
    if not raw:
        problems.append(
            Problem(
                _STRUCTURE,
                PROJECT,
                f"{PROJECT}:* is missing; every setting goes under `config:` in Pulumi.<stack>.yaml "
                f"(config: {{{PROJECT}:environment: staging, ...}})",
            )
        )
        raise ConfigError([p.line for p in sorted(problems)])
    try:
        config = StackConfig.model_validate(raw)
    except ValidationError as exc:
        problems += validation_problems(exc)
    if problems:
        raise ConfigError([p.line for p in sorted(problems)])
    return config


def from_pulumi() -> StackConfig:
    """Read the running stack's configuration (``pulumi.Config``) into the typed object."""
    from pulumi.runtime import config as runtime_config

    # The language host hands config over either through PULUMI_CONFIG or set_all_config: merge both.
    values: dict[str, str] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = frozenset(runtime_config.get_config_secret_keys_env()) | frozenset(
        runtime_config._SECRET_KEYS.get()
    )
    return load(values, secret_keys)
