"""The AWS stacks (staging, production): the components composed in dependency order (docs/interfaces.md).

Twin of ``components/local/stack.py``; a component's one-line ``ValueError`` reaches ``__main__.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..app_env import build_app_environment
from ..common import Deployment
from ..config import APP_ROLES, StackConfig
from ..images import empty_context_warnings
from ..ratelimit import stack_limits, translate_all
from .backups import Backups, BackupsArgs
from .cluster import Cluster, ClusterArgs
from .edge import CloudflareZone, Edge, EdgeArgs, EdgeOrigin, EdgeOriginArgs, verified_zone
from .edge.tunnel import EdgeTunnel, EdgeTunnelArgs
from .load_balancer import LoadBalancer, LoadBalancerArgs
from .network import Network, NetworkArgs
from .observability import Observability, ObservabilityArgs
from .postgres import SECRET_KEY as DATABASE_SECRET
from .postgres import Postgres, PostgresArgs
from .redis import SECRET_KEY as REDIS_SECRET
from .redis import Redis, RedisArgs
from .secrets import AppSecrets, AppSecretsArgs
from .services import (
    ApiService,
    ApiServiceArgs,
    SchedulerService,
    SchedulerServiceArgs,
    WorkerService,
    WorkerServiceArgs,
)


@dataclass(frozen=True)
class _DataTier:
    network: Network
    app_secrets: AppSecrets
    postgres: Postgres
    redis: Redis


@dataclass(frozen=True)
class _Origin:
    """How Cloudflare reaches the API (edge.origin): the ALB's edge side (EdgeOrigin), or the tunnel."""

    zone_id: str
    alb: EdgeOrigin | None = None
    tunnel: EdgeTunnel | None = None


@dataclass(frozen=True)
class _AppTier:
    cluster: Cluster
    lb: LoadBalancer | None
    api: ApiService
    worker: WorkerService
    scheduler: SchedulerService
    observability: Observability


def deploy(cfg: StackConfig) -> dict[str, Any]:
    """Create the stack on AWS + Cloudflare; return ``{output name: value}`` to export."""
    # Checked before any resource exists: a rate limit the Cloudflare plan cannot express, or a zone that is
    # not active on the configured plan, stops the program with one line (components/ratelimit.py,
    # verified_zone); a limit that only the app enforces is a warning unless acknowledged.
    edge_rate_limits = translate_all(
        cfg.edge.plan, stack_limits(cfg.edge), strict=cfg.is_production, acknowledged=cfg.edge.app_only_limits
    )
    for warning in edge_rate_limits.app_only:
        pulumi.log.warn(warning)
    for warning in empty_context_warnings({r: getattr(cfg, r).source.context for r in APP_ROLES}):
        pulumi.log.warn(warning)

    zone = verified_zone(cfg.domain, cfg.edge.plan, cfg.edge.zone_id)
    identity = aws.get_caller_identity()
    deployment = Deployment.from_config(cfg, account_id=identity.account_id)

    data = _data_tier(cfg, deployment)
    origin = _edge_origin(cfg, deployment, zone, data)
    app = _app_tier(cfg, deployment, data, origin)
    edge = _edge(cfg, deployment, origin, app, edge_rate_limits.rules)
    backups = _backups(cfg, deployment, data, app)
    return _outputs(cfg, data, origin, app, edge, backups)


