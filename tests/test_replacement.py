"""No recorded resource of the AWS stacks replaces itself into a collision with its own fixed name.

Pulumi replaces a resource by creating the new one first, then deleting the old one, unless the resource
sets ``deleteBeforeReplace`` (Pulumi docs, resource options, "deleteBeforeReplace"). A resource with an
explicit physical name whose change forces a replacement (Terraform AWS provider docs, the "Forces new
resource" arguments of each resource page, cited per type in ``NAMING``) would ask AWS for a second resource
under the same name. The table and the check are the pack's ``fixed-name-replacement`` rule; this test walks
the recorded inputs and options of both stacks directly (docs/decisions/fixed-name-replacement.md).
"""

from __future__ import annotations

import pytest

from components.aws.replacement import replacement_digest as program_digest
from policies.saas_guardrails.replacement import NAMING, Naming
from policies.saas_guardrails.replacement import replacement_digest as pack_digest
from preflight.engine import Evaluation
from preflight.model import UNKNOWN, RecordedResource

# Types with a name input that AWS does not hold unique on its own (a revisioned family, a DNS record, a name
# unique only within a scope whose change is itself a new scope), or whose name is only the name.
NOT_UNIQUE_OR_SCOPED = {
    "aws:ecs/taskDefinition:TaskDefinition",  # family: every registration is a new revision
    "aws:iam/rolePolicy:RolePolicy",  # unique per role; a new role is a new scope
    "aws:appautoscaling/policy:Policy",  # unique per scalable target
    "aws:cloudwatch/logMetricFilter:LogMetricFilter",  # unique per log group
    "aws:cloudwatch/metricAlarm:MetricAlarm",  # no input besides the name forces a replacement
    "aws:cloudwatch/eventRule:EventRule",  # replaced only with a new event bus (not set)
    "aws:kms/alias:Alias",  # only the name forces a replacement
    "aws:ecs/cluster:Cluster",  # only the name forces a replacement
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",  # clusterName is the scope
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",  # repository is the scope
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLogging:BucketLogging",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "docker:index/image:Image",  # an image tag, not an AWS resource name
    "cloudflare:index/dnsRecord:DnsRecord",  # several records may share a name
    "cloudflare:index/ruleset:Ruleset",  # identified by zone and phase, not by name
    # A tunnel's name is unique in its account; the program's only other inputs are the account (a new scope)
    # and configSrc, always the literal "cloudflare". The configuration is identified by its tunnel.
    "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
    "aws:acm/certificate:Certificate",  # many certificates may share a domain name
}
NAME_INPUTS = ("name", "bucket", "identifier", "replicationGroupId", "family")


@pytest.fixture(params=["staging", "staging_up", "production", "production_up"])
def stack_up_and_preview(request: pytest.FixtureRequest) -> Evaluation:
    return request.getfixturevalue(request.param)


def _guarded(resource: RecordedResource, naming: Naming) -> str | None:
    """Why a replacement of ``resource`` cannot collide with its own name (None: it can)."""
    inputs = resource.inputs
    if naming.prefix and inputs.get(naming.prefix):
        return f"{naming.prefix}"
    if naming.name not in inputs:
        return "no explicit name"
    forcing = [k for k in naming.forces if inputs.get(k) not in (None, "")]
    unguarded = [k for k in forcing if k not in resource.ignore_changes]
    if not unguarded:
        return "no replace-forcing input it may change"
    if resource.delete_before_replace:
        return "deleteBeforeReplace"
    if resource.protect:
        return "protect"
    values = {k: inputs[k] for k in forcing}
    if UNKNOWN not in values.values() and inputs[naming.name].endswith(f"-{program_digest(values)}"):
        return "digest suffix"
    return None


def test_every_fixed_name_survives_a_replacement(stack_up_and_preview: Evaluation) -> None:
    ev = stack_up_and_preview
    colliding = []
    for r in ev.resources:
        naming = NAMING.get(r.type)
        if naming is not None and _guarded(r, naming) is None:
            colliding.append(f"{r.type} {r.name}: {r.inputs.get(naming.name)}")
    assert colliding == [], f"{ev.stack}: " + "\n".join(colliding)


def test_the_table_covers_every_named_type(stack_up_and_preview: Evaluation) -> None:
    """A new resource type with a name input must be classified: in the table, or not unique by name."""
    named = {
        r.type
        for r in stack_up_and_preview.resources
        if r.custom and not r.type.startswith("pulumi:") and any(k in r.inputs for k in NAME_INPUTS)
    }
    assert named - set(NAMING) - NOT_UNIQUE_OR_SCOPED == set()


def test_each_guard_is_the_intended_one(production_up: Evaluation, staging_up: Evaluation) -> None:
    """The guard per resource, as the decision page describes it."""

    def guards(ev: Evaluation) -> dict[str, str]:
        return {
            r.name: reason
            for r in ev.resources
            if (naming := NAMING.get(r.type)) is not None and (reason := _guarded(r, naming)) is not None
            if reason not in ("no explicit name", "no replace-forcing input it may change")
        }

    want_both = {
        "network-app-sg": "namePrefix",
        "postgres-sg": "namePrefix",
        "redis-sg": "namePrefix",
        "postgres-params": "namePrefix",
        "redis-params": "digest suffix",
        "redis-group": "deleteBeforeReplace",
    }
    staging, production = guards(staging_up), guards(production_up)
    for name, reason in want_both.items():
        assert staging[name] == production[name] == reason, name
    # The ALB origin (production) and the tunnel origin (staging) each guard their own groups.
    alb = {"api-lb-sg": "namePrefix", "api-lb-api-tg": "namePrefix", "api-lb-alb": "deleteBeforeReplace"}
    assert {name: production[name] for name in alb} == alb
    assert staging["edge-tunnel-sg"] == "namePrefix" and not set(alb) & set(staging)
    assert staging["postgres-db"] == "deleteBeforeReplace"
    assert production["postgres-db"] == "protect"


@pytest.mark.parametrize(
    "forcing",
    [{"family": "redis7", "description": "x"}, {"port": 6379, "kmsKeyId": "arn:aws:kms:k"}, {}],
)
def test_program_and_pack_compute_the_same_digest(forcing: dict) -> None:
    assert program_digest(forcing) == pack_digest(forcing)
