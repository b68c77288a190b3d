"""The dev stack's data services as containers: PostgreSQL, Redis and MinIO (S3-compatible, for the dumps).

Each mirrors its AWS counterpart's interface (``components/aws/postgres.py``, ``components/aws/redis.py``):
a plain
``env`` dict with the same variable names for the app (``DATABASE_PORT``, ..., ``REDIS_TLS``) and, where the
AWS component hands ECS ``{"name", "valueFrom"}`` references, ``secret_env``: the same names with the local
values (Pulumi secrets), built from the AWS component's own name -> secret-key mapping (``ECS_SECRETS``).
Generated credentials follow the AWS specs (length, alphabet) from the same ``pulumi_random`` resources.

Data lives in named volumes (``<prefix>-postgres-data``, ...): ``pulumi destroy`` removes them. Every
published port binds to 127.0.0.1 (seed 003 ports).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from .. import specs
from ..common import Deployment, child, require
from ..config import PostgresConfig, RedisConfig
from ..specs import NONCURRENT_VERSION_DAYS
from .common import (
    HEALTHY_TIMEOUT_SECONDS,
    LOOPBACK,
    MC_IMAGE,
    MINIO_CONSOLE_HOST_PORT,
    MINIO_HOST_PORT,
    MINIO_IMAGE,
    POSTGRES_HOST_PORT,
    REDIS_HOST_PORT,
    RESTART,
    STOP_GRACE_SECONDS,
    env_list,
    healthcheck,
    labels,
    loopback_port,
    network_attachment,
    pulled_image,
    volume_labels,
)
from .network import LocalNetwork

# Locally the database speaks plain TCP on the private Docker network (no certificate to verify).
LOCAL_SSL_MODE = "disable"
# Seed 003 (Upstash starter): 256 MB; the eviction policy is the stack's (redis.maxmemoryPolicy).
REDIS_MAXMEMORY = "256mb"
MINIO_PORT, MINIO_CONSOLE_PORT = 9000, 9001
MINIO_ROOT_USER = "admin"
MINIO_PASSWORD_LENGTH = 40
# MinIO's default region; the AWS CLI must sign requests for the same.
MINIO_REGION = "us-east-1"
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def local_database_url(username: str, password: str, host: str, port: int, dbname: str) -> str:
    """``postgresql://user:pass@host:port/db?sslmode=disable`` with user and password percent-encoded."""
    return (
        f"postgresql://{quote(username, safe='')}:{quote(password, safe='')}@{host}:{port}/{dbname}"
        f"?sslmode={LOCAL_SSL_MODE}"
    )


def local_redis_url(token: str, host: str, port: int) -> str:
    """``redis://:<token>@host:port`` (no TLS locally; the token is alphanumeric)."""
    return f"redis://:{token}@{host}:{port}"


def _by_ecs_name(mapping: Mapping[str, str], document: Mapping[str, pulumi.Input[str]]) -> dict:
    """The AWS component's ``ECS_SECRETS`` (env name -> key of its JSON secret) applied to local values."""
    return {env_name: document[key] for env_name, key in mapping.items()}


# ---------------------------------------------------------------------------------------------------------
# PostgreSQL


@dataclass(frozen=True)
class LocalPostgresArgs:
    deployment: Deployment
    config: PostgresConfig
    network: LocalNetwork
    host_port: int = POSTGRES_HOST_PORT


