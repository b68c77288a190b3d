"""Bad stack config stops the program before any resource exists, with one line naming key, value, allowed."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from components.config import PROJECT, ConfigError, StackConfig, load, looks_secret
from preflight.engine import evaluate
from preflight.stackfile import REPO_ROOT, StackFileError, load_stack_config

STAGING = yaml.safe_load((REPO_ROOT / "Pulumi.staging.yaml").read_text())["config"]


def section(name: str, **changes: Any) -> dict[str, Any]:
    """A copy of a staging config section with ``changes`` applied (None removes a key)."""
    data = dict(STAGING[f"{PROJECT}:{name}"])
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return {f"{PROJECT}:{name}": data}


BAD_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "scheduler-replicas",
        section("scheduler", replicas=2),
        "saas-backend:scheduler.replicas is 2; the scheduler is a singleton and must be 1",
    ),
    (
        "unknown-environment",
        {f"{PROJECT}:environment": "qa"},
        'saas-backend:environment is "qa"; allowed: staging, production or dev',
    ),
    (
        "bad-domain",
        {f"{PROJECT}:domain": "https://example.com/"},
        'saas-backend:domain is "https://example.com/"; must be a lowercase DNS domain',
    ),
    ("missing-domain", {f"{PROJECT}:domain": None}, "saas-backend:domain is missing; it is required"),
    ("missing-region", {"aws:region": None}, "aws:region is missing; it is required"),
    ("bad-region", {"aws:region": "mars-1"}, 'aws:region is "mars-1"; must be an AWS region'),
    (
        "zero-port",
        section("api", port=0),
        "saas-backend:api.port is 0; must be a TCP port between 1 and 65535",
    ),
    (
        "port-wrong-type",
        section("api", port="http"),
        'saas-backend:api.port is "http"; must be a valid integer',
    ),
    (
        "unknown-key",
        section("api", prot=3801),
        "saas-backend:api.prot is 3801; it is not a known key; allowed keys here: source, command",
    ),
    (
        "unknown-top-level-key",
        {f"{PROJECT}:databse": {"x": 1}},
        'saas-backend:databse is {"x": 1}; it is not a known key',
    ),
    (
        "negative-az-count",
        {f"{PROJECT}:network": {"azCount": -1}},
        "saas-backend:network.azCount is -1; must be greater than or equal to 1",
    ),
    (
        "bad-nat-mode",
        {f"{PROJECT}:network": {"natGateways": "many"}},
        'saas-backend:network.natGateways is "many"; allowed: none, single or perAz',
    ),
    (
        "zero-worker-replicas",
        section("worker", replicas=0),
        "saas-backend:worker.replicas is 0; must be greater than or equal to 1",
    ),
    (
        "max-below-min",
        section("api", minReplicas=3, maxReplicas=2),
        "saas-backend:api.maxReplicas is 2; must be >= minReplicas (3)",
    ),
    (
        "fargate-size",
        section("api", size={"cpu": 256, "memory": 4096}),
        "saas-backend:api.size.memory is 4096; with cpu 256 allowed: 512..2048 in steps of 512",
    ),
    (
        "unpinned-image",
        section("api", source={"image": "ghcr.io/acme/api:latest"}),
        'saas-backend:api.source.image is "ghcr.io/acme/api:latest"; must be pinned',
    ),
    (
        "image-and-context",
        section("worker", source={"image": "ghcr.io/acme/api:1.0.0", "context": "./app"}),
        "saas-backend:worker.source is",
    ),
    (
        "old-postgres",
        {f"{PROJECT}:postgres": {"engineVersion": "13"}},
        'saas-backend:postgres.engineVersion is "13"; must be a PostgreSQL major version 15, 16 or 17',
    ),
    (
        "bad-instance-class",
        {f"{PROJECT}:postgres": {"instanceClass": "t4g.micro"}},
        'saas-backend:postgres.instanceClass is "t4g.micro"; must be an RDS instance class',
    ),
    (
        "short-pitr",
        {f"{PROJECT}:postgres": {"backupRetentionDays": 3}},
        "saas-backend:postgres.backupRetentionDays is 3; must be greater than or equal to 7",
    ),
    (
        "redis-6",
        {f"{PROJECT}:redis": {"engineVersion": "6.2"}},
        'saas-backend:redis.engineVersion is "6.2"; must be a Redis 7 engine version',
    ),
    (
        "bad-cache-node",
        {f"{PROJECT}:redis": {"nodeType": "db.t4g.micro"}},
        'saas-backend:redis.nodeType is "db.t4g.micro"; must be an ElastiCache node type',
    ),
    (
        "secret-in-env",
        {f"{PROJECT}:env": {"LOG_LEVEL": "info", "JWT_SECRET": "hunter2"}},
        'saas-backend:env.JWT_SECRET is "hunter2"; the name looks like a secret; list it in secretNames',
    ),
    (
        "bad-secret-name",
        {f"{PROJECT}:secretNames": ["SENDGRID_API_KEY", "twilio token"]},
        'saas-backend:secretNames[1] is "twilio token"; must be an environment variable name',
    ),
    (
        "unknown-plan",
        section("edge", plan="gold"),
        'saas-backend:edge.plan is "gold"; allowed: free, pro, business or enterprise',
    ),
    (
        "bad-schedule",
        {f"{PROJECT}:backups": {"schedule": "every night"}},
        'saas-backend:backups.schedule is "every night"; must be an EventBridge schedule',
    ),
    (
        "bad-log-retention",
        {f"{PROJECT}:logRetentionDays": 10},
        "saas-backend:logRetentionDays is 10; must be one of the CloudWatch retention periods: 1, 3, 5",
    ),
    (
        "bad-email",
        {f"{PROJECT}:alerts": {"email": "ops-at-example"}},
        'saas-backend:alerts.email is "ops-at-example"; must be an email address',
    ),
    (
        "public-cidr",
        {f"{PROJECT}:network": {"cidr": "8.8.0.0/16"}},
        'saas-backend:network.cidr is "8.8.0.0/16"; must be a private (RFC 1918) range',
    ),
    (
        "missing-api-source",
        section("api", source=None),
        "saas-backend:api.source is missing; it is required",
    ),
    (
        "spot-on-arm",
        section("worker", source={"image": "ghcr.io/acme/api:1.0.0", "platform": "linux/arm64"}, spot=True),
        "saas-backend:worker.spot is true; Fargate Spot runs only X86_64 tasks and source.platform is "
        "linux/arm64: set worker.source.platform to linux/amd64, or spot to false",
    ),
    (
        "no-nat-public-image",
        {f"{PROJECT}:network": {"natGateways": "none"}},
        'saas-backend:network.natGateways is "none"; without NAT gateways tasks reach only AWS '
        "(VPC endpoints): api.source.image ghcr.io/yolovibecode/escalating-reminders-api:1.0.0 "
        "cannot be pulled",
    ),
    (
        "production-single-nat",
        {f"{PROJECT}:environment": "production", f"{PROJECT}:backups": {"copyRegion": "us-east-2"}},
        'saas-backend:network.natGateways is "single"; production needs perAz',
    ),
    (
        "copy-region-same",
        {f"{PROJECT}:backups": {"copyRegion": "us-west-2"}},
        'saas-backend:backups.copyRegion is "us-west-2"; must differ from aws:region',
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_config_stops_program_with_one_line(overrides: dict[str, Any], expected: str) -> None:
    evaluation = evaluate("staging", preview=True, overrides=overrides)
    assert evaluation.error is not None
    assert evaluation.error.startswith(expected), evaluation.error
    assert "\n" not in evaluation.error
    assert "Traceback" not in evaluation.error
    # Stopped before any resource was registered.
    assert evaluation.resources == []


def test_at_least_fifteen_distinct_bad_cases() -> None:
    assert len({c[2] for c in BAD_CASES}) >= 15


def test_several_errors_still_make_one_line() -> None:
    overrides = {**section("api", port=0, minReplicas=0), f"{PROJECT}:environment": "qa"}
    with pytest.raises(ConfigError) as info:
        load(load_stack_config("staging", overrides))
    message = str(info.value)
    assert message.startswith("saas-backend:api.minReplicas is 0; must be greater than or equal to 1")
    assert message.endswith("(and 2 more errors)")
    assert "\n" not in message


def test_stack_files_carry_no_ciphertext(tmp_path: Any) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: saas-backend\nruntime: python\n")
    (tmp_path / "Pulumi.leaky.yaml").write_text("config:\n  saas-backend:dbPassword:\n    secure: AAABAxyz\n")
    with pytest.raises(StackFileError, match="holds ciphertext"):
        load_stack_config("leaky", root=tmp_path)
    for stack in ("staging", "production"):
        assert "secure:" not in (REPO_ROOT / f"Pulumi.{stack}.yaml").read_text()


def test_secret_keys_from_the_engine_are_refused() -> None:
    values = load_stack_config("staging")
    values["saas-backend:dbPassword"] = "ciphertext"
    with pytest.raises(ConfigError, match="saas-backend:dbPassword is a secure"):
        load(values, frozenset({"saas-backend:dbPassword"}))


def test_committed_stacks_hold_seed_values() -> None:
    staging = load(load_stack_config("staging"))
    production = load(load_stack_config("production"))
    for cfg in (staging, production):
        assert cfg.api.port == 3801  # seed 003
        assert cfg.api.health_check_path == "/health"
        assert cfg.worker.replicas == 2
        assert cfg.scheduler.replicas == 1
        assert cfg.postgres.major_version == 15
        assert cfg.redis.engine_version.startswith("7")
        assert cfg.backups.schedule == "cron(0 1 * * ? *)"  # seed 004: 01:00 UTC
        assert cfg.backups.retention_days == 30
    # Seed 000: rate limits and log levels per environment.
    assert (staging.edge.rate_limit.requests, staging.edge.auth_rate_limit.requests) == (1000, 20)
    assert (production.edge.rate_limit.requests, production.edge.auth_rate_limit.requests) == (100, 5)
    assert production.edge.rate_limit.period_seconds == 900
    assert (staging.env["LOG_LEVEL"], production.env["LOG_LEVEL"]) == ("debug", "info")
    assert (production.api.min_replicas, production.api.max_replicas) == (2, 5)
    assert (staging.network.az_count, production.network.az_count) == (2, 3)
    assert (staging.network.nat_gateways, production.network.nat_gateways) == ("single", "perAz")


def test_production_safety_is_derived_from_environment() -> None:
    production = load(load_stack_config("production"))
    staging = load(load_stack_config("staging"))
    assert production.is_production and not staging.is_production
    assert (staging.effective_log_retention_days, production.effective_log_retention_days) == (14, 90)
    assert production.prefix == "escalating-reminders-production"
    assert production.api_hostname == "api.escalating-reminders.com"
    assert staging.api_hostname == "api-staging.escalating-reminders.dev"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("JWT_SECRET", True),
        ("SENTRY_DSN", True),
        ("SENDGRID_API_KEY", True),
        ("DB_PASSWORD", True),
        ("LOG_LEVEL", False),
        ("PORT", False),
        ("KEYCLOAK_URL", False),
        ("FEATURE_MARKETPLACE", False),
    ],
)
def test_secret_looking_names(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


def test_config_model_fields_are_documented_in_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    for field in StackConfig.model_fields.values():
        key = field.alias
        assert key is not None
        shown = key if ":" in key else f"{PROJECT}:{key}"
        assert f"`{shown}`" in readme, f"README config reference lacks {shown}"


def test_readme_config_reference_is_generated_from_the_model() -> None:
    from scripts.config_reference import END, START, table

    readme = (REPO_ROOT / "README.md").read_text()
    current = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert current == table(), (
        "README config reference is stale: uv run python -m scripts.config_reference --write"
    )


def test_each_aws_stack_has_its_own_cloudflare_zone() -> None:
    """Zone settings and the per-phase entry-point rulesets (WAF, rate limits, transforms) are per zone:
    two stacks in one zone would overwrite each other's settings and fail to create their rulesets."""
    staging = load(load_stack_config("staging"))
    production = load(load_stack_config("production"))
    assert (staging.domain, staging.edge.zone_id) != (production.domain, production.edge.zone_id)
    assert staging.domain != production.domain
