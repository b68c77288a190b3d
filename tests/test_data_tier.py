"""Data tier of both committed stacks: network, secrets, PostgreSQL, Redis, by value.

Stack-level: the real ``__main__.py`` evaluated from ``Pulumi.<stack>.yaml`` (preview mode for what the
policy pack sees at preview, up mode where computed ids/outputs are compared). Config and component input
errors go through ``preflight.engine.evaluate`` with overrides and are asserted by their one-line message.
"""

from __future__ import annotations

import fnmatch
import json
import re
from functools import cache
from typing import Any

import pytest
import yaml

from components.aws.postgres import ECS_SECRETS as DATABASE_ECS_SECRETS
from components.aws.redis import ECS_SECRETS as REDIS_ECS_SECRETS
from components.aws.secrets import GENERATED, UNSET_PREFIX
from preflight.engine import Evaluation, evaluate
from preflight.model import SECRET_SIG, SECRET_SIG_VALUE, UNKNOWN, RecordedResource
from preflight.stackfile import REPO_ROOT
from tests.conftest import stack_evaluation

NETWORK = "saas:network:Network"
SECRETS = "saas:secrets:AppSecrets"
POSTGRES = "saas:data:Postgres"
REDIS = "saas:data:Redis"
DATA_COMPONENTS = (NETWORK, SECRETS, POSTGRES, REDIS)

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
IGW = "aws:ec2/internetGateway:InternetGateway"
SG = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
KMS_KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
RANDOM_BYTES = "random:index/randomBytes:RandomBytes"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
RDS = "aws:rds/instance:Instance"
RDS_SUBNETS = "aws:rds/subnetGroup:SubnetGroup"
RDS_PARAMS = "aws:rds/parameterGroup:ParameterGroup"
REDIS_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
REDIS_SUBNETS = "aws:elasticache/subnetGroup:SubnetGroup"
REDIS_PARAMS = "aws:elasticache/parameterGroup:ParameterGroup"
# Types that take no `tags` input in pulumi-aws.
UNTAGGABLE = {ROUTE, ASSOCIATION, ROLE_POLICY, ROLE_POLICY_ATTACHMENT, "aws:kms/alias:Alias", SECRET_VERSION}

STACK_FILES = {
    s: yaml.safe_load((REPO_ROOT / f"Pulumi.{s}.yaml").read_text())["config"]
    for s in ("staging", "production")
}
APP = "escalating-reminders"
EXPECTED: dict[str, dict[str, Any]] = {
    "staging": {
        "cidr": "10.20.0.0/16",
        "azs": ["us-west-2a", "us-west-2b"],
        "public": ["10.20.224.0/22", "10.20.228.0/22"],
        "private": ["10.20.0.0/19", "10.20.32.0/19"],
        "nats": 0,  # natGateways instance: tests/test_nat_instance.py
        "flow_retention": 14,
        "log_retention": 14,
        "recovery_days": 0,
        "instance_class": "db.t4g.micro",
        "max_storage": 50,
        "redis_snapshots": 1,
    },
    "production": {
        "cidr": "10.30.0.0/16",
        "azs": ["us-west-2a", "us-west-2b"],
        "public": ["10.30.224.0/22", "10.30.228.0/22"],
        "private": ["10.30.0.0/19", "10.30.32.0/19"],
        "nats": 2,
        "flow_retention": 90,
        "log_retention": 90,
        "recovery_days": 30,
        "instance_class": "db.t4g.small",
        "max_storage": 200,
        "redis_snapshots": 7,
    },
}


@pytest.fixture(params=["staging", "production"])
def stack_up(request: pytest.FixtureRequest) -> Evaluation:
    """Both committed stacks in up mode (the mocks answer ids, ARNs and endpoints)."""
    return stack_evaluation(request.param, False)


# ---------------------------------------------------------------------------------------------------------
# helpers


def prefix(ev: Evaluation) -> str:
    return f"{APP}-{ev.stack}"


def component(ev: Evaluation, type_: str) -> RecordedResource:
    return ev.one(type_)


def children(ev: Evaluation, comp: str, type_: str) -> list[RecordedResource]:
    return [r for r in ev.children(component(ev, comp).urn) if r.type == type_]


def named(ev: Evaluation, type_: str, name: str) -> RecordedResource:
    return ev.one(type_, name)


def deps(resource: RecordedResource, prop: str) -> set[str]:
    return set(resource.property_dependencies.get(prop, []))


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_SIG_VALUE


def subnets(ev: Evaluation, tier: str) -> list[RecordedResource]:
    found = [s for s in children(ev, NETWORK, SUBNET) if s.inputs["tags"].get("tier") == tier]
    return sorted(found, key=lambda s: s.name)


def rules_on(ev: Evaluation, type_: str, sg: RecordedResource) -> list[RecordedResource]:
    return [r for r in ev.of_type(type_) if deps(r, "securityGroupId") == {sg.urn}]


def secret_json(ev: Evaluation, version_name: str) -> dict[str, Any]:
    version = named(ev, SECRET_VERSION, version_name)
    assert is_secret(version.inputs["secretString"])
    return json.loads(version.inputs["secretString"]["value"])


# ---------------------------------------------------------------------------------------------------------
# Network


def test_vpc_has_a_public_and_a_private_subnet_per_az(stack: Evaluation) -> None:
    want = EXPECTED[stack.stack]
    vpc = named(stack, VPC, "network-vpc")
    assert vpc.inputs["cidrBlock"] == want["cidr"]
    assert vpc.inputs["enableDnsHostnames"] is True and vpc.inputs["enableDnsSupport"] is True
    public, private = subnets(stack, "public"), subnets(stack, "private")
    assert len(children(stack, NETWORK, SUBNET)) == 2 * len(want["azs"])
    assert [s.inputs["availabilityZone"] for s in public] == want["azs"]
    assert [s.inputs["availabilityZone"] for s in private] == want["azs"]
    assert [s.inputs["cidrBlock"] for s in public] == want["public"]
    assert [s.inputs["cidrBlock"] for s in private] == want["private"]
    for s in public + private:
        assert s.inputs["mapPublicIpOnLaunch"] is False
        assert deps(s, "vpcId") == {vpc.urn}


