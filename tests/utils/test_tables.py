"""The one markdown-table helper: cells exactly as given, alignment colons where asked."""

from __future__ import annotations

import pytest

from yolox.utils.tables import markdown_table

HEADERS = ["model", "+params", "GFLOPs", "ratio"]
ROWS = [["yolox-nano", "1,234", "0.10", "+0.0000"], ["s", 0, "1.230", "-"]]


def _cells(line: str) -> list:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_cells_read_back_exactly_as_written():
    lines = markdown_table(HEADERS, ROWS).splitlines()
    assert _cells(lines[0]) == HEADERS
    assert set(lines[1]) <= {"|", "-"}  # a plain rule: no alignment asked
    # no re-formatting of numbers: "0.10", "+0.0000", "1,234" stay as the caller rounded them
    assert [_cells(line) for line in lines[2:]] == [[str(c) for c in row] for row in ROWS]
    assert len({len(line) for line in lines}) == 1  # padded: the columns line up


def test_alignment_colons_follow_the_letters():
    lines = markdown_table(HEADERS, ROWS, "lrrc").splitlines()
    rule = _cells(lines[1])
    assert rule[0].startswith(":") and not rule[0].endswith(":")
    assert all(c.endswith(":") and not c.startswith(":") for c in rule[1:3])
    assert rule[3].startswith(":") and rule[3].endswith(":")
    assert [_cells(line) for line in lines[2:]] == [[str(c) for c in row] for row in ROWS]


def test_empty_table_and_bad_alignment():
    assert _cells(markdown_table(["a", "b"], []).splitlines()[0]) == ["a", "b"]
    with pytest.raises(ValueError, match="one of l/r/c per column"):
        markdown_table(HEADERS, ROWS, "lr")
    with pytest.raises(ValueError, match="one of l/r/c per column"):
        markdown_table(HEADERS, ROWS, "lrrx")
