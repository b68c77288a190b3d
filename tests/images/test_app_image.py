"""images/escalating-reminders-api/Dockerfile read as text: the properties the stacks rely on.

No Docker engine here, so the build itself is not run (README "The app contract"); what is checked is
that the Dockerfile says what the task definitions and the migration task assume.
"""

from __future__ import annotations

import re
from functools import cache

import yaml

from preflight.stackfile import REPO_ROOT

IMAGE_DIR = REPO_ROOT / "images" / "escalating-reminders-api"
FACTS = REPO_ROOT / "tests" / "fixtures" / "app-contract.yaml"


@cache
def stages() -> dict[str, list[str]]:
    """Stage name -> its instructions (continuation lines joined, comments dropped)."""
    text = (IMAGE_DIR / "Dockerfile").read_text().replace("\\\n", " ")
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.IGNORECASE)
        if m:
            current = m.group(1)
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


def test_multi_stage_with_a_runtime_stage_last() -> None:
    assert list(stages()) == ["base", "build", "runtime"]


def test_install_skips_the_root_prepare_script_and_runs_only_the_needed_install_scripts() -> None:
    """The app's root `prepare` is `husky install`, which fails without .git: `npm ci --ignore-scripts`,
    then bcrypt's binding and Prisma's engines explicitly."""
    facts = yaml.safe_load(FACTS.read_text())
    assert facts["root_prepare"] == "husky install"
    build = " ".join(stages()["build"])
    assert "npm ci --ignore-scripts" in build
    assert "npm rebuild bcrypt prisma @prisma/engines" in build
    assert "npx --no prisma generate" in build


def test_the_build_checks_the_output_path_start_api_runs() -> None:
    facts = yaml.safe_load(FACTS.read_text())
    build = " ".join(stages()["build"])
    assert f"test -f {facts['build_output']}" in build
    assert facts["scripts"]["start:api"] == f"node {facts['build_output']}"


def test_runtime_runs_unprivileged_with_the_prisma_cli_and_a_writable_home() -> None:
    runtime = stages()["runtime"]
    users = [line.split()[1] for line in runtime if line.upper().startswith("USER ")]
    assert users == ["node"]  # the node image's unprivileged user, set once, last
    copies = " ".join(line for line in runtime if line.startswith("COPY"))
    # node_modules whole: prisma and @prisma/client are devDependencies of the app, the migration runs them
    assert "/app/node_modules ./node_modules" in copies and "--chown" not in copies
    assert "/app/apps/api/prisma" in copies and "/app/apps/api/dist" in copies
    env = " ".join(line for line in runtime if line.startswith("ENV"))
    assert "HOME=/tmp" in env and "NPM_CONFIG_CACHE=/tmp/.npm" in env
    assert runtime[-1] == 'CMD ["npm", "run", "start:api"]'


def test_the_build_context_leaves_out_dependencies_git_and_env_files() -> None:
    """BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile; the app's ConfigModule would read a
    stray .env at runtime."""
    ignored = (IMAGE_DIR / "Dockerfile.dockerignore").read_text().splitlines()
    for pattern in ("**/node_modules", ".git", "**/.env", "**/.env.*", "!**/.env.example"):
        assert pattern in ignored, pattern
