"""The committed stacks against the facts read from the app repository (tests/fixtures/app-contract.yaml).

Each command names a script the app has, each variable the app needs reaches every task, nothing the app
treats as secret is plain, nothing the app does not read is created. Refresh the facts when the app
changes (README "Refreshing the app facts"); a stack that no longer matches them fails here.
"""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from typing import Any

import pytest
import yaml

from components.aws.edge.tunnel import CONTAINER_NAME as SIDECAR
from components.config import load, looks_secret
from components.specs import POSTGRES_ECS_SECRETS, REDIS_ECS_SECRETS, WRITABLE_HOME_ENV
from preflight.engine import Evaluation
from preflight.model import SECRET_SIG, UNKNOWN
from preflight.stackfile import REPO_ROOT, load_stack_config

FACTS_PATH = REPO_ROOT / "tests" / "fixtures" / "app-contract.yaml"
APP_ROLES = ("api", "worker", "scheduler")
STACKS = ("staging", "production", "dev")
TASK_DEF = "aws:ecs/taskDefinition:TaskDefinition"
CONTAINER = "docker:index/container:Container"
# What the platform adds that the app itself does not read: npm's writable HOME and cache (the root file
# system is read-only) and the data tier's connection parts beside DATABASE_URL / REDIS_URL.
PLATFORM_EXTRAS = {
    *WRITABLE_HOME_ENV,
    *POSTGRES_ECS_SECRETS,
    *REDIS_ECS_SECRETS,
    "DATABASE_PORT",
    "DATABASE_NAME",
    "DATABASE_USER",
    "DATABASE_SSLMODE",
    "REDIS_PORT",
    "REDIS_TLS",
}


@cache
def facts() -> dict[str, Any]:
    return yaml.safe_load(FACTS_PATH.read_text())


def app_container(task: Any) -> dict[str, Any]:
    """The task's app container: every container but the tunnel's cloudflared sidecar (edge.origin tunnel)."""
    (c,) = [c for c in json.loads(task.inputs["containerDefinitions"]) if c["name"] != SIDECAR]
    return c


def stack_file(stack: str) -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


def received(evaluation: Evaluation) -> dict[str, tuple[set[str], set[str]]]:
    """role -> (plain variable names, secret variable names) each app task or container receives."""
    if evaluation.stack == "dev":
        out = {}
        for role in APP_ROLES:
            (c, *_) = [r for r in evaluation.of_type(CONTAINER) if r.name.startswith(f"{role}-container")]
            plain, secret = set(), set()
            for entry in c.inputs["envs"]:
                is_secret = isinstance(entry, dict) and SECRET_SIG in entry
                text = str(entry["value"] if is_secret else entry)
                assert text != UNKNOWN
                (secret if is_secret else plain).add(text.partition("=")[0])
            out[role] = (plain, secret)
        return out
    tasks = {t.inputs["tags"]["role"]: t for t in evaluation.of_type(TASK_DEF)}
    out = {}
    for role in APP_ROLES:
        c = app_container(tasks[role])
        out[role] = ({e["name"] for e in c["environment"]}, {s["name"] for s in c["secrets"]})
    return out


@pytest.fixture(params=STACKS)
def evaluated(request: pytest.FixtureRequest) -> Evaluation:
    from tests.conftest import stack_evaluation

    # up mode: the dev stack's secret values are known, so every entry can be read
    return stack_evaluation(request.param, False)


# ---------------------------------------------------------------------------------------------------------
# The facts themselves


def test_facts_name_the_commits_they_were_read_at() -> None:
    f = facts()
    commits = [f["checkout_commit"], *f["read_at"].values()]
    assert all(re.fullmatch(r"[0-9a-f]{40}", c) for c in commits)
    assert f["read_at"]["apps/api/package.json"] == f["checkout_commit"]  # the scripts come from the pin


