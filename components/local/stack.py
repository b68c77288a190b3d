"""The dev stack's composition: ``deploy(cfg)`` builds the local components and returns the stack outputs.

``__main__.py`` calls it when ``cfg.platform == "docker"`` (only ``environment: dev``, see config.py) instead
of the AWS composition; the variable names are the AWS ones (docs/interfaces.md). Nothing here talks to AWS or
Cloudflare: no provider of theirs is instantiated, no invoke is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from ..common import Deployment
from ..config import APP_ROLES, StackConfig
from ..images import empty_context_warnings
from ..specs import backup_bucket_name as bucket_name
from .app import (
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
from .backups import LocalBackups, LocalBackupsArgs, require_local_schedule
from .common import local_deployment
from .data import (
    LocalObjectStore,
    LocalObjectStoreArgs,
    LocalPostgres,
    LocalPostgresArgs,
    LocalRedis,
    LocalRedisArgs,
)
from .network import LocalNetwork, LocalNetworkArgs


@dataclass(frozen=True)
class _Data:
    network: LocalNetwork
    app_secrets: LocalAppSecrets
    postgres: LocalPostgres
    redis: LocalRedis


@dataclass(frozen=True)
class _App:
    images: LocalImages
    api_url: str
    api: LocalService
    worker: LocalService
    scheduler: LocalScheduler


def deploy(cfg: StackConfig) -> dict[str, Any]:
    """Create the dev stack on the local Docker engine; return ``{output name: value}`` to export.

    An invalid component input raises its one-line ``ValueError``; ``__main__.py`` stops the program with it.
    """
    # Checked before any resource exists: the backups come last.
    require_local_schedule(cfg.backups.schedule)
    for warning in empty_context_warnings({r: getattr(cfg, r).source.context for r in APP_ROLES}):
        pulumi.log.warn(warning)
    d = local_deployment(cfg)
    data = _data_tier(cfg, d)
    app = _app_tier(cfg, d, data)
    store, backups = _backups(cfg, d, data)
    return _outputs(cfg, data, app, store, backups)


def _data_tier(cfg: StackConfig, d: Deployment) -> _Data:
    network = LocalNetwork("network", LocalNetworkArgs(deployment=d))
    app_secrets = LocalAppSecrets(
        "app-secrets", LocalAppSecretsArgs(deployment=d, secret_names=cfg.secret_names)
    )
    postgres = LocalPostgres(
        "postgres", LocalPostgresArgs(deployment=d, config=cfg.postgres, network=network)
    )
    redis = LocalRedis(
        "redis", LocalRedisArgs(deployment=d, config=cfg.redis, network=network, queue=cfg.app.queue)
    )
    return _Data(network, app_secrets, postgres, redis)


def _app_tier(cfg: StackConfig, d: Deployment, data: _Data) -> _App:
    """The api / worker / scheduler containers: the AWS contract (commands, variables), a local API_URL."""
    images = LocalImages(
        "images",
        LocalImagesArgs(
            deployment=d,
            sources={"api": cfg.api.source, "worker": cfg.worker.source, "scheduler": cfg.scheduler.source},
        ),
    )
    api_url = f"http://localhost:{cfg.api.port}"
    app = local_app_environment(
        cfg,
        env_parts=[data.postgres.env, data.redis.env],
        secret_parts=[data.app_secrets.values, data.postgres.secret_env, data.redis.secret_env],
        required=cfg.app.required_env,
    )

    def common(role: str) -> dict[str, Any]:
        return {
            "deployment": d,
            "network": data.network,
            "image_id": images.image_ids[role],
            "image_ref": images.image_refs[role],
            "app": app,
            "depends_on": [data.postgres.container, data.redis.container],
        }

    api = LocalService(
        "api",
        LocalServiceArgs(
            **common("api"),
            role="api",
            command=cfg.api.command,
            port=cfg.api.port,
            health_check_path=cfg.api.health_check_path,
        ),
    )
    worker = LocalService(
        "worker",
        LocalServiceArgs(
            **common("worker"), role="worker", command=cfg.worker.command, replicas=cfg.worker.replicas
        ),
    )
    scheduler = LocalScheduler(
        "scheduler", LocalSchedulerArgs(**common("scheduler"), command=cfg.scheduler.command)
    )
    return _App(images, api_url, api, worker, scheduler)


def _backups(cfg: StackConfig, d: Deployment, data: _Data) -> tuple[LocalObjectStore, LocalBackups]:
    store = LocalObjectStore(
        "object-store",
        LocalObjectStoreArgs(
            deployment=d,
            network=data.network,
            bucket=bucket_name(d),
            retention_days=cfg.backups.retention_days,
        ),
    )
    backups = LocalBackups(
        "backups",
        LocalBackupsArgs(
            deployment=d,
            config=cfg.backups,
            postgres_major_version=cfg.postgres.major_version,
            network=data.network,
            postgres=data.postgres,
            store=store,
        ),
    )
    return store, backups


def _outputs(
    cfg: StackConfig, data: _Data, app: _App, store: LocalObjectStore, backups: LocalBackups
) -> dict[str, Any]:
    postgres, redis = data.postgres, data.redis
    migrate = cfg.app.migrate_command
    return {
        "platform": cfg.platform,
        "apiUrl": app.api_url,
        "healthUrl": f"{app.api_url}{cfg.api.health_check_path}",
        "containers": {
            "api": app.api.container_names,
            "worker": app.worker.container_names,
            "scheduler": app.scheduler.container_names,
            "postgres": [postgres.container_name],
            "redis": [redis.container_name],
            "objectStore": [store.container_name],
            "backup": [backups.container_name],
        },
        "images": {**app.images.image_refs, "backup": backups.image_ref},
        "databaseUrl": postgres.host_url,
        "databasePassword": postgres.password,
        "psqlCommand": postgres.psql_command,
        "redisUrl": redis.host_url,
        "objectStoreEndpoint": store.host_endpoint,
        "objectStoreConsoleUrl": store.console_url,
        "objectStoreUser": store.access_key,
        "objectStorePassword": store.secret_key,
        "backupBucket": backups.bucket,
        "backupSchedule": backups.schedule,
        "backupNowCommand": backups.backup_now_command,
        "listBackupsCommand": backups.list_command,
        "restoreCommand": backups.restore_command,
        # The one-off migration (app.migrateCommand) in the running api container, like the AWS task.
        "migrateCommand": app.api.exec_command(*migrate) if migrate else None,
        "secretsFromEnvironment": data.app_secrets.external_names,
        "secretsMissing": data.app_secrets.missing_names,
    }
