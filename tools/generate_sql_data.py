r"""Generate SQL-execution examples to JSONL or sharded TFRecord files.

    python tools/generate_sql_data.py --num_examples=100000 --output=/tmp/sql/train \
        --format=tfrecord --num_shards=8 --seed=0 --inputs_length=2048 --targets_length=128

With ``--inputs_length``/``--targets_length`` (and ``--vocabulary``) every example is
fitted to those lengths as the seqio task fits them, so a model reading the files at those
lengths sees every example whole; without, the character budget ``--max_input_chars``.

Output file ``i`` of ``n`` holds shard ``i`` of the stream (``symjax.sql.examples(seed,
shard_index=i, num_shards=n)``), so files are disjoint, reproducible one by one, and can be
written by separate processes (``--workers``). Prints a progress bar, then a summary:
examples per family, answer sizes, input-length percentiles.

Nothing is lost and nothing is partial under a final name: every flag, the stream config and
the tables of ``--tables_dir`` are checked before any output is opened; an existing output
is refused unless ``--overwrite``; each file is written under a hidden temporary name
(``.<name>.partial-<pid>``) beside it and renamed when every file is complete, and then
``<output>.manifest.json`` records the files and how many examples each holds (a set of
files is complete when its manifest exists). Ctrl-C (SIGINT) stops at the next example,
removes the temporary files and exits with code 130; errors are one line on stderr
(``generate_sql_data: <ErrorType>: <what, where, the fix>``), exit code 1.
"""
from __future__ import annotations

import collections
import contextlib
import errno
import itertools
import json
import multiprocessing
import os
import signal
import sys
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("num_examples", 10_000, "How many examples in total.")
flags.DEFINE_integer("seed", 0, "Stream seed.")
flags.DEFINE_string("output", None, "Output path prefix (JSONL: a file, or a prefix with --num_shards > 1).")
flags.DEFINE_enum("format", "jsonl", ["jsonl", "tfrecord"], "Output format.")
flags.DEFINE_integer("num_shards", 1, "Number of output files (stream shards).")
flags.DEFINE_integer("workers", 1, "Processes writing shards in parallel.")
flags.DEFINE_enum("sql_style", "standard", ["standard", "tapex"], "SQL style in the inputs.")
flags.DEFINE_enum("table_style", "indexed", ["tapex", "indexed", "markdown"],
                  "Table linearization (default: the registered symjax_sql_execution task's).")
flags.DEFINE_string("instruction", "execute", "Instruction key (execute, result, run, answer) or text.")
flags.DEFINE_enum("layout", "sql_first", ["sql_first", "table_first"], "Prompt layout.")
flags.DEFINE_bool("lowercase", False, "Lower-case inputs and targets (TAPEX).")
flags.DEFINE_integer("queries_per_table", 16, "Queries sampled per table.")
flags.DEFINE_integer("max_input_chars", 6000,
                     "Character budget of the inputs (0: none; ignored with --inputs_length).")
flags.DEFINE_integer("inputs_length", 0,
                     "Fit every example to a model's input length in tokens of --vocabulary (EOS "
                     "included), as the seqio task does: tables are cut before execution, queries "
                     "that still do not fit are left out. 0: the character budget.")
flags.DEFINE_integer("targets_length", 0, "With --inputs_length: the target length in tokens (EOS included).")
flags.DEFINE_string("vocabulary", "byte",
                    "With --inputs_length: 'byte' (seqio.ByteVocabulary) or a SentencePiece .model path.")
flags.DEFINE_string("families", None, "Family weights, e.g. 'count=1,superlative=2' (default: all).")
flags.DEFINE_enum("difficulty", "medium", ["easy", "medium", "hard"], "WHERE complexity.")
flags.DEFINE_string("tables_dir", None, "Sample SQL over the tables in this directory instead of synthetic ones.")
flags.DEFINE_bool("overwrite", False, "Replace existing output files (refused otherwise).")
flags.mark_flag_as_required("output")


