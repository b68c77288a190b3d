"""The operator commands the stack exports: start a backup now, start a restore (placeholders to fill)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ...common import Deployment
from .naming import CONTAINER


def run_task_command(
    d: Deployment,
    cluster_name: str,
    family: str,
    subnet_ids: Sequence[str],
    security_group_id: str,
    overrides: dict[str, Any] | None = None,
) -> str:
    """The ``aws ecs run-task`` command that starts one task of ``family`` the way the schedule does."""
    network = (
        f"awsvpcConfiguration={{subnets=[{','.join(subnet_ids)}],"
        f"securityGroups=[{security_group_id}],assignPublicIp=DISABLED}}"
    )
    parts = [
        "aws ecs run-task",
        f"--region {d.region}",
        f"--cluster {cluster_name}",
        f"--task-definition {family}",
        "--launch-type FARGATE",
        f"--network-configuration '{network}'",
    ]
    if overrides is not None:
        parts.append(f"--overrides '{json.dumps(overrides, separators=(',', ':'))}'")
    return " ".join(parts)


def restore_overrides() -> dict[str, Any]:
    """Container overrides naming the dump and the target database (placeholders to replace)."""
    return {
        "containerOverrides": [
            {
                "name": CONTAINER,
                "environment": [
                    {"name": "RESTORE_KEY", "value": "<RESTORE_KEY>"},
                    {"name": "RESTORE_TARGET_DATABASE", "value": "<RESTORE_TARGET_DATABASE>"},
                ],
            }
        ]
    }
