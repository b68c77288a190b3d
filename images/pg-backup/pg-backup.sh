#!/usr/bin/env bash
# pg-backup: logical PostgreSQL backup to S3 (pg_dump custom format), on-demand restore, and a
# built-in daily scheduler for hosts without one (the local Docker dev stack).
#
# All inputs come from the environment; the database password is read by libpq from PGPASSWORD
# (injected by ECS from Secrets Manager) and is never placed on a command line or printed.
# See images/pg-backup/README.md for the contract (variables, S3 key layout, exit codes).
set -euo pipefail
umask 077

readonly PROG="pg-backup"
readonly EX_FAILURE=1     # runtime failure: pg_dump/pg_restore/aws failed, upload not verified, ...
readonly EX_USAGE=2       # invalid invocation or configuration; nothing was touched
readonly EX_MISSING_TOOL=3 # a required executable is not on PATH; nothing was touched

# The AWS CLI v2 pipes some output through a pager by default; there is no terminal here.
export AWS_PAGER=""

log() {
  printf '%s: %s\n' "$PROG" "$*" >&2
}

die() {
  local code=$1
  shift
  log "$*"
  exit "$code"
}

usage() {
  cat <<'EOF'
Usage: pg-backup [backup|restore|schedule|check|--check|help|--help]

Logical PostgreSQL backup to S3 and on-demand restore. The mode is the first argument, else $MODE,
else "backup". All other inputs come from the environment (never from arguments):

  PGHOST, PGDATABASE, PGUSER, PGPASSWORD   required (PGPASSWORD is read by libpq from the environment)
  PGPORT                                   default 5432
  PGSSLMODE                                default require
  BACKUP_BUCKET                            required, S3 bucket name (not a URL)
  BACKUP_PREFIX                            default "postgres/"
  BACKUP_KMS_KEY_ID                        optional: upload with --sse aws:kms --sse-kms-key-id
  BACKUP_EXPECTED_SIZE                     optional: bytes, passed to aws s3 cp --expected-size
  AWS_REGION                               optional: region of the bucket (set by ECS)
  AWS_ENDPOINT_URL                         optional: S3-compatible endpoint such as http://minio:9000
  BACKUP_SCHEDULE                          schedule: cron(M H * * ? *) (daily, UTC) or rate(N hours|days)
  SCHEDULE_ONCE=1                          schedule: run one cycle (wait, back up), exit with its status
  SCHEDULE_NOW                             schedule: pretend the current time is this Unix time (tests)
  RESTORE_KEY                              restore: S3 key of the dump inside BACKUP_BUCKET
  RESTORE_TARGET_DATABASE                  restore: database to restore into (must exist)
  RESTORE_ALLOW_SAME_DATABASE=yes          restore: allow RESTORE_TARGET_DATABASE == PGDATABASE
  RESTORE_WORKDIR                          restore: directory for the downloaded dump (default $TMPDIR or /tmp)
  DRY_RUN=1                                validate the environment and tools for the mode, then exit 0

Modes:
  backup   pg_dump --format=custom | aws s3 cp - s3://$BACKUP_BUCKET/<key>, then verify the object
  restore  download s3://$BACKUP_BUCKET/$RESTORE_KEY and pg_restore it into $RESTORE_TARGET_DATABASE
  schedule run "backup" at every time of $BACKUP_SCHEDULE, forever: sleep until the next run time, back
           up, log a failure and carry on (for hosts without a scheduler; ECS uses EventBridge)
  check    validate the backup environment and that pg_dump, pg_restore and aws are on PATH; no
           database or AWS call is made
  help     print this text

Exit codes: 0 success, 1 runtime failure, 2 invalid invocation/configuration, 3 missing executable.
EOF
}

is_true() {
  case "${1:-}" in
    1 | true | TRUE | True | yes | YES | Yes | on | ON) return 0 ;;
    *) return 1 ;;
  esac
}

# Minimal JSON string escaping for the values we print (they are validated beforehand).
json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# Run the AWS CLI without the database password in its environment: it never needs it.
aws_cli() {
  env -u PGPASSWORD aws "$@"
}

