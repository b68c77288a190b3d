"""The AWS regions a stack may name: the provider's own list (``pulumi_aws.Region``), not a pattern.

A pattern accepts ``us-wset-2``; the provider's enum is the list of regions the pinned provider knows.
"""

from __future__ import annotations

import difflib

from pulumi_aws import Region

AWS_REGIONS: tuple[str, ...] = tuple(sorted(r.value for r in Region))


def region_problem(name: str) -> str | None:
    """None for a known region; otherwise what is allowed, with the closest known name when there is one."""
    if name in AWS_REGIONS:
        return None
    close = difflib.get_close_matches(name, AWS_REGIONS, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"{hint}must be an AWS region the provider knows, such as us-west-2, eu-central-1 or ap-south-1"