class LocalPostgres(pulumi.ComponentResource):
    """``postgres:<major>-alpine`` with a named volume, ``pg_isready`` health check, 127.0.0.1:3802.

    Plain: ``host`` (network alias), ``port``, ``database_name``, ``username``, ``container_name``, ``image``,
    ``env``, ``psql_command``. Outputs: ``password`` (secret), ``secret_env`` (DATABASE_URL, DATABASE_HOST,
    DATABASE_PASSWORD), ``host_url`` (secret URL from this machine). Resource: ``container`` (healthy once
    created: ``pulumi up`` waits for the health check).
    """

    password: pulumi.Output[str]
    host_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: LocalPostgresArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require(
            1024 <= args.host_port <= 65535,
            "LocalPostgres",
            "host_port",
            args.host_port,
            "must be 1024..65535",
        )
        super().__init__("saas:local:Postgres", name, None, opts)
        d, cfg = args.deployment, args.config
        self.host = "postgres"
        self.port = specs.POSTGRES_PORT
        self.database_name = cfg.database_name
        self.username = cfg.username
        self.container_name = f"{d.prefix}-postgres"
        self.image = f"postgres:{cfg.major_version}-alpine"

        image = pulled_image(f"{name}-image", self.image, self)
        volume = docker.Volume(
            f"{name}-data", name=f"{d.prefix}-postgres-data", labels=volume_labels(d), opts=child(self)
        )
        password = random.RandomPassword(
            f"{name}-password",
            length=specs.POSTGRES_PASSWORD_LENGTH,
            special=True,
            override_special=specs.POSTGRES_PASSWORD_SPECIALS,
            min_lower=1,
            min_upper=1,
            min_numeric=1,
            opts=child(self, additional_secret_outputs=["result", "bcryptHash"]),
        )
        self.password = pulumi.Output.secret(password.result)

        self.container = docker.Container(
            f"{name}-container",
            name=self.container_name,
            image=image.image_id,
            envs=env_list(
                {"POSTGRES_USER": cfg.username, "POSTGRES_DB": cfg.database_name},
                {"POSTGRES_PASSWORD": self.password},
            ),
            ports=[loopback_port(self.port, args.host_port)],
            volumes=[
                docker.ContainerVolumeArgs(volume_name=volume.name, container_path="/var/lib/postgresql/data")
            ],
            networks_advanced=[network_attachment(args.network.name, self.host)],
            healthcheck=healthcheck("CMD-SHELL", f"pg_isready -U {cfg.username} -d {cfg.database_name}"),
            restart=RESTART,
            wait=True,
            wait_timeout=HEALTHY_TIMEOUT_SECONDS,
            destroy_grace_seconds=STOP_GRACE_SECONDS,
            labels=labels(d, role="postgres"),
            opts=child(self, delete_before_replace=True),
        )

        username, dbname, host, port = cfg.username, cfg.database_name, self.host, self.port
        url = self.password.apply(lambda p: local_database_url(username, p, host, port, dbname))
        self.secret_env: dict[str, pulumi.Input[str]] = _by_ecs_name(
            specs.POSTGRES_ECS_SECRETS, {"url": url, "host": host, "password": self.password}
        )
        self.env = {
            "DATABASE_PORT": str(port),
            "DATABASE_NAME": dbname,
            "DATABASE_USER": username,
            "DATABASE_SSLMODE": LOCAL_SSL_MODE,
        }
        host_port = args.host_port
        self.host_url = pulumi.Output.secret(
            self.password.apply(lambda p: local_database_url(username, p, LOOPBACK, host_port, dbname))
        )
        self.psql_command = f"psql -h {LOOPBACK} -p {host_port} -U {username} {dbname}"
        self.register_outputs(
            {"containerName": self.container_name, "image": self.image, "hostUrl": self.host_url}
        )


# ---------------------------------------------------------------------------------------------------------
# Redis


@dataclass(frozen=True)
class LocalRedisArgs:
    deployment: Deployment
    config: RedisConfig
    network: LocalNetwork
    host_port: int = REDIS_HOST_PORT
    # The app's job queue on this Redis (config app.queue): a container label the policy pack reads.
    queue: str | None = None