def _config():
    from symjax.errors import ConfigError
    from symjax.sql import SamplerConfig, StreamConfig

    weights = None
    if FLAGS.families:
        weights = {}
        for item in FLAGS.families.split(","):
            name, _, w = item.partition("=")
            try:
                weights[name.strip()] = float(w) if w else 1.0
            except ValueError:
                raise ConfigError(f"--families: bad weight in {item!r}; use name=number") from None
    fit: dict = {}
    if FLAGS.inputs_length or FLAGS.targets_length:
        if FLAGS.inputs_length < 2 or FLAGS.targets_length < 2:
            raise ConfigError(
                f"--inputs_length and --targets_length go together and must be >= 2 tokens, got "
                f"{FLAGS.inputs_length} and {FLAGS.targets_length}")
        fit = dict(tokenizer=_tokenizer(), max_input_tokens=FLAGS.inputs_length - 1,
                   max_target_tokens=FLAGS.targets_length - 1)
    return StreamConfig(
        tables=FLAGS.tables_dir,
        sampler=SamplerConfig(family_weights=weights, difficulty=FLAGS.difficulty),
        queries_per_table=FLAGS.queries_per_table,
        sql_style=FLAGS.sql_style,
        table_style=FLAGS.table_style,
        instruction=FLAGS.instruction,
        layout=FLAGS.layout,
        lowercase=FLAGS.lowercase,
        max_input_chars=None if fit else (FLAGS.max_input_chars or None),
        **fit,
    )


def _tokenizer():
    from symjax.sql.text.tokens import ByteTokenizer

    if FLAGS.vocabulary == "byte":
        return ByteTokenizer()
    import seqio

    from symjax.tasks.tokenizers import tokenizer_for

    return tokenizer_for(seqio.SentencePieceVocabulary(FLAGS.vocabulary))


def _extension() -> str:
    return ".jsonl" if FLAGS.format == "jsonl" else ".tfrecord"


def _shard_path(i: int, n: int) -> str:
    ext = _extension()
    if n == 1:
        return FLAGS.output if FLAGS.output.endswith(ext) else FLAGS.output + ext
    return f"{FLAGS.output}-{i:05d}-of-{n:05d}{ext}"


def _manifest_path() -> str:
    """``<output>.manifest.json`` (the output without its format's extension)."""
    ext = _extension()
    base = FLAGS.output.removesuffix(ext)
    return base + ".manifest.json"


def _partial_path(final: str, owner: int) -> str:
    """The hidden name a file is written under until the whole output is complete."""
    head, name = os.path.split(final)
    return os.path.join(head, f".{name}.partial-{owner}")


class _Interrupted(Exception):
    """SIGINT arrived: stop at the next example."""


class _StopFlag:
    """The first SIGINT sets ``requested`` (the write loop stops at the next example, so no
    exception is ever raised inside a numba kernel); a second one raises KeyboardInterrupt."""

    requested = False

    @classmethod
    def handle(cls, signum, frame):
        if cls.requested:
            raise KeyboardInterrupt
        cls.requested = True

    @classmethod
    def check(cls):
        if cls.requested:
            raise _Interrupted


def _output_error(action: str, path: str, error: OSError):
    from symjax.errors import OutputError

    reason = error.strerror or str(error)
    hints = {
        errno.ENOSPC: "free disk space or choose another --output",
        errno.EROFS: "choose a writable place for --output",
        errno.EACCES: "no permission; choose a writable place for --output",
        errno.EPERM: "no permission; choose a writable place for --output",
        errno.ENOTDIR: "a file is in the way of the directory; choose another --output",
        errno.EEXIST: "a file is in the way of the directory; choose another --output",
        errno.ENOENT: "nothing can be created there; choose another --output",
    }
    hint = hints.get(error.errno, "choose another --output")
    return OutputError(f"cannot {action} {path}: {reason}; {hint}. Nothing was written under the final names")


