"""The wheel: gin configs and tools inside, console scripts, and a smoke run outside the checkout.

The wheel is built from a copy of the checkout's sources (what a clean clone has) without
build isolation, and installed with ``--no-deps`` into virtual environments that see this
environment's packages (``--system-site-packages``), so nothing is downloaded. One
environment gets the built wheel, the other ``pip install <clean copy>``. Marked ``slow``
(the smoke run compiles the data core's numba kernels afresh for the new install, 1.5 to 5
minutes on 2 cores); the default ``python -m pytest`` runs it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "symjax", "gin", "tools")
CONSOLE_SCRIPTS = ("symjax-train", "symjax-eval", "symjax-predict", "symjax-convert", "symjax-generate",
                   "symjax-evaluate", "symjax-memory", "symjax-select-prompts", "symjax-warmup")

pytestmark = pytest.mark.slow


def _setuptools_version() -> tuple[int, ...]:
    import setuptools

    return tuple(int(p) for p in setuptools.__version__.split(".")[:2] if p.isdigit())


def _run(args, *, cwd, timeout=600):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _ok(done):
    assert done.returncode == 0, f"{done.args}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    return done


def _venv(path: Path) -> Path:
    # without pip of its own: this environment's pip and setuptools (>= 77) build and install
    _ok(_run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", path], cwd=path.parent))
    return path / "bin"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if _setuptools_version() < (77,):
        pytest.skip("building the wheel needs setuptools>=77 (the [test] extra installs it)")
    tmp = tmp_path_factory.mktemp("packaging")
    src = tmp / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc", "*.nbi", "*.nbc")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, src / name)
    _ok(_run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
              "-w", tmp / "dist", src], cwd=tmp))
    (wheel,) = (tmp / "dist").glob("symjax-*.whl")
    return tmp, src, wheel


def test_wheel_carries_the_gin_configs_tools_and_console_scripts(built):
    _, _, wheel = built
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        entry_points = next(z.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    gin_files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "gin").rglob("*.gin")}
    assert {f"symjax/{p}" for p in gin_files} <= names
    tools = {p.name for p in (ROOT / "tools").glob("*.py")}
    assert {f"symjax/tools/{t}" for t in tools} <= names
    vocab = {p.name for p in (ROOT / "symjax" / "sql" / "synth" / "vocab").glob("*.txt")}
    assert vocab and {f"symjax/sql/synth/vocab/{v}" for v in vocab} <= names
    for script in CONSOLE_SCRIPTS:
        assert f"{script} = " in entry_points, script


def test_installed_wheel_trains_the_cpu_demo_outside_the_checkout(built):
    tmp, src, wheel = built
    bin_dir = _venv(tmp / "venv_wheel")
    _ok(_run([bin_dir / "python", "-m", "pip", "install", "--quiet", "--no-deps", wheel], cwd=tmp))
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    where = _ok(_run([bin_dir / "python", "-c", "import symjax; print(symjax.__file__, symjax.gin_search_path())"],
                     cwd=elsewhere)).stdout.split()
    assert where[0].startswith(str(tmp / "venv_wheel")) and where[1].startswith(str(tmp / "venv_wheel"))

    run = tmp / "run"
    _ok(_run([bin_dir / "symjax-train", "--gin_file=gin/local/cpu_demo.gin", f"--gin.MODEL_DIR='{run}'",
              "--gin.TrainConfig.train_steps=4", "--gin.TrainConfig.log_period=2",
              "--gin.TrainConfig.checkpoint_period=4", "--gin.TrainConfig.eval_mixtures=[]"], cwd=elsewhere))
    assert (run / "checkpoints" / "4").is_dir()
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps and max(steps) == 4

    # a tool as a console script, on that run
    done = _ok(_run([bin_dir / "symjax-convert", "--from=symjax", "--to=hf", f"--input={run}",
                     f"--output={tmp / 'hf'}"], cwd=elsewhere))
    assert "from step 4 of" in done.stdout
    assert sorted(os.listdir(tmp / "hf")) == ["config.json", "model.safetensors", "special_tokens_map.json",
                                              "tokenizer_config.json"]


def test_pip_install_of_a_clean_clone_finds_the_configs_and_tools(built):
    tmp, src, _ = built
    bin_dir = _venv(tmp / "venv_source")
    _ok(_run([bin_dir / "python", "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", src],
             cwd=tmp))
    elsewhere = tmp / "elsewhere_source"
    elsewhere.mkdir()
    # The gin file is found in the installed package and parsed; the bad value is then named.
    done = _run([bin_dir / "symjax-train", "--gin_file=gin/local/cpu_demo.gin", "--gin.TrainConfig.train_steps=0"],
                cwd=elsewhere, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "not found" not in done.stderr and "train_steps" in done.stderr.strip().splitlines()[-1]
    # Each tool's console script runs the tool: --help lists the tool's own flags.
    for script, flag in (("symjax-convert", "--sentencepiece_model"), ("symjax-memory", "--device:"),
                         ("symjax-generate", "--num_examples"), ("symjax-evaluate", "--predictions"),
                         ("symjax-select-prompts", "--predictions_dir"), ("symjax-predict", "--question")):
        done = _run([bin_dir / script, "--helpshort"], cwd=elsewhere, timeout=300)
        assert flag in done.stdout + done.stderr, (script, done.stdout[-2000:], done.stderr[-2000:])