def _data_tier(cfg: StackConfig, deployment: Deployment) -> _DataTier:
    network = Network(
        "network", NetworkArgs.from_config(deployment, cfg.network, extra_egress_ports=cfg.egress_ports)
    )
    app_secrets = AppSecrets(
        "app-secrets", AppSecretsArgs(deployment=deployment, secret_names=cfg.secret_names)
    )
    # Both data stores: private subnets, reachable from the app tasks only, connection secret under the
    # AppSecrets key (tasks decrypt every secret with one key), logs under the stack's logs key.
    data_store_common: dict[str, Any] = {
        "deployment": deployment,
        "vpc_id": network.vpc_id,
        "subnet_ids": network.private_subnet_ids,
        "app_security_group_id": network.app_security_group_id,
        "secrets_kms_key_arn": app_secrets.kms_key_arn,
        "log_kms_key_arn": network.logs_kms_key_arn,
        "log_retention_days": cfg.effective_log_retention_days,
    }
    postgres = Postgres("postgres", PostgresArgs(**data_store_common, config=cfg.postgres))
    redis = Redis("redis", RedisArgs(**data_store_common, config=cfg.redis, queue=cfg.app.queue))
    return _DataTier(network, app_secrets, postgres, redis)


def _edge_origin(cfg: StackConfig, deployment: Deployment, zone: CloudflareZone, data: _DataTier) -> _Origin:
    """alb: validated certificate, Cloudflare ranges and origin secret for the ALB (in the verified zone);
    tunnel: the tunnel, its configuration and token, in the zone's account."""
    if cfg.edge.origin == "tunnel":
        tunnel = EdgeTunnel(
            "edge-tunnel",
            EdgeTunnelArgs(
                deployment=deployment,
                account_id=zone.account_id,
                hostname=cfg.api_hostname,
                api_port=cfg.api.port,
                vpc_id=data.network.vpc_id,
                secrets_kms_key_arn=data.app_secrets.kms_key_arn,
            ),
        )
        return _Origin(zone.id, tunnel=tunnel)
    alb = EdgeOrigin(
        "edge-origin",
        EdgeOriginArgs(deployment=deployment, domain=cfg.domain, hostname=cfg.api_hostname, zone_id=zone.id),
    )
    return _Origin(zone.id, alb=alb)


def _app_tier(cfg: StackConfig, deployment: Deployment, data: _DataTier, origin: _Origin) -> _AppTier:
    network, app_secrets, postgres, redis = data.network, data.app_secrets, data.postgres, data.redis
    # One environment for the three services: plain values in `environment`, secrets as literal ARNs.
    app_env = build_app_environment(
        cfg,
        env_parts=[postgres.env, redis.env],
        secret_parts=[postgres.ecs_secrets, redis.ecs_secrets, app_secrets.ecs_secrets],
        secret_arn_patterns=[
            postgres.secret_arn_patterns,
            redis.secret_arn_patterns,
            app_secrets.secret_arn_patterns,
        ],
        required=cfg.app.required_env,
    )
    # The tunnel token is read by the API's cloudflared: the execution role may read it too.
    tunnel_patterns = [origin.tunnel.token_secret_arn_pattern] if origin.tunnel is not None else []
    cluster = _cluster(cfg, deployment, [*app_env.secret_arn_patterns, *tunnel_patterns], app_secrets)
    lb = _load_balancer(cfg, deployment, network, origin.alb) if origin.alb is not None else None
    service_common = {
        "deployment": deployment,
        "cluster": cluster,
        "app": app_env,
        "subnet_ids": network.private_subnet_ids,
        "security_group_id": network.app_security_group_id,
        "log_retention_days": cfg.effective_log_retention_days,
        "log_kms_key_arn": network.logs_kms_key_arn,
        # Every secret version the tasks read: the services start after them and redeploy when one changes.
        "secret_versions": {
            DATABASE_SECRET: postgres.secret_version_id,
            REDIS_SECRET: redis.secret_version_id,
            **app_secrets.secret_version_ids,
        },
    }
    api = ApiService(
        "api",
        ApiServiceArgs(
            **service_common,
            size=cfg.api.size,
            command=cfg.api.command,
            spot=cfg.api.spot,
            load_balancer=lb,
            tunnel=origin.tunnel,
            port=cfg.api.port,
            health_check_path=cfg.api.health_check_path,
            health_check_grace_seconds=cfg.api.health_check_grace_seconds,
            min_replicas=cfg.api.min_replicas,
            max_replicas=cfg.api.max_replicas,
            cpu_target_percent=cfg.api.cpu_target_percent,
            memory_target_percent=cfg.api.memory_target_percent,
            scale_in_cooldown_seconds=cfg.api.scale_in_cooldown_seconds,
            scale_out_cooldown_seconds=cfg.api.scale_out_cooldown_seconds,
            migrate_command=cfg.app.migrate_command,
        ),
    )
    worker = WorkerService(
        "worker",
        WorkerServiceArgs(
            **service_common,
            size=cfg.worker.size,
            command=cfg.worker.command,
            replicas=cfg.worker.replicas,
            spot=cfg.worker.spot,
        ),
    )
    # No replicas: the scheduler always runs exactly one task.
    scheduler = SchedulerService(
        "scheduler",
        SchedulerServiceArgs(
            **service_common, size=cfg.scheduler.size, command=cfg.scheduler.command, spot=cfg.scheduler.spot
        ),
    )
    observability = _observability(cfg, deployment, data, cluster, lb, api, scheduler)
    return _AppTier(cluster, lb, api, worker, scheduler, observability)


