"""Tests of symjax.sql.io: table building, file readers, and every real WTQ and TabFact
sample table under ../shared/data (cell and column inference: tests/test_infer.py)."""
from __future__ import annotations

import collections
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from symjax.errors import CellTypeError, MissingDataError, TableError, TableFormatError
from symjax.sql import infer, io as sqlio
from symjax.sql.io import (
    from_dataframe,
    read_csv,
    read_json,
    read_json_table,
    read_jsonl,
    read_jsonl_tables,
    read_table,
    read_table_dir,
    read_tabfact,
    read_wtq,
    table_from_rows,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_inference_is_re_exported():
    from symjax.sql.io import infer_cell, infer_column

    assert infer_cell is infer.infer_cell and infer_column is infer.infer_column
    assert {"infer_cell", "infer_column"} <= set(sqlio.__all__)
    assert infer_cell("1,370") == ("integer", 1370)


# ---------------------------------------------------------------------------- tables
def test_table_from_rows_infers_and_keeps_display():
    t = table_from_rows(
        [
            ["Year", "Weight", "Share", "Date", "Notes"],
            ["2001", "1,370", "48.4%", "March 5, 2001", "first"],
            ["2002", "—", "12%", "2002-01-02", "—"],
        ],
        name="demo",
    )
    assert t.types == ("integer", "integer", "real", "date", "text")
    assert t.rows == [
        [2001, 1370, 48.4, "2001-03-05", "first"],
        [2002, None, 12.0, "2002-01-02", "—"],
    ]
    assert t.name == "demo"
    assert t.column_texts(1) == ("1,370", "—")
    assert t.column_texts(2) == ("48.4%", "12%")
    assert t.column_texts(3) == ("March 5, 2001", "2002-01-02")
    assert t.display[0] is None and t.display[4] is None  # nothing to remember


def test_table_from_rows_python_values():
    t = table_from_rows(
        [
            [1, 2.5, dt.date(2001, 3, 5), True, None, "3"],
            [2, float("nan"), dt.datetime(2001, 3, 6), False, None, 4],
        ],
        header=["i", "r", "d", "b", "n", "mixed"],
    )
    assert t.types == ("integer", "real", "date", "text", "text", "integer")
    assert t.rows == [
        [1, 2.5, "2001-03-05", "True", None, 3],
        [2, None, "2001-03-06", "False", None, 4],
    ]
    t = table_from_rows([[1, "x"], [2.5, "y"]], header=["a", "b"])
    assert t.types == ("real", "text") and t.column(0) == [1.0, 2.5]
    t = table_from_rows([["a"], [1], [2.5], [dt.datetime(2001, 1, 1, 12, 30)]])
    assert t.types == ("text",) and t.column(0) == ["1", "2.5", "2001-01-01 12:30:00"]


def test_rows_may_be_tuples_or_arrays_but_not_strings():
    np = pytest.importorskip("numpy")
    t = table_from_rows([("a", "b"), np.array([1, 2]), (3, 4)])
    assert t.types == ("integer", "integer") and t.rows == [[1, 2], [3, 4]]
    with pytest.raises(TableError, match="data row 1: a row is a list of cells"):
        table_from_rows([["a"], "x"])


def test_infer_false_keeps_strings_as_text():
    t = table_from_rows([["a", "b"], ["1", 2], ["", 3]], infer=False)
    assert t.types == ("text", "integer")
    assert t.rows == [["1", 2], [None, 3]]


def test_unsupported_and_non_finite_cells():
    with pytest.raises(CellTypeError, match=r"data row 2, column 'b'.*inf"):
        table_from_rows([["a", "b"], [1, 1.0], [2, float("inf")]])
    with pytest.raises(CellTypeError, match=r"data row 1, column 'a'.*list"):
        table_from_rows([["a"], [[1, 2]]])


def test_declared_types_convert():
    t = table_from_rows(
        [["n", "x", "d", "s"], ["1,370", "3", "Mar. 5, 2001", "007"], ["—", "2.5", "", "—"]],
        types=["integer", "real", "date", "text"],
    )
    assert t.types == ("integer", "real", "date", "text")
    assert t.rows == [[1370, 3.0, "2001-03-05", "007"], [None, 2.5, None, "—"]]
    # a mapping declares some columns; the others are inferred
    t = table_from_rows([["Year", "Code"], ["2001", "007"]], types={"Code": "text"})
    assert t.types == ("integer", "text") and t.rows == [[2001, "007"]]
    # an integral Python float fits an integer column (pandas int columns with NaN)
    t = table_from_rows([["n"], [3.0], [None]], types=["integer"])
    assert t.rows == [[3], [None]]


@pytest.mark.parametrize(
    "rows, types, pattern",
    [
        ([["Year"], ["2001"], ["12a"]], ["integer"], r"data row 2, column 'Year' is declared integer but holds '12a'"),
        ([["Year"], ["3.0"]], ["integer"], r"data row 1, column 'Year' is declared integer but holds '3.0'.*declare the column real"),
        ([["x"], ["1"], ["1.2.3"]], ["real"], r"data row 2, column 'x' is declared real but holds '1.2.3'"),
        ([["When"], ["2001"]], ["date"], r"data row 1, column 'When' is declared date but holds '2001'"),
        ([["n"], [2.5]], ["integer"], r"data row 1, column 'n' is declared integer but holds 2.5"),
        ([["n"], [True]], ["real"], r"data row 1, column 'n' is declared real but holds True"),
    ],
)
def test_declared_type_errors(rows, types, pattern):
    with pytest.raises(CellTypeError, match=pattern):
        table_from_rows(rows, types=types)


def test_declared_type_error_names_file_line(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text('Year,Note\n2001,"two\nlines"\n\n2002,x\nabc,y\n', encoding="utf-8")
    with pytest.raises(CellTypeError) as e:
        read_csv(p, types=["integer", "text"])
    msg = str(e.value)
    assert "data row 3" in msg and f"{p}, line 6" in msg and "'Year'" in msg and "'abc'" in msg


def test_bad_types_argument():
    with pytest.raises(TableError, match="unknown type 'number'"):
        table_from_rows([["a"], ["1"]], types=["number"])
    with pytest.raises(TableError, match="1 types"):
        table_from_rows([["a", "b"], ["1", "2"]], types=["integer"])
    with pytest.raises(TableError, match=r"unknown columns \['c'\]"):
        table_from_rows([["a", "b"], ["1", "2"]], types={"c": "integer"})


def test_ragged_rows():
    with pytest.raises(TableError, match=r"data row 2 has 3 cells but the header has 2 columns"):
        table_from_rows([["a", "b"], ["1", "2"], ["1", "2", "3"]])


def test_ragged_rows_in_file_name_the_line(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("a,b\n1,2\n\n3\n", encoding="utf-8")
    with pytest.raises(TableError, match=rf"data row 2 \({p}, line 4\) has 1 cells"):
        read_csv(p)


@pytest.mark.parametrize(
    "rows, header, pattern",
    [
        ([], None, "no header row"),
        ([["a", "b"]], None, "no data rows"),
        ([], ["a"], "no data rows"),
        ([[]], None, "header is empty"),
        ([], [], "header is empty"),
    ],
)
def test_empty_tables(rows, header, pattern):
    with pytest.raises(TableError, match=pattern):
        table_from_rows(rows, header=header)


def test_duplicate_and_empty_headers_are_made_unique():
    rows = [["Year", "", "Year", "year", None], ["1", "2", "3", "4", "5"]]
    t = table_from_rows(rows)
    assert t.header == ("Year", "column_2", "Year_2", "year_3", "column_5")
    assert t.rows == [[1, 2, 3, 4, 5]]  # never merged
    assert table_from_rows(rows).header == t.header  # deterministic


# ---------------------------------------------------------------------------- files
def test_read_csv(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes('\ufeffName,Pop.\r\n"Paris, FR","2,148,000"\r\n"Say ""hi""",—\r\n'.encode("utf-8"))
    t = read_csv(p)
    assert t.header == ("Name", "Pop.")
    assert t.types == ("text", "integer")
    assert t.rows == [["Paris, FR", 2148000], ['Say "hi"', None]]
    assert t.name == str(p)
    t = read_csv(p, header=False, name="x")
    assert t.header == ("column_1", "column_2") and t.num_rows == 3 and t.name == "x"
    q = tmp_path / "t.txt"
    q.write_text("a;b\n1;2\n", encoding="utf-8")
    assert read_csv(q, delimiter=";").rows == [[1, 2]]


def test_malformed_csv_names_file_and_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text('a,b\n1,2\n3,"x"y\n', encoding="utf-8")
    with pytest.raises(TableFormatError, match=rf"{p}, line 3: malformed CSV"):
        read_csv(p)


@pytest.mark.parametrize("reader, suffix", [(read_csv, ".csv"), (read_tabfact, ".html.csv"), (read_wtq, ".tsv"), (read_jsonl, ".jsonl")])
def test_undecodable_bytes_name_file_and_line(tmp_path, reader, suffix):
    p = tmp_path / f"enc{suffix}"
    sep = {".csv": b",", ".html.csv": b"#", ".tsv": b"\t", ".jsonl": b","}[suffix]
    p.write_bytes(b"a" + sep + b"b\n1" + sep + b"2\n3" + sep + b"\xff\n")
    with pytest.raises(TableFormatError) as e:
        reader(p)
    msg = str(e.value)
    assert str(p) in msg and "line 3" in msg and "\\xff" in msg and "utf-8" in msg


def test_missing_files(tmp_path):
    for call in (read_csv, read_wtq, read_tabfact, read_jsonl, read_json, read_table):
        with pytest.raises(MissingDataError, match="nope"):
            call(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError):  # MissingDataError is one
        read_table(tmp_path / "nope.tsv")
    with pytest.raises(MissingDataError, match="nodir"):
        read_table_dir(tmp_path / "nodir")
    with pytest.raises(MissingDataError, match="is a directory"):
        read_csv(tmp_path)


def _wtq_csv(rows):
    def field(s):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "".join(",".join(field(c) for c in r) + "\n" for r in rows)


def _wtq_tsv(rows):
    def field(s):
        return s.replace("\\", "\\\\").replace("\n", "\\n").replace("|", "\\p")
    return "".join("\t".join(field(c) for c in r) + "\n" for r in rows)


def test_wtq_escapes_round_trip(tmp_path):
    rows = [
        ["Name", "Note\nline 2", "Quote"],
        ['"Memo" from Turner', "a\\b and \\n literal", 'say \\"hi\\"'],
        ["pipe | here", "comma, here", ""],
        ["x\ny\n", "\\", '"'],
    ]
    d = tmp_path / "204-csv"
    d.mkdir()
    (d / "1.csv").write_text(_wtq_csv(rows), encoding="utf-8")
    (d / "1.tsv").write_text(_wtq_tsv(rows), encoding="utf-8")
    expected = [[c if c else None for c in r] for r in rows[1:]]
    for name in ("1.csv", "1.tsv"):
        t = read_wtq(d / name)
        assert t.header == ("Name", "Note line 2", "Quote")  # dedupe_header collapses whitespace
        assert t.rows == expected, name
    assert read_table(d / "1.csv") == read_wtq(d / "1.csv")  # <digits>-csv folder: WTQ


def test_wtq_csv_escape_n_and_errors(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text('"h1","h2"\n"a\\nb","c"\n', encoding="utf-8")
    assert read_wtq(p).rows == [["a\nb", "c"]]
    p.write_text('"h1","h2"\n"multi\nline","ok"\n"bad"x,"y"\n', encoding="utf-8")
    with pytest.raises(TableFormatError, match=rf"{p}, line 4: unexpected 'x'"):
        read_wtq(p)
    p.write_text('"h1","h2"\n"open,"y"\n', encoding="utf-8")
    with pytest.raises(TableFormatError, match="line 2"):
        read_wtq(p)
    with pytest.raises(TableFormatError, match="reads .csv, .tsv or .table"):
        read_wtq(tmp_path / "a.txt")


def test_wtq_table_format(tmp_path):
    p = tmp_path / "1.table"
    p.write_text("| Pos | Rider   |\n| 1   | Manuel  |\n| 2   | Dani\nPedrosa |\n", encoding="utf-8")
    t = read_wtq(p)
    assert t.header == ("Pos", "Rider") and t.rows == [[1, "Manuel"], [2, "Dani\nPedrosa"]]
    p.write_text("| a |\nb |\n", encoding="utf-8")
    with pytest.raises(TableFormatError, match="line 2"):
        read_wtq(p)


def test_tabfact(tmp_path):
    p = tmp_path / "1-1-1.html.csv"
    p.write_bytes(b"date#team#score\r\nmarch 5 , 2001#a , b#10\r\nmay 1 , 2002#c##\r\n")
    with pytest.raises(TableError, match=r"data row 2 \(.*line 3\) has 4 cells"):
        read_tabfact(p)
    p.write_bytes(b"date#team#score\r\nmarch 5 , 2001#a , b#10\r\nmay 1 , 2002#c#\r\n")
    t = read_table(p)
    assert t.types == ("date", "text", "integer")
    assert t.rows == [["2001-03-05", "a , b", 10], ["2002-05-01", "c", None]]


def test_jsonl_shapes(tmp_path):
    p = tmp_path / "rows.jsonl"
    p.write_text('{"Year": 2001, "City": "Paris", "Pop": "2,148,000"}\n\n'
                 '{"City": "Rome", "Year": 2002, "Pop": null}\n', encoding="utf-8")
    t = read_jsonl(p)
    assert t.header == ("Year", "City", "Pop") and t.types == ("integer", "text", "integer")
    assert t.rows == [[2001, "Paris", 2148000], [2002, "Rome", None]]
    p.write_text('["a", "b"]\n[1, "x"]\n[2, "y"]\n', encoding="utf-8")
    assert read_jsonl(p).rows == [[1, "x"], [2, "y"]]
    p.write_text(json.dumps({"header": ["a", "b"], "rows": [[1, "2"]], "types": ["real", "text"], "name": "t1"}) + "\n")
    t = read_jsonl(p)
    assert t.types == ("real", "text") and t.rows == [[1.0, "2"]] and t.name == "t1"
    assert read_table(p) == t


def test_jsonl_errors_name_the_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"a": 1}\n{"b": 2}\n', encoding="utf-8")
    with pytest.raises(TableFormatError, match=rf"{p}, line 2: expected a row object"):
        read_jsonl(p)
    p.write_text('{"a": 1}\n{"a": 2\n', encoding="utf-8")
    with pytest.raises(TableFormatError, match=rf"{p}, line 2, column \d+: invalid JSON"):
        read_jsonl(p)
    table = json.dumps({"header": ["a"], "rows": [[1]]})
    p.write_text(table + "\n" + table + "\n", encoding="utf-8")
    with pytest.raises(TableFormatError, match="read_jsonl_tables"):
        read_jsonl(p)
    tables = read_jsonl_tables(p)
    assert [t.rows for t in tables] == [[[1]], [[1]]] and tables[1].name == f"{p}:2"
    p.write_text('{"header": ["a"], "rows": [[1, 2]]}\n', encoding="utf-8")
    with pytest.raises(TableError, match=r"data row 1 of .*line 1 has 2 cells"):
        read_jsonl_tables(p)


def test_read_json_table_and_file(tmp_path):
    t = read_json_table({"header": ["x", "x"], "rows": [["1", "a"], ["2", None]], "types": ["integer", "text"]})
    assert t.header == ("x", "x_2") and t.rows == [[1, "a"], [2, None]]
    with pytest.raises(TableFormatError, match="table object"):
        read_json_table({"columns": []})
    p = tmp_path / "t.json"
    p.write_text(json.dumps([{"a": "1.5"}, {"a": 2}]), encoding="utf-8")
    assert read_json(p).rows == [[1.5], [2.0]]
    p.write_text(json.dumps({"header": ["a"], "rows": [["x"]]}), encoding="utf-8")
    assert read_table(p).rows == [["x"]]
    p.write_text('{"header": ["a"],\n "rows": [["x"]]', encoding="utf-8")
    with pytest.raises(TableFormatError, match="line 2"):
        read_json(p)


def test_dataframe():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "n": [1, 2, 3],
            "x": [1.5, float("nan"), 2.0],
            "s": ["1,370", "—", "12"],
            "when": pd.to_datetime(["2001-03-05", None, "2002-01-01"]),
            "flag": [True, False, True],
            "label": ["a", None, "c"],
        }
    )
    t = from_dataframe(df, name="df")
    assert t.types == ("integer", "real", "integer", "date", "text", "text")
    assert t.rows == [
        [1, 1.5, 1370, "2001-03-05", "True", "a"],
        [2, None, None, None, "False", None],
        [3, 2.0, 12, "2002-01-01", "True", "c"],
    ]
    assert t.column_texts(2) == ("1,370", "—", "12") and t.name == "df"
    t = from_dataframe(df, infer=False)
    assert t.types[2] == "text" and t.column(2) == ["1,370", "—", "12"]
    with pytest.raises(TableError, match="no data rows"):
        from_dataframe(df.iloc[:0])
    with pytest.raises(TableError, match="DataFrame"):
        from_dataframe([[1]])


def test_read_table_dispatch_and_dir(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "201-csv").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "b.csv").write_text('a,b\n1,"x ""q"""\n', encoding="utf-8")
    (tmp_path / "sub" / "c.html.csv").write_text("a#b\n1#x\n", encoding="utf-8")
    (tmp_path / "201-csv" / "5.csv").write_text('"a","b"\n"1","x \\"q\\""\n', encoding="utf-8")
    (tmp_path / "a.tsv").write_text("a\tb\n1\tx\\pq\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a table", encoding="utf-8")
    (tmp_path / ".hidden" / "h.csv").write_text("a\n1\n", encoding="utf-8")
    tables = read_table_dir(tmp_path)
    assert [t.name for t in tables] == ["201-csv/5.csv", "a.tsv", "b.csv", "sub/c.html.csv"]
    assert [t.rows for t in tables] == [[[1, 'x "q"']], [[1, "x|q"]], [[1, 'x "q"']], [[1, "x"]]]
    assert [t.name for t in read_table_dir(tmp_path, suffixes=[".csv"])] == [
        "201-csv/5.csv", "b.csv", "sub/c.html.csv",
    ]
    with pytest.raises(TableFormatError, match="unsupported table file"):
        read_table(tmp_path / "notes.txt")


def test_read_table_dir_one_per_stem(tmp_path):
    rows = [["a", "b"], ["1", "x"]]
    d = tmp_path / "204-csv"
    d.mkdir()
    (d / "7.csv").write_text(_wtq_csv(rows), encoding="utf-8")
    (d / "7.tsv").write_text(_wtq_tsv(rows), encoding="utf-8")
    (d / "7.table").write_text("| a | b |\n| 1 | x |\n", encoding="utf-8")
    (d / "8.tsv").write_text(_wtq_tsv(rows), encoding="utf-8")
    (d / "8.table").write_text("| a | b |\n| 1 | x |\n", encoding="utf-8")
    (tmp_path / "7.tsv").write_text(_wtq_tsv(rows), encoding="utf-8")  # another folder
    (tmp_path / "t.csv").write_text("a\n1\n", encoding="utf-8")
    (tmp_path / "t.html.csv").write_text("a#b\n1#x\n", encoding="utf-8")  # stem "t" too
    assert len(read_table_dir(tmp_path)) == 8
    tables = read_table_dir(tmp_path, one_per_stem=True)
    assert [t.name for t in tables] == ["204-csv/7.csv", "204-csv/8.table", "7.tsv", "t.csv"]
    assert all(t.rows == [[1, "x"]] for t in tables[:3]) and tables[3].rows == [[1]]
    # suffixes filter first, then one file per stem among those left
    tables = read_table_dir(tmp_path, suffixes=[".tsv", ".table"], one_per_stem=True)
    assert [t.name for t in tables] == ["204-csv/7.table", "204-csv/8.table", "7.tsv"]


# ----------------------------------------------------------------------------- bad input (issue 16)
def test_table_dir_does_not_follow_a_link_out_of_the_directory(tmp_path):
    outside = tmp_path / "outside.tsv"
    outside.write_text("user\tshell\nroot\t/bin/sh\n", encoding="utf-8")
    d = tmp_path / "tables"
    d.mkdir()
    (d / "a.csv").write_text("a,b\n1,x\n", encoding="utf-8")
    (d / "inside.tsv").symlink_to(d / "a.csv")  # a link inside the directory is fine
    assert [t.name for t in read_table_dir(d)] == ["a.csv", "inside.tsv"]
    (d / "link.tsv").symlink_to(outside)
    with pytest.raises(TableFormatError, match=r"link\.tsv is a symbolic link to .*outside\.tsv, outside the "
                                               r"table directory.*copy the table"):
        read_table_dir(d)


def test_fifo_is_refused_instead_of_read(tmp_path):
    import os

    import threading

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)

    def feed():  # were the FIFO opened, a writer comes after 3 s, so the test fails, not hangs
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # no reader: the FIFO was refused, as it should be
            return
        os.write(fd, b"a\n1\n")
        os.close(fd)

    timer = threading.Timer(3.0, feed)
    timer.daemon = True
    timer.start()
    try:
        with pytest.raises(TableFormatError, match="pipe.csv is not a regular file"):
            read_table(fifo)
    finally:
        timer.cancel()
    with pytest.raises(TableFormatError, match="not a regular file"):
        read_table_dir(tmp_path)


