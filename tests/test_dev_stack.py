"""The dev stack: the whole topology on a local Docker engine, by value, through preflight.

The real ``__main__.py`` evaluated from ``Pulumi.dev.yaml`` (``platform: docker``): preview mode for what the
engine and the policy pack see before anything exists, up mode where the mocks answer image ids and the
generated secrets, so connection strings can be compared with the credentials the servers get.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

import preflight.mocks
from components.app_env import build_app_environment
from components.aws.edge.tunnel import CONTAINER_NAME as SIDECAR
from components.aws.postgres import ECS_SECRETS as DATABASE_ECS_SECRETS
from components.aws.redis import ECS_SECRETS as REDIS_ECS_SECRETS
from components.aws.secrets import GENERATED
from components.config import load
from components.local.app import LocalSchedulerArgs, LocalServiceArgs
from preflight.analyzer import PackProcess
from preflight.engine import Evaluation, evaluate
from preflight.model import SECRET_SIG, UNKNOWN, RecordedResource
from preflight.stackfile import REPO_ROOT, load_stack_config

CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
NETWORK = "docker:index/network:Network"
IMAGE = "docker:index/remoteImage:RemoteImage"
PREFIX = "escalating-reminders-dev"
DEV = load(load_stack_config("dev"))
# Pulumi logical name -> Docker container name
CONTAINERS = {
    "postgres-container": f"{PREFIX}-postgres",
    "redis-container": f"{PREFIX}-redis",
    "object-store-container": f"{PREFIX}-minio",
    "object-store-setup": f"{PREFIX}-minio-setup",
    "api-container": f"{PREFIX}-api",
    "worker-container-1": f"{PREFIX}-worker-1",
    "worker-container-2": f"{PREFIX}-worker-2",
    "scheduler-container": f"{PREFIX}-scheduler",
    "backups-container": f"{PREFIX}-backup",
}
APP_CONTAINERS = ("api-container", "worker-container-1", "worker-container-2", "scheduler-container")


# ---------------------------------------------------------------------------------------------------------
# helpers


def container(evaluation: Evaluation, name: str) -> RecordedResource:
    return evaluation.one(CONTAINER, name)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


def env(resource: RecordedResource) -> dict[str, str]:
    """A container's ``envs`` as a dict (secret values unwrapped; in preview an unknown secret is skipped)."""
    out: dict[str, str] = {}
    for entry in resource.inputs.get("envs", []):
        text = entry["value"] if is_secret(entry) else entry
        if text == UNKNOWN:
            continue
        name, _, value = text.partition("=")
        out[name] = value
    return out


def secret_env_names(resource: RecordedResource) -> set[str]:
    return {e["value"].partition("=")[0] for e in resource.inputs.get("envs", []) if is_secret(e)}


def labels(resource: RecordedResource) -> dict[str, str]:
    return {entry["label"]: entry["value"] for entry in resource.inputs.get("labels", [])}


def aws_task_environment_names(staging: Evaluation, family: str) -> set[str]:
    task = next(
        t for t in staging.of_type("aws:ecs/taskDefinition:TaskDefinition") if t.inputs["family"] == family
    )
    (definition,) = [c for c in json.loads(task.inputs["containerDefinitions"]) if c["name"] != SIDECAR]
    return {e["name"] for e in definition["environment"]} | {s["name"] for s in definition["secrets"]}


# ---------------------------------------------------------------------------------------------------------
# the stack as a whole


def test_dev_evaluates_in_both_modes(dev: Evaluation, dev_up: Evaluation) -> None:
    for evaluation in (dev, dev_up):
        assert evaluation.ok, evaluation.error
        assert evaluation.outputs["platform"] == "docker"


def test_no_aws_or_cloudflare_resource(dev: Evaluation, dev_up: Evaluation) -> None:
    for evaluation in (dev, dev_up):
        providers = {r.type.split(":")[0] for r in evaluation.resources if r.custom}
        assert providers == {"docker", "random"}
        assert not [
            r
            for r in evaluation.resources
            if r.provider and ("aws" in r.provider or "cloudflare" in r.provider)
        ]


