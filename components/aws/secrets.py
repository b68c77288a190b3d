"""AppSecrets: the application's secrets in Secrets Manager, under one customer KMS key.

* Generated (``pulumi_random``, 32 random bytes as 64 hex characters, like ``openssl rand -hex 32``):
  ``JWT_SECRET``, ``JWT_REFRESH_SECRET``, ``ENCRYPTION_KEY``. Each is a secret named
  ``<app>/<environment>/<NAME>`` with a version holding the value (a Pulumi secret: encrypted in state).
* Third-party keys (``secretNames`` in the stack config): a named secret each, created with a placeholder
  version and filled out of band, once per environment (the real value never passes through Pulumi)::

      aws secretsmanager put-secret-value --region us-west-2 \\
          --secret-id escalating-reminders/staging/SENDGRID_API_KEY --secret-string "$SENDGRID_API_KEY"

  ``fill_commands`` holds that command for every such secret (exported as the ``secretsToFill`` output).

Why a placeholder: ECS cannot start a task whose ``secrets`` name a secret without an ``AWSCURRENT`` value
("ResourceInitializationError: unable to pull secrets"); the circuit breaker would roll the first deployment
back and fail ``pulumi up``. So each third-party secret starts with a ``SecretVersion`` holding
:func:`placeholder`, ``unset: fill with `<fill command>```: a literal, not a secret. The app must treat a
value starting with :data:`UNSET_PREFIX` as "not configured" (the local dev stack passes such a key empty).

How it survives the out-of-band fill: ``put-secret-value`` adds a version that takes ``AWSCURRENT``; the
placeholder version stays (``AWSPREVIOUS``, unlabelled after a second fill). Pulumi tracks only the
placeholder version, by version id, and never writes to the secret again:

* ``pulumi refresh`` reads that same version (same text, new labels); ``pulumi up`` then has nothing to do.
  ``secretString`` is in ``ignore_changes`` because the provider *replaces* a version whose text changes,
  and a new version takes ``AWSCURRENT`` (editing the placeholder text would overwrite the real value).
  ``versionStages`` is never set (setting it would move ``AWSCURRENT`` back) and not ignored either
  (ignoring copies the last recorded labels into the inputs, which after a refresh could do the same).
* ``retain_on_delete``: Pulumi never deletes the version (the provider would try to remove the labels it
  last recorded, which a later fill may have moved: the delete fails). The version goes with its secret
  (``secretNames`` entry removed, stack destroyed), which Secrets Manager deletes after the recovery window.
* A new placeholder is made only for a new secret (new ``secretNames`` entry, secret replaced): exactly
  when it is empty. Renaming the component or this resource would make a new placeholder version current
  over the real value: add an alias instead. (Secrets Manager may prune unlabelled versions of a secret
  past 100 versions; if it pruned the placeholder, a refresh forgets it and the next ``up`` writes it
  again: refill.)
* ECS reads secrets when a task starts: after a fill, redeploy (``aws ecs update-service --cluster <c>
  --service <s> --force-new-deployment``, or the next deployment). Versions Pulumi writes (generated keys,
  DATABASE, REDIS) redeploy the services themselves through their ``triggers`` (``secret_version_ids``).

The key's policy (:func:`service_key_policy`) lets the account administer it and use it only through Secrets
Manager: no principal can call ``kms:Decrypt`` on it directly, whatever its IAM policies say.

ECS reads them through ``ecs_secrets`` (plain ``{"name", "valueFrom"}`` entries with literal partial ARNs);
the task execution role needs ``secretsmanager:GetSecretValue`` on ``secret_arn_patterns`` and
``kms:Decrypt`` on ``kms_key_arn``. The Postgres and Redis components encrypt their secrets with the same
key (pass ``kms_key_arn``), so one key serves every secret a task reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from .. import specs
from ..common import Deployment, child, require
from .kms import kms_key, service_key_policy

COMPONENT = "AppSecrets"
GENERATED = specs.GENERATED
GENERATED_BYTES = specs.GENERATED_BYTES
# A third-party secret's value until it is filled: the app treats a value with this prefix as not configured.
UNSET_PREFIX = "unset:"
_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def recovery_window_days(deployment: Deployment) -> int:
    """Days a deleted secret can still be restored: 30 in production, 7 elsewhere."""
    return 30 if deployment.is_production else 7


def named_secret(
    resource_name: str,
    deployment: Deployment,
    key: str,
    kms_key_id: pulumi.Input[str],
    description: str,
    parent: pulumi.Resource,
) -> aws.secretsmanager.Secret:
    """The Secrets Manager secret ``deployment.secret_name(key)``, encrypted with ``kms_key_id``."""
    return aws.secretsmanager.Secret(
        resource_name,
        name=deployment.secret_name(key),
        description=description,
        kms_key_id=kms_key_id,
        recovery_window_in_days=recovery_window_days(deployment),
        tags=deployment.tags(),
        opts=child(parent),
    )


def fill_command(deployment: Deployment, key: str) -> str:
    """The command that puts a value into an out-of-band secret (reads it from the variable ``$KEY``)."""
    return (
        f"aws secretsmanager put-secret-value --region {deployment.region} "
        f'--secret-id {deployment.secret_name(key)} --secret-string "${key}"'
    )


def placeholder(deployment: Deployment, key: str) -> str:
    """The initial value of a third-party secret (not a secret): ``unset: fill with `<fill command>```."""
    return f"{UNSET_PREFIX} fill with `{fill_command(deployment, key)}`"


def _slug(key: str) -> str:
    return key.lower().replace("_", "-")


reserved_names = specs.reserved_names


@dataclass(frozen=True)
class AppSecretsArgs:
    deployment: Deployment
    # Third-party secrets (the stack config's `secretNames`): a placeholder, filled out of band.
    secret_names: Sequence[str] = field(default_factory=tuple)


def _validate(args: AppSecretsArgs) -> None:
    owned = reserved_names()
    seen: set[str] = set()
    for n, key in enumerate(args.secret_names):
        field_name = f"secret_names[{n}]"
        require(
            bool(_NAME_RE.match(key)), COMPONENT, field_name, key, "must be an env var name (A-Z, 0-9, _)"
        )
        require(key not in seen, COMPONENT, field_name, key, "names must be unique")
        require(key not in owned, COMPONENT, field_name, key, f"the name is reserved ({owned.get(key)})")
        seen.add(key)


class AppSecrets(pulumi.ComponentResource):
    kms_key_arn: pulumi.Output[str]
    secret_arns: dict[str, pulumi.Output[str]]
    secret_version_ids: dict[str, pulumi.Output[str]]
    ecs_secrets: list[dict[str, str]]
    secret_arn_patterns: list[str]
    generated_names: list[str]
    external_names: list[str]
    fill_commands: dict[str, str]

    def __init__(self, name: str, args: AppSecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(args)
        super().__init__("saas:secrets:AppSecrets", name, None, opts)
        d = args.deployment

        # Used only through Secrets Manager (tasks' execution roles, Pulumi, the out-of-band fill).
        key = kms_key(
            name,
            d,
            "secrets",
            f"Secrets Manager secrets of {d.prefix}",
            self,
            policy=service_key_policy(d, ["secretsmanager"]),
        )
        self.kms_key_arn = key.arn

        self.generated_names = list(GENERATED)
        self.external_names = list(args.secret_names)
        self.secret_arns = {}
        self.secret_version_ids = {}
        for secret_key in self.generated_names:
            value = random.RandomBytes(
                f"{name}-{_slug(secret_key)}-value",
                length=GENERATED_BYTES,
                opts=child(self, additional_secret_outputs=["hex", "base64"]),
            )
            secret = named_secret(
                f"{name}-{_slug(secret_key)}",
                d,
                secret_key,
                key.arn,
                f"{secret_key} of {d.prefix}: {GENERATED_BYTES} random bytes, hex (generated by Pulumi)",
                self,
            )
            version = aws.secretsmanager.SecretVersion(
                f"{name}-{_slug(secret_key)}-version",
                secret_id=secret.id,
                secret_string=pulumi.Output.secret(value.hex),
                opts=child(self),
            )
            self.secret_arns[secret_key] = secret.arn
            self.secret_version_ids[secret_key] = version.version_id

        self.fill_commands = {}
        for secret_key in self.external_names:
            secret = named_secret(
                f"{name}-{_slug(secret_key)}",
                d,
                secret_key,
                key.arn,
                f"{secret_key} of {d.prefix}: filled out of band with `{fill_command(d, secret_key)}`",
                self,
            )
            # The placeholder that lets tasks start before the fill; Pulumi never touches the secret's value
            # again (module docstring): no versionStages, text changes ignored, never deleted by Pulumi.
            version = aws.secretsmanager.SecretVersion(
                f"{name}-{_slug(secret_key)}-placeholder",
                secret_id=secret.id,
                secret_string=placeholder(d, secret_key),
                opts=child(self, ignore_changes=["secretString"], retain_on_delete=True),
            )
            self.secret_arns[secret_key] = secret.arn
            self.secret_version_ids[secret_key] = version.version_id
            self.fill_commands[secret_key] = fill_command(d, secret_key)

        all_names = self.generated_names + self.external_names
        self.ecs_secrets = [{"name": n, "valueFrom": d.secret_arn(n)} for n in all_names]
        self.secret_arn_patterns = [d.secret_arn_pattern(n) for n in all_names]

        self.register_outputs(
            {
                "kmsKeyArn": self.kms_key_arn,
                "secretArns": self.secret_arns,
                "secretVersionIds": self.secret_version_ids,
                "ecsSecrets": self.ecs_secrets,
                "secretArnPatterns": self.secret_arn_patterns,
                "fillCommands": self.fill_commands,
            }
        )
