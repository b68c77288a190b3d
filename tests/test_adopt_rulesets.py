"""scripts/adopt_rulesets.py: the import document for a zone whose phases already have entry points.

Cloudflare, Ruleset Engine > Phases: one entry-point ruleset per phase and zone; Rulesets API "Get a zone
entry point ruleset" (GET /zones/{zone_id}/rulesets/phases/{phase}/entrypoint). pulumi-cloudflare v6 Ruleset
import id: ``zones/<zone_id>/<ruleset_id>``. ``pulumi import --file``: entries with ``component: true``
create the (empty) parent in the same import.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from preflight.engine import Evaluation
from scripts import adopt_rulesets
from scripts.adopt_rulesets import RULESET, StackRuleset, import_file, rulesets_of

ZONE = "0123456789abcdef0123456789abcdef"


def test_the_stack_rulesets_are_its_phases_under_the_edge(production: Evaluation) -> None:
    assert [(r.phase, r.name, r.parent_type, r.parent_name) for r in rulesets_of(production)] == [
        ("http_config_settings", "edge-api-config", "saas:edge:Edge", "edge"),
        ("http_ratelimit", "edge-rate-limit", "saas:edge:Edge", "edge"),
        ("http_request_firewall_custom", "edge-waf-custom", "saas:edge:Edge", "edge"),
        ("http_request_firewall_managed", "edge-waf-managed", "saas:edge:Edge", "edge"),
        ("http_request_late_transform", "edge-origin-header", "saas:edge:Edge", "edge"),
    ]


def test_only_existing_entry_points_are_imported_under_their_parent(staging: Evaluation) -> None:
    existing = {"http_ratelimit": "rl0123", "http_request_firewall_custom": "fw4567"}
    document = import_file(rulesets_of(staging), ZONE, lambda zone, phase: existing.get(phase))
    assert document == {
        "resources": [
            {"type": "saas:edge:Edge", "name": "edge", "component": True},
            {"type": RULESET, "name": "edge-rate-limit", "id": f"zones/{ZONE}/rl0123", "parent": "edge"},
            {"type": RULESET, "name": "edge-waf-custom", "id": f"zones/{ZONE}/fw4567", "parent": "edge"},
        ]
    }


def test_nothing_to_adopt_is_an_empty_document(staging: Evaluation) -> None:
    assert import_file(rulesets_of(staging), ZONE, lambda zone, phase: None) == {"resources": []}


def test_main_prints_the_import_line(
    staging: Evaluation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    rulesets: list[StackRuleset] = rulesets_of(staging)
    monkeypatch.setattr(adopt_rulesets, "stack_rulesets", lambda stack: rulesets)
    assert adopt_rulesets.main(["staging", "--zone-id", ZONE, "--ruleset", "http_ratelimit=rl0123"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"# edge-rate-limit: zones/{ZONE}/rl0123 (its rules are replaced by the stack's at the next up)",
        "pulumi import --stack staging --file adopt-staging.json --generate-code=false",
    ]
    assert '"id": "zones/' in (tmp_path / "adopt-staging.json").read_text()


def test_main_needs_a_token_or_known_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    with pytest.raises(SystemExit, match="set CLOUDFLARE_API_TOKEN"):
        adopt_rulesets.main(["staging", "--zone-id", ZONE])
