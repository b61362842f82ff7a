r"""The sha256 of the SQL-execution stream's first examples, per stream configuration: the
check that a change to the data core leaves the stream byte-identical.

    python tools/stream_digest.py                 # 40,000 default examples, fewer of the others
    python tools/stream_digest.py --examples=1000

Each line is ``<config> <examples> <sha256>``: the digest of
``json.dumps([inputs, targets, sql, answer, family, ordered, table])`` of every example of
``symjax.sql.examples(--seed, config=...)``, in order. Run it before and after a change;
equal lines mean equal bytes.
"""
from __future__ import annotations

import hashlib
import itertools
import json

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("examples", None, "Examples per config (default: 40,000 for 'default', 5,000 or "
                     "3,000 for the others).")
flags.DEFINE_integer("seed", 0, "Stream seed.")


def digest(stream, n: int) -> str:
    h = hashlib.sha256()
    for ex in itertools.islice(stream, n):
        h.update(json.dumps([ex.inputs, ex.targets, ex.sql, list(ex.answer), ex.family, ex.ordered,
                             ex.table.to_dict()], ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def configs() -> dict:
    """Name -> (StreamConfig, default number of examples): the main paths of the stream."""
    import symjax.sql as sql
    from symjax.sql.synth.tables import TableConfig, generate_table
    from symjax.sql.text.tokens import ByteTokenizer

    return {
        "default": (sql.StreamConfig(), 40_000),
        "tapex": (sql.StreamConfig(sql_style="tapex", table_style="tapex"), 5_000),
        "small": (sql.StreamConfig(max_input_chars=700, sql_reserve_chars=300), 5_000),
        "tokens": (sql.StreamConfig(table_style="indexed", max_input_chars=None, max_input_tokens=511,
                                    max_target_tokens=63, tokenizer=ByteTokenizer()), 5_000),
        "user": (sql.StreamConfig(tables=[generate_table(s, TableConfig()) for s in range(5)],
                                  table_style="markdown"), 3_000),
        "lower": (sql.StreamConfig(lowercase=True, layout="sql_first"), 3_000),
    }


def main(argv):
    del argv
    import symjax.sql as sql

    for name, (config, n) in configs().items():
        n = FLAGS.examples or n
        print(f"{name} {n} {digest(sql.examples(FLAGS.seed, config=config), n)}", flush=True)


if __name__ == "__main__":
    app.run(main)
