#!/usr/bin/env bash
# Launch training or evaluation on EVERY worker of a TPU VM / pod slice, with symjax's
# trainer or upstream t5x. The job runs detached (nohup) and logs to
# ~/symjax_jobs/JOB.log on each worker; rerunning the same command after a preemption
# resumes from the last checkpoint in the model directory (both trainers restore it).
#
#   tpu_scripts/launch.sh --name NAME --zone ZONE --project PROJECT \
#       --trainer symjax|t5x [--mode train|eval|infer] --gin-file FILE [--gin-file FILE ...] \
#       [--gin NAME=VALUE ...] [--model-dir gs://... | --bucket BUCKET] \
#       [--checkpoint-path gs://...] [--output-dir gs://...] [--env KEY=VALUE ...] \
#       [--job JOB] [--replace] [--follow] [--device TYPE | --skip-memory-check] [--dry-run]
#
# --trainer symjax    python -m symjax.train / symjax.eval (multi-host set up by symjax)
# --trainer t5x       python -m t5x.train / t5x.eval / t5x.infer --alsologtostderr
#                     (needs setup.sh --with-t5x)
# --mode              train (default; needs a model directory), eval or infer (t5x only;
#                     need --checkpoint-path and an output directory)
# --gin-file FILE     a gin file, relative to the symjax checkout (repeatable, in order)
# --gin NAME=VALUE    passed as --gin.NAME=VALUE (repeatable); gin strings keep their quotes:
#                     --gin 'MIXTURE_OR_TASK_NAME="symjax_table_qa"'
# --model-dir DIR     MODEL_DIR (train); default gs://BUCKET/symjax/JOB with --bucket
# --checkpoint-path   CHECKPOINT_PATH (eval/infer)
# --output-dir DIR    EVAL_OUTPUT_DIR (eval) / INFER_OUTPUT_DIR (infer); default
#                     gs://BUCKET/symjax/JOB with --bucket
# --bucket BUCKET     a gs:// bucket name for the default directories (or SYMJAX_BUCKET)
# --env KEY=VALUE     environment of the job (repeatable), e.g. SYMJAX_FLAN_JSONL=gs://...
# --job JOB           name of the job's files (default TRAINER_MODE, e.g. t5x_train)
# --replace           stop a running job of the same name first (SIGTERM: symjax saves a
#                     checkpoint); without it a running job is left alone
# --follow            stream worker 0's log afterwards (tpu_scripts/logs.sh)
# --python PY         the workers' Python (default python3)
# --device TYPE       the TPU (or GPU) type for the memory check, e.g. v4-8, v3-8, v4-32
#                     (default SYMJAX_TPU_TYPE, as create.sh uses it)
# --skip-memory-check launch without it. Before a symjax train job, launch.sh runs
#                     tools/memory_report.py here on the same gin files and bindings for
#                     --device and stops if the step does not fit (exit 1) or the config
#                     is refused (exit 2); SYMJAX_LOCAL_PYTHON is its Python (default
#                     python3). t5x jobs are not checked (their step is t5x's).
# --dry-run           print the gcloud command (with the job script) instead of running it
# --name/--zone/--project default to SYMJAX_TPU_NAME / SYMJAX_TPU_ZONE / SYMJAX_TPU_PROJECT.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TRAINER=""
MODE="train"
GIN_FILES=()
GIN_BINDINGS=()
ENV_VARS=()
MODEL_DIR=""
CHECKPOINT_PATH=""
OUTPUT_DIR=""
BUCKET="${SYMJAX_BUCKET:-}"
JOB=""
REPLACE=0
FOLLOW=0
PYTHON="python3"

DEVICE="${SYMJAX_TPU_TYPE:-}"
MEMORY_CHECK=1
LOCAL_PYTHON="${SYMJAX_LOCAL_PYTHON:-python3}"

usage() { sed -n '2,44p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  parse_common "$@"
  if ((SHIFT_BY)); then shift "$SHIFT_BY"; continue; fi
  case "$1" in
    --trainer) need_value "$@"; TRAINER="$2"; shift 2 ;;
    --mode) need_value "$@"; MODE="$2"; shift 2 ;;
    --gin-file) need_value "$@"; GIN_FILES+=("$2"); shift 2 ;;
    --gin) need_value "$@"; GIN_BINDINGS+=("$2"); shift 2 ;;
    --model-dir) need_value "$@"; MODEL_DIR="$2"; shift 2 ;;
    --checkpoint-path) need_value "$@"; CHECKPOINT_PATH="$2"; shift 2 ;;
    --output-dir) need_value "$@"; OUTPUT_DIR="$2"; shift 2 ;;
    --bucket) need_value "$@"; BUCKET="$2"; shift 2 ;;
    --env) need_value "$@"; ENV_VARS+=("$2"); shift 2 ;;
    --job) need_value "$@"; JOB="$2"; shift 2 ;;
    --replace) REPLACE=1; shift ;;
    --follow) FOLLOW=1; shift ;;
    --python) need_value "$@"; PYTHON="$2"; shift 2 ;;
    --device) need_value "$@"; DEVICE="$2"; shift 2 ;;
    --skip-memory-check) MEMORY_CHECK=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

require_common
case "$TRAINER" in
  symjax|t5x) ;;
  "") die "which trainer? pass --trainer symjax or --trainer t5x" ;;
  *) die "--trainer is symjax or t5x, got '$TRAINER'" ;;
esac
case "$MODE" in
  train|eval) ;;
  infer) [[ "$TRAINER" == t5x ]] || die "--mode infer is t5x's (t5x.infer); symjax's eval writes predictions itself" ;;
  *) die "--mode is train, eval or infer, got '$MODE'" ;;
