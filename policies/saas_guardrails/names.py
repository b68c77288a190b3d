"""Which environment variable names and values look like secrets: one rule for the pack and the program.

The pack's ``ecs-no-secrets-in-environment`` rule applies it to task definitions; the program's config
validation (``components/config.py``) applies the same rule to the ``env`` map before any resource exists.
No import beyond the standard library, so both can load it.
"""

from __future__ import annotations

import re

# A name is secret-looking when one of its parts (split on "_", "-", ".") is one of these words ...
SECRET_WORDS = frozenset(
    {
        "SECRET",
        "SECRETS",
        "PASSWORD",
        "PASSWORDS",
        "PASSWD",
        "PASSPHRASE",
        "TOKEN",
        "TOKENS",
        "KEY",
        "KEYS",
        "APIKEY",
        "DSN",
        "CREDENTIAL",
        "CREDENTIALS",
    }
)
# ... unless its last part says it is a reference to a secret or a setting about one, not the secret itself
# (JWT_SECRET_ARN, KMS_KEY_ID, TOKEN_TTL, ...), or the key is public by definition (STRIPE_PUBLISHABLE_KEY).
REFERENCE_SUFFIXES = frozenset(
    {
        "ARN",
        "ID",
        "NAME",
        "URL",
        "URI",
        "ENDPOINT",
        "PATH",
        "FILE",
        "REGION",
        "TTL",
        "EXPIRY",
        "EXPIRES",
        "EXPIRATION",
        "LIFETIME",
        "ALGORITHM",
        "HEADER",
        "VERSION",
        "LENGTH",
        "ENABLED",
    }
)
PUBLIC_QUALIFIERS = frozenset({"PUBLIC", "PUBLISHABLE"})
# Credentials whose names end in an allowed suffix but are credentials all the same.
ALWAYS_SECRET = frozenset({"AWS_ACCESS_KEY_ID"})
_URL_WITH_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")


def is_secret_name(name: str, extra_words: frozenset[str] = frozenset()) -> bool:
    """Whether an environment variable name looks like it holds a secret.

    True when one ``_``/``-``/``.``-separated part is a secret word (SECRET, PASSWORD, TOKEN, KEY, DSN,
    CREDENTIAL, ...): JWT_SECRET, DB_PASSWORD, API_KEY, SENTRY_DSN, TWILIO_AUTH_TOKEN. Words are matched
    whole, so KEYCLOAK_URL, MONKEY or TOKENIZER_MODEL are not secrets. A name whose last part marks a
    reference or a setting (JWT_SECRET_ARN, KMS_KEY_ID, ACCESS_TOKEN_TTL) is not a secret, nor a key
    qualified as public by an earlier part (STRIPE_PUBLISHABLE_KEY, NEXT_PUBLIC_POSTHOG_KEY).
    """
    upper = name.upper()
    if upper in ALWAYS_SECRET:
        return True
    parts = [p for p in re.split(r"[_.\-]", upper) if p]
    if not parts or parts[-1] in REFERENCE_SUFFIXES:
        return False
    words = SECRET_WORDS | extra_words
    for i, part in enumerate(parts):
        if part not in words:
            continue
        if part in ("KEY", "KEYS") and PUBLIC_QUALIFIERS.intersection(parts[:i]):
            continue
        return True
    return False


def embeds_credentials(value: str) -> bool:
    """A connection URL with a password in it (``postgres://user:pass@host``)."""
    return bool(_URL_WITH_PASSWORD.match(value.strip()))
