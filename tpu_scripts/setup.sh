#!/usr/bin/env bash
# Set up every worker of a TPU VM / pod slice: JAX for TPU, symjax (from a git URL or a
# tarball of your checkout) into ~/symjax, and optionally upstream t5x with its GitHub-only
# dependencies airio and jestimator.
#
#   tpu_scripts/setup.sh --name NAME --zone ZONE --project PROJECT \
#       (--symjax-git URL [--symjax-ref REF] | --symjax-tarball FILE.tar.gz) [--with-t5x] [--dry-run]
#
# --symjax-git URL      clone URL of symjax (e.g. https://github.com/ORG/symjax); --symjax-ref
#                       a branch, tag or commit (default: the default branch)
# --symjax-tarball F    a .tar.gz of a symjax checkout (top folder stripped), e.g.
#                       git archive --format=tar.gz -o /tmp/symjax.tar.gz HEAD
#                       (copied to every worker with gcloud ... scp --worker=all)
# --with-t5x            also install t5x (--t5x-ref, default main) from GitHub, with airio and
#                       jestimator, and t5x's PyPI dependencies
# --python PY           the workers' Python (default python3)
# --no-warmup           skip compiling the data core's numba kernels on each worker
#                       (python -m symjax.sql.warmup, about 1.5 min; otherwise every worker's
#                       first training step pays it)
# --dry-run             print the gcloud commands (and the script each worker runs)
# --name/--zone/--project default to SYMJAX_TPU_NAME / SYMJAX_TPU_ZONE / SYMJAX_TPU_PROJECT;
# SYMJAX_GIT_URL may give --symjax-git.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SYMJAX_GIT="${SYMJAX_GIT_URL:-}"
SYMJAX_REF=""
SYMJAX_TARBALL=""
WITH_T5X=0
T5X_REF="main"
PYTHON="python3"
WARMUP=1
# t5x's PyPI dependencies that symjax[train] does not already bring (t5x/setup.py).
T5X_PYPI_DEPS="clu fiddle chex jaxtyping cached_property grain tensorboard"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

while [[ $# -gt 0 ]]; do
  parse_common "$@"
  if ((SHIFT_BY)); then shift "$SHIFT_BY"; continue; fi
  case "$1" in
    --symjax-git) need_value "$@"; SYMJAX_GIT="$2"; shift 2 ;;
    --symjax-ref) need_value "$@"; SYMJAX_REF="$2"; shift 2 ;;
    --symjax-tarball) need_value "$@"; SYMJAX_TARBALL="$2"; shift 2 ;;
    --with-t5x) WITH_T5X=1; shift ;;
    --t5x-ref) need_value "$@"; T5X_REF="$2"; shift 2 ;;
    --python) need_value "$@"; PYTHON="$2"; shift 2 ;;
    --no-warmup) WARMUP=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

require_common
if [[ -n "$SYMJAX_GIT" && -n "$SYMJAX_TARBALL" ]]; then
  die "give either --symjax-git or --symjax-tarball, not both"
fi
if [[ -z "$SYMJAX_GIT" && -z "$SYMJAX_TARBALL" ]]; then
  die "where does symjax come from? pass --symjax-git URL (or SYMJAX_GIT_URL) or --symjax-tarball FILE.tar.gz"
fi
if [[ -n "$SYMJAX_TARBALL" && ! -f "$SYMJAX_TARBALL" ]] && ((!DRY_RUN)); then
  die "--symjax-tarball $SYMJAX_TARBALL does not exist (make one with: git archive --format=tar.gz -o symjax.tar.gz HEAD)"
fi

location_flags
if [[ -n "$SYMJAX_TARBALL" ]]; then
  run gcloud compute tpus tpu-vm scp "$SYMJAX_TARBALL" "$TPU_NAME:symjax.tar.gz" "${LOCATION[@]}" --worker=all
  fetch_symjax="rm -rf ~/symjax && mkdir -p ~/symjax && tar -xzf ~/symjax.tar.gz -C ~/symjax"
  # A tarball made by `git archive` has no top folder; one made by `tar -C .. symjax` has.
  fetch_symjax+=" && if [ ! -f ~/symjax/pyproject.toml ]; then d=\$(ls -d ~/symjax/*/ | head -n 1); mv \"\$d\"* ~/symjax/; fi"
else
  fetch_symjax="rm -rf ~/symjax && git clone $(shell_quote "$SYMJAX_GIT") ~/symjax"
  if [[ -n "$SYMJAX_REF" ]]; then
    fetch_symjax+=" && git -C ~/symjax checkout $(shell_quote "$SYMJAX_REF")"
  fi
fi

py="$(shell_quote "$PYTHON")"
remote="set -euo pipefail"
remote+="; $py -m pip install -U \"jax[tpu]\" -f https://storage.googleapis.com/jax-releases/libtpu_releases.html"
remote+="; $fetch_symjax"
remote+="; $py -m pip install -e ~/symjax\"[train]\""
if ((WARMUP)); then
  # numba caches the kernels in ~/symjax/symjax/sql/__pycache__ (the checkout is writable)
  remote+="; $py -m symjax.sql.warmup"
fi
if ((WITH_T5X)); then
  ref="$(shell_quote "$T5X_REF")"
  remote+="; rm -rf ~/t5x_src && mkdir -p ~/t5x_src"
  remote+="; git clone https://github.com/google-research/t5x ~/t5x_src/t5x && git -C ~/t5x_src/t5x checkout $ref"
  remote+="; git clone --depth 1 https://github.com/google/airio ~/t5x_src/airio"
  remote+="; git clone --depth 1 https://github.com/google-research/jestimator ~/t5x_src/jestimator"
  # --no-deps: t5x and airio pin git or nightly versions of packages symjax already has.
  remote+="; $py -m pip install --no-deps -e ~/t5x_src/airio -e ~/t5x_src/jestimator -e ~/t5x_src/t5x"
  remote+="; $py -m pip install $T5X_PYPI_DEPS"
  remote+="; $py -c \"import t5x.train, symjax.tasks\" && echo \"t5x and symjax import\""
else
  remote+="; $py -c \"import symjax.tasks, symjax.train\" && echo \"symjax imports\""
fi
tpu_ssh all "$remote"
