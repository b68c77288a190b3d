# ruff: noqa: F403
# A partial stub for pyright only (PEP 561 "partial": every submodule still resolves to the installed
# package, with its real types). The package's own __init__ star-imports all of its ~780 resource modules,
# and binding them was most of a pyright run; this one re-exports the modules the program uses.
# Using another Cloudflare resource: add its module here (pyright names it as an unknown attribute) and
# import it in components/aws/edge/cloudflare_sdk.py.
from .dns_record import *
from .get_ip_ranges import *
from .get_zero_trust_tunnel_cloudflared_token import *
from .get_zone import *
from .ruleset import *
from .zero_trust_tunnel_cloudflared import *
from .zero_trust_tunnel_cloudflared_config import *
from .zone_setting import *
