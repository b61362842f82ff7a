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

Out of symjax (``--from=symjax``): a run directory (its latest checkpoint), one train
checkpoint (``RUN/checkpoints/<step>``) or symjax weights, to Hugging Face or t5x:

    python tools/convert_checkpoint.py --from=symjax --to=hf --input=/runs/sql_xl \
      --output=/data/export/sql_xl_hf [--sentencepiece_model=/data/spiece.model]
    python tools/convert_checkpoint.py --from=symjax --to=t5x --input=/runs/sql_xl \
      --output=/data/export/checkpoint_20000

``--to=hf`` writes ``config.json`` + ``model.safetensors``, which
``transformers.T5ForConditionalGeneration.from_pretrained(DIR)`` loads, and the tokenizer
files when the run's vocabulary is a SentencePiece model available locally (the default
vocabulary lives on gs://: give a local copy with ``--sentencepiece_model``, or use the
tokenizer of ``google/flan-t5-*``, which is the same vocabulary) or the byte vocabulary.
``--to=t5x`` writes t5x's tensorstore layout without optimizer state (see
:mod:`symjax.model.export` for the ``RestoreCheckpointConfig`` that loads it). Outputs are
written under a temporary name and renamed when complete; an existing output is refused.
"""
from __future__ import annotations

import json
import os
import sys
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_enum("from", None, ["hf", "t5x", "symjax"], "Source format.")
flags.DEFINE_enum("to", "symjax", ["symjax", "hf", "t5x"],
                  "Target format: symjax weights (from hf or t5x), or hf / t5x (from symjax).")
flags.DEFINE_string("input", None, "Source checkpoint directory (local); for --from=symjax a run "
                    "directory (its latest checkpoint), RUN/checkpoints/<step> or symjax weights.")
flags.DEFINE_string("sentencepiece_model", None,
                    "--to=hf: a local copy of the run's SentencePiece .model, for the tokenizer "
                    "files (the default vocabulary lives on gs://).")
flags.DEFINE_integer("step", None, "--to=t5x: the step recorded in the checkpoint (default: the "
                     "train checkpoint's step, else 0).")
flags.DEFINE_string("output", None, "Output directory (must not exist).")
flags.DEFINE_string("model", None,
                    "Model size (tiny, small, base, large, xl, xxl). Required for t5x; for hf "
                    "it is checked against config.json.")
flags.DEFINE_string("config_json", None,
                    "Instead of --model: a symjax T5Config JSON file (a custom size).")
flags.DEFINE_enum("param_dtype", None, ["float32", "bfloat16"],
                  "Storage dtype of the converted parameters (default: float32 into symjax, the "
                  "stored dtype out of it).")
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


_DEFAULT_VOCABULARIES = ("", "default", "t5", "flan")


def tokenizer_source(vocabulary: str | None, sentencepiece_model: str | None
                     ) -> tuple[str | None, bool, str | None]:
    """``(SentencePiece file, byte vocabulary?, why no tokenizer)`` for an HF export of a
    model whose run used ``vocabulary`` (``None``: not recorded)."""
    from symjax.errors import ConfigError

    if sentencepiece_model is not None:
        if not os.path.isfile(sentencepiece_model):
            raise ConfigError(f"--sentencepiece_model={sentencepiece_model}: no such file; give a local "
                              "SentencePiece .model file")
        return sentencepiece_model, False, None
    if vocabulary == "byte":
        return None, True, None
    if vocabulary is None:
        return None, False, ("the weights record no vocabulary; pass --sentencepiece_model=PATH "
                             "to write the tokenizer files")
    if vocabulary.strip() in _DEFAULT_VOCABULARIES:
        from symjax.tasks.settings import DEFAULT_SPM_PATH

        vocabulary = DEFAULT_SPM_PATH
    if "://" not in vocabulary and os.path.isfile(vocabulary):
        return vocabulary, False, None
    return None, False, (
        f"the run's vocabulary {vocabulary} is not a local file; copy it (e.g. gsutil cp "
        f"{vocabulary} .) and pass --sentencepiece_model=PATH, or use the tokenizer of "
        "google/flan-t5-* (the same vocabulary as t5x's T5 1.1 / Flan-T5 default)")


def export(*, input_path: str, output_dir: str, target: str, param_dtype: str | None = None,
           sentencepiece_model: str | None = None, step: int | None = None) -> str:
    """Export a symjax run / checkpoint / weights to ``target`` (``hf`` or ``t5x``); returns
    a one-line summary. Raises CheckpointError / ConfigError / OutputError."""
    import jax
    import numpy as np

    from symjax.errors import ConfigError, OutputError
    from symjax.model import export_hf_checkpoint, export_t5x_checkpoint
    from symjax.train.checkpoints import read_trained_model

    if target not in ("hf", "t5x"):
        raise ConfigError(f"--from=symjax converts to hf or t5x, not {target!r}; give --to=hf or --to=t5x")
    if os.path.exists(output_dir):
        raise OutputError(f"{output_dir} exists; choose a new output directory (nothing was written)")
    model = read_trained_model(input_path)
    config, params = model.config, model.params
    if param_dtype is not None and param_dtype != config.param_dtype:
        config = config.replace(param_dtype=param_dtype)
        params = jax.tree.map(lambda x: np.asarray(x).astype(config.storage_dtype), params)
    what = (f"step {model.step} of {model.directory}" if model.step is not None else model.directory)
    if target == "t5x":
        names = export_t5x_checkpoint(directory=output_dir, params=params, config=config,
                                      step=step if step is not None else (model.step or 0))
        return f"wrote t5x checkpoint {output_dir} ({len(names)} arrays) from {what}"
    spm_file, byte_vocabulary, no_tokenizer = tokenizer_source(model.vocabulary, sentencepiece_model)
    files = export_hf_checkpoint(directory=output_dir, params=params, config=config,
                                 sentencepiece_model=spm_file, byte_vocabulary=byte_vocabulary)
    line = f"wrote Hugging Face model {output_dir} ({', '.join(files)}) from {what}"
    if no_tokenizer:
        line += f"\nno tokenizer files written: {no_tokenizer}"
    return line


def main(argv: list[str]) -> None:
    del argv
    from symjax.errors import ConfigError, SymjaxError

    start = time.perf_counter()
    source, target = FLAGS["from"].value, FLAGS.to
    try:
        if source == "symjax":
            if FLAGS.model or FLAGS.config_json:
                raise ConfigError("--from=symjax reads the model config from the checkpoint; drop "
                                  "--model / --config_json")
            print(export(input_path=FLAGS.input, output_dir=FLAGS.output, target=target,
                         param_dtype=FLAGS.param_dtype, sentencepiece_model=FLAGS.sentencepiece_model,
                         step=FLAGS.step))
            print(f"in {time.perf_counter() - start:.1f}s")
            return
        if target != "symjax":
            raise ConfigError(f"--from={source} converts into symjax weights (--to=symjax); to go "
                              f"from {source} to {target}, convert to symjax first")
        config = convert(source=source, input_dir=FLAGS.input, output_dir=FLAGS.output,
                         config=_requested_config(), param_dtype=FLAGS.param_dtype or "float32")
    except SymjaxError as e:
        sys.exit(f"convert_checkpoint: {type(e).__name__}: {e}")
    print(f"wrote {FLAGS.output}: T5 {config.name!r} ({config.num_params() / 1e6:.1f}M params, "
          f"{config.param_dtype}) from {FLAGS['from'].value} checkpoint {FLAGS.input} in "
          f"{time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    app.run(main)