def test_the_app_checkout_pins_the_commit_of_the_facts() -> None:
    """The build context `app` is a submodule at exactly the commit the scripts were read at."""
    line = subprocess.run(
        ["git", "ls-files", "--stage", "app"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert line[0] == "160000" and line[1] == facts()["checkout_commit"]
    modules = (REPO_ROOT / ".gitmodules").read_text()
    assert "path = app" in modules and f"url = {facts()['repository']}.git" in modules


# ---------------------------------------------------------------------------------------------------------
# Commands, ports, health path, route prefix


@pytest.mark.parametrize("stack", STACKS)
def test_every_command_names_a_script_the_app_has(stack: str) -> None:
    cfg = load(load_stack_config(stack))
    scripts = facts()["scripts"]
    for role in APP_ROLES:
        command = getattr(cfg, role).command
        assert command is not None and command[:2] == ["npm", "run"], (role, command)
        assert command[2] in scripts, f"{stack} {role}: npm run {command[2]} names no script of the app"
        assert command[2] == facts()["services"][role]["script"], (role, command)
    # start:api runs the build output the image keeps (and the Dockerfile checks it exists)
    assert scripts["start:api"] == f"node {facts()['build_output']}"


@pytest.mark.parametrize("stack", STACKS)
def test_migrations_run_the_prisma_cli_of_the_image_never_a_download(stack: str) -> None:
    """npm exec (npx): "When standard input is not a TTY or a CI environment is detected, --yes is
    assumed" and a missing package is downloaded (docs.npmjs.com/cli/commands/npx): ``--no`` refuses."""
    migrate = load(load_stack_config(stack)).app.migrate_command
    assert migrate is not None and migrate[:2] == ["npx", "--no"]
    assert migrate[2] in facts()["binaries"]
    assert " ".join(migrate[2:]) == facts()["migrations"]["command"]


@pytest.mark.parametrize("stack", STACKS)
def test_port_health_path_and_route_prefix_match_the_app(stack: str) -> None:
    cfg = load(load_stack_config(stack))
    api = facts()["services"]["api"]
    assert (cfg.api.port, cfg.api.health_check_path) == (api["port"], facts()["health_path"])
    assert cfg.app.route_prefix == facts()["route_prefix"]
    assert cfg.worker.replicas == facts()["services"]["worker"]["replicas"]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_the_edge_auth_limit_covers_every_real_auth_route(stack: str) -> None:
    cfg = load(load_stack_config(stack))
    prefix = cfg.edge.auth_rate_limit.path_prefix
    assert prefix is not None
    for route in facts()["auth_routes"]:
        assert route.startswith(prefix), f"{stack}: the auth limit {prefix} never sees {route}"


@pytest.mark.parametrize("stack", STACKS)
def test_a_bullmq_queue_gets_a_redis_that_never_evicts(stack: str) -> None:
    """BullMQ, Going to production, "Max memory policy": noeviction is "the only setting that guarantees the
    correct behavior of the queues" (https://docs.bullmq.io/guide/going-to-production)."""
    cfg = load(load_stack_config(stack))
    assert cfg.app.queue == facts()["queue"] == "bullmq"
    assert cfg.redis.maxmemory_policy == "noeviction"


# ---------------------------------------------------------------------------------------------------------
# Variables


def test_each_required_variable_reaches_every_task(evaluated: Evaluation) -> None:
    required = {n for n, v in facts()["variables"].items() if v["required"]}
    declared = set(load(load_stack_config(evaluated.stack)).app.required_env)
    assert required <= declared, f"{evaluated.stack}: app.requiredEnv lacks {sorted(required - declared)}"
    for role, (plain, secret) in received(evaluated).items():
        missing = required - plain - secret
        assert not missing, f"{evaluated.stack} {role} does not receive {sorted(missing)}"


def test_nothing_secret_is_plain(evaluated: Evaluation) -> None:
    secret_facts = {n for n, v in facts()["variables"].items() if v["secret"]}
    for role, (plain, _) in received(evaluated).items():
        assert not plain & secret_facts, (evaluated.stack, role, sorted(plain & secret_facts))
        assert not [n for n in plain if looks_secret(n)], (evaluated.stack, role)


def test_every_variable_a_task_receives_is_the_apps_or_the_platforms(evaluated: Evaluation) -> None:
    known = set(facts()["variables"]) | set(facts()["documented_only"]) | PLATFORM_EXTRAS | {"ENCRYPTION_KEY"}
    for role, (plain, secret) in received(evaluated).items():
        unknown = (plain | secret) - known
        assert not unknown, f"{evaluated.stack} {role} receives {sorted(unknown)}, which the app never reads"
        assert not (plain | secret) & set(facts()["not_read"])


@pytest.mark.parametrize("stack", STACKS)
def test_only_secrets_the_app_reads_are_created(stack: str) -> None:
    names = load(load_stack_config(stack)).secret_names
    read = {n for n, v in facts()["variables"].items() if v["secret"] or n == "GOOGLE_CLIENT_ID"}
    assert set(names) <= read, sorted(set(names) - read)
    assert "SENDGRID_API_KEY" not in names


def test_the_dev_stack_runs_the_same_contract_as_staging() -> None:
    from tests.conftest import stack_evaluation

    dev, staging = stack_evaluation("dev", False), stack_evaluation("staging", False)
    for role in APP_ROLES:
        d_plain, d_secret = received(dev)[role]
        s_plain, s_secret = received(staging)[role]
        assert d_plain | d_secret == s_plain | s_secret, role
    d_cfg, s_cfg = load(load_stack_config("dev")), load(load_stack_config("staging"))
    for role in APP_ROLES:
        assert getattr(d_cfg, role).command == getattr(s_cfg, role).command
        d_src, s_src = getattr(d_cfg, role).source, getattr(s_cfg, role).source
        assert (
            (d_src.context, d_src.dockerfile_path)
            == (s_src.context, s_src.dockerfile_path)
            == (
                "app",
                "images/escalating-reminders-api/Dockerfile",
            )
        )
    assert d_cfg.app == s_cfg.app


def test_the_readme_table_lists_every_variable_each_task_receives() -> None:
    """README "What every task receives": exactly the names the staging tasks get, plain or secret."""
    from tests.conftest import stack_evaluation

    text = (REPO_ROOT / "README.md").read_text()
    table = text.split("<!-- task-variables:start -->")[1].split("<!-- task-variables:end -->")[0]
    listed: dict[str, str] = {}
    for row in table.strip().splitlines()[2:]:
        names, kind = row.split("|")[1:3]
        for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", names):
            listed[name] = kind.strip()
    for role, (plain, secret) in received(stack_evaluation("staging", False)).items():
        assert {n for n, k in listed.items() if k == "plain"} == plain, role
        assert {n for n, k in listed.items() if k == "secret"} == secret, role


def test_a_different_app_deploys_by_editing_the_stack_file_only() -> None:
    """Neutral code defaults: no app section, another command and port, no migrations, no queue."""
    from preflight.engine import evaluate

    api = {**stack_file("staging")["saas-backend:api"], "command": ["node", "server.js"], "port": 8080}
    evaluation = evaluate(
        "staging",
        preview=True,
        overrides={
            "saas-backend:app": None,
            "saas-backend:api": api,
            "saas-backend:env": {"CORS_ORIGIN": "https://example.dev"},
            "saas-backend:secretNames": [],
        },
    )
    assert evaluation.error is None, evaluation.error
    assert evaluation.outputs.get("migrateCommand") is None
    plain, secret = received(evaluation)["api"]
    assert "GOOGLE_CLIENT_SECRET" not in secret and "SMTP_HOST" not in plain
    tasks = {t.inputs["tags"]["role"]: t for t in evaluation.of_type(TASK_DEF)}
    c = app_container(tasks["api"])
    assert c["command"] == ["node", "server.js"] and c["portMappings"][0]["containerPort"] == 8080
    egress = evaluation.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert not [r for r in egress if r.inputs.get("fromPort") == 587]  # no SMTP_HOST, no SMTP port


def test_an_app_checkout_not_initialised_is_named(tmp_path: Any) -> None:
    from components.images import empty_context_warnings

    (tmp_path / "app").mkdir()
    (tmp_path / "built").mkdir()
    (tmp_path / "built" / "package.json").write_text("{}")
    warnings = empty_context_warnings(
        {"api": str(tmp_path / "app"), "worker": str(tmp_path / "built"), "scheduler": None}
    )
    assert warnings == [
        f"api.source.context {tmp_path / 'app'} is empty, so its image cannot build: a submodule not "
        "checked out? run `git submodule update --init`"
    ]
