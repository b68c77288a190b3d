"""AppSecrets: the application's secrets in Secrets Manager, under one customer KMS key.

Generated keys (``JWT_SECRET``, ``JWT_REFRESH_SECRET``, ``ENCRYPTION_KEY``: 32 random bytes, hex) get a
version Pulumi writes; third-party keys (``secretNames``) start with a placeholder and are filled out of
band (docs/decisions/secret-placeholders.md). Tasks read them through ``ecs_secrets``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    """Days a deleted secret can still be restored: 30 in production, 0 elsewhere.

    A secret in its recovery window keeps its name, so a destroyed staging could not be created again for a
    week; 0 deletes without recovery (Secrets Manager API reference, DeleteSecret,
    ``ForceDeleteWithoutRecovery``; the provider's ``recovery_window_in_days`` takes 0 or 7-30)."""
    return 30 if deployment.is_production else 0


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


def connection_secret(
    name: str,
    deployment: Deployment,
    key: str,
    kms_key_id: pulumi.Input[str],
    description: str,
    fields: pulumi.Output[dict[str, Any]],
    parent: pulumi.Resource,
) -> tuple[aws.secretsmanager.Secret, aws.secretsmanager.SecretVersion]:
    """A data store's JSON connection secret (``<name>-secret``) and the version holding ``fields``
    (``<name>-secret-version``, a Pulumi secret)."""
    secret = named_secret(f"{name}-secret", deployment, key, kms_key_id, description, parent)
    version = aws.secretsmanager.SecretVersion(
        f"{name}-secret-version",
        secret_id=secret.id,
        secret_string=pulumi.Output.secret(fields.apply(lambda f: json.dumps(f, sort_keys=True))),
        opts=child(parent),
    )
    return secret, version


def json_key_references(
    deployment: Deployment, key: str, json_keys: Mapping[str, str]
) -> list[dict[str, str]]:
    """ECS ``secrets`` entries: environment variable -> one key of the JSON secret ``key``."""
    return [
        {"name": env_name, "valueFrom": deployment.secret_arn(key, json_key)}
        for env_name, json_key in json_keys.items()
    ]


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
    _deployment: Deployment

    def __init__(self, name: str, args: AppSecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(args)
        super().__init__("saas:secrets:AppSecrets", name, None, opts)
        self._deployment = args.deployment
        self.generated_names = list(GENERATED)
        self.external_names = list(args.secret_names)
        self.secret_arns = {}
        self.secret_version_ids = {}
        self.fill_commands = {}

        key = self._key(name)
        for secret_key in self.generated_names:
            self._generated(name, secret_key, key)
        for secret_key in self.external_names:
            self._external(name, secret_key, key)
        self._task_interface()

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

    def _key(self, name: str) -> aws.kms.Key:
        """Used only through Secrets Manager (tasks' execution roles, Pulumi, the out-of-band fill)."""
        d = self._deployment
        key = kms_key(
            name,
            d,
            "secrets",
            f"Secrets Manager secrets of {d.prefix}",
            self,
            policy=service_key_policy(d, ["secretsmanager"]),
        )
        self.kms_key_arn = key.arn
        return key

    def _generated(self, name: str, secret_key: str, key: aws.kms.Key) -> None:
        """A generated key: random bytes, and a version holding them (a Pulumi secret)."""
        d = self._deployment
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

    def _external(self, name: str, secret_key: str, key: aws.kms.Key) -> None:
        """A third-party key: the secret and its placeholder, which lets tasks start before the fill. Pulumi
        never touches the value again (docs/decisions/secret-placeholders.md): no versionStages, text changes
        ignored, never deleted by Pulumi."""
        d = self._deployment
        secret = named_secret(
            f"{name}-{_slug(secret_key)}",
            d,
            secret_key,
            key.arn,
            f"{secret_key} of {d.prefix}: filled out of band with `{fill_command(d, secret_key)}`",
            self,
        )
        version = aws.secretsmanager.SecretVersion(
            f"{name}-{_slug(secret_key)}-placeholder",
            secret_id=secret.id,
            secret_string=placeholder(d, secret_key),
            opts=child(self, ignore_changes=["secretString"], retain_on_delete=True),
        )
        self.secret_arns[secret_key] = secret.arn
        self.secret_version_ids[secret_key] = version.version_id
        self.fill_commands[secret_key] = fill_command(d, secret_key)

    def _task_interface(self) -> None:
        d = self._deployment
        all_names = self.generated_names + self.external_names
        self.ecs_secrets = [{"name": n, "valueFrom": d.secret_arn(n)} for n in all_names]
        self.secret_arn_patterns = [d.secret_arn_pattern(n) for n in all_names]
