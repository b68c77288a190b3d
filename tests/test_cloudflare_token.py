"""The README and the workflow comments list exactly the Cloudflare token permissions the resources need.

Permission groups: Cloudflare docs, Fundamentals > API token permissions (zone permissions table: DNS,
Zone Settings, Config Rules "Configuration Rules", Transform Rules, Zone WAF, Zone). Per product: Rules >
Configuration Rules > Create via API, "Required API token permissions: Zone > Config Rules > Edit"; account
permissions table: "Cloudflare Tunnel Read/Edit" (the provider's resources accept "Cloudflare Tunnel Write").
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.aws.cloudflare_token import required_permissions
from preflight.engine import Evaluation

ROOT = Path(__file__).resolve().parent.parent
PERMISSION_RE = re.compile(r"(?:Zone|Account) / [A-Za-z ]+? / (?:Read|Edit)")


def _needed(*stacks: Evaluation) -> set[str]:
    return required_permissions((r.type, r.inputs) for ev in stacks for r in ev.resources)


def _readme_list() -> set[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- cloudflare-token:start -->", 1)[1].split("<!-- cloudflare-token:end -->", 1)[0]
    return set(re.findall(r"^\| `((?:Zone|Account) / [^`]+)` \|", block, flags=re.M))


COMMON = {
    "Zone / Zone / Read",
    "Zone / DNS / Edit",
    "Zone / Zone Settings / Edit",
    "Zone / Config Rules / Edit",
    "Zone / Zone WAF / Edit",
}


def test_the_stacks_need_these_permissions(staging: Evaluation, production: Evaluation) -> None:
    # The ALB origin (production) needs the origin-header transform; the tunnel origin (staging) the tunnel.
    assert _needed(production) == COMMON | {"Zone / Transform Rules / Edit"}
    assert _needed(staging) == COMMON | {"Account / Cloudflare Tunnel / Edit"}


def test_readme_lists_exactly_the_needed_permissions(staging: Evaluation, production: Evaluation) -> None:
    assert _readme_list() == _needed(staging, production)


@pytest.mark.parametrize("workflow", ["pull-request.yml", "deploy.yml"])
def test_workflow_comments_list_exactly_the_needed_permissions(
    workflow: str, staging: Evaluation, production: Evaluation
) -> None:
    text = (ROOT / ".github" / "workflows" / workflow).read_text()
    comments = " ".join(line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#"))
    assert set(PERMISSION_RE.findall(comments)) == _needed(staging, production)


def test_an_unlisted_cloudflare_resource_or_phase_is_an_error() -> None:
    with pytest.raises(KeyError, match="zeroTrustTunnelCloudflaredRoute"):
        required_permissions(
            [("cloudflare:index/zeroTrustTunnelCloudflaredRoute:ZeroTrustTunnelCloudflaredRoute", {})]
        )
    with pytest.raises(KeyError, match="http_request_dynamic_redirect"):
        required_permissions(
            [("cloudflare:index/ruleset:Ruleset", {"phase": "http_request_dynamic_redirect"})]
        )