def _check_outputs(finals: list[str], manifest: str) -> None:
    """Refuse an output that is a directory, or that exists without --overwrite; create the
    parent directory."""
    from symjax.errors import OutputError

    for path in [*finals, manifest]:
        if os.path.isdir(path):
            raise OutputError(f"--output names a directory: {path} is a directory; give a file "
                              f"path or prefix, e.g. --output={os.path.join(path, 'sql')}")
        if os.path.lexists(path) and not FLAGS.overwrite:
            raise OutputError(f"{path} exists; pass --overwrite to replace it, or choose another --output")
    parent = os.path.dirname(os.path.abspath(finals[0]))
    above = parent
    while not os.path.lexists(above):
        above = os.path.dirname(above)
    if not os.path.isdir(above):
        raise OutputError(f"the output's directory {parent} cannot be created: {above} is a file; "
                          "choose another --output")
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as e:
        raise _output_error("create the output directory", parent, e) from None


def _sync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_shard(args):
    i, n, count, flag_values, progress, owner = args
    if flag_values is not None:  # in a worker process
        FLAGS(flag_values)
    from symjax.sql import examples
    from symjax.sql.export.records import JsonlWriter, TFRecordWriter

    writer_cls = JsonlWriter if FLAGS.format == "jsonl" else TFRecordWriter
    stats = {"shard": i, "families": collections.Counter(), "answer_sizes": collections.Counter(), "lengths": []}
    stream = examples(FLAGS.seed, shard_index=i, num_shards=n, config=_config())
    path = _partial_path(_shard_path(i, n), owner)
    try:
        with writer_cls(path) as writer:
            for e in itertools.islice(stream, count):
                _StopFlag.check()
                writer.write_example(e)
                stats["families"][e.family] += 1
                stats["answer_sizes"][len(e.answer)] += 1
                stats["lengths"].append(len(e.inputs))
                if progress is not None:
                    progress.update(1)
        _sync(path)
    except OSError as e:
        raise _output_error("write", _shard_path(i, n), e) from None
    return stats


def _percentile(sorted_values, q):
    if not sorted_values:
        return 0
    return sorted_values[min(len(sorted_values) - 1, int(q / 100 * len(sorted_values)))]


def _ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # workers: the parent stops them and cleans up


def _write_all(n: int, counts: list[int], owner: int) -> list[dict]:
    from tqdm import tqdm

    results = []
    if FLAGS.workers > 1 and n > 1:
        argv_copy = list(sys.argv)
        jobs = [(i, n, counts[i], argv_copy, None, owner) for i in range(n)]
        pool = multiprocessing.get_context("spawn").Pool(FLAGS.workers, initializer=_ignore_sigint)
        try:
            with tqdm(total=n, desc="shards", unit="shard") as bar:
                pending = pool.imap_unordered(_write_shard, jobs)
                while len(results) < n:
                    _StopFlag.check()
                    try:
                        results.append(pending.next(timeout=0.2))
                    except multiprocessing.TimeoutError:
                        continue
                    bar.update(1)
            pool.close()
        except BaseException:
            pool.terminate()
            raise
        finally:
            pool.join()
    else:
        with tqdm(total=FLAGS.num_examples, desc="examples", unit="ex", mininterval=0.5) as bar:
            for i in range(n):
                results.append(_write_shard((i, n, counts[i], None, bar, owner)))
    return sorted(results, key=lambda s: s["shard"])


