#!/usr/bin/env bash
# Delete a Cloud TPU VM or pod slice (or its queued resource).
#
#   tpu_scripts/delete.sh --name NAME --zone ZONE --project PROJECT [--queued] [--dry-run]
#
# --queued   it was created with create.sh --queued: delete the queued resource (--force
#            also deletes its TPU)
# Checkpoints in gs:// are kept; only the VMs (and their local disks and logs) go.
# --name/--zone/--project default to SYMJAX_TPU_NAME / SYMJAX_TPU_ZONE / SYMJAX_TPU_PROJECT.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  parse_common "$@"
  if ((SHIFT_BY)); then shift "$SHIFT_BY"; continue; fi
  case "$1" in
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

require_common
location_flags
if ((QUEUED)); then
  run gcloud compute tpus queued-resources delete "$TPU_NAME" "${LOCATION[@]}" --force --quiet
else
  run gcloud compute tpus tpu-vm delete "$TPU_NAME" "${LOCATION[@]}" --quiet
fi
