"""Tests of symjax.sql.infer: the type and value of a text cell and of a column of cells."""
from __future__ import annotations

import doctest

import pytest

from symjax.sql import infer
from symjax.sql.infer import infer_cell, infer_column


@pytest.mark.parametrize(
    "text, expected",
    [
        # integers
        ("1370", ("integer", 1370)),
        ("1,370", ("integer", 1370)),
        ("  42 ", ("integer", 42)),
        ("−5", ("integer", -5)),
        ("-5", ("integer", -5)),
        ("+5", ("integer", 5)),
        ("0012", ("integer", 12)),
        ("2001", ("integer", 2001)),
        ("1,234,567", ("integer", 1234567)),
        ("£1,000", ("integer", 1000)),
        ("-$5", ("integer", -5)),
        ("48%", ("integer", 48)),
        # reals
        ("3.5", ("real", 3.5)),
        ("1,234.5", ("real", 1234.5)),
        ("48.4%", ("real", 48.4)),
        ("48.4 %", ("real", 48.4)),
        (".600", ("real", 0.6)),
        ("+0.019", ("real", 0.019)),
        ("−2.5", ("real", -2.5)),
        ("$1.5 million", ("real", 1500000.0)),
        ("$1.56 billion", ("real", 1.56e9)),
        ("2 thousand", ("real", 2000.0)),
        ("€3 Million", ("real", 3e6)),
        ("¥12.25", ("real", 12.25)),
        # dates
        ("2001-03-05", ("date", "2001-03-05")),
        ("2001/03/05", ("date", "2001-03-05")),
        ("March 5, 2001", ("date", "2001-03-05")),
        ("Mar. 5, 2001", ("date", "2001-03-05")),
        ("Mar 5, 2001", ("date", "2001-03-05")),
        ("Sept. 30, 1998", ("date", "1998-09-30")),
        ("5 March 2001", ("date", "2001-03-05")),
        ("march 5 , 2001", ("date", "2001-03-05")),
        ("2000-02-29", ("date", "2000-02-29")),
        # nulls
        ("", (None, None)),
        ("   ", (None, None)),
        ("-", (None, None)),
        ("--", (None, None)),
        ("—", (None, None)),
        ("–", (None, None)),
        ("−", (None, None)),
        ("‐", (None, None)),
        ("n/a", (None, None)),
        ("N/A", (None, None)),
        ("n / a", (None, None)),
        ("?", (None, None)),
    ],
)
def test_infer_cell_golden(text, expected):
    kind, value = infer_cell(text)
    assert (kind, value) == expected
    if kind == "real":
        assert isinstance(value, float)
    if kind == "integer":
        assert isinstance(value, int)


@pytest.mark.parametrize(
    "text",
    [
        "1,37", "1.2.3", "12a", "1e3", "5.", "1,370 lb (635 kg)", "0,123", "1 370",
        "$5%", "$-5", "٣", "99999999999999999999", "2001-3-5", "2001-03/05", "03/05/2001",
        "February 30, 2001", "March 2001", "March 52001", "Foo 5, 2001", "none", "NA",
        "unknown", "Total", "41:18.211", "2009 - 10", "1 million dollars", "(5)",
    ],
)
def test_infer_cell_text(text):
    assert infer_cell(text) == ("text", text)


def test_infer_cell_keeps_text_unchanged_and_rejects_non_str():
    assert infer_cell("  Paris \n") == ("text", "  Paris \n")
    with pytest.raises(TypeError, match="takes a str"):
        infer_cell(3)



def test_module_docstring_examples():
    result = doctest.testmod(infer)
    assert result.attempted >= 10 and result.failed == 0


def test_infer_column():
    assert infer_column(["1", "—", "1,370", ""]) == ("integer", [1, None, 1370, None])
    assert infer_column(["1", "2.5", "n/a"]) == ("real", [1.0, 2.5, None])
    assert infer_column(["March 5, 2001", "2001-03-06", "-"]) == ("date", ["2001-03-05", "2001-03-06", None])
    # a text column keeps every cell's exact original text; only blank cells are NULL
    assert infer_column([" 1 ", "—", "x", "", "  "]) == ("text", [" 1 ", "—", "x", None, None])
    assert infer_column(["2001", "March 5, 2001"]) == ("text", ["2001", "March 5, 2001"])
    # no non-NULL cell: text
    assert infer_column(["—", "-"]) == ("text", ["—", "-"])
    assert infer_column(["", ""]) == ("text", [None, None])
    assert infer_column([]) == ("text", [])