def test_nat_gateways_follow_the_nat_mode(stack: Evaluation) -> None:
    want = EXPECTED[stack.stack]
    nats, eips = children(stack, NETWORK, NAT), children(stack, NETWORK, EIP)
    assert len(nats) == len(eips) == want["nats"]
    public_urns = [s.urn for s in subnets(stack, "public")]
    eip_urns = {e.urn for e in eips}
    assert all(e.inputs["domain"] == "vpc" for e in eips)
    used_subnets = []
    for nat in nats:
        (eip,) = deps(nat, "allocationId")
        assert eip in eip_urns
        (subnet,) = deps(nat, "subnetId")
        used_subnets.append(subnet)
    assert sorted(used_subnets) == sorted(public_urns[: want["nats"]])  # one NAT per public subnet used


def test_private_subnets_route_through_their_az_nat(stack_up: Evaluation) -> None:
    ev, want = stack_up, EXPECTED[stack_up.stack]
    per_az = ev.stack == "production"
    by_id = {r.id: r for r in ev.resources if r.id}
    routes = [r for r in children(ev, NETWORK, ROUTE) if r.inputs.get("natGatewayId")]
    if want["nats"] == 0:  # the NAT instance's routes: tests/test_nat_instance.py
        assert routes == []
        return
    assert len(routes) == len(want["azs"])
    nat_ids_used = set()
    for private in subnets(ev, "private"):
        (assoc,) = [a for a in children(ev, NETWORK, ASSOCIATION) if a.inputs["subnetId"] == private.id]
        (route,) = [
            r
            for r in children(ev, NETWORK, ROUTE)
            if r.inputs["routeTableId"] == assoc.inputs["routeTableId"]
        ]
        assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
        assert "gatewayId" not in route.inputs
        nat = by_id[route.inputs["natGatewayId"]]
        nat_subnet = by_id[nat.inputs["subnetId"]]
        assert nat_subnet.inputs["tags"]["tier"] == "public"
        expected_az = private.inputs["availabilityZone"] if per_az else want["azs"][0]
        assert nat_subnet.inputs["availabilityZone"] == expected_az
        nat_ids_used.add(nat.id)
    assert len(nat_ids_used) == want["nats"]


def test_public_subnets_route_to_the_internet_gateway(stack_up: Evaluation) -> None:
    ev = stack_up
    igw = named(ev, IGW, "network-igw")
    public_rt = named(ev, ROUTE_TABLE, "network-public-rt")
    (route,) = [r for r in children(ev, NETWORK, ROUTE) if r.inputs["routeTableId"] == public_rt.id]
    assert (route.inputs["destinationCidrBlock"], route.inputs["gatewayId"]) == ("0.0.0.0/0", igw.id)
    associated = {
        a.inputs["subnetId"]
        for a in children(ev, NETWORK, ASSOCIATION)
        if a.inputs["routeTableId"] == public_rt.id
    }
    assert associated == {s.id for s in subnets(ev, "public")}


@cache
def no_nat_staging(preview: bool = False) -> Evaluation:
    """Staging with ``network.natGateways: none`` (evaluated once per mode)."""
    network = dict(STACK_FILES["staging"]["saas-backend:network"], natGateways="none")
    overrides: dict[str, Any] = {"saas-backend:network": network}
    for role in ("api", "worker", "scheduler"):  # without NAT, images come from ECR (a build context)
        key = f"saas-backend:{role}"
        overrides[key] = dict(STACK_FILES["staging"][key], source={"context": "images/pg-backup"}, spot=False)
    overrides["saas-backend:api"].pop("spot")
    overrides["saas-backend:scheduler"].pop("spot")
    ev = evaluate("staging", preview=preview, overrides=overrides)
    assert ev.error is None, ev.error
    return ev


def test_nat_mode_none_leaves_private_subnets_without_default_route() -> None:
    ev = no_nat_staging(preview=True)
    assert children(ev, NETWORK, NAT) == [] and children(ev, NETWORK, EIP) == []
    routes = children(ev, NETWORK, ROUTE)
    assert [r.name for r in routes] == ["network-public-default"]
    assert len([a for a in children(ev, NETWORK, ASSOCIATION)]) == 4  # subnets stay associated


def test_nat_mode_none_reaches_aws_through_vpc_endpoints() -> None:
    """Without NAT, tasks pull ECR images (ecr.api, ecr.dkr, layers in S3), read secrets and ship logs only
    through VPC endpoints: S3 as a gateway on the private route tables, the rest as interface endpoints
    with private DNS in the private subnets."""
    ev = no_nat_staging()
    vpc = named(ev, VPC, "network-vpc")
    private = subnets(ev, "private")
    private_rts = sorted(
        (r for r in children(ev, NETWORK, ROUTE_TABLE) if r.name.startswith("network-private-rt-")),
        key=lambda r: r.name,
    )
    assert len(private_rts) == 2
    endpoint_sg = named(ev, SG, "network-endpoints-sg")
    endpoints = {e.inputs["serviceName"]: e for e in children(ev, NETWORK, VPC_ENDPOINT)}
    region = "com.amazonaws.us-west-2"
    assert sorted(endpoints) == sorted(
        f"{region}.{s}" for s in ("s3", "ecr.api", "ecr.dkr", "logs", "secretsmanager")
    )
    for endpoint in endpoints.values():
        assert endpoint.inputs["vpcId"] == vpc.id
        assert endpoint.inputs["tags"]["environment"] == "staging"
        assert endpoint.inputs["tags"]["managed-by"] == "pulumi"

    s3 = endpoints.pop(f"{region}.s3")
    assert s3.inputs["vpcEndpointType"] == "Gateway"  # free, and routes by prefix list
    assert s3.inputs["routeTableIds"] == [rt.id for rt in private_rts]
    assert deps(s3, "routeTableIds") == {rt.urn for rt in private_rts}
    assert "subnetIds" not in s3.inputs and "privateDnsEnabled" not in s3.inputs
    for endpoint in endpoints.values():
        assert endpoint.inputs["vpcEndpointType"] == "Interface"
        assert endpoint.inputs["privateDnsEnabled"] is True  # the SDKs' default hostnames resolve to it
        assert endpoint.inputs["subnetIds"] == [s.id for s in private]
        assert endpoint.inputs["securityGroupIds"] == [endpoint_sg.id]


