# Shared helpers of the tpu_scripts/*.sh commands (sourced, not run).
# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are read by the scripts that source this file

DRY_RUN=0
TPU_NAME="${SYMJAX_TPU_NAME:-}"
TPU_ZONE="${SYMJAX_TPU_ZONE:-}"
TPU_PROJECT="${SYMJAX_TPU_PROJECT:-}"
QUEUED=0

die() {
  echo "error: $*" >&2
  exit 2
}

# Quote one word for a shell, leaving plain words as they are (readable --dry-run output
# that can be pasted back into a shell).
shell_quote() {
  local word="$1"
  if [[ -n "$word" && "$word" =~ ^[A-Za-z0-9_./:=@,+%^-]+$ ]]; then
    printf '%s' "$word"
  else
    printf "'%s'" "${word//\'/\'\\\'\'}"
  fi
}

quote_words() {
  local out="" word
  for word in "$@"; do
    out+="${out:+ }$(shell_quote "$word")"
  done
  printf '%s' "$out"
}

# Run a command, or print it under --dry-run ("+ " then the quoted words).
run() {
  if ((DRY_RUN)); then
    printf '+ %s\n' "$(quote_words "$@")"
  else
    "$@"
  fi
}

need_value() {  # need_value FLAG VALUE: a flag that takes a value got one
  [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || die "$1 needs a value"
}

# Parse the options every script shares; sets SHIFT_BY (1 or 2) when $1 was one of them.
parse_common() {
  SHIFT_BY=0
  case "$1" in
    --dry-run) DRY_RUN=1; SHIFT_BY=1 ;;
    --name) need_value "$@"; TPU_NAME="$2"; SHIFT_BY=2 ;;
    --zone) need_value "$@"; TPU_ZONE="$2"; SHIFT_BY=2 ;;
    --project) need_value "$@"; TPU_PROJECT="$2"; SHIFT_BY=2 ;;
    --queued) QUEUED=1; SHIFT_BY=1 ;;
    --name=*) TPU_NAME="${1#*=}"; SHIFT_BY=1 ;;
    --zone=*) TPU_ZONE="${1#*=}"; SHIFT_BY=1 ;;
    --project=*) TPU_PROJECT="${1#*=}"; SHIFT_BY=1 ;;
  esac
}

require_common() {
  [[ -n "$TPU_NAME" ]] || die "no TPU name: pass --name NAME or set SYMJAX_TPU_NAME"
  [[ -n "$TPU_ZONE" ]] || die "no zone: pass --zone ZONE (e.g. us-central2-b) or set SYMJAX_TPU_ZONE"
  [[ -n "$TPU_PROJECT" ]] || die "no Google Cloud project: pass --project PROJECT_ID or set SYMJAX_TPU_PROJECT"
  if ((!DRY_RUN)) && ! command -v gcloud >/dev/null 2>&1; then
    die "gcloud is not installed (https://cloud.google.com/sdk/docs/install); --dry-run prints the commands without it"
  fi
}

location_flags() {  # the --project/--zone pair every gcloud command takes
  LOCATION=(--project="$TPU_PROJECT" --zone="$TPU_ZONE")
}

# gcloud compute tpus tpu-vm ssh on WORKER ("all" or an index) running REMOTE_SCRIPT.
tpu_ssh() {
  local worker="$1" remote="$2"
  location_flags
  run gcloud compute tpus tpu-vm ssh "$TPU_NAME" "${LOCATION[@]}" --worker="$worker" --command="$remote"
}

# Quote one word for a shell with double quotes (for scripts written on the workers, so
# that the whole script can then travel inside single quotes).
dquote() {
  local word="$1"
  if [[ -n "$word" && "$word" =~ ^[A-Za-z0-9_./:=@,+%^-]+$ ]]; then
    printf '%s' "$word"
  else
    word="${word//\\/\\\\}"
    word="${word//\"/\\\"}"
    word="${word//\$/\\\$}"
    word="${word//\`/\\\`}"
    printf '"%s"' "$word"
  fi
}

# Where launch.sh keeps a job's files on every worker (the ~ expands there, not here).
# shellcheck disable=SC2088
JOBS_DIR='~/symjax_jobs'
