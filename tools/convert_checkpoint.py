r"""Convert Flan-T5 / T5 1.1 weights into symjax's checkpoint format.

From a Hugging Face download (config.json + *.safetensors; the size comes from config.json,
``--model`` only double-checks it):

    huggingface-cli download google/flan-t5-xl --include '*.json' '*.safetensors' \
      --local-dir /data/flan-t5-xl
    python tools/convert_checkpoint.py --from=hf --input=/data/flan-t5-xl \
      --output=/data/symjax/flan_t5_xl

From a t5x checkpoint directory (tensorstore or orbax layout; t5x stores no config, so
``--model`` is required):

    gsutil -m cp -r gs://t5-data/pretrained_models/t5x/flan_t5_xl/checkpoint_1138000 /data/
    python tools/convert_checkpoint.py --from=t5x --model=xl \
      --input=/data/checkpoint_1138000 --output=/data/symjax/flan_t5_xl

Load the result with ``symjax.model.load_checkpoint(directory=...)``. XL needs about
12 GB of host memory (float32) and a few minutes, mostly disk reads.
"""
from __future__ import annotations

import json
import sys
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_enum("from", None, ["hf", "t5x"], "Source format.")
flags.DEFINE_string("input", None, "Source checkpoint directory (local).")
flags.DEFINE_string("output", None, "Output directory (must not exist).")
flags.DEFINE_string("model", None,
                    "Model size (tiny, small, base, large, xl, xxl). Required for t5x; for hf "
                    "it is checked against config.json.")
flags.DEFINE_string("config_json", None,
                    "Instead of --model: a symjax T5Config JSON file (a custom size).")
flags.DEFINE_enum("param_dtype", "float32", ["float32", "bfloat16"],
                  "Storage dtype of the converted parameters.")
flags.mark_flags_as_required(["from", "input", "output"])


def _requested_config():
    from symjax.errors import ConfigError
    from symjax.model import T5Config, from_name

    if FLAGS.model and FLAGS.config_json:
        raise ConfigError("give --model or --config_json, not both")
    if FLAGS.model:
        return from_name(FLAGS.model)
    if FLAGS.config_json:
        path = FLAGS.config_json
        try:
            with open(path, encoding="utf-8") as f:
                values = json.load(f)
        except FileNotFoundError:
            raise ConfigError(f"--config_json={path}: no such file; give a symjax T5Config JSON file "
                              "(or --model=<size>)") from None
        except (OSError, ValueError) as e:
            raise ConfigError(f"--config_json={path} is not a readable JSON file ({e}); give a symjax "
                              "T5Config JSON file, e.g. one written by T5Config.to_json()") from None
        if isinstance(values, dict):
            values = values.get("config", values)  # a symjax checkpoint's config.json works too
        if not isinstance(values, dict):
            raise ConfigError(f"--config_json={path} holds a JSON {type(values).__name__}, not a "
                              "T5Config object {\"d_model\": ..., ...}")
        try:
            return T5Config.from_dict(values)
        except TypeError as e:
            raise ConfigError(f"--config_json={path}: {e}") from None
    return None


def convert(*, source: str, input_dir: str, output_dir: str, config=None,
            param_dtype: str | None = None):
    """Convert one checkpoint to symjax's format; returns the config written.

    ``config`` is required for t5x and optional for hf (then read from config.json).
    ``param_dtype`` overrides the storage dtype. Raises CheckpointError / ConfigError.
    """
    import jax
    import numpy as np

    from symjax.errors import ConfigError
    from symjax.model import import_hf_checkpoint, import_t5x_checkpoint, save_checkpoint

    if source == "hf":
        config, params = import_hf_checkpoint(directory=input_dir, config=config)
    elif source == "t5x":
        if config is None:
            raise ConfigError("--from=t5x needs --model or --config_json: t5x checkpoints "
                              "carry no model config")
        params = import_t5x_checkpoint(directory=input_dir, config=config)
    else:
        raise ConfigError(f"unknown source format {source!r}; use 'hf' or 't5x'")
    if param_dtype is not None and param_dtype != config.param_dtype:
        config = config.replace(param_dtype=param_dtype)
        params = jax.tree.map(lambda x: np.asarray(x).astype(config.storage_dtype), params)
    save_checkpoint(directory=output_dir, params=params, config=config)
    return config


def main(argv: list[str]) -> None:
    del argv
    from symjax.errors import SymjaxError

    start = time.perf_counter()
    try:
        config = convert(source=FLAGS["from"].value, input_dir=FLAGS.input,
                         output_dir=FLAGS.output, config=_requested_config(),
                         param_dtype=FLAGS.param_dtype)
    except SymjaxError as e:
        sys.exit(f"convert_checkpoint: {type(e).__name__}: {e}")
    print(f"wrote {FLAGS.output}: T5 {config.name!r} ({config.num_params() / 1e6:.1f}M params, "
          f"{config.param_dtype}) from {FLAGS['from'].value} checkpoint {FLAGS.input} in "
          f"{time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    app.run(main)
