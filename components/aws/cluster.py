"""ECS cluster, the app tasks' execution role, and container images (given, or built and pushed to ECR).

Images
    Each role's :class:`~components.config.ImageSource` gives either ``image`` (a pinned reference, used as
    is) or ``context`` (a Docker build context). A context is built by :class:`BuiltImage`: a per-stack ECR
    repository and a ``pulumi_docker`` image tagged ``sha-<12 hex>``, a content hash of the build context
    computed here in Python. The tag (and so the image reference in task definitions) is therefore known at
    preview, immutable and reproducible: the same files give the same tag. Roles that share a build
    (same context, Dockerfile, platform) share one repository and one build.

    ``BuiltImage`` is reusable by other components (the backups tier builds ``images/pg-backup`` with it).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from ..common import Deployment, assume_role_policy, child, policy_json, require
from ..config import ImageSource
from ..images import image_tag

KEEP_IMAGES = 10
CPU_ARCHITECTURES = {"linux/arm64": "ARM64", "linux/amd64": "X86_64"}
_REPO_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_ROLE_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


def ecr_registry(deployment: Deployment) -> str:
    """The account's ECR registry host, e.g. ``123456789012.dkr.ecr.us-west-2.amazonaws.com``."""
    suffix = "amazonaws.com.cn" if deployment.partition == "aws-cn" else "amazonaws.com"
    return f"{deployment.account_id}.dkr.ecr.{deployment.region}.{suffix}"


def ecr_lifecycle_policy(keep: int = KEEP_IMAGES) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"keep the last {keep} images",
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
                    "action": {"type": "expire"},
                }
            ]
        },
        sort_keys=True,
    )


# ---------------------------------------------------------------------------------------------------------
# BuiltImage


@dataclass(frozen=True)
class BuiltImageArgs:
    deployment: Deployment
    # Short repository name; the ECR repository is f"{prefix}/{repository}" (e.g. .../pg-backup).
    repository: str
    # Build context directory, relative to the project directory (where `pulumi` runs) or absolute.
    context: str
    # Dockerfile path relative to the context.
    dockerfile: str = "Dockerfile"
    platform: str = "linux/arm64"
    build_args: Mapping[str, str] = field(default_factory=dict)
    keep_images: int = KEEP_IMAGES


class BuiltImage(pulumi.ComponentResource):
    """A per-stack ECR repository plus a ``pulumi_docker`` build pushed to it under a content-hash tag.

    Plain attributes (known at preview): ``repository_name``, ``repository_url``, ``repository_arn``,
    ``tag``, ``image_ref`` (``<registry>/<repo>:sha-<hash>``, use it in containerDefinitions). Resources:
    ``repository``, ``image``; ``dependencies`` is what a task definition must ``depends_on`` (the push).
    Output: ``repo_digest``.
    """

    def __init__(self, name: str, args: BuiltImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("saas:app:BuiltImage", name, None, opts)
        d = args.deployment
        dockerfile_path = _validate_build(args)
        self.repository_name = f"{d.prefix}/{args.repository}"
        self.repository_url = f"{ecr_registry(d)}/{self.repository_name}"
        self.repository_arn = (
            f"arn:{d.partition}:ecr:{d.region}:{d.account_id}:repository/{self.repository_name}"
        )
        self.tag = image_tag(
            args.context, dockerfile=args.dockerfile, platform=args.platform, build_args=args.build_args
        )
        self.image_ref = f"{self.repository_url}:{self.tag}"
        self.platform = args.platform

        self._repository(name, args)
        self._image(name, args, dockerfile_path)
        self.repo_digest = self.image.repo_digest
        self.dependencies: list[pulumi.Resource] = [self.image]
        self.register_outputs(
            {"imageRef": self.image_ref, "repositoryUrl": self.repository_url, "repoDigest": self.repo_digest}
        )

    def _repository(self, name: str, args: BuiltImageArgs) -> None:
        """An immutable-tag, scanned, encrypted repository with a lifecycle policy."""
        d = args.deployment
        self.repository = aws.ecr.Repository(
            f"{name}-repo",
            name=self.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            # KMS with the AWS-managed aws/ecr key: encrypted at rest, no key policy to maintain.
            encryption_configurations=[{"encryption_type": "KMS"}],
            force_delete=not d.is_production,
            tags=d.tags(),
            # ECR cannot change a repository's encryption, so a change would replace the repository under its
            # own name (and leave the pushed image behind): the setting is fixed at creation; to change it,
            # rename the repository (docs/decisions/fixed-name-replacement.md).
            opts=child(self, ignore_changes=["encryptionConfigurations"]),
        )
        self.lifecycle_policy = aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=ecr_lifecycle_policy(args.keep_images),
            opts=child(self),
        )

    def _image(self, name: str, args: BuiltImageArgs, dockerfile_path: Path) -> None:
        """The build, pushed under the content-hash tag with a short-lived ECR token."""
        d = args.deployment
        token = aws.ecr.get_authorization_token_output(registry_id=d.account_id)
        self.image = docker.Image(
            f"{name}-image",
            image_name=self.image_ref,
            build=docker.DockerBuildArgs(
                context=args.context,
                # pulumi-docker resolves a relative Dockerfile path against the project directory.
                dockerfile=str(dockerfile_path),
                platform=args.platform,
                args=dict(args.build_args) or None,
            ),
            registry=docker.RegistryArgs(
                server=ecr_registry(d),
                username=token.user_name,
                password=pulumi.Output.secret(token.password),
            ),
            opts=child(self, depends_on=[self.repository, self.lifecycle_policy]),
        )


