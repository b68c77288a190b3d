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
# One retry policy whichever CLI runs the script: "standard" mode, 3 attempts in all, is the AWS CLI v2
# default (the image's CLI), while v1 (PyPI) defaults to "legacy" with 5 (AWS CLI User Guide, "AWS CLI
# retries", docs.aws.amazon.com/cli/latest/userguide/cli-configure-retries.html). A task's own values win.
export AWS_RETRY_MODE="${AWS_RETRY_MODE:-standard}"
export AWS_MAX_ATTEMPTS="${AWS_MAX_ATTEMPTS:-3}"

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
Usage: pg-backup [backup|restore|drill|drill-age|schedule|check|--check|help|--help]

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
  RESTORE_TARGET_DATABASE                  restore: database to restore into (created when missing)
  RESTORE_ALLOW_SAME_DATABASE=yes          restore: allow RESTORE_TARGET_DATABASE == PGDATABASE
  RESTORE_ALLOW_UNVERIFIED=yes             restore: accept a dump without a recorded SHA-256
  DRILL_MAX_AGE_SECONDS                    backup: report pg_drill_stale when the drill's last success is
                                           older (none recorded yet: the oldest dump's age counts)
  WORKDIR                                  scratch directory (default $RESTORE_WORKDIR, $TMPDIR or /tmp)
  DRY_RUN=1                                validate the environment and tools for the mode, then exit 0

Modes:
  backup   pg_dump --format=custom of one snapshot, streamed to a temporary key with its SHA-256, then
           a manifest (checksum, pg_dump version, row counts) and the dump at its final key
  restore  test the connection, download s3://$BACKUP_BUCKET/$RESTORE_KEY, check size and SHA-256,
           pg_restore it into $RESTORE_TARGET_DATABASE in one transaction
  drill    restore the newest dump into a scratch database, compare tables and row counts with its
           manifest, drop the scratch database, record its success (drill/last-success.json)
  drill-age report the drill's last success against DRILL_MAX_AGE_SECONDS (what a backup does after its
           dump when the variable is set): one line, pg_drill_age (ok) or pg_drill_stale
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
  backup | restore | drill | drill-age | schedule) ;;
  check | --check) mode="check" ;;
  help | --help | -h)
    usage
    exit 0
    ;;
  *)
    # Only echo the rejected mode when it looks like a word and is not the password itself.
    if [[ "$mode" =~ ^[A-Za-z0-9_-]{1,32}$ ]] && [ "$mode" != "${PGPASSWORD:-}" ]; then
      die "$EX_USAGE" "unknown mode '$mode' (allowed: backup, restore, drill, check, help, schedule, drill-age)"
    fi
    die "$EX_USAGE" "unknown mode (allowed: backup, restore, drill, check, help, schedule, drill-age)"
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
if [ "$mode" = "drill-age" ]; then
  require_var DRILL_MAX_AGE_SECONDS
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

if [ -n "${DRILL_MAX_AGE_SECONDS:-}" ] && ! [[ "$DRILL_MAX_AGE_SECONDS" =~ ^[1-9][0-9]{0,9}$ ]]; then
  invalid "DRILL_MAX_AGE_SECONDS must be a positive number of seconds"
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
  backup | schedule) tools=(pg_dump psql sha256sum aws) ;;
  restore) tools=(pg_restore psql createdb sha256sum aws) ;;
  drill-age) tools=(aws) ;;
  *) tools=(pg_dump pg_restore psql createdb dropdb sha256sum aws) ;;
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
# Shared helpers of the runs
# ---------------------------------------------------------------------------------------------------
WORKDIR="${WORKDIR:-${RESTORE_WORKDIR:-${TMPDIR:-/tmp}}}"
work=""
cleanup_work() {
  if [ -n "$work" ] && [ -d "$work" ]; then
    rm -rf -- "$work"
  fi
}

make_work() {
  if ! work=$(mktemp -d "${WORKDIR}/pg-backup.XXXXXX"); then
    die "$EX_FAILURE" "cannot create a working directory in ${WORKDIR} (set WORKDIR to a writable volume)"
  fi
}

# ": <first line of file $1>", or nothing when the tool printed no error.
first_line() {
  local line=""
  if [ -s "$1" ]; then
    IFS= read -r line <"$1" || true
  fi
  if [ -n "$line" ]; then
    printf ': %s' "$line"
  fi
}