def test_no_invoke_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """No caller-identity, zone or IP-range lookup: the dev stack needs no AWS or Cloudflare credentials."""
    monkeypatch.setattr(preflight.mocks, "INVOKES", {})
    evaluation = evaluate("dev", preview=True)
    assert evaluation.ok, evaluation.error
    # The AWS stacks do need them (so the empty table would have been noticed).
    assert "preflight has no mock answer for invoke" in (evaluate("staging", preview=True).error or "")


def test_components_mirror_the_aws_boundaries(dev: Evaluation) -> None:
    components = {r.type: 0 for r in dev.resources if not r.custom}
    for r in dev.resources:
        if not r.custom:
            components[r.type] += 1
    assert components == {
        "saas:local:Network": 1,
        "saas:local:AppSecrets": 1,
        "saas:local:Postgres": 1,
        "saas:local:Redis": 1,
        "saas:local:Images": 1,
        "saas:local:Service": 2,
        "saas:local:Scheduler": 1,
        "saas:local:ObjectStore": 1,
        "saas:local:Backups": 1,
    }
    assert {r.name for r in dev.resources if not r.custom} == {
        "network",
        "app-secrets",
        "postgres",
        "redis",
        "images",
        "api",
        "worker",
        "scheduler",
        "object-store",
        "backups",
    }


def test_containers_and_their_names(dev: Evaluation) -> None:
    found = {r.name: r.inputs["name"] for r in dev.of_type(CONTAINER)}
    assert found == CONTAINERS


def test_one_user_defined_network_joins_everything(dev: Evaluation) -> None:
    (network,) = dev.of_type(NETWORK)
    assert network.inputs["name"] == PREFIX
    assert network.inputs["driver"] == "bridge"
    aliases = {}
    for r in dev.of_type(CONTAINER):
        (attachment,) = r.inputs["networksAdvanced"]
        assert attachment["name"] == PREFIX, r.name
        assert "networkMode" not in r.inputs
        aliases[r.name] = attachment["aliases"]
    assert aliases["postgres-container"] == ["postgres"]
    assert aliases["redis-container"] == ["redis"]
    assert aliases["object-store-container"] == ["minio"]
    assert aliases["api-container"] == ["api"]


def test_ports_are_the_seed_ports_on_loopback_only(dev: Evaluation) -> None:
    published = {}
    for r in dev.of_type(CONTAINER):
        for port in r.inputs.get("ports", []):
            assert port["ip"] == "127.0.0.1", (r.name, port)
            assert port["protocol"] == "tcp"
            published.setdefault(r.name, []).append((int(port["internal"]), int(port["external"])))
        assert r.inputs.get("publishAllPorts") is not True
    assert published == {
        "api-container": [(3801, 3801)],
        "postgres-container": [(5432, 3802)],
        "redis-container": [(6379, 3803)],
        "object-store-container": [(9000, 3804), (9001, 3805)],
    }


def test_named_volumes_hold_the_data(dev: Evaluation) -> None:
    volumes = {r.inputs["name"] for r in dev.of_type(VOLUME)}
    assert volumes == {f"{PREFIX}-postgres-data", f"{PREFIX}-redis-data", f"{PREFIX}-minio-data"}
    mounts = {
        r.name: [(v["volumeName"], v["containerPath"]) for v in r.inputs["volumes"]]
        for r in dev.of_type(CONTAINER)
        if "volumes" in r.inputs
    }
    assert mounts == {
        "postgres-container": [(f"{PREFIX}-postgres-data", "/var/lib/postgresql/data")],
        "redis-container": [(f"{PREFIX}-redis-data", "/data")],
        "object-store-container": [(f"{PREFIX}-minio-data", "/data")],
    }


