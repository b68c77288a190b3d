"""Realistic stack-file mistakes, each answered before any resource exists with clean one-line messages.

Each case is the committed stack file with one edit (or a whole text), read the way preflight reads it
(``preflight.stackfile``) and validated by the config model alone: no program run, so the table stays
cheap. A few cases run end to end through ``python -m preflight`` to prove no resource is registered and
the exit code names the cause. Mistakes not yet answered cleanly are listed in README ("Known gaps").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.config import ConfigError, load
from preflight.stackfile import REPO_ROOT, CiphertextError, StackFileError, load_stack_config

STACK_FILES = {s: (REPO_ROOT / f"Pulumi.{s}.yaml").read_text() for s in ("staging", "production", "dev")}
# One mistake, one line: "<key> is <value>; <what is allowed>", or "<file>[:line:col]: <what>".
CLEAN_LINE = re.compile(r"^(\S+ is .+; .+|Pulumi\.\S+\.yaml(:\d+:\d+)?:? .+)$")


@dataclass(frozen=True)
class Case:
    id: str
    old: str | None  # text of the stack file to replace (first occurrence); None: ``new`` is the whole file
    new: str
    expected: str  # a fragment of the first line
    base: str = "staging"

    def text(self) -> str:
        if self.old is None:
            return self.new
        base = STACK_FILES[self.base]
        assert self.old in base, f"{self.id}: {self.old!r} is not in Pulumi.{self.base}.yaml"
        return base.replace(self.old, self.new, 1)


def _c(id: str, old: str | None, new: str, expected: str, base: str = "staging") -> Case:
    return Case(id, old, new, expected, base)


API_SOURCE = "      context: app\n      dockerfile: images/escalating-reminders-api/Dockerfile"
DIGEST = "@sha256:" + "ab" * 32
ENV = "    APP_ENV: uat"
LAST_SECRET = "    - RELAY_WEBHOOK_SECRET"
# natGateways none with a prebuilt image from a public registry: two edits of the staging file.
NAT_NONE_PUBLIC_IMAGE = (
    STACK_FILES["staging"]
    .replace("    natGateways: instance", "    natGateways: none", 1)
    .replace(API_SOURCE, f"      image: ghcr.io/acme/api{DIGEST}", 1)
)
SIZE = "    size: {cpu: 256, memory: 512}"
P = "saas-backend"

CASES: list[Case] = [
    # --- the file's layout: YAML syntax, the config: wrapper, namespaces, ciphertext
    _c("yaml-unclosed-flow", SIZE, "    size: {cpu: 256, memory: 512", "Pulumi.case.yaml:"),
    _c("yaml-tab-indent", "    azCount: 2", "\tazCount: 2", "YAML syntax error"),
    _c("yaml-bad-indent", "    azCount: 2", "      azCount: 2", "YAML syntax error"),
    _c("yaml-unclosed-quote", '    engineVersion: "15"', '    engineVersion: "15', "YAML syntax error"),
    _c("yaml-duplicate-colon", "    port: 3801", "    port: 3801: 3802", "YAML syntax error"),
    _c("empty-file", None, "", "Pulumi.case.yaml is empty; it needs a config: mapping"),
    _c("comments-only", None, "# nothing yet\n", "Pulumi.case.yaml is empty"),
    _c(
        "no-config-wrapper",
        None,
        f"{P}:environment: staging\n{P}:appName: escalating-reminders\n",
        f"{P}:environment is at the top level; stack settings go under config:",
    ),
    _c("config-is-a-list", None, "config:\n  - aws:region: us-west-2\n", "config is"),
    _c("file-is-a-list", None, "- config\n", "the file must be a mapping"),
    _c("config-empty", None, "config:\n", f"{P}:* is missing; every setting goes under `config:`"),
    _c(
        "region-without-namespace",
        "  aws:region: us-west-2",
        "  region: us-west-2",
        "write it with the namespace",
    ),
    _c(
        "namespace-typo",
        f"  {P}:environment: staging",
        "  saas_backend:environment: staging",
        "the namespace saas_backend is neither this project's",
    ),
    _c(
        "namespace-typo-hint",
        f"  {P}:domain: escalating-reminders.dev",
        "  saas-backnd:domain: x.dev",
        "did you mean",
    ),
    _c(
        "secure-value",
        "    username: app",
        "    username:\n      secure: AAABAxyz",
        "holds ciphertext (secure:)",
    ),
    # --- top-level keys
    _c(
        "environment-unknown",
        f"{P}:environment: staging",
        f"{P}:environment: qa",
        'environment is "qa"; allowed',
    ),
    _c("environment-capital", f"{P}:environment: staging", f"{P}:environment: Staging", "allowed: staging"),
    _c("environment-missing", f"  {P}:environment: staging\n", "", f"{P}:environment is missing"),
    _c(
        "platform-unknown",
        f"  {P}:environment: staging\n",
        f"  {P}:environment: staging\n  {P}:platform: k8s\n",
        "allowed: aws or docker",
    ),
    _c(
        "platform-docker-staging",
        f"  {P}:environment: staging\n",
        f"  {P}:environment: staging\n  {P}:platform: docker\n",
        "only environment dev runs on the local Docker",
    ),
    _c(
        "app-name-uppercase",
        f"{P}:appName: escalating-reminders",
        f"{P}:appName: Escalating",
        "lowercase letters",
    ),
    _c(
        "app-name-underscore",
        f"{P}:appName: escalating-reminders",
        f"{P}:appName: escalating_reminders",
        "appName is",
    ),
    _c("app-name-too-short", f"{P}:appName: escalating-reminders", f"{P}:appName: er", "3-32 characters"),
    _c("app-name-number", f"{P}:appName: escalating-reminders", f"{P}:appName: 15", 'appName is "15"'),
    _c(
        "app-name-long-for-redis",
        f"{P}:appName: escalating-reminders",
        f"{P}:appName: escalating-reminders-service",
        "in staging it may have at most 26 characters: the ElastiCache replication group id",
    ),
    _c(
        "app-name-long-for-bucket-in-production",
        f"{P}:appName: escalating-reminders",
        f"{P}:appName: escalating-reminders-x",
        "in production it may have at most 21 characters: the S3 bucket name",
        "production",
    ),
    _c("app-name-missing", f"  {P}:appName: escalating-reminders\n", "", f"{P}:appName is missing"),
    _c(
        "domain-with-scheme",
        f"{P}:domain: escalating-reminders.dev",
        f"{P}:domain: https://x.dev",
        "lowercase DNS domain",
    ),
    _c(
        "domain-with-path",
        f"{P}:domain: escalating-reminders.dev",
        f"{P}:domain: x.dev/api",
        "lowercase DNS domain",
    ),
    _c(
        "domain-uppercase",
        f"{P}:domain: escalating-reminders.dev",
        f"{P}:domain: Example.COM",
        "lowercase DNS domain",
    ),
    _c("region-misspelt", "aws:region: us-west-2", "aws:region: us-wset-2", "did you mean us-west-2?"),
    _c(
        "region-az-not-region",
        "aws:region: us-west-2",
        "aws:region: us-west-2a",
        "must be an AWS region the provider knows",
    ),
    _c("region-uppercase", "aws:region: us-west-2", "aws:region: US-WEST-2", "must be an AWS region"),
    _c("region-missing", "  aws:region: us-west-2\n", "", "aws:region is missing; it is required"),
    _c("region-empty", "aws:region: us-west-2", "aws:region:", "aws:region is"),
    _c(
        "log-retention-below-floor",
        f"  {P}:domain:",
        f"  {P}:logRetentionDays: 7\n  {P}:domain:",
        "at least 14 days",
    ),
    _c(
        "log-retention-not-period",
        f"  {P}:domain:",
        f"  {P}:logRetentionDays: 20\n  {P}:domain:",
        "logRetentionDays is 20",
    ),
    _c(
        "unknown-top-level-key",
        f"  {P}:domain:",
        f"  {P}:databse:\n    x: 1\n  {P}:domain:",
        "it is not a known key",
    ),
    # --- network
    _c("cidr-public", "    cidr: 10.20.0.0/16", "    cidr: 8.8.0.0/16", "private (RFC 1918)"),
    _c("cidr-too-small", "    cidr: 10.20.0.0/16", "    cidr: 10.20.0.0/24", "between /16 and /20"),
    _c("cidr-host-bits", "    cidr: 10.20.0.0/16", "    cidr: 10.20.0.1/16", "CIDR form"),
    _c("cidr-garbage", "    cidr: 10.20.0.0/16", "    cidr: ten", "CIDR form"),
    _c("az-count-zero", "    azCount: 2", "    azCount: 0", "greater than or equal to 1"),
    _c("az-count-text", "    azCount: 2", "    azCount: two", "must be a valid integer"),
    _c(
        "nat-mode-unknown",
        "    natGateways: instance",
        "    natGateways: one",
        "allowed: none, single, perAz or instance",
    ),
    _c(
        "nat-mode-case",
        "    natGateways: instance",
        "    natGateways: perAZ",
        "allowed: none, single, perAz or instance",
    ),
    _c("nat-none-public-image", None, NAT_NONE_PUBLIC_IMAGE, "without NAT gateways"),
    _c(
        "flow-log-retention-floor",
        "    flowLogRetentionDays: 14",
        "    flowLogRetentionDays: 7",
        "at least 14 days",
    ),
    _c("network-misspelt-key", "    azCount: 2", "    azcount: 2", "did you mean azCount?"),
    _c(
        "production-one-az",
        "    azCount: 2",
        "    azCount: 1",
        "production needs at least 2 AZs",
        "production",
    ),
    _c(
        "production-single-nat",
        "    natGateways: perAz",
        "    natGateways: single",
        "production needs perAz",
        "production",
    ),
    # --- services
    _c("image-latest", API_SOURCE, "      image: ghcr.io/acme/api:latest", "must be pinned by digest"),
    _c("image-untagged", API_SOURCE, "      image: ghcr.io/acme/api", "must be pinned by digest"),
    _c("image-tag-only", API_SOURCE, "      image: ghcr.io/acme/api:1.0.0", "a tag can be moved"),
    _c(
        "image-and-context",
        API_SOURCE,
        API_SOURCE + f"\n      image: ghcr.io/acme/api{DIGEST}",
        "give exactly one of image",
    ),
    _c("source-empty", API_SOURCE, "      dockerfile: Dockerfile", "give exactly one of image"),
    _c(
        "context-missing-dir",
        API_SOURCE,
        "      context: ./does-not-exist",
        'api.source.context is "./does-not-exist"; no such directory',
    ),
    _c(
        "dockerfile-missing",
        API_SOURCE,
        "      context: images/pg-backup\n      dockerfile: images/pg-backup/Nope",
        "no such file (relative to the project",
    ),
    _c(
        "dockerfile-on-an-image",
        API_SOURCE,
        f"      image: ghcr.io/acme/api{DIGEST}\n      dockerfile: Dockerfile",
        "only a build context has a Dockerfile",
    ),
    _c(
        "platform-windows",
        API_SOURCE,
        API_SOURCE + "\n      platform: windows/amd64",
        "allowed: linux/arm64 or linux/amd64",
        "production",
    ),
    _c(
        "command-string",
        "    command: [npm, run, start:api]",
        "    command: npm run start:api",
        "must be a valid list",
    ),
    _c("command-empty", "    command: [npm, run, start:api]", "    command: []", "non-empty list"),
    _c("port-zero", "    port: 3801", "    port: 0", "TCP port between 1 and 65535"),
    _c("port-too-big", "    port: 3801", "    port: 70000", "TCP port between 1 and 65535"),
    _c("port-text", "    port: 3801", "    port: http", "must be a valid integer"),
    _c(
        "health-path-relative",
        "    healthCheckPath: /health",
        "    healthCheckPath: health",
        "absolute URL path",
    ),
    _c("health-path-number", "    healthCheckPath: /health", "    healthCheckPath: 200", 'quote it ("200")'),
    _c(
        "grace-negative",
        "    healthCheckGraceSeconds: 60",
        "    healthCheckGraceSeconds: -1",
        "greater than or equal to 0",
    ),
    _c("min-replicas-zero", "    minReplicas: 1", "    minReplicas: 0", "greater than or equal to 1"),
    _c("max-below-min", "    maxReplicas: 2", "    maxReplicas: 0", "maxReplicas is 0"),
    _c("max-below-min-cross", "    minReplicas: 1", "    minReplicas: 3", "must be >= minReplicas (3)"),
    _c(
        "cpu-in-vcpu",
        SIZE,
        "    size: {cpu: 0.25, memory: 512}",
        "cpu is in Fargate CPU units, 1024 per vCPU: for 0.25 vCPU write 256",
    ),
    _c("cpu-one-vcpu", SIZE, "    size: {cpu: 1, memory: 2048}", "for 1 vCPU write 1024"),
    _c("cpu-odd", SIZE, "    size: {cpu: 300, memory: 512}", "allowed Fargate sizes"),
    _c("memory-in-gb", SIZE, "    size: {cpu: 256, memory: 0.5}", "memory is in MiB: for 0.5 GB write 512"),
    _c("memory-not-allowed", SIZE, "    size: {cpu: 256, memory: 4096}", "with cpu 256 allowed: 512..2048"),
    _c("size-text", SIZE, "    size: small", "must be a valid dictionary"),
    _c("worker-replicas-zero", "    replicas: 2", "    replicas: 0", "worker.replicas is 0"),
    _c(
        "worker-spot-arm",
        "      platform: linux/amd64\n    command: [npm, run, start:worker]",
        "    command: [npm, run, start:worker]",
        "Fargate Spot runs only X86_64",
    ),
    _c("worker-spot-text", "    spot: true", "    spot: sometimes", "must be a valid boolean"),
    _c(
        "worker-spot-production",
        "    command: [npm, run, start:worker]",
        "      platform: linux/amd64\n    command: [npm, run, start:worker]\n    spot: true",
        "production runs workers on regular Fargate capacity",
        "production",
    ),
    _c(
        "api-spot-production",
        "    command: [npm, run, start:api]",
        "      platform: linux/amd64\n    command: [npm, run, start:api]\n    spot: true",
        "api.spot is true; production runs API tasks on regular Fargate capacity",
        "production",
    ),
    _c(
        "scheduler-spot-production",
        "    command: [npm, run, start:scheduler]",
        "      platform: linux/amd64\n    command: [npm, run, start:scheduler]\n    spot: true",
        "scheduler.spot is true; production runs the scheduler on regular Fargate capacity",
        "production",
    ),
    _c(
        "scheduler-spot-arm",
        "      platform: linux/amd64\n    command: [npm, run, start:scheduler]",
        "    command: [npm, run, start:scheduler]",
        "scheduler.spot is true; Fargate Spot runs only X86_64",
    ),
    _c(
        "scheduler-two",
        f"  {P}:scheduler:\n",
        f"  {P}:scheduler:\n    replicas: 2\n",
        "the scheduler is a singleton and must be 1",
    ),
    _c("api-missing", f"  {P}:api:\n", f"  {P}:apii:\n", f"{P}:apii is"),
    # --- data stores
    _c(
        "postgres-version-old",
        '    engineVersion: "15"',
        '    engineVersion: "13"',
        "major version 15, 16 or 17",
    ),
    _c("postgres-version-unquoted", '    engineVersion: "15"', "    engineVersion: 15", 'quote it ("15")'),
    _c(
        "postgres-class",
        "    instanceClass: db.t4g.micro",
        "    instanceClass: t4g.micro",
        "RDS instance class",
    ),
    _c(
        "postgres-storage-small",
        "    allocatedStorageGb: 20",
        "    allocatedStorageGb: 5",
        "greater than or equal to 20",
    ),
    _c(
        "postgres-max-below",
        "    maxAllocatedStorageGb: 50",
        "    maxAllocatedStorageGb: 30\n    allocatedStorageGb: 40",
        "allocatedStorageGb",
    ),
    _c(
        "postgres-backup-days-floor",
        "    backupRetentionDays: 7",
        "    backupRetentionDays: 1",
        "greater than or equal to 7",
    ),
    _c(
        "postgres-db-name-dash",
        "    databaseName: escalating_reminders",
        "    databaseName: escalating-reminders",
        "lowercase identifier",
    ),
    _c(
        "postgres-user-reserved", "    username: app", "    username: postgres", "not postgres/rdsadmin/admin"
    ),
    _c("redis-version-unquoted", '    engineVersion: "7.1"', "    engineVersion: 7.1", 'quote it ("7.1")'),
    _c("redis-version-6", '    engineVersion: "7.1"', '    engineVersion: "6.2"', "Redis 7 engine version"),
    _c(
        "redis-node-type", "    nodeType: cache.t4g.micro", "    nodeType: t4g.micro", "ElastiCache node type"
    ),
    _c(
        "redis-snapshots-negative",
        "    snapshotRetentionDays: 1",
        "    snapshotRetentionDays: -1",
        "greater than or equal to 0",
    ),
    # --- backups
    _c(
        "cron-out-of-range",
        "    schedule: cron(0 1 * * ? *)",
        "    schedule: cron(99 99 * * ? *)",
        "minutes field '99' is out of range",
    ),
    _c(
        "cron-five-fields",
        "    schedule: cron(0 1 * * ? *)",
        "    schedule: cron(0 1 * * *)",
        "cron takes six fields",
    ),
    _c(
        "cron-both-days",
        "    schedule: cron(0 1 * * ? *)",
        "    schedule: cron(0 1 * * * *)",
        "exactly one of day-of-month and day-of-week",
    ),
    _c(
        "cron-hour-25",
        "    schedule: cron(0 1 * * ? *)",
        "    schedule: cron(0 25 * * ? *)",
        "hours field '25'",
    ),
    _c(
        "cron-weekday-8",
        "    schedule: cron(0 1 * * ? *)",
        "    schedule: cron(0 1 ? * 8 *)",
        "day-of-week field '8'",
    ),
    _c(
        "unix-cron",
        "    schedule: cron(0 1 * * ? *)",
        '    schedule: "0 1 * * *"',
        "must be cron(minutes hours",
    ),
    _c(
        "rate-plural",
        "    schedule: cron(0 1 * * ? *)",
        "    schedule: rate(1 days)",
        "a value of 1 takes a singular unit",
    ),
    _c(
        "rate-weeks",
        "    schedule: cron(0 1 * * ? *)",
        "    schedule: rate(1 week)",
        "rate takes a positive whole number",
    ),
    _c(
        "backup-retention-zero", "    retentionDays: 30", "    retentionDays: 0", "greater than or equal to 1"
    ),
    _c(
        "drill-monthly-beyond-retention",
        "    retentionDays: 30",
        "    retentionDays: 30\n    drill:\n      schedule: cron(0 3 1 * ? *)",
        'backups.drill.schedule is "cron(0 3 1 * ? *)"; the drill must run at least every 27 days '
        "(its longest gap plus a day is 32 days",
    ),
    _c(
        "drill-weekly-short-retention",
        "    retentionDays: 30",
        "    retentionDays: 7",
        'backups.drill.schedule is "cron(0 3 ? * SUN *)"; the drill must run at least every 4 days',
    ),
    _c(
        "drill-ends",
        "    retentionDays: 30",
        "    retentionDays: 30\n    drill:\n      schedule: cron(0 3 ? * SUN 2027)",
        "(it does not repeat forever;",
    ),
    _c(
        "postgres-too-large-to-restore",
        "    maxAllocatedStorageGb: 50",
        "    maxAllocatedStorageGb: 1000",
        "postgres.maxAllocatedStorageGb is 1000; at most 396: the restore task's ephemeral storage",
    ),
    _c(
        "copy-region-misspelt",
        "    retentionDays: 30",
        "    retentionDays: 30\n    copyRegion: us-est-2",
        "did you mean us-",
    ),
    _c(
        "copy-region-same",
        "    retentionDays: 30",
        "    retentionDays: 30\n    copyRegion: us-west-2",
        "must differ from aws:region",
    ),
    # --- edge
    _c("edge-origin-unknown", "    origin: tunnel", "    origin: cloudflared", "allowed: alb or tunnel"),
    _c("edge-origin-case", "    origin: tunnel", "    origin: Tunnel", "allowed: alb or tunnel"),
    _c("edge-origin-list", "    origin: tunnel", "    origin: [tunnel]", "edge.origin is"),
    _c(
        "production-tunnel",
        "    apiSubdomain: api\n",
        "    apiSubdomain: api\n    origin: tunnel\n",
        "production serves through the ALB (alb)",
        "production",
    ),
    _c(
        "edge-plan-unknown",
        "    plan: free",
        "    plan: premium",
        "allowed: free, pro, business or enterprise",
    ),
    _c(
        "edge-subdomain-dot",
        "    apiSubdomain: api-staging",
        "    apiSubdomain: api.staging",
        "one DNS label",
    ),
    _c(
        "rate-limit-zero",
        "{requests: 1000, periodSeconds: 900}",
        "{requests: 0, periodSeconds: 900}",
        "greater than or equal to 1",
    ),
    _c(
        "rate-limit-missing-period",
        "{requests: 1000, periodSeconds: 900}",
        "{requests: 1000}",
        "periodSeconds is missing",
    ),
    _c("auth-path-relative", "pathPrefix: /v1/auth", "pathPrefix: v1/auth", "absolute URL path"),
    _c(
        "auth-path-outside-the-route-prefix",
        "pathPrefix: /v1/auth",
        "pathPrefix: /auth",
        "the app serves its routes under app.routePrefix /v1: use /v1/auth",
    ),
    _c("zone-id-short", "    plan: free", "    plan: free\n    zoneId: abc", "Cloudflare zone id"),
    # --- app environment and secrets
    _c(
        "log-level-verbose",
        ENV,
        ENV + "\n    LOG_LEVEL: verbose",
        "the app's log levels are debug, info, warn, error",
    ),
    _c("log-level-upper", ENV, ENV + "\n    LOG_LEVEL: DEBUG", "the app's log levels"),
    _c("env-bool-unquoted", ENV, ENV + "\n    ENABLE_SEEDING: false", 'quote it ("false")'),
    _c("env-number-unquoted", '    SMTP_PORT: "587"', "    SMTP_PORT: 587", 'quote it ("587")'),
    _c("env-secret-name", ENV, ENV + "\n    STRIPE_SECRET_KEY: sk", "looks like a secret"),
    _c("env-lowercase-name", ENV, ENV + "\n    log_format: json", "environment variable names"),
    _c("env-computed", ENV, ENV + "\n    PORT: '8080'", "PORT is computed by the program"),
    _c("env-home-computed", ENV, ENV + "\n    HOME: /home/node", "HOME is computed by the program"),
    _c(
        "env-database-url",
        ENV,
        ENV + "\n    DATABASE_URL: postgres://x",
        "DATABASE_URL is a secret set by Postgres",
    ),
    _c("env-and-secret", ENV, ENV + "\n    GOOGLE_CLIENT_ID: x", "both a plain env var"),
    _c("smtp-port-25", '    SMTP_PORT: "587"', '    SMTP_PORT: "25"', "AWS throttles port 25"),
    _c("smtp-without-port", '    SMTP_PORT: "587"\n', "", "with env.SMTP_HOST set the tasks send mail"),
    _c("secret-duplicate", LAST_SECRET, LAST_SECRET + "\n" + LAST_SECRET, "names must be unique"),
    _c(
        "secret-reserved",
        LAST_SECRET,
        LAST_SECRET + "\n    - DATABASE_URL",
        "DATABASE_URL is set by Postgres",
    ),
    _c("secret-lowercase", LAST_SECRET, "    - relay_webhook_secret", "environment variable name"),
    # --- the app contract
    _c(
        "queue-on-an-evicting-redis",
        "    maxmemoryPolicy: noeviction",
        "    maxmemoryPolicy: volatile-lru",
        "app.queue is bullmq, which needs noeviction",
    ),
    _c("redis-policy-unknown", "    maxmemoryPolicy: noeviction", "    maxmemoryPolicy: lru", "allowed:"),
    _c("route-prefix-slash", "    routePrefix: /v1", "    routePrefix: /v1/", "without a trailing slash"),
    _c("route-prefix-relative", "    routePrefix: /v1", "    routePrefix: v1", "absolute path"),
    _c(
        "egress-port-25",
        "    queue: bullmq",
        "    queue: bullmq\n    egressPorts: [25]",
        "AWS throttles outbound port 25",
    ),
    _c(
        "egress-port-always-open",
        "    queue: bullmq",
        "    queue: bullmq\n    egressPorts: [443]",
        "443 is always open",
    ),
    _c("required-env-lowercase", "      - CORS_ORIGIN", "      - cors_origin", "environment variable name"),
    _c(
        "migrate-command-empty",
        "    migrateCommand: [npx, --no, prisma, migrate, deploy]",
        "    migrateCommand: []",
        "non-empty list",
    ),
    _c(
        "one-tag-two-architectures",
        None,
        STACK_FILES["production"]
        .replace(API_SOURCE, f"      image: ghcr.io/acme/api{DIGEST}", 3)
        .replace(
            "    command: [npm, run, start:worker]",
            "      platform: linux/amd64\n    command: [npm, run, start:worker]",
        ),
        "one image has one CPU architecture unless it is a multi-arch index",
        "production",
    ),
    _c(
        "secret-names-string",
        f"  {P}:secretNames:\n",
        f"  {P}:secretNames: RELAY_WEBHOOK_SECRET\n  {P}:x:\n",
        "secretNames",
    ),
    _c("alerts-email-bad", "    email: ops@escalating-reminders.com", "    email: ops", "email address"),
]

# Mistakes not answered with a clean line yet (README "Known gaps"); each id must be a case above.
KNOWN_GAPS: dict[str, str] = {}


def _answer(case: Case, tmp_path: Path) -> list[str]:
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.case.yaml").write_text(case.text())
    try:
        load(load_stack_config("case", root=tmp_path))
    except (StackFileError, CiphertextError) as exc:
        return str(exc).splitlines()
    except ConfigError as exc:
        return exc.lines
    return []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_mistake_gets_a_clean_line(case: Case, tmp_path: Path) -> None:
    lines = _answer(case, tmp_path)
    if case.id in KNOWN_GAPS:
        pytest.xfail(KNOWN_GAPS[case.id])
    assert lines, "accepted"
    assert case.expected in lines[0], lines
    assert all(CLEAN_LINE.match(line) for line in lines), lines


def test_the_table_is_large_and_mostly_answered() -> None:
    assert len(CASES) >= 90
    assert len({c.id for c in CASES}) == len(CASES)
    assert set(KNOWN_GAPS) <= {c.id for c in CASES}
    assert len(KNOWN_GAPS) <= 0.05 * len(CASES)


def test_the_app_name_limit_is_the_one_the_program_needs() -> None:
    """End to end: at the derived limit the whole program runs; one character more stops at config with
    no resource registered (the limit comes from the longest physical name, not a guess)."""
    from preflight.engine import evaluate

    longest = "escalating-reminders-servi"  # 26 characters: staging's limit (ElastiCache id, 40)
    fits = evaluate("staging", preview=True, overrides={f"{P}:appName": longest})
    assert fits.error is None
    one_more = evaluate("staging", preview=True, overrides={f"{P}:appName": longest + "c"})
    assert one_more.error is not None
    assert "in staging it may have at most 26 characters" in one_more.error
    assert one_more.resources == []
