"""Regenerate ``saas_guardrails/aws_taggable.py``: every pulumi-aws resource type with a ``tags`` map input.

The pack process does not depend on pulumi-aws (the CLI starts it with only ``requirements.txt``), so the
list is generated from the pulumi-aws SDK the program pins and committed. Run after bumping pulumi-aws:

    uv run python policies/tools/generate_aws_taggable.py

``tests/policies`` fails when the committed list and the installed SDK disagree.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "saas_guardrails" / "aws_taggable.py"

_TYPE_TOKEN = re.compile(r"super\(\w+, __self__\)\.__init__\(\s*'(aws:[^']+)'")
_TAGS_MAP_INPUT = re.compile(r"^\s+tags: pulumi\.Input\[Optional\[Mapping\[str,", re.MULTILINE)
_TAGS_PROP = '__props__.__dict__["tags"] = tags'


def pulumi_aws_dir() -> Path:
    spec = importlib.util.find_spec("pulumi_aws")
    if spec is None or spec.origin is None:
        raise SystemExit("pulumi_aws is not installed in this environment (run `uv sync`)")
    return Path(spec.origin).parent


def taggable_types(package_dir: Path) -> set[str]:
    """Type tokens of resources whose constructor takes ``tags: Mapping[str, str]``."""
    found: set[str] = set()
    for path in package_dir.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if _TAGS_PROP not in text or not _TAGS_MAP_INPUT.search(text):
            continue
        found.update(_TYPE_TOKEN.findall(text))
    return found


def render(types: set[str], version: str) -> str:
    lines = [
        f'"""pulumi-aws {version} resource types that take a ``tags`` map (generated, do not edit).',
        "",
        "Regenerate with ``uv run python policies/tools/generate_aws_taggable.py``.",
        '"""',
        "",
        f'PULUMI_AWS_VERSION = "{version}"',
        "",
        "AWS_TAGGABLE_TYPES = frozenset(",
        "    {",
        *(f'        "{t}",' for t in sorted(types)),
        "    }",
        ")",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    types = taggable_types(pulumi_aws_dir())
    OUTPUT.write_text(render(types, importlib.metadata.version("pulumi-aws")), encoding="utf-8")
    print(f"wrote {len(types)} types to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
