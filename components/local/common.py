"""What the local components share: the dev deployment's identity, labels, ports, images, options."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pulumi
import pulumi_docker as docker

from ..common import Deployment, child, require
from ..config import StackConfig
from ..images import dockerfile_outside, image_tag

# A local deployment has no AWS account or region; names come from the same prefix (`<app>-dev`).
LOCAL_ACCOUNT = "local"
LOCAL_REGION = "local"

# Seed 003 ("Local Docker Compose"): API 3801, Postgres 3802, Redis 3803 (web 3800 is the frontend's);
# MinIO (the S3 stand-in for backups) takes the next two. Every published port binds to loopback only.
LOOPBACK = "127.0.0.1"
POSTGRES_HOST_PORT = 3802
REDIS_HOST_PORT = 3803
MINIO_HOST_PORT = 3804
MINIO_CONSOLE_HOST_PORT = 3805

# Images of the data services: the engine's major from config (seed 003: postgres:15-alpine, redis:7-alpine).
# MinIO publishes no floating tags worth trusting: pinned releases (Docker Hub).
MINIO_IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z"
MC_IMAGE = "minio/mc:RELEASE.2025-04-16T18-13-26Z"

# Long-lived containers restart after a crash or a reboot of the engine, but stay down after `docker stop`.
RESTART = "unless-stopped"
# Seconds `pulumi destroy`/replace lets a container stop cleanly (Postgres flushes) before removing it.
STOP_GRACE_SECONDS = 30
# How long `pulumi up` waits for a data service's health check before failing.
HEALTHY_TIMEOUT_SECONDS = 120

_ROLE_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


def local_deployment(cfg: StackConfig) -> Deployment:
    """The dev stack's :class:`Deployment`: same app name, environment and prefix; no AWS account/region."""
    return Deployment(cfg.app_name, cfg.environment, region=LOCAL_REGION, account_id=LOCAL_ACCOUNT)


def labels(d: Deployment, **extra: str) -> list[docker.ContainerLabelArgs]:
    """The required tags (``Deployment.tags``) as Docker labels, sorted by key."""
    return [docker.ContainerLabelArgs(label=k, value=v) for k, v in sorted(d.tags(**extra).items())]


def volume_labels(d: Deployment, **extra: str) -> list[docker.VolumeLabelArgs]:
    return [docker.VolumeLabelArgs(label=k, value=v) for k, v in sorted(d.tags(**extra).items())]


def network_labels(d: Deployment, **extra: str) -> list[docker.NetworkLabelArgs]:
    return [docker.NetworkLabelArgs(label=k, value=v) for k, v in sorted(d.tags(**extra).items())]


def loopback_port(internal: int, external: int) -> docker.ContainerPortArgs:
    """``127.0.0.1:<external> -> <internal>/tcp``: reachable from this machine only, not from the network."""
    return docker.ContainerPortArgs(internal=internal, external=external, ip=LOOPBACK, protocol="tcp")


def env_list(
    plain: Mapping[str, str], secret: Mapping[str, pulumi.Input[str]] | None = None
) -> list[pulumi.Input[str]]:
    """Container ``envs`` (``NAME=value``), sorted by name; ``secret`` values stay Pulumi secrets."""
    clash = set(plain) & set(secret or {})
    if clash:
        raise ValueError(f"container environment: {', '.join(sorted(clash))} defined twice")
    entries: dict[str, pulumi.Input[str]] = {name: f"{name}={value}" for name, value in plain.items()}
    for name, value in (secret or {}).items():
        entries[name] = pulumi.Output.secret(value).apply(lambda v, n=name: f"{n}={v}")
    return [entries[name] for name in sorted(entries)]


def healthcheck(
    *test: str, interval: str = "5s", timeout: str = "5s", retries: int = 5, start_period: str = "10s"
) -> docker.ContainerHealthcheckArgs:
    """A Docker health check (seed 003: every 5 s, 5 s timeout, 5 retries)."""
    return docker.ContainerHealthcheckArgs(
        tests=list(test), interval=interval, timeout=timeout, retries=retries, start_period=start_period
    )


def network_attachment(
    network_name: pulumi.Input[str], *aliases: str
) -> docker.ContainerNetworksAdvancedArgs:
    """Attach to the stack's network; ``aliases`` are the host names other containers use."""
    return docker.ContainerNetworksAdvancedArgs(name=network_name, aliases=list(aliases))


def pulled_image(name: str, ref: str, parent: pulumi.Resource) -> docker.RemoteImage:
    """An image pulled from a registry, kept on the machine when the stack goes away (it is shared)."""
    return docker.RemoteImage(name, name=ref, keep_locally=True, opts=child(parent))


def built_image_name(
    d: Deployment,
    repository: str,
    context: str,
    *,
    dockerfile: str = "Dockerfile",
    build_args: Mapping[str, str] | None = None,
) -> str:
    """``<prefix>/<repository>:sha-<content hash>``: the content-hash tag the AWS stacks give their ECR images
    (``components.images.image_tag``), so a changed build context renames the image, which rebuilds it
    and replaces the containers that run it."""
    tag = image_tag(context, dockerfile=dockerfile, platform="local", build_args=build_args)
    return f"{d.prefix}/{repository}:{tag}"


def built_image(
    name: str,
    d: Deployment,
    repository: str,
    context: str,
    parent: pulumi.Resource,
    *,
    dockerfile: str = "Dockerfile",
    build_args: Mapping[str, str] | None = None,
    component: str,
) -> tuple[docker.RemoteImage, str]:
    """An image built on this machine from ``context`` (BuildKit), and its name (:func:`built_image_name`).

    Built for the machine's own architecture (no ``platform``): ARM64 is Fargate's choice, not the laptop's.
    """
    require(
        Path(context).is_dir(),
        component,
        "context",
        context,
        "must be an existing directory (relative to the project directory)",
    )
    dockerfile_path = Path(context) / dockerfile
    require(
        dockerfile_path.is_file(),
        component,
        "dockerfile",
        dockerfile,
        f"must be a file relative to the build context ({dockerfile_path} does not exist)",
    )
    image_name = built_image_name(d, repository, context, dockerfile=dockerfile, build_args=build_args)
    outside = dockerfile_outside(context, dockerfile)
    image = docker.RemoteImage(
        name,
        name=image_name,
        build=docker.RemoteImageBuildArgs(
            # The provider resolves a relative context against its own working directory: make it absolute.
            context=str(Path(context).resolve()),
            # Inside the context by name, outside it by absolute path (the provider builds it like
            # `docker build -f`: kreuzwerker/terraform-provider-docker pull 402).
            dockerfile=str(dockerfile_path.resolve()) if outside else dockerfile,
            build_args=dict(build_args) if build_args else None,
            labels=dict(sorted(d.tags(role=repository).items())),
        ),
        keep_locally=False,
        opts=child(parent),
    )
    return image, image_name


def check_role(component: str, role: str) -> None:
    require(bool(_ROLE_RE.match(role)), component, "role", role, "must be a lowercase name such as api")


def container_names(prefix: str, role: str, count: int) -> list[str]:
    """Docker names of ``count`` containers of a role: ``<prefix>-<role>`` or ``<prefix>-<role>-<n>``."""
    if count == 1:
        return [f"{prefix}-{role}"]
    return [f"{prefix}-{role}-{n}" for n in range(1, count + 1)]


def resource_names(name: str, count: int) -> Sequence[str]:
    """Pulumi names of ``count`` containers: ``<name>-container`` or ``<name>-container-<n>``."""
    if count == 1:
        return [f"{name}-container"]
    return [f"{name}-container-{n}" for n in range(1, count + 1)]
