"""The example stream: determinism, sharding, configuration errors, prompt layout."""
import hashlib
import itertools
import json
import subprocess
import sys

import pytest

from symjax.errors import ConfigError
from symjax.sql.query.families import SamplerConfig
from symjax.sql.stream import INSTRUCTIONS, StreamConfig, examples
from symjax.sql.table import Table


def _digest(stream, n):
    h = hashlib.sha256()
    for e in itertools.islice(stream, n):
        h.update(json.dumps(e.to_dict(), sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


def test_same_arguments_same_bytes_in_another_process():
    here = _digest(examples(11, shard_index=1, num_shards=3), 300)
    code = (
        "import hashlib, itertools, json\n"
        "from symjax.sql.stream import examples\n"
        "h = hashlib.sha256()\n"
        "for e in itertools.islice(examples(11, shard_index=1, num_shards=3), 300):\n"
        "    h.update(json.dumps(e.to_dict(), sort_keys=True, ensure_ascii=False).encode())\n"
        "print(h.hexdigest())\n"
    )
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert there.stdout.strip() == here


def test_different_seeds_differ():
    assert _digest(examples(1), 50) != _digest(examples(2), 50)


def _key(e):
    return (e.block, e.position)


def test_shards_are_disjoint_and_cover_the_unsharded_stream():
    blocks = 60
    full = [e for e in itertools.takewhile(lambda e: e.block < blocks, examples(5))]
    shards = []
    for s in range(3):
        shards.append([e for e in itertools.takewhile(lambda e: e.block < blocks, examples(5, shard_index=s, num_shards=3))])
    keys = [set(map(_key, sh)) for sh in shards]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    assert keys[0] | keys[1] | keys[2] == set(map(_key, full))
    by_key = {_key(e): e for e in full}
    for sh in shards:
        for e in sh:
            assert e.inputs == by_key[_key(e)].inputs and e.answer == by_key[_key(e)].answer


def test_start_block_resumes_without_replay():
    full = list(itertools.islice(examples(9), 200))
    later = [e for e in full if e.block >= 10]
    resumed = list(itertools.islice(examples(9, start_block=10), len(later)))
    assert [(e.block, e.position, e.inputs) for e in resumed] == [(e.block, e.position, e.inputs) for e in later]


def test_example_fields_and_prompt():
    e = next(examples(0))
    assert e.inputs.startswith(INSTRUCTIONS["execute"] + " " + e.sql + "\n")
    assert e.targets == ", ".join(e.answer) or e.targets == "@NULL@"
    assert e.table.header and e.table.types and e.table.rows
    assert e.sql.startswith("SELECT")


def test_styles_and_layouts():
    cfg = StreamConfig(sql_style="tapex", table_style="indexed", layout="table_first", lowercase=True,
                       instruction="result")
    e = next(examples(0, config=cfg))
    assert e.inputs.startswith("header: ")
    assert e.inputs == e.inputs.lower()
    assert "from w" not in e.inputs
    assert e.inputs.rstrip().endswith(e.inputs.split(INSTRUCTIONS["result"].lower())[1].rstrip())


def test_character_budget_is_respected():
    cfg = StreamConfig(max_input_chars=700, sql_reserve_chars=250)
    for e in itertools.islice(examples(3, config=cfg), 300):
        assert len(e.inputs) <= 700


def test_user_tables():
    t = Table.from_columns(["Team", "Wins", "Founded"], ["text", "integer", "date"],
                           [["A", "B", "C", "D"], [3, 5, 1, 5], ["1900-01-01", "1910-05-05", "1920-02-02", "1930-03-03"]])
    es = list(itertools.islice(examples(0, config=StreamConfig(tables=[t])), 40))
    assert es and all(e.table.header == t.header for e in es)


def test_family_weights_restrict_families():
    cfg = StreamConfig(sampler=SamplerConfig(family_weights={"count": 1.0}))
    assert {e.family for e in itertools.islice(examples(0, config=cfg), 50)} == {"count"}


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(shard_index=-1), "shard_index"),
        (dict(shard_index=3, num_shards=3), "shard_index"),
        (dict(num_shards=0), "num_shards"),
    ],
)
def test_bad_shard_arguments(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        examples(0, **kwargs)


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda: SamplerConfig(family_weights={"nope": 1.0}), "unknown query family 'nope'"),
        (lambda: SamplerConfig(family_weights={"count": -1}), ">= 0"),
        (lambda: SamplerConfig(difficulty="extreme"), "unknown difficulty"),
        (lambda: StreamConfig(sql_style="mysql"), "sql_style"),
        (lambda: StreamConfig(table_style="html"), "table_style"),
        (lambda: StreamConfig(queries_per_table=0), "queries_per_table"),
        (lambda: StreamConfig(max_input_tokens=100), "count_tokens"),
        (lambda: examples(0, config=StreamConfig(tables=[])), "empty list"),
        (lambda: examples(-3), "seed"),
        # issue 16: each of these was a TypeError later, a silent repeat or a wrong stream
        (lambda: SamplerConfig(family_weights={"count": float("inf")}), "finite number"),
        (lambda: SamplerConfig(family_weights={"count": float("nan")}), "finite number"),
        (lambda: StreamConfig(max_input_chars="6000"), r"max_input_chars must be an int >= 1 or None, got '6000'"),
        (lambda: StreamConfig(queries_per_table=True), "queries_per_table must be an int >= 1, got True"),
        (lambda: StreamConfig(instruction=None), r"instruction must be a key of INSTRUCTIONS .* got None"),
        (lambda: StreamConfig(max_cell_chars=0), "max_cell_chars"),
        (lambda: examples(2**64), r"seed must be an int in \[0, 2\*\*64\)"),
        (lambda: examples(0, start_block=-5), r"start_block must be an int >= 0 .*got -5"),
        (lambda: examples(0, start_block=0.5), r"start_block must be an int >= 0 .*got 0\.5"),
    ],
)
def test_bad_configuration(make, fragment):
    with pytest.raises(ConfigError, match=fragment):
        make()


def test_block_examples_equal_the_stream():
    from symjax.sql.stream import block_examples

    full = [e for e in itertools.takewhile(lambda e: e.block < 5, examples(4))]
    by_block = [e for b in range(5) for e in block_examples(4, b)]
    assert [e.inputs for e in by_block] == [e.inputs for e in full]


def test_stream_that_cannot_produce_raises():
    from symjax.errors import SamplingError

    one_row = Table.from_columns(["a"], ["text"], [["x"]])
    cfg = StreamConfig(tables=[one_row], sampler=SamplerConfig(family_weights={"most_frequent": 1.0}, max_attempts=1))
    with pytest.raises(SamplingError, match="produced no example"):
        next(examples(0, config=cfg))


def test_largest_seed_is_its_own_stream():
    assert _digest(examples(2**64 - 1), 20) != _digest(examples(0), 20)


def test_table_directory_read_again_when_it_changed(tmp_path):
    (tmp_path / "a.csv").write_text("Name,Score\nann,1\nbob,2\ncid,3\n", encoding="utf-8")
    config = StreamConfig(tables=str(tmp_path), queries_per_table=2)

    def headers():
        return {e.table.header for e in itertools.islice(examples(0, config=config), 60)}

    assert headers() == {("Name", "Score")}
    (tmp_path / "b.csv").write_text("City,Year\nOslo,1990\nRome,1991\nNice,1992\n", encoding="utf-8")
    assert headers() == {("Name", "Score"), ("City", "Year")}  # a new stream sees the new file
