"""Print the URNs of a stack's three ECS services, one per line: what a deploy excludes from its first
``pulumi up`` so that the migrations run before the services roll
(docs/decisions/migrations-before-traffic.md).

``python -m scripts.service_urns staging``. URNs follow from the stack, the project and the component type
tokens alone, so they are known before the first deploy; a test compares them with the evaluated stacks.
"""

from __future__ import annotations

import sys

from components.aws.services import ApiService, SchedulerService, WorkerService
from preflight.stackfile import project_name

SERVICE_TYPE = "aws:ecs/service:Service"
# The composition's component names (components/aws/stack.py): "<role>"; their services "<role>-service".
SERVICES = (ApiService, WorkerService, SchedulerService)


def service_urns(stack: str, project: str | None = None) -> list[str]:
    project = project or project_name()
    return [
        f"urn:pulumi:{stack}::{project}::saas:app:{cls.component}${SERVICE_TYPE}::{cls.role}-service"
        for cls in SERVICES
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m scripts.service_urns <stack>", file=sys.stderr)
        return 2
    print("\n".join(service_urns(argv[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
