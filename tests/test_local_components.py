"""The local (Docker) components in isolation: input validation with one-line errors, image sharing and
builds, the app environment, and the schedule check agreeing with pg-backup's own parser."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.config import ImageSource, load
from components.local.app import (
    LocalAppEnvironment,
    LocalAppSecrets,
    LocalAppSecretsArgs,
    LocalImages,
    LocalImagesArgs,
    LocalScheduler,
    LocalSchedulerArgs,
    LocalService,
    LocalServiceArgs,
    local_app_environment,
)
from components.local.backups import locally_supported
from components.local.common import env_list, local_deployment
from components.local.network import LocalNetwork, LocalNetworkArgs
from preflight.engine import Evaluation, run_program
from preflight.stackfile import REPO_ROOT, load_stack_config

DEV = load(load_stack_config("dev"))
SCHEDULER_IMAGE = "ghcr.io/acme/scheduler:2.0.0@sha256:" + "ab" * 32
D = local_deployment(DEV)
IMAGE = "docker:index/remoteImage:RemoteImage"
CONTAINER = "docker:index/container:Container"
APP = LocalAppEnvironment(variables={"PORT": "3801"}, secrets={"JWT_SECRET": "x" * 64})


def run(program: Any, preview: bool = True) -> Evaluation:
    return run_program(program, stack="dev", preview=preview)


def service_args(network: LocalNetwork, **changes: Any) -> LocalServiceArgs:
    base: dict[str, Any] = {
        "deployment": D,
        "network": network,
        "image_id": "sha256:abc",
        "image_ref": "ghcr.io/acme/api:1.0.0@sha256:" + "cd" * 32,
        "app": APP,
        "role": "worker",
    }
    return LocalServiceArgs(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"role": "api", "port": 3801, "replicas": 2},
            "LocalService: replicas is 2; a published port (3801)",
        ),
        ({"role": "scheduler"}, "LocalService: role is 'scheduler'; the scheduler is a LocalScheduler"),
        ({"role": "Worker"}, "LocalService: role is 'Worker'; must be a lowercase name"),
        ({"replicas": 0}, "LocalService: replicas is 0; must be 1..10"),
        ({"role": "api", "port": 80}, "LocalService: port is 80; must be 1024..65535"),
        ({"health_check_path": "/health"}, "LocalService: health_check_path is '/health'; needs a port"),
    ],
)
def test_service_inputs_are_validated(changes: dict[str, Any], message: str) -> None:
    def program() -> None:
        network = LocalNetwork("network", LocalNetworkArgs(deployment=D))
        LocalService("svc", service_args(network, **changes))

    evaluation = run(program)
    assert evaluation.error is not None
    assert message in evaluation.error
    assert "\n" not in evaluation.error
    assert not evaluation.of_type(CONTAINER)


def test_worker_replicas_are_containers_and_the_scheduler_is_one() -> None:
    def program() -> None:
        network = LocalNetwork("network", LocalNetworkArgs(deployment=D))
        LocalService("worker", service_args(network, replicas=3))
        common = {k: v for k, v in vars(service_args(network)).items() if k not in ("role", "replicas")}
        common = {k: v for k, v in common.items() if k not in ("port", "health_check_path")}
        LocalScheduler("scheduler", LocalSchedulerArgs(**common))

    evaluation = run(program)
    assert evaluation.ok, evaluation.error
    names = sorted(r.inputs["name"] for r in evaluation.of_type(CONTAINER))
    assert names == [
        "escalating-reminders-dev-scheduler",
        "escalating-reminders-dev-worker-1",
        "escalating-reminders-dev-worker-2",
        "escalating-reminders-dev-worker-3",
    ]


def test_scheduler_args_refuse_replicas() -> None:
    kwargs: dict[str, Any] = {"deployment": D, "image_id": "x", "image_ref": "x", "app": APP, "replicas": 2}
    with pytest.raises(TypeError, match="replicas"):
        LocalSchedulerArgs(network=None, **kwargs)  # type: ignore[arg-type]


def test_one_pull_per_distinct_image_and_one_build_per_context(tmp_path: Path) -> None:
    context = tmp_path / "app"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\n")
    sources = {
        "api": ImageSource(context=str(context)),
        "worker": ImageSource(context=str(context)),
        "scheduler": ImageSource(image=SCHEDULER_IMAGE),
    }

    def program() -> None:
        images = LocalImages("images", LocalImagesArgs(deployment=D, sources=sources))
        pulumi.export("refs", images.image_refs)

    evaluation = run(program, preview=False)
    assert evaluation.ok, evaluation.error
    built = [r for r in evaluation.of_type(IMAGE) if "build" in r.inputs]
    pulled = [r for r in evaluation.of_type(IMAGE) if "build" not in r.inputs]
    assert [r.inputs["name"] for r in pulled] == [SCHEDULER_IMAGE]
    assert pulled[0].inputs["keepLocally"] is True
    (build,) = built
    assert build.inputs["build"]["context"] == str(context.resolve())
    refs = evaluation.outputs["refs"]
    assert refs["api"] == refs["worker"] == build.inputs["name"]
    assert refs["api"].startswith("escalating-reminders-dev/api:sha-")

    # A changed file renames the image (content-hash tag), which rebuilds it.
    (context / "index.js").write_text("console.log(1)\n")
    again = run(program, preview=False)
    assert again.outputs["refs"]["api"] != refs["api"]


def test_a_build_context_without_dockerfile_is_refused(tmp_path: Path) -> None:
    def program() -> None:
        LocalImages(
            # model_construct skips the config validation (which refuses it too): the component checks itself.
            "images",
            LocalImagesArgs(
                deployment=D, sources={"api": ImageSource.model_construct(context=str(tmp_path))}
            ),
        )

    evaluation = run(program)
    assert evaluation.error is not None
    assert (
        "LocalImages: dockerfile is 'Dockerfile'; must be a file relative to the build context"
        in evaluation.error
    )


def test_app_secrets_reuse_the_aws_reserved_names() -> None:
    def program() -> None:
        LocalAppSecrets("app-secrets", LocalAppSecretsArgs(deployment=D, secret_names=["DATABASE_URL"]))

    evaluation = run(program)
    assert evaluation.error is not None
    assert "LocalAppSecrets: secret_names[0] is 'DATABASE_URL'; the name is reserved (set by Postgres)" in (
        evaluation.error
    )


def test_app_secrets_generate_the_aws_keys_and_read_third_party_ones() -> None:
    def program() -> None:
        secrets = LocalAppSecrets(
            "app-secrets",
            LocalAppSecretsArgs(
                deployment=D,
                secret_names=["SENDGRID_API_KEY", "SENTRY_DSN"],
                environ={"SENTRY_DSN": "https://x"},
            ),
        )
        pulumi.export("values", secrets.values)
        pulumi.export("missing", secrets.missing_names)

    evaluation = run(program, preview=False)
    assert evaluation.ok, evaluation.error
    generated = evaluation.of_type("random:index/randomBytes:RandomBytes")
    assert sorted(r.name for r in generated) == [
        "app-secrets-encryption-key-value",
        "app-secrets-jwt-refresh-secret-value",
        "app-secrets-jwt-secret-value",
    ]
    assert all(r.inputs["length"] == 32 for r in generated)
    values = evaluation.outputs["values"]
    assert values["SENTRY_DSN"] == "https://x"
    assert values["SENDGRID_API_KEY"] == ""
    assert evaluation.outputs["missing"] == ["SENDGRID_API_KEY"]
    assert "values" in evaluation.secret_outputs


def test_local_app_environment_is_the_aws_one_plus_local_secret_values() -> None:
    app = local_app_environment(
        DEV, env_parts=[{"DATABASE_PORT": "5432"}], secret_parts=[{"JWT_SECRET": "s"}]
    )
    assert app.variables["DATABASE_PORT"] == "5432" and "API_URL" not in app.variables
    assert app.variables["PORT"] == "3801"
    assert app.names == sorted([*app.variables, "JWT_SECRET"])


@pytest.mark.parametrize(
    ("env_parts", "secret_parts", "message"),
    [
        ([], [{"JWT_SECRET": "a"}, {"JWT_SECRET": "b"}], "app secrets: JWT_SECRET is defined twice"),
        ([], [{"PORT": "a"}], "app secrets: PORT is defined twice"),
        ([{"DATABASE_PASSWORD": "x"}], [], "DATABASE_PASSWORD looks like a secret"),
    ],
)
def test_local_app_environment_errors(env_parts: list, secret_parts: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        local_app_environment(DEV, env_parts=env_parts, secret_parts=secret_parts)


def test_local_app_environment_needs_every_required_variable() -> None:
    with pytest.raises(ValueError, match=r"saas-backend:app.requiredEnv\[1\] is 'GOOGLE_CLIENT_ID'; no task"):
        local_app_environment(
            DEV, env_parts=[], secret_parts=[{"JWT_SECRET": "s"}], required=["JWT_SECRET", "GOOGLE_CLIENT_ID"]
        )


def test_env_list_refuses_a_name_twice() -> None:
    with pytest.raises(ValueError, match="container environment: A defined twice"):
        env_list({"A": "1"}, {"A": "2"})


# ---------------------------------------------------------------------------------------------------------
# The Python check of the schedule agrees with pg-backup's parser (the script decides at run time).

SCHEDULES = [
    "cron(0 1 * * ? *)",
    "cron(0 1 ? * * *)",
    "cron(59 23 * * ? *)",
    "cron(60 1 * * ? *)",
    "cron(0 24 * * ? *)",
    "cron(0 1 ? * MON *)",
    "cron(0/15 * * * ? *)",
    "rate(1 hour)",
    "rate(12 hours)",
    "rate(1 day)",
    "rate(0 days)",
    "rate(5 minutes)",
    "at(2025-01-31T01:00:00)",
]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedule_check_agrees_with_the_script(tmp_path: Path, schedule: str) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    for tool, version in (("pg_dump", "pg_dump (PostgreSQL) 15.9"), ("aws", "aws-cli/2.27.0")):
        (fake / tool).write_text(f"#!/bin/sh\necho '{version}'\n")
        (fake / tool).chmod(0o755)
    env = {
        "PATH": f"{fake}:{os.environ['PATH']}",
        "PGHOST": "postgres",
        "PGDATABASE": "app",
        "PGUSER": "app",
        "PGPASSWORD": "p",
        "BACKUP_BUCKET": "bucket-x",
        "BACKUP_SCHEDULE": schedule,
        "DRY_RUN": "1",
    }
    bash = shutil.which("bash") or "/bin/bash"
    script = REPO_ROOT / "images" / "pg-backup" / "pg-backup.sh"
    proc = subprocess.run(
        [bash, str(script), "schedule"], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode in (0, 2), proc.stderr
    assert locally_supported(schedule) == (proc.returncode == 0), proc.stderr
