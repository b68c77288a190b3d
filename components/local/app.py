"""The app tier of the dev stack: generated app keys, images, and the api / worker / scheduler containers.

The containers start with the same environment as the AWS task definitions: the plain variables come from
:func:`components.app_env.build_app_environment` itself (same config, same data-tier ``env`` dicts, same
checks); every name the AWS tasks receive through ``secrets`` (Secrets Manager) is a plain container
variable here, holding the local value (a Pulumi secret in the stack's state, visible to whoever runs
``docker inspect`` on this machine).

Like ECS, each container has a read-only root filesystem with a writable ``/tmp`` and an init process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from ..app_env import build_app_environment, check_required
from ..common import Deployment, child, require
from ..config import ImageSource, StackConfig
from ..specs import GENERATED, GENERATED_BYTES, TASK_TMP, reserved_names
from .common import (
    RESTART,
    STOP_GRACE_SECONDS,
    built_image,
    check_role,
    container_names,
    env_list,
    healthcheck,
    labels,
    loopback_port,
    network_attachment,
    pulled_image,
    resource_names,
)
from .network import LocalNetwork

# The name under which the app containers reach this machine (MailHog, other host services).
HOST_ALIAS = "host.docker.internal"

# ---------------------------------------------------------------------------------------------------------
# Secrets


@dataclass(frozen=True)
class LocalAppSecretsArgs:
    deployment: Deployment
    # Third-party secrets (the stack config's `secretNames`): no Secrets Manager locally.
    secret_names: Sequence[str] = field(default_factory=tuple)
    # Where their values come from when `pulumi up` runs (default: its environment); absent means empty.
    environ: Mapping[str, str] | None = None


class LocalAppSecrets(pulumi.ComponentResource):
    """The app keys AppSecrets generates on AWS (same names, same 32 random bytes as hex), and the
    third-party secrets taken from the environment of ``pulumi up`` (``GOOGLE_CLIENT_SECRET=... pulumi up``).

    Plain: ``generated_names``, ``external_names``, ``missing_names`` (third-party names with no value: the
    app gets them empty). Output: ``values`` (name -> secret Output).
    """

    values: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: LocalAppSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        owned = reserved_names()
        for n, key in enumerate(args.secret_names):
            require(
                key not in owned,
                "LocalAppSecrets",
                f"secret_names[{n}]",
                key,
                f"the name is reserved ({owned.get(key)})",
            )
        require(
            len(set(args.secret_names)) == len(args.secret_names),
            "LocalAppSecrets",
            "secret_names",
            list(args.secret_names),
            "names must be unique",
        )
        super().__init__("saas:local:AppSecrets", name, None, opts)
        environ = os.environ if args.environ is None else args.environ
        self.generated_names = list(GENERATED)
        self.external_names = list(args.secret_names)
        self.missing_names = [key for key in self.external_names if not environ.get(key)]
        self.values = {}
        for key in self.generated_names:
            value = random.RandomBytes(
                f"{name}-{key.lower().replace('_', '-')}-value",
                length=GENERATED_BYTES,
                opts=child(self, additional_secret_outputs=["hex", "base64"]),
            )
            self.values[key] = pulumi.Output.secret(value.hex)
        for key in self.external_names:
            self.values[key] = pulumi.Output.secret(environ.get(key, ""))
        self.register_outputs({"generatedNames": self.generated_names, "missingNames": self.missing_names})


# ---------------------------------------------------------------------------------------------------------
# Images


@dataclass(frozen=True)
class LocalImagesArgs:
    deployment: Deployment
    # role (api, worker, scheduler) -> where its image comes from (the same config as the AWS Cluster).
    sources: Mapping[str, ImageSource]


class LocalImages(pulumi.ComponentResource):
    """One image per distinct source: a pinned ``image`` is pulled, a ``context`` is built on this machine
    (``<prefix>/<role>:sha-<content hash>``, the AWS stacks' tag). Plain: ``image_refs`` (role -> name).
    Outputs: ``image_ids`` (role -> image id, what the containers run)."""

    image_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: LocalImagesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        require(bool(args.sources), "LocalImages", "sources", dict(args.sources), "give at least one role")
        for role in args.sources:
            check_role("LocalImages", role)
        super().__init__("saas:local:Images", name, None, opts)
        d = args.deployment
        self.image_refs: dict[str, str] = {}
        self.image_ids = {}
        made: dict[tuple[str, ...], tuple[docker.RemoteImage, str]] = {}
        for role, source in args.sources.items():
            if source.image is not None:
                key: tuple[str, ...] = ("image", source.image)
                if key not in made:
                    made[key] = (pulled_image(f"{name}-{role}", source.image, self), source.image)
            else:
                assert source.context is not None  # ImageSource guarantees exactly one of image/context
                dockerfile = os.path.relpath(source.dockerfile_path, source.context)
                key = ("context", os.path.normpath(source.context), dockerfile)
                if key not in made:
                    made[key] = built_image(
                        f"{name}-{role}",
                        d,
                        role,
                        source.context,
                        self,
                        dockerfile=dockerfile,
                        component="LocalImages",
                    )
            image, ref = made[key]
            self.image_refs[role] = ref
            self.image_ids[role] = image.image_id
        self.register_outputs({"imageRefs": self.image_refs})


# ---------------------------------------------------------------------------------------------------------
# App environment


@dataclass(frozen=True)
class LocalAppEnvironment:
    """Plain ``variables`` (as on AWS) and ``secrets`` (the AWS secret names, local values)."""

    variables: Mapping[str, str]
    secrets: Mapping[str, pulumi.Input[str]]

    @property
    def names(self) -> list[str]:
        return sorted([*self.variables, *self.secrets])


def local_app_environment(
    cfg: StackConfig,
    *,
    env_parts: Sequence[Mapping[str, str]],
    secret_parts: Sequence[Mapping[str, pulumi.Input[str]]],
    required: Sequence[str] = (),
) -> LocalAppEnvironment:
    """The AWS app environment's variables (``build_app_environment``), plus the secret values under the
    names the AWS tasks read from Secrets Manager; each ``required`` name checked. One line per error."""
    base = build_app_environment(cfg, env_parts=env_parts)
    variables = dict(base.variables)
    secrets: dict[str, pulumi.Input[str]] = {}
    for part in secret_parts:
        for name, value in part.items():
            if name in secrets or name in variables:
                raise ValueError(f"app secrets: {name} is defined twice")
            secrets[name] = value
    check_required(required, [*variables, *secrets])
    return LocalAppEnvironment(variables=variables, secrets=dict(sorted(secrets.items())))


# ---------------------------------------------------------------------------------------------------------
# Containers


@dataclass(frozen=True, kw_only=True)
class LocalAppArgs:
    """What every app container needs."""

    deployment: Deployment
    network: LocalNetwork
    # LocalImages.image_ids[role] (what the container runs) and image_refs[role] (its name, for people).
    image_id: pulumi.Input[str]
    image_ref: str
    app: LocalAppEnvironment
    # Overrides the image's CMD (one image started as api / worker / scheduler).
    command: Sequence[str] | None = None
    # Containers to start after (the data services: healthy once created).
    depends_on: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True, kw_only=True)
class LocalServiceArgs(LocalAppArgs):
    role: str
    replicas: int = 1
    # Container port, published on 127.0.0.1:<port> (the API: 3801, seed 003). Needs replicas == 1.
    port: int | None = None
    # HTTP health check path on `port` (the API's /health), checked with the image's node.
    health_check_path: str | None = None


@dataclass(frozen=True, kw_only=True)
class LocalSchedulerArgs(LocalAppArgs):
    """Deliberately nothing to add: the scheduler is always exactly one container."""


class _LocalApp(pulumi.ComponentResource):
    """Shared base: ``containers`` (resources), ``container_names`` *plain*, ``role`` *plain*."""

    component: ClassVar[str]

    def _start(
        self,
        name: str,
        args: LocalAppArgs,
        role: str,
        count: int,
        port: int | None = None,
        health_check_path: str | None = None,
    ) -> None:
        d = args.deployment
        self.role = role
        self.image_ref = args.image_ref
        self.container_names = container_names(d.prefix, role, count)
        check = None
        if port is not None and health_check_path is not None:
            url = json.dumps(f"http://127.0.0.1:{port}{health_check_path}")
            check = healthcheck(
                "CMD",
                "node",
                "-e",
                f"fetch({url}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))",
                interval="10s",
                start_period="30s",
            )
        self.containers: list[docker.Container] = [
            docker.Container(
                resource_name,
                name=container_name,
                image=args.image_id,
                command=list(args.command) if args.command is not None else None,
                envs=env_list(args.app.variables, args.app.secrets),
                ports=[loopback_port(port, port)] if port is not None else None,
                networks_advanced=[network_attachment(args.network.name, role)],
                healthcheck=check,
                # As on ECS: tini-style init (signals reach node), read-only root, writable /tmp.
                init=True,
                # The host as `host.docker.internal` on Linux too (Docker Engine 20.10+, --add-host
                # host.docker.internal:host-gateway): the app's SMTP_HOST for MailHog on this machine.
                hosts=[docker.ContainerHostArgs(host=HOST_ALIAS, ip="host-gateway")],
                read_only=True,
                tmpfs={TASK_TMP: "rw"},
                restart=RESTART,
                destroy_grace_seconds=STOP_GRACE_SECONDS,
                labels=labels(d, role=role),
                # Fixed container names: a replacement removes the old container first (never two).
                opts=child(self, depends_on=list(args.depends_on), delete_before_replace=True),
            )
            for resource_name, container_name in zip(
                resource_names(name, count), self.container_names, strict=True
            )
        ]

    def exec_command(self, *command: str) -> str:
        """``docker exec`` of ``command`` in the (first) container, e.g. the migrations."""
        return " ".join(["docker exec", self.container_names[0], *command])


class LocalService(_LocalApp):
    """API or worker containers: ``replicas`` of them; a ``port`` is published on 127.0.0.1 (one replica)."""

    component = "LocalService"

    def __init__(self, name: str, args: LocalServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        check_role(self.component, args.role)
        require(
            args.role != "scheduler",
            self.component,
            "role",
            args.role,
            "the scheduler is a LocalScheduler (exactly one, no replicas)",
        )
        require(1 <= args.replicas <= 10, self.component, "replicas", args.replicas, "must be 1..10")
        if args.port is not None:
            require(1024 <= args.port <= 65535, self.component, "port", args.port, "must be 1024..65535")
            require(
                args.replicas == 1,
                self.component,
                "replicas",
                args.replicas,
                f"a published port ({args.port}) can be bound by one container only",
            )
        require(
            args.health_check_path is None or args.port is not None,
            self.component,
            "health_check_path",
            args.health_check_path,
            "needs a port to check",
        )
        super().__init__("saas:local:Service", name, None, opts)
        self.replicas = args.replicas
        self.port = args.port
        self._start(name, args, args.role, args.replicas, args.port, args.health_check_path)
        self.register_outputs({"containerNames": self.container_names, "image": self.image_ref})


class LocalScheduler(_LocalApp):
    """The singleton scheduler: exactly one container (label ``role=scheduler``), no published port,
    restarted by Docker, replaced by stopping the old one first. There is no replicas argument."""

    component = "LocalScheduler"
    role_name: ClassVar[str] = "scheduler"

    def __init__(
        self, name: str, args: LocalSchedulerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("saas:local:Scheduler", name, None, opts)
        self._start(name, args, self.role_name, 1)
        self.register_outputs({"containerNames": self.container_names, "image": self.image_ref})
