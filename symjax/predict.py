r"""Ask a table: answer questions on your own tables with a fine-tuned model.

One question::

    python -m symjax.predict --checkpoint=/runs/sql_xl --table=medals.csv \
        --question="which nation won the most gold medals?"

Many, JSONL in and JSONL out (one ``{"question": ..., "table": ...}`` object a line; ``table``
is a file path, relative to the JSONL file's folder, or ``{"header": [...], "rows": [[...]]}``;
an optional ``id`` is kept)::

    python -m symjax.predict --checkpoint=/runs/sql_xl --input=questions.jsonl \
        --output=answers.jsonl

Each output line is the input's ``id`` (default ``q<line>``), ``question``, ``table``, the
``answer`` and the exact prompt the model read (``inputs``).

The prompt is built by the eval tasks' own code: the table is read by
:func:`symjax.sql.read_table` (CSV, TSV, JSONL, WTQ and TabFact files), cut to the model's
input length in tokens of the run's vocabulary by
:func:`symjax.tasks.table_qa.table_questions_to_examples` (rows the question mentions are
kept; the question and the template are never cut), linearized as the eval tasks do
(:func:`symjax.tasks.settings.eval_prompt_config`) and put in the template
``--benchmark``/``--template`` of :mod:`symjax.tasks.prompts` (default: the eval mixtures'
prompt selection, else template 0). So a question asked here reads exactly as the same
question in ``symjax_<benchmark>_template_<k>`` (``tests/test_predict.py`` checks it).

``--checkpoint`` takes a run directory (its latest checkpoint), ``RUN/checkpoints/<step>``,
symjax weights or a Hugging Face directory; the vocabulary and lengths are the run's unless
``--vocabulary``, ``--inputs_length``, ``--max_decode_length`` say otherwise. Decoding is
greedy, in batches of ``--batch_size`` (one compilation). The output file is written under a
temporary name and renamed when complete; an existing one is refused without ``--overwrite``.
Errors are one line, ``predict: <ErrorType>: <what, where, the fix>``, exit code 1.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from typing import Any, Mapping, Sequence

from symjax.errors import (ConfigError, DataError, MissingDataError, OutputError, SymjaxError,
                           VocabularyError)

__all__ = ["Question", "read_questions", "prompts", "Predictor", "write_jsonl", "main", "cli",
           "DEFAULT_LENGTHS"]

log = logging.getLogger(__name__)
DEFAULT_LENGTHS = {"inputs": 2048, "targets": 128}  # the paper's, when the weights do not say
_TABLE_BENCHMARKS = ("wtq", "wikisql", "sqa", "tabfact")


@dataclasses.dataclass(frozen=True)
class Question:
    """A question on a table; ``table_source`` is what the output names as its table."""

    id: str
    question: str
    table: Any
    table_source: str


def _table(value: Any, base: str, where: str) -> tuple[Any, str]:
    from symjax.errors import TableError
    from symjax.sql import read_table, table_from_rows

    if isinstance(value, str):
        path = value if os.path.isabs(value) else os.path.join(base, value)
        if not os.path.isfile(path):
            raise MissingDataError(f"{where}: table {path} does not exist (a relative path is read from "
                                   f"{base})")
        try:
            return read_table(path), value
        except TableError as e:
            raise DataError(f"{where}: table {path}: {e}") from None
    if isinstance(value, Mapping) and isinstance(value.get("header"), list) and isinstance(value.get("rows"), list):
        try:
            return table_from_rows([[str(c) for c in r] for r in value["rows"]],
                                   header=[str(h) for h in value["header"]]), "inline"
        except (TableError, TypeError) as e:
            raise DataError(f"{where}: the inline table is not valid ({e})") from None
    raise DataError(f"{where}: \"table\" must be a file path or {{\"header\": [...], \"rows\": [[...]]}}, "
                    f"got {type(value).__name__}")


def read_questions(path: str) -> list[Question]:
    """The questions of a JSONL file (see the module docstring); a bad line is a
    :class:`DataError` naming the file and line."""
    from symjax.tasks.records import json_objects

    if not os.path.isfile(path):
        raise DataError(f"--input={path}: no such file; give a JSONL file of "
                        "{\"question\": ..., \"table\": ...} lines")
    base = os.path.dirname(os.path.abspath(path))
    out = []
    for line, obj in json_objects(path):
        where = f"{path}, line {line}"
        question = obj.get("question")
        if not isinstance(question, str) or not question.strip():
            raise DataError(f"{where}: \"question\" must be a non-empty string, got {question!r}")
        if "table" not in obj:
            raise DataError(f"{where}: no \"table\" (a file path or {{\"header\", \"rows\"}})")
        table, source = _table(obj["table"], base, where)
        out.append(Question(id=str(obj.get("id", f"q{line}")), question=question, table=table,
                            table_source=source))
    if not out:
        raise DataError(f"{path} holds no question")
    return out


def prompts(questions: Sequence[Question], *, benchmark: str, template: int, inputs_length: int,
            tokenizer: Any) -> list[str]:
    """The eval tasks' prompt of each question at ``inputs_length`` tokens (EOS included)."""
    from symjax.tasks.records import token_budget
    from symjax.tasks.settings import eval_prompt_config
    from symjax.tasks.table_qa import TableQuestion, table_questions_to_examples

    config = token_budget(eval_prompt_config(), inputs_length=inputs_length, count_tokens=tokenizer.count)
    out = []
    for q in questions:
        record = TableQuestion(id=q.id, question=q.question, table=q.table, answers=[], target="")
        try:
            (example,) = table_questions_to_examples(benchmark, [record], template, config)
        except DataError as e:
            raise DataError(f"question {q.id!r} ({q.question[:60]!r}): {e}; raise --inputs_length or "
                            "shorten the question") from None
        out.append(example.inputs)
    return out


