"""Every taggable AWS resource carries the required tags, passed explicitly in ``tags``.

A resource is taggable when its type takes a ``tags`` map in the pulumi-aws SDK the program pins (the
generated ``AWS_TAGGABLE_TYPES``) or when its inputs carry a ``tags`` key anyway (a newer type). Provider
``defaultTags`` do not count: the conventions require tags on the resource itself, where the policies that
read ``environment``/``role``/``purpose`` can see them.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import Report, as_map, config_str_list, has_key, show
from .aws_taggable import AWS_TAGGABLE_TYPES

DEFAULT_REQUIRED_TAGS = ("environment", "app", "managed-by")


def _check_tags(args: ResourceValidationArgs, report: Report) -> None:
    if not args.resource_type.startswith("aws:"):
        return
    if args.resource_type not in AWS_TAGGABLE_TYPES and not has_key(args.props, "tags"):
        return
    required = config_str_list(args.get_config(), "requiredTags", DEFAULT_REQUIRED_TAGS)
    raw = args.props.get("tags")
    tags = as_map(raw)
    if raw is not None and tags is None:
        report(f"{args.resource_type} '{args.name}' has tags {show(raw)}; expected a map of tags.")
        return
    missing = [key for key in required if tags is None or not has_key(tags, key)]
    empty = [key for key in required if key not in missing and tags is not None and tags[key] in (None, "")]
    if missing or empty:
        details = []
        if missing:
            details.append(f"missing {', '.join(missing)}")
        if empty:
            details.append(f"empty {', '.join(empty)}")
        report(f"{args.resource_type} '{args.name}' lacks required tags: {'; '.join(details)}.")


required_tags = ResourceValidationPolicy(
    name="required-tags",
    description="Taggable AWS resources carry the required tags (default: environment, app, managed-by).",
    validate=_check_tags,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.LOW,
    config_schema=PolicyConfigSchema(
        properties={
            "requiredTags": {
                "type": "array",
                "items": {"type": "string"},
                "default": list(DEFAULT_REQUIRED_TAGS),
                "description": "Tag keys every taggable AWS resource must carry with a non-empty value.",
            }
        }
    ),
)

POLICIES = [required_tags]
