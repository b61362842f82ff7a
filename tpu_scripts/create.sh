#!/usr/bin/env bash
# Create a Cloud TPU VM or pod slice (all hosts of a slice come up together).
#
#   tpu_scripts/create.sh --name NAME --zone ZONE --project PROJECT --accelerator-type v4-8 \
#       [--version RUNTIME] [--spot | --preemptible] [--queued] [--dry-run]
#
# --accelerator-type  v3-8, v4-8, v4-32, v5litepod-16 (v5e), ... (or SYMJAX_TPU_TYPE)
# --version           TPU runtime (software) version; default by TPU generation:
#                     v2/v3/v4 tpu-ubuntu2204-base, v5e v2-alpha-tpuv5-lite,
#                     v5p v2-alpha-tpuv5, v6e v2-alpha-tpuv6e
# --spot              Spot VM: cheap, preempted at any time, never restarted: delete and
#                     recreate it (tpu_scripts/watch.sh does)
# --preemptible       the older preemptible kind (v2-v4), at most 24 hours
# --queued            request it as a queued resource (gcloud compute tpus queued-resources),
#                     Google's recommended way for Spot capacity; waits until ACTIVE
# --dry-run           print the gcloud commands instead of running them (gcloud not needed)
# --name/--zone/--project default to SYMJAX_TPU_NAME / SYMJAX_TPU_ZONE / SYMJAX_TPU_PROJECT.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ACCELERATOR_TYPE="${SYMJAX_TPU_TYPE:-}"
VERSION=""
SPOT=0
PREEMPTIBLE=0
WAIT_SECONDS=30

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  parse_common "$@"
  if ((SHIFT_BY)); then shift "$SHIFT_BY"; continue; fi
  case "$1" in
    --accelerator-type) need_value "$@"; ACCELERATOR_TYPE="$2"; shift 2 ;;
    --accelerator-type=*) ACCELERATOR_TYPE="${1#*=}"; shift ;;
    --version) need_value "$@"; VERSION="$2"; shift 2 ;;
    --version=*) VERSION="${1#*=}"; shift ;;
    --spot) SPOT=1; shift ;;
    --preemptible) PREEMPTIBLE=1; shift ;;
    --wait-seconds) need_value "$@"; WAIT_SECONDS="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

require_common
[[ -n "$ACCELERATOR_TYPE" ]] || die "no accelerator type: pass --accelerator-type (e.g. v4-8, v5litepod-16) or set SYMJAX_TPU_TYPE"
((SPOT + PREEMPTIBLE < 2)) || die "--spot and --preemptible exclude each other"
if ((QUEUED && PREEMPTIBLE)); then die "queued resources take --spot, not --preemptible"; fi

if [[ -z "$VERSION" ]]; then
  case "$ACCELERATOR_TYPE" in
    v2-*|v3-*|v4-*) VERSION="tpu-ubuntu2204-base" ;;
    v5litepod-*|v5e-*) VERSION="v2-alpha-tpuv5-lite" ;;
    v5p-*) VERSION="v2-alpha-tpuv5" ;;
    v6e-*) VERSION="v2-alpha-tpuv6e" ;;
    *) die "no default runtime version for accelerator type '$ACCELERATOR_TYPE': pass --version" ;;
  esac
fi

location_flags
if ((QUEUED)); then
  cmd=(gcloud compute tpus queued-resources create "$TPU_NAME" "${LOCATION[@]}" --node-id="$TPU_NAME"
       --accelerator-type="$ACCELERATOR_TYPE" --runtime-version="$VERSION")
  ((SPOT)) && cmd+=(--spot)
  run "${cmd[@]}"
  describe=(gcloud compute tpus queued-resources describe "$TPU_NAME" "${LOCATION[@]}" --format='value(state.state)')
  if ((DRY_RUN)); then
    run "${describe[@]}"
    echo "# (repeated every ${WAIT_SECONDS}s until the state is ACTIVE)"
    exit 0
  fi
  while true; do
    state="$("${describe[@]}")"
    echo "queued resource $TPU_NAME: $state"
    case "$state" in
      ACTIVE) break ;;
      FAILED|SUSPENDED) die "queued resource $TPU_NAME is $state: delete it (tpu_scripts/delete.sh --queued) and retry" ;;
    esac
    sleep "$WAIT_SECONDS"
  done
else
  cmd=(gcloud compute tpus tpu-vm create "$TPU_NAME" "${LOCATION[@]}"
       --accelerator-type="$ACCELERATOR_TYPE" --version="$VERSION")
  ((SPOT)) && cmd+=(--spot)
  ((PREEMPTIBLE)) && cmd+=(--preemptible)
  run "${cmd[@]}"
fi