def _validate_build(args: BuiltImageArgs) -> Path:
    """Validate a BuiltImage's inputs; the Dockerfile's path."""
    require(
        bool(_REPO_NAME_RE.match(args.repository)),
        "BuiltImage",
        "repository",
        args.repository,
        "must be a lowercase ECR repository name such as api or pg-backup",
    )
    require(
        Path(args.context).is_dir(),
        "BuiltImage",
        "context",
        args.context,
        "must be an existing directory (relative to the project directory)",
    )
    # Relative to the context; it may lie outside it (pulumi-docker builds such a Dockerfile since v4.1:
    # github.com/pulumi/pulumi-docker/issues/529), then its bytes are part of the tag.
    dockerfile_path = Path(os.path.normpath(Path(args.context) / args.dockerfile))
    require(
        dockerfile_path.is_file(),
        "BuiltImage",
        "dockerfile",
        args.dockerfile,
        f"must be a file relative to the build context ({dockerfile_path} does not exist)",
    )
    require(
        args.platform in CPU_ARCHITECTURES,
        "BuiltImage",
        "platform",
        args.platform,
        f"allowed: {', '.join(CPU_ARCHITECTURES)}",
    )
    require(1 <= args.keep_images <= 1000, "BuiltImage", "keep_images", args.keep_images, "must be 1..1000")
    return dockerfile_path


# ---------------------------------------------------------------------------------------------------------
# Cluster


@dataclass(frozen=True)
class ClusterArgs:
    deployment: Deployment
    # role (api, worker, scheduler) -> where its image comes from.
    sources: Mapping[str, ImageSource]
    # IAM resource patterns of every secret the app tasks reference (data tier `secret_arn_patterns`).
    secret_arn_patterns: Sequence[str]
    # KMS keys those secrets are encrypted with (kms:Decrypt via Secrets Manager only).
    secret_kms_key_arns: Sequence[pulumi.Input[str]] = ()