def test_health_checks(dev: Evaluation) -> None:
    checks = {r.name: r.inputs["healthcheck"] for r in dev.of_type(CONTAINER) if "healthcheck" in r.inputs}
    assert set(checks) == {"postgres-container", "redis-container", "object-store-container", "api-container"}
    assert checks["postgres-container"]["tests"] == [
        "CMD-SHELL",
        "pg_isready -U app -d escalating_reminders",
    ]
    assert checks["redis-container"]["tests"] == ["CMD-SHELL", "redis-cli ping | grep -q PONG"]
    assert checks["object-store-container"]["tests"] == ["CMD", "mc", "ready", "local"]
    api = checks["api-container"]["tests"]
    assert api[:3] == ["CMD", "node", "-e"]
    assert 'fetch("http://127.0.0.1:3801/health")' in api[3]
    for name in ("postgres-container", "redis-container"):  # seed 003
        assert (checks[name]["interval"], checks[name]["timeout"], checks[name]["retries"]) == ("5s", "5s", 5)
    # `pulumi up` waits for the data services to be healthy before it starts the app containers.
    for name in ("postgres-container", "redis-container", "object-store-container"):
        assert container(dev, name).inputs["wait"] is True
    for name in APP_CONTAINERS:
        deps = set(container(dev, name).dependencies)
        assert {container(dev, "postgres-container").urn, container(dev, "redis-container").urn} <= deps


def test_images_from_config(dev: Evaluation) -> None:
    images = {r.name: r.inputs["name"] for r in dev.of_type(IMAGE)}
    assert images["postgres-image"] == "postgres:15-alpine"
    assert images["redis-image"] == "redis:7-alpine"
    # One build from the app checkout for the three roles (same context and Dockerfile), one for pg-backup.
    assert re.fullmatch(rf"{PREFIX}/api:sha-[0-9a-f]{{12}}", images["images-api"])
    app_builds = [r for r in dev.of_type(IMAGE) if r.inputs["name"] == images["images-api"]]
    assert len(app_builds) == 1
    build = app_builds[0].inputs["build"]
    assert build["context"] == str((REPO_ROOT / "app").resolve())
    # Outside the context: by absolute path (the provider builds it like `docker build -f`).
    assert build["dockerfile"] == str(REPO_ROOT / "images/escalating-reminders-api/Dockerfile")
    assert re.fullmatch(rf"{PREFIX}/pg-backup:sha-[0-9a-f]{{12}}", images["backups-image"])


def test_postgres_major_follows_config() -> None:
    evaluation = evaluate("dev", preview=True, overrides={"saas-backend:postgres": {"engineVersion": "16"}})
    assert evaluation.ok, evaluation.error
    assert evaluation.one(IMAGE, "postgres-image").inputs["name"] == "postgres:16-alpine"
    assert evaluation.one(IMAGE, "backups-image").inputs["build"]["buildArgs"] == {"PG_MAJOR": "16"}


def test_every_resource_is_labelled(dev: Evaluation) -> None:
    for r in dev.resources:
        if r.type in (CONTAINER, VOLUME, NETWORK):
            # role on every container, queue on the Redis a queue uses: the rest are the required tags
            assert {k: v for k, v in labels(r).items() if k not in ("role", "queue")} == {
                "environment": "dev",
                "app": "escalating-reminders",
                "managed-by": "pulumi",
            }, r.name


# ---------------------------------------------------------------------------------------------------------
# data services


def test_postgres_credentials_come_from_the_generated_password(dev_up: Evaluation) -> None:
    values = env(container(dev_up, "postgres-container"))
    assert values["POSTGRES_USER"] == "app"
    assert values["POSTGRES_DB"] == "escalating_reminders"
    password = dev_up.one("random:index/randomPassword:RandomPassword", "postgres-password").outputs["result"]
    assert values["POSTGRES_PASSWORD"] == password
    assert secret_env_names(container(dev_up, "postgres-container")) == {"POSTGRES_PASSWORD"}


def test_redis_requires_the_generated_token_and_never_evicts(dev_up: Evaluation) -> None:
    """redis.maxmemoryPolicy (noeviction: BullMQ, Going to production, "Max memory policy") as on AWS."""
    redis = container(dev_up, "redis-container")
    shell, flag, command = redis.inputs["command"]
    assert (shell, flag) == ("sh", "-c")
    assert '--requirepass "$REDISCLI_AUTH"' in command
    assert "--maxmemory-policy noeviction" in command
    assert labels(redis)["queue"] == "bullmq"  # what the pack's docker-queue-redis-noeviction reads
    assert command.startswith("exec docker-entrypoint.sh redis-server ")
    token = dev_up.one("random:index/randomPassword:RandomPassword", "redis-auth-token").outputs["result"]
    assert env(redis) == {"REDISCLI_AUTH": token}
    assert secret_env_names(redis) == {"REDISCLI_AUTH"}
    assert token not in json.dumps(redis.inputs["command"])


