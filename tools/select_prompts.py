r"""Pick each benchmark's best prompt template on validation predictions (the paper's
protocol) and write the choice where the symjax eval mixtures read it.

    python tools/select_prompts.py --data_dir=/data/symjax_eval \
        --predictions_dir=/runs/xl/inference_eval --output=/data/symjax_eval/prompt_selection.json

``--predictions_dir`` holds one predictions file per template task, named after it as t5x
``infer`` names its outputs: ``symjax_<benchmark>_template_<k>[-<step>].jsonl`` (lines
``{"id", "prediction"}`` or t5x output). Every template file found for a benchmark is scored
on its validation split (``--split``, a seqio split mapped to the raw file as the eval
tasks do, or ``--split_file`` for the raw file stem) with ``--metric`` (default the paper's
``denotation_accuracy``); the best template wins (ties: the lowest index).

The choice is merged into ``--output`` (default ``$SYMJAX_PROMPT_SELECTION``, else
``<data_dir>/prompt_selection.json``), a JSON object ``{"wtq": 3, ...}``; ``import
symjax.tasks`` then builds ``symjax_table_qa`` and ``symjax_eval`` from the chosen templates.
Prints a table of scores and, as the last line, the selection as JSON.
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("SYMJAX_TASKS_REGISTER", "0")  # pure Python: no seqio/TensorFlow needed

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("predictions_dir", None, "Folder of symjax_<benchmark>_template_<k>*.jsonl files.")
flags.DEFINE_string("data_dir", None, "Root data folder with <benchmark>/ subfolders (default $SYMJAX_DATA_DIR).")
flags.DEFINE_list("benchmarks", None, "Only these benchmarks (default: every one with prediction files).")
flags.DEFINE_string("split", "validation", "seqio split the predictions are for.")
flags.DEFINE_string("split_file", None, "Raw file stem of the split (overrides --split; one benchmark only).")
flags.DEFINE_string("metric", "denotation_accuracy", "Metric to maximize (any key the benchmark reports).")
flags.DEFINE_string("output", None, "Selection JSON to update (default $SYMJAX_PROMPT_SELECTION or "
                    "<data_dir>/prompt_selection.json).")
flags.DEFINE_bool("allow_missing", False, "Count gold ids without a prediction as wrong.")
flags.mark_flag_as_required("predictions_dir")

_FILE = re.compile(r"^symjax_(wtq|sqa|wikisql|tabfact|svamp)_template_(\d+)(?:[-_.][^/]*)?\.jsonl$")


def find_prediction_files(folder: Path) -> dict[str, dict[int, Path]]:
    """``{benchmark: {template: file}}``; two files for one template are an error."""
    from symjax.errors import DataError

    found: dict[str, dict[int, Path]] = {}
    for path in sorted(Path(folder).iterdir()):
        m = _FILE.match(path.name)
        if not m:
            continue
        bench, k = m.group(1), int(m.group(2))
        if k in found.setdefault(bench, {}):
            raise DataError(f"two prediction files for {bench} template {k}: {found[bench][k]} and {path}")
        found[bench][k] = path
    return found


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from symjax.errors import ConfigError, DataError, SymjaxError
    from symjax.tasks import settings
    from symjax.tasks.benchmarks import load_golds
    from symjax.tasks.predictions import evaluate_file
    from symjax.tasks.prompts import num_templates

    try:
        if FLAGS.data_dir:
            settings.set_data_dir(FLAGS.data_dir)
        files = find_prediction_files(Path(FLAGS.predictions_dir))
        benchmarks = FLAGS.benchmarks or sorted(files)
        if not benchmarks:
            raise ConfigError(f"no symjax_<benchmark>_template_<k>*.jsonl files in {FLAGS.predictions_dir}")
        if FLAGS.split_file and len(benchmarks) != 1:
            raise ConfigError("--split_file names the raw file of one benchmark; pass --benchmarks=<one>")
        chosen: dict[str, int] = {}
        rows = []
        for bench in benchmarks:
            if bench not in files:
                raise ConfigError(f"no prediction files for {bench} in {FLAGS.predictions_dir}")
            split = FLAGS.split_file or settings.split_file(bench, FLAGS.split)
            golds = load_golds(bench, split, root=settings.benchmark_dir(bench))
            scores = {}
            for k, path in sorted(files[bench].items()):
                if k >= num_templates(bench):
                    raise ConfigError(f"{path.name}: {bench} has templates 0..{num_templates(bench) - 1}")
                metrics = evaluate_file(bench, path, golds, allow_missing=FLAGS.allow_missing)
                if FLAGS.metric not in metrics:
                    raise ConfigError(f"{bench} reports no metric {FLAGS.metric!r}; it has {sorted(metrics)}")
                scores[k] = metrics[FLAGS.metric]
                rows.append((bench, k, scores[k]))
            chosen[bench] = max(scores, key=lambda k: (scores[k], -k))
        output = Path(FLAGS.output) if FLAGS.output else settings.selection_path()
        if output is None:
            root = settings.data_dir()
            if root is None:
                raise ConfigError("no --output, $SYMJAX_PROMPT_SELECTION or --data_dir to write the selection to")
            output = root / "prompt_selection.json"
        selection = {}
        if output.is_file():
            try:
                selection = json.loads(output.read_text(encoding="utf-8"))
            except (ValueError, RecursionError) as e:
                raise DataError(f"{output}: the selection file is not valid JSON ({e}); fix it, or move it "
                                "aside to write a new one") from None
            if not isinstance(selection, dict):
                raise DataError(
                    f"{output} holds a JSON {type(selection).__name__}, not the selection object "
                    '{"wtq": 3, ...} it should be; fix it, move it aside, or choose another --output')
        elif output.is_dir():
            raise DataError(f"--output {output} is a directory; give the selection file's path, e.g. "
                            f"{output / 'prompt_selection.json'}")
        selection.update(chosen)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(selection, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    except (SymjaxError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"benchmark  template  {FLAGS.metric}")
    for bench, k, value in rows:
        mark = "  <- selected" if chosen[bench] == k else ""
        print(f"{bench:<9}  {k:>8}  {value:.2f}{mark}")
    print(f"wrote {output}")
    print(json.dumps(chosen, sort_keys=True))
    return 0


if __name__ == "__main__":
    app.run(lambda argv: sys.exit(main(argv)))
