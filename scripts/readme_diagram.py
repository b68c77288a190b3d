"""Put the production topology, as ``python -m preflight production`` draws it, into README.md.

``python -m scripts.readme_diagram`` prints the Mermaid block; ``--write`` replaces the one between the
``<!-- diagram:start -->`` and ``<!-- diagram:end -->`` markers. A test keeps README and preflight equal, so
the README never shows a topology the program does not build.
"""

from __future__ import annotations

import sys
from pathlib import Path

from preflight import diagram
from preflight.engine import Evaluation, evaluate
from preflight.report import ordered

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- diagram:start -->", "<!-- diagram:end -->"


def block(evaluation: Evaluation) -> str:
    return f"```mermaid\n{diagram.mermaid(ordered(evaluation.resources))}\n```"


def current(readme: str) -> str:
    return readme.split(START, 1)[1].split(END, 1)[0].strip()


def main(argv: list[str]) -> int:
    text = block(evaluate("production", preview=True))
    if "--write" not in argv:
        print(text)
        return 0
    readme = README.read_text()
    head, rest = readme.split(START, 1)
    README.write_text(f"{head}{START}\n{text}\n{END}{rest.split(END, 1)[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