# ---------------------------------------------------------------------------------------------------
# Arguments: refuse secrets on the command line before anything else (the value is never printed).
# ---------------------------------------------------------------------------------------------------
for arg in "$@"; do
  case "${arg,,}" in
    *password=*)
      die "$EX_USAGE" "refusing to run: an argument contains 'password='; pass PGPASSWORD through the environment (ECS secrets) only"
      ;;
  esac
done

if [ "$#" -gt 1 ]; then
  die "$EX_USAGE" "expected at most one argument (the mode), got $#; all other inputs come from the environment"
fi

mode="${1:-${MODE:-backup}}"
case "$mode" in
  backup | restore | schedule) ;;
  check | --check) mode="check" ;;
  help | --help | -h)
    usage
    exit 0
    ;;
  *)
    # Only echo the rejected mode when it looks like a word and is not the password itself.
    if [[ "$mode" =~ ^[A-Za-z0-9_-]{1,32}$ ]] && [ "$mode" != "${PGPASSWORD:-}" ]; then
      die "$EX_USAGE" "unknown mode '$mode' (allowed: backup, restore, check, help, schedule)"
    fi
    die "$EX_USAGE" "unknown mode (allowed: backup, restore, check, help, schedule)"
    ;;
esac

dry_run=0
if [ "$mode" = "check" ] || is_true "${DRY_RUN:-}"; then
  dry_run=1
fi

# ---------------------------------------------------------------------------------------------------
# Validation: report every problem, then exit 2 before touching a database or AWS.
# ---------------------------------------------------------------------------------------------------
invalid=0

invalid() {
  log "$*"
  invalid=1
}

require_var() {
  local name
  for name in "$@"; do
    if [ -z "${!name:-}" ]; then
      invalid "$name is required"
    fi
  done
}

# Database names end up in the S3 key and on pg_restore's -d; keep them to plain identifiers so
# that they can neither form odd keys nor be parsed by libpq as a connection string.
valid_dbname() {
  [[ "$1" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$ ]]
}

require_var PGHOST PGDATABASE PGUSER PGPASSWORD BACKUP_BUCKET
if [ "$mode" = "restore" ]; then
  require_var RESTORE_KEY RESTORE_TARGET_DATABASE
fi
if [ "$mode" = "schedule" ]; then
  require_var BACKUP_SCHEDULE
fi

export PGPORT="${PGPORT:-5432}"
export PGSSLMODE="${PGSSLMODE:-require}"
# Fail fast instead of hanging on an unreachable host (libpq default is to wait indefinitely).
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-15}"
BACKUP_PREFIX="${BACKUP_PREFIX-postgres/}"

if ! [[ "$PGPORT" =~ ^[0-9]{1,5}$ ]] || [ "$PGPORT" -lt 1 ] || [ "$PGPORT" -gt 65535 ]; then
  invalid "PGPORT must be a TCP port number (1-65535)"
fi

case "$PGSSLMODE" in
  disable | allow | prefer | require | verify-ca | verify-full) ;;
  *) invalid "PGSSLMODE must be one of disable, allow, prefer, require, verify-ca, verify-full" ;;
esac

if [ -n "${PGDATABASE:-}" ] && ! valid_dbname "$PGDATABASE"; then
  invalid "PGDATABASE must match [A-Za-z0-9_][A-Za-z0-9_.-]* (max 63 characters)"
fi