class Predictor:
    """Greedy answers of one model: prompts are tokenized with ``vocabulary`` (EOS appended),
    padded to ``inputs_length`` and decoded ``batch_size`` at a time."""

    def __init__(self, *, config: Any, params: Any, vocabulary: Any, inputs_length: int,
                 max_decode_length: int, batch_size: int = 8):
        import jax

        from symjax.model import T5
        from symjax.tasks.tokenizers import tokenizer_for

        if batch_size < 1 or inputs_length < 2 or max_decode_length < 1:
            raise ConfigError(f"batch_size ({batch_size}), inputs_length ({inputs_length}) and "
                              f"max_decode_length ({max_decode_length}) must be positive (inputs >= 2)")
        if vocabulary.vocab_size > config.vocab_size:
            raise VocabularyError(f"the vocabulary has {vocabulary.vocab_size} tokens, the model only "
                                  f"{config.vocab_size}; give the run's vocabulary (--vocabulary)")
        self.vocabulary, self.model = vocabulary, T5(config)
        self.params = jax.device_put(params)
        self.tokenizer = tokenizer_for(vocabulary)
        self.inputs_length, self.max_decode_length, self.batch_size = inputs_length, max_decode_length, batch_size

    def answer(self, texts: Sequence[str]) -> list[str]:
        import jax
        import numpy as np

        from symjax.model import greedy_decode
        from symjax.sql.text.tokens import append_eos

        ids, lengths = append_eos(*self.tokenizer.encode(list(texts)), self.tokenizer.eos_id)
        starts = np.concatenate([[0], np.cumsum(lengths)])
        answers: list[str] = []
        for first in range(0, len(texts), self.batch_size):
            rows = range(first, min(first + self.batch_size, len(texts)))
            batch = np.zeros((self.batch_size, self.inputs_length), np.int32)
            batch[len(rows):, 0] = self.model.config.eos_id  # padding rows: one real token
            for k, i in enumerate(rows):
                if lengths[i] > self.inputs_length:
                    raise DataError(f"prompt {i} has {lengths[i]} tokens, more than --inputs_length="
                                    f"{self.inputs_length}")
                batch[k, :lengths[i]] = ids[starts[i]:starts[i + 1]]
            result = greedy_decode(model=self.model, params=self.params, encoder_input_tokens=batch,
                                   max_decode_length=self.max_decode_length)
            tokens = np.asarray(jax.device_get(result.tokens))
            answers += [self.vocabulary.decode(tokens[k].tolist()) for k in range(len(rows))]
        return answers


def write_jsonl(path: str, rows: Sequence[Mapping[str, Any]], *, overwrite: bool = False) -> None:
    """Write ``rows`` to ``path`` complete or not at all (a temporary name, then a rename)."""
    if os.path.isdir(path):
        raise OutputError(f"--output={path} is a directory; give a file name")
    if os.path.exists(path) and not overwrite:
        raise OutputError(f"--output={path} exists; give another name or --overwrite")
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.partial-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise OutputError(f"cannot write --output={path}: {e.strerror or e}; choose a writable place "
                          "with free space (nothing was written)") from None


def _vocabulary(spec: str) -> Any:
    from symjax.tasks.settings import vocabulary_from_spec

    vocabulary = vocabulary_from_spec(spec)
    try:
        vocabulary.vocab_size  # loads a SentencePiece model now, not mid-way
    except Exception as e:  # tf / sentencepiece raise their own types for a missing file
        raise VocabularyError(
            f"cannot load the vocabulary {spec!r} ({type(e).__name__}: {str(e)[:200]}); give a local "
            "copy with --vocabulary=/path/sentencepiece.model") from None
    return vocabulary


