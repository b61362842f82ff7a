"""Every symjax gin file (not gin/t5x, see test_t5x_configs.py) parses with the binaries'
configurables, every macro it uses is bound once the header's REQUIRED ones are, and the
configs it builds are the documented ones."""
from __future__ import annotations

import glob
import os
import re

import pytest

pytest.importorskip("gin")

from symjax.errors import ConfigError  # noqa: E402
from symjax.train import binary  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = sorted(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "gin/models/*.gin")))
TRAIN_REQUIRED = ["MODEL_DIR = '/tmp/x'", "MIXTURE_OR_TASK_NAME = 'symjax_sql_execution'",
                  "TASK_FEATURE_LENGTHS = {'inputs': 32, 'targets': 8}", "TRAIN_STEPS = 10"]
EVAL_REQUIRED = ["CHECKPOINT_PATH = '/tmp/ckpt'", "EVAL_OUTPUT_DIR = '/tmp/out'"]


def build(files, bindings, name):
    binary.parse_gin(files=files, bindings=bindings)
    return binary.build_from_gin(name)


def test_every_gin_file_opens_with_a_header_naming_its_command():
    files = [p for p in glob.glob(os.path.join(REPO, "gin/**/*.gin"), recursive=True)
             if "/gin/t5x/" not in p]
    assert len(files) >= 12
    for path in files:
        text = open(path, encoding="utf-8").read()
        head = text.split("\n\n")[0]
        assert head.startswith("#"), path
        assert "python" in head, f"{path}: header has no command"
        assert "REQUIRED" in head or "Macros" in head, f"{path}: header says nothing of REQUIRED macros"


@pytest.mark.parametrize("model", MODELS)
def test_model_and_finetune(model):
    config = build([model, "gin/runs/finetune.gin"], TRAIN_REQUIRED, "TrainConfig")
    size = os.path.basename(model)[:-4]
    assert config.model.name == size
    assert config.model.dropout_rate == 0.1  # the run gin's DROPOUT_RATE wins
    assert config.optimizer == "adafactor" and config.learning_rate == 1e-3
    assert config.decay == "constant" and config.z_loss == 1e-4
    assert config.loss_normalizing_factor is None and config.batch_size == 128
    from symjax.model import from_name

    if size != "tiny":
        expected = from_name(size)
        for field in ("d_model", "num_heads", "head_dim", "num_encoder_layers",
                      "num_decoder_layers", "d_ff", "vocab_size"):
            assert getattr(config.model, field) == getattr(expected, field), field


@pytest.mark.parametrize("model", MODELS)
def test_model_and_eval(model):
    config = build([model, "gin/runs/eval_zero_shot.gin"], EVAL_REQUIRED, "EvalConfig")
    assert config.mixtures == ("symjax_table_qa",) and config.split == "test"
    assert config.task_feature_lengths == {"inputs": 2048, "targets": 128}


def test_required_macros_are_reported():
    binary.parse_gin(files=["gin/models/base.gin", "gin/runs/finetune.gin"], bindings=TRAIN_REQUIRED[1:])
    with pytest.raises(ConfigError, match="MODEL_DIR"):
        binary.build_from_gin("TrainConfig")


def test_paper_recipe():
    config = build(["gin/paper/sql_flan_xl.gin"], ["MODEL_DIR = '/tmp/x'", "INITIAL_CHECKPOINT_PATH = '/w'"],
                   "TrainConfig")
    assert config.model.name == "xl" and config.model.dropout_rate == 0.05
    assert config.mixture_or_task_name == "symjax_sql_flan"
    assert config.task_feature_lengths == {"inputs": 2048, "targets": 128}
    assert (config.optimizer, config.learning_rate, config.warmup_steps, config.decay) == ("adamw", 3e-5, 1000, "linear")
    assert config.train_steps == 20000 and config.decay_steps == 20000 and config.batch_size == 64
    assert config.model.dtype == "bfloat16" and config.model.param_dtype == "float32"


def test_t5x_default_recipe():
    config = build(["gin/paper/t5x_default_xl.gin"], ["MODEL_DIR = '/tmp/x'", "INITIAL_CHECKPOINT_PATH = '/w'"],
                   "TrainConfig")
    assert (config.optimizer, config.learning_rate, config.decay, config.warmup_steps) == ("adafactor", 1e-3, "constant", 0)
    assert config.mixture_or_task_name == "symjax_sql_flan" and config.model.dropout_rate == 0.1


def test_local_and_bench_configs():
    demo = build(["gin/local/cpu_demo.gin"], [], "TrainConfig")
    assert demo.mixture_or_task_name == "symjax_sql_execution_demo" and demo.vocabulary == "byte"
    demo_eval = build(["gin/local/cpu_demo.gin", "gin/local/cpu_demo_eval.gin"], [], "EvalConfig")
    assert demo_eval.checkpoint_path == demo.model_dir
    gpu = build(["gin/local/gpu_debug.gin"], [], "TrainConfig")
    assert gpu.model.dtype == "bfloat16"
    anchor = build(["gin/bench/cpu_anchor.gin"], [], "TrainConfig")
    m = anchor.model
    assert (anchor.batch_size, anchor.task_feature_lengths, anchor.pack) == (32, {"inputs": 256, "targets": 64}, True)
    assert (m.vocab_size, m.d_model, m.num_heads, m.head_dim, m.num_encoder_layers,
            m.num_decoder_layers, m.d_ff, m.dtype, m.dropout_rate) == (384, 256, 4, 64, 2, 2, 1024, "float32", 0.0)
    assert anchor.optimizer == "adafactor" and anchor.vocabulary == "byte"


def test_headers_list_the_required_macros_they_use():
    for path in glob.glob(os.path.join(REPO, "gin/runs/*.gin")) + glob.glob(os.path.join(REPO, "gin/paper/*.gin")):
        text = open(path, encoding="utf-8").read()
        header = text.split("\n\n")[0]
        for macro in re.findall(r"^(\w+) = %gin\.REQUIRED", text, re.M):
            assert macro in header, f"{path}: REQUIRED macro {macro} missing from the header"


@pytest.mark.parametrize("name, mesh, accumulation, param_dims", [
    ("sql_flan_xl", "model:4", 16, 1), ("sql_flan_xl_v3_8", "model:8", 16, 1),
    ("sql_flan_xl_a100_8", "model:1", 4, 2), ("sql_flan_xl_h200", "model:1", 16, 1)])
def test_paper_recipe_per_device(name, mesh, accumulation, param_dims):
    """The hardware variants change only the partitioning and the microbatches: the
    optimization (batch 64 at 2048/128, AdamW, the schedule) is the paper's."""
    config = build([f"gin/paper/{name}.gin"], ["MODEL_DIR = '/tmp/x'", "INITIAL_CHECKPOINT_PATH = '/w'"],
                   "TrainConfig")
    assert (config.mesh, config.accumulation_steps, config.parameter_partitioning_dims) == (
        mesh, accumulation, param_dims)
    assert config.batch_size == 64 and config.task_feature_lengths == {"inputs": 2048, "targets": 128}
    assert (config.optimizer, config.learning_rate, config.decay) == ("adamw", 3e-5, "linear")
    assert config.model.remat_policy == "full" and config.model.name == "xl"