def test_object_store_bucket_is_created_once_with_retention(dev: Evaluation) -> None:
    minio = container(dev, "object-store-container")
    assert minio.inputs["command"] == ["server", "/data", "--console-address", ":9001"]
    setup = container(dev, "object-store-setup")
    assert (setup.inputs["attach"], setup.inputs["mustRun"], setup.inputs["restart"]) == (True, False, "no")
    script = setup.inputs["command"][0]
    bucket = f"{PREFIX}-backups-local"
    assert f"mc mb --ignore-existing local/{bucket}" in script
    assert f"--expire-days {DEV.backups.retention_days} " in script
    assert minio.urn in setup.dependencies


# ---------------------------------------------------------------------------------------------------------
# app containers


def test_exactly_one_scheduler_container(dev: Evaluation) -> None:
    schedulers = [r for r in dev.of_type(CONTAINER) if labels(r).get("role") == "scheduler"]
    assert [r.name for r in schedulers] == ["scheduler-container"]
    (scheduler,) = schedulers
    assert scheduler.inputs["restart"] == "unless-stopped"
    assert "ports" not in scheduler.inputs
    assert scheduler.inputs["command"] == ["npm", "run", "start:scheduler"]
    # Replaced by removing the old one first: never two schedulers, not even during `pulumi up`.
    assert scheduler.delete_before_replace


def test_the_scheduler_has_no_replicas_argument() -> None:
    fields = {f.name for f in dataclasses.fields(LocalSchedulerArgs)}
    assert "replicas" not in fields
    assert "replicas" in {f.name for f in dataclasses.fields(LocalServiceArgs)}


def test_more_workers_never_mean_more_schedulers() -> None:
    worker = {**DEV.worker.model_dump(by_alias=True, exclude_none=True), "replicas": 3}
    evaluation = evaluate("dev", preview=True, overrides={"saas-backend:worker": worker})
    assert evaluation.ok, evaluation.error
    roles = [labels(r).get("role") for r in evaluation.of_type(CONTAINER)]
    assert roles.count("worker") == 3
    assert roles.count("scheduler") == 1


def test_app_containers_run_like_the_ecs_tasks(dev: Evaluation) -> None:
    for name in APP_CONTAINERS:
        c = container(dev, name).inputs
        assert c["readOnly"] is True and c["tmpfs"] == {"/tmp": "rw"}, name
        assert c["init"] is True
        assert c["restart"] == "unless-stopped"
        assert c.get("privileged") is not True
        # env.SMTP_HOST host.docker.internal (MailHog on this machine) resolves on Linux engines too
        assert c["hosts"] == [{"host": "host.docker.internal", "ip": "host-gateway"}], name
    commands = {name: container(dev, name).inputs["command"] for name in APP_CONTAINERS}
    assert commands == {
        "api-container": ["npm", "run", "start:api"],
        "worker-container-1": ["npm", "run", "start:worker"],
        "worker-container-2": ["npm", "run", "start:worker"],
        "scheduler-container": ["npm", "run", "start:scheduler"],
    }


def test_same_app_environment_names_as_the_aws_task_definitions(
    dev_up: Evaluation, staging: Evaluation
) -> None:
    """Every app container gets exactly the names the staging task definitions get (environment + secrets)."""
    for role, name in (
        ("api", "api-container"),
        ("worker", "worker-container-1"),
        ("scheduler", "scheduler-container"),
    ):
        aws_names = aws_task_environment_names(staging, f"escalating-reminders-staging-{role}")
        assert set(env(container(dev_up, name))) == aws_names, role


