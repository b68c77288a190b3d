"""The policy pack the Pulumi CLI runs (`pulumi preview --policy-pack policies`): it only builds the pack.

The rules live in ``saas_guardrails`` next to this file; the CLI (and preflight) start this script with
``policies/`` as the working directory, so that directory goes on ``sys.path`` first.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pulumi_policy.policy
from pulumi_policy import EnforcementLevel, PolicyPack
from saas_guardrails import ALL_POLICIES, PACK_DESCRIPTION, PACK_NAME, struct_fast

struct_fast.install(pulumi_policy.policy)  # properties to dicts without protobuf's generic printer

PolicyPack(
    name=PACK_NAME,
    policies=ALL_POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
    description=PACK_DESCRIPTION,
)
