"""The pulumi_cloudflare names the edge uses, each from its own module (``import ... as cloudflare``).

The package's ``__init__`` is deferred (components/lazy_package.py): it would import all ~780 resource
modules. Using another Cloudflare resource or function: import it here from its module, and add that
module to the partial type stub in ``typings/pulumi_cloudflare-stubs``.
"""

from components.lazy_package import defer_package_init

defer_package_init("pulumi_cloudflare")

from pulumi_cloudflare.dns_record import DnsRecord  # noqa: E402
from pulumi_cloudflare.get_ip_ranges import get_ip_ranges  # noqa: E402
from pulumi_cloudflare.get_zero_trust_tunnel_cloudflared_token import (  # noqa: E402
    get_zero_trust_tunnel_cloudflared_token_output,
)
from pulumi_cloudflare.get_zone import get_zone  # noqa: E402
from pulumi_cloudflare.ruleset import Ruleset  # noqa: E402
from pulumi_cloudflare.zero_trust_tunnel_cloudflared import ZeroTrustTunnelCloudflared  # noqa: E402
from pulumi_cloudflare.zero_trust_tunnel_cloudflared_config import (  # noqa: E402
    ZeroTrustTunnelCloudflaredConfig,
)
from pulumi_cloudflare.zone_setting import ZoneSetting  # noqa: E402

__all__ = [
    "DnsRecord",
    "Ruleset",
    "ZeroTrustTunnelCloudflared",
    "ZeroTrustTunnelCloudflaredConfig",
    "ZoneSetting",
    "get_ip_ranges",
    "get_zero_trust_tunnel_cloudflared_token_output",
    "get_zone",
]
