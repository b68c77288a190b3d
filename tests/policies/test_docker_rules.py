"""The pack on the dev stack (Docker containers): the docker rules judge it, the AWS rules stay silent."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from policies.saas_guardrails import ALL_POLICIES
from policies.saas_guardrails.docker import POLICIES as DOCKER_POLICIES
from preflight.analyzer import Violation
from preflight.model import RecordedResource

from .builders import DOCKER_CONTAINER, explain, good_dev_stack, good_stack, policies_of, res, with_inputs

Analyze = Callable[[Sequence[RecordedResource]], list[Violation]]
EVICTING_REDIS = ["sh", "-c", "exec redis-server --maxmemory 256mb --maxmemory-policy volatile-lru"]


def test_dev_stack_passes_every_policy(analyze: Analyze) -> None:
    violations = analyze(good_dev_stack())
    assert violations == [], explain(violations)


def test_aws_rules_stay_silent_on_a_broken_dev_stack(analyze: Analyze) -> None:
    """Everything wrong at once with the containers: only docker rules and the scheduler count speak."""
    broken = with_inputs(good_dev_stack(), "api-container", privileged=True, ports=[{"internal": 3801}])
    broken = with_inputs(broken, "scheduler-container", restart="no")
    broken = with_inputs(broken, "redis-container", command=EVICTING_REDIS)
    violations = analyze(broken)
    docker_names = {p.name for p in DOCKER_POLICIES}
    assert policies_of(violations) == docker_names, explain(violations)


def test_docker_rules_stay_silent_on_the_aws_stacks(analyze: Analyze) -> None:
    for env in ("staging", "production"):
        violations = analyze(good_stack(env))
        assert not policies_of(violations) & {p.name for p in DOCKER_POLICIES}, explain(violations)


def test_ipv6_loopback_is_loopback(analyze: Analyze) -> None:
    stack = with_inputs(
        good_dev_stack(), "api-container", ports=[{"internal": 3801, "external": 3801, "ip": "::1"}]
    )
    assert analyze(stack) == []


def test_a_second_scheduler_container_breaks_the_singleton(analyze: Analyze) -> None:
    second = res(
        DOCKER_CONTAINER,
        "scheduler-2-container",
        {"image": "x", "restart": "unless-stopped", "labels": [{"label": "role", "value": "scheduler"}]},
    )
    violations = analyze([*good_dev_stack(), second])
    assert policies_of(violations) == {"scheduler-exactly-one"}, explain(violations)
    assert "2 schedulers in the stack" in violations[0].message


def test_a_dev_stack_without_scheduler_fails(analyze: Analyze) -> None:
    stack = [r for r in good_dev_stack() if r.name != "scheduler-container"]
    violations = analyze(stack)
    assert policies_of(violations) == {"scheduler-exactly-one"}, explain(violations)


def test_only_the_scheduler_must_restart(analyze: Analyze) -> None:
    """A one-shot setup container (restart no, not kept running) is fine: it is not the scheduler."""
    stack = good_dev_stack()
    setup = next(r for r in stack if r.name == "object-store-setup")
    assert setup.inputs["restart"] == "no" and setup.inputs["mustRun"] is False
    assert analyze(stack) == []


def test_the_docker_rules_are_in_the_pack() -> None:
    names = [p.name for p in ALL_POLICIES]
    for policy in DOCKER_POLICIES:
        assert names.count(policy.name) == 1


def test_a_queue_redis_that_evicts_fails(analyze: Analyze) -> None:
    """BullMQ, Going to production, "Max memory policy": a queue's Redis must run noeviction."""
    violations = analyze(with_inputs(good_dev_stack(), "redis-container", command=EVICTING_REDIS))
    assert policies_of(violations) == {"docker-queue-redis-noeviction"}, explain(violations)
    assert "serves the bullmq queue and runs Redis with --maxmemory-policy volatile-lru" in (
        violations[0].message
    )
