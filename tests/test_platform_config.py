"""`platform` and `environment` go together (dev <-> docker), and `aws:region` is needed only on aws."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from components.config import PROJECT, ConfigError, load
from preflight.stackfile import REPO_ROOT, load_stack_config

STAGING = yaml.safe_load((REPO_ROOT / "Pulumi.staging.yaml").read_text())["config"]


def staging_with(**changes: Any) -> dict[str, str]:
    """The staging config map with top-level keys replaced (None removes a key)."""
    overrides = {(k if ":" in k else f"{PROJECT}:{k}"): v for k, v in changes.items()}
    return load_stack_config("staging", overrides)


def as_dev(**changes: Any) -> dict[str, str]:
    return staging_with(environment="dev", platform="docker", **{"aws:region": None, **changes})


def test_dev_on_docker_needs_no_aws_region() -> None:
    cfg = load(as_dev())
    assert (cfg.environment, cfg.platform, cfg.aws_region_setting) == ("dev", "docker", None)


def test_asking_a_docker_stack_for_its_aws_region_is_an_error() -> None:
    cfg = load(as_dev())
    with pytest.raises(ConfigError, match=r"^aws:region is not set; platform docker has no AWS region$"):
        _ = cfg.aws_region


def test_a_region_on_a_docker_stack_is_accepted_and_unused() -> None:
    cfg = load(as_dev(**{"aws:region": "eu-west-1"}))
    assert cfg.aws_region == "eu-west-1"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"environment": "dev"},
            'saas-backend:platform is "aws"; environment dev runs on the local Docker engine: '
            "set platform docker",
        ),
        (
            {"environment": "dev", "platform": "aws", "aws:region": None},
            'saas-backend:platform is "aws"; environment dev runs on the local Docker engine',
        ),
        (
            {"platform": "docker"},
            'saas-backend:platform is "docker"; only environment dev runs on the local Docker engine '
            "(environment is staging)",
        ),
        (
            {"environment": "production", "platform": "docker", "aws:region": None},
            'saas-backend:platform is "docker"; only environment dev runs on the local Docker engine '
            "(environment is production)",
        ),
        ({"aws:region": None}, "aws:region is missing; it is required"),
        ({"platform": "podman"}, 'saas-backend:platform is "podman"; allowed: aws or docker'),
        (
            {"environment": "dev", "platform": "docker", "aws:region": "mars-1"},
            'aws:region is "mars-1"; must be an AWS region',
        ),
    ],
)
def test_platform_and_environment_mismatch_is_one_line(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(staging_with(**changes))
    message = str(info.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_staging_and_production_stay_on_aws_with_their_region() -> None:
    for stack in ("staging", "production"):
        cfg = load(load_stack_config(stack))
        assert cfg.platform == "aws"
        assert cfg.aws_region == "us-west-2"


def test_copy_region_check_ignores_a_missing_region() -> None:
    """Without aws:region (docker) and without copyRegion, "copyRegion must differ" must not fire."""
    cfg = load(as_dev(backups={"schedule": "cron(0 1 * * ? *)"}))
    assert cfg.backups.copy_region is None
