import pytest

import forensiclib as fl
from forensiclib.tables import format_cell, markdown_table


def test_cells_show_numbers_intervals_and_missing_values():
    assert format_cell(71.4249) == "71.4" and format_cell(71.4249, digits=2) == "71.42"
    assert format_cell(fl.Estimate(71.42, 65.2, 77.0, 36)) == "71.4 [65.2, 77.0]"
    assert format_cell(None) == "-" and format_cell(float("nan")) == "-" and format_cell(12) == "12"
    assert format_cell("a|b") == "a\\|b"


def test_a_table_has_a_header_a_rule_and_one_line_per_row():
    text = markdown_table(["task", "ours"], [["camera", 50.0], ["manipulation", None]])
    assert text.splitlines() == ["| task | ours |", "|---|---|", "| camera | 50.0 |", "| manipulation | - |"]


def test_rows_of_the_wrong_length_and_empty_headers_are_refused():
    with pytest.raises(ValueError, match=r"Expected rows of 2 cells \(task, ours\). Received row 1: \['x'\]"):
        markdown_table(["task", "ours"], [["a", 1.0], ["x"]])
    with pytest.raises(ValueError, match="Expected at least one column"):
        markdown_table([], [])