def test_plain_variables_are_the_app_environment_of_the_aws_tasks(dev_up: Evaluation) -> None:
    local = load(load_stack_config("dev"))
    expected = dict(build_app_environment(local, env_parts=[]).variables)
    values = env(container(dev_up, "api-container"))
    for name, value in expected.items():
        assert values[name] == value, name
    assert values["NODE_ENV"] == "development"
    assert (values["HOME"], values["NPM_CONFIG_CACHE"]) == ("/tmp", "/tmp/.npm")
    assert values["CORS_ORIGIN"] == "http://localhost:3800"
    assert (values["DATABASE_SSLMODE"], values["REDIS_TLS"], values["DATABASE_PORT"]) == (
        "disable",
        "false",
        "5432",
    )


def test_secrets_are_container_env_values_never_plain_inputs(dev_up: Evaluation) -> None:
    api = container(dev_up, "api-container")
    expected = {*GENERATED, *DATABASE_ECS_SECRETS, *REDIS_ECS_SECRETS, *DEV.secret_names}
    assert secret_env_names(api) == expected
    values = env(api)
    for key in GENERATED:
        assert re.fullmatch(r"[0-9a-f]{64}", values[key]), key  # 32 random bytes, hex (as on AWS)
    assert len({values[k] for k in GENERATED}) == len(GENERATED)


def test_connection_strings_match_the_servers(dev_up: Evaluation) -> None:
    api = env(container(dev_up, "api-container"))
    password = env(container(dev_up, "postgres-container"))["POSTGRES_PASSWORD"]
    token = env(container(dev_up, "redis-container"))["REDISCLI_AUTH"]
    assert (
        api["DATABASE_URL"]
        == f"postgresql://app:{password}@postgres:5432/escalating_reminders?sslmode=disable"
    )
    assert (api["DATABASE_HOST"], api["DATABASE_PASSWORD"]) == ("postgres", password)
    assert api["REDIS_URL"] == f"redis://:{token}@redis:6379"
    assert (api["REDIS_HOST"], api["REDIS_AUTH_TOKEN"]) == ("redis", token)


def test_third_party_secrets_come_from_the_environment_of_pulumi_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "GOCSPX-local-test")
    monkeypatch.delenv("NOCTUSOFT_API_KEY", raising=False)
    evaluation = evaluate("dev", preview=False)
    assert evaluation.ok, evaluation.error
    values = env(container(evaluation, "worker-container-1"))
    assert values["GOOGLE_CLIENT_SECRET"] == "GOCSPX-local-test"
    assert values["NOCTUSOFT_API_KEY"] == ""
    assert "GOOGLE_CLIENT_SECRET" not in evaluation.outputs["secretsMissing"]
    assert "NOCTUSOFT_API_KEY" in evaluation.outputs["secretsMissing"]


# ---------------------------------------------------------------------------------------------------------
# backups


def test_backup_container_runs_the_schedule_mode(dev_up: Evaluation) -> None:
    backup = container(dev_up, "backups-container")
    assert backup.inputs["command"] == ["schedule"]
    assert backup.inputs["restart"] == "unless-stopped"
    assert backup.inputs["init"] is True
    assert "ports" not in backup.inputs
    assert labels(backup)["role"] == "backup"
    values = env(backup)
    assert values["BACKUP_SCHEDULE"] == DEV.backups.schedule == "cron(0 1 * * ? *)"
    assert values["AWS_ENDPOINT_URL"] == "http://minio:9000"
    assert values["AWS_REQUEST_CHECKSUM_CALCULATION"] == "when_required"  # S3-compatible store
    assert values["BACKUP_BUCKET"] == f"{PREFIX}-backups-local"
    assert values["BACKUP_PREFIX"] == "postgres/"
    assert (values["PGHOST"], values["PGPORT"], values["PGSSLMODE"]) == ("postgres", "5432", "disable")
    assert (values["PGDATABASE"], values["PGUSER"]) == ("escalating_reminders", "app")
    assert values["PGPASSWORD"] == env(container(dev_up, "postgres-container"))["POSTGRES_PASSWORD"]
    minio_password = env(container(dev_up, "object-store-container"))["MINIO_ROOT_PASSWORD"]
    assert (values["AWS_ACCESS_KEY_ID"], values["AWS_SECRET_ACCESS_KEY"]) == ("admin", minio_password)
    assert secret_env_names(backup) == {"PGPASSWORD", "AWS_SECRET_ACCESS_KEY"}
    # Starts once the database is healthy and the bucket exists.
    assert container(dev_up, "postgres-container").urn in backup.dependencies
    assert container(dev_up, "object-store-setup").urn in backup.dependencies


