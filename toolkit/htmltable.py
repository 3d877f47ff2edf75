"""Tables from the HTML "xls" files many office systems export, with rowspan/colspan kept as merges.

Such a file is untrusted input like any workbook: its size, the number of cells its spans
create, the nesting depth and the number of tables are bounded, and DTD entities are never
expanded (HTMLParser only knows the HTML character references).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from toolkit.errors import UnsafeFileError

Grid = list[list[object]]
MergedList = list[tuple[tuple[int, int], tuple[int, int]]]

_CHARSET = re.compile(rb"""charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
# labels a page declares but whose bytes are really a superset: GBK systems write gb2312 and use 珺, 镕 …
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
              "csgb2312": "gb18030", "euc-cn": "gb18030", "big5": "big5hkscs", "iso-8859-1": "cp1252",
              "ascii": "utf-8", "us-ascii": "utf-8", "unicode": "utf-16"}  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v\xa0\u3000]+")
_BREAKS = re.compile(r" ?\n ?")
MAX_SPAN = 1000
MAX_CELLS = 20_000_000  # grid cells all tables together may create (spans included)
MAX_DEPTH = 50  # nested tables deeper than this are read as text
MAX_TABLES = 1000
MAX_HTML_BYTES = 256 << 20


class _Table:
    __slots__ = ("cell", "covered", "merged", "row", "rows")

    def __init__(self) -> None:
        self.rows: Grid = []
        self.merged: MergedList = []
        self.covered: set[tuple[int, int]] = set()  # cells taken by a rowspan from a row above
        self.row: int | None = None  # index of the open <tr>
        self.cell: dict | None = None


class _TableParser(HTMLParser):
    def __init__(self, name: str) -> None:
        super().__init__(convert_charrefs=True)
        self.name = name
        self.tables: list[tuple[Grid, MergedList]] = []
        self._stack: list[_Table] = []  # nested tables: the innermost is current
        self._ignored_depth = 0
        self._cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            if len(self._stack) >= MAX_DEPTH:
                self._ignored_depth += 1
            else:
                self._stack.append(_Table())
            return
        if not self._stack:
            return
        table = self._stack[-1]
        if tag == "tr":
            if table.cell is not None:
                self._close_cell(table)
            table.row = len(table.rows) if table.row is None else table.row + 1
            self._ensure_row(table, table.row)
        elif tag in ("td", "th"):
            if table.cell is not None:
                self._close_cell(table)  # an unclosed <td> ends at the next one
            if table.row is None:
                table.row = len(table.rows)
                self._ensure_row(table, table.row)
            spans = dict(attrs)
            table.cell = {
                "text": [],
                "rowspan": _span(spans.get("rowspan")),
                "colspan": _span(spans.get("colspan")),
            }
        elif tag in ("br", "p", "div") and table.cell is not None and (tag == "br" or table.cell["text"]):
            table.cell["text"].append("\n")

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            return
        table = self._stack[-1]
        if tag in ("td", "th") and table.cell is not None:
            self._close_cell(table)
        elif tag == "tr":
            if table.cell is not None:
                self._close_cell(table)
        elif tag == "table":
            if self._ignored_depth:
                self._ignored_depth -= 1
                return
            if table.cell is not None:
                self._close_cell(table)
            self._stack.pop()
            if any(any(v != "" for v in row) for row in table.rows) and len(self.tables) < MAX_TABLES:
                self.tables.append((table.rows, table.merged))

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1].cell is not None:
            self._stack[-1].cell["text"].append(data)

    def _ensure_row(self, table: _Table, index: int) -> None:
        while len(table.rows) <= index:
            table.rows.append([])

    def _close_cell(self, table: _Table) -> None:
        cell = table.cell
        table.cell = None
        r = table.row
        assert cell is not None and r is not None
        row = table.rows[r]
        c = len(row)
        while (r, c) in table.covered:
            c += 1
        rowspan, colspan = cell["rowspan"], cell["colspan"]
        self._cells += max(c - len(row), 0) + colspan * rowspan
        if self._cells > MAX_CELLS:
            raise UnsafeFileError(
                f"网页格式文件“{self.name}”中的表格合并跨度异常庞大（超过 {MAX_CELLS:,} 个单元格），"
                "可能是损坏或恶意文件，已停止读取。"
            )
        text = _BREAKS.sub("\n", _SPACES.sub(" ", "".join(cell["text"]))).strip()
        while len(row) < c:
            row.append("")
        row.append(text)
        row.extend([""] * (colspan - 1))
        if rowspan > 1 or colspan > 1:
            table.merged.append(((r, c), (r + rowspan - 1, c + colspan - 1)))
        for rr in range(r + 1, r + rowspan):
            for cc in range(c, c + colspan):
                table.covered.add((rr, cc))
        if rowspan > 1:
            self._ensure_row(table, r + rowspan - 1)


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(str(value).strip().strip("\"'") or 1), MAX_SPAN))
    except ValueError:
        return 1


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", "replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", "replace")
    declared = _CHARSET.search(raw[:4096])
    candidates = []
    if declared:
        label = declared.group(1).decode("ascii", "ignore").lower()
        candidates.append(_SUPERSETS.get(label, label))
    for encoding in [*candidates, "utf-8", "gb18030"]:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("gb18030", "replace")


def read_html_tables(path: Path) -> list[tuple[Grid, MergedList]]:
    """Every non-empty table in the page, innermost first, each padded to a rectangle."""
    size = path.stat().st_size
    if size > MAX_HTML_BYTES:
        raise UnsafeFileError(
            f"网页格式文件“{path.name}”有 {size >> 20} MB，远超台账应有的大小，已停止读取；"
            "请从系统重新导出为 Excel 文件（.xlsx）。"
        )
    parser = _TableParser(path.name)
    parser.feed(_decode(path.read_bytes()))
    parser.close()
    tables = []
    for rows, merged in parser.tables:
        width = max((len(r) for r in rows), default=0)
        if width * len(rows) > MAX_CELLS:
            raise UnsafeFileError(
                f"网页格式文件“{path.name}”中的表格有 {len(rows):,} 行、{width:,} 列，远超台账应有的大小，"
                "可能是损坏或恶意文件，已停止读取。"
            )
        for r in rows:
            if len(r) < width:
                r.extend([""] * (width - len(r)))
        tables.append((rows, merged))
    return tables
