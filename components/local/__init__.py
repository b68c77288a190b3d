"""The local dev stack (``platform: docker``, ``environment: dev``): the same topology on local Docker.

Same component boundaries as the AWS stacks, other implementations (``saas:local:<Name>`` tokens); what the
two share comes from the shared modules of ``components/`` (``specs``, ``images``, ``app_env``), never
from a copy:

* Network -> ``LocalNetwork`` (a bridge network): names from ``Deployment.prefix``.
* AppSecrets -> ``LocalAppSecrets`` (container env): the generated keys, their size and the reserved names.
* Postgres, Redis -> ``LocalPostgres``, ``LocalRedis``: credential specs, maxmemory policy, the ``env`` and
  secret variable names (``ECS_SECRETS``).
* backups bucket -> ``LocalObjectStore`` (MinIO): bucket name, retention, noncurrent-version expiry.
* Cluster images -> ``LocalImages``: the content-hash tag of a build context
  (``components.images.image_tag``).
* Api/WorkerService -> ``LocalService``: the app environment (``app_env.build_app_environment``).
* SchedulerService -> ``LocalScheduler``: no replicas argument, exactly one container by construction.
* Backups -> ``LocalBackups``: the pg-backup image (PG_MAJOR), ``backups.schedule``, the dump key prefix.

:func:`components.local.stack.deploy` composes them (``__main__.py`` calls it when ``cfg.platform`` is
``docker``). Tags become Docker labels (``Deployment.tags``), so the policy pack reads the same ``role`` key.
"""
