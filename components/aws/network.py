"""Network: the VPC every other tier lives in.

A public and a private subnet per AZ (docs/decisions/subnet-layout.md), an internet gateway, NAT gateways
(``none`` | ``single`` | ``perAz``; with ``none``, the VPC endpoints of docs/decisions/no-nat-endpoints.md),
VPC flow logs, the default security group emptied, the ECS tasks' security group (egress only), and the
stack's logs key (docs/decisions/logs-key.md), which Network owns because it is created first.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import get_args

import pulumi
import pulumi_aws as aws

from ..common import Deployment, assume_role_policy, child, policy_json, require, require_log_retention
from ..config import NatMode, NetworkConfig
from .kms import key_admin_statement, kms_key, logs_use_statement, service_use_statement
from .nat_instance import NatInstance, NatInstanceArgs

COMPONENT = "Network"
ANYWHERE = "0.0.0.0/0"
# The app tasks' outbound needs: HTTPS (ECR, Secrets Manager, CloudWatch Logs, third-party APIs) to anywhere;
# PostgreSQL and Redis only inside the VPC.
HTTPS_PORT = 443
POSTGRES_PORT = 5432
REDIS_PORT = 6379
# natGateways none: interface endpoints a Fargate task needs (docs/decisions/no-nat-endpoints.md); S3 is a
# gateway endpoint.
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
GATEWAY_ENDPOINTS = ("s3",)


def logs_key_policy(d: Deployment) -> str:
    """Key policy of the stack's logs key: the account administers it; CloudWatch Logs (the service, and the
    account's principals through it) may use it only for log groups under ``d.log_group_prefixes``."""
    context = {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": [d.log_group_arn(f"{p}*") for p in d.log_group_prefixes]
        }
    }
    return policy_json(
        key_admin_statement(d),
        logs_use_statement(d, "CloudWatchLogsUse", context),
        # CloudWatch Logs may also call KMS on the caller's behalf (kms:ViaService logs.<region>).
        service_use_statement(d, ["logs"], context),
    )


def subnet_cidrs(cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """``(public, private)`` CIDRs for ``az_count`` AZs, carved from ``cidr``
    (docs/decisions/subnet-layout.md)."""
    vpc = ipaddress.IPv4Network(cidr, strict=True)
    eighths = list(vpc.subnets(prefixlen_diff=3))
    private = [str(block) for block in eighths[:az_count]]
    public = [str(block) for block in list(eighths[-1].subnets(prefixlen_diff=3))[:az_count]]
    return public, private


@dataclass(frozen=True)
class NetworkArgs:
    deployment: Deployment
    cidr: str = "10.20.0.0/16"
    az_count: int = 2
    nat_gateways: NatMode = "single"
    flow_log_retention_days: int = 14
    # Outbound TCP ports to anywhere beyond HTTPS (the stack's SMTP port, app.egressPorts).
    extra_egress_ports: tuple[int, ...] = ()

    @classmethod
    def from_config(
        cls, deployment: Deployment, config: NetworkConfig, extra_egress_ports: tuple[int, ...] = ()
    ) -> NetworkArgs:
        return cls(
            deployment=deployment,
            cidr=config.cidr,
            az_count=config.az_count,
            nat_gateways=config.nat_gateways,
            flow_log_retention_days=config.flow_log_retention_days,
            extra_egress_ports=extra_egress_ports,
        )


def _validate(args: NetworkArgs) -> None:
    try:
        vpc = ipaddress.IPv4Network(args.cidr, strict=True)
    except ValueError:
        vpc = None
    require(vpc is not None, COMPONENT, "cidr", args.cidr, "must be an IPv4 network such as 10.20.0.0/16")
    assert vpc is not None
    require(16 <= vpc.prefixlen <= 20, COMPONENT, "cidr", args.cidr, "must have a prefix length /16../20")
    require(1 <= args.az_count <= 6, COMPONENT, "az_count", args.az_count, "must be between 1 and 6")
    modes = get_args(NatMode)
    require(args.nat_gateways in modes, COMPONENT, "nat_gateways", args.nat_gateways, f"allowed: {modes}")
    for port in args.extra_egress_ports:
        require(
            1 <= port <= 65535 and port not in (HTTPS_PORT, POSTGRES_PORT, REDIS_PORT),
            COMPONENT,
            "extra_egress_ports",
            list(args.extra_egress_ports),
            "must be TCP ports other than 443, 5432 and 6379 (always open)",
        )
    require_log_retention(args.flow_log_retention_days, COMPONENT, "flow_log_retention_days")


def _available_zones(args: NetworkArgs) -> list[str]:
    """The region's available AZ names, sorted; plain at preview (the invoke answers synchronously). Local and
    wavelength zones are excluded."""
    d = args.deployment
    zones = aws.get_availability_zones(
        state="available", filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}]
    )
    available = sorted(zones.names)
    require(
        args.az_count <= len(available),
        COMPONENT,
        "az_count",
        args.az_count,
        f"region {d.region} has {len(available)} available AZs ({', '.join(available)})",
    )
    return available


