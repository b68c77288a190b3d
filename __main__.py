"""saas-backend: reads the stack's typed config once and composes the components (docs/interfaces.md)."""

import pulumi
import pulumi_aws as aws

from components.common import Deployment
from components.config import ConfigError, from_pulumi

try:
    cfg = from_pulumi()
except ConfigError as error:
    # One line naming key, value and what is allowed; RunError makes the engine print no traceback.
    raise pulumi.RunError(str(error)) from None

if cfg.platform == "docker":
    # --- local dev stack (issue 9): environment dev on the local Docker engine, no AWS, no Cloudflare ---
    from components.local.stack import deploy

    for name, value in deploy(cfg).items():
        pulumi.export(name, value)
else:
    # The AWS stacks (staging, production). Each tier's block below, indented one level.
    identity = aws.get_caller_identity()
    deployment = Deployment.from_config(cfg, account_id=identity.account_id)

    # --- data tier: network, app_secrets, postgres, redis (issue 3) ---
    from components.network import Network, NetworkArgs
    from components.postgres import Postgres, PostgresArgs
    from components.redis import Redis, RedisArgs
    from components.secrets import AppSecrets, AppSecretsArgs

    # A component input that is invalid stops the program with one line (ValueError from common.require).
    try:
        network = Network("network", NetworkArgs.from_config(deployment, cfg.network))
        app_secrets = AppSecrets(
            "app-secrets", AppSecretsArgs(deployment=deployment, secret_names=cfg.secret_names)
        )
        postgres = Postgres(
            "postgres",
            PostgresArgs(
                deployment=deployment,
                config=cfg.postgres,
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                app_security_group_id=network.app_security_group_id,
                secrets_kms_key_arn=app_secrets.kms_key_arn,
                log_retention_days=cfg.effective_log_retention_days,
            ),
        )
        redis = Redis(
            "redis",
            RedisArgs(
                deployment=deployment,
                config=cfg.redis,
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                app_security_group_id=network.app_security_group_id,
                secrets_kms_key_arn=app_secrets.kms_key_arn,
                log_retention_days=cfg.effective_log_retention_days,
            ),
        )
    except ValueError as error:
        raise pulumi.RunError(str(error)) from None
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("availabilityZones", network.availability_zones)
    pulumi.export("privateSubnetIds", network.private_subnet_ids)
    pulumi.export("databaseEndpoint", postgres.address)
    pulumi.export("databaseSecretName", postgres.secret_name)
    pulumi.export("redisEndpoint", redis.primary_endpoint)
    pulumi.export("redisSecretName", redis.secret_name)
    # Third-party secrets created empty: fill each once with its command (the value never passes Pulumi).
    pulumi.export("secretsToFill", app_secrets.fill_commands)

    # --- edge origin: origin (issue 6) ---
    from components.edge import EdgeOrigin, EdgeOriginArgs
    from components.ratelimit import stack_limits, translate_all

    # The edge rate limits translated for the Cloudflare plan here, before the app tier and the edge exist:
    # a limit the plan cannot express stops the program with one line (components/ratelimit.py).
    try:
        edge_rate_limits = translate_all(
            cfg.edge.plan, stack_limits(cfg.edge), strict=deployment.is_production
        )
        origin = EdgeOrigin(
            "edge-origin",
            EdgeOriginArgs(
                deployment=deployment, domain=cfg.domain, hostname=cfg.api_hostname, zone_id=cfg.edge.zone_id
            ),
        )
    except ValueError as error:
        raise pulumi.RunError(str(error)) from None
    for warning in edge_rate_limits.app_only:
        pulumi.log.warn(warning)
    pulumi.export("cloudflareZoneId", origin.zone_id)

    # --- app tier: cluster, observability, lb, api, worker, scheduler (issue 4) ---
    from components.app_env import build_app_environment
    from components.cluster import Cluster, ClusterArgs
    from components.load_balancer import LoadBalancer, LoadBalancerArgs
    from components.observability import Observability, ObservabilityArgs
    from components.services import (
        ApiService,
        ApiServiceArgs,
        SchedulerService,
        SchedulerServiceArgs,
        WorkerService,
        WorkerServiceArgs,
    )

    try:
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
        )
        cluster = Cluster(
            "app",
            ClusterArgs(
                deployment=deployment,
                sources={
                    "api": cfg.api.source,
                    "worker": cfg.worker.source,
                    "scheduler": cfg.scheduler.source,
                },
                secret_arn_patterns=app_env.secret_arn_patterns,
                # Every app secret (DB, Redis, JWT, third-party) is encrypted with the AppSecrets key.
                secret_kms_key_arns=[app_secrets.kms_key_arn],
            ),
        )
        lb = LoadBalancer(
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
        service_common = {
            "deployment": deployment,
            "cluster": cluster,
            "app": app_env,
            "subnet_ids": network.private_subnet_ids,
            "security_group_id": network.app_security_group_id,
            "log_retention_days": cfg.effective_log_retention_days,
        }
        api = ApiService(
            "api",
            ApiServiceArgs(
                **service_common,
                size=cfg.api.size,
                command=cfg.api.command,
                load_balancer=lb,
                port=cfg.api.port,
                health_check_grace_seconds=cfg.api.health_check_grace_seconds,
                min_replicas=cfg.api.min_replicas,
                max_replicas=cfg.api.max_replicas,
                cpu_target_percent=cfg.api.cpu_target_percent,
                memory_target_percent=cfg.api.memory_target_percent,
                scale_in_cooldown_seconds=cfg.api.scale_in_cooldown_seconds,
                scale_out_cooldown_seconds=cfg.api.scale_out_cooldown_seconds,
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
            SchedulerServiceArgs(**service_common, size=cfg.scheduler.size, command=cfg.scheduler.command),
        )
        observability = Observability(
            "observability",
            ObservabilityArgs(
                deployment=deployment,
                cluster_name=cluster.cluster_name,
                api_service_name=api.service_name,
                scheduler_service_name=scheduler.service_name,
                alb_arn_suffix=lb.arn_suffix,
                target_group_arn_suffix=lb.target_group_arn_suffix,
                db_instance_identifier=postgres.instance_identifier,
                # ElastiCache names the group's nodes <group>-001, -002 (2 nodes in production, 1 elsewhere).
                redis_cache_cluster_ids=[
                    f"{redis.replication_group_id}-{n:03d}"
                    for n in range(1, 3 if deployment.is_production else 2)
                ],
                alert_email=cfg.alerts.email,
            ),
        )
    except ValueError as error:
        raise pulumi.RunError(str(error)) from None
    pulumi.export("apiUrl", f"https://{cfg.api_hostname}")
    pulumi.export("clusterName", cluster.cluster_name)
    pulumi.export("apiServiceName", api.service_name)
    pulumi.export("workerServiceName", worker.service_name)
    pulumi.export("schedulerServiceName", scheduler.service_name)
    pulumi.export("logGroups", {s.role: s.log_group_name for s in (api, worker, scheduler)})
    pulumi.export("alertsTopicArn", observability.topic_arn)
    # Database migrations before a deploy (README "Database migrations"): a one-off task of the API's family.
    pulumi.export("migrateCommand", api.migrate_command)
    pulumi.export("migrateTargets", api.migrate_targets)

    # --- edge: edge (issue 6) ---
    from components.edge import Edge, EdgeArgs

    try:
        # Proxied record -> ALB, zone TLS settings, WAF, rate limits (translated above), origin header.
        edge = Edge(
            "edge",
            EdgeArgs(
                deployment=deployment,
                zone_id=origin.zone_id,
                hostname=cfg.api_hostname,
                alb_dns_name=lb.dns_name,
                plan=cfg.edge.plan,
                rate_limits=edge_rate_limits.rules,
                origin_header_name=origin.origin_header_name,
                origin_secret=origin.origin_secret,
            ),
        )
    except ValueError as error:
        raise pulumi.RunError(str(error)) from None
    pulumi.export("edgeRulesetIds", edge.ruleset_ids)

    # --- backups: backups (issue 5) ---
    from components.backups import Backups, BackupsArgs

    try:
        # Daily pg_dump to S3 (01:00 UTC), copy to backups.copyRegion in production, on-demand restore task.
        backups = Backups(
            "backups",
            BackupsArgs(
                deployment=deployment,
                config=cfg.backups,
                postgres_major_version=cfg.postgres.major_version,
                database_name=postgres.database_name,
                database_user=postgres.username,
                database_secret_name=postgres.secret_name,
                secrets_kms_key_arn=app_secrets.kms_key_arn,
                cluster_name=cluster.cluster_name,
                cluster_arn=cluster.cluster_arn,
                subnet_ids=network.private_subnet_ids,
                # The database admits 5432 from the app tasks' security group only: the backup task uses it.
                security_group_id=network.app_security_group_id,
                alarm_topic_arn=observability.topic_arn,
                log_retention_days=cfg.effective_log_retention_days,
            ),
        )
    except ValueError as error:
        raise pulumi.RunError(str(error)) from None
    pulumi.export("backupBucket", backups.bucket_name)
    pulumi.export("backupNowCommand", backups.backup_now_command)
    # Replace <RESTORE_KEY> and <RESTORE_TARGET_DATABASE> (README "Backups and restore runbook").
    pulumi.export("restoreCommand", backups.restore_command)
    if backups.replica_bucket_name is not None:
        pulumi.export("backupReplicaBucket", backups.replica_bucket_name)
    pulumi.export("apiHostname", cfg.api_hostname)

pulumi.export("environment", cfg.environment)
