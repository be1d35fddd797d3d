"""Tables for notebooks and the report: one helper builds every markdown table.

A cell may be a string, a number (shown with `digits` decimals), a `stats.Estimate` (its value with the 95%
interval, `71.4 [65.2, 77.0]`) or None (`-`, nothing to show: a number the paper does not give, say).

    >>> print(markdown_table(["task", "ours (%)", "paper (%)"], [["camera", 71.42, 97.5], ["manipulation", 99.0, None]]))
    | task | ours (%) | paper (%) |
    |---|---|---|
    | camera | 71.4 | 97.5 |
    | manipulation | 99.0 | - |
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["markdown_table", "format_cell"]


def format_cell(value, *, digits: int = 1) -> str:
    """One cell as text: see the module docstring."""
    from .stats import Estimate

    if value is None:
        return "-"
    if isinstance(value, Estimate):
        if not value.has_interval:
            return f"{value.value:.{digits}f}"
        return f"{value.value:.{digits}f} [{value.low:.{digits}f}, {value.high:.{digits}f}]"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) or hasattr(value, "__float__"):
        number = float(value)
        return "-" if math.isnan(number) else f"{number:.{digits}f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence], *, digits: int = 1) -> str:
    """A markdown table of `rows` under `columns` (every row as long as `columns`), without a final newline.

    Raises:
        ValueError: no columns, or a row of another length than `columns`.
    """
    columns = [str(c) for c in columns]
    if not columns:
        raise ValueError("Expected at least one column. Received: none")
    lines = ["| " + " | ".join(format_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    for i, row in enumerate(rows):
        row = list(row)
        if len(row) != len(columns):
            raise ValueError(f"Expected rows of {len(columns)} cells ({', '.join(columns)}). Received row {i}: {row!r}")
        lines.append("| " + " | ".join(format_cell(v, digits=digits) for v in row) + " |")
    return "\n".join(lines)