def _define_flags() -> Any:
    from absl import flags

    if "checkpoint" not in flags.FLAGS:
        flags.DEFINE_string("checkpoint", None, "Run directory (latest checkpoint), RUN/checkpoints/<step>, "
                            "symjax weights or a Hugging Face directory.")
        flags.DEFINE_string("table", None, "A table file (CSV, TSV, JSONL, WTQ, TabFact) for --question.")
        flags.DEFINE_string("question", None, "A question on --table; the answer is printed.")
        flags.DEFINE_string("input", None, "JSONL of {\"question\", \"table\"[, \"id\"]} lines.")
        flags.DEFINE_string("output", None, "JSONL of answers (needed with --input).")
        flags.DEFINE_boolean("overwrite", False, "Replace an existing --output.")
        flags.DEFINE_enum("benchmark", "wtq", list(_TABLE_BENCHMARKS), "Whose prompt templates to use.")
        flags.DEFINE_integer("template", None, "Template index (default: the prompt selection, else 0).")
        flags.DEFINE_string("vocabulary", None, "default, byte or a SentencePiece path (default: the run's).")
        flags.DEFINE_integer("inputs_length", None, "Input tokens with EOS (default: the run's, else 2048).")
        flags.DEFINE_integer("max_decode_length", None, "Answer tokens (default: the run's targets length, else 128).")
        flags.DEFINE_integer("batch_size", 8, "Questions decoded at once.")
    return flags.FLAGS


def main(argv: Sequence[str]) -> int:
    """``python -m symjax.predict`` (see the module docstring); returns the exit code."""
    from symjax.tasks.prompts import template as check_template
    from symjax.tasks.settings import prompt_selection
    from symjax.train.checkpoints import read_trained_model

    FLAGS = _define_flags()
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments {list(argv[1:])}; see --help")
    single = FLAGS.question is not None or FLAGS.table is not None
    if single == (FLAGS.input is not None):
        raise ConfigError("give --table and --question, or --input=questions.jsonl with --output")
    if single and not (FLAGS.table and FLAGS.question):
        raise ConfigError("--table and --question go together")
    if FLAGS.input is not None and not FLAGS.output:
        raise ConfigError("--input needs --output=answers.jsonl")
    if FLAGS.output and os.path.exists(FLAGS.output) and not FLAGS.overwrite:
        raise OutputError(f"--output={FLAGS.output} exists; give another name or --overwrite")
    if not FLAGS.checkpoint:
        raise ConfigError("--checkpoint is required: a run directory, RUN/checkpoints/<step>, symjax "
                          "weights or a Hugging Face directory")
    template = FLAGS.template
    if template is None:
        template = prompt_selection().get(FLAGS.benchmark, 0)
    check_template(FLAGS.benchmark, template)
    if single:
        table, _ = _table(FLAGS.table, os.getcwd(), f"--table={FLAGS.table}")
        questions = [Question(id="q1", question=FLAGS.question, table=table, table_source=FLAGS.table)]
    else:
        questions = read_questions(FLAGS.input)

    model = read_trained_model(FLAGS.checkpoint)
    lengths = dict(model.task_feature_lengths or DEFAULT_LENGTHS)
    inputs_length = FLAGS.inputs_length or lengths["inputs"]
    vocabulary = _vocabulary(FLAGS.vocabulary or model.vocabulary or "default")
    predictor = Predictor(config=model.config, params=model.params, vocabulary=vocabulary,
                          inputs_length=inputs_length,
                          max_decode_length=FLAGS.max_decode_length or lengths["targets"],
                          batch_size=FLAGS.batch_size)
    texts = prompts(questions, benchmark=FLAGS.benchmark, template=template, inputs_length=inputs_length,
                    tokenizer=predictor.tokenizer)
    answers = predictor.answer(texts)
    rows = [{"id": q.id, "question": q.question, "table": q.table_source, "answer": a, "inputs": t}
            for q, a, t in zip(questions, answers, texts)]
    if FLAGS.output:
        write_jsonl(FLAGS.output, rows, overwrite=FLAGS.overwrite)
        print(f"wrote {len(rows)} answers to {FLAGS.output}", file=sys.stderr)
    if single:
        print(answers[0])
    return 0


def cli() -> None:
    """Console script ``symjax-predict`` and ``python -m symjax.predict``."""
    from absl import app

    from symjax.cli import show_flags_in_help

    _define_flags()
    show_flags_in_help(__name__)

    def run(argv: Sequence[str]) -> None:
        try:
            code = main(argv)
        except SymjaxError as e:
            sys.exit(f"predict: {type(e).__name__}: {e}")
        sys.exit(code)

    app.run(run)


if __name__ == "__main__":
    cli()
