#!/usr/bin/env bash
# Run the same small job on this machine's GPUs under symjax's trainer and, when
# `import t5x` works, under upstream t5x, to debug a problem locally before Cloud TPU.
#
#   scripts/gpu_debug.sh [--out DIR] [--gpus 0,1] [--only symjax|t5x] [--python PY] [--dry-run]
#
# symjax: python -m symjax.train --gin_file=gin/local/gpu_debug.gin --gin.MODEL_DIR="'DIR/symjax'"
# t5x:    SYMJAX_VOCABULARY=byte python -m t5x.train --gin_file=gin/t5x/gpu_debug.gin \
#           --gin.MODEL_DIR="'DIR/t5x'" --alsologtostderr
# Logs go to DIR/symjax.log and DIR/t5x.log (and the terminal). Both trainers resume from
# their MODEL_DIR: delete DIR (or pass a new --out) to start over.
#
# --out DIR      where the two runs write (default /tmp/symjax_gpu_debug)
# --gpus LIST    CUDA_VISIBLE_DEVICES for both runs (default: every GPU)
# --only WHICH   run only symjax or only t5x
# --python PY    the Python with symjax (and t5x) installed (default python)
# --dry-run      print the commands instead of running them
# Run from the symjax checkout (the gin paths are relative to it).
set -euo pipefail

OUT="/tmp/symjax_gpu_debug"
GPUS=""
ONLY=""
PYTHON="python"
DRY_RUN=0

die() {
  echo "error: $*" >&2
  exit 2
}
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
shell_quote() {  # a word as a shell reads it back (plain words unchanged)
  if [[ -n "$1" && "$1" =~ ^[A-Za-z0-9_./:=@,+%^-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}
run() {  # run a command, or print it under --dry-run
  if ((DRY_RUN)); then
    local out="+" word
    for word in "$@"; do out+=" $(shell_quote "$word")"; done
    printf '%s\n' "$out"
  else
    "$@"
  fi
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) [[ $# -ge 2 && -n "$2" ]] || die "--out needs a value"; OUT="$2"; shift 2 ;;
    --gpus) [[ $# -ge 2 && -n "$2" ]] || die "--gpus needs a value"; GPUS="$2"; shift 2 ;;
    --only) [[ $# -ge 2 && -n "$2" ]] || die "--only needs a value"; ONLY="$2"; shift 2 ;;
    --python) [[ $# -ge 2 && -n "$2" ]] || die "--python needs a value"; PYTHON="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
case "$ONLY" in
  ""|symjax|t5x) ;;
  *) die "--only is symjax or t5x, got '$ONLY'" ;;
esac
[[ -z "$GPUS" || "$GPUS" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--gpus takes a list like 0,1, got '$GPUS'"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for gin in gin/local/gpu_debug.gin gin/t5x/gpu_debug.gin; do
  [[ -f "$gin" ]] || ((DRY_RUN)) || die "$gin is missing: run from a complete symjax checkout"
done

env_prefix=(env)
[[ -n "$GPUS" ]] && env_prefix+=("CUDA_VISIBLE_DEVICES=$GPUS")
run mkdir -p "$OUT"
status=0

if [[ "$ONLY" != t5x ]]; then
  echo "== symjax trainer: $OUT/symjax (log $OUT/symjax.log)"
  cmd=("${env_prefix[@]}" "$PYTHON" -m symjax.train --gin_file=gin/local/gpu_debug.gin "--gin.MODEL_DIR='$OUT/symjax'")
  if ((DRY_RUN)); then
    run "${cmd[@]}"
  else
    "${cmd[@]}" 2>&1 | tee "$OUT/symjax.log" || status=1
  fi
fi

if [[ "$ONLY" != symjax ]]; then
  probe=("$PYTHON" -c "import t5x.train")
  t5x_cmd=("${env_prefix[@]}" SYMJAX_VOCABULARY=byte "$PYTHON" -m t5x.train --gin_file=gin/t5x/gpu_debug.gin
           "--gin.MODEL_DIR='$OUT/t5x'" --alsologtostderr)
  if ((DRY_RUN)); then
    echo "# only when this succeeds (t5x installed):"
    run "${probe[@]}"
    echo "== t5x: $OUT/t5x (log $OUT/t5x.log)"
    run "${t5x_cmd[@]}"
  elif "${probe[@]}" >/dev/null 2>&1; then
    echo "== t5x: $OUT/t5x (log $OUT/t5x.log)"
    "${t5x_cmd[@]}" 2>&1 | tee "$OUT/t5x.log" || status=1
  elif [[ "$ONLY" == t5x ]]; then
    die "'$PYTHON -c \"import t5x.train\"' fails: install t5x (README.md, \"Upstream t5x\")"
  else
    echo "== t5x: skipped ('$PYTHON -c \"import t5x.train\"' fails; see README.md)"
  fi
fi
exit "$status"
