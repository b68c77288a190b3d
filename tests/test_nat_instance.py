"""network.natGateways instance (the staging stack): one hardened fck-nat instance, found by an AMI lookup
the mocks answer, routes of every private route table to it, source/dest check off, self-healing alarms."""

from __future__ import annotations

import pytest

from components.aws.nat_instance import ARCHITECTURE, FCK_NAT_NAME, FCK_NAT_OWNER, INSTANCE_TYPE
from preflight.engine import Evaluation, evaluate
from preflight.mocks import INVOKES, SaasMocks

INSTANCE = "aws:ec2/instance:Instance"
ROUTE = "aws:ec2/route:Route"


@pytest.fixture(params=["preview", "up"])
def staging_any(request: pytest.FixtureRequest, staging: Evaluation, staging_up: Evaluation) -> Evaluation:
    return staging if request.param == "preview" else staging_up


def test_one_nat_instance_and_no_nat_gateway(staging_any: Evaluation) -> None:
    """Amazon VPC User Guide, "NAT instances" (VPC_NAT_Instance.html): a NAT instance must have its
    source/destination check disabled, and the private route tables send 0.0.0.0/0 to it."""
    instance = staging_any.one(INSTANCE)
    assert instance.parent and instance.parent.endswith("saas:network:NatInstance::network-nat-instance")
    assert instance.inputs["sourceDestCheck"] is False
    assert instance.inputs["instanceType"] == INSTANCE_TYPE == "t4g.nano"
    assert instance.inputs["metadataOptions"]["httpTokens"] == "required"
    assert instance.inputs["rootBlockDevice"]["encrypted"] is True
    assert "keyName" not in instance.inputs
    assert staging_any.of_type("aws:ec2/natGateway:NatGateway") == []


def test_the_ami_comes_from_the_fck_nat_lookup_the_mocks_answer(staging_any: Evaluation) -> None:
    answer = INVOKES["aws:ec2/getAmi:getAmi"](
        SaasMocks(preview=True),
        {
            "mostRecent": True,
            "owners": [FCK_NAT_OWNER],
            "filters": [
                {"name": "name", "values": [FCK_NAT_NAME]},
                {"name": "architecture", "values": [ARCHITECTURE]},
                {"name": "root-device-type", "values": ["ebs"]},
            ],
        },
    )
    assert answer["architecture"] == "arm64" and answer["ownerId"] == "568608671756"
    assert answer["name"].startswith("fck-nat-al2023-hvm-")
    assert staging_any.one(INSTANCE).inputs["ami"] == answer["id"]


def test_every_private_route_table_routes_to_the_instance(staging_up: Evaluation) -> None:
    instance = staging_up.one(INSTANCE)
    eni = instance.outputs["primaryNetworkInterfaceId"]
    assert eni.startswith("eni-")
    defaults = [r for r in staging_up.of_type(ROUTE) if r.name.startswith("network-private-default-")]
    assert len(defaults) == 2  # one per AZ
    assert {r.inputs["destinationCidrBlock"] for r in defaults} == {"0.0.0.0/0"}
    assert {r.inputs.get("networkInterfaceId") for r in defaults} == {eni}
    assert all("natGatewayId" not in r.inputs for r in defaults)


def test_its_security_group_admits_only_the_vpc_cidr(staging_up: Evaluation) -> None:
    sg = staging_up.one("aws:ec2/securityGroup:SecurityGroup", "network-nat-instance-sg")
    rules = [
        r
        for r in staging_up.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs.get("securityGroupId") == sg.id
    ]
    assert [(r.inputs["ipProtocol"], r.inputs["cidrIpv4"]) for r in rules] == [("-1", "10.20.0.0/16")]
    assert staging_up.one(INSTANCE).inputs["vpcSecurityGroupIds"] == [sg.id]


def test_it_heals_itself_and_keeps_a_stable_public_address(staging_up: Evaluation) -> None:
    """Amazon EC2 User Guide, "Recover your instance": a recovered instance keeps its id, private IPs,
    Elastic IPs and metadata, so routes to its ENI stay valid."""
    instance = staging_up.one(INSTANCE)
    actions = {}
    for key in ("system", "instance"):
        alarm = staging_up.one("aws:cloudwatch/metricAlarm:MetricAlarm", f"network-nat-instance-{key}-check")
        assert alarm.inputs["dimensions"] == {"InstanceId": instance.id}
        actions[alarm.inputs["metricName"]] = alarm.inputs["alarmActions"]
    assert actions == {
        "StatusCheckFailed_System": ["arn:aws:automate:us-west-2:ec2:recover"],
        "StatusCheckFailed_Instance": ["arn:aws:automate:us-west-2:ec2:reboot"],
    }
    eip = staging_up.one("aws:ec2/eip:Eip", "network-nat-instance-eip")
    assert eip.inputs["instance"] == instance.id


def test_production_refuses_a_nat_instance() -> None:
    result = evaluate(
        "production", preview=True, overrides={"saas-backend:network": {"natGateways": "instance"}}
    )
    assert result.error is not None
    assert 'network.natGateways is "instance"; production needs perAz' in result.error
