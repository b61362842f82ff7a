#!/usr/bin/env bash
# Stream the log of a job started by launch.sh (tail -F on the worker; Ctrl-C stops
# streaming, not the job).
#
#   tpu_scripts/logs.sh --name NAME --zone ZONE --project PROJECT [--job JOB] [--worker 0|all]
#       [--lines N] [--dry-run]
#
# --job JOB      the job name given to launch.sh (default: every job's log on the worker)
# --worker W     which worker (default 0, the one that writes metrics; "all" interleaves them)
# --lines N      lines of history to show first (default 100)
# --name/--zone/--project default to SYMJAX_TPU_NAME / SYMJAX_TPU_ZONE / SYMJAX_TPU_PROJECT.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

JOB=""
WORKER=0
LINES=100

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  parse_common "$@"
  if ((SHIFT_BY)); then shift "$SHIFT_BY"; continue; fi
  case "$1" in
    --job) need_value "$@"; JOB="$2"; shift 2 ;;
    --worker) need_value "$@"; WORKER="$2"; shift 2 ;;
    --lines) need_value "$@"; LINES="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

require_common
[[ "$WORKER" =~ ^([0-9]+|all)$ ]] || die "--worker is a worker index or 'all', got '$WORKER'"
[[ "$LINES" =~ ^[0-9]+$ ]] || die "--lines takes a number, got '$LINES'"
if [[ -n "$JOB" ]]; then
  [[ "$JOB" =~ ^[A-Za-z0-9_.-]+$ ]] || die "--job must be letters, digits, '_', '.', '-'; got '$JOB'"
  files="$JOBS_DIR/$JOB.log"
else
  files="$JOBS_DIR/*.log"
fi
tpu_ssh "$WORKER" "tail -n $LINES -F $files"
