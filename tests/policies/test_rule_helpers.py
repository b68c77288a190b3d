"""The pure decisions inside the rules (imported as ``policies.saas_guardrails``, no gRPC needed)."""

from __future__ import annotations

import pytest

from policies.saas_guardrails.alb import is_tls12_policy
from policies.saas_guardrails.ecs import embeds_credentials, is_secret_name
from policies.saas_guardrails.network import is_open_to_world


@pytest.mark.parametrize(
    "name",
    [
        "JWT_SECRET",
        "JWT_REFRESH_SECRET",
        "DB_PASSWORD",
        "POSTGRES_PASSWORD",
        "API_KEY",
        "SENDGRID_API_KEY",
        "ENCRYPTION_KEY",
        "STRIPE_SECRET_KEY",
        "SENTRY_DSN",
        "TWILIO_AUTH_TOKEN",
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "GOOGLE_CREDENTIALS",
        "FIREBASE_PRIVATE_KEY",
        "OPENAI_APIKEY",
        "jwt_secret",
        "app.secret",
    ],
)
def test_secret_looking_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "KEYCLOAK_URL",
        "MONKEY_MODE",
        "TOKENIZER_MODEL",
        "PASSWORDLESS_LOGIN",
        "JWT_SECRET_ARN",
        "KMS_KEY_ID",
        "DB_PASSWORD_SECRET_NAME",
        "ACCESS_TOKEN_TTL",
        "TOKEN_URL",
        "STRIPE_PUBLISHABLE_KEY",
        "NEXT_PUBLIC_POSTHOG_KEY",
        "DATABASE_URL",
        "REDIS_TLS",
        "LOG_LEVEL",
        "NODE_ENV",
        "TWILIO_ACCOUNT_SID",
    ],
)
def test_names_that_are_not_secrets(name: str) -> None:
    assert not is_secret_name(name)


def test_extra_secret_words() -> None:
    assert not is_secret_name("SIGNING_SALT")
    assert is_secret_name("SIGNING_SALT", frozenset({"SALT"}))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("postgres://app:s3cret@db.internal:5432/app", True),
        ("rediss://:token@cache.internal:6379", False),  # no user: still caught by name rules, not here
        ("rediss://default:token@cache.internal:6379", True),
        ("https://api.example.com/v1", False),
        ("https://user@example.com", False),
        ("not a url", False),
    ],
)
def test_urls_with_passwords(value: str, expected: bool) -> None:
    assert embeds_credentials(value) is expected


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("ELBSecurityPolicy-TLS13-1-2-2021-06", True),
        ("ELBSecurityPolicy-TLS13-1-2-Res-2021-06", True),
        ("ELBSecurityPolicy-TLS13-1-3-2021-06", True),
        ("ELBSecurityPolicy-FS-1-2-Res-2020-10", True),
        ("ELBSecurityPolicy-TLS-1-2-2017-01", True),
        ("ELBSecurityPolicy-TLS-1-2-Ext-2018-06", True),
        ("ELBSecurityPolicy-FS-1-2-2019-08", True),
        ("ELBSecurityPolicy-FS-1-2-Res-2019-08", True),
        ("ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04", True),
        ("ELBSecurityPolicy-2016-08", False),
        ("ELBSecurityPolicy-TLS13-1-1-2021-06", False),
        ("ELBSecurityPolicy-TLS13-1-0-2021-06", False),
        ("ELBSecurityPolicy-TLS-1-1-2017-01", False),
        ("ELBSecurityPolicy-FS-2018-06", False),
        (None, False),
    ],
)
def test_tls12_policies(policy: str | None, expected: bool) -> None:
    assert is_tls12_policy(policy) is expected


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("0.0.0.0/0", True),
        ("::/0", True),
        ("::0/0", True),
        (" 0.0.0.0/0 ", True),
        ("0.0.0.0/1", False),
        ("10.0.0.0/8", False),
        ("173.245.48.0/20", False),
        ("2400:cb00::/32", False),
        ("not-a-cidr", False),
        (None, False),
    ],
)
def test_open_to_world(cidr: str | None, expected: bool) -> None:
    assert is_open_to_world(cidr) is expected