def test_nat_mode_none_endpoints_admit_443_only_from_the_app_tasks() -> None:
    ev = no_nat_staging()
    endpoint_sg = named(ev, SG, "network-endpoints-sg")
    app_sg = named(ev, SG, "network-app-sg")
    assert endpoint_sg.inputs["namePrefix"] == "escalating-reminders-staging-vpc-endpoints-"
    assert "ingress" not in endpoint_sg.inputs and "egress" not in endpoint_sg.inputs
    (rule,) = rules_on(ev, INGRESS, endpoint_sg)
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 443, 443)
    assert rule.inputs["referencedSecurityGroupId"] == app_sg.id
    assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs
    assert rules_on(ev, EGRESS, endpoint_sg) == []
    # The tasks' HTTPS egress (to anywhere) covers the endpoints' addresses and the S3 prefix list.
    assert ("tcp", 443, "0.0.0.0/0") in {
        (r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["cidrIpv4"])
        for r in rules_on(ev, EGRESS, app_sg)
    }


def test_vpc_endpoints_only_without_nat(stack: Evaluation) -> None:
    """With NAT gateways the private subnets reach AWS through them: no endpoints, no endpoint SG."""
    assert children(stack, NETWORK, VPC_ENDPOINT) == []
    assert [g.name for g in children(stack, NETWORK, SG)] == ["network-app-sg"]


def test_flow_logs_go_to_a_log_group_with_the_configured_retention(stack: Evaluation) -> None:
    want = EXPECTED[stack.stack]
    group = named(stack, LOG_GROUP, "network-flow-logs")
    assert group.inputs["name"] == f"/vpc/{prefix(stack)}/flow-logs"
    assert group.inputs["retentionInDays"] == want["flow_retention"]
    flow = named(stack, FLOW_LOG, "network-flow-log")
    assert flow.inputs["trafficType"] == "ALL"
    assert flow.inputs["logDestinationType"] == "cloud-watch-logs"
    assert deps(flow, "logDestination") == {group.urn}
    assert deps(flow, "vpcId") == {named(stack, VPC, "network-vpc").urn}
    role = named(stack, ROLE, "network-flow-logs-role")
    assert deps(flow, "iamRoleArn") == {role.urn}
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "vpc-flow-logs.amazonaws.com"}]
    assert trust[0]["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


def test_logs_key_lets_cloudwatch_logs_use_it_for_this_stacks_log_groups_only(stack: Evaluation) -> None:
    prod, p = stack.stack == "production", prefix(stack)
    key = named(stack, KMS_KEY, "network-logs-kms")
    assert key.parent == component(stack, NETWORK).urn
    assert key.inputs["enableKeyRotation"] is True and key.protect is prod
    assert key.inputs["deletionWindowInDays"] == (30 if prod else 7)
    assert key.inputs["tags"]["purpose"] == "logs"
    alias = named(stack, "aws:kms/alias:Alias", "network-logs-kms-alias")
    assert alias.inputs["name"] == f"alias/{p}/logs" and deps(alias, "targetKeyId") == {key.urn}
    groups = "arn:aws:logs:us-west-2:123456789012:log-group:"
    context = {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": [
                f"{groups}/vpc/{p}/*",
                f"{groups}/ecs/{p}/*",
                f"{groups}/aws/rds/instance/{p}-postgres/*",
                f"{groups}/elasticache/{p}-redis/*",
            ]
        }
    }
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert statements.pop("AccountAdministers")["Action"] == ADMIN_ACTIONS
    assert statements == {
        "CloudWatchLogsUse": {
            "Sid": "CloudWatchLogsUse",
            "Effect": "Allow",
            "Principal": {"Service": "logs.us-west-2.amazonaws.com"},
            "Action": [
                "kms:Decrypt*",
                "kms:Describe*",
                "kms:Encrypt*",
                "kms:GenerateDataKey*",
                "kms:ReEncrypt*",
            ],
            "Resource": "*",
            "Condition": context,
        },
        "UseThroughServices": {
            "Sid": "UseThroughServices",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": "123456789012",
                    "kms:ViaService": ["logs.us-west-2.amazonaws.com"],
                },
                **context,
            },
        },
    }


def test_every_log_group_is_encrypted_with_a_customer_key(stack: Evaluation) -> None:
    """CKV_AWS_158: the backup tasks' groups use the backups key, every other group the stack's logs key,
    whose policy admits exactly those groups (its encryption-context patterns)."""
    p = prefix(stack)
    logs_key, backups_key = named(stack, KMS_KEY, "network-logs-kms"), named(stack, KMS_KEY, "backups-kms")
    statement = next(
        s for s in json.loads(logs_key.inputs["policy"])["Statement"] if s["Sid"] == "CloudWatchLogsUse"
    )
    patterns = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    by_key: dict[str, list[str]] = {}
    for group in stack.of_type(LOG_GROUP):
        (key_urn,) = deps(group, "kmsKeyId")
        by_key.setdefault(key_urn, []).append(group.inputs["name"])
        if key_urn == logs_key.urn:
            arn = f"arn:aws:logs:us-west-2:123456789012:log-group:{group.inputs['name']}"
            assert any(fnmatch.fnmatchcase(arn, pattern) for pattern in patterns), arn
    assert {k: sorted(v) for k, v in by_key.items()} == {
        logs_key.urn: sorted(
            [
                f"/vpc/{p}/flow-logs",
                f"/aws/rds/instance/{p}-postgres/postgresql",
                f"/aws/rds/instance/{p}-postgres/upgrade",
                f"/elasticache/{p}-redis/slow-log",
                f"/ecs/{p}/api",
                f"/ecs/{p}/worker",
                f"/ecs/{p}/scheduler",
            ]
        ),
        backups_key.urn: [f"/ecs/{p}/backup", f"/ecs/{p}/restore"],
    }