esac
((${#GIN_FILES[@]})) || die "no gin file: pass --gin-file (e.g. gin/paper/sql_flan_xl.gin or gin/t5x/finetune_xl_paper.gin)"
JOB="${JOB:-${TRAINER}_${MODE}}"
[[ "$JOB" =~ ^[A-Za-z0-9_.-]+$ ]] || die "--job must be letters, digits, '_', '.', '-'; got '$JOB'"
BUCKET="${BUCKET#gs://}"
default_dir() { [[ -n "$BUCKET" ]] && printf 'gs://%s/symjax/%s' "${BUCKET%/}" "$JOB"; }

args=()
for f in "${GIN_FILES[@]}"; do args+=("--gin_file=$f"); done
if [[ "$MODE" == train ]]; then
  MODEL_DIR="${MODEL_DIR:-$(default_dir || true)}"
  [[ -n "$MODEL_DIR" ]] || die "no model directory: pass --model-dir gs://... or --bucket BUCKET (or set SYMJAX_BUCKET)"
  args+=("--gin.MODEL_DIR=\"$MODEL_DIR\"")
else
  [[ -n "$CHECKPOINT_PATH" ]] || die "--mode $MODE needs --checkpoint-path (a checkpoint directory)"
  OUTPUT_DIR="${OUTPUT_DIR:-$(default_dir || true)}"
  [[ -n "$OUTPUT_DIR" ]] || die "no output directory: pass --output-dir gs://... or --bucket BUCKET (or set SYMJAX_BUCKET)"
  args+=("--gin.CHECKPOINT_PATH=\"$CHECKPOINT_PATH\"")
  if [[ "$MODE" == infer ]]; then
    args+=("--gin.INFER_OUTPUT_DIR=\"$OUTPUT_DIR\"")
  else
    args+=("--gin.EVAL_OUTPUT_DIR=\"$OUTPUT_DIR\"")
  fi
fi
for b in "${GIN_BINDINGS[@]+"${GIN_BINDINGS[@]}"}"; do
  [[ "$b" == *=* ]] || die "--gin takes NAME=VALUE, got '$b'"
  args+=("--gin.$b")
done
if [[ "$TRAINER" == t5x ]]; then
  module="t5x.$MODE"
  args+=(--alsologtostderr)
else
  module="symjax.$MODE"
fi

# The memory check: the step this job would compile, for the slice it runs on, here.
if [[ "$TRAINER" == symjax && "$MODE" == train ]] && ((MEMORY_CHECK)); then
  [[ -n "$DEVICE" ]] || die "which device is the memory check for? pass --device (e.g. v4-8) or set SYMJAX_TPU_TYPE, or --skip-memory-check"
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  check=(env -C "$root" "$LOCAL_PYTHON" tools/memory_report.py "${args[@]}" "--device=$DEVICE")
  if ((DRY_RUN)); then
    run "${check[@]}"
  else
    echo "checking that the step fits $DEVICE (tools/memory_report.py) ..." >&2
    status=0
    "${check[@]}" || status=$?
    case "$status" in
      0) ;;
      1) die "the training step does not fit $DEVICE (report above); change the config, or pass --skip-memory-check to launch anyway" ;;
      *) die "the memory check failed (exit $status; report above); fix the config, or pass --skip-memory-check" ;;
    esac
  fi
fi

# The job script each worker runs (kept as ~/symjax_jobs/JOB.sh, so the exact command is
# on the worker too); it records the exit status in JOB.exit for watch.sh.
job_script="cd ~/symjax"
for kv in "${ENV_VARS[@]+"${ENV_VARS[@]}"}"; do
  [[ "$kv" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env takes KEY=VALUE, got '$kv'"
  job_script+=$'\n'"export ${kv%%=*}=$(dquote "${kv#*=}")"
done
cmd_line="$(dquote "$PYTHON") -m $module"
for a in "${args[@]}"; do cmd_line+=" $(dquote "$a")"; done
job_script+=$'\n'"$cmd_line"
job_script+=$'\n'"echo \$? > $JOBS_DIR/$JOB.exit"

stop_old="echo \"$JOB is already running on \$(hostname) (pid \$(cat $JOB.pid)); pass --replace to restart it\"; exit 0"
if ((REPLACE)); then
  stop_old="kill -TERM -- -\$(cat $JOB.pid); for _ in \$(seq 60); do kill -0 \$(cat $JOB.pid) 2>/dev/null || break; sleep 5; done"
fi
remote="mkdir -p $JOBS_DIR && cd $JOBS_DIR"
remote+=$'\n'"if [ -f $JOB.pid ] && kill -0 \$(cat $JOB.pid) 2>/dev/null; then $stop_old; fi"
remote+=$'\n'"cat > $JOB.sh <<\\SYMJAX_JOB"$'\n'"$job_script"$'\n'"SYMJAX_JOB"
remote+=$'\n'"rm -f $JOB.exit"
remote+=$'\n'"setsid nohup bash $JOB.sh >> $JOB.log 2>&1 < /dev/null &"
remote+=$'\n'"echo \$! > $JOB.pid"
remote+=$'\n'"echo \"started $JOB on \$(hostname): $JOBS_DIR/$JOB.log\""

tpu_ssh all "$remote"
if ((FOLLOW)); then
  follow=("$(dirname "${BASH_SOURCE[0]}")/logs.sh" --name "$TPU_NAME" --zone "$TPU_ZONE" --project "$TPU_PROJECT" --job "$JOB")
  ((DRY_RUN)) && follow+=(--dry-run)
  "${follow[@]}"
fi
