"""gin/t5x/: configs for upstream t5x. Without t5x (CI: it installs only from GitHub) the
files are checked as text: headers, the vocabulary symjax must match, the step arithmetic
of the fine-tuning recipes. With t5x importable, every file is parsed with t5x's own
configurables (unknown names and unbound %gin.REQUIRED macros are errors), the model,
partitioner and datasets it configures are built, and a tiny t5x run trains on a symjax task."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GIN = ROOT / "gin" / "t5x"
FILES = sorted(p.relative_to(ROOT).as_posix() for p in GIN.rglob("*.gin"))
PARTITIONS = sorted(f for f in FILES if "/partitioning/" in f)
XL = ["gin/t5x/finetune_xl_t5x_default.gin", "gin/t5x/finetune_xl_paper.gin", "gin/t5x/eval_zero_shot_xl.gin",
      "gin/t5x/infer_zero_shot_xl.gin"]
SPM = "gs://t5-data/vocabs/cc_all.32000.100extra/sentencepiece.model"


def text(path: str) -> str:
    return (ROOT / path).read_text()


def macro(path: str, name: str) -> str:
    m = re.search(rf"^{name} = (.+?)(\s+#.*)?$", text(path), re.M)
    assert m, f"{path} does not bind {name}"
    return m.group(1)


# ---------------------------------------------------------------- as text (always)
def test_every_file_has_a_header():
    for path in FILES:
        lines = text(path).splitlines()
        assert lines[0].startswith("# "), f"{path}: no header comment"
        header = "\n".join(ln for ln in lines[:45] if ln.startswith("#"))
        assert "python -m t5x." in header and "REQUIRED" in header, f"{path}: header lacks the command/REQUIRED"
        assert "Memory" in header or "memory" in header, f"{path}: header says nothing about memory"


def test_expected_files_exist():
    for name in ("tpu_v3_8", "tpu_v4_8", "tpu_v4_32", "tpu_v5e_16", "gpu_1", "gpu_8"):
        assert f"gin/t5x/partitioning/{name}.gin" in PARTITIONS
    for path in XL + ["gin/t5x/cpu_tiny.gin", "gin/t5x/gpu_debug.gin", "gin/t5x/bench_cpu_anchor.gin",
                      "gin/t5x/recipe_paper_adamw.gin"]:
        assert path in FILES


def test_vocabulary_is_symjax_default():
    settings = (ROOT / "symjax" / "tasks" / "settings.py").read_text()  # no import: keeps TF out of this test
    assert f'DEFAULT_SPM_PATH = "{SPM}"' in settings
    for path in XL:
        if "paper" in path:
            continue  # includes the default recipe
        assert re.search(rf"sentencepiece_model_file = '{re.escape(SPM)}'\n\s+extra_ids = 0\n", text(path)), path


def test_finetune_steps_count_from_the_checkpoint():
    path = "gin/t5x/finetune_xl_t5x_default.gin"
    step = int(macro(path, "CHECKPOINT_STEP"))
    assert macro(path, "INITIAL_CHECKPOINT_PATH") == (
        f"'gs://t5-data/pretrained_models/t5x/flan_t5_xl/checkpoint_{step}'")
    assert int(macro(path, "TRAIN_STEPS")) - step == 20_000
    assert macro(path, "MIXTURE_OR_TASK_NAME") == "'symjax_sql_flan'"
    assert macro(path, "USE_CACHED_TASKS").startswith("False")
    assert macro(path, "TASK_FEATURE_LENGTHS") == "{'inputs': 2048, 'targets': 128}"
    assert int(macro(path, "BATCH_SIZE")) == 64
    assert "TRAIN_STEPS_RELATIVE" not in re.sub(r"#.*", "", text(path))  # restarts would add it again
    assert "import symjax.tasks" in text(path)


def test_paper_schedule_reaches_zero_at_20000_steps():
    recipe = text("gin/t5x/recipe_paper_adamw.gin")
    lr = float(re.search(r"base_learning_rate = (\S+)", recipe).group(1))
    warmup = int(re.search(r"warmup_steps = (\d+)", recipe).group(1))
    slope = float(re.search(r"decay_factor = (\S+)", recipe).group(1))
    assert (lr, warmup) == (3e-5, 1000)

    def rate(s):  # t5x's 'linear_decay' factor
        return lr * min(s / warmup, 1.0 + slope * (warmup - s))

    assert rate(1000) == pytest.approx(3e-5) and abs(rate(20_000)) < 1e-15 and rate(10_500) == pytest.approx(1.5e-5)
    assert "weight_decay = 0.0" in recipe and "DROPOUT_RATE = 0.05" in recipe


# ---------------------------------------------------------------- with t5x
def _t5x_importable() -> tuple[bool, str]:
    if importlib.util.find_spec("t5x") is None:
        return False, ("upstream t5x is not installed (it installs only from GitHub, with airio and jestimator: "
                       "see README.md, 'Upstream t5x'); gin/t5x parsing and the t5x run are skipped")
    res = subprocess.run([sys.executable, "-c", "import t5x.train, t5x.eval, t5x.infer"], capture_output=True,
                         text=True, timeout=300)
    if res.returncode:
        return False, f"`import t5x` fails here: {res.stderr.strip().splitlines()[-1]}"
    return True, ""


_HAVE_T5X = None


@pytest.fixture(scope="module")
def t5x_env():
    global _HAVE_T5X
    if _HAVE_T5X is None:
        _HAVE_T5X = _t5x_importable()
    if not _HAVE_T5X[0]:
        pytest.skip(_HAVE_T5X[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYMJAX_")}
    env.update(JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
    return env


# Runs in a fresh process per binary: the run gins bind `__main__.<fn>`, so __main__ must be
# t5x's binary module while they are parsed.
_CHECK = r'''
import importlib, json, os, sys
binary, specs = sys.argv[1], json.loads(sys.argv[2])
module = importlib.import_module("t5x." + binary)
sys.modules["__main__"] = module
import gin, seqio, t5x
import symjax.tasks
from symjax.tasks.settings import get_vocabulary
gin.add_config_file_search_path(os.path.dirname(os.path.dirname(t5x.__file__)))
gin.add_config_file_search_path(os.getcwd())
fn = {"train": "train", "eval": "evaluate", "infer": "infer"}[binary]
out = []
for spec in specs:
    gin.clear_config()
    try:
        gin.parse_config_files_and_bindings(spec["files"], spec["bindings"], skip_unknown=False, finalize_config=True)
        model = gin.query_parameter("%MODEL").scoped_configurable_fn()
        gin.query_parameter(fn + ".partitioner").scoped_configurable_fn()
        key = {"train": "train_dataset_cfg", "eval": "dataset_cfg", "infer": "dataset_cfg"}[binary]
        cfg = gin.query_parameter(f"{fn}.{key}").scoped_configurable_fn()
        task = seqio.get_mixture_or_task(cfg.mixture_or_task_name)
        assert model.output_vocabulary == task.output_features["targets"].vocabulary == get_vocabulary(), (
            "model and task vocabularies differ")
        extra = {}
        if binary == "infer":
            extra["fields"] = gin.query_parameter("write_inferences_to_file.input_fields_to_include")
        out.append({"files": spec["files"], "ok": True, **extra})
    except Exception as e:  # reported per spec
        out.append({"files": spec["files"], "ok": False, "error": f"{type(e).__name__}: {e}"[:2000]})
print("RESULT " + json.dumps(out))
'''


def _check(binary: str, specs: list[dict], env: dict) -> list[dict]:
    res = subprocess.run([sys.executable, "-c", _CHECK, binary, json.dumps(specs)], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=600)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, res.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def _assert_ok(results: list[dict]) -> None:
    bad = [f"{r['files']}: {r['error']}" for r in results if not r["ok"]]
    assert not bad, "\n".join(bad)


TRAIN = {"bindings": ['MODEL_DIR = "/tmp/unused"']}
EVAL = {"bindings": ['CHECKPOINT_PATH = "/tmp/ckpt"', 'EVAL_OUTPUT_DIR = "/tmp/out"']}
INFER = {"bindings": ['CHECKPOINT_PATH = "/tmp/ckpt"', 'INFER_OUTPUT_DIR = "/tmp/out"']}


def test_xl_configs_parse_with_t5x(t5x_env):
    train = [{"files": ["gin/t5x/finetune_xl_t5x_default.gin"], **TRAIN}]
    train += [{"files": ["gin/t5x/finetune_xl_paper.gin", p], **TRAIN} for p in PARTITIONS]
    _assert_ok(_check("train", train, t5x_env))
    _assert_ok(_check("eval", [{"files": ["gin/t5x/eval_zero_shot_xl.gin", p], **EVAL} for p in PARTITIONS],
                      t5x_env))
    [infer] = _check("infer", [{"files": ["gin/t5x/infer_zero_shot_xl.gin", "gin/t5x/partitioning/tpu_v4_8.gin"],
                                **INFER}], t5x_env)
    _assert_ok([infer])
    assert "id" in infer["fields"]  # tools/evaluate_predictions.py reads inputs.id


def test_small_configs_parse_with_t5x(t5x_env):
    env = {**t5x_env, "SYMJAX_VOCABULARY": "byte"}
    specs = [{"files": [f], **TRAIN} for f in ("gin/t5x/cpu_tiny.gin", "gin/t5x/gpu_debug.gin",
                                               "gin/t5x/bench_cpu_anchor.gin")]
    specs.append({"files": ["gin/t5x/cpu_tiny.gin", "gin/t5x/recipe_paper_adamw.gin"],
                  "bindings": TRAIN["bindings"] + ["CHECKPOINT_STEP = 0"]})  # REQUIRED by the recipe
    _assert_ok(_check("train", specs, env))


def test_unbound_required_macro_is_an_error(t5x_env):
    [res] = _check("train", [{"files": ["gin/t5x/finetune_xl_paper.gin"], "bindings": []}], t5x_env)
    assert not res["ok"] and "MODEL_DIR" in res["error"] and "REQUIRED" in res["error"]


def _t5x_train(env: dict, model_dir: Path, *flags: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "t5x.train", "--gin_file=gin/t5x/cpu_tiny.gin", f'--gin.MODEL_DIR="{model_dir}"',
           *flags, "--alsologtostderr"]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)


def _train_losses(model_dir: Path) -> dict[int, float]:
    """t5x's logged training loss per summary step (TensorBoard events under train/)."""
    import tensorflow as tf

    out = {}
    for path in sorted((model_dir / "train").glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.tag == "loss":
                    out[event.step] = float(tf.make_ndarray(value.tensor))
    return out


def test_tiny_t5x_run_on_a_symjax_task_then_paper_recipe(t5x_env, tmp_path):
    env = {**t5x_env, "SYMJAX_VOCABULARY": "byte"}
    seeded = ("--gin.EVAL_PERIOD=2", "--gin.train/utils.DatasetConfig.seed=0")
    res = _t5x_train(env, tmp_path / "adafactor", "--gin.TRAIN_STEPS=4", "--gin.utils.SaveCheckpointConfig.period=4",
                     *seeded)
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / "adafactor" / "checkpoint_4").is_dir()
    assert "training_eval/symjax_sql_execution" in res.stderr
    # save_dataset: the SQL task's tf.data iterator is saved with the checkpoint...
    assert (tmp_path / "adafactor" / "checkpoint_4" / "dataset" / "train_ds-000-of-001.index").is_file()
    # ...and restored when the run continues in its MODEL_DIR: steps 5-6 read the batches an
    # uninterrupted run reads, so their loss is the uninterrupted run's (without the saved
    # iterator the stream would start again and the loss differ).
    res = _t5x_train(env, tmp_path / "adafactor", "--gin.TRAIN_STEPS=6", "--gin.utils.SaveCheckpointConfig.period=2",
                     *seeded)
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / "adafactor" / "checkpoint_6").is_dir()
    res = _t5x_train(env, tmp_path / "whole", "--gin.TRAIN_STEPS=6", "--gin.utils.SaveCheckpointConfig.period=6",
                     *seeded)
    assert res.returncode == 0, res.stderr[-3000:]
    resumed, whole = _train_losses(tmp_path / "adafactor"), _train_losses(tmp_path / "whole")
    assert 6 in resumed and resumed[6] == whole[6], (resumed, whole)
    # The paper recipe from that checkpoint: params and step restored, AdamW state fresh.
    res = _t5x_train(env, tmp_path / "adamw", "--gin_file=gin/t5x/recipe_paper_adamw.gin",
                     f'--gin.INITIAL_CHECKPOINT_PATH="{tmp_path / "adafactor" / "checkpoint_4"}"',
                     "--gin.CHECKPOINT_STEP=4", "--gin.TRAIN_STEPS=6", "--gin.EVAL_PERIOD=2",
                     "--gin.utils.SaveCheckpointConfig.period=2")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Not restoring param=state/param_states" in res.stderr
    assert (tmp_path / "adamw" / "checkpoint_6").is_dir()