class LocalRedis(pulumi.ComponentResource):
    """``redis:7-alpine`` with ``--requirepass`` (generated token) and ``--maxmemory-policy`` from the config.

    The token reaches the server and ``redis-cli`` (health check) through ``REDISCLI_AUTH`` in the container's
    environment, so it is on no command line Docker shows. Plain: ``host``, ``port``, ``container_name``,
    ``image``, ``env``. Outputs: ``auth_token`` (secret), ``secret_env`` (REDIS_URL, REDIS_HOST,
    REDIS_AUTH_TOKEN), ``host_url``. Resource: ``container``.
    """

    auth_token: pulumi.Output[str]
    host_url: pulumi.Output[str]

    def __init__(self, name: str, args: LocalRedisArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        require(
            1024 <= args.host_port <= 65535, "LocalRedis", "host_port", args.host_port, "must be 1024..65535"
        )
        super().__init__("saas:local:Redis", name, None, opts)
        d, cfg = args.deployment, args.config
        self.host = "redis"
        self.port = specs.REDIS_PORT
        self.container_name = f"{d.prefix}-redis"
        self.image = f"redis:{cfg.engine_version.split('.')[0]}-alpine"
        self.server_command = (
            'exec docker-entrypoint.sh redis-server --requirepass "$REDISCLI_AUTH" '
            f"--maxmemory {REDIS_MAXMEMORY} --maxmemory-policy {cfg.maxmemory_policy}"
        )

        image = pulled_image(f"{name}-image", self.image, self)
        volume = docker.Volume(
            f"{name}-data", name=f"{d.prefix}-redis-data", labels=volume_labels(d), opts=child(self)
        )
        token = random.RandomPassword(
            f"{name}-auth-token",
            length=specs.REDIS_AUTH_TOKEN_LENGTH,
            special=False,
            min_lower=1,
            min_upper=1,
            min_numeric=1,
            opts=child(self, additional_secret_outputs=["result", "bcryptHash"]),
        )
        self.auth_token = pulumi.Output.secret(token.result)

        self.container = docker.Container(
            f"{name}-container",
            name=self.container_name,
            image=image.image_id,
            # `sh -c` expands the token from the environment; the image's entrypoint then drops to the redis
            # user as it does for a plain `redis-server` command.
            command=["sh", "-c", self.server_command],
            envs=env_list({}, {"REDISCLI_AUTH": self.auth_token}),
            ports=[loopback_port(self.port, args.host_port)],
            volumes=[docker.ContainerVolumeArgs(volume_name=volume.name, container_path="/data")],
            networks_advanced=[network_attachment(args.network.name, self.host)],
            healthcheck=healthcheck("CMD-SHELL", "redis-cli ping | grep -q PONG"),
            restart=RESTART,
            wait=True,
            wait_timeout=HEALTHY_TIMEOUT_SECONDS,
            destroy_grace_seconds=STOP_GRACE_SECONDS,
            labels=labels(d, role="redis", **({"queue": args.queue} if args.queue else {})),
            opts=child(self, delete_before_replace=True),
        )

        host, port, host_port = self.host, self.port, args.host_port
        url = self.auth_token.apply(lambda t: local_redis_url(t, host, port))
        self.secret_env: dict[str, pulumi.Input[str]] = _by_ecs_name(
            specs.REDIS_ECS_SECRETS, {"url": url, "host": host, "authToken": self.auth_token}
        )
        self.env = {"REDIS_PORT": str(port), "REDIS_TLS": "false"}
        self.host_url = pulumi.Output.secret(
            self.auth_token.apply(lambda t: local_redis_url(t, LOOPBACK, host_port))
        )
        self.register_outputs(
            {"containerName": self.container_name, "image": self.image, "hostUrl": self.host_url}
        )


# ---------------------------------------------------------------------------------------------------------
# MinIO


@dataclass(frozen=True)
class LocalObjectStoreArgs:
    deployment: Deployment
    network: LocalNetwork
    # The backups bucket (the AWS stacks' name, from `components.aws.backups.bucket_name`).
    bucket: str
    # Days a dump is kept (backups.retentionDays): the bucket's lifecycle expires older objects.
    retention_days: int
    host_port: int = MINIO_HOST_PORT
    console_host_port: int = MINIO_CONSOLE_HOST_PORT


STALE_UPLOADS_EXPIRY = "24h"


def bucket_setup_script(bucket: str, retention_days: int) -> str:
    """The ``mc`` commands run once by the setup container (idempotent: safe to run again)."""
    target = f"local/{bucket}"
    return "\n".join(
        [
            "set -eu",
            f"mc mb --ignore-existing {target}",
            f"mc version enable {target}",
            f"mc ilm rule rm --all --force {target} >/dev/null 2>&1 || true",
            f"mc ilm rule add --expire-days {retention_days} "
            f"--noncurrent-expire-days {NONCURRENT_VERSION_DAYS} {target}",
            # MinIO rejects the S3 AbortIncompleteMultipartUpload lifecycle rule; it purges unfinished
            # multipart uploads itself after `api stale_uploads_expiry` (minio/docs#1216): pinned to the
            # AWS buckets' 1 day.
            f"mc admin config set local api stale_uploads_expiry={STALE_UPLOADS_EXPIRY} >/dev/null",
            f'echo "bucket {bucket}: versioned, objects expire after {retention_days} days"',
        ]
    )


class LocalObjectStore(pulumi.ComponentResource):
    """MinIO (S3 API on 127.0.0.1:3804, console on 127.0.0.1:3805) and its backups bucket.

    The bucket is created by a one-shot ``minio/mc`` container (``mc mb``, versioning, a lifecycle rule
    expiring objects after ``retention_days`` and noncurrent versions after 7 days, as on S3). ``pulumi up``
    waits for it to finish and fails if it fails. Plain: ``bucket``, ``endpoint`` (for containers on the
    network), ``host_endpoint``, ``console_url``, ``access_key``, ``region``, ``container_name``. Output:
    ``secret_key`` (secret). Resources: ``container``, ``setup`` (depend on it to use the bucket).
    """

    secret_key: pulumi.Output[str]

    def __init__(
        self, name: str, args: LocalObjectStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        _validate_object_store(args)
        super().__init__("saas:local:ObjectStore", name, None, opts)
        d = args.deployment
        self.bucket = args.bucket
        self.host = "minio"
        self.endpoint = f"http://{self.host}:{MINIO_PORT}"
        self.host_endpoint = f"http://{LOOPBACK}:{args.host_port}"
        self.console_url = f"http://{LOOPBACK}:{args.console_host_port}"
        self.access_key = MINIO_ROOT_USER
        self.region = MINIO_REGION
        self.container_name = f"{d.prefix}-minio"
        self._server(name, args)
        self._bucket_setup(name, args)
        self.register_outputs(
            {
                "bucket": self.bucket,
                "endpoint": self.endpoint,
                "hostEndpoint": self.host_endpoint,
                "consoleUrl": self.console_url,
            }
        )

    def _server(self, name: str, args: LocalObjectStoreArgs) -> None:
        """The MinIO server: image, data volume, generated root password, the container."""
        d = args.deployment
        image = pulled_image(f"{name}-image", MINIO_IMAGE, self)
        volume = docker.Volume(
            f"{name}-data", name=f"{d.prefix}-minio-data", labels=volume_labels(d), opts=child(self)
        )
        password = random.RandomPassword(
            f"{name}-root-password",
            length=MINIO_PASSWORD_LENGTH,
            special=False,
            opts=child(self, additional_secret_outputs=["result", "bcryptHash"]),
        )
        self.secret_key = pulumi.Output.secret(password.result)
        self.container = docker.Container(
            f"{name}-container",
            name=self.container_name,
            image=image.image_id,
            command=["server", "/data", "--console-address", f":{MINIO_CONSOLE_PORT}"],
            envs=env_list(
                {"MINIO_ROOT_USER": MINIO_ROOT_USER},
                {"MINIO_ROOT_PASSWORD": self.secret_key},
            ),
            ports=[
                loopback_port(MINIO_PORT, args.host_port),
                loopback_port(MINIO_CONSOLE_PORT, args.console_host_port),
            ],
            volumes=[docker.ContainerVolumeArgs(volume_name=volume.name, container_path="/data")],
            networks_advanced=[network_attachment(args.network.name, self.host)],
            healthcheck=healthcheck("CMD", "mc", "ready", "local"),
            restart=RESTART,
            wait=True,
            wait_timeout=HEALTHY_TIMEOUT_SECONDS,
            destroy_grace_seconds=STOP_GRACE_SECONDS,
            labels=labels(d, role="object-store"),
            opts=child(self, delete_before_replace=True),
        )

    def _bucket_setup(self, name: str, args: LocalObjectStoreArgs) -> None:
        """The one-shot ``mc`` container creating the bucket (``pulumi up`` waits for its exit)."""
        d = args.deployment
        mc_image = pulled_image(f"{name}-mc-image", MC_IMAGE, self)
        endpoint_host = f"{self.host}:{MINIO_PORT}"
        # mc reads the alias `local` from MC_HOST_local (the password is alphanumeric: no URL escaping).
        mc_host = self.secret_key.apply(lambda p: f"http://{MINIO_ROOT_USER}:{p}@{endpoint_host}")
        self.setup_script = bucket_setup_script(args.bucket, args.retention_days)
        self.setup = docker.Container(
            f"{name}-setup",
            name=f"{d.prefix}-minio-setup",
            image=mc_image.image_id,
            entrypoints=["/bin/sh", "-c"],
            command=[self.setup_script],
            envs=env_list({}, {"MC_HOST_local": mc_host}),
            networks_advanced=[network_attachment(args.network.name)],
            # One-shot: `pulumi up` waits for it to exit (and fails on a non-zero exit); never restarted.
            attach=True,
            must_run=False,
            logs=True,
            restart="no",
            labels=labels(d, role="setup"),
            opts=child(self, depends_on=[self.container], delete_before_replace=True),
        )


def _validate_object_store(args: LocalObjectStoreArgs) -> None:
    require(
        bool(_BUCKET_RE.match(args.bucket)) and ".." not in args.bucket,
        "LocalObjectStore",
        "bucket",
        args.bucket,
        "must be a valid S3 bucket name",
    )
    require(
        1 <= args.retention_days <= 3650,
        "LocalObjectStore",
        "retention_days",
        args.retention_days,
        "must be 1..3650",
    )
