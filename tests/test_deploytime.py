"""Fresh-deploy estimate: the critical path with its range, the physical minimum from resource kinds, and the
services waiting for steady state (what makes `pulumi up` take as long as the estimate says)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest

from preflight import deploytime
from preflight.engine import Evaluation, run_program
from preflight.model import RecordedResource

SERVICE = "aws:ecs/service:Service"


def rr(type_: str, **inputs: object) -> RecordedResource:
    return RecordedResource(urn=f"urn:{type_}", type=type_, name="x", custom=True, parent=None, inputs=inputs)


def _chain_program(alb_waits_for_the_database: bool) -> None:
    class Data(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("saas:test:Data", name)
            sg = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id="vpc-1", opts=pulumi.ResourceOptions(parent=self))
            aws.rds.Instance(
                f"{name}-db",
                engine="postgres",
                instance_class="db.t4g.micro",
                allocated_storage=20,
                multi_az=True,
                vpc_security_group_ids=[sg.id],
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.register_outputs({})

    data = Data("data")
    lb = aws.lb.LoadBalancer(
        "alb", opts=pulumi.ResourceOptions(depends_on=[data] if alb_waits_for_the_database else [])
    )
    # depends_on the component: the service waits for the database (its tasks need it) and the ALB
    aws.ecs.Service(
        "api",
        cluster="c",
        desired_count=1,
        wait_for_steady_state=True,
        opts=pulumi.ResourceOptions(depends_on=[data, lb]),
    )


def test_critical_path_runs_through_components_and_meets_the_physical_minimum() -> None:
    result = deploytime.estimate(run_program(lambda: _chain_program(False), preview=True).resources)
    assert [s.resource.name for s in result.chain] == ["data-sg", "data-db", "api"]
    assert result.total_seconds == 5 + 900 + 150  # SG, Multi-AZ RDS, ECS service until steady
    # data stores (the ALB in parallel), then services: the program adds only the security group
    assert [(s.kind, s.resource.name) for s in result.unavoidable_chain] == [
        ("data stores", "data-db"),
        ("services", "api"),
    ]
    assert result.unavoidable_seconds == 900 + 150
    assert (result.low_seconds, result.high_seconds) == (5 + 600 + 90, 5 + 1800 + 600)
    text = "\n".join(deploytime.deploytime_lines(result))
    assert "estimated fresh deploy: 17m35s, likely 11m35s to 40m05s (critical path, 3 resources)" in text
    assert "ratio 1.00" in text


def test_a_needless_depends_on_shows_as_a_ratio_above_one() -> None:
    """The ALB needs subnets, not the database: ordering it after RDS puts its 3 minutes on the path."""
    result = deploytime.estimate(run_program(lambda: _chain_program(True), preview=True).resources)
    assert [s.resource.name for s in result.chain] == ["data-sg", "data-db", "alb", "api"]
    assert result.unavoidable_seconds == 900 + 150  # the same resources, the same minimum
    assert result.ratio == pytest.approx((5 + 900 + 180 + 150) / 1050)
    assert result.ratio > 1.1


def test_a_service_takes_time_only_when_the_provider_waits_for_steady_state() -> None:
    """pulumi_aws ecs.Service, ``wait_for_steady_state``: "If true, this provider will wait for the service to
    reach a steady state (like aws ecs wait services-stable) before continuing. Default false." AWS CLI
    reference, ``aws ecs wait services-stable``: until ``length(deployments) == 1 && runningCount ==
    desiredCount``. Without it the create returns once the service exists."""
    times = deploytime.load_create_times()
    waits, _ = times.timing(rr(SERVICE, waitForSteadyState=True))
    returns, _ = times.timing(rr(SERVICE))
    assert (waits.typical, waits.low, waits.high) == (150, 90, 600)
    assert (returns.typical, returns.low, returns.high) == (10, 10, 10)


@pytest.mark.parametrize("fixture", ["staging", "production"])
def test_every_service_waits_for_steady_state(fixture: str, request: pytest.FixtureRequest) -> None:
    """API, worker and scheduler: a deploy that returns before the new tasks run tells the user nothing
    (a crash-looping worker or scheduler would go unnoticed), so `pulumi up` waits for each."""
    stack: Evaluation = request.getfixturevalue(fixture)
    services = {r.name: r.inputs.get("waitForSteadyState") for r in stack.of_type(SERVICE)}
    assert services == {"api-service": True, "worker-service": True, "scheduler-service": True}


def test_committed_stacks_are_data_stores_then_services(stack: Evaluation) -> None:
    result = deploytime.estimate(stack.resources)
    assert [s.kind for s in result.unavoidable_chain] == [
        "vpc",
        "subnets",
        "data stores",
        "services",
        "service scaling",
    ]
    assert result.low_seconds < result.total_seconds < result.high_seconds
    lines = deploytime.deploytime_lines(result)
    if stack.of_type("aws:acm/certificateValidation:CertificateValidation"):  # the ALB origin (production)
        assert lines[-1] == deploytime.NEW_ZONE_NOTE  # the stack validates an ACM certificate by DNS
    else:  # the tunnel origin (staging): no certificate, so no wait for a new zone's validation record
        assert stack.stack == "staging" and deploytime.NEW_ZONE_NOTE not in lines


def test_rules_ranges_and_unlisted_types() -> None:
    times = deploytime.load_create_times()
    assert times.seconds(rr("aws:rds/instance:Instance", multiAz=True)) == (900.0, True)
    assert times.seconds(rr("aws:rds/instance:Instance", multiAz=False)) == (600.0, True)
    assert times.timing(rr("aws:rds/instance:Instance", multiAz=True))[0].high == 1800
    assert times.seconds(rr("aws:dynamodb/table:Table")) == (times.default_seconds, False)
    result = deploytime.estimate([rr("aws:dynamodb/table:Table")])
    assert result.unlisted_types == ["aws:dynamodb/table:Table"]
    assert result.unavoidable_seconds == result.total_seconds == times.default_seconds  # a type of no kind


def test_every_kind_type_has_a_create_time() -> None:
    times = deploytime.load_create_times()
    assert [t for kind in times.kinds for t in kind.types if t not in times.types] == []
    order = [kind.name for kind in times.kinds]
    assert all(order.index(a) < order.index(kind.name) for kind in times.kinds for a in kind.after)


@pytest.mark.parametrize(
    ("kinds", "message"),
    [
        ({"a": {"after": ["b"]}, "b": {"after": ["a"]}}, "kinds: a needs itself (a cycle through 'after')"),
        ({"a": {"types": ["t"]}, "b": {"types": ["t"]}}, "kinds: t is in both a and b"),
        ({"a": {"after": ["nope"]}}, "kinds: a comes after unknown kind(s) nope"),
    ],
)
def test_a_bad_kinds_table_is_refused(kinds: dict[str, dict[str, list[str]]], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        deploytime._kinds(kinds)
    assert str(raised.value) == message


def test_a_range_must_hold_the_typical_time() -> None:
    with pytest.raises(ValueError, match=r"create time 30.0 s lies outside its range 40-60 s"):
        deploytime._timing({"seconds": 30, "range": [40, 60]})
