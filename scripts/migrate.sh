#!/usr/bin/env bash
# Run the stack's database migrations once, as a one-off ECS task of the API's latest task definition
# (same image, environment and secrets), and fail unless the task ran and exited 0.
#   scripts/migrate.sh <stack>
# Needs: pulumi (logged in to the stack's backend), the AWS CLI with credentials for the stack's account.
# Why a one-off task before the services roll: docs/decisions/migrations-before-traffic.md.
set -euo pipefail

stack="${1:?usage: scripts/migrate.sh <stack>}"
output() { pulumi stack output --stack "$stack" "$@"; }

command="$(output migrateCommand)"
if [[ -z "$command" || "$command" == "null" ]]; then
  echo "migrate: $stack declares no app.migrateCommand; nothing to run"
  exit 0
fi
cluster="$(output clusterName)"
region="$(pulumi config get aws:region --stack "$stack")"

# The command is the program's own output: `aws ecs run-task ...` with shell-quoted JSON arguments.
task="$(eval "$command --query 'tasks[0].taskArn' --output text")"
if [[ -z "$task" || "$task" == "None" ]]; then
  echo "migrate: the migration task did not start (run-task returned no task; see its failures)" >&2
  exit 1
fi
echo "migrate: started $task"

# Polls every 6 s, gives up (non-zero) after 100 attempts: a migration longer than 10 minutes fails here.
aws ecs wait tasks-stopped --region "$region" --cluster "$cluster" --tasks "$task"
# The api container's exit code, by name: with edge.origin tunnel the task also holds cloudflared (which never
# starts here: it waits for the api container to be healthy).
code="$(aws ecs describe-tasks --region "$region" --cluster "$cluster" --tasks "$task" \
  --query "tasks[0].containers[?name=='api'] | [0].exitCode" --output text)"
if [[ "$code" != "0" ]]; then
  reason="$(aws ecs describe-tasks --region "$region" --cluster "$cluster" --tasks "$task" \
    --query 'tasks[0].stoppedReason' --output text)"
  echo "migrate: failed with exit code $code ($reason); logs: log group of the api, stream api/api/${task##*/}" >&2
  exit 1
fi
echo "migrate: done"
