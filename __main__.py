"""saas-backend: reads the stack's typed config once and composes the components."""

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

pulumi.export("environment", cfg.environment)
pulumi.export("apiHostname", cfg.api_hostname)