def _flow_logs_policy(d: Deployment, log_group_name: str) -> str:
    """The flow-logs role writes to its own log group only."""
    log_group_arn = d.log_group_arn(log_group_name)
    return policy_json(
        {
            "Sid": "WriteFlowLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        },
        {
            "Sid": "FindLogGroup",
            "Effect": "Allow",
            "Action": "logs:DescribeLogGroups",
            "Resource": d.log_group_arn("*"),
        },
    )


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    vpc_cidr: str
    availability_zones: list[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    nat_gateway_ids: list[pulumi.Output[str]]
    nat_instance: NatInstance | None
    app_security_group_id: pulumi.Output[str]
    vpc_endpoint_ids: dict[str, pulumi.Output[str]]
    flow_log_group_name: str
    logs_kms_key_arn: pulumi.Output[str]
    _deployment: Deployment

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(args)
        d = args.deployment
        available = _available_zones(args)
        super().__init__("saas:network:Network", name, None, opts)
        self._deployment = d
        self.availability_zones = available[: args.az_count]
        self.vpc_cidr = args.cidr

        vpc, igw = self._vpc(name, args)
        public_subnets, private_subnets = self._subnets(name, args, vpc)
        self._public_routes(name, vpc, igw, public_subnets)
        nats = self._nat_gateways(name, args, igw, public_subnets)
        targets = self._egress_targets(name, args, vpc, igw, public_subnets, nats)
        private_route_tables = self._private_routes(name, vpc, private_subnets, targets)
        self.logs_kms_key_arn = self._logs_key(name).arn
        self._flow_logs(name, args, vpc)
        app_sg = self._app_security_group(name, args, vpc)
        # Without NAT gateways the private subnets reach AWS only through VPC endpoints.
        self.vpc_endpoint_ids = {}
        if args.nat_gateways == "none":
            self._vpc_endpoints(name, d, vpc, private_subnets, private_route_tables, app_sg)

        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "vpcCidr": self.vpc_cidr,
                "availabilityZones": self.availability_zones,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "natGatewayIds": self.nat_gateway_ids,
                "appSecurityGroupId": self.app_security_group_id,
                "vpcEndpointIds": self.vpc_endpoint_ids,
                "flowLogGroupName": self.flow_log_group_name,
                "logsKmsKeyArn": self.logs_kms_key_arn,
            }
        )

    def _vpc(self, name: str, args: NetworkArgs) -> tuple[aws.ec2.Vpc, aws.ec2.InternetGateway]:
        """The VPC, its default security group taken over and emptied, and the internet gateway."""
        d = self._deployment
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=d.tags(Name=f"{d.prefix}-vpc"),
            opts=child(self),
        )
        self.vpc_id = vpc.id
        # Nothing may use the default security group by accident.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags=d.tags(Name=f"{d.prefix}-default-closed"),
            opts=child(self),
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=d.tags(Name=f"{d.prefix}-igw"), opts=child(self)
        )
        return vpc, igw

    def _subnets(
        self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc
    ) -> tuple[list[aws.ec2.Subnet], list[aws.ec2.Subnet]]:
        """A public and a private subnet per AZ, CIDRs from :func:`subnet_cidrs`."""
        d = self._deployment
        public_cidrs, private_cidrs = subnet_cidrs(args.cidr, args.az_count)
        tiers: dict[str, list[aws.ec2.Subnet]] = {"public": [], "private": []}
        for i, az in enumerate(self.availability_zones):
            for tier, cidrs in (("public", public_cidrs), ("private", private_cidrs)):
                tiers[tier].append(
                    aws.ec2.Subnet(
                        f"{name}-{tier}-{i}",
                        vpc_id=vpc.id,
                        availability_zone=az,
                        cidr_block=cidrs[i],
                        map_public_ip_on_launch=False,
                        tags=d.tags(Name=f"{d.prefix}-{tier}-{az}", tier=tier),
                        opts=child(self),
                    )
                )
        self.public_subnet_ids = [s.id for s in tiers["public"]]
        self.private_subnet_ids = [s.id for s in tiers["private"]]
        return tiers["public"], tiers["private"]

    def _public_routes(
        self, name: str, vpc: aws.ec2.Vpc, igw: aws.ec2.InternetGateway, public_subnets: list[aws.ec2.Subnet]
    ) -> None:
        """One public route table: the default route to the internet gateway, on every public subnet."""
        d = self._deployment
        name = name
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            tags=d.tags(Name=f"{d.prefix}-public"),
            opts=child(self),
        )
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_rt.id,
            destination_cidr_block=ANYWHERE,
            gateway_id=igw.id,
            opts=child(self),
        )
        for i, subnet in enumerate(public_subnets):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{i}", subnet_id=subnet.id, route_table_id=public_rt.id, opts=child(self)
            )

    def _nat_gateways(
        self, name: str, args: NetworkArgs, igw: aws.ec2.InternetGateway, public_subnets: list[aws.ec2.Subnet]
    ) -> list[aws.ec2.NatGateway]:
        """NAT gateways in the public subnets: one in the first AZ (single) or one per AZ (perAz)."""
        d = self._deployment
        nat_count = {"none": 0, "instance": 0, "single": 1, "perAz": args.az_count}[args.nat_gateways]
        nats: list[aws.ec2.NatGateway] = []
        for i in range(nat_count):
            az = self.availability_zones[i]
            eip = aws.ec2.Eip(
                f"{name}-nat-eip-{i}",
                domain="vpc",
                tags=d.tags(Name=f"{d.prefix}-nat-{az}"),
                opts=child(self),
            )
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i}",
                    allocation_id=eip.id,
                    subnet_id=public_subnets[i].id,
                    connectivity_type="public",
                    tags=d.tags(Name=f"{d.prefix}-nat-{az}"),
                    opts=child(self, depends_on=[igw]),
                )
            )
        self.nat_gateway_ids = [n.id for n in nats]
        return nats

    def _egress_targets(
        self,
        name: str,
        args: NetworkArgs,
        vpc: aws.ec2.Vpc,
        igw: aws.ec2.InternetGateway,
        public_subnets: list[aws.ec2.Subnet],
        nats: list[aws.ec2.NatGateway],
    ) -> list[dict[str, pulumi.Input[str]]]:
        """Per AZ, the default route's target (Route keyword arguments); none: no default route."""
        self.nat_instance = None
        if args.nat_gateways == "instance":
            self.nat_instance = NatInstance(
                f"{name}-nat-instance",
                NatInstanceArgs(
                    deployment=self._deployment,
                    vpc_id=vpc.id,
                    vpc_cidr=args.cidr,
                    public_subnet_id=public_subnets[0].id,
                    internet_gateway=igw,
                ),
                opts=child(self),
            )
            return [{"network_interface_id": self.nat_instance.network_interface_id}] * args.az_count
        if not nats:
            return []
        if args.nat_gateways == "perAz":
            return [{"nat_gateway_id": nat.id} for nat in nats]
        return [{"nat_gateway_id": nats[0].id}] * args.az_count

    def _private_routes(
        self,
        name: str,
        vpc: aws.ec2.Vpc,
        private_subnets: list[aws.ec2.Subnet],
        targets: list[dict[str, pulumi.Input[str]]],
    ) -> list[aws.ec2.RouteTable]:
        """One private route table per AZ, whatever the NAT mode, so switching modes only moves routes."""
        d = self._deployment
        tables: list[aws.ec2.RouteTable] = []
        for i, (az, subnet) in enumerate(zip(self.availability_zones, private_subnets, strict=True)):
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{i}",
                vpc_id=vpc.id,
                tags=d.tags(Name=f"{d.prefix}-private-{az}"),
                opts=child(self),
            )
            tables.append(rt)
            if targets:
                aws.ec2.Route(
                    f"{name}-private-default-{i}",
                    route_table_id=rt.id,
                    destination_cidr_block=ANYWHERE,
                    opts=child(self),
                    **targets[i],
                )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{i}", subnet_id=subnet.id, route_table_id=rt.id, opts=child(self)
            )
        return tables

    def _logs_key(self, name: str) -> aws.kms.Key:
        """The stack's logs key: every log group of the stack except the backup tasks'
        (docs/decisions/logs-key.md)."""
        d = self._deployment
        return kms_key(
            f"{name}-logs",
            d,
            "logs",
            f"CloudWatch log groups of {d.prefix} (flow logs, ECS services, RDS and ElastiCache logs)",
            self,
            policy=logs_key_policy(d),
        )

    def _flow_logs(self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc) -> None:
        """VPC flow logs (all traffic) to a log group with a bounded retention, through a least-privilege
        role."""
        d = self._deployment
        self.flow_log_group_name = f"/vpc/{d.prefix}/flow-logs"
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=self.flow_log_group_name,
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=self.logs_kms_key_arn,
            tags=d.tags(),
            opts=child(self),
        )
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            name=f"{d.prefix}-vpc-flow-logs",
            description=f"VPC flow logs of {d.prefix} write to {self.flow_log_group_name}",
            assume_role_policy=assume_role_policy(
                "vpc-flow-logs.amazonaws.com",
                StringEquals={"aws:SourceAccount": d.account_id},
                ArnLike={"aws:SourceArn": f"arn:{d.partition}:ec2:{d.region}:{d.account_id}:vpc-flow-log/*"},
            ),
            tags=d.tags(),
            opts=child(self),
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=role.id,
            policy=_flow_logs_policy(d, self.flow_log_group_name),
            opts=child(self),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=d.tags(Name=f"{d.prefix}-flow-log"),
            opts=child(self),
        )

    def _app_security_group(self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc) -> aws.ec2.SecurityGroup:
        """The ECS tasks' security group: no inline rules (other tiers add ingress as separate rules), egress
        limited to what the app needs."""
        d = self._deployment
        app_sg = aws.ec2.SecurityGroup(
            f"{name}-app-sg",
            # A generated suffix: a replacement (new description) must not collide with the old group's name.
            name_prefix=f"{d.prefix}-app-",
            description=f"ECS tasks of {d.prefix}; ingress only from the load balancer",
            vpc_id=vpc.id,
            tags=d.tags(Name=f"{d.prefix}-app"),
            opts=child(self),
        )
        self.app_security_group_id = app_sg.id
        egress = (
            (
                "https",
                HTTPS_PORT,
                ANYWHERE,
                "HTTPS to AWS APIs (ECR, Secrets Manager, logs) and third parties",
            ),
            ("postgres", POSTGRES_PORT, args.cidr, "PostgreSQL inside the VPC"),
            ("redis", REDIS_PORT, args.cidr, "Redis (TLS) inside the VPC"),
            *(
                (f"tcp-{port}", port, ANYWHERE, f"TCP {port} to anywhere (SMTP or app.egressPorts)")
                for port in args.extra_egress_ports
            ),
        )
        for label, port, cidr, description in egress:
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-app-egress-{label}",
                security_group_id=app_sg.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=cidr,
                description=description,
                tags=d.tags(Name=f"{d.prefix}-app-egress-{label}"),
                opts=child(self),
            )
        return app_sg

    def _vpc_endpoints(
        self,
        name: str,
        d: Deployment,
        vpc: aws.ec2.Vpc,
        private_subnets: list[aws.ec2.Subnet],
        private_route_tables: list[aws.ec2.RouteTable],
        app_sg: aws.ec2.SecurityGroup,
    ) -> None:
        """S3 gateway endpoint on the private route tables; interface endpoints (private DNS) in the private
        subnets behind a security group that admits 443 from the app security group only."""
        prefix = d.prefix
        endpoint_sg = app_only_security_group(
            f"{name}-endpoints",
            d,
            label="vpc-endpoints",
            what="VPC interface endpoints",
            port=HTTPS_PORT,
            rule_description="HTTPS from the ECS tasks to the AWS APIs",
            vpc_id=vpc.id,
            app_security_group_id=app_sg.id,
            parent=self,
        )
        for service in GATEWAY_ENDPOINTS:
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-endpoint-{service}",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{d.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[rt.id for rt in private_route_tables],
                tags=d.tags(Name=f"{prefix}-{service}"),
                opts=child(self),
            )
            self.vpc_endpoint_ids[service] = endpoint.id
        for service in INTERFACE_ENDPOINTS:
            slug = service.replace(".", "-")
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-endpoint-{slug}",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{d.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in private_subnets],
                security_group_ids=[endpoint_sg.id],
                tags=d.tags(Name=f"{prefix}-{slug}"),
                opts=child(self),
            )
            self.vpc_endpoint_ids[service] = endpoint.id


def app_only_security_group(
    name: str,
    d: Deployment,
    *,
    label: str,
    what: str,
    port: int,
    rule_description: str,
    vpc_id: pulumi.Input[str],
    app_security_group_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> aws.ec2.SecurityGroup:
    """A security group (``<name>-sg``, ``<prefix>-<label>``) admitting ``port`` only from the app tasks'
    group (``<name>-from-app``): no CIDR ingress at all. Used by the data stores and the VPC endpoints."""
    sg = aws.ec2.SecurityGroup(
        f"{name}-sg",
        # A generated suffix: a replacement (new description) must not collide with the old group's name.
        name_prefix=f"{d.prefix}-{label}-",
        description=f"{what} of {d.prefix}: {port} from the app security group only",
        vpc_id=vpc_id,
        tags=d.tags(Name=f"{d.prefix}-{label}"),
        opts=child(parent),
    )
    aws.vpc.SecurityGroupIngressRule(
        f"{name}-from-app",
        security_group_id=sg.id,
        referenced_security_group_id=app_security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=rule_description,
        tags=d.tags(Name=f"{d.prefix}-{label}-from-app"),
        opts=child(parent),
    )
    return sg