def test_backup_image_is_the_pg_backup_build(dev: Evaluation) -> None:
    image = dev.one(IMAGE, "backups-image")
    build = image.inputs["build"]
    assert build["context"] == str(REPO_ROOT / "images" / "pg-backup")
    assert build["dockerfile"] == "Dockerfile"
    assert build["buildArgs"] == {"PG_MAJOR": "15"}


def test_a_schedule_the_local_loop_cannot_run_stops_the_program_first() -> None:
    backups = {"schedule": "cron(0 1 ? * MON *)", "retentionDays": 30}
    evaluation = evaluate("dev", preview=True, overrides={"saas-backend:backups": backups})
    assert evaluation.error is not None
    assert evaluation.error.startswith(
        "LocalBackups: config.schedule is 'cron(0 1 ? * MON *)'; "
        "the local scheduler (pg-backup schedule mode)"
    )
    assert "\n" not in evaluation.error
    assert evaluation.resources == []


# ---------------------------------------------------------------------------------------------------------
# outputs and policy


def test_outputs_tell_how_to_use_it(dev_up: Evaluation) -> None:
    out = dev_up.outputs
    assert out["apiUrl"] == "http://localhost:3801"
    assert out["healthUrl"] == "http://localhost:3801/health"
    password = env(container(dev_up, "postgres-container"))["POSTGRES_PASSWORD"]
    assert out["databaseUrl"] == (
        f"postgresql://app:{password}@127.0.0.1:3802/escalating_reminders?sslmode=disable"
    )
    assert out["psqlCommand"] == "psql -h 127.0.0.1 -p 3802 -U app escalating_reminders"
    assert out["redisUrl"].endswith("@127.0.0.1:3803")
    assert out["backupNowCommand"] == f"docker exec {PREFIX}-backup pg-backup backup"
    assert out["restoreCommand"] == (
        "docker exec -e RESTORE_KEY=<RESTORE_KEY> -e RESTORE_TARGET_DATABASE=<RESTORE_TARGET_DATABASE> "
        f"{PREFIX}-backup pg-backup restore"  # the script creates a missing target itself
    )
    assert out["containers"]["scheduler"] == [f"{PREFIX}-scheduler"]
    assert {"databaseUrl", "databasePassword", "redisUrl", "objectStorePassword"} <= dev_up.secret_outputs
    assert not {"apiUrl", "psqlCommand", "backupNowCommand"} & dev_up.secret_outputs


@pytest.fixture(scope="module")
def dev_violations(pack: PackProcess, dev: Evaluation, dev_up: Evaluation) -> Iterator[dict[str, list[Any]]]:
    yield {"preview": pack.analyze(dev.resources), "up": pack.analyze(dev_up.resources)}


def test_the_policy_pack_passes_the_dev_stack(dev_violations: dict[str, list[Any]]) -> None:
    assert dev_violations == {"preview": [], "up": []}


def test_the_policy_pack_does_judge_the_dev_containers(pack: PackProcess, dev: Evaluation) -> None:
    """Not silence by absence: the same stack with Postgres on every interface and two schedulers fails."""
    postgres = container(dev, "postgres-container")
    scheduler = container(dev, "scheduler-container")
    exposed = dataclasses.replace(
        postgres, inputs={**postgres.inputs, "ports": [{"internal": 5432, "external": 3802}]}
    )
    twin = dataclasses.replace(scheduler, name="scheduler-2", urn=scheduler.urn + "-2")
    resources = [exposed if r is postgres else r for r in dev.resources] + [twin]
    names = {v.policy_name for v in pack.analyze(resources)}
    assert names == {"docker-ports-loopback", "scheduler-exactly-one"}
