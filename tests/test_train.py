"""The trainer and the binaries: smoke runs, resume equality (SIGTERM, SIGKILL), sharded runs
on 8 simulated devices, and every bad input of the trainer issue.

Runs use a tiny T5 (byte vocabulary, 384 rows) on ``symjax_sql_execution_demo``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

pytest.importorskip("gin")
pytest.importorskip("seqio")

import jax  # noqa: E402

from symjax.errors import (CheckpointError, ConfigError, ShardingError,  # noqa: E402
                           TrainingError, VocabularyError)
from symjax.train import binary  # noqa: E402
from symjax.train.trainer import train  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# One gin file for every run here: the subprocesses and the in-process runs share it.
TEST_GIN = """
import symjax.tasks

VOCABULARY = "byte"
MODEL = @T5Config()
T5Config.name = "test_tiny"
T5Config.vocab_size = 384
T5Config.d_model = 16
T5Config.num_heads = 4
T5Config.head_dim = 4
T5Config.num_encoder_layers = 2
T5Config.num_decoder_layers = 2
T5Config.d_ff = 32
T5Config.dtype = "float32"

MODEL_DIR = %gin.REQUIRED
TrainConfig.model = %MODEL
TrainConfig.vocabulary = %VOCABULARY
TrainConfig.model_dir = %MODEL_DIR
TrainConfig.mixture_or_task_name = "symjax_sql_execution_demo"
TrainConfig.task_feature_lengths = {"inputs": 200, "targets": 16}
TrainConfig.batch_size = 8
TrainConfig.train_steps = 4
TrainConfig.optimizer = "adafactor"
TrainConfig.learning_rate = 0.01
TrainConfig.checkpoint_period = 1
TrainConfig.keep_checkpoints = 3
TrainConfig.log_period = 1
"""


@pytest.fixture(scope="module")
def gin_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("gin") / "test.gin"
    path.write_text(TEST_GIN)
    return str(path)


def make_config(gin_path, model_dir, *bindings):
    binary.parse_gin(files=[gin_path], bindings=[f"MODEL_DIR = '{model_dir}'", *bindings])
    return binary.build_from_gin("TrainConfig")


def metrics_rows(model_dir, split="train"):
    with open(os.path.join(model_dir, "metrics.jsonl")) as f:
        return [r for r in map(json.loads, f) if r["split"] == split]


def flat(tree):
    return {jax.tree_util.keystr(p): np.asarray(v) for p, v in jax.tree_util.tree_flatten_with_path(tree)[0]}


def assert_params_equal(a, b):
    fa, fb = flat(a), flat(b)
    assert fa.keys() == fb.keys()
    for k in fa:
        assert np.array_equal(fa[k], fb[k]), f"{k} differs"


# ----------------------------------------------------------------------------- smoke
def test_cpu_demo_binaries_train_and_evaluate(tmp_path, capsys):
    run = tmp_path / "demo"
    common = ["--gin_file=gin/local/cpu_demo.gin", f"--gin.MODEL_DIR='{run}'",
              "--gin.T5Config.d_model=16", "--gin.T5Config.head_dim=4", "--gin.T5Config.d_ff=32"]
    code = binary.train_main(["symjax.train", *common,
                              "--gin.TrainConfig.train_steps=3", "--gin.TrainConfig.log_period=1",
                              "--gin.TrainConfig.warmup_steps=0",
                              "--gin.TrainConfig.eval_loss_batches=1",
                              "--gin.TrainConfig.infer_num_examples=8",
                              "--gin.TrainConfig.eval_batch_size=8",
                              "--gin.TASK_FEATURE_LENGTHS={'inputs': 200, 'targets': 16}"])
    assert code == 0
    for name in ("config.gin", "config.json", "metrics.jsonl"):
        assert (run / name).is_file(), name
    assert "TrainConfig.train_steps = 3" in (run / "config.gin").read_text()
    # a refused restart leaves config.gin as it was (it still says what the checkpoints hold)
    written = {name: (run / name).read_text() for name in ("config.gin", "config.json")}
    with pytest.raises(ConfigError, match="model.d_model: 16 -> 24"):
        binary.train_main(["symjax.train", *common[:2], "--gin.T5Config.d_model=24", *common[3:],
                           "--gin.TrainConfig.train_steps=4",
                           "--gin.TASK_FEATURE_LENGTHS={'inputs': 200, 'targets': 16}"])
    assert {name: (run / name).read_text() for name in written} == written
    assert sorted(os.listdir(run / "checkpoints")) == ["3"]
    assert any(n.startswith("events.out.tfevents") for n in os.listdir(run / "train"))
    rows = metrics_rows(run)
    assert [r["step"] for r in rows] == [1, 2, 3]
    for key in ("loss", "cross_ent_loss", "accuracy", "learning_rate", "steps_per_s", "tokens_per_s",
                "tflops_per_device"):
        assert key in rows[-1]
    assert "mfu" not in rows[-1]  # a CPU has no known peak (TrainConfig.peak_tflops sets one)
    infer = metrics_rows(run, "inference_eval")[-1]
    assert infer["step"] == 3
    assert "symjax_sql_execution_demo/denotation_accuracy" in infer
    assert "symjax_sql_execution_demo/majority_baseline" in infer
    assert any(k.startswith("symjax_sql_execution_demo/denotation_accuracy/") for k in infer)
    assert metrics_rows(run, "eval")[-1]["symjax_sql_execution_demo/cross_ent_loss"] > 0

    out = tmp_path / "zero_shot"
    code = binary.eval_main(["symjax.eval", *common, "--gin_file=gin/local/cpu_demo_eval.gin",
                             f"--gin.EVAL_OUTPUT_DIR='{out}'", "--gin.EvalConfig.num_examples=16",
                             "--gin.TASK_FEATURE_LENGTHS={'inputs': 200, 'targets': 16}"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "symjax_sql_execution_demo" in printed and "majority baseline" in printed
    result = json.loads((out / "metrics.json").read_text())
    assert result["step"] == 3
    metrics = result["metrics"]["symjax_sql_execution_demo"]
    assert metrics["num_examples"] == 16
    assert sum(metrics[k] for k in metrics if k.startswith("num_examples/")) == 16
    assert "| symjax_sql_execution_demo |" in (out / "report.md").read_text()
    predictions = [json.loads(line) for line in (out / "symjax_sql_execution_demo-000003.jsonl").read_text().splitlines()]
    assert len(predictions) == 16 and {"prediction", "target"} <= set(predictions[0])


def test_mfu_and_profile_of_a_tiny_run(gin_path, tmp_path, caplog):
    """TFLOP/s per device and MFU (against TrainConfig.peak_tflops) in metrics.jsonl,
    TensorBoard and the log line, from the analytic model FLOPs; a jax.profiler trace of
    steps 2..3 that jax's own reader opens, with the two steps' annotations in it."""
    import glob

    import tensorflow as tf

    from symjax.train.flops import train_step_flops

    run = tmp_path / "mfu"
    config = make_config(gin_path, run, "TrainConfig.peak_tflops = 0.5",
                         "TrainConfig.profile_steps = (2, 4)", "TrainConfig.checkpoint_period = 100")
    with caplog.at_level("INFO", logger="symjax.train.trainer"):
        train(config)
    flops = train_step_flops(config=config.model, batch=8, input_length=200, target_length=16)
    rows = metrics_rows(run)
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    for r in rows:
        assert r["tflops_per_device"] == pytest.approx(flops * r["steps_per_s"] / jax.device_count() / 1e12)
        assert r["mfu"] == pytest.approx(r["tflops_per_device"] / 0.5)
    lines = [m for m in caplog.messages if m.startswith("step 4/4")]
    assert lines and "TFLOP/s/device MFU" in lines[0] and "%" in lines[0]
    events = glob.glob(str(run / "train" / "events.out.tfevents*"))
    tags = {v.tag for e in tf.compat.v1.train.summary_iterator(events[0]) for v in e.summary.value}
    assert {"tflops_per_device", "mfu"} <= tags
    [trace] = glob.glob(str(run / "train" / "plugins" / "profile" / "*" / "*.xplane.pb"))
    profile = jax.profiler.ProfileData.from_file(trace)
    names = {(event.name, event.stats and dict(event.stats).get("step_num"))
             for plane in profile.planes for line in plane.lines for event in line.events
             if event.name == "train"}
    assert {int(step) for _, step in names} == {2, 3}, names


def test_profile_steps_and_peak_are_checked(gin_path, tmp_path):
    for binding, message in (("TrainConfig.profile_steps = (3, 3)", "start < stop"),
                             ("TrainConfig.profile_steps = 5", "profile_steps"),
                             ("TrainConfig.peak_tflops = -1.0", "peak_tflops")):
        with pytest.raises(ConfigError, match=message):
            make_config(gin_path, tmp_path / "r", binding)


# ----------------------------------------------------------------------------- resume
def _wait_for_checkpoint(model_dir, above, proc, timeout=240):
    ckpts = os.path.join(model_dir, "checkpoints")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"trainer exited early: {proc.stdout.read()[-3000:]}")
        steps = [int(d) for d in os.listdir(ckpts) if d.isdigit()] if os.path.isdir(ckpts) else []
        if steps and max(steps) > above:
            return max(steps)
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared")


def _trainer_process(gin_path, model_dir):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "symjax.train", f"--gin_file={gin_path}",
         f"--gin.MODEL_DIR='{model_dir}'", "--gin.TrainConfig.train_steps=100000"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_sigterm_saves_and_sigkill_resume_is_bitwise(gin_path, tmp_path, caplog):
    import socket

    run = tmp_path / "interrupted"
    # 1. SIGTERM (TPU preemption): finishes the step, saves, exits 143.
    proc = _trainer_process(gin_path, run)
    _wait_for_checkpoint(run, 1, proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 143
    steps = sorted(int(d) for d in os.listdir(run / "checkpoints") if d.isdigit())
    last = metrics_rows(run)[-1]["step"]
    assert steps[-1] == last  # the step it stopped at is saved
    first_rows = len(metrics_rows(run))
    # 2. restart, then SIGKILL at an arbitrary point (possibly mid-save)
    proc = _trainer_process(gin_path, run)
    killed_after = _wait_for_checkpoint(run, steps[-1] + 1, proc)
    # a second trainer on the directory is refused while the first runs, naming it
    with pytest.raises(TrainingError, match=f"in use by the trainer of process {proc.pid} on host "
                                            f"{socket.gethostname()}"):
        train(make_config(gin_path, run, "TrainConfig.train_steps = 100000"))
    proc.kill()
    proc.wait(timeout=60)
    # 3. resume in-process to a few steps past the last checkpoint: the killed trainer's
    # lock is taken over, with a message
    target = killed_after + 3
    with caplog.at_level("WARNING", logger="symjax"):
        resumed = train(make_config(gin_path, run, f"TrainConfig.train_steps = {target}"), keep_params=True)
    assert resumed.step == target
    assert any(f"lock {run / 'run.lock'} of process {proc.pid}" in r.message and "no longer running" in r.message
               for r in caplog.records)
    assert not (run / "run.lock").exists()  # released at the end
    # metrics.jsonl is appended to: the lines of every start are there
    assert len(metrics_rows(run)) > first_rows + (target - killed_after)
    # 4. the uninterrupted run
    reference = train(make_config(gin_path, tmp_path / "straight", f"TrainConfig.train_steps = {target}"),
                      keep_params=True)
    assert_params_equal(resumed.params, reference.params)
    loss = {r["step"]: r["loss"] for r in metrics_rows(run)}
    ref_loss = {r["step"]: r["loss"] for r in metrics_rows(tmp_path / "straight")}
    assert loss[target] == ref_loss[target]
    assert set(ref_loss) == set(range(1, target + 1))


def test_stop_after_steps_then_resume_equals_straight_run(gin_path, tmp_path, caplog):
    run = tmp_path / "split"
    first = train(make_config(gin_path, run, "TrainConfig.stop_after_steps = 2"))
    assert first.step == 2 and not first.preempted
    # the input pipeline's position is saved with the checkpoint and restored, not replayed
    assert (run / "checkpoints" / "2" / "data" / "process_0-of-1.tfdata").stat().st_size > 0
    with caplog.at_level("INFO", logger="symjax"):
        second = train(make_config(gin_path, run, "TrainConfig.accumulation_steps = 1"), keep_params=True)
    assert any("restored to its saved position" in r.message for r in caplog.records)
    assert not any("skipping" in r.message for r in caplog.records)
    straight = train(make_config(gin_path, tmp_path / "straight"), keep_params=True)
    assert second.step == straight.step == 4
    assert_params_equal(second.params, straight.params)


# ----------------------------------------------------------------------------- sharding
_SHARDED_CHILD = textwrap.dedent("""
    import os, sys, numpy as np, jax
    from symjax.train import binary
    from symjax.train.trainer import train
    from symjax.errors import ShardingError
    gin_path, out, specs = sys.argv[1], sys.argv[2], sys.argv[3].split(";")
    for i, spec in enumerate(specs):
        binary.parse_gin(files=[gin_path], bindings=[f"MODEL_DIR = '{out}/run{i}'",
                         f"TrainConfig.mesh = '{spec}'", "TrainConfig.train_steps = 3"])
        result = train(binary.build_from_gin("TrainConfig"), keep_params=True)
        leaves = jax.tree_util.tree_flatten_with_path(result.params)[0]
        np.savez(f"{out}/params{i}.npz", **{jax.tree_util.keystr(p): np.asarray(v) for p, v in leaves})
    if jax.device_count() == 8:
        binary.parse_gin(files=[gin_path], bindings=[f"MODEL_DIR = '{out}/bad'",
                         "TrainConfig.mesh = 'data:4,model:2'", "TrainConfig.batch_size = 6"])
        try:
            train(binary.build_from_gin("TrainConfig"))
        except ShardingError as e:
            print("SHARDING_ERROR:", e)
