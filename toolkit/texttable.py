"""Plain-text tables for the terminal: columns aligned by display width (a CJK character takes two).

Kept apart from toolkit.history so that printing a table (``ledger stats --by unit``) does not import
the history store (sqlite3, hashlib) on the way.
"""

from __future__ import annotations


def display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [display_width(h) for h in headers]
    for row in rows:
        widths = [max(w, display_width(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c + " " * (w - display_width(c)) for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])
