#!/usr/bin/env bash
# Deploy a stack with its migrations before new API tasks serve traffic:
#   1. pulumi up of everything but the three ECS services and what depends on them: new task definition
#      revisions, images, secrets and the rest of the stack are in place; the running services are not
#      touched (they keep serving the previous revision)
#   2. scripts/migrate.sh: the migration as a one-off task of the new API revision; a failure stops here
#   3. pulumi up of the whole stack: the services roll to the new revisions
#   scripts/deploy.sh <stack> [extra pulumi up flags...]
# Why this shape: docs/decisions/migrations-before-traffic.md.
set -euo pipefail

stack="${1:?usage: scripts/deploy.sh <stack> [pulumi up flags...]}"
shift
up=(pulumi up --stack "$stack" --yes --policy-pack policies "$@")

# An assignment, not a process substitution: a failure here stops the script (set -e).
urns="$(python -m scripts.service_urns "$stack")"
excludes=()
for urn in $urns; do
  excludes+=(--exclude "$urn")
done
if [[ ${#excludes[@]} -ne 6 ]]; then
  echo "deploy: expected the URNs of 3 services, got: $urns" >&2
  exit 1
fi

echo "deploy: 1/3 everything but the services"
"${up[@]}" "${excludes[@]}" --exclude-dependents
echo "deploy: 2/3 migrations"
scripts/migrate.sh "$stack"
echo "deploy: 3/3 the services"
"${up[@]}"
