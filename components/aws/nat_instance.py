"""NAT instance: one fck-nat EC2 instance as the private subnets' way out, for non-production stacks.

The fck-nat AMI (looked up by its publisher's account and name for the region and architecture) on a
Graviton t4g.nano in the first public subnet: source/destination check off (it forwards traffic that is not
its own), an Elastic IP, a security group admitting only the VPC CIDR, the root volume encrypted, IMDSv2
only, no key pair. It heals itself through EC2 auto-recovery: a system status check failure recovers the
instance onto new hardware (same id, ENI, private and Elastic IP, so the routes stay valid), an instance
status check failure reboots it. It is a single point of failure (one AZ, one instance): config refuses it
in production (docs/decisions/nat-instance.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..common import Deployment, child, require

COMPONENT = "NatInstance"
# fck-nat's publishing account and image names (https://fck-nat.dev, "Using the AMI"); al2023 images.
FCK_NAT_OWNER = "568608671756"
FCK_NAT_NAME = "fck-nat-al2023-hvm-*"
# Graviton: t4g.nano pairs with the arm64 image (the instance type's architecture must match the AMI's).
INSTANCE_TYPE = "t4g.nano"
ARCHITECTURE = "arm64"
ROOT_VOLUME_GB = 8
# EC2 actions of a CloudWatch alarm (Amazon EC2 User Guide, "Add stop, terminate, reboot, or recover
# actions to a CloudWatch alarm").
RECOVER_AFTER_MINUTES = 2


@dataclass(frozen=True)
class NatInstanceArgs:
    deployment: Deployment
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    public_subnet_id: pulumi.Input[str]
    internet_gateway: pulumi.Resource  # the EIP needs the VPC attached to an internet gateway


def fck_nat_ami() -> aws.ec2.AwaitableGetAmiResult:
    """The newest fck-nat image for the stack's region and ``ARCHITECTURE`` (a plain value at preview)."""
    return aws.ec2.get_ami(
        most_recent=True,
        owners=[FCK_NAT_OWNER],
        filters=[
            aws.ec2.GetAmiFilterArgs(name="name", values=[FCK_NAT_NAME]),
            aws.ec2.GetAmiFilterArgs(name="architecture", values=[ARCHITECTURE]),
            aws.ec2.GetAmiFilterArgs(name="root-device-type", values=["ebs"]),
        ],
    )


class NatInstance(pulumi.ComponentResource):
    """Outputs: ``network_interface_id`` (the private route tables' target), ``instance_id``,
    ``public_ip``. Plain: ``ami_id``, ``ami_name``."""

    network_interface_id: pulumi.Output[str]
    instance_id: pulumi.Output[str]
    public_ip: pulumi.Output[str]
    ami_id: str
    ami_name: str

    def __init__(self, name: str, args: NatInstanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        d = args.deployment
        require(not d.is_production, COMPONENT, "deployment.environment", d.environment, "not in production")
        super().__init__("saas:network:NatInstance", name, None, opts)
        ami = fck_nat_ami()
        self.ami_id, self.ami_name = ami.id, ami.name
        sg = self._security_group(name, args)
        instance = self._instance(name, args, sg)
        self._recovery_alarms(name, d, instance)
        eip = aws.ec2.Eip(
            f"{name}-eip",
            domain="vpc",
            instance=instance.id,
            tags=d.tags(Name=f"{d.prefix}-nat-instance"),
            opts=child(self, depends_on=[args.internet_gateway]),
        )
        self.instance_id = instance.id
        self.network_interface_id = instance.primary_network_interface_id
        self.public_ip = eip.public_ip
        self.register_outputs(
            {
                "instanceId": self.instance_id,
                "networkInterfaceId": self.network_interface_id,
                "publicIp": self.public_ip,
                "amiId": self.ami_id,
            }
        )

    def _security_group(self, name: str, args: NatInstanceArgs) -> aws.ec2.SecurityGroup:
        """Ingress from the VPC CIDR only (whatever the tasks send out); egress anywhere (the tasks'
        security group already limits what they send)."""
        d = args.deployment
        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name_prefix=f"{d.prefix}-nat-",
            description=f"NAT instance of {d.prefix}: forwards traffic from the VPC only",
            vpc_id=args.vpc_id,
            tags=d.tags(Name=f"{d.prefix}-nat-instance"),
            opts=child(self),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-vpc",
            security_group_id=sg.id,
            ip_protocol="-1",
            cidr_ipv4=args.vpc_cidr,
            description="traffic to forward, from the VPC only",
            tags=d.tags(),
            opts=child(self),
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-to-internet",
            security_group_id=sg.id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            description="forwarded traffic to the internet",
            tags=d.tags(),
            opts=child(self),
        )
        return sg

    def _instance(self, name: str, args: NatInstanceArgs, sg: aws.ec2.SecurityGroup) -> aws.ec2.Instance:
        d = args.deployment
        return aws.ec2.Instance(
            f"{name}-ec2",
            ami=self.ami_id,
            instance_type=INSTANCE_TYPE,
            subnet_id=args.public_subnet_id,
            vpc_security_group_ids=[sg.id],
            source_dest_check=False,
            ebs_optimized=True,  # the t4g default, made explicit
            associate_public_ip_address=False,  # the Elastic IP below is its public address
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_tokens="required", http_endpoint="enabled", http_put_response_hop_limit=1
            ),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                volume_type="gp3", volume_size=ROOT_VOLUME_GB, encrypted=True, delete_on_termination=True
            ),
            maintenance_options=aws.ec2.InstanceMaintenanceOptionsArgs(auto_recovery="default"),
            tags=d.tags(Name=f"{d.prefix}-nat-instance", role="nat"),
            opts=child(self),
        )

    def _recovery_alarms(self, name: str, d: Deployment, instance: aws.ec2.Instance) -> None:
        """System check failed: recover onto new hardware; instance check failed: reboot."""
        checks = {
            "system": ("StatusCheckFailed_System", "recover"),
            "instance": ("StatusCheckFailed_Instance", "reboot"),
        }
        for key, (metric, action) in checks.items():
            aws.cloudwatch.MetricAlarm(
                f"{name}-{key}-check",
                name=f"{d.prefix}-nat-instance-{key}-check",
                alarm_description=f"NAT instance {key} status check failed: {action} it",
                comparison_operator="GreaterThanOrEqualToThreshold",
                threshold=1,
                evaluation_periods=RECOVER_AFTER_MINUTES,
                namespace="AWS/EC2",
                metric_name=metric,
                statistic="Maximum",
                period=60,
                dimensions={"InstanceId": instance.id},
                alarm_actions=[f"arn:{d.partition}:automate:{d.region}:ec2:{action}"],
                tags=d.tags(),
                opts=child(self),
            )
