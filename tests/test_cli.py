"""``python -m preflight``: one exit code per cause, config mistakes answered before the program runs."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

import preflight.__main__ as cli
from preflight.stackfile import REPO_ROOT, load_stack_config

STAGING = (REPO_ROOT / "Pulumi.staging.yaml").read_text()


def _run(
    tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[str]]:
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.case.yaml").write_text(text)
    monkeypatch.setattr(cli, "load_stack_config", functools.partial(load_stack_config, root=tmp_path))

    def no_program(*_: Any, **__: Any) -> None:
        raise AssertionError("the program ran for a config mistake")

    monkeypatch.setattr(cli, "evaluate", no_program)
    status = cli.main(["case", "--no-policy"])
    return status, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(
    ("old", "new", "status", "first"),
    [
        (
            "    schedule: cron(0 1 * * ? *)",
            "    schedule: cron(99 99 * * ? *)",
            cli.EXIT_CONFIG,
            "preflight: saas-backend:backups.schedule is \"cron(99 99 * * ? *)\"; minutes field '99'",
        ),
        (
            "    port: 3801",
            "    port: {",
            cli.EXIT_CONFIG,
            "preflight: Pulumi.case.yaml:23:28: YAML syntax error: expected",
        ),
        (
            "    username: app",
            "    username:\n      secure: AAAB",
            cli.EXIT_CIPHERTEXT,
            "preflight: Pulumi.case.yaml: saas-backend:postgres holds ciphertext",
        ),
    ],
    ids=["config-error", "yaml-error", "ciphertext"],
)
def test_config_mistakes_exit_before_the_program_with_their_own_code(
    old: str,
    new: str,
    status: int,
    first: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = _run(tmp_path, STAGING.replace(old, new, 1), monkeypatch, capsys)
    assert code == status
    assert lines[0].startswith(first), lines


def test_all_mistakes_of_one_run_are_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = STAGING.replace("    APP_ENV: uat", "    APP_ENV: uat\n    LOG_LEVEL: verbose").replace(
        "aws:region: us-west-2", "aws:region: us-wset-2"
    )
    code, lines = _run(tmp_path, text, monkeypatch, capsys)
    assert code == cli.EXIT_CONFIG
    assert lines == [
        'preflight: aws:region is "us-wset-2"; did you mean us-west-2? must be an AWS region the provider '
        "knows, such as us-west-2, eu-central-1 or ap-south-1",
        'preflight: saas-backend:env.LOG_LEVEL is "verbose"; the app\'s log levels are debug, info, warn, '
        "error",
    ]


def test_exit_codes_are_distinct_and_documented_once() -> None:
    codes = [
        cli.EXIT_OK,
        cli.EXIT_PROGRAM,
        cli.EXIT_USAGE,
        cli.EXIT_POLICY,
        cli.EXIT_CONFIG,
        cli.EXIT_CIPHERTEXT,
    ]
    assert len(set(codes)) == len(codes)
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    for code in codes:
        assert f"| {code} |" in section
