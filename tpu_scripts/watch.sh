#!/usr/bin/env bash
# Keep a job running through preemptions: every --interval seconds, check the TPU's state
# and the job's; when the TPU is gone, PREEMPTED or TERMINATED (Spot and preemptible TPUs
# are never restarted), delete it, create it again, set it up and relaunch the job; when
# the TPU is READY but the job died without finishing, relaunch it. Both trainers resume
# from the last checkpoint in the model directory. Stops when the job exits with status 0,
# or after --max-restarts recoveries.
#
#   tpu_scripts/watch.sh --name NAME --zone ZONE --project PROJECT [--queued] --job JOB \
#       --create "CREATE.SH ARGS" --setup "SETUP.SH ARGS" --launch "LAUNCH.SH ARGS" \
#       [--interval 300] [--max-restarts 20] [--dry-run]
#
# --create/--setup/--launch  the options of create.sh, setup.sh and launch.sh (without
#                  --name/--zone/--project/--job, which watch.sh passes on), one string each
#                  (split on spaces: no spaces inside a value)
# --job JOB        the job's name (passed to launch.sh --job)
# --queued         the TPU is a queued resource (create.sh/delete.sh --queued)
# --dry-run        print one round: the state check and the commands of each recovery
# Run it somewhere that stays up (a small VM, Cloud Shell with tmux, ...).
# --name/--zone/--project default to SYMJAX_TPU_NAME / SYMJAX_TPU_ZONE / SYMJAX_TPU_PROJECT.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HERE="$(dirname "${BASH_SOURCE[0]}")"
JOB=""
CREATE_ARGS=""
SETUP_ARGS=""
LAUNCH_ARGS=""
INTERVAL=300
MAX_RESTARTS=20

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  parse_common "$@"
  if ((SHIFT_BY)); then shift "$SHIFT_BY"; continue; fi
  case "$1" in
    --job) need_value "$@"; JOB="$2"; shift 2 ;;
    --create) [[ $# -ge 2 ]] || die "--create needs a value"; CREATE_ARGS="$2"; shift 2 ;;
    --setup) [[ $# -ge 2 ]] || die "--setup needs a value"; SETUP_ARGS="$2"; shift 2 ;;
    --launch) [[ $# -ge 2 ]] || die "--launch needs a value"; LAUNCH_ARGS="$2"; shift 2 ;;
    --interval) need_value "$@"; INTERVAL="$2"; shift 2 ;;
    --max-restarts) need_value "$@"; MAX_RESTARTS="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

require_common
[[ -n "$JOB" ]] || die "no job name: pass --job JOB (the name launch.sh uses for the job's files)"
[[ "$JOB" =~ ^[A-Za-z0-9_.-]+$ ]] || die "--job must be letters, digits, '_', '.', '-'; got '$JOB'"
[[ -n "$CREATE_ARGS" ]] || die "pass --create \"...\" (create.sh options, e.g. --accelerator-type v4-32 --spot)"
[[ -n "$SETUP_ARGS" ]] || die "pass --setup \"...\" (setup.sh options, e.g. --symjax-git URL --with-t5x)"
[[ -n "$LAUNCH_ARGS" ]] || die "pass --launch \"...\" (launch.sh options, e.g. --trainer t5x --gin-file ... --bucket B)"
[[ "$INTERVAL" =~ ^[0-9]+$ ]] || die "--interval takes seconds, got '$INTERVAL'"
[[ "$MAX_RESTARTS" =~ ^[0-9]+$ ]] || die "--max-restarts takes a number, got '$MAX_RESTARTS'"

read -ra create_args <<<"$CREATE_ARGS"
read -ra setup_args <<<"$SETUP_ARGS"
read -ra launch_args <<<"$LAUNCH_ARGS"
common=(--name "$TPU_NAME" --zone "$TPU_ZONE" --project "$TPU_PROJECT")
((QUEUED)) && common+=(--queued)
((DRY_RUN)) && common+=(--dry-run)
no_queued=(--name "$TPU_NAME" --zone "$TPU_ZONE" --project "$TPU_PROJECT")
((DRY_RUN)) && no_queued+=(--dry-run)

location_flags
describe=(gcloud compute tpus tpu-vm describe "$TPU_NAME" "${LOCATION[@]}" --format='value(state)')
status_cmd="cat $JOBS_DIR/$JOB.exit 2>/dev/null || { kill -0 \$(cat $JOBS_DIR/$JOB.pid 2>/dev/null) 2>/dev/null && echo running; } || echo stopped"

recreate() {
  "$HERE/delete.sh" "${common[@]}" || true
  "$HERE/create.sh" "${common[@]}" "${create_args[@]}"
  "$HERE/setup.sh" "${no_queued[@]}" "${setup_args[@]}"
  relaunch
}
relaunch() {
  "$HERE/launch.sh" "${no_queued[@]}" --job "$JOB" "${launch_args[@]}"
}

if ((DRY_RUN)); then
  run "${describe[@]}"
  echo "# if the TPU is missing, PREEMPTED, TERMINATED or STOPPED:"
  recreate
  echo "# if it is READY: the job's state on worker 0 (exit status, 'running' or 'stopped')"
  tpu_ssh 0 "$status_cmd"
  echo "# if the job stopped without exit status 0:"
  relaunch
  exit 0
fi

restarts=0
while true; do
  state="$("${describe[@]}" 2>/dev/null || echo MISSING)"
  state="${state:-MISSING}"
  echo "$(date -u +%FT%TZ) $TPU_NAME: $state"
  case "$state" in
    READY)
      job_state="$(tpu_ssh 0 "$status_cmd" 2>/dev/null | tail -n 1 || echo unknown)"
      echo "$(date -u +%FT%TZ) job $JOB: $job_state"
      case "$job_state" in
        0) echo "job $JOB finished"; exit 0 ;;
        running|unknown) ;;
        *)
          ((restarts < MAX_RESTARTS)) || die "job $JOB stopped ($job_state) $restarts times; giving up (see tpu_scripts/logs.sh)"
          restarts=$((restarts + 1))
          relaunch
          ;;
      esac
      ;;
    MISSING|PREEMPTED|TERMINATED|STOPPED|SUSPENDED)
      ((restarts < MAX_RESTARTS)) || die "$TPU_NAME lost $restarts times; giving up"
      restarts=$((restarts + 1))
      recreate
      ;;
    *) ;;  # CREATING, STARTING, REPAIRING, ...: wait
  esac
  sleep "$INTERVAL"
done