if [ -n "${BACKUP_BUCKET:-}" ]; then
  if [[ "$BACKUP_BUCKET" == s3://* ]]; then
    invalid "BACKUP_BUCKET must be a bucket name, not a URL (drop the s3:// prefix)"
  elif ! [[ "$BACKUP_BUCKET" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]]; then
    invalid "BACKUP_BUCKET is not a valid S3 bucket name"
  fi
fi

# Normalise the prefix: no leading slash, exactly one trailing slash unless empty.
BACKUP_PREFIX="${BACKUP_PREFIX#/}"
if [ -n "$BACKUP_PREFIX" ] && [[ "$BACKUP_PREFIX" != */ ]]; then
  BACKUP_PREFIX="${BACKUP_PREFIX}/"
fi
if ! [[ "$BACKUP_PREFIX" =~ ^[A-Za-z0-9_.=/-]*$ ]] || [[ "$BACKUP_PREFIX" == *//* ]]; then
  invalid "BACKUP_PREFIX may only contain [A-Za-z0-9_.=/-] and no empty path segment"
fi

if [ -n "${BACKUP_KMS_KEY_ID:-}" ] && ! [[ "$BACKUP_KMS_KEY_ID" =~ ^[A-Za-z0-9:/_-]+$ ]]; then
  invalid "BACKUP_KMS_KEY_ID must be a KMS key id, alias or ARN"
fi

if [ -n "${BACKUP_EXPECTED_SIZE:-}" ] && ! [[ "$BACKUP_EXPECTED_SIZE" =~ ^[0-9]+$ ]]; then
  invalid "BACKUP_EXPECTED_SIZE must be a number of bytes"
fi

if [ -n "${AWS_ENDPOINT_URL:-}" ] && ! [[ "$AWS_ENDPOINT_URL" =~ ^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$ ]]; then
  invalid "AWS_ENDPOINT_URL must be an http(s) URL of an S3-compatible endpoint such as http://minio:9000"
fi

# ---------------------------------------------------------------------------------------------------
# Schedule (mode schedule): the subset of EventBridge Scheduler expressions a plain loop can honour.
#   cron(M H * * ? *) / cron(M H ? * * *)   every day at H:M UTC
#   rate(N hour|hours|day|days)               every N hours/days, at multiples of the interval since the
#                                             Unix epoch (UTC), so a restart neither shifts nor skips a run
# ---------------------------------------------------------------------------------------------------
sched_kind=""
sched_hour=0
sched_minute=0
sched_interval=0
readonly CRON_DAILY_RE='^cron\(([0-9]{1,2}) ([0-9]{1,2}) (\* \* \?|\? \* \*) \*\)$'
readonly RATE_RE='^rate\(([0-9]{1,5}) (hour|hours|day|days)\)$'

# Sets sched_* from $1; returns 1 (after logging why) when the expression is not supported.
parse_schedule() {
  local expr=$1 shown="the value"
  if [[ "$expr" =~ ^[[:print:]]{1,100}$ ]]; then
    shown="'$expr'"
  fi
  if [[ "$expr" =~ $CRON_DAILY_RE ]]; then
    sched_minute=$((10#${BASH_REMATCH[1]}))
    sched_hour=$((10#${BASH_REMATCH[2]}))
    if [ "$sched_minute" -gt 59 ] || [ "$sched_hour" -gt 23 ]; then
      log "BACKUP_SCHEDULE is $shown; minute must be 0-59 and hour 0-23"
      return 1
    fi
    sched_kind="daily"
  elif [[ "$expr" =~ $RATE_RE ]]; then
    local n=$((10#${BASH_REMATCH[1]}))
    if [ "$n" -lt 1 ]; then
      log "BACKUP_SCHEDULE is $shown; the rate must be at least 1"
      return 1
    fi
    case "${BASH_REMATCH[2]}" in
      hour | hours) sched_interval=$((n * 3600)) ;;
      *) sched_interval=$((n * 86400)) ;;
    esac
    sched_kind="rate"
  else
    log "BACKUP_SCHEDULE is $shown; the schedule mode supports only a daily cron(M H * * ? *) (UTC) or rate(N hours|days)"
    return 1
  fi
}

# The next run time (Unix seconds, strictly after $1) of the parsed schedule.
next_run() {
  local now=$1
  if [ "$sched_kind" = "daily" ]; then
    local day_start=$((now - now % 86400)) at=$((sched_hour * 3600 + sched_minute * 60))
    if [ $((day_start + at)) -gt "$now" ]; then
      echo $((day_start + at))
    else
      echo $((day_start + 86400 + at))
    fi
  else
    echo $(((now / sched_interval + 1) * sched_interval))
  fi
}

utc_iso() {
  local out
  TZ=UTC printf -v out '%(%Y-%m-%dT%H:%M:%SZ)T' "$1"
  printf '%s' "$out"
}

current_time() {
  if [ -n "${SCHEDULE_NOW:-}" ]; then
    printf '%s' "$SCHEDULE_NOW"
  else
    printf '%(%s)T' -1
  fi
}

if [ "$mode" = "schedule" ]; then
  if [ -n "${BACKUP_SCHEDULE:-}" ] && ! parse_schedule "$BACKUP_SCHEDULE"; then
    invalid=1
  fi
  if [ -n "${SCHEDULE_NOW:-}" ] && ! [[ "$SCHEDULE_NOW" =~ ^[0-9]{1,11}$ ]]; then
    invalid "SCHEDULE_NOW must be a Unix time in seconds"
  fi
fi

if [ "$mode" = "restore" ]; then
  if [ -n "${RESTORE_KEY:-}" ]; then
    RESTORE_KEY="${RESTORE_KEY#/}"
    if [[ "$RESTORE_KEY" == s3://* ]]; then
      invalid "RESTORE_KEY must be a key inside BACKUP_BUCKET, not an s3:// URL"
    elif [[ "$RESTORE_KEY" == *[[:cntrl:]\"\\]* ]] || [ -z "$RESTORE_KEY" ]; then
      invalid "RESTORE_KEY contains characters that are not allowed (control characters, quote, backslash)"
    fi
  fi
  if [ -n "${RESTORE_TARGET_DATABASE:-}" ]; then
    if ! valid_dbname "$RESTORE_TARGET_DATABASE"; then
      invalid "RESTORE_TARGET_DATABASE must match [A-Za-z0-9_][A-Za-z0-9_.-]* (max 63 characters)"
    elif [ "$RESTORE_TARGET_DATABASE" = "${PGDATABASE:-}" ] && [ "${RESTORE_ALLOW_SAME_DATABASE:-}" != "yes" ]; then
      invalid "refusing to restore into the source database '$PGDATABASE' (PGDATABASE); set RESTORE_ALLOW_SAME_DATABASE=yes to overwrite it"
    fi
  fi
fi

if [ "$invalid" -ne 0 ]; then
  exit "$EX_USAGE"
fi

# ---------------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------------
case "$mode" in
  backup | schedule) tools=(pg_dump aws) ;;
  restore) tools=(pg_restore aws) ;;
  *) tools=(pg_dump pg_restore aws) ;;
esac
missing_tool=0
for tool in "${tools[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    log "required executable '$tool' not found on PATH"
    missing_tool=1
  fi
done
if [ "$missing_tool" -ne 0 ]; then
  exit "$EX_MISSING_TOOL"
fi

if [ "$dry_run" -eq 1 ]; then
  for tool in "${tools[@]}"; do
    if [ "$tool" = "aws" ]; then
      run=(aws_cli)
    else
      run=("$tool")
    fi
    if ! version=$("${run[@]}" --version 2>&1); then
      die "$EX_MISSING_TOOL" "'$tool --version' failed; the executable is not usable"
    fi
    log "$tool: ${version%%$'\n'*}"
  done
  if [ "$mode" = "schedule" ]; then
    now=$(current_time)
    next=$(next_run "$now")
    printf '{"event":"pg_backup_schedule","schedule":%s,"now":%s,"next_run":%s,"sleep_seconds":%s}\n' \
      "$(json_str "$BACKUP_SCHEDULE")" "$(json_str "$(utc_iso "$now")")" "$(json_str "$(utc_iso "$next")")" \
      "$((next - now))"
  fi
  printf '{"event":"pg_backup_check","status":"ok","mode":%s,"bucket":%s,"prefix":%s,"database":%s}\n' \
    "$(json_str "$mode")" "$(json_str "$BACKUP_BUCKET")" "$(json_str "$BACKUP_PREFIX")" \
    "$(json_str "$PGDATABASE")"
  log "environment and tools OK ($mode); no database or AWS call was made"
  exit 0
fi

# ---------------------------------------------------------------------------------------------------
# backup
# ---------------------------------------------------------------------------------------------------
do_backup() {
  local ts yyyy mm dd key url size
  ts=$(date -u +%Y%m%dT%H%M%SZ)
  yyyy=${ts:0:4}
  mm=${ts:4:2}
  dd=${ts:6:2}
  key="${BACKUP_PREFIX}${PGDATABASE}/${yyyy}/${mm}/${dd}/${PGDATABASE}-${ts}.dump"
  url="s3://${BACKUP_BUCKET}/${key}"

  local -a cp_args=(s3 cp - "$url" --only-show-errors --no-progress --content-type application/octet-stream)
  if [ -n "${BACKUP_KMS_KEY_ID:-}" ]; then
    cp_args+=(--sse aws:kms --sse-kms-key-id "$BACKUP_KMS_KEY_ID")
  fi
  if [ -n "${BACKUP_EXPECTED_SIZE:-}" ]; then
    cp_args+=(--expected-size "$BACKUP_EXPECTED_SIZE")
  fi

  log "backing up database '${PGDATABASE}' on ${PGHOST}:${PGPORT} (sslmode=${PGSSLMODE}) to ${url}${AWS_ENDPOINT_URL:+ via ${AWS_ENDPOINT_URL}}"

  # pg_dump reads PGHOST/PGPORT/PGDATABASE/PGUSER/PGPASSWORD/PGSSLMODE from the environment.
  # Both exit statuses are checked explicitly: pipefail alone would not tell which side failed.
  local -a status
  set +e
  pg_dump --format=custom --compress=9 --no-owner --no-privileges --no-password |
    aws_cli "${cp_args[@]}"
  status=("${PIPESTATUS[@]}")
  set -e

  if [ "${status[0]}" -ne 0 ] || [ "${status[1]}" -ne 0 ]; then
    if [ "${status[0]}" -ne 0 ]; then
      log "pg_dump failed (exit ${status[0]})"
    fi
    if [ "${status[1]}" -ne 0 ]; then
      log "upload to ${url} failed (exit ${status[1]})"
    fi
    # aws s3 cp completes the upload when its input ends, so a failed pg_dump can leave a truncated
    # object behind: remove it so that no incomplete dump looks like a valid backup.
    if ! aws_cli s3 rm "$url" --only-show-errors >/dev/null; then
      log "warning: could not delete the possibly incomplete object ${url}; delete it by hand"
    fi
    exit "$EX_FAILURE"
  fi

  if ! size=$(aws_cli s3api head-object --bucket "$BACKUP_BUCKET" --key "$key" \
    --query ContentLength --output text); then
    die "$EX_FAILURE" "upload verification failed: head-object on ${url} did not succeed"
  fi
  size="${size//[[:space:]]/}"
  if ! [[ "$size" =~ ^[0-9]+$ ]] || [ "$size" -eq 0 ]; then
    aws_cli s3 rm "$url" --only-show-errors >/dev/null || true
    die "$EX_FAILURE" "upload verification failed: ${url} is empty or its size is unknown"
  fi

  printf '{"event":"pg_backup_complete","status":"ok","bucket":%s,"key":%s,"size_bytes":%s,"database":%s,"format":"custom","timestamp":%s,"duration_seconds":%s}\n' \
    "$(json_str "$BACKUP_BUCKET")" "$(json_str "$key")" "$size" "$(json_str "$PGDATABASE")" \
    "$(json_str "$ts")" "$SECONDS"
}

# ---------------------------------------------------------------------------------------------------
# restore
# ---------------------------------------------------------------------------------------------------
workdir=""
cleanup() {
  if [ -n "$workdir" ] && [ -d "$workdir" ]; then
    rm -rf -- "$workdir"
  fi
}

do_restore() {
  local url="s3://${BACKUP_BUCKET}/${RESTORE_KEY}"
  local size dump

  if ! size=$(aws_cli s3api head-object --bucket "$BACKUP_BUCKET" --key "$RESTORE_KEY" \
    --query ContentLength --output text); then
    die "$EX_FAILURE" "cannot read ${url} (missing object or no permission)"
  fi
  size="${size//[[:space:]]/}"
  if ! [[ "$size" =~ ^[0-9]+$ ]] || [ "$size" -eq 0 ]; then
    die "$EX_FAILURE" "${url} is empty or its size is unknown; refusing to restore it"
  fi

  trap cleanup EXIT
  if ! workdir=$(mktemp -d "${RESTORE_WORKDIR:-${TMPDIR:-/tmp}}/pg-restore.XXXXXX"); then
    die "$EX_FAILURE" "cannot create a working directory (set RESTORE_WORKDIR to a writable volume)"
  fi
  dump="${workdir}/restore.dump"

  log "downloading ${url} (${size} bytes)"
  if ! aws_cli s3 cp "$url" "$dump" --only-show-errors --no-progress; then
    die "$EX_FAILURE" "download of ${url} failed"
  fi
  if [ ! -s "$dump" ]; then
    die "$EX_FAILURE" "downloaded dump ${dump} is empty"
  fi

  # Reads only the archive's table of contents: rejects a corrupt or non-custom-format file before
  # the target database is touched.
  if ! pg_restore --list "$dump" >/dev/null; then
    die "$EX_FAILURE" "${url} is not a readable pg_dump custom-format archive"
  fi

  log "restoring into database '${RESTORE_TARGET_DATABASE}' on ${PGHOST}:${PGPORT} (sslmode=${PGSSLMODE})"
  if ! pg_restore --no-owner --no-privileges --clean --if-exists --single-transaction \
    --exit-on-error --no-password -d "$RESTORE_TARGET_DATABASE" "$dump"; then
    die "$EX_FAILURE" "pg_restore into '${RESTORE_TARGET_DATABASE}' failed; the transaction was rolled back"
  fi

  printf '{"event":"pg_restore_complete","status":"ok","bucket":%s,"key":%s,"size_bytes":%s,"target_database":%s,"duration_seconds":%s}\n' \
    "$(json_str "$BACKUP_BUCKET")" "$(json_str "$RESTORE_KEY")" "$size" \
    "$(json_str "$RESTORE_TARGET_DATABASE")" "$SECONDS"
}

# ---------------------------------------------------------------------------------------------------
# schedule
# ---------------------------------------------------------------------------------------------------
sleep_pid=""
on_stop() {
  if [ -n "$sleep_pid" ]; then
    kill "$sleep_pid" 2>/dev/null || true
  fi
  log "stop signal received; exiting"
  exit 143
}

do_schedule() {
  local now next status
  # `sleep & wait` instead of a foreground sleep: a trapped signal interrupts `wait` at once.
  trap on_stop TERM INT
  log "schedule ${BACKUP_SCHEDULE} (UTC)"
  while :; do
    now=$(current_time)
    next=$(next_run "$now")
    printf '{"event":"pg_backup_schedule","schedule":%s,"now":%s,"next_run":%s,"sleep_seconds":%s}\n' \
      "$(json_str "$BACKUP_SCHEDULE")" "$(json_str "$(utc_iso "$now")")" "$(json_str "$(utc_iso "$next")")" \
      "$((next - now))"
    log "next backup at $(utc_iso "$next") (in $((next - now)) s)"
    sleep "$((next - now))" &
    sleep_pid=$!
    if ! wait "$sleep_pid"; then
      die "$EX_FAILURE" "sleep until the next run failed"
    fi
    sleep_pid=""

    # A subshell, so that a failing backup (which exits) ends only this run, not the schedule.
    set +e
    (
      set -e
      do_backup
    )
    status=$?
    set -e
    if [ "$status" -ne 0 ]; then
      log "scheduled backup failed (exit ${status}); the next run stays scheduled"
      printf '{"event":"pg_backup_failed","status":"error","exit_code":%s,"database":%s}\n' \
        "$status" "$(json_str "$PGDATABASE")"
    fi
    if is_true "${SCHEDULE_ONCE:-}"; then
      exit "$status"
    fi
  done
}

case "$mode" in
  backup) do_backup ;;
  restore) do_restore ;;
  schedule) do_schedule ;;
esac
