"""Adopt a zone's existing entry-point rulesets before a stack's first ``pulumi up``.

A zone has at most one entry-point ruleset per phase; a phase that ever had rules already has one, and
creating a second fails ("exceeded maximum number of zone rulesets"). This prints the ``pulumi import``
that brings the existing ones under the stack (the next ``up`` then replaces their rules with the stack's:
the stack owns those phases for the whole zone, docs/decisions/edge-zone-ownership.md).

    uv run python -m scripts.adopt_rulesets staging --zone-id <zone id>   # asks Cloudflare (read-only)
    uv run python -m scripts.adopt_rulesets staging --zone-id <id> --ruleset http_ratelimit=<ruleset id>

The phases and resource names come from the stack's own resources (evaluated offline); the entry points
from GET /zones/{zone_id}/rulesets/phases/{phase}/entrypoint (a 404 means none: nothing to adopt).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from preflight.engine import Evaluation

REPO = Path(__file__).resolve().parent.parent
RULESET = "cloudflare:index/ruleset:Ruleset"
API = "https://api.cloudflare.com/client/v4"
EntryPoint = Callable[[str, str], str | None]


@dataclass(frozen=True)
class StackRuleset:
    name: str
    phase: str
    parent_type: str
    parent_name: str


def stack_rulesets(stack: str) -> list[StackRuleset]:
    """The entry-point rulesets the stack creates (offline evaluation), with their parent component."""
    from preflight.engine import evaluate

    ev = evaluate(stack, preview=True)
    if ev.error:
        raise SystemExit(f"adopt_rulesets: {stack} failed: {ev.error}")
    return rulesets_of(ev)


def rulesets_of(ev: Evaluation) -> list[StackRuleset]:
    found = []
    for r in ev.of_type(RULESET):
        assert r.parent is not None, f"{r.name} has no parent component"
        parent = ev.by_urn(r.parent)
        found.append(StackRuleset(r.name, r.inputs["phase"], parent.type, parent.name))
    return sorted(found, key=lambda s: s.phase)


def cloudflare_entry_point(token: str) -> EntryPoint:
    """Read-only lookup of a zone's entry-point ruleset id for a phase (None: the phase has none)."""

    def lookup(zone_id: str, phase: str) -> str | None:
        request = urllib.request.Request(
            f"{API}/zones/{zone_id}/rulesets/phases/{phase}/entrypoint",
            headers={"Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)["result"]["id"]
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise SystemExit(
                f"adopt_rulesets: {phase}: Cloudflare answered {error.code} {error.reason}"
            ) from None

    return lookup


def import_file(rulesets: list[StackRuleset], zone_id: str, entry_point: EntryPoint) -> dict:
    """A ``pulumi import --file`` document: the parent components (empty) and each existing entry point."""
    resources: list[dict] = []
    for ruleset in rulesets:
        ruleset_id = entry_point(zone_id, ruleset.phase)
        if ruleset_id is None:
            continue
        parent = {"type": ruleset.parent_type, "name": ruleset.parent_name, "component": True}
        if parent not in resources:
            resources.append(parent)
        resources.append(
            {
                "type": RULESET,
                "name": ruleset.name,
                "id": f"zones/{zone_id}/{ruleset_id}",
                "parent": ruleset.parent_name,
            }
        )
    return {"resources": resources}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts.adopt_rulesets", description="Adopt a zone's entry-point rulesets"
    )
    parser.add_argument("stack")
    parser.add_argument("--zone-id", required=True, help="the stack's Cloudflare zone id")
    parser.add_argument(
        "--ruleset", action="append", default=[], metavar="PHASE=ID", help="known entry points"
    )
    args = parser.parse_args(argv)
    known = dict(item.split("=", 1) for item in args.ruleset)
    token = os.environ.get("CLOUDFLARE_API_TOKEN", "")
    if not known and not token:
        raise SystemExit(
            "adopt_rulesets: set CLOUDFLARE_API_TOKEN (read access suffices) or give --ruleset PHASE=ID"
        )
    sys.path.insert(0, str(REPO))
    ask = cloudflare_entry_point(token) if token else None

    def entry_point(zone_id: str, phase: str) -> str | None:
        if phase in known or ask is None:
            return known.get(phase)
        return ask(zone_id, phase)

    document = import_file(stack_rulesets(args.stack), args.zone_id, entry_point)
    adopted = [r for r in document["resources"] if r["type"] == RULESET]
    if not adopted:
        print(f"# {args.stack}: the zone has no entry-point ruleset in the stack's phases; nothing to adopt")
        return 0
    path = Path(f"adopt-{args.stack}.json")
    path.write_text(json.dumps(document, indent=2) + "\n")
    for r in adopted:
        print(f"# {r['name']}: {r['id']} (its rules are replaced by the stack's at the next up)")
    print(f"pulumi import --stack {args.stack} --file {path} --generate-code=false")
    return 0


if __name__ == "__main__":
    sys.exit(main())