@contextlib.contextmanager
def _sigint_deferred():
    """No SIGINT between the first rename and the manifest (a few renames)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _commit(partials: list[str], finals: list[str], manifest: str, summary: dict, owner: int) -> None:
    """Rename every complete file to its final name, then write the manifest."""
    manifest_partial = _partial_path(manifest, owner)
    try:
        with open(manifest_partial, "w", encoding="utf-8") as f:
            f.write(json.dumps(summary, indent=1) + "\n")
        _sync(manifest_partial)
    except OSError as e:
        raise _output_error("write", manifest, e) from None
    with _sigint_deferred():
        try:
            if os.path.lexists(manifest):  # --overwrite: the old set is no longer described
                os.remove(manifest)
            for partial, final in zip(partials, finals):
                os.replace(partial, final)
            os.replace(manifest_partial, manifest)
        except OSError as e:
            raise _output_error("rename a finished file into", os.path.dirname(manifest) or ".", e) from None


def _remove(paths: list[str]) -> int:
    removed = 0
    for path in paths:
        with contextlib.suppress(OSError):  # absent, or on a file system that refused it
            os.remove(path)
            removed += 1
    return removed


def _generate() -> int:
    from symjax.sql import examples

    n = FLAGS.num_shards
    if n < 1 or FLAGS.num_examples < 0:
        raise app.UsageError("--num_shards must be >= 1 and --num_examples >= 0")
    # everything is checked before any output is opened: the config, the tables, the paths
    config = _config()
    examples(FLAGS.seed, shard_index=0, num_shards=n, config=config)  # reads --tables_dir
    finals = [_shard_path(i, n) for i in range(n)]
    manifest = _manifest_path()
    _check_outputs(finals, manifest)
    _StopFlag.check()
    owner = os.getpid()
    partials = [_partial_path(f, owner) for f in finals]
    counts = [FLAGS.num_examples // n + (1 if i < FLAGS.num_examples % n else 0) for i in range(n)]
    start = time.perf_counter()
    try:
        for path, final in zip(partials, finals):  # a read-only place fails here, before any work
            try:
                open(path, "wb").close()
            except OSError as e:
                raise _output_error("write", final, e) from None
        results = _write_all(n, counts, owner)
        _StopFlag.check()
        elapsed = time.perf_counter() - start
        families = collections.Counter()
        sizes = collections.Counter()
        lengths = []
        for s in results:
            families.update(s["families"])
            sizes.update(s["answer_sizes"])
            lengths.extend(s["lengths"])
        lengths.sort()
        total = sum(families.values())
        pct = {q: _percentile(lengths, q) for q in (50, 90, 99)}
        files = [{"path": os.path.basename(f), "examples": sum(s["families"].values()),
                  "bytes": os.path.getsize(p)} for f, p, s in zip(finals, partials, results)]
        manifest_data = {
            "complete": True, "examples": total, "format": FLAGS.format, "seed": FLAGS.seed,
            "num_shards": n, "files": files, "families": dict(families),
            "answer_sizes": {str(k): v for k, v in sorted(sizes.items())}, "input_chars": pct,
            "command": [os.path.basename(sys.argv[0]), *sys.argv[1:]],
        }
        _commit(partials, finals, manifest, manifest_data, owner)
    except BaseException:
        _remove([*partials, _partial_path(manifest, owner)])
        raise
    print(f"\nwrote {total} examples to {n} file(s) in {elapsed:.1f}s ({total / max(elapsed, 1e-9):.0f} examples/s)")
    print("examples per family:")
    for fam, c in sorted(families.items(), key=lambda kv: -kv[1]):
        print(f"  {fam:<16} {c:>9}  {100 * c / max(total, 1):5.1f}%")
    print("answer sizes: " + ", ".join(f"{k}: {v}" for k, v in sorted(sizes.items())))
    print(f"input chars: p50={pct[50]} p90={pct[90]} p99={pct[99]} max={lengths[-1] if lengths else 0}")
    print(f"manifest: {manifest}")
    summary = {"examples": total, "files": finals, "manifest": manifest, "families": dict(families),
               "answer_sizes": {str(k): v for k, v in sizes.items()}, "input_chars": pct}
    print(json.dumps(summary))
    return 0


def _interrupted(error: BaseException) -> bool:
    """A KeyboardInterrupt, also one that surfaced from inside a numba kernel (numba then
    raises SystemError with the KeyboardInterrupt as its context)."""
    while error is not None:
        if isinstance(error, (KeyboardInterrupt, _Interrupted)):
            return True
        error = error.__cause__ or error.__context__
    return False


def main(argv):
    del argv
    from symjax.errors import SymjaxError

    signal.signal(signal.SIGINT, _StopFlag.handle)
    try:
        code = _generate()
    except SymjaxError as e:
        print(f"generate_sql_data: {type(e).__name__}: {e}", file=sys.stderr)
        code = 1
    except (KeyboardInterrupt, _Interrupted, SystemError) as e:
        if not _interrupted(e):
            raise
        print(f"generate_sql_data: interrupted; nothing was written under {FLAGS.output} "
              "(temporary files removed)", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    app.run(main)