def test_flow_log_role_is_least_privilege(stack: Evaluation) -> None:
    policy = named(stack, ROLE_POLICY, "network-flow-logs-policy")
    assert deps(policy, "role") == {named(stack, ROLE, "network-flow-logs-role").urn}
    statements = json.loads(policy.inputs["policy"])["Statement"]
    actions = sorted(
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert actions == sorted(
        ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:DescribeLogGroups"]
    )
    group_arn = f"arn:aws:logs:us-west-2:123456789012:log-group:/vpc/{prefix(stack)}/flow-logs"
    write = next(s for s in statements if "logs:PutLogEvents" in s["Action"])
    assert write["Resource"] == [group_arn, f"{group_arn}:*"]
    for s in statements:
        resources = [s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]
        assert "*" not in resources and all(
            r.startswith("arn:aws:logs:us-west-2:123456789012:") for r in resources
        )


def test_default_security_group_is_managed_with_no_rules(stack: Evaluation) -> None:
    (default,) = stack.of_type(DEFAULT_SG)
    assert default.parent == component(stack, NETWORK).urn
    assert default.inputs["ingress"] == [] and default.inputs["egress"] == []
    assert deps(default, "vpcId") == {named(stack, VPC, "network-vpc").urn}


def test_app_security_group_has_egress_only_for_what_the_app_needs(stack: Evaluation) -> None:
    app_sg = named(stack, SG, "network-app-sg")
    assert app_sg.inputs["namePrefix"] == f"{prefix(stack)}-app-" and "name" not in app_sg.inputs
    assert "ingress" not in app_sg.inputs and "egress" not in app_sg.inputs  # rules are separate resources
    egress = {
        (r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"])
        for r in rules_on(stack, EGRESS, app_sg)
    }
    cidr = EXPECTED[stack.stack]["cidr"]
    # HTTPS anywhere, the data stores inside the VPC, and the SMTP port the app sends mail to (env.SMTP_PORT,
    # 587 on both stacks): nothing else.
    assert egress == {
        ("tcp", 443, 443, "0.0.0.0/0"),
        ("tcp", 5432, 5432, cidr),
        ("tcp", 6379, 6379, cidr),
        ("tcp", 587, 587, "0.0.0.0/0"),
    }
    # Whatever other tiers add, nothing is admitted to the tasks from a CIDR: ingress only from other SGs.
    for rule in rules_on(stack, INGRESS, app_sg):
        assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs
        assert rule.property_dependencies.get("referencedSecurityGroupId")
    assert not [r for r in children(stack, NETWORK, INGRESS)]


# ---------------------------------------------------------------------------------------------------------
# KMS and application secrets


def test_every_data_tier_kms_key_rotates_and_is_protected_in_production(stack: Evaluation) -> None:
    prod = stack.stack == "production"
    keys = [k for c in (SECRETS, POSTGRES, REDIS) for k in children(stack, c, KMS_KEY)]
    assert sorted(k.name for k in keys) == ["app-secrets-kms", "postgres-kms", "redis-kms"]
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True
        assert key.protect is prod
        assert key.inputs["deletionWindowInDays"] == (30 if prod else 7)


ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
]


@pytest.mark.parametrize(
    ("key_name", "service", "grants"),
    [
        ("app-secrets-kms", "secretsmanager", False),
        ("postgres-kms", "rds", True),
        ("redis-kms", "elasticache", True),
    ],
)
def test_data_tier_keys_have_least_privilege_key_policies(
    stack: Evaluation, key_name: str, service: str, grants: bool
) -> None:
    """The account administers each key but uses it only through its one service, in the stack's region:
    no statement lets a principal call kms:Decrypt directly, and only RDS/ElastiCache may make grants."""
    account = "123456789012"  # the mocks' caller identity
    root = f"arn:aws:iam::{account}:root"
    via = {"kms:CallerAccount": account, "kms:ViaService": [f"{service}.us-west-2.amazonaws.com"]}
    statements = {
        s["Sid"]: s for s in json.loads(named(stack, KMS_KEY, key_name).inputs["policy"])["Statement"]
    }
    assert statements.pop("AccountAdministers") == {
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": root},
        "Action": ADMIN_ACTIONS,
        "Resource": "*",
    }
    assert statements.pop("UseThroughServices") == {
        "Sid": "UseThroughServices",
        "Effect": "Allow",
        "Principal": {"AWS": root},
        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
        "Resource": "*",
        "Condition": {"StringEquals": via},
    }
    expected_rest = (
        {
            "ServicesCreateGrants": {
                "Sid": "ServicesCreateGrants",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {"StringEquals": via, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            }
        }
        if grants
        else {}
    )
    assert statements == expected_rest


def test_generated_secrets_are_random_hex_in_kms_encrypted_secrets(stack_up: Evaluation) -> None:
    ev, want = stack_up, EXPECTED[stack_up.stack]
    key = named(ev, KMS_KEY, "app-secrets-kms")
    for name in GENERATED:
        slug = name.lower().replace("_", "-")
        secret = named(ev, SECRET, f"app-secrets-{slug}")
        assert secret.inputs["name"] == f"{APP}/{ev.stack}/{name}"
        assert secret.inputs["kmsKeyId"] == key.outputs["arn"] and deps(secret, "kmsKeyId") == {key.urn}
        assert secret.inputs["recoveryWindowInDays"] == want["recovery_days"]
        value = named(ev, RANDOM_BYTES, f"app-secrets-{slug}-value")
        assert value.inputs["length"] == 32
        assert {"hex", "base64"} <= set(value.additional_secret_outputs)
        (version,) = [v for v in ev.of_type(SECRET_VERSION) if deps(v, "secretId") == {secret.urn}]
        assert is_secret(version.inputs["secretString"])
        assert version.inputs["secretString"]["value"] == value.outputs["hex"]
        assert re.fullmatch(r"[0-9a-f]{64}", value.outputs["hex"])
        assert deps(version, "secretString") == {value.urn}


def test_every_configured_secret_name_starts_with_a_placeholder_version(stack: Evaluation) -> None:
    """ECS cannot start a task whose secret has no AWSCURRENT value: each third-party secret gets one
    placeholder version (not a secret, marked `unset:`) that Pulumi never rewrites, re-labels or deletes."""
    names = STACK_FILES[stack.stack]["saas-backend:secretNames"]
    assert len(names) == 5
    key = named(stack, KMS_KEY, "app-secrets-kms")
    by_name = {s.inputs["name"]: s for s in stack.of_type(SECRET)}
    for name in names:
        secret_name = f"{APP}/{stack.stack}/{name}"
        secret = by_name[secret_name]
        assert secret.parent == component(stack, SECRETS).urn
        assert deps(secret, "kmsKeyId") == {key.urn}
        assert "put-secret-value" in secret.inputs["description"]
        (version,) = [v for v in stack.of_type(SECRET_VERSION) if deps(v, "secretId") == {secret.urn}]
        assert version.name == f"app-secrets-{name.lower().replace('_', '-')}-placeholder"
        assert version.parent == component(stack, SECRETS).urn
        fill = (
            f"aws secretsmanager put-secret-value --region us-west-2 --secret-id {secret_name} "
            f'--secret-string "${name}"'
        )
        # The SDK wraps every secretString as a Pulumi secret; the value itself is this literal.
        assert version.inputs["secretString"]["value"] == f"unset: fill with `{fill}`"
        assert version.inputs["secretString"]["value"].startswith(UNSET_PREFIX)
        # An out-of-band put-secret-value must survive refresh and up: the text is never diffed (a changed
        # text would replace the version, which takes AWSCURRENT), labels are never set, delete is a no-op.
        assert version.ignore_changes == ["secretString"]
        assert "versionStages" not in version.inputs
        assert version.retain_on_delete is True
    tunnel = ["TUNNEL_TOKEN"] if stack.of_type(TUNNEL) else []  # edge.origin tunnel (staging)
    generated = {f"{APP}/{stack.stack}/{n}" for n in (*GENERATED, "DATABASE", "REDIS", *tunnel)}
    assert set(by_name) == generated | {f"{APP}/{stack.stack}/{n}" for n in names}
    versioned = {u for v in stack.of_type(SECRET_VERSION) for u in deps(v, "secretId")}
    assert {s.urn for s in by_name.values()} == versioned  # no secret is left without a version
    # Versions Pulumi owns (generated values, DATABASE, REDIS) are ordinary: replaced and deleted with them.
    owned = [v for v in stack.of_type(SECRET_VERSION) if not v.name.endswith("-placeholder")]
    assert len(owned) == len(GENERATED) + 2 + len(tunnel)
    assert all(not v.ignore_changes and not v.retain_on_delete for v in owned)


def _secret_values(ev: Evaluation) -> list[str]:
    values = [r.outputs["hex"] for r in ev.of_type(RANDOM_BYTES)]
    values += [r.outputs["result"] for r in ev.of_type(RANDOM_PASSWORD)]
    # The ALB origin's origin secret is a RandomPassword; the tunnel origin's token comes from the provider.
    tunnel = [v for v in ev.of_type(SECRET_VERSION) if v.name == "edge-tunnel-token-version"]
    values += [v.inputs["secretString"]["value"] for v in tunnel]
    assert len(values) == 6 and all(isinstance(v, str) and len(v) >= 32 for v in values)
    return values


def _plain_strings(value: Any) -> list[str]:
    """Every string in an engine-encoded value, except inside secret envelopes."""
    if is_secret(value):
        return []
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_plain_strings(k), *_plain_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _plain_strings(v)]
    return [value] if isinstance(value, str) else []


def test_generated_secret_values_are_never_plain(stack_up: Evaluation) -> None:
    secrets = _secret_values(stack_up)
    for resource in stack_up.resources:
        if resource.type.startswith("random:"):
            continue
        for text in _plain_strings(resource.inputs):
            assert not any(s in text for s in secrets), f"{resource.name} holds a secret in plain text"
    exported = json.dumps(stack_up.outputs)
    assert not any(s in exported for s in secrets)


# ---------------------------------------------------------------------------------------------------------
# Postgres


def test_rds_instance_security_settings_are_literal(stack: Evaluation) -> None:
    want = EXPECTED[stack.stack]
    db = named(stack, RDS, "postgres-db")
    i = db.inputs
    assert i["identifier"] == f"{prefix(stack)}-postgres"
    assert (i["engine"], i["engineVersion"]) == ("postgres", "15")
    assert i["instanceClass"] == want["instance_class"]
    assert (i["storageType"], i["allocatedStorage"], i["maxAllocatedStorage"]) == (
        "gp3",
        20,
        want["max_storage"],
    )
    assert i["storageEncrypted"] is True and i["publiclyAccessible"] is False
    assert i["backupRetentionPeriod"] == 7
    assert i["copyTagsToSnapshot"] is True and i["autoMinorVersionUpgrade"] is True
    assert i["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    assert i["performanceInsightsEnabled"] is True and i["performanceInsightsRetentionPeriod"] == 7
    key = named(stack, KMS_KEY, "postgres-kms")
    assert deps(db, "kmsKeyId") == {key.urn} and deps(db, "performanceInsightsKmsKeyId") == {key.urn}
    assert i["tags"] == {
        "environment": stack.stack,
        "app": APP,
        "managed-by": "pulumi",
        "Name": i["identifier"],
    }
    assert i["dbName"] == "escalating_reminders" and i["username"] == "app"


def test_production_rds_is_multi_az_deletion_protected_with_final_snapshot(production: Evaluation) -> None:
    db = named(production, RDS, "postgres-db")
    assert db.inputs["multiAz"] is True
    assert db.inputs["deletionProtection"] is True
    assert db.inputs["skipFinalSnapshot"] is False
    assert db.inputs["finalSnapshotIdentifier"] == "escalating-reminders-production-postgres-final"
    assert db.protect is True
    assert named(production, KMS_KEY, "postgres-kms").protect is True


def test_staging_rds_is_single_az_and_disposable(staging: Evaluation) -> None:
    db = named(staging, RDS, "postgres-db")
    assert db.inputs["multiAz"] is False
    assert db.inputs["deletionProtection"] is False
    assert db.inputs["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in db.inputs
    assert db.protect is False


def test_rds_security_group_admits_5432_only_from_the_app_sg(stack: Evaluation) -> None:
    db_sg, app_sg = named(stack, SG, "postgres-sg"), named(stack, SG, "network-app-sg")
    assert "ingress" not in db_sg.inputs
    (rule,) = rules_on(stack, INGRESS, db_sg)
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 5432, 5432)
    assert deps(rule, "referencedSecurityGroupId") == {app_sg.urn}
    assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(rule.inputs)
    assert rules_on(stack, EGRESS, db_sg) == []
    db = named(stack, RDS, "postgres-db")
    assert deps(db, "vpcSecurityGroupIds") == {db_sg.urn}


def test_rds_network_placement_by_value(stack_up: Evaluation) -> None:
    ev = stack_up
    db_sg, app_sg = named(ev, SG, "postgres-sg"), named(ev, SG, "network-app-sg")
    (rule,) = rules_on(ev, INGRESS, db_sg)
    assert (rule.inputs["securityGroupId"], rule.inputs["referencedSecurityGroupId"]) == (db_sg.id, app_sg.id)
    group = named(ev, RDS_SUBNETS, "postgres-subnets")
    assert sorted(group.inputs["subnetIds"]) == sorted(str(s.id) for s in subnets(ev, "private"))
    db = named(ev, RDS, "postgres-db")
    assert db.inputs["dbSubnetGroupName"] == group.inputs["name"] == f"{prefix(ev)}-postgres"
    assert db.inputs["vpcSecurityGroupIds"] == [db_sg.id]


def test_rds_parameter_group_forces_tls_and_logs_slow_queries(stack: Evaluation) -> None:
    params = named(stack, RDS_PARAMS, "postgres-params")
    assert params.inputs["family"] == "postgres15"
    assert params.inputs["namePrefix"] == f"{prefix(stack)}-postgres15-" and "name" not in params.inputs
    values = {p["name"]: p["value"] for p in params.inputs["parameters"]}
    assert values["rds.force_ssl"] == "1"
    assert values["log_min_duration_statement"] == "500"
    assert deps(named(stack, RDS, "postgres-db"), "parameterGroupName") == {params.urn}


def test_rds_log_exports_have_log_groups_with_retention(stack: Evaluation) -> None:
    want = EXPECTED[stack.stack]
    db = named(stack, RDS, "postgres-db")
    for kind in ("postgresql", "upgrade"):
        group = named(stack, LOG_GROUP, f"postgres-log-{kind}")
        assert group.inputs["name"] == f"/aws/rds/instance/{prefix(stack)}-postgres/{kind}"
        assert group.inputs["retentionInDays"] == want["log_retention"]
        assert group.urn in db.dependencies


def test_rds_enhanced_monitoring_every_60_seconds_through_its_own_role(stack_up: Evaluation) -> None:
    """CKV_AWS_118: OS metrics every 60 s; the role is assumable by RDS monitoring for this instance only,
    carries only the AWS managed policy, and exists with its policy before the instance."""
    ev, identifier = stack_up, f"{prefix(stack_up)}-postgres"
    db = named(ev, RDS, "postgres-db")
    role = named(ev, ROLE, "postgres-monitoring-role")
    assert db.inputs["monitoringInterval"] == 60
    assert db.inputs["monitoringRoleArn"] == role.outputs["arn"] and deps(db, "monitoringRoleArn") == {
        role.urn
    }
    assert role.parent == component(ev, POSTGRES).urn
    assert role.inputs["name"] == f"{prefix(ev)}-rds-monitoring"
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "123456789012"},
                "ArnLike": {"aws:SourceArn": f"arn:aws:rds:us-west-2:123456789012:db:{identifier}"},
            },
        }
    ]
    (attachment,) = [
        a
        for a in ev.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if deps(a, "role") == {role.urn}
    ]
    assert (
        attachment.inputs["policyArn"]
        == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )
    assert attachment.urn in db.dependencies
    assert not [p for p in ev.of_type(ROLE_POLICY) if deps(p, "role") == {role.urn}]


