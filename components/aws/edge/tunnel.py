"""EdgeTunnel (``saas:edge:Tunnel``), the origin of ``edge.origin: tunnel``: Cloudflare reaches the API
through a tunnel whose connector (``cloudflared``) runs beside the API in each task, so nothing reaches in.

A remotely managed tunnel (``config_src`` cloudflare) and its configuration (the API hostname to the API on
``localhost``, then the catch-all 404 cloudflared requires), the tunnel token (the provider's token function)
in Secrets Manager, and a security group holding only the egress cloudflared needs. :meth:`container` is the
sidecar's container definition. Why and what was checked: docs/decisions/tunnel-origin.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ...common import Deployment, child, require
from ..secrets import named_secret
from . import cloudflare_sdk as cloudflare
from .origin import HOST_RE

COMPONENT = "EdgeTunnel"
TOKEN_SECRET_KEY = "TUNNEL_TOKEN"
# docker.io/cloudflare/cloudflared, tag and multi-arch index digest (linux/amd64 and linux/arm64).
# `cloudflared tunnel ready` (exit 0 once the connector has an edge connection, via the metrics server's
# /ready) came with cloudflared pull request #1135 (merged November 2024): this release has it.
CLOUDFLARED_IMAGE = (
    "docker.io/cloudflare/cloudflared:2025.11.1"
    "@sha256:89ee50efb1e9cb2ae30281a8a404fed95eb8f02f0a972617526f8c5b417acae2"
)
# The image's own unprivileged user (uid/gid 65532, `nonroot`), set explicitly.
CLOUDFLARED_USER = "65532:65532"
CONTAINER_NAME = "cloudflared"
# The metrics server (and /ready) on the task's loopback only: the first port of cloudflared's default range
# (developers.cloudflare.com, Tunnel > Monitor > Metrics: "the first available port in the range 20241 to
# 20245").
METRICS_ADDRESS = "127.0.0.1:20241"
# Cloudflare docs, "Tunnel with firewall": cloudflared connects out on 7844, UDP for quic and TCP for http2,
# to region1.v2.argotunnel.com (198.41.192.0/24) and region2.v2.argotunnel.com (198.41.200.0/24). Port 443
# (api.cloudflare.com, update checks) is optional and the app group's HTTPS egress already allows it.
EDGE_PORT = 7844
EDGE_CIDRS = ("198.41.192.0/24", "198.41.200.0/24")
CATCH_ALL = "http_status:404"


def cname_target(tunnel_id: str) -> str:
    """What a proxied CNAME points at to route a hostname to the tunnel."""
    return f"{tunnel_id}.cfargotunnel.com"


def ingress_rules(hostname: str, port: int) -> list[dict[str, str]]:
    """The tunnel's ingress: the API hostname to the API container (same task, so localhost), then the
    mandatory catch-all last rule."""
    return [{"hostname": hostname, "service": f"http://localhost:{port}"}, {"service": CATCH_ALL}]


@dataclass(frozen=True)
class EdgeTunnelArgs:
    deployment: Deployment
    # The Cloudflare account holding the zone (getZone's account.id) and the API hostname (cfg.api_hostname).
    account_id: str
    hostname: str
    # The API container's port, reached over the task's loopback.
    api_port: int
    vpc_id: pulumi.Input[str]
    # Encrypts the token secret: the AppSecrets key, which the tasks' execution role may already use.
    secrets_kms_key_arn: pulumi.Input[str]


class EdgeTunnel(pulumi.ComponentResource):
    """Outputs: ``tunnel_id``, ``cname_target`` (``<id>.cfargotunnel.com``), ``token_version_id``,
    ``security_group_id``. Plain: ``token_secret_arn`` and ``token_secret_arn_pattern`` (literal),
    ``ingress``. Resources: ``tunnel``, ``tunnel_config``, ``token_secret``, ``security_group``."""

    tunnel_id: pulumi.Output[str]
    cname_target: pulumi.Output[str]
    token_version_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    _deployment: Deployment

    def __init__(self, name: str, args: EdgeTunnelArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(args)
        super().__init__("saas:edge:Tunnel", name, None, opts)
        d = self._deployment = args.deployment
        self.ingress = ingress_rules(args.hostname, args.api_port)
        self.tunnel = cloudflare.ZeroTrustTunnelCloudflared(
            f"{name}-tunnel",
            account_id=args.account_id,
            name=d.prefix,
            config_src="cloudflare",
            opts=child(self),
        )
        self.tunnel_id = self.tunnel.id
        self.cname_target = self.tunnel.id.apply(cname_target)
        self.tunnel_config = cloudflare.ZeroTrustTunnelCloudflaredConfig(
            f"{name}-config",
            account_id=args.account_id,
            tunnel_id=self.tunnel.id,
            config={"ingresses": self.ingress},
            opts=child(self),
        )
        self._token_secret(name, args)
        self._security_group(name, args)
        self.register_outputs(
            {
                "tunnelId": self.tunnel_id,
                "cnameTarget": self.cname_target,
                "tokenSecretArn": self.token_secret_arn,
                "securityGroupId": self.security_group_id,
            }
        )

    def _token_secret(self, name: str, args: EdgeTunnelArgs) -> None:
        """The token cloudflared runs the tunnel with, read by the provider's token function (known once the
        tunnel exists), kept in Secrets Manager as a Pulumi secret."""
        d = args.deployment
        token = cloudflare.get_zero_trust_tunnel_cloudflared_token_output(
            account_id=args.account_id, tunnel_id=self.tunnel.id, opts=pulumi.InvokeOutputOptions(parent=self)
        ).token
        self.token_secret = named_secret(
            f"{name}-token",
            d,
            TOKEN_SECRET_KEY,
            args.secrets_kms_key_arn,
            f"{TOKEN_SECRET_KEY} of {d.prefix}: runs the Cloudflare Tunnel {d.prefix} (the API's connector)",
            self,
        )
        version = aws.secretsmanager.SecretVersion(
            f"{name}-token-version",
            secret_id=self.token_secret.id,
            secret_string=pulumi.Output.secret(token),
            opts=child(self),
        )
        self.token_version_id = version.version_id
        self.token_secret_arn = d.secret_arn(TOKEN_SECRET_KEY)
        self.token_secret_arn_pattern = d.secret_arn_pattern(TOKEN_SECRET_KEY)

    def _security_group(self, name: str, args: EdgeTunnelArgs) -> None:
        """The API tasks' second group: no ingress, egress to the tunnel edge on 7844 (TCP and UDP) only."""
        d = args.deployment
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name_prefix=f"{d.prefix}-tunnel-",
            description=f"cloudflared of {d.prefix}: out to the Cloudflare Tunnel edge only, nothing in",
            vpc_id=args.vpc_id,
            tags=d.tags(Name=f"{d.prefix}-tunnel"),
            opts=child(self),
        )
        self.security_group_id = self.security_group.id
        for protocol in ("udp", "tcp"):
            for n, cidr in enumerate(EDGE_CIDRS):
                aws.vpc.SecurityGroupEgressRule(
                    f"{name}-edge-{protocol}-{n}",
                    security_group_id=self.security_group.id,
                    ip_protocol=protocol,
                    from_port=EDGE_PORT,
                    to_port=EDGE_PORT,
                    cidr_ipv4=cidr,
                    description=f"cloudflared to tunnel edge region{n + 1} ({protocol.upper()} {EDGE_PORT})",
                    tags=d.tags(Name=f"{d.prefix}-tunnel-{protocol}-{n}"),
                    opts=child(self),
                )

    def container(self, *, log_group_name: str, log_stream_prefix: str, app_container: str) -> dict[str, Any]:
        """The cloudflared sidecar (plain values only): token from Secrets Manager, non-root, read-only root,
        healthy once connected to the edge, started only once the app container is healthy (so it is stopped
        first, and the tunnel stops routing to a task before its app does)."""
        d = self._deployment
        return {
            "name": CONTAINER_NAME,
            "image": CLOUDFLARED_IMAGE,
            "essential": True,
            "user": CLOUDFLARED_USER,
            "command": ["tunnel", "--no-autoupdate", "--metrics", METRICS_ADDRESS, "run"],
            "secrets": [{"name": TOKEN_SECRET_KEY, "valueFrom": self.token_secret_arn}],
            "healthCheck": {
                "command": ["CMD", "cloudflared", "tunnel", "--metrics", METRICS_ADDRESS, "ready"],
                "interval": 15,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 20,
            },
            "dependsOn": [{"containerName": app_container, "condition": "HEALTHY"}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group_name,
                    "awslogs-region": d.region,
                    "awslogs-stream-prefix": log_stream_prefix,
                },
            },
            "linuxParameters": {"initProcessEnabled": True},
            "privileged": False,
            "readonlyRootFilesystem": True,
        }


def _validate(args: EdgeTunnelArgs) -> None:
    require(bool(HOST_RE.match(args.hostname)), COMPONENT, "hostname", args.hostname, "must be a hostname")
    require(1 <= args.api_port <= 65535, COMPONENT, "api_port", args.api_port, "must be a TCP port")
    require(
        len(args.account_id) == 32 and all(c in "0123456789abcdef" for c in args.account_id),
        COMPONENT,
        "account_id",
        args.account_id,
        "must be the zone's Cloudflare account id (32 lowercase hex characters, getZone account.id)",
    )
