"""Markdown tables for reports and benchmark results: one helper over ``tabulate``.

Cells are written as given (``str()`` of each; numbers are formatted by the caller, so a table
shows exactly the digits its JSON twin rounds to: tabulate's own number parsing is off).
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

from tabulate import tabulate

__all__ = ["markdown_table"]

_ALIGN = {"l": "left", "r": "right", "c": "center"}


def markdown_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], align: Optional[str] = None
) -> str:
    """A GitHub markdown table of ``rows`` under ``headers``.

    ``align``: one letter per column, ``l``/``r``/``c`` (e.g. ``"llrr"``), written as the
    alignment colons of the rule line; None: a plain rule, every column left-aligned.
    """
    headers = [str(h) for h in headers]
    cells = [[str(c) for c in row] for row in rows]
    if align is None:
        return tabulate(cells, headers=headers, tablefmt="github", disable_numparse=True)
    if len(align) != len(headers) or set(align) - set(_ALIGN):
        raise ValueError(f"align needs one of l/r/c per column ({len(headers)}), got {align!r}")
    return tabulate(
        cells,
        headers=headers,
        tablefmt="pipe",
        colalign=[_ALIGN[a] for a in align],
        disable_numparse=True,
    )