def test_rds_master_password_is_generated_without_rejected_characters(stack_up: Evaluation) -> None:
    ev = stack_up
    password = named(ev, RANDOM_PASSWORD, "postgres-password")
    assert password.inputs["length"] >= 32
    specials = password.inputs["overrideSpecial"]
    assert specials and not set(specials) & set('/@" ')
    assert "result" in password.additional_secret_outputs
    db = named(ev, RDS, "postgres-db")
    assert is_secret(db.inputs["password"])
    assert db.inputs["password"]["value"] == password.outputs["result"]
    assert deps(db, "password") == {password.urn}


def test_database_secret_holds_the_connection_as_json(stack_up: Evaluation) -> None:
    ev = stack_up
    secret = named(ev, SECRET, "postgres-secret")
    assert secret.inputs["name"] == f"{APP}/{ev.stack}/DATABASE"
    assert deps(secret, "kmsKeyId") == {named(ev, KMS_KEY, "app-secrets-kms").urn}
    assert secret.inputs["recoveryWindowInDays"] == EXPECTED[ev.stack]["recovery_days"]
    data = secret_json(ev, "postgres-secret-version")
    db = named(ev, RDS, "postgres-db")
    password = named(ev, RANDOM_PASSWORD, "postgres-password").outputs["result"]
    host = db.outputs["address"]
    assert host.startswith(f"{prefix(ev)}-postgres.") and host.endswith(".rds.amazonaws.com")
    assert data == {
        "username": "app",
        "password": password,
        "host": host,
        "port": 5432,
        "dbname": "escalating_reminders",
        "engine": "postgres",
        "dbInstanceIdentifier": f"{prefix(ev)}-postgres",
        "url": f"postgresql://app:{password}@{host}:5432/escalating_reminders?sslmode=require",
    }


