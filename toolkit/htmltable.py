"""Tables from the HTML "xls" files many office systems export, with rowspan/colspan kept as merges.

Such a file is untrusted input like any workbook: its size, the number of cells its spans
create, the nesting depth and the number of tables are bounded, and DTD entities are never
expanded (only HTML character references are). The page is split into tags and text by one
regular expression with bounded tag length, so every input is read in linear time — the
standard library's HTMLParser is quadratic on inputs such as "</</</…" in Python 3.11.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from toolkit.errors import UnsafeFileError
from toolkit.guard import MAX_CELLS  # the cells a grid may have (colspans included), as for a workbook

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
MAX_COVERED = 2_000_000  # rows reached by rowspans (a 100k-row export merging 3 columns needs 300k)
MAX_DEPTH = 50  # nested tables deeper than this are read as text
MAX_TABLES = 1000
MAX_HTML_BYTES = 64 << 20  # a 100k-row export is about 25 MB


class _Table:
    __slots__ = ("cell", "covered", "merged", "row", "rows", "taken")

    def __init__(self) -> None:
        self.rows: Grid = []
        self.merged: MergedList = []
        self.covered: dict[int, list[tuple[int, int]]] = {}  # row -> column ranges a rowspan above takes
        self.row: int | None = None  # index of the open <tr>
        self.cell: dict | None = None
        self.taken: list[tuple[int, int]] = []  # the open row's covered ranges, consumed left to right


# a comment, a script/style element, a declaration or processing instruction, or a tag whose
# attributes fit in 4 KB; anything else is text. No repeat can run past a "<", so a failed
# attempt costs at most the distance to the next "<" and the whole scan stays linear.
_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style)\b.*?(?:</\1\s*>|\Z)"
    r"|<[!?][^<>]{0,4096}>"
    r"|<(/?)([a-zA-Z][a-zA-Z0-9:]{0,32})((?:[^<>\"']|\"[^<\"]{0,4096}\"|'[^<']{0,4096}'){0,4096})/?>",
    re.DOTALL | re.IGNORECASE,
)
_SPAN_ATTR = re.compile(r"""\b(rowspan|colspan)\s*=\s*["']?\s*(\d{1,9})""", re.IGNORECASE)
_STRUCTURE = frozenset({"table", "tr", "td", "th", "br", "p", "div"})


class _TableParser:
    def __init__(self, name: str) -> None:
        self.name = name
        self.tables: list[tuple[Grid, MergedList]] = []
        self._stack: list[_Table] = []  # nested tables: the innermost is current
        self._ignored_depth = 0
        self._cells = 0
        self._covered = 0
        self._opened = 0

    def feed(self, text: str) -> None:
        """Walk the page's tags and text once; only table structure and cell text matter."""
        pos = 0
        stack = self._stack
        for m in _TOKEN.finditer(text):
            start = m.start()
            if start > pos and stack and stack[-1].cell is not None:
                self.handle_data(text[pos:start])
            pos = m.end()
            tag = m.group(3)
            if tag is None:
                continue  # comment, script, style, declaration
            tag = tag.lower()
            if tag in _STRUCTURE:
                if m.group(2):
                    self.handle_endtag(tag)
                else:
                    self.handle_starttag(tag, m.group(4))
        if pos < len(text) and stack and stack[-1].cell is not None:
            self.handle_data(text[pos:])

    def close(self) -> None:
        while self._stack:  # tables left open at the end of the page
            self.handle_endtag("table")

    def handle_starttag(self, tag: str, attrs: str) -> None:
        if tag == "table":
            self._opened += 1
            if self._opened > MAX_TABLES * 10:
                raise UnsafeFileError(
                    f"网页格式文件“{self.name}”含有超过 {MAX_TABLES * 10:,} 个表格，不像是台账导出文件，"
                    "可能是损坏或恶意文件，已停止读取。"
                )
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
            self._enter_row(table, len(table.rows) if table.row is None else table.row + 1)
        elif tag in ("td", "th"):
            if table.cell is not None:
                self._close_cell(table)  # an unclosed <td> ends at the next one
            if table.row is None:
                self._enter_row(table, len(table.rows))
            rowspan = colspan = 1
            if "span" in attrs or "SPAN" in attrs or "Span" in attrs:
                spans = {k.lower(): v for k, v in _SPAN_ATTR.findall(attrs)}
                rowspan, colspan = _span(spans.get("rowspan")), _span(spans.get("colspan"))
            table.cell = {"text": [], "rowspan": rowspan, "colspan": colspan}
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
            self._stack[-1].cell["text"].append(html.unescape(data) if "&" in data else data)

    def _enter_row(self, table: _Table, index: int) -> None:
        table.row = index
        self._ensure_row(table, index)
        table.taken = sorted(table.covered.pop(index, ()), reverse=True)

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
        taken = table.taken
        while taken and taken[-1][0] <= c:  # ranges sorted descending: the nearest is last
            _first, last = taken.pop()
            if last >= c:
                c = last + 1
        rowspan, colspan = cell["rowspan"], cell["colspan"]
        self._cells += c - len(row) + colspan
        self._covered += rowspan - 1
        if self._cells > MAX_CELLS or self._covered > MAX_COVERED:
            raise UnsafeFileError(
                f"网页格式文件“{self.name}”中的表格合并跨度异常庞大（超过 {MAX_CELLS:,} 个单元格），"
                "可能是损坏或恶意文件，已停止读取。"
            )
        text = "".join(cell["text"])
        if not text.isprintable() or "  " in text:  # line breaks, tabs, nbsp, runs of spaces
            text = _BREAKS.sub("\n", _SPACES.sub(" ", text))
        text = text.strip()
        while len(row) < c:
            row.append("")
        row.append(text)
        row.extend([""] * (colspan - 1))
        if rowspan > 1 or colspan > 1:
            table.merged.append(((r, c), (r + rowspan - 1, c + colspan - 1)))
        for rr in range(r + 1, r + rowspan):
            table.covered.setdefault(rr, []).append((c, c + colspan - 1))
        if rowspan > 1:
            self._ensure_row(table, r + rowspan - 1)


def _span(value: str | None) -> int:
    return max(1, min(int(value or 1), MAX_SPAN))


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
