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

# --- edge origin: origin (issue 6) ---
from components.edge import EdgeOrigin, EdgeOriginArgs  # noqa: E402

origin = EdgeOrigin(
    "edge-origin",
    EdgeOriginArgs(
        deployment=deployment, domain=cfg.domain, hostname=cfg.api_hostname, zone_id=cfg.edge.zone_id
    ),
)
pulumi.export("cloudflareZoneId", origin.zone_id)

# --- app tier: cluster, observability, lb, api, worker, scheduler (issue 4) ---

# --- edge: edge (issue 6) ---

# --- backups: backups (issue 5) ---

pulumi.export("environment", cfg.environment)
pulumi.export("apiHostname", cfg.api_hostname)