# ---------------------------------------------------------------------------------------------------------
# Redis


def test_redis_replication_group_security_settings_are_literal(stack: Evaluation) -> None:
    group = named(stack, REDIS_GROUP, "redis-group")
    i = group.inputs
    assert i["replicationGroupId"] == f"{prefix(stack)}-redis"
    assert (i["engine"], i["engineVersion"], i["nodeType"]) == ("redis", "7.1", "cache.t4g.micro")
    assert i["transitEncryptionEnabled"] is True and i["transitEncryptionMode"] == "required"
    assert i["atRestEncryptionEnabled"] is True
    assert deps(group, "kmsKeyId") == {named(stack, KMS_KEY, "redis-kms").urn}
    assert is_secret(i["authToken"])
    assert deps(group, "authToken") == {named(stack, RANDOM_PASSWORD, "redis-auth-token").urn}
    assert i["snapshotRetentionLimit"] == EXPECTED[stack.stack]["redis_snapshots"]
    assert i["port"] == 6379
    assert i["tags"]["environment"] == stack.stack


def test_production_redis_has_a_replica_and_automatic_failover(production: Evaluation) -> None:
    i = named(production, REDIS_GROUP, "redis-group").inputs
    assert (i["numCacheClusters"], i["automaticFailoverEnabled"], i["multiAzEnabled"]) == (2, True, True)
    assert i["finalSnapshotIdentifier"] == "escalating-reminders-production-redis-final"


