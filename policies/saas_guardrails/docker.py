"""Docker rules: what is meaningful for the local dev stack (``platform: docker``).

The AWS rules match ``aws:`` types only and stay silent on it; these match Docker containers
(``docker:index/container:Container``) and stay silent on the AWS stacks. The scheduler is the same
singleton as on ECS (``scheduler-exactly-one`` counts its containers): one container that Docker restarts
after a crash and that serves nothing. And a dev machine's databases are reachable from that machine only:
Docker publishes on every interface (and around host firewalls such as ufw) unless a port is bound to
loopback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import Report, as_list, as_map, show

DOCKER_CONTAINER = "docker:index/container:Container"
SCHEDULER_ROLE = "scheduler"
RESTARTING_POLICIES = ("always", "unless-stopped")
LOOPBACK_IPS = frozenset({"127.0.0.1", "::1"})


def label_values(props: Mapping[str, Any], key: str) -> list[str]:
    """The values of Docker label ``key`` (or ``<prefix>.<key>``) of a container."""
    values: list[str] = []
    for entry in as_list(props.get("labels")):
        item = as_map(entry)
        if item is None:
            continue
        name, value = item.get("label"), item.get("value")
        if isinstance(name, str) and (name == key or name.endswith("." + key)) and isinstance(value, str):
            values.append(value)
    return values


def is_scheduler_container(name: str, props: Mapping[str, Any]) -> bool:
    """A container labelled role=scheduler, or whose logical name is ``scheduler`` or ends in
    ``-scheduler``."""
    if name == SCHEDULER_ROLE or name.endswith("-" + SCHEDULER_ROLE):
        return True
    return SCHEDULER_ROLE in label_values(props, "role")


def _check_scheduler_container(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != DOCKER_CONTAINER or not is_scheduler_container(args.name, args.props):
        return
    props = args.props
    who = f"Docker container '{args.name}' (role=scheduler)"
    restart = props.get("restart")
    if restart not in RESTARTING_POLICIES:
        shown = show(restart) if restart is not None else 'unset (Docker default "no")'
        report(
            f"{who} has restart {shown}; it must be always or unless-stopped, or a crashed scheduler stays "
            "down and no job runs."
        )
    ports = as_list(props.get("ports"))
    if ports or props.get("publishAllPorts") is True:
        report(
            f"{who} publishes ports {show(ports or 'all')}; the scheduler serves nothing and publishes none."
        )
    if props.get("mustRun") is False:
        report(f"{who} has mustRun false; the scheduler must be kept running.")


docker_scheduler_container = ResourceValidationPolicy(
    name="docker-scheduler-container",
    description=(
        "The scheduler's Docker container (label role=scheduler) is kept running and restarted by Docker "
        "(restart always/unless-stopped, mustRun not false) and publishes no port."
    ),
    validate=_check_scheduler_container,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Create it with LocalScheduler (components/local/app.py): one container, "
    "restart=unless-stopped, no ports, no replicas argument.",
)


def _check_loopback(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != DOCKER_CONTAINER:
        return
    props = args.props
    who = f"Docker container '{args.name}'"
    if props.get("networkMode") == "host":
        report(f"{who} uses the host network: every port it listens on is open on the machine's interfaces.")
    if props.get("publishAllPorts") is True:
        report(f"{who} has publishAllPorts true: every exposed port is published on all interfaces.")
    for entry in as_list(props.get("ports")):
        port = as_map(entry)
        if port is None:
            continue
        ip = port.get("ip")
        if ip not in LOOPBACK_IPS:
            where = show(ip) if ip not in (None, "") else "unset (Docker default 0.0.0.0, every interface)"
            report(
                f"{who} publishes port {show(port.get('internal'))} as {show(port.get('external'))} on ip "
                f"{where}; bind it to 127.0.0.1."
            )


docker_ports_loopback = ResourceValidationPolicy(
    name="docker-ports-loopback",
    description=(
        "Docker containers publish ports on loopback only (ip 127.0.0.1 or ::1), never with publishAllPorts "
        "or the host network."
    ),
    validate=_check_loopback,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)


def _check_privileged(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == DOCKER_CONTAINER and args.props.get("privileged") is True:
        report(f"Docker container '{args.name}' has privileged: true.")


docker_no_privileged_containers = ResourceValidationPolicy(
    name="docker-no-privileged-containers",
    description="Docker containers never run privileged.",
    validate=_check_privileged,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)


def _check_queue_redis(args: ResourceValidationArgs, report: Report) -> None:
    # BullMQ, Going to production, "Max memory policy": noeviction "is the only setting that guarantees the
    # correct behavior of the queues" (https://docs.bullmq.io/guide/going-to-production). Redis's own
    # default is noeviction (redis.conf), so only a policy set on the command line can break it.
    if args.resource_type != DOCKER_CONTAINER:
        return
    queues = label_values(args.props, "queue")
    if not queues:
        return
    command = " ".join(str(part) for part in as_list(args.props.get("command")))
    found = re.search(r"--maxmemory-policy\s+(\S+)", command)
    if found is not None and found.group(1) != "noeviction":
        report(
            f"Docker container '{args.name}' serves the {queues[0]} queue and runs Redis with "
            f"--maxmemory-policy {found.group(1)}; a queue needs noeviction."
        )


docker_queue_redis_noeviction = ResourceValidationPolicy(
    name="docker-queue-redis-noeviction",
    description="A Redis container labelled `queue` never evicts keys (maxmemory-policy noeviction).",
    validate=_check_queue_redis,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

POLICIES = [
    docker_scheduler_container,
    docker_ports_loopback,
    docker_no_privileged_containers,
    docker_queue_redis_noeviction,
]
