"""saas-guardrails: the CrossGuard rules of the saas-backend program, one module per area.

``ALL_POLICIES`` is what ``policies/__main__.py`` serves. Importable both as ``saas_guardrails`` (inside the
pack process, whose directory is ``policies/``) and as ``policies.saas_guardrails`` (from the repo root).
"""

from __future__ import annotations

from pulumi_policy import Policy

from . import (
    alb,
    backups,
    cloudflare,
    docker,
    ecs,
    elasticache,
    kms,
    logs,
    nat_instance,
    network,
    protection,
    rds,
    replacement,
    replication,
    s3,
    sns,
    tags,
    tunnel,
)

PACK_NAME = "saas-guardrails"
PACK_DESCRIPTION = (
    "Guardrails of the saas-backend program: singleton scheduler, encrypted private data stores, locked-down "
    "network and edge, log retention, tags and protection of production state."
)

ALL_POLICIES: list[Policy] = [
    *ecs.POLICIES,
    *docker.POLICIES,
    *rds.POLICIES,
    *elasticache.POLICIES,
    *s3.POLICIES,
    *backups.POLICIES,
    *replication.POLICIES,
    *network.POLICIES,
    *nat_instance.POLICIES,
    *alb.POLICIES,
    *logs.POLICIES,
    *kms.POLICIES,
    *tags.POLICIES,
    *cloudflare.POLICIES,
    *tunnel.POLICIES,
    *protection.POLICIES,
    *sns.POLICIES,
    *replacement.POLICIES,
]

__all__ = ["ALL_POLICIES", "PACK_DESCRIPTION", "PACK_NAME"]
