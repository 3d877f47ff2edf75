"""Tables from the HTML "xls" files many office systems export, with rowspan/colspan kept as merges."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

Grid = list[list[object]]
MergedList = list[tuple[tuple[int, int], tuple[int, int]]]

_CHARSET = re.compile(rb"""charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
MAX_SPAN = 1000


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[tuple[Grid, MergedList]] = []
        self._stack: list[dict] = []  # nested tables: the innermost is current

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._stack.append({"rows": [], "merged": [], "occupied": set(), "row": None, "cell": None})
        elif not self._stack:
            return
        elif tag == "tr":
            table = self._stack[-1]
            table["rows"].append([])
            table["row"] = len(table["rows"]) - 1
        elif tag in ("td", "th"):
            table = self._stack[-1]
            if table["row"] is None:
                table["rows"].append([])
                table["row"] = len(table["rows"]) - 1
            spans = dict(attrs)
            table["cell"] = {
                "text": [],
                "rowspan": _span(spans.get("rowspan")),
                "colspan": _span(spans.get("colspan")),
            }
        elif tag == "br" and self._stack[-1]["cell"] is not None:
            self._stack[-1]["cell"]["text"].append("\n")

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            return
        table = self._stack[-1]
        if tag in ("td", "th") and table["cell"] is not None:
            self._close_cell(table)
        elif tag == "tr":
            if table["cell"] is not None:
                self._close_cell(table)
            table["row"] = None
        elif tag == "table":
            if table["cell"] is not None:
                self._close_cell(table)
            self._stack.pop()
            self.tables.append((table["rows"], table["merged"]))

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1]["cell"] is not None:
            self._stack[-1]["cell"]["text"].append(data)

    def _close_cell(self, table: dict) -> None:
        cell = table["cell"]
        table["cell"] = None
        r = table["row"]
        rows, occupied = table["rows"], table["occupied"]
        row = rows[r]
        c = len(row)
        while (r, c) in occupied:
            c += 1
        text = re.sub(r"[ \t\r\f\v\xa0]+", " ", "".join(cell["text"])).strip()
        text = re.sub(r" ?\n ?", "\n", text)
        for rr in range(r, r + cell["rowspan"]):
            for cc in range(c, c + cell["colspan"]):
                occupied.add((rr, cc))
        while len(row) < c:
            row.append("")
        row.append(text)
        for _ in range(cell["colspan"] - 1):
            row.append("")
        if cell["rowspan"] > 1 or cell["colspan"] > 1:
            table["merged"].append(((r, c), (r + cell["rowspan"] - 1, c + cell["colspan"] - 1)))
        for rr in range(r + 1, r + cell["rowspan"]):
            while len(rows) <= rr:
                rows.append([])


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), MAX_SPAN))
    except ValueError:
        return 1


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", "replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", "replace")
    declared = _CHARSET.search(raw[:4096])
    candidates = [declared.group(1).decode("ascii", "ignore")] if declared else []
    for encoding in [*candidates, "utf-8", "gb18030"]:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("gb18030", "replace")


def read_html_tables(path: Path) -> list[tuple[Grid, MergedList]]:
    parser = _TableParser()
    parser.feed(_decode(path.read_bytes()))
    parser.close()
    tables = []
    for rows, merged in parser.tables:
        width = max((len(r) for r in rows), default=0)
        tables.append(([r + [""] * (width - len(r)) for r in rows], merged))
    return tables
