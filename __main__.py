"""saas-backend: reads the stack's typed config once and composes the components (docs/interfaces.md)."""

import pulumi
import pulumi_aws as aws

from components.common import Deployment
from components.config import ConfigError, from_pulumi

try:
    cfg = from_pulumi()
except ConfigError as error:
    # One line naming key, value and what is allowed; RunError makes the engine print no traceback.
    raise pulumi.RunError(str(error)) from None

identity = aws.get_caller_identity()
deployment = Deployment.from_config(cfg, account_id=identity.account_id)

# --- data tier: network, app_secrets, postgres, redis (issue 3) ---
from components.network import Network, NetworkArgs  # noqa: E402
from components.postgres import Postgres, PostgresArgs  # noqa: E402
from components.redis import Redis, RedisArgs  # noqa: E402
from components.secrets import AppSecrets, AppSecretsArgs  # noqa: E402

# A component input that is invalid stops the program with one line (ValueError from common.require).
try:
    network = Network("network", NetworkArgs.from_config(deployment, cfg.network))
    app_secrets = AppSecrets(
        "app-secrets", AppSecretsArgs(deployment=deployment, secret_names=cfg.secret_names)
    )
    postgres = Postgres(
        "postgres",
        PostgresArgs(
            deployment=deployment,
            config=cfg.postgres,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            app_security_group_id=network.app_security_group_id,
            secrets_kms_key_arn=app_secrets.kms_key_arn,
            log_retention_days=cfg.effective_log_retention_days,
        ),
    )
    redis = Redis(
        "redis",
        RedisArgs(
            deployment=deployment,
            config=cfg.redis,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            app_security_group_id=network.app_security_group_id,
            secrets_kms_key_arn=app_secrets.kms_key_arn,
            log_retention_days=cfg.effective_log_retention_days,
        ),
    )
except ValueError as error:
    raise pulumi.RunError(str(error)) from None
pulumi.export("vpcId", network.vpc_id)
pulumi.export("availabilityZones", network.availability_zones)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("databaseEndpoint", postgres.address)
pulumi.export("databaseSecretName", postgres.secret_name)
pulumi.export("redisEndpoint", redis.primary_endpoint)
pulumi.export("redisSecretName", redis.secret_name)
# Third-party secrets created empty: fill each once with its command (the value never passes through Pulumi).
pulumi.export("secretsToFill", app_secrets.fill_commands)

# --- edge origin: origin (issue 6) ---
from components.edge import EdgeOrigin, EdgeOriginArgs  # noqa: E402
from components.ratelimit import stack_limits, translate_all  # noqa: E402

# The edge rate limits translated for the Cloudflare plan here, before the app tier and the edge exist:
# a limit the plan cannot express stops the program with one line (components/ratelimit.py).
try:
    edge_rate_limits = translate_all(cfg.edge.plan, stack_limits(cfg.edge), strict=deployment.is_production)
    origin = EdgeOrigin(
        "edge-origin",
        EdgeOriginArgs(
            deployment=deployment, domain=cfg.domain, hostname=cfg.api_hostname, zone_id=cfg.edge.zone_id
        ),
    )
except ValueError as error:
    raise pulumi.RunError(str(error)) from None
for warning in edge_rate_limits.app_only:
    pulumi.log.warn(warning)
pulumi.export("cloudflareZoneId", origin.zone_id)

# --- app tier: cluster, observability, lb, api, worker, scheduler (issue 4) ---

# --- edge: edge (issue 6) ---

# --- backups: backups (issue 5) ---

pulumi.export("environment", cfg.environment)
pulumi.export("apiHostname", cfg.api_hostname)