def test_staging_redis_is_one_node_without_failover(staging: Evaluation) -> None:
    i = named(staging, REDIS_GROUP, "redis-group").inputs
    assert (i["numCacheClusters"], i["automaticFailoverEnabled"], i["multiAzEnabled"]) == (1, False, False)
    assert "finalSnapshotIdentifier" not in i


def test_redis_security_group_admits_6379_only_from_the_app_sg(stack: Evaluation) -> None:
    redis_sg, app_sg = named(stack, SG, "redis-sg"), named(stack, SG, "network-app-sg")
    assert "ingress" not in redis_sg.inputs
    (rule,) = rules_on(stack, INGRESS, redis_sg)
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 6379, 6379)
    assert deps(rule, "referencedSecurityGroupId") == {app_sg.urn}
    assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(rule.inputs)
    assert deps(named(stack, REDIS_GROUP, "redis-group"), "securityGroupIds") == {redis_sg.urn}


def test_redis_subnet_and_parameter_groups(stack_up: Evaluation) -> None:
    ev = stack_up
    subnet_group = named(ev, REDIS_SUBNETS, "redis-subnets")
    assert sorted(subnet_group.inputs["subnetIds"]) == sorted(str(s.id) for s in subnets(ev, "private"))
    params = named(ev, REDIS_PARAMS, "redis-params")
    assert params.inputs["family"] == "redis7"
    # BullMQ, Going to production, "Max memory policy": noeviction is the only setting that guarantees the
    # queues' correct behaviour (https://docs.bullmq.io/guide/going-to-production); tagged for the pack.
    assert {p["name"]: p["value"] for p in params.inputs["parameters"]} == {"maxmemory-policy": "noeviction"}
    assert params.inputs["tags"]["queue"] == "bullmq"
    group = named(ev, REDIS_GROUP, "redis-group")
    assert group.inputs["parameterGroupName"] == params.inputs["name"]
    assert group.inputs["subnetGroupName"] == subnet_group.inputs["name"]
    slow_log = named(ev, LOG_GROUP, "redis-slow-log")
    assert slow_log.inputs["retentionInDays"] == EXPECTED[ev.stack]["log_retention"]
    assert group.inputs["logDeliveryConfigurations"][0]["destination"] == slow_log.inputs["name"]


def test_redis_secret_holds_token_and_tls_url(stack_up: Evaluation) -> None:
    ev = stack_up
    secret = named(ev, SECRET, "redis-secret")
    assert secret.inputs["name"] == f"{APP}/{ev.stack}/REDIS"
    assert deps(secret, "kmsKeyId") == {named(ev, KMS_KEY, "app-secrets-kms").urn}
    token = named(ev, RANDOM_PASSWORD, "redis-auth-token")
    assert token.inputs["special"] is False and 16 <= token.inputs["length"] <= 128
    value = token.outputs["result"]
    group = named(ev, REDIS_GROUP, "redis-group")
    assert group.inputs["authToken"]["value"] == value
    host = group.outputs["primaryEndpointAddress"]
    assert secret_json(ev, "redis-secret-version") == {
        "authToken": value,
        "host": host,
        "port": 6379,
        "url": f"rediss://:{value}@{host}:6379",
    }