psql_q() {
  psql -X -q -A -t -v ON_ERROR_STOP=1 --no-password "$@"
}

# Connection test before any download or upload: one line naming the database and the server's answer.
check_connection() {
  local db=$1 err="$work/connect.err"
  if ! psql_q -d "$db" -c "SELECT 1" >/dev/null 2>"$err"; then
    die "$EX_FAILURE" "cannot connect to database '${db}' on ${PGHOST}:${PGPORT} as ${PGUSER}$(first_line "$err")"
  fi
}

# Exact row counts of every table (ordinary and partitioned), as one JSON object {"schema.table": n}.
readonly COUNTS_SQL="SELECT coalesce(json_object_agg(t.name, t.n ORDER BY t.name), '{}') FROM (
  SELECT format('%I.%I', n.nspname, c.relname) AS name,
    (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname),
      false, true, '')))[1]::text::bigint AS n
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%') t;"

s3_url() {
  printf 's3://%s/%s' "$BACKUP_BUCKET" "$1"
}

# Remove an object version entirely (no delete marker, no hidden partial version): the version given,
# or the current one looked up. Returns 0 when it removed one, 1 when that failed, 2 when there was none.
discard_object() {
  local key=$1 vid=${2:-}
  if [ -z "$vid" ] && ! vid=$(aws_cli s3api head-object --bucket "$BACKUP_BUCKET" --key "$key" \
    --query VersionId --output text 2>/dev/null); then
    return 2
  fi
  vid="${vid//[[:space:]]/}"
  if [ -n "$vid" ] && [ "$vid" != "None" ] && [ "$vid" != "null" ]; then
    aws_cli s3api delete-object --bucket "$BACKUP_BUCKET" --key "$key" --version-id "$vid" >/dev/null 2>&1 || return 1
  else
    aws_cli s3api delete-object --bucket "$BACKUP_BUCKET" --key "$key" >/dev/null 2>&1 || return 1
  fi
}

sse_args=()
if [ -n "${BACKUP_KMS_KEY_ID:-}" ]; then
  sse_args=(--sse aws:kms --sse-kms-key-id "$BACKUP_KMS_KEY_ID")
fi

# ---------------------------------------------------------------------------------------------------
# backup: snapshot + row counts, pg_dump | sha256 | upload to a temporary key, then the final key
# ---------------------------------------------------------------------------------------------------
backup_tmp_key=""
backup_tmp_version="" # the temporary upload's version, once read back ("None" when unversioned)
backup_children=()
backup_cleanup() {
  local pid
  for pid in "${backup_children[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  backup_children=()
  if [ -n "$backup_tmp_key" ]; then
    local removed=0
    discard_object "$backup_tmp_key" "$backup_tmp_version" || removed=$?
    if [ "$removed" -eq 1 ]; then
      log "could not remove the temporary upload $(s3_url "$backup_tmp_key") (not a dump: its key is temporary)"
    fi
    backup_tmp_key=""
    backup_tmp_version=""
  fi
  cleanup_work
}