class Cluster(pulumi.ComponentResource):
    """ECS cluster (Container Insights, FARGATE + FARGATE_SPOT), app execution role, and the images.

    Plain: ``cluster_name``, ``image_refs`` (role -> image reference), ``platforms`` (role -> platform),
    ``log_group_prefix``. Outputs: ``cluster_arn``, ``execution_role_arn``. Resources: ``cluster``,
    ``capacity_providers`` (services depend on it), ``execution_role``, ``images`` (repository name ->
    :class:`BuiltImage`), ``build_dependencies`` (role -> resources a task definition depends on).
    """

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("saas:app:Cluster", name, None, opts)
        _validate_cluster(args)
        self.cluster_name = args.deployment.prefix
        self.log_group_prefix = f"/ecs/{args.deployment.prefix}"
        self._cluster(name, args)
        self._images(name, args)
        self._execution_role(name, args)
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "clusterArn": self.cluster_arn,
                "executionRoleArn": self.execution_role_arn,
                "imageRefs": self.image_refs,
            }
        )

    def _cluster(self, name: str, args: ClusterArgs) -> None:
        """The cluster (Container Insights on) and its Fargate capacity providers."""
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=self.cluster_name,
            # Off: billed as ~90 custom metrics (~$27/month); the alarms read the free AWS/ECS metrics
            # (docs/decisions/container-insights.md).
            settings=[{"name": "containerInsights", "value": "disabled"}],
            tags=args.deployment.tags(),
            opts=child(self),
        )
        self.cluster_arn = self.cluster.arn
        self.capacity_providers = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity-providers",
            cluster_name=self.cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=[{"capacity_provider": "FARGATE", "weight": 1, "base": 0}],
            opts=child(self),
        )

    def _images(self, name: str, args: ClusterArgs) -> None:
        """One BuiltImage per distinct build (context, Dockerfile, platform), named after its first role."""
        self.image_refs: dict[str, str] = {}
        self.platforms: dict[str, str] = {}
        self.build_dependencies: dict[str, list[pulumi.Resource]] = {}
        self.images: dict[str, BuiltImage] = {}
        builds: dict[tuple[str, str, str], BuiltImage] = {}
        for role, source in args.sources.items():
            self.platforms[role] = source.platform
            if source.image is not None:
                self.image_refs[role] = source.image
                self.build_dependencies[role] = []
                continue
            assert source.context is not None  # ImageSource guarantees exactly one of image/context
            dockerfile = os.path.relpath(source.dockerfile_path, source.context)
            key = (os.path.normpath(source.context), dockerfile, source.platform)
            built = builds.get(key)
            if built is None:
                built = BuiltImage(
                    f"{name}-{role}",
                    BuiltImageArgs(
                        deployment=args.deployment,
                        repository=role,
                        context=source.context,
                        dockerfile=dockerfile,
                        platform=source.platform,
                    ),
                    opts=child(self),
                )
                builds[key] = built
                self.images[built.repository_name] = built
            self.image_refs[role] = built.image_ref
            self.build_dependencies[role] = list(built.dependencies)

    def _execution_role(self, name: str, args: ClusterArgs) -> None:
        """One execution role for the app services: pull images, write logs, read exactly their secrets."""
        d = args.deployment
        self.execution_role = aws.iam.Role(
            f"{name}-execution-role",
            name=f"{d.prefix}-ecs-execution",
            description=f"ECS task execution role of the {d.prefix} app services",
            assume_role_policy=assume_role_policy(
                "ecs-tasks.amazonaws.com",
                StringEquals={"aws:SourceAccount": d.account_id},
                ArnLike={"aws:SourceArn": f"arn:{d.partition}:ecs:{d.region}:{d.account_id}:*"},
            ),
            tags=d.tags(),
            opts=child(self),
        )
        self.execution_role_arn = self.execution_role.arn
        self.execution_policy_document = execution_policy(d, args.secret_arn_patterns)
        self.execution_policy = aws.iam.RolePolicy(
            f"{name}-execution-policy",
            name="pull-logs-secrets",
            role=self.execution_role.id,
            policy=self.execution_policy_document,
            opts=child(self),
        )
        self.execution_policies: list[pulumi.Resource] = [self.execution_policy]
        if args.secret_kms_key_arns:
            via = f"secretsmanager.{d.region}.amazonaws.com"
            kms_policy = pulumi.Output.all(*args.secret_kms_key_arns).apply(
                lambda arns: policy_json(
                    {
                        "Sid": "DecryptSecrets",
                        "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": sorted(set(arns)),
                        "Condition": {"StringEquals": {"kms:ViaService": via}},
                    }
                )
            )
            self.execution_policies.append(
                aws.iam.RolePolicy(
                    f"{name}-execution-kms-policy",
                    name="decrypt-secrets",
                    role=self.execution_role.id,
                    policy=kms_policy,
                    opts=child(self),
                )
            )

    def cpu_architecture(self, role: str) -> str:
        """``ARM64`` or ``X86_64``: the Fargate runtime platform matching the role's image platform."""
        return CPU_ARCHITECTURES[self.platforms[role]]


def _validate_cluster(args: ClusterArgs) -> None:
    require(bool(args.sources), "Cluster", "sources", dict(args.sources), "give at least one role")
    for role in args.sources:
        require(bool(_ROLE_RE.match(role)), "Cluster", "sources", role, "roles are lowercase names")
    for pattern in args.secret_arn_patterns:
        require(
            isinstance(pattern, str) and pattern.startswith("arn:") and ":secretsmanager:" in pattern,
            "Cluster",
            "secret_arn_patterns",
            pattern,
            "must be literal Secrets Manager ARN patterns",
        )


def execution_policy(d: Deployment, secret_arn_patterns: Sequence[str]) -> str:
    """The execution role's literal inline policy: ECR pull (this stack's repositories), logs (this stack's
    ``/ecs/<prefix>/*`` groups), GetSecretValue on exactly ``secret_arn_patterns``."""
    region, account, partition = d.region, d.account_id, d.partition
    statements: list[dict] = [
        {"Sid": "EcrAuth", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Sid": "EcrPull",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": f"arn:{partition}:ecr:{region}:{account}:repository/{d.prefix}/*",
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:{partition}:logs:{region}:{account}:log-group:/ecs/{d.prefix}/*:log-stream:*",
        },
    ]
    patterns = sorted(set(secret_arn_patterns))
    if patterns:
        statements.append(
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": patterns,
            }
        )
    return policy_json(*statements)
