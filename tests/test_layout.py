"""The tree's shape: URNs stay put when code moves, and no module imports itself back through others."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO, stack_evaluation

PACKAGES = ("components", "policies", "preflight")


@pytest.mark.parametrize("stack", ["staging", "production", "dev"])
def test_urns_match_the_recorded_fixture(stack: str) -> None:
    """A refactor renames nothing; a change that adds or removes resources re-records the fixture
    (``python -m scripts.record_urns``) so the diff shows each URN that changed."""
    recorded = (REPO / "tests" / "fixtures" / "urns" / f"{stack}.txt").read_text().split()
    current = sorted(r.urn for r in stack_evaluation(stack, True).resources)
    assert current == recorded


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str, modules: set[str]) -> set[str]:
    """Every first-party module ``path`` imports, at any depth (function-level imports included);
    ``modules`` are the tree's module names."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = {f"{base}.{alias.name}" for alias in node.names}
            found.update(names)
            # `from . import submodule` needs the package only as the submodule's parent, which Python
            # has already begun importing: not an edge back to it. Any other name is read from it.
            if node.module or not names <= modules:
                found.add(base)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {
        _module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py") if ".venv" not in p.parts
    }
    return {m: {i for i in _imports(p, m, set(files)) if i in files and i != m} for m, p in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, ..., a]``, or None. A package importing its own submodules
    (``__init__`` re-exports) is not a cycle unless a submodule imports the package back."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_cycle_finder_sees_a_function_level_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_platform_rooms_do_not_import_each_other() -> None:
    graph = import_graph()
    for module, deps in graph.items():
        for room, other in (("components.aws", "components.local"), ("components.local", "components.aws")):
            if module.startswith(room):
                assert not [d for d in deps if d.startswith(other)], f"{module} imports {other}"