# ---------------------------------------------------------------------------------------------------------
# Whole data tier


def test_data_tier_resources_carry_literal_required_tags(stack: Evaluation) -> None:
    comps = {component(stack, t).urn for t in DATA_COMPONENTS}
    mine = [r for r in stack.resources if r.parent in comps and r.type.startswith("aws:")]
    assert len(mine) > 50
    for r in mine:
        if r.type in UNTAGGABLE:
            continue
        tags = r.inputs.get("tags")
        assert isinstance(tags, dict), f"{r.type} {r.name} has no literal tags"
        assert (tags["environment"], tags["app"], tags["managed-by"]) == (stack.stack, APP, "pulumi")


def test_data_tier_stack_outputs(stack_up: Evaluation) -> None:
    ev, out = stack_up, stack_up.outputs
    assert out["vpcId"] == named(ev, VPC, "network-vpc").id
    assert out["availabilityZones"] == EXPECTED[ev.stack]["azs"]
    assert out["privateSubnetIds"] == [s.id for s in subnets(ev, "private")]
    assert out["databaseEndpoint"] == named(ev, RDS, "postgres-db").outputs["address"]
    assert out["databaseSecretName"] == f"{APP}/{ev.stack}/DATABASE"
    assert out["redisEndpoint"] == named(ev, REDIS_GROUP, "redis-group").outputs["primaryEndpointAddress"]
    assert out["redisSecretName"] == f"{APP}/{ev.stack}/REDIS"
    to_fill = out["secretsToFill"]
    assert sorted(to_fill) == sorted(STACK_FILES[ev.stack]["saas-backend:secretNames"])
    for name, command in to_fill.items():
        assert command == (
            f"aws secretsmanager put-secret-value --region us-west-2 "
            f'--secret-id {APP}/{ev.stack}/{name} --secret-string "${name}"'
        )
    assert not ev.secret_outputs & set(out)


def test_preview_knows_the_literal_names(stack: Evaluation) -> None:
    assert stack.outputs["databaseSecretName"] == f"{APP}/{stack.stack}/DATABASE"
    assert stack.outputs["vpcId"] == UNKNOWN  # computed: known only after creation


def test_ecs_secret_names_do_not_collide() -> None:
    names = [*GENERATED, *DATABASE_ECS_SECRETS, *REDIS_ECS_SECRETS]
    assert len(names) == len(set(names)) == 9


# ---------------------------------------------------------------------------------------------------------
# Errors: config keys and component inputs, one line each


def _section(stack: str, key: str, **changes: Any) -> dict[str, Any]:
    return {f"saas-backend:{key}": {**STACK_FILES[stack][f"saas-backend:{key}"], **changes}}


CONFIG_ERRORS = [
    (
        "staging",
        _section("staging", "postgres", engineVersion="14"),
        'saas-backend:postgres.engineVersion is "14"; must be a PostgreSQL major version 15, 16 or 17 '
        "(optionally with a minor: 15.7)",
    ),
    (
        "staging",
        _section("staging", "postgres", instanceClass="db.x9.huge"),
        'saas-backend:postgres.instanceClass is "db.x9.huge"; must be an RDS instance class such as '
        "db.t4g.micro, db.t4g.small or db.m7g.large",
    ),
    (
        "staging",
        _section("staging", "redis", engineVersion="6.2"),
        'saas-backend:redis.engineVersion is "6.2"; must be a Redis 7 engine version such as 7.1',
    ),
    (
        "staging",
        _section("staging", "redis", nodeType="cache.t2.micro"),
        'saas-backend:redis.nodeType is "cache.t2.micro"; must be an ElastiCache node type such as '
        "cache.t4g.micro or cache.t4g.small",
    ),
    (
        "staging",
        _section("staging", "network", natGateways="double"),
        'saas-backend:network.natGateways is "double"; allowed: none, single, perAz or instance',
    ),
    (
        "production",
        _section("production", "network", natGateways="single"),
        'saas-backend:network.natGateways is "single"; production needs perAz',
    ),
    (
        "staging",
        _section("staging", "network", azCount=5),
        "Network: az_count is 5; region us-west-2 has 4 available AZs "
        "(us-west-2a, us-west-2b, us-west-2c, us-west-2d)",
    ),
    (
        "staging",
        _section("staging", "network", azCount=1),
        "Postgres: len(subnet_ids) is 1; an RDS subnet group needs private subnets in at least 2 AZs "
        "(network.azCount >= 2)",
    ),
    (
        "staging",
        {"saas-backend:secretNames": ["SENTRY_DSN", "DATABASE_URL"]},
        'saas-backend:secretNames[1] is "DATABASE_URL"; DATABASE_URL is set by Postgres; '
        "name third-party secrets apart",
    ),
    (
        "staging",
        {"saas-backend:secretNames": ["JWT_SECRET"]},
        'saas-backend:secretNames[0] is "JWT_SECRET"; JWT_SECRET is generated by AppSecrets; '
        "name third-party secrets apart",
    ),
]


@pytest.mark.parametrize(
    ("stack_name", "overrides", "message"),
    CONFIG_ERRORS,
    ids=[
        "pg-version",
        "pg-class",
        "redis-version",
        "redis-node",
        "nat-mode",
        "prod-nat",
        "az-count-vs-region",
        "single-az-postgres",
        "reserved-db-name",
        "reserved-generated",
    ],
)
def test_bad_data_tier_input_stops_with_one_line(
    stack_name: str, overrides: dict[str, Any], message: str
) -> None:
    ev = evaluate(stack_name, preview=True, overrides=overrides)
    assert ev.error == message
    assert "\n" not in message
    assert [r for r in ev.resources if r.type in (RDS, REDIS_GROUP)] == []