""")


def _run_child(gin_path, out, specs, devices):
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
               JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", _SHARDED_CHILD, gin_path, str(out), specs],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.stdout


def test_sharded_runs_on_8_devices_equal_single_device(gin_path, tmp_path):
    single = tmp_path / "single"
    multi = tmp_path / "multi"
    single.mkdir()
    multi.mkdir()
    _run_child(gin_path, single, "model:1", 1)
    out = _run_child(gin_path, multi, "data:8;data:2,model:4", 8)
    assert "SHARDING_ERROR: batch size 6" in out and "'data' of size 4" in out
    reference = dict(np.load(single / "params0.npz"))
    for i in (0, 1):
        got = dict(np.load(multi / f"params{i}.npz"))
        assert got.keys() == reference.keys()
        for k in reference:
            np.testing.assert_allclose(got[k], reference[k], rtol=2e-5, atol=2e-6, err_msg=k)


# ----------------------------------------------------------------------------- accumulation
def test_gradient_accumulation_matches_one_big_batch():
    import jax.numpy as jnp

    from symjax.model import T5, from_name, init_params, param_logical_axes
    from symjax.train.optimizers import make_optimizer
    from symjax.train.step import make_train_step

    config = from_name("tiny", vocab_size=64)
    model = T5(config)
    params = init_params(config=config, rng=jax.random.key(0))
    rng = np.random.default_rng(0)
    batch = {
        "encoder_input_tokens": rng.integers(2, 64, (8, 12)).astype(np.int32),
        "decoder_input_tokens": rng.integers(2, 64, (8, 6)).astype(np.int32),
        "decoder_target_tokens": rng.integers(2, 64, (8, 6)).astype(np.int32),
        "decoder_loss_weights": (rng.random((8, 6)) > 0.2).astype(np.int32),
    }
    results = []
    for accumulation, factor in ((1, "num_real_target_tokens"), (4, "num_real_target_tokens"),
                                 (1, None), (2, None)):
        opt = make_optimizer(name="adamw", learning_rate=1e-2,
                             logical_axes=param_logical_axes(config=config))
        state = {"params": params, "opt_state": opt.init(params), "step": jnp.zeros((), jnp.int32)}
        step = jax.jit(make_train_step(model=model, optimizer=opt, z_loss=1e-4,
                                       loss_normalizing_factor=factor,
                                       accumulation_steps=accumulation))
        new_state, sums = step(state, batch, jax.random.key(0))
        results.append((flat(new_state["params"]), float(sums["loss"]), float(sums["weight_sum"])))
    for (pa, la, wa), (pb, lb, wb) in ((results[0], results[1]), (results[2], results[3])):
        assert wa == wb and la == pytest.approx(lb, rel=1e-5)
        for k in pa:
            np.testing.assert_allclose(pa[k], pb[k], rtol=1e-4, atol=1e-6, err_msg=k)
    # a summed loss (t5x's default) is the per-token loss times the token count
    assert results[2][1] == pytest.approx(results[0][1] * results[0][2], rel=1e-5)


# ----------------------------------------------------------------------------- bad input
def test_missing_initial_checkpoint(gin_path, tmp_path):
    config = make_config(gin_path, tmp_path / "r", f"TrainConfig.initial_checkpoint = '{tmp_path}/nope'")
    with pytest.raises(CheckpointError, match="nope.*does not exist"):
        train(config, run_files={"config.gin": "x"})
    # a start that failed writes no config, so a corrected rerun is not refused
    assert not (tmp_path / "r" / "config.json").exists() and not (tmp_path / "r" / "config.gin").exists()
    assert not (tmp_path / "r" / "run.lock").exists()


def test_task_and_model_vocabularies_differ(gin_path, tmp_path):
    import seqio

    from symjax.tasks import settings

    name = "test_train_other_vocabulary"
    other = seqio.SentencePieceVocabulary(settings.DEFAULT_SPM_PATH)
    if name not in seqio.TaskRegistry.names():
        seqio.TaskRegistry.add(
            name, source=seqio.FunctionDataSource(lambda split, shuffle_files: None, splits=["train"]),
            output_features={"inputs": seqio.Feature(other), "targets": seqio.Feature(other)})
    config = make_config(gin_path, tmp_path / "r", f"TrainConfig.mixture_or_task_name = '{name}'")
    with pytest.raises(VocabularyError) as e:
        train(config)
    assert "SentencePieceVocabulary" in str(e.value) and "ByteVocabulary" in str(e.value)
    assert name in str(e.value)
    small = make_config(gin_path, tmp_path / "r2", "T5Config.vocab_size = 200")
    with pytest.raises(VocabularyError, match="vocab_size is 200"):
        train(small)


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(gin_path, tmp_path):
    run = tmp_path / "nan"
    config = make_config(gin_path, run, "TrainConfig.optimizer = 'adamw'",
                         "TrainConfig.learning_rate = 1e30", "TrainConfig.train_steps = 20")
    with pytest.raises(TrainingError, match="non-finite") as e:
        train(config)
    from symjax.train.checkpoints import Checkpointer

    ckpt = Checkpointer(model_dir=str(run), keep=3)
    steps = ckpt.all_steps()
    assert f"Last good checkpoint: {steps[-1] if steps else 'none'}" in str(e.value)
    for step in steps:  # everything kept is finite
        import orbax.checkpoint as ocp

        state = ocp.PyTreeCheckpointer().restore(os.path.join(run, "checkpoints", str(step), "state"))
        assert all(np.all(np.isfinite(np.asarray(v))) for v in jax.tree.leaves(state["params"]))
    ckpt.close()


def test_run_directory_with_a_different_config(gin_path, tmp_path):
    run = tmp_path / "r"
    train(make_config(gin_path, run, "TrainConfig.train_steps = 1"), run_files={"config.gin": "d_model 16"})
    stored = (run / "config.json").read_text()
    with pytest.raises(ConfigError) as e:
        train(make_config(gin_path, run, "T5Config.d_model = 32", "TrainConfig.learning_rate = 0.5"),
              run_files={"config.gin": "d_model 32"})
    assert "model.d_model: 16 -> 32" in str(e.value) and "learning_rate: 0.01 -> 0.5" in str(e.value)
    # the refused restart leaves the run's files as they were
    assert (run / "config.gin").read_text() == "d_model 16" and (run / "config.json").read_text() == stored
    # keys that do not change the trajectory may change
    result = train(make_config(gin_path, run, "TrainConfig.train_steps = 2", "TrainConfig.log_period = 5"))
    assert result.step == 2


def test_corrupt_checkpoint_is_reported_and_kept(gin_path, tmp_path, monkeypatch):
    run = tmp_path / "r"
    train(make_config(gin_path, run, "TrainConfig.train_steps = 2"))
    state_dir = run / "checkpoints" / "2" / "state"
    victims = [os.path.join(d, f) for d, _, fs in os.walk(state_dir) for f in fs if "manifest" in f or f.endswith(".ocdbt") or "d" == os.path.basename(d)]
    assert victims
    for v in victims:
        os.remove(v)
    seen = _record_unraisables(monkeypatch)
    with pytest.raises(CheckpointError, match="cannot be read.*nothing was deleted.*checkpoint 1"):
        train(make_config(gin_path, run, "TrainConfig.train_steps = 3"))
    assert (run / "checkpoints" / "2").is_dir()
    import gc

    gc.collect()
    assert not seen  # orbax's "Event loop is closed" noise is kept out of the way


def test_gin_errors(gin_path, tmp_path):
    with pytest.raises(ConfigError, match="not_a_field"):
        make_config(gin_path, tmp_path, "TrainConfig.not_a_field = 1")
    with pytest.raises(ConfigError, match="No configurable|not_registered"):
        make_config(gin_path, tmp_path, "NotRegistered.x = 1")
    binary.parse_gin(files=[gin_path], bindings=[])
    with pytest.raises(ConfigError, match="MODEL_DIR"):
        binary.build_from_gin("TrainConfig")
    with pytest.raises(ConfigError, match="not found"):
        binary.parse_gin(files=["gin/no/such.gin"], bindings=[])
    # a misspelt macro, or one the gin files do not use, is named instead of ignored
    with pytest.raises(ConfigError, match=r"used by no binding.*MODEL_DIRR \(did you mean MODEL_DIR\?\)"):
        make_config(gin_path, tmp_path, f"MODEL_DIRR = '{tmp_path}/other'")
    binary.parse_gin(files=["gin/bench/cpu_anchor.gin"], bindings=["TRAIN_STEPS = -1"])
    with pytest.raises(ConfigError, match="used by no binding.*TRAIN_STEPS.*TrainConfig.train_steps"):
        binary.build_from_gin("TrainConfig")
    with pytest.raises(ConfigError, match="train_steps must be an int >= 1, got -1"):
        make_config(gin_path, tmp_path, "TrainConfig.train_steps = -1")
    with pytest.raises(ConfigError, match="learning_rate must be a finite number > 0, got 'fast'") as e:
        make_config(gin_path, tmp_path, "TrainConfig.learning_rate = 'fast'")
    assert "\n" not in str(e.value)  # one line: gin's "In call to configurable" is left out
    # a binding of the config class the binary does not build would be ignored
    with pytest.raises(ConfigError, match="EvalConfig.num_examples would be ignored: this binary builds "
                                          "TrainConfig.*bind TrainConfig.num_examples instead"):
        binary.check_bindings_used(["T5Config.d_model = 8", "EvalConfig.num_examples = 5"], "TrainConfig")
    binary.check_bindings_used(["T5Config.d_model = 8", "TrainConfig.train_steps = 5", "A = 1"], "TrainConfig")
    assert binary.rewrite_gin_args(["x", "--gin.A=1", "--gin_file=f"]) == ["x", "--gin_bindings=A = 1", "--gin_file=f"]


def test_bad_mesh_for_the_device_count(gin_path, tmp_path):
    with pytest.raises((ConfigError, ShardingError)):
        train(make_config(gin_path, tmp_path / "r", "TrainConfig.mesh = 'model:3'"))
    assert sorted(os.listdir(tmp_path / "r")) == []  # the corrected rerun is not refused


def test_initial_weights_from_hugging_face_and_symjax_formats(tmp_path):
    from symjax.model import import_hf_checkpoint, save_checkpoint
    from symjax.train.trainer import load_model_params

    fixture = os.path.join(REPO, "tests", "fixtures", "hf_t5_tiny")
    config, expected = import_hf_checkpoint(directory=fixture)
    assert_params_equal(load_model_params(path=fixture, config=config), expected)
    save_checkpoint(directory=str(tmp_path / "own"), params=expected, config=config)
    assert_params_equal(load_model_params(path=str(tmp_path / "own"), config=config), expected)


# ----------------------------------------------------------------------------- run directory (issue 16)
def test_garbled_stored_config_is_named(gin_path, tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    (run / "config.json").write_text('{"model": {"d_model": 16')
    with pytest.raises(TrainingError, match=r"stored config .*config.json is unreadable .*checkpoints/<step>/meta"):
        train(make_config(gin_path, run))
    assert (run / "config.json").read_text() == '{"model": {"d_model": 16'


def test_read_only_run_directory(gin_path, tmp_path, monkeypatch):
    import errno

    run = tmp_path / "ro"
    run.mkdir()
    real_open = os.open

    def read_only_open(path, flags, *args, **kwargs):  # the file system refuses every new file
        if str(path).startswith(str(run)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only_open)
    with pytest.raises(TrainingError, match=r"cannot write to the run directory .*ro \(Read-only file system\); "
                                            "choose a writable MODEL_DIR"):
        train(make_config(gin_path, run))
    assert os.listdir(run) == []


def test_full_disk_names_the_checkpoint_without_noise(gin_path, tmp_path, monkeypatch, capfd):
    seen = _record_unraisables(monkeypatch)
    import builtins

    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full is absent")
    run = tmp_path / "full"
    real_open = builtins.open

    def full_disk_open(file, mode="r", *args, **kwargs):  # from checkpoint 2 on, the disk is full
        path = os.fspath(file) if isinstance(file, (str, os.PathLike)) else ""
        if ("w" in mode or "a" in mode) and path.startswith(f"{run}/checkpoints/2"):
            real_open(path, mode).close()
            return real_open("/dev/full", mode, *args, **kwargs)  # every write: ENOSPC
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", full_disk_open)
    capfd.readouterr()
    with pytest.raises(CheckpointError, match=r"saving checkpoint 2 to .*No space left on device.*the last "
                                              "complete checkpoint is 1"):
        train(make_config(gin_path, run, "TrainConfig.train_steps = 3"))
    import gc

    gc.collect()
    err = capfd.readouterr().err
    assert not seen and "Traceback" not in err, (seen, err[-3000:])
    assert not (run / "run.lock").exists()


def _record_unraisables(monkeypatch):
    """What reaches the process's unraisable hook (pytest's own would turn it into warnings)."""
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(f"{u.exc_type.__name__}: {u.exc_value}"))
    return seen


def test_event_loop_noise_is_dropped_and_other_unraisables_kept(monkeypatch):
    import asyncio
    import gc

    from symjax.train.checkpoints import install_noise_filter

    seen = _record_unraisables(monkeypatch)
    install_noise_filter()
    loop = asyncio.new_event_loop()
    loop.close()

    class LateCallback:  # what tensorstore does after orbax closed its loop
        def __del__(self):
            loop.call_soon_threadsafe(print)

    class OtherError:
        def __del__(self):
            raise ValueError("a real problem")

    LateCallback()
    OtherError()
    gc.collect()
    assert seen == ["ValueError: a real problem"]


def test_metrics_are_appended_not_rewritten(tmp_path):
    from symjax.train.summaries import MetricsWriter

    first = MetricsWriter(model_dir=str(tmp_path))
    first.write(step=1, split="train", scalars={"loss": 1.0})
    with open(tmp_path / "metrics.jsonl", "a") as f:  # another writer, or a line cut short by a kill
        f.write('{"split": "train", "step": 7, "loss": 7.0}\n{"split": "tr')
    first.write(step=2, split="train", scalars={"loss": 2.0})
    first.close()
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines if line.endswith("}")] == [1, 7, 2]
    assert lines[2] == '{"split": "tr'


def test_train_binary_prints_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "symjax.train", "--gin_file=gin/bench/cpu_anchor.gin",
                           "--gin.TRAIN_STEPS=-1", f"--gin.MODEL_DIR='{tmp_path}/r'"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: gin macro(s) set but used by no binding")
    assert not os.path.exists(tmp_path / "r")
