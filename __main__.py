"""saas-backend: reads the stack's typed config once, composes the components for the stack's platform
(AWS + Cloudflare: components/aws/stack.py; local Docker: components/local/stack.py) and exports outputs."""

import pulumi

from components.config import ConfigError, from_pulumi

try:
    cfg = from_pulumi()
except ConfigError as error:
    # One line naming key, value and what is allowed; RunError makes the engine print no traceback.
    raise pulumi.RunError(str(error)) from None

if cfg.platform == "docker":
    from components.local.stack import deploy
else:
    from components.aws.stack import deploy

try:
    outputs = deploy(cfg)
except ValueError as error:
    # An invalid component input (components.common.require and friends): one line, no traceback.
    raise pulumi.RunError(str(error)) from None

pulumi.export("environment", cfg.environment)
for name, value in outputs.items():
    pulumi.export(name, value)