def _cluster(
    cfg: StackConfig, deployment: Deployment, secret_arn_patterns: Sequence[str], app_secrets: AppSecrets
) -> Cluster:
    return Cluster(
        "app",
        ClusterArgs(
            deployment=deployment,
            sources={
                "api": cfg.api.source,
                "worker": cfg.worker.source,
                "scheduler": cfg.scheduler.source,
            },
            secret_arn_patterns=secret_arn_patterns,
            # Every app secret (DB, Redis, JWT, third-party) is encrypted with the AppSecrets key.
            secret_kms_key_arns=[app_secrets.kms_key_arn],
        ),
    )


def _load_balancer(
    cfg: StackConfig, deployment: Deployment, network: Network, origin: EdgeOrigin
) -> LoadBalancer:
    return LoadBalancer(
        "api-lb",
        LoadBalancerArgs(
            deployment=deployment,
            vpc_id=network.vpc_id,
            public_subnet_ids=network.public_subnet_ids,
            app_security_group_id=network.app_security_group_id,
            certificate_arn=origin.certificate_arn,
            cloudflare_ipv4=origin.cloudflare_ipv4,
            cloudflare_ipv6=origin.cloudflare_ipv6,
            origin_header_name=origin.origin_header_name,
            origin_secret=origin.origin_secret,
            container_port=cfg.api.port,
            health_check_path=cfg.api.health_check_path,
        ),
    )


def _observability(
    cfg: StackConfig,
    deployment: Deployment,
    data: _DataTier,
    cluster: Cluster,
    lb: LoadBalancer | None,
    api: ApiService,
    scheduler: SchedulerService,
) -> Observability:
    return Observability(
        "observability",
        ObservabilityArgs(
            deployment=deployment,
            cluster_name=cluster.cluster_name,
            api_service_name=api.service_name,
            scheduler_service_name=scheduler.service_name,
            alb_arn_suffix=lb.arn_suffix if lb is not None else None,
            target_group_arn_suffix=lb.target_group_arn_suffix if lb is not None else None,
            db_instance_identifier=data.postgres.instance_identifier,
            redis_cache_cluster_ids=data.redis.cache_cluster_ids,
            alert_email=cfg.alerts.email,
        ),
    )


