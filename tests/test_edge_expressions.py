"""Every Rules language expression the stacks create parses with Cloudflare's own wirefilter engine.

octorules-wirefilter binds cloudflare/wirefilter (the engine behind the Rules language) with the HTTP field
scheme; a parse error here is what the Rulesets API would answer at apply ("Filter parsing error").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import octorules_wirefilter
import pytest

from components.aws.edge import (
    challenge_expression,
    exploit_expression,
    host_expression,
    path_prefix_expression,
)
from preflight.engine import Evaluation

RULESET = "cloudflare:index/ruleset:Ruleset"


def _expressions(ev: Evaluation) -> Iterator[tuple[str, str]]:
    for ruleset in ev.of_type(RULESET):
        for rule in ruleset.inputs["rules"]:
            yield f"{ruleset.name}/{rule['ref']}", rule["expression"]


def _error(expression: str) -> Any:
    return octorules_wirefilter.parse_expression(expression).get("error")


def test_every_stack_expression_parses(stack: Evaluation) -> None:
    found = list(_expressions(stack))
    assert len(found) >= 4
    assert {ref: _error(e) for ref, e in found if _error(e)} == {}


@pytest.mark.parametrize("plan", ["free", "pro", "business", "enterprise"])
def test_every_plan_variant_parses(plan: str) -> None:
    for expression in (
        exploit_expression("api.example.com"),
        challenge_expression("api.example.com", plan),
        host_expression("api.example.com"),
        path_prefix_expression("/v1/auth"),
        path_prefix_expression("/"),
    ):
        assert _error(expression) is None, expression


def test_the_parser_rejects_what_cloudflare_rejects() -> None:
    assert _error('http.host eq "a" and') is not None
    assert _error('http.request.uri.path contain "/x"') is not None
    assert _error('lower(http.nope) eq "x"') is not None
