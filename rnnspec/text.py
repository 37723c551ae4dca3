"""Plain-text and Markdown tables for the command line and the README."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["markdown_table", "table"]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A left-aligned, space-separated table with a rule under the header."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table; pipes inside cells are escaped."""

    def cells(line: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in line) + " |"

    return "\n".join([cells(header), "|" + "---|" * len(header), *map(cells, rows)])
