"""Print the URNs of a stack's three ECS services, one per line: what a deploy excludes from its first
``pulumi up`` so that the migrations run before the services roll
(docs/decisions/migrations-before-traffic.md).

``python -m scripts.service_urns staging``. URNs follow from the stack, the project and the component type
tokens alone, so they are known before the first deploy; a test compares them with the evaluated stacks.
"""

from __future__ import annotations

import sys

from components.aws.service_names import SERVICE_COMPONENTS
from preflight.stackfile import project_name

SERVICE_TYPE = "aws:ecs/service:Service"


def service_urns(stack: str, project: str | None = None) -> list[str]:
    project = project or project_name()
    return [
        f"urn:pulumi:{stack}::{project}::saas:app:{component}${SERVICE_TYPE}::{role}-service"
        for role, component in SERVICE_COMPONENTS.items()
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m scripts.service_urns <stack>", file=sys.stderr)
        return 2
    print("\n".join(service_urns(argv[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
