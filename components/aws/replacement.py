"""Names that change when a replacement is forced, for types AWS names without a generated suffix.

The policy pack's ``fixed-name-replacement`` rule computes the same digest (a test holds both to it):
docs/decisions/fixed-name-replacement.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

DIGEST_LENGTH = 8


def replacement_digest(forcing: Mapping[str, Any]) -> str:
    """The name suffix of a resource whose replace-forcing inputs are ``forcing`` (camelCase keys, as the
    engine records them)."""
    canonical = json.dumps(dict(forcing), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:DIGEST_LENGTH]
