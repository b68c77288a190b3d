"""The offline engine itself: what it records, preview vs up, invokes, stack files, CLI exit codes."""

from __future__ import annotations

import subprocess
import sys

import pulumi
import pulumi_aws as aws
import pytest

from preflight import mocks
from preflight.engine import run_program
from preflight.model import SECRET_SIG, UNKNOWN
from preflight.stackfile import REPO_ROOT, StackFileError, load_stack_config


class _Box(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("saas:test:Box", name)
        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block="10.0.0.0/16", opts=pulumi.ResourceOptions(parent=self))
        self.subnet = aws.ec2.Subnet(
            f"{name}-subnet",
            vpc_id=vpc.id,
            cidr_block="10.0.1.0/24",
            opts=pulumi.ResourceOptions(
                parent=self, protect=True, retain_on_delete=True, ignore_changes=["tags"]
            ),
        )
        self.register_outputs({"subnetId": self.subnet.id})


def _program() -> None:
    box = _Box("box")
    pulumi.export("subnetId", box.subnet.id)
    pulumi.export("subnetArn", box.subnet.arn)
    pulumi.export("token", pulumi.Output.secret("s3cr3t"))


def test_records_register_resource_requests_with_options() -> None:
    evaluation = run_program(_program, preview=False)
    assert evaluation.error is None
    box = evaluation.one("saas:test:Box")
    subnet = evaluation.one("aws:ec2/subnet:Subnet")
    vpc = evaluation.one("aws:ec2/vpc:Vpc")
    assert not box.custom and subnet.custom
    assert subnet.parent == box.urn and vpc.parent == box.urn
    assert subnet.urn.endswith("saas:test:Box$aws:ec2/subnet:Subnet::box-subnet")
    assert subnet.inputs["cidrBlock"] == "10.0.1.0/24"  # engine (camelCase) names
    assert subnet.inputs["vpcId"] == vpc.id and vpc.id is not None and vpc.id.startswith("vpc-")
    assert subnet.property_dependencies["vpcId"] == [vpc.urn]
    assert vpc.urn in subnet.dependencies
    assert (subnet.protect, subnet.retain_on_delete, subnet.ignore_changes) == (True, True, ["tags"])
    assert (vpc.protect, vpc.retain_on_delete) == (False, False)


def test_up_mode_answers_realistic_outputs() -> None:
    evaluation = run_program(_program, preview=False)
    assert str(evaluation.outputs["subnetId"]).startswith("subnet-")
    assert evaluation.outputs["subnetArn"].startswith(f"arn:aws:ec2:us-west-2:{mocks.ACCOUNT_ID}:subnet/")
    assert evaluation.secret_outputs == {"token"}


def test_preview_mode_leaves_computed_values_unknown() -> None:
    evaluation = run_program(_program, preview=True)
    subnet = evaluation.one("aws:ec2/subnet:Subnet")
    assert subnet.inputs["vpcId"] == UNKNOWN
    assert evaluation.outputs["subnetArn"] == UNKNOWN
    assert subnet.id is None


def test_secrets_keep_their_wire_envelope() -> None:
    def program() -> None:
        aws.secretsmanager.SecretVersion("v", secret_id="x", secret_string=pulumi.Output.secret("hush"))

    version = run_program(program, preview=False).one("aws:secretsmanager/secretVersion:SecretVersion")
    assert version.inputs["secretString"][SECRET_SIG] == "1b47061264138c4ac30d75fd1eb44270"
    assert version.inputs["secretString"]["value"] == "hush"


def test_invokes_are_answered() -> None:
    def program() -> None:
        pulumi.export("azs", aws.get_availability_zones(state="available").names)
        pulumi.export("account", aws.get_caller_identity().account_id)

    evaluation = run_program(program, preview=True)
    assert evaluation.outputs["azs"][:3] == ["us-west-2a", "us-west-2b", "us-west-2c"]
    assert evaluation.outputs["account"] == mocks.ACCOUNT_ID


def test_unanswered_invoke_is_an_error_naming_the_token() -> None:
    def program() -> None:
        aws.ec2.get_vpc(default=True)

    evaluation = run_program(program, preview=True)
    assert evaluation.error is not None
    assert "aws:ec2/getVpc:getVpc" in evaluation.error


def test_runs_are_isolated() -> None:
    first = run_program(_program, preview=False)
    second = run_program(lambda: aws.ec2.Vpc("only", cidr_block="10.1.0.0/16"), preview=False)
    assert len(first.resources) == 3
    assert [r.name for r in second.resources] == ["only"]


def test_stack_file_is_read_as_the_cli_passes_it() -> None:
    config = load_stack_config("staging")
    assert config["aws:region"] == "us-west-2"
    assert config["saas-backend:environment"] == "staging"
    assert config["saas-backend:api"].startswith("{")  # objects as JSON
    with pytest.raises(StackFileError, match=r"no stack file Pulumi\.nope\.yaml"):
        load_stack_config("nope")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "preflight", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )


def test_cli_unknown_stack_is_a_usage_error() -> None:
    result = _cli("nope")
    assert result.returncode == 2
    assert "no stack file Pulumi.nope.yaml" in result.stderr