do_backup() {
  SECONDS=0
  local ts key tmp_key manifest_key url size sha counts snapshot version
  ts=$(date -u +%Y%m%dT%H%M%SZ)
  key="${BACKUP_PREFIX}${PGDATABASE}/${ts:0:4}/${ts:4:2}/${ts:6:2}/${PGDATABASE}-${ts}.dump"
  tmp_key="${BACKUP_PREFIX}${PGDATABASE}/incoming/${PGDATABASE}-${ts}.dump.partial"
  manifest_key="${key}.manifest.json"
  url=$(s3_url "$key")
  trap backup_cleanup EXIT
  trap 'exit 143' TERM INT
  make_work
  check_connection "$PGDATABASE"

  # One READ ONLY REPEATABLE READ transaction exports its snapshot: pg_dump dumps exactly that snapshot
  # and the row counts of the manifest come from it too.
  coproc SNAP { psql_q -d "$PGDATABASE" 2>"$work/snapshot.err"; }
  backup_children+=("$SNAP_PID")
  local snap_in snap_out
  exec {snap_in}>&"${SNAP[1]}" {snap_out}<&"${SNAP[0]}"
  printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" "SELECT pg_export_snapshot();" \
    "${COUNTS_SQL//$'\n'/ }" >&"$snap_in"
  if ! IFS= read -r -t 600 snapshot <&"$snap_out" || ! IFS= read -r -t 3600 counts <&"$snap_out"; then
    die "$EX_FAILURE" "cannot open a snapshot of '${PGDATABASE}'$(first_line "$work/snapshot.err")"
  fi
  version=$(pg_dump --version)
  version=$([[ "$version" =~ ([0-9]+(\.[0-9]+)?) ]] && printf '%s' "${BASH_REMATCH[1]}")

  log "backing up database '${PGDATABASE}' on ${PGHOST}:${PGPORT} (sslmode=${PGSSLMODE}) to ${url}${AWS_ENDPOINT_URL:+ via ${AWS_ENDPOINT_URL}}"
  local -a cp_args=(s3 cp - "$(s3_url "$tmp_key")" --only-show-errors --no-progress
    --content-type application/octet-stream "${sse_args[@]}")
  if [ -n "${BACKUP_EXPECTED_SIZE:-}" ]; then
    cp_args+=(--expected-size "$BACKUP_EXPECTED_SIZE")
  fi
  mkfifo "$work/stream"
  sha256sum <"$work/stream" >"$work/sha256" 2>/dev/null &
  local sha_pid=$!
  backup_children+=("$sha_pid")
  local -a status
  backup_tmp_key=$tmp_key
  set +e
  pg_dump --snapshot="$snapshot" --format=custom --compress=9 --no-owner --no-privileges --no-password \
    2>"$work/pg_dump.err" | tee "$work/stream" | aws_cli "${cp_args[@]}" 2>"$work/upload.err"
  status=("${PIPESTATUS[@]}")
  wait "$sha_pid"
  set -e
  printf 'COMMIT;\n' >&"$snap_in" || true
  exec {snap_in}>&-
  if [ "${status[0]}" -ne 0 ]; then
    die "$EX_FAILURE" "pg_dump of '${PGDATABASE}' failed (exit ${status[0]})$(first_line "$work/pg_dump.err"); no dump was stored"
  fi
  if [ "${status[2]}" -ne 0 ] || [ "${status[1]}" -ne 0 ]; then
    die "$EX_FAILURE" "upload of the dump to $(s3_url "$tmp_key") failed$(first_line "$work/upload.err"); no dump was stored"
  fi
  sha=$(cut -d' ' -f1 "$work/sha256")
  if ! [[ "$sha" =~ ^[0-9a-f]{64}$ ]]; then
    die "$EX_FAILURE" "could not compute the SHA-256 of the dump; no dump was stored"
  fi
  # Size and version in one call: `--output text` prints the queried values tab-separated (AWS CLI User
  # Guide, "Setting the output format": https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-output-format.html),
  # "None" for the version of an unversioned bucket.
  local uploaded
  if ! uploaded=$(aws_cli s3api head-object --bucket "$BACKUP_BUCKET" --key "$tmp_key" \
    --query '[ContentLength, VersionId]' --output text 2>"$work/head.err"); then
    die "$EX_FAILURE" "the uploaded dump $(s3_url "$tmp_key") cannot be read back$(first_line "$work/head.err"); no dump was stored"
  fi
  read -r size backup_tmp_version <<<"$uploaded" || true
  if ! [[ "$size" =~ ^[0-9]+$ ]] || [ "$size" -eq 0 ]; then
    die "$EX_FAILURE" "the uploaded dump $(s3_url "$tmp_key") is empty; no dump was stored"
  fi

  # The manifest first, then the dump at its final key: a dump at a final key always has both.
  printf '{"key":%s,"sha256":"%s","size_bytes":%s,"pg_dump_version":%s,"database":%s,"timestamp":%s,"tables":%s}\n' \
    "$(json_str "$key")" "$sha" "$size" "$(json_str "$version")" "$(json_str "$PGDATABASE")" \
    "$(json_str "$ts")" "$counts" >"$work/manifest.json"
  if ! aws_cli s3 cp "$work/manifest.json" "$(s3_url "$manifest_key")" --only-show-errors \
    --content-type application/json "${sse_args[@]}" 2>"$work/manifest.err"; then
    die "$EX_FAILURE" "upload of the manifest $(s3_url "$manifest_key") failed$(first_line "$work/manifest.err"); no dump was stored"
  fi
  if ! aws_cli s3 cp "$(s3_url "$tmp_key")" "$url" --only-show-errors --metadata-directive REPLACE \
    --content-type application/octet-stream --metadata "sha256=${sha},pg-dump-version=${version}" \
    "${sse_args[@]}" 2>"$work/copy.err"; then
    die "$EX_FAILURE" "moving the dump to ${url} failed$(first_line "$work/copy.err"); no dump was stored"
  fi
  local final
  if ! final=$(aws_cli s3api head-object --bucket "$BACKUP_BUCKET" --key "$key" \
    --query '[ContentLength, Metadata."sha256"]' --output text 2>"$work/head.err") ||
    [ "$(printf '%s' "$final" | tr -s '[:space:]' ' ' | sed 's/ $//')" != "${size} ${sha}" ]; then
    aws_cli s3 rm "$url" --only-show-errors >/dev/null 2>&1 || true
    die "$EX_FAILURE" "the dump at ${url} does not match what was uploaded (size/SHA-256); it was deleted"
  fi
  backup_cleanup
  trap - EXIT

  printf '{"event":"pg_backup_complete","status":"ok","bucket":%s,"key":%s,"size_bytes":%s,"sha256":"%s","pg_dump_version":%s,"database":%s,"format":"custom","timestamp":%s,"duration_seconds":%s}\n' \
    "$(json_str "$BACKUP_BUCKET")" "$(json_str "$key")" "$size" "$sha" "$(json_str "$version")" \
    "$(json_str "$PGDATABASE")" "$(json_str "$ts")" "$SECONDS"
  if [ -n "${DRILL_MAX_AGE_SECONDS:-}" ]; then
    check_drill_age
  fi
}

# ---------------------------------------------------------------------------------------------------
# restore: connection test, verified download (size + SHA-256), table of contents, one transaction
# ---------------------------------------------------------------------------------------------------
database_exists() {
  local found
  found=$(psql_q -d "$PGDATABASE" -c "SELECT 1 FROM pg_database WHERE datname = '$1'" 2>"$work/exists.err") ||
    die "$EX_FAILURE" "cannot query the databases on ${PGHOST}:${PGPORT}$(first_line "$work/exists.err")"
  [ "$found" = "1" ]
}

# Downloads $1 into $work/restore.dump and checks it against the SHA-256 stored with the object.
fetch_verified() {
  local key=$1 url meta size sha got
  url=$(s3_url "$key")
  if ! meta=$(aws_cli s3api head-object --bucket "$BACKUP_BUCKET" --key "$key" \
    --query '[ContentLength, Metadata."sha256"]' --output text 2>"$work/head.err"); then
    die "$EX_FAILURE" "cannot read ${url}$(first_line "$work/head.err") (missing object or no permission)"
  fi
  read -r size sha <<<"$meta"
  if ! [[ "$size" =~ ^[0-9]+$ ]] || [ "$size" -eq 0 ]; then
    die "$EX_FAILURE" "${url} is empty; refusing to restore it"
  fi
  if ! [[ "${sha:-}" =~ ^[0-9a-f]{64}$ ]]; then
    if [ "${RESTORE_ALLOW_UNVERIFIED:-}" != "yes" ]; then
      die "$EX_FAILURE" "${url} has no recorded SHA-256 (not a verified dump); set RESTORE_ALLOW_UNVERIFIED=yes to restore it anyway"
    fi
    log "warning: ${url} has no recorded SHA-256; restoring it unverified (RESTORE_ALLOW_UNVERIFIED=yes)"
    sha=""
  fi
  log "downloading ${url} (${size} bytes)"
  if ! aws_cli s3 cp "$url" "$work/restore.dump" --only-show-errors --no-progress 2>"$work/download.err"; then
    die "$EX_FAILURE" "download of ${url} failed$(first_line "$work/download.err")"
  fi
  got=$(wc -c <"$work/restore.dump")
  if [ "$got" -ne "$size" ]; then
    die "$EX_FAILURE" "downloaded ${got} of ${size} bytes of ${url}; refusing to restore it"
  fi
  got=$(sha256sum "$work/restore.dump" | cut -d' ' -f1)
  if [ -n "$sha" ] && [ "$got" != "$sha" ]; then
    die "$EX_FAILURE" "checksum mismatch for ${url}: SHA-256 ${got}, recorded ${sha}; refusing to restore it"
  fi
}

restore_into() {
  local key=$1 target=$2 err="$work/pg_restore.err"
  fetch_verified "$key"
  if ! pg_restore --list "$work/restore.dump" >/dev/null 2>"$work/list.err"; then
    die "$EX_FAILURE" "$(s3_url "$key") is not a readable pg_dump custom-format archive$(first_line "$work/list.err")"
  fi
  if ! database_exists "$target"; then
    if ! createdb --no-password -- "$target" 2>"$work/createdb.err"; then
      die "$EX_FAILURE" "cannot create the target database '${target}'$(first_line "$work/createdb.err")"
    fi
    log "created the target database '${target}'"
  fi
  log "restoring into database '${target}' on ${PGHOST}:${PGPORT} (sslmode=${PGSSLMODE})"
  if ! pg_restore --no-owner --no-privileges --clean --if-exists --single-transaction \
    --exit-on-error --no-password -d "$target" "$work/restore.dump" 2>"$err"; then
    die "$EX_FAILURE" "pg_restore into '${target}' failed, nothing was changed (one transaction)$(first_line "$err")"
  fi
}

do_restore() {
  SECONDS=0
  trap cleanup_work EXIT
  make_work
  check_connection "$PGDATABASE"
  restore_into "$RESTORE_KEY" "$RESTORE_TARGET_DATABASE"
  printf '{"event":"pg_restore_complete","status":"ok","bucket":%s,"key":%s,"target_database":%s,"duration_seconds":%s}\n' \
    "$(json_str "$BACKUP_BUCKET")" "$(json_str "$RESTORE_KEY")" "$(json_str "$RESTORE_TARGET_DATABASE")" "$SECONDS"
}

# ---------------------------------------------------------------------------------------------------
# drill: restore the newest dump into a scratch database, compare tables and row counts with its
# manifest, drop the scratch database
# ---------------------------------------------------------------------------------------------------
drill_db=""
drill_cleanup() {
  if [ -n "$drill_db" ]; then
    dropdb --no-password --if-exists -- "$drill_db" 2>/dev/null ||
      log "could not drop the scratch database '${drill_db}'; drop it by hand"
    drill_db=""
  fi
  cleanup_work
}

drill_failed() {
  printf '{"event":"pg_drill_failed","status":"error","database":%s,"reason":%s}\n' \
    "$(json_str "$PGDATABASE")" "$(json_str "$1")"
  die "$EX_FAILURE" "restore drill failed: $1"
}

do_drill() {
  SECONDS=0
  local keys key tables mismatches summary
  trap drill_cleanup EXIT
  make_work
  check_connection "$PGDATABASE"
  if ! keys=$(aws_cli s3api list-objects-v2 --bucket "$BACKUP_BUCKET" --prefix "${BACKUP_PREFIX}${PGDATABASE}/" \
    --query "Contents[?ends_with(Key, '.dump')].Key" --output text 2>"$work/list.err"); then
    drill_failed "cannot list the dumps under $(s3_url "${BACKUP_PREFIX}${PGDATABASE}/")$(first_line "$work/list.err")"
  fi
  key=$(printf '%s' "$keys" | tr '\t' '\n' | grep -v '^None$' | sort | tail -n 1 || true)
  if [ -z "$key" ]; then
    drill_failed "no dump under $(s3_url "${BACKUP_PREFIX}${PGDATABASE}/")"
  fi
  if ! aws_cli s3 cp "$(s3_url "${key}.manifest.json")" "$work/manifest.json" --only-show-errors \
    2>"$work/manifest.err"; then
    drill_failed "the newest dump ${key} has no readable manifest$(first_line "$work/manifest.err")"
  fi
  drill_db="${PGDATABASE:0:40}_drill_$(date -u +%Y%m%d%H%M%S)"
  log "drill: restoring ${key} into the scratch database '${drill_db}'"
  (restore_into "$key" "$drill_db") || drill_failed "the restore of ${key} failed (see above)"
  # Compare inside PostgreSQL: the manifest's counts against exact counts of the restored tables.
  if ! summary=$(psql_q -d "$drill_db" -v manifest="$(cat "$work/manifest.json")" 2>"$work/compare.err" <<SQL
WITH expected AS (SELECT key AS name, value::bigint AS n FROM json_each_text((:'manifest'::json)->'tables')),
actual AS (SELECT key AS name, value::bigint AS n FROM json_each_text((${COUNTS_SQL%;})::json))
SELECT (SELECT count(*) FROM expected) || ' ' || coalesce((SELECT sum(n) FROM expected), 0) || ' ' ||
  coalesce((SELECT string_agg(format('%s expected %s rows, found %s', coalesce(e.name, a.name),
    coalesce(e.n::text, 'no table'), coalesce(a.n::text, 'no table')), '; ' ORDER BY coalesce(e.name, a.name))
  FROM expected e FULL JOIN actual a ON a.name = e.name WHERE e.n IS DISTINCT FROM a.n), '');
SQL
  ); then
    drill_failed "cannot compare '${drill_db}' with the manifest$(first_line "$work/compare.err")"
  fi
  read -r tables rows mismatches <<<"$summary"
  if [ -n "$mismatches" ]; then
    drill_failed "${key} restored with other contents than recorded at dump time: ${mismatches}"
  fi
  record_drill_success "$key" "$tables" "$rows"
  drill_cleanup
  trap - EXIT
  printf '{"event":"pg_drill_complete","status":"ok","bucket":%s,"key":%s,"tables":%s,"rows":%s,"database":%s,"duration_seconds":%s}\n' \
    "$(json_str "$BACKUP_BUCKET")" "$(json_str "$key")" "$tables" "$rows" "$(json_str "$PGDATABASE")" "$SECONDS"
}

# ---------------------------------------------------------------------------------------------------
# The drill's record: a successful drill writes drill/last-success.json; a backup with
# DRILL_MAX_AGE_SECONDS reads it and reports pg_drill_stale when the last success is older. Before any
# drill succeeded, the oldest dump stands in (the earliest time a drill had something to restore), so a
# new stack stays quiet and a record that expired with the dumps still counts as stale.
# ---------------------------------------------------------------------------------------------------
drill_record_key() {
  printf '%s' "${BACKUP_PREFIX}${PGDATABASE}/drill/last-success.json"
}

record_drill_success() {
  local now
  printf -v now '%(%s)T' -1
  printf '{"event":"pg_drill_complete","key":%s,"tables":%s,"rows":%s,"completed_at":%s,"completed_epoch":%s}\n' \
    "$(json_str "$1")" "$2" "$3" "$(json_str "$(utc_iso "$now")")" "$now" >"$work/last-success.json"
  if ! aws_cli s3 cp "$work/last-success.json" "$(s3_url "$(drill_record_key)")" --only-show-errors \
    --content-type application/json "${sse_args[@]}" 2>"$work/record.err"; then
    drill_failed "the drill succeeded but its record $(s3_url "$(drill_record_key)") could not be written$(first_line "$work/record.err")"
  fi
}

# Unix time of a dump key's timestamp (<db>-YYYYmmddTHHMMSSZ.dump), in bash alone (busybox date differs).
key_epoch() {
  [[ "$1" =~ -([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z\.dump$ ]] || return 1
  local y=$((10#${BASH_REMATCH[1]})) m=$((10#${BASH_REMATCH[2]})) d=$((10#${BASH_REMATCH[3]}))
  local era doy
  if [ "$m" -le 2 ]; then y=$((y - 1)); fi
  era=$((y / 400))
  doy=$(((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1))
  local days=$((era * 146097 + (y - era * 400) * 365 + (y - era * 400) / 4 - (y - era * 400) / 100 + doy - 719468))
  echo $((days * 86400 + 10#${BASH_REMATCH[4]} * 3600 + 10#${BASH_REMATCH[5]} * 60 + 10#${BASH_REMATCH[6]}))
}

drill_stale() {
  local reference=$1 since=$2 age=$3 reason=$4
  printf '{"event":"pg_drill_stale","status":"error","database":%s,"reference":%s,"since":%s,"age_seconds":%s,"limit_seconds":%s,"reason":%s}\n' \
    "$(json_str "$PGDATABASE")" "$(json_str "$reference")" "$since" "$age" "$DRILL_MAX_AGE_SECONDS" \
    "$(json_str "$reason")"
  log "restore drill is stale: ${reason}"
}

# Never fails the backup (its dump is good): every outcome is one JSON line.
check_drill_age() {
  local url body now since reference keys oldest
  url=$(s3_url "$(drill_record_key)")
  trap cleanup_work EXIT
  make_work
  printf -v now '%(%s)T' -1
  if body=$(aws_cli s3 cp "$url" - 2>"$work/record.err"); then
    reference="last_success"
    if ! [[ "$body" =~ \"completed_epoch\":[[:space:]]*([0-9]{1,11}) ]]; then
      drill_stale "$reference" null null "the drill record ${url} is not readable"
      return 0
    fi
    since=${BASH_REMATCH[1]}
  elif grep -q '(404)\|NoSuchKey\|Not Found' "$work/record.err"; then
    reference="oldest_dump"
    if ! keys=$(aws_cli s3api list-objects-v2 --bucket "$BACKUP_BUCKET" --prefix "${BACKUP_PREFIX}${PGDATABASE}/" \
      --query "Contents[?ends_with(Key, '.dump')].Key" --output text 2>"$work/list.err"); then
      drill_stale "$reference" null null "no drill record and the dumps cannot be listed$(first_line "$work/list.err")"
      return 0
    fi
    oldest=$(printf '%s' "$keys" | tr '\t' '\n' | grep -v '^None$' | sort | head -n 1 || true)
    if ! since=$(key_epoch "$oldest"); then
      drill_stale "$reference" null null "no drill record and no dump with a timestamp under $(s3_url "${BACKUP_PREFIX}${PGDATABASE}/")"
      return 0
    fi
  else
    drill_stale "unknown" null null "cannot read the drill record ${url}$(first_line "$work/record.err")"
    return 0
  fi
  cleanup_work
  trap - EXIT
  local age=$((now - since))
  if [ "$age" -gt "$DRILL_MAX_AGE_SECONDS" ]; then
    local what="the last successful drill was"
    [ "$reference" = "last_success" ] || what="no drill has succeeded since the oldest dump,"
    drill_stale "$reference" "$since" "$age" "${what} ${age} s ago at $(utc_iso "$since") (limit ${DRILL_MAX_AGE_SECONDS} s)"
  else
    printf '{"event":"pg_drill_age","status":"ok","database":%s,"reference":%s,"since":%s,"age_seconds":%s,"limit_seconds":%s}\n' \
      "$(json_str "$PGDATABASE")" "$(json_str "$reference")" "$since" "$age" "$DRILL_MAX_AGE_SECONDS"
  fi
}

# ---------------------------------------------------------------------------------------------------
# schedule
# ---------------------------------------------------------------------------------------------------
sleep_pid=""
run_pid=""
# Every process below a PID, listed before any is signalled: once a parent dies its children move to
# init and can no longer be found from here. The aws CLI runs two levels down (pipeline, then env).
descendants_of() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do
    printf '%s\n' "$child"
    descendants_of "$child"
  done
}
on_stop() {
  trap - TERM INT
  if [ -n "$sleep_pid" ]; then
    kill "$sleep_pid" 2>/dev/null || true
  fi
  if [ -n "$run_pid" ]; then
    # Stop pg_dump, tee and the aws CLI now (not after the dump), then let the run remove its
    # temporary upload. An aws CLI left alive would upload what it has read once its input closes.
    local pids
    pids=$(descendants_of "$run_pid")
    # shellcheck disable=SC2086 # one PID per word
    [ -z "$pids" ] || kill -TERM $pids 2>/dev/null || true
    kill -TERM "$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
  log "stop signal received; exiting"
  exit 143
}

# A fixed SCHEDULE_NOW is the clock at start; it moves on with the real clock from there.
clock_offset=0
if [ -n "${SCHEDULE_NOW:-}" ]; then
  clock_offset=$((SCHEDULE_NOW - $(printf '%(%s)T' -1)))
fi
current_time() {
  printf '%s' "$(($(printf '%(%s)T' -1) + clock_offset))"
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

    # A background subshell, so that a failing backup (which exits) ends only this run, and a stop
    # signal interrupts `wait` instead of waiting for the dump.
    set +e
    (
      set -e
      do_backup
    ) &
    run_pid=$!
    wait "$run_pid"
    status=$?
    run_pid=""
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
  drill) do_drill ;;
  drill-age) check_drill_age ;;
  schedule) do_schedule ;;
esac
