r"""Compile the data core's numba kernels into numba's on-disk cache, once per machine.

    python -m symjax.sql.warmup            # about 75 s on 2 cores from an empty cache; < 2 s after

The first call of the data core compiles its kernels (``symjax.sql._numba.njit`` caches
them on disk), so a fresh machine pays that on its first example: a new TPU worker, a CI
run, a newcomer. This command pays it up front by running every path of the data core the
symjax tasks and tools use, each on a small input: the synthetic stream with a character
and with a token budget (tables that fit as drawn and tables that must be cut), TAPEX-style
SQL, user tables, every table style, the executor and its parser, and TFRecord writing.
``tpu_scripts/setup.sh`` runs it on every worker.

Where the cache lives is numba's choice: ``__pycache__`` beside the kernels' modules when
that directory is writable, else ``~/.cache/numba``; ``NUMBA_CACHE_DIR=/path`` puts it
elsewhere (e.g. a directory shared by the workers of one machine, or a CI cache), and
``SYMJAX_NUMBA_CACHE=0`` turns it off. The cache is keyed by the kernels' source files and
the CPU, so it is rebuilt after an upgrade of symjax or on another CPU model.

The last line is ``warmup_s=<x> compilations=<n>``: ``n`` kernels compiled (outermost calls,
see :class:`CompileLog`); kernels loaded from the cache are not counted, so 0 means the
cache already held everything.
"""
from __future__ import annotations

import itertools
import os
import sys
import tempfile
import time
from collections.abc import Callable


def _stages() -> list[tuple[str, Callable[[], object]]]:
    """The data core's paths, each as (name, a small call that runs it)."""
    from symjax import sql
    from symjax.sql.export import records
    from symjax.sql.synth.tables import TableConfig, generate_table
    from symjax.sql.text.tokens import ByteTokenizer

    def stream(config: sql.StreamConfig, n: int = 200, seed: int = 0) -> list:
        return list(itertools.islice(sql.examples(seed, config=config), n))

    def user_tables() -> list:
        tables = [generate_table(seed, TableConfig()) for seed in range(4)]
        out = []
        for style in sql.TABLE_STYLES:
            out += stream(sql.StreamConfig(tables=tables, table_style=style), 40)
        return out

    def tokens() -> list:
        tok = ByteTokenizer()
        out = []
        for length in (2048, 512, 200):  # tables as drawn, and tables that must be cut
            config = sql.StreamConfig(table_style="indexed", max_input_chars=None, max_input_tokens=length,
                                      max_target_tokens=128, tokenizer=tok)
            out.append(sql.encode_blocks(0, range(8), config=config, append_eos=True))
        return out

    def execute() -> list:
        table = generate_table(7, TableConfig())
        name = table.header[0]
        queries = ["SELECT COUNT(*) FROM w", f'SELECT "{name}" FROM w ORDER BY "{name}" DESC LIMIT 1']
        out = [sql.execute(q, table) for q in queries]
        for ex in stream(sql.StreamConfig(), 64, seed=3):
            out.append(sql.execute(ex.sql, ex.table))
        return out

    def record_files() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "warmup.tfrecord")
            with records.TFRecordWriter(path) as writer:
                for ex in stream(sql.StreamConfig(), 16):
                    writer.write_example(ex)
            list(records.read_tfrecord(path))

    return [
        ("synthetic stream, character budget", lambda: stream(sql.StreamConfig())),
        ("synthetic stream, tables cut to a small budget",
         lambda: stream(sql.StreamConfig(max_input_chars=700, sql_reserve_chars=300))),
        ("synthetic stream, TAPEX SQL and indexed tables",
         lambda: stream(sql.StreamConfig(sql_style="tapex", table_style="indexed"))),
        ("token budgets (encode_blocks)", tokens),
        ("user tables, every table style", user_tables),
        ("executor and parser", execute),
        ("TFRecord files", record_files),
    ]


class CompileLog:
    """Within a ``with`` block, the numba kernels compiled in this process: ``compiled``
    maps each outermost kernel (``module.function``; the kernels it calls compile inside
    it) to its seconds. Kernels loaded from the on-disk cache do not appear."""

    def __init__(self):
        self.compiled: dict[str, float] = {}
        self._depth = 0
        self._start = 0.0

    def __enter__(self) -> "CompileLog":
        from numba.core import event

        log = self

        class _Outermost(event.Listener):
            def on_start(self, ev):
                if log._depth == 0:
                    log._start = time.perf_counter()
                log._depth += 1

            def on_end(self, ev):
                log._depth -= 1
                if log._depth == 0:
                    f = ev.data["dispatcher"].py_func
                    name = f"{f.__module__.rsplit('.', 1)[-1]}.{f.__name__}"
                    log.compiled[name] = log.compiled.get(name, 0.0) + time.perf_counter() - log._start

        self._listener = _Outermost()
        event.register("numba:compile", self._listener)
        return self

    def __exit__(self, *exc) -> None:
        from numba.core import event

        event.unregister("numba:compile", self._listener)


def warmup(*, log: Callable[[str], None] = print) -> tuple[float, int]:
    """Run every stage; returns (seconds, kernels compiled)."""
    start = time.perf_counter()
    with CompileLog() as compiles:
        stages = _stages()
        for i, (name, run) in enumerate(stages, 1):
            t = time.perf_counter()
            run()
            elapsed = time.perf_counter() - start
            eta = elapsed / i * (len(stages) - i)
            log(f"[{i}/{len(stages)}] {name}: {time.perf_counter() - t:.1f} s "
                f"(elapsed {elapsed:.0f} s, eta {eta:.0f} s)")
    return time.perf_counter() - start, len(compiles.compiled)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv:
        print(f"symjax.sql.warmup takes no arguments, got {argv}; see --help", file=sys.stderr)
        return 2
    from symjax.sql import _numba

    where = os.environ.get("NUMBA_CACHE_DIR") or "numba's default (symjax/sql/__pycache__, else ~/.cache/numba)"
    if not _numba.CACHE:
        print("SYMJAX_NUMBA_CACHE=0: kernels are not cached, so warming up has no lasting effect", file=sys.stderr)
    print(f"compiling the data core's kernels into {where}", flush=True)
    seconds, n = warmup(log=lambda line: print(line, flush=True))
    print(f"warmup_s={seconds:.1f} compilations={n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