def test_csv_cells_as_long_as_tsv_and_jsonl_cells(tmp_path):
    import csv

    long = "x" * 300_000  # over the csv module's default limit of 131,072 characters
    (tmp_path / "t.csv").write_text(f"a,b\n1,{long}\n", encoding="utf-8")
    assert read_csv(tmp_path / "t.csv").rows == [[1, long]]
    assert csv.field_size_limit() == 131072  # the process-wide limit is left as it was


def test_jsonl_lone_surrogate_and_deep_nesting_name_the_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('["a", "b"]\n["1", "x\\ud800y"]\n', encoding="utf-8")
    with pytest.raises(TableFormatError, match=r"t\.jsonl, line 2: a string holds a lone surrogate"):
        read_jsonl(path)
    path.write_text('["a", "b"]\n["1", "\\ud83d\\ude00"]\n', encoding="utf-8")  # a valid pair
    assert read_jsonl(path).rows == [[1, "\U0001F600"]]
    path.write_text('["a"]\n' + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(TableFormatError, match=r"t\.jsonl, line 2: JSON nested too deeply"):
        read_jsonl(path)
    whole = tmp_path / "t.json"
    whole.write_text('{"header": ["a"], "rows": [["\\udc00"]]}', encoding="utf-8")
    with pytest.raises(TableFormatError, match="lone surrogate"):
        read_json(whole)


def test_import_pulls_in_no_heavy_frameworks():
    code = (
        "import sys, symjax.sql.io; "
        "bad = [m for m in ('tensorflow', 'jax', 'pandas', 'torch') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


# ---------------------------------------------------------------------------- real data
def _data_dir(*parts: str) -> Path:
    d = DATA.joinpath(*parts)
    if not d.is_dir():
        pytest.skip(f"real data samples not found at {d}")
    return d


@pytest.fixture(scope="module")
def wtq_tables():
    root = _data_dir("wtq")
    tables = {t.name: t for t in read_table_dir(root / "csv")}
    assert tables, f"no WTQ tables under {root / 'csv'}"
    return tables


def _norm_rows(table):
    # the WTQ .csv and .tsv of one table differ in a few whitespace characters
    # (non-breaking spaces, doubled spaces); compare with whitespace collapsed
    return [[" ".join(v.split()) if isinstance(v, str) else v for v in r] for r in table.rows]


def test_every_wtq_table_loads_and_formats_agree(wtq_tables):
    csvs = sorted(n for n in wtq_tables if n.endswith(".csv"))
    assert len(csvs) == 271 and len(wtq_tables) == 3 * len(csvs)
    exact = 0
    for name in csvs:
        c, t = wtq_tables[name], wtq_tables[name[:-4] + ".tsv"]
        assert c.header == t.header, name
        assert c.types == t.types, name
        assert _norm_rows(c) == _norm_rows(t), name
        exact += c.rows == t.rows
        table = wtq_tables[name[:-4] + ".table"]  # lossy format: same header and shape
        assert table.header == c.header and table.num_rows == c.num_rows, name
    assert exact >= 0.8 * len(csvs)


def test_wtq_known_table(wtq_tables):
    t = wtq_tables["204-csv/535.csv"]
    assert t.header == ("Pos", "Rider", "Manufacturer", "Laps", "Time/Retired", "Grid", "Points")
    # "Pos" ends with "Ret" and "DNQ" rows, so it stays text; "Points" is blank below 15th
    assert t.types == ("text", "text", "text", "integer", "text", "integer", "integer")
    assert t.column(0)[:2] == ["1", "2"] and t.column(0)[-1] == "DNQ"
    assert t.column(6)[:2] == [25, 20] and t.column(6)[-1] is None
    t = wtq_tables["200-csv/22.csv"]
    assert t.header[2] == "Peak chart positions GER"
    assert t.column(1)[0] == '"Memo from Turner"' and t.column(2)[1] is None
    assert t.column_texts(2)[1] == "—"


def test_every_tabfact_table_loads():
    root = _data_dir("tabfact", "all_csv")
    tables = read_table_dir(root)
    files = sorted(p.name for p in root.glob("*.html.csv"))
    assert [t.name for t in tables] == files and len(files) == 120
    for t in tables:
        assert t.num_rows >= 1 and t.num_columns >= 1
        assert not any(isinstance(v, str) and "\r" in v for r in t.rows for v in r), t.name


def test_real_column_type_counts(wtq_tables):
    tabfact = read_table_dir(_data_dir("tabfact", "all_csv"))
    wtq = collections.Counter(ty for n, t in wtq_tables.items() if n.endswith(".csv") for ty in t.types)
    tf = collections.Counter(ty for t in tabfact for ty in t.types)
    print(f"\nWTQ (271 tables) column types: {dict(wtq)}\nTabFact (120 tables): {dict(tf)}")
    for counts in (wtq, tf):
        assert set(counts) == {"text", "integer", "real", "date"}
        assert counts["integer"] >= 0.2 * sum(counts.values())


def test_wtq_one_per_stem_reads_each_table_once():
    root = _data_dir("wtq", "csv")
    tables = read_table_dir(root, one_per_stem=True)
    names = [t.name for t in tables]
    assert len(tables) == 271 and all(n.endswith(".csv") for n in names)
    assert names == sorted(names) and len({n[:-4] for n in names}) == 271
