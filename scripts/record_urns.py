"""Write the URNs of the committed stacks to tests/fixtures/urns/<stack>.txt (one a line, sorted).

Run it when a change adds, removes or renames resources on purpose; the diff then shows exactly which
URNs changed, and a change that should not rename anything (a refactor, a file move) shows none.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "urns"
STACKS = ("staging", "production", "dev")


def urns(stack: str) -> list[str]:
    from preflight.engine import evaluate

    evaluation = evaluate(stack, preview=True)
    if evaluation.error:
        raise SystemExit(f"record_urns: {stack} failed: {evaluation.error}")
    return sorted(r.urn for r in evaluation.resources)


def main() -> int:
    sys.path.insert(0, str(REPO))
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for stack in STACKS:
        (FIXTURES / f"{stack}.txt").write_text("".join(f"{u}\n" for u in urns(stack)))
        print(f"record_urns: wrote tests/fixtures/urns/{stack}.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