def _edge(cfg: StackConfig, deployment: Deployment, origin: _Origin, app: _AppTier, rate_limits: Any) -> Edge:
    """Proxied record -> ALB or tunnel, zone TLS settings, WAF, rate limits (translated in deploy), and the
    origin header the ALB requires."""
    common: dict[str, Any] = {
        "deployment": deployment,
        "zone_id": origin.zone_id,
        "hostname": cfg.api_hostname,
        "plan": cfg.edge.plan,
        "rate_limits": rate_limits,
        # Day one in production only logs OWASP anomalies (false positives on a JSON API); staging blocks.
        "owasp_action": cfg.edge.owasp_action or ("log" if cfg.is_production else "block"),
    }
    if origin.tunnel is not None:
        tunnel = origin.tunnel
        return Edge(
            "edge",
            EdgeArgs(
                **common,
                origin_name=tunnel.cname_target,
                origin_header_name=None,
                origin_secret=None,
                origin_ready=[tunnel.tunnel_config],
                origin_kind="tunnel",
            ),
        )
    assert origin.alb is not None and app.lb is not None
    return Edge(
        "edge",
        EdgeArgs(
            **common,
            origin_name=app.lb.dns_name,
            origin_header_name=origin.alb.origin_header_name,
            origin_secret=origin.alb.origin_secret,
        ),
    )


def _backups(cfg: StackConfig, deployment: Deployment, data: _DataTier, app: _AppTier) -> Backups:
    """Daily pg_dump to S3 (01:00 UTC), copy to backups.copyRegion in production, on-demand restore task."""
    return Backups(
        "backups",
        BackupsArgs(
            deployment=deployment,
            config=cfg.backups,
            postgres_major_version=cfg.postgres.major_version,
            database_name=data.postgres.database_name,
            database_user=data.postgres.username,
            database_secret_name=data.postgres.secret_name,
            secrets_kms_key_arn=data.app_secrets.kms_key_arn,
            cluster_name=app.cluster.cluster_name,
            cluster_arn=app.cluster.cluster_arn,
            subnet_ids=data.network.private_subnet_ids,
            # The database admits 5432 from the app tasks' security group only: the backup task uses it.
            security_group_id=data.network.app_security_group_id,
            alarm_topic_arn=app.observability.topic_arn,
            log_retention_days=cfg.effective_log_retention_days,
            max_database_size_gb=cfg.postgres.max_allocated_storage_gb,
        ),
    )


def _outputs(
    cfg: StackConfig, data: _DataTier, origin: _Origin, app: _AppTier, edge: Edge, backups: Backups
) -> dict[str, Any]:
    api, worker, scheduler = app.api, app.worker, app.scheduler
    outputs: dict[str, Any] = {
        "apiHostname": cfg.api_hostname,
        "apiUrl": f"https://{cfg.api_hostname}",
        "vpcId": data.network.vpc_id,
        "availabilityZones": data.network.availability_zones,
        "privateSubnetIds": data.network.private_subnet_ids,
        "databaseEndpoint": data.postgres.address,
        "databaseSecretName": data.postgres.secret_name,
        "redisEndpoint": data.redis.primary_endpoint,
        "redisSecretName": data.redis.secret_name,
        # Third-party secrets hold an `unset:` placeholder: fill each once with its command (the value never
        # passes Pulumi; up/refresh leave it alone), then redeploy the services.
        "secretsToFill": data.app_secrets.fill_commands,
        "cloudflareZoneId": origin.zone_id,
        "edgeRulesetIds": edge.ruleset_ids,
        "clusterName": app.cluster.cluster_name,
        "apiServiceName": api.service_name,
        "workerServiceName": worker.service_name,
        "schedulerServiceName": scheduler.service_name,
        "logGroups": {s.role: s.log_group_name for s in (api, worker, scheduler)},
        "alertsTopicArn": app.observability.topic_arn,
        # Migrations before a deploy (README "Database migrations"): a one-off task of the API family.
        "migrateCommand": api.migrate_command,
        "migrateTargets": api.migrate_targets,
        "backupBucket": backups.bucket_name,
        "backupNowCommand": backups.backup_now_command,
        # Replace <RESTORE_KEY> and <RESTORE_TARGET_DATABASE> (README "Backups and restore runbook").
        "restoreCommand": backups.restore_command,
    }
    if backups.replica_bucket_name is not None:
        outputs["backupReplicaBucket"] = backups.replica_bucket_name
    if origin.tunnel is not None:
        outputs["tunnelId"] = origin.tunnel.tunnel_id
    return outputs
