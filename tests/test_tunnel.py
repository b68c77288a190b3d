"""edge.origin tunnel (the staging stack): a Cloudflare Tunnel instead of the ALB, cloudflared beside the API.

Facts relied on, each checked in the documentation:
- Cloudflare docs, "Tunnel with firewall": cloudflared connects out on 7844, "via UDP if using the quic
  protocol or TCP if using the http2 protocol", to region1.v2.argotunnel.com (198.41.192.x) and
  region2.v2.argotunnel.com (198.41.200.x); 443 (api.cloudflare.com) is optional.
- A remotely managed tunnel's ingress ends with a catch-all rule (``http_status:404``): the provider's
  ``service`` field, "Alternatively can return a HTTP status code http_status:[code]".
- Amazon ECS API reference, HealthCheck: "If a task is run manually, and not as part of a service, the task
  will continue its lifecycle regardless of its health status. For tasks that are part of a service, if the
  task reports as unhealthy then the task will be stopped and the service scheduler will replace it."
- ContainerDependency: "When a dependency is defined for container startup, for container shutdown it is
  reversed." HEALTHY "validates that the dependent container passes its Docker health check".
- cloudflared pull request #1135 (merged November 2024) added ``cloudflared tunnel --metrics <addr> ready``,
  exit 0 once /ready answers 200 (at least one edge connection): a health check for an image without curl.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from components.aws.edge.tunnel import CLOUDFLARED_IMAGE, CLOUDFLARED_USER, EDGE_CIDRS, METRICS_ADDRESS
from preflight.engine import Evaluation
from preflight.model import SECRET_SIG, UNKNOWN

TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared"
TUNNEL_CONFIG = "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig"
RECORD = "cloudflare:index/dnsRecord:DnsRecord"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
SERVICE = "aws:ecs/service:Service"
TASK_DEF = "aws:ecs/taskDefinition:TaskDefinition"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
HOST = "api-staging.escalating-reminders.dev"
TOKEN_ARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:escalating-reminders/staging/TUNNEL_TOKEN"


@pytest.fixture(params=["preview", "up"])
def staging_any(request: pytest.FixtureRequest, staging: Evaluation, staging_up: Evaluation) -> Evaluation:
    return staging if request.param == "preview" else staging_up


def _api(ev: Evaluation) -> tuple[Any, dict[str, dict[str, Any]]]:
    service = next(s for s in ev.of_type(SERVICE) if s.inputs["tags"]["role"] == "api")
    task = next(t for t in ev.of_type(TASK_DEF) if t.inputs["family"] == "escalating-reminders-staging-api")
    return service, {c["name"]: c for c in json.loads(task.inputs["containerDefinitions"])}


def test_no_load_balancer_certificate_or_origin_secret(staging_any: Evaluation) -> None:
    types = {r.type for r in staging_any.resources}
    assert not [t for t in types if t.startswith(("aws:lb/", "aws:alb/", "aws:acm/"))]
    assert "saas:app:LoadBalancer" not in types and "saas:edge:Origin" not in types
    assert "random:index/randomPassword:RandomPassword" not in {
        r.type for r in staging_any.resources if r.name.startswith("edge-")
    }
    # no origin-header rule: nothing but the tunnel reaches the API
    phases = {r.inputs["phase"] for r in staging_any.of_type("cloudflare:index/ruleset:Ruleset")}
    assert phases == {"http_config_settings", "http_request_firewall_custom", "http_ratelimit"}


def test_the_tunnel_is_remotely_managed_in_the_zones_account(staging_any: Evaluation) -> None:
    tunnel = staging_any.one(TUNNEL)
    assert tunnel.parent and tunnel.parent.endswith("saas:edge:Tunnel::edge-tunnel")
    assert (
        tunnel.inputs["configSrc"] == "cloudflare" and tunnel.inputs["name"] == "escalating-reminders-staging"
    )
    assert "tunnelSecret" not in tunnel.inputs  # Cloudflare generates it; the token carries it
    assert tunnel.inputs["accountId"] == staging_any.one(TUNNEL_CONFIG).inputs["accountId"]
    assert len(tunnel.inputs["accountId"]) == 32


def test_the_configuration_routes_the_api_hostname_to_localhost_then_404(staging_any: Evaluation) -> None:
    config = staging_any.one(TUNNEL_CONFIG)
    assert config.inputs["config"]["ingresses"] == [
        {"hostname": HOST, "service": "http://localhost:3801"},
        {"service": "http_status:404"},
    ]
    assert config.property_dependencies["tunnelId"] == [staging_any.one(TUNNEL).urn]


def test_preview_the_record_waits_for_the_tunnel(staging: Evaluation) -> None:
    (record,) = staging.of_type(RECORD)
    assert record.inputs["content"] == UNKNOWN  # the tunnel id is known after apply
    assert record.property_dependencies["content"] == [staging.one(TUNNEL).urn]
    assert staging.one(TUNNEL_CONFIG).urn in record.dependencies  # live once the ingress exists


def test_up_the_record_is_a_proxied_cname_to_the_tunnel(staging_up: Evaluation) -> None:
    (record,) = staging_up.of_type(RECORD)
    tunnel_id = staging_up.one(TUNNEL).id
    assert tunnel_id and tunnel_id.count("-") == 4  # the mock answers a UUID, as Cloudflare does
    assert record.inputs["content"] == f"{tunnel_id}.cfargotunnel.com"
    assert (record.inputs["name"], record.inputs["type"], record.inputs["proxied"]) == (HOST, "CNAME", True)
    assert staging_up.outputs["tunnelId"] == tunnel_id


def test_the_token_is_a_secret_in_secrets_manager(staging_any: Evaluation) -> None:
    secret = next(s for s in staging_any.of_type(SECRET) if s.name == "edge-tunnel-token")
    assert secret.inputs["name"] == "escalating-reminders/staging/TUNNEL_TOKEN"
    kms = staging_any.one("aws:kms/key:Key", "app-secrets-kms")
    assert secret.property_dependencies["kmsKeyId"] == [kms.urn]  # the key the execution role may use
    (version,) = [v for v in staging_any.of_type(SECRET_VERSION) if v.name == "edge-tunnel-token-version"]
    assert SECRET_SIG in version.inputs["secretString"]
    if not staging_any.preview:
        # up: the token the provider's function answers, never in plain text anywhere
        token = version.inputs["secretString"]["value"]
        fields = json.loads(base64.b64decode(token))
        assert (
            fields["t"] == staging_any.one(TUNNEL).id
            and fields["a"] == staging_any.one(TUNNEL).inputs["accountId"]
        )
        assert token not in json.dumps([r.inputs for r in staging_any.resources if r is not version])
        assert token not in json.dumps(staging_any.outputs)


def test_the_api_task_runs_cloudflared_beside_the_app(staging_any: Evaluation) -> None:
    _, containers = _api(staging_any)
    assert set(containers) == {"api", "cloudflared"}
    sidecar, api = containers["cloudflared"], containers["api"]
    assert sidecar["image"] == CLOUDFLARED_IMAGE
    repo, _, digest = CLOUDFLARED_IMAGE.partition("@")
    assert repo == "docker.io/cloudflare/cloudflared:2025.11.1" and digest.startswith("sha256:")
    assert len(digest) == len("sha256:") + 64
    assert sidecar["user"] == CLOUDFLARED_USER == "65532:65532"  # the image's nonroot user, never root
    assert sidecar["essential"] is True and sidecar["readonlyRootFilesystem"] is True
    assert sidecar["privileged"] is False
    assert sidecar["command"] == ["tunnel", "--no-autoupdate", "--metrics", METRICS_ADDRESS, "run"]
    assert METRICS_ADDRESS.startswith("127.0.0.1:")  # metrics and /ready stay inside the task
    assert sidecar["secrets"] == [{"name": "TUNNEL_TOKEN", "valueFrom": TOKEN_ARN}]
    assert not sidecar.get("environment")
    assert sidecar["healthCheck"]["command"] == [
        "CMD",
        "cloudflared",
        "tunnel",
        "--metrics",
        METRICS_ADDRESS,
        "ready",
    ]
    # connects only once the app is healthy; so it stops first, before the app
    assert sidecar["dependsOn"] == [{"containerName": "api", "condition": "HEALTHY"}]
    assert sidecar["logConfiguration"]["options"]["awslogs-group"] == "/ecs/escalating-reminders-staging/api"
    # the app's own health: no target group checks it here
    check = api["healthCheck"]
    assert check["command"][:3] == ["CMD", "node", "-e"]
    assert "http://127.0.0.1:3801/health" in check["command"][3]
    assert "TUNNEL_TOKEN" not in {s["name"] for s in api["secrets"]}  # the app never sees the token


def test_the_execution_role_reads_the_token(staging: Evaluation) -> None:
    policy = json.loads(staging.one("aws:iam/rolePolicy:RolePolicy", "app-execution-policy").inputs["policy"])
    (read,) = [s for s in policy["Statement"] if s["Sid"] == "ReadSecrets"]
    assert f"{TOKEN_ARN}-??????" in read["Resource"]


def test_the_api_service_has_no_load_balancer_and_redeploys_on_a_new_token(staging_any: Evaluation) -> None:
    service, _ = _api(staging_any)
    assert "loadBalancers" not in service.inputs
    assert service.inputs["healthCheckGracePeriodSeconds"] == 60  # covers the container health checks
    version = next(v for v in staging_any.of_type(SECRET_VERSION) if v.name == "edge-tunnel-token-version")
    assert version.urn in service.property_dependencies["triggers"]
    assert "secret-TUNNEL_TOKEN" in service.inputs["triggers"]
    for role in ("worker", "scheduler"):
        other = next(s for s in staging_any.of_type(SERVICE) if s.inputs["tags"]["role"] == role)
        assert "secret-TUNNEL_TOKEN" not in other.inputs["triggers"]


def test_nothing_reaches_the_api_tasks(staging: Evaluation) -> None:
    service, _ = _api(staging)
    groups = [staging.by_urn(u) for u in service.property_dependencies["networkConfiguration"]]
    groups = [g for g in groups if g.type == SG]
    assert {g.name for g in groups} == {"network-app-sg", "edge-tunnel-sg"}
    for group in groups:
        assert not group.inputs.get("ingress")
        rules = [
            r for r in staging.of_type(INGRESS) if group.urn in r.property_dependencies["securityGroupId"]
        ]
        assert rules == [], group.name


def test_the_tunnel_group_only_reaches_the_tunnel_edge_on_7844(staging: Evaluation) -> None:
    group = staging.one(SG, "edge-tunnel-sg")
    rules = [r for r in staging.of_type(EGRESS) if group.urn in r.property_dependencies["securityGroupId"]]
    seen = sorted(
        (r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"])
        for r in rules
    )
    assert seen == sorted((p, 7844, 7844, c) for p in ("tcp", "udp") for c in EDGE_CIDRS)
    assert EDGE_CIDRS == ("198.41.192.0/24", "198.41.200.0/24")
    # the worker and scheduler keep the app group alone: no tunnel egress for them
    for role in ("worker", "scheduler"):
        other = next(s for s in staging.of_type(SERVICE) if s.inputs["tags"]["role"] == role)
        assert group.urn not in other.property_dependencies["networkConfiguration"]


def test_an_api_alarm_replaces_the_target_group_alarms(staging: Evaluation) -> None:
    alarms = {a.inputs["name"] for a in staging.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert "escalating-reminders-staging-api-running-count" in alarms
    assert not {a for a in alarms if "alb-" in a or "unhealthy-targets" in a}
