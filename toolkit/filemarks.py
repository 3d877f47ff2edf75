"""``ledger validate --mark`` / ``ledger clear``: validation marks written into the workbook file itself.

The marks match the 校验台账 button: a fill on each faulty cell (errors light red FFC7CE, warnings light
yellow FFEB9C, info none), a note on it with the message(s) by author "整改台账工具箱", and a 校验结果
sheet with one row per finding linking to its cell.

Everything is an exact, recorded patch of the package (see ``toolkit.ooxml``): the record, kept in a
custom XML part of the workbook, lists each cell's original style index and every element we added, so a
re-run first undoes the previous marks and ``clear`` gives back the user's bytes. Parts the marks do not
concern are copied unchanged. Anything we cannot patch safely raises ``Unpatchable`` and the marks go to
a copy beside the file instead.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toolkit import ooxml
from toolkit.ooxml import (
    CT_COMMENTS,
    CT_CUSTOM_XML_PROPS,
    CT_VML,
    CT_WORKSHEET,
    CT_XML,
    MAIN_NS,
    RT_COMMENTS,
    RT_CUSTOM_XML,
    RT_CUSTOM_XML_PROPS,
    RT_STYLES,
    RT_VML,
    RT_WORKSHEET,
    Package,
    Unpatchable,
    apply_edits,
    attrs_of,
    xml_attr,
    xml_text,
)

AUTHOR = "整改台账工具箱"
RESULT_SHEET = "校验结果"
FILL_RGB = {"error": "FFFFC7CE", "warning": "FFFFEB9C"}  # info: no fill
SEVERITY_LABELS = {"error": "错误", "warning": "提醒", "info": "提示"}
SEVERITY_RANK = {"error": 2, "warning": 1, "info": 0}
RECORD_NS = "urn:zhenggai-toolkit:marks:1"
RECORD_VERSION = 1
MAX_ROW = 1_048_576
MAX_COL = 16_384


# --------------------------------------------------------------------------- plain data


@dataclass
class CellMark:
    row: int
    col: int  # 1-based
    severity: str
    messages: list[str] = field(default_factory=list)
    ref: str = ""

    def __post_init__(self) -> None:
        self.ref = self.ref or f"{ooxml.col_letters(self.col)}{self.row}"


@dataclass
class MarkStats:
    cells: int = 0  # cells given a fill
    comments: int = 0  # notes added
    skipped_comments: int = 0  # cells that already hold a user comment: fill only
    findings: int = 0  # rows on the 校验结果 sheet
    rows_before: int = 0  # <row> elements of the ledger sheet before / after
    rows_after: int = 0
    sheet_names: list[str] = field(default_factory=list)
    kept_result: str = ""  # the last run's 校验结果 sheet, changed since: left in place


@dataclass
class ClearStats:
    found: bool = False  # a record of earlier marks was present
    cells: int = 0  # cells whose style was restored
    comments: int = 0
    kept_cells: list[str] = field(default_factory=list)  # cells changed by the user since: left alone
    sheet_removed: bool = False
    sheet_kept: str = ""  # our 校验结果 sheet, changed since (or not provably ours): left in place
    styles_trimmed: bool = False
    ledger_sheet: str = ""  # the sheet the record says was marked


def plan_marks(findings: Iterable, max_row: int = MAX_ROW) -> dict[tuple[int, int], CellMark]:
    """Group findings by cell; the worst severity picks the colour. Info alone marks nothing."""
    marks: dict[tuple[int, int], CellMark] = {}
    for f in findings:
        if f.severity not in FILL_RGB or not f.row or not f.column:
            continue
        letters = str(f.column).strip().upper()
        if not re.fullmatch(r"[A-Z]{1,3}", letters):
            continue
        col = ooxml.col_index(letters)
        if not (1 <= int(f.row) <= max_row and 1 <= col <= MAX_COL):
            continue
        key = (int(f.row), col)
        mark = marks.get(key)
        if mark is None:
            mark = marks[key] = CellMark(int(f.row), col, f.severity)
        elif SEVERITY_RANK[f.severity] > SEVERITY_RANK[mark.severity]:
            mark.severity = f.severity
        if f.message and f.message not in mark.messages:
            mark.messages.append(f.message)
    for f in findings:  # info messages join the note of a cell that is marked anyway
        if f.severity == "info" and f.row and f.column:
            key = (int(f.row), ooxml.col_index(str(f.column).strip().upper()))
            if key in marks and f.message not in marks[key].messages:
                marks[key].messages.append(f.message)
    return marks


# --------------------------------------------------------------------------- styles.xml


def _element_bytes(data: bytes, name: str, part: str) -> tuple[int, int, int, list[ooxml.TopElement]]:
    """(open tag start, open tag end, close tag start, children) of the one <name> section."""
    m = re.search(
        rb"<" + name.encode() + rb"\b((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>", data
    )
    if m is None or m.group(2):
        raise Unpatchable(f"样式部件“{part}”中没有可扩展的 {name}")
    close = data.find(b"</" + name.encode() + b">", m.end())
    if close < 0:
        raise Unpatchable(f"样式部件“{part}”不完整")
    return m.start(), m.end(), close, ooxml.top_level_elements(data, m.end(), close)


def set_attr(tag: bytes, name: str, value: str) -> bytes:
    """Set one attribute of a start tag, in place when present, else appended."""
    pat = re.compile(rb"(\s" + re.escape(name.encode()) + rb"\s*=\s*)(\"[^\"]*\"|'[^']*')")
    if pat.search(tag):
        return pat.sub(lambda m: m.group(1) + b'"' + value.encode() + b'"', tag, count=1)
    cut = len(tag) - (2 if tag.endswith(b"/>") else 1)
    return tag[:cut].rstrip() + b" " + name.encode() + b'="' + value.encode() + b'"' + tag[cut:]


DEFAULT_XF = b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'


def fill_xml(rgb: str) -> bytes:
    return (
        f'<fill><patternFill patternType="solid"><fgColor rgb="{rgb}"/><bgColor indexed="64"/>'
        "</patternFill></fill>"
    ).encode()


class StylesPatch:
    """Appends our fills and cloned cell formats to styles.xml, reusing identical ones."""

    def __init__(self, pkg: Package, part: str):
        self.pkg, self.part = pkg, part
        data = pkg.require(part)
        ooxml.refuse_markup_we_cannot_scan(data, part)
        root = ooxml.parse_xml(data, part)
        if root.tag != f"{{{MAIN_NS}}}styleSheet":
            raise Unpatchable(f"样式部件“{part}”无法识别")
        self.data = data
        self.fills = _element_bytes(data, "fills", part)
        self.xfs = _element_bytes(data, "cellXfs", part)
        n_fills = len(root.findall(f"{{{MAIN_NS}}}fills/{{{MAIN_NS}}}fill"))
        n_xfs = len(root.findall(f"{{{MAIN_NS}}}cellXfs/{{{MAIN_NS}}}xf"))
        if (
            n_fills != len(self.fills[3])
            or n_xfs != len(self.xfs[3])
            or any(e.name != "fill" for e in self.fills[3])
            or any(e.name != "xf" for e in self.xfs[3])
        ):
            raise Unpatchable(f"样式部件“{part}”的写法无法安全修改")
        self.fill_bytes = [data[e.start : e.end] for e in self.fills[3]]
        self.xf_bytes = [data[e.start : e.end] for e in self.xfs[3]]
        self.orig_fills, self.orig_xfs = len(self.fill_bytes), len(self.xf_bytes)
        if self.orig_fills < 2:  # Excel reserves the first two fills (none, gray125): ours cannot come first
            raise Unpatchable(f"样式部件“{part}”的填充列表不完整")
        if not self.xf_bytes:  # an empty <cellXfs>: a plain format first, so that our clones have a base
            self.xf_bytes.append(DEFAULT_XF)
        self._fill_for: dict[str, int] = {}
        self._xf_for: dict[tuple[int, str], int] = {}

    def fill_index(self, severity: str) -> int:
        if severity not in self._fill_for:
            raw = fill_xml(FILL_RGB[severity])
            if raw in self.fill_bytes:
                self._fill_for[severity] = self.fill_bytes.index(raw)
            else:
                self.fill_bytes.append(raw)
                self._fill_for[severity] = len(self.fill_bytes) - 1
        return self._fill_for[severity]

    def xf_for(self, base: int, severity: str) -> int:
        """Index of a format equal to ``base`` but with our fill for ``severity``."""
        key = (base, severity)
        if key in self._xf_for:
            return self._xf_for[key]
        if not 0 <= base < self.orig_xfs:
            base = 0
        raw = self.xf_bytes[base]
        m = ooxml.TAG_RE.match(raw)
        if m is None:
            raise Unpatchable("样式写法无法识别")
        tag = raw[: m.end()]
        tag = set_attr(tag, "fillId", str(self.fill_index(severity)))
        tag = set_attr(tag, "applyFill", "1")
        clone = tag + raw[m.end() :]
        if clone in self.xf_bytes:
            index = self.xf_bytes.index(clone)
        else:
            self.xf_bytes.append(clone)
            index = len(self.xf_bytes) - 1
        self._xf_for[key] = index
        return index

    def commit(self) -> dict:
        """Write styles.xml back; return the record needed to take the additions out again."""
        added_fills = self.fill_bytes[self.orig_fills :]
        added_xfs = self.xf_bytes[self.orig_xfs :]
        record = {
            "part": self.part,
            "fills_tag": self.data[self.fills[0] : self.fills[1]].decode(),
            "xfs_tag": self.data[self.xfs[0] : self.xfs[1]].decode(),
            "fills_n": self.orig_fills,
            "xfs_n": self.orig_xfs,
            "added_fills": [b.decode() for b in added_fills],
            "added_xfs": [b.decode() for b in added_xfs],
        }
        if not added_fills and not added_xfs:
            return record
        edits = []
        for (o_start, o_end, close, _), added, total in (
            (self.fills, added_fills, len(self.fill_bytes)),
            (self.xfs, added_xfs, len(self.xf_bytes)),
        ):
            if not added:
                continue
            tag = self.data[o_start:o_end]
            if re.search(rb"\scount\s*=", tag):
                edits.append((o_start, o_end, set_attr(tag, "count", str(total))))
            edits.append((close, close, b"".join(added)))
        self.pkg.set(self.part, apply_edits(self.data, edits))
        return record


_CELL_STYLE = re.compile(rb"<(?:c|row)\s[^>]*?\ss=\"(\d+)\"")
_COL_STYLE = re.compile(rb"<col\s[^>]*?\sstyle=\"(\d+)\"")
# Every value the two patterns above find is also found by these (a superset: texts too), and a pattern
# that starts with a literal is several times faster on an 18 MB sheet than one that starts at each "<".
_ANY_S = re.compile(rb's="(\d+)"')
_ANY_STYLE = re.compile(rb'style="(\d+)"')


def _top(values: Iterable[bytes]) -> int:
    return max(map(int, values), default=-1)


def styles_in_use(pkg: Package, sheet_parts: Iterable[str], below: int | None = None) -> int:
    """Highest cell-format index any worksheet uses (cells, rows, columns); -1 when none.

    With ``below``, a sheet whose every ``s="…"``/``style="…"`` anywhere in its bytes is under ``below``
    is not scanned tag by tag: the answer is then only known to be under ``below`` (enough for a caller
    that asks whether any format from ``below`` on is still in use)."""
    top = -1
    for part in sheet_parts:
        data = pkg.get(part) or b""
        if below is not None:
            bound = max(_top(_ANY_S.findall(data)), _top(_ANY_STYLE.findall(data)))
            if bound < below:
                top = max(top, bound)
                continue
        top = max(top, _top(_CELL_STYLE.findall(data)), _top(_COL_STYLE.findall(data)))
    return top


def trim_styles(pkg: Package, rec: dict, sheet_parts: list[str]) -> bool:
    """Take our added fills/formats out again when nothing uses them any more."""
    part = rec["part"]
    data = pkg.get(part)
    if data is None or (not rec["added_fills"] and not rec["added_xfs"]):
        return False
    try:
        fills = _element_bytes(data, "fills", part)
        xfs = _element_bytes(data, "cellXfs", part)
    except Unpatchable:
        return False
    added_fills = [s.encode() for s in rec["added_fills"]]
    added_xfs = [s.encode() for s in rec["added_xfs"]]
    cur_fills = [data[e.start : e.end] for e in fills[3]]
    cur_xfs = [data[e.start : e.end] for e in xfs[3]]
    if (
        len(cur_fills) != rec["fills_n"] + len(added_fills)
        or len(cur_xfs) != rec["xfs_n"] + len(added_xfs)
        or cur_fills[rec["fills_n"] :] != added_fills
        or cur_xfs[rec["xfs_n"] :] != added_xfs
        or styles_in_use(pkg, sheet_parts, below=rec["xfs_n"]) >= rec["xfs_n"]
    ):
        return False
    edits = []
    for (o_start, o_end, close, children), n, tag in (
        (fills, rec["fills_n"], rec["fills_tag"]),
        (xfs, rec["xfs_n"], rec["xfs_tag"]),
    ):
        if len(children) > n:
            edits.append((o_start, o_end, tag.encode()))
            edits.append((children[n].start, close, b""))
    pkg.set(part, apply_edits(data, edits))
    return True


# --------------------------------------------------------------------------- the ledger sheet's cells


S_VALUE_RE = re.compile(rb"\ss\s*=\s*([\"'])([^\"']*)\1")
R_VALUE_RE = re.compile(rb"\sr\s*=\s*([\"'])[^\"']*\1")


def _new_cell(ref: str, s: int) -> bytes:
    return f'<c r="{ref}" s="{s}"/>'.encode()


def mark_cells(scan: ooxml.SheetScan, marks: dict[tuple[int, int], CellMark], styles: StylesPatch):
    """Edits that give each marked cell our format, plus the record to undo them."""
    edits: list[tuple[int, int, bytes]] = []
    cells_rec: list[dict] = []
    rows_rec: list[dict] = []
    by_row: dict[int, list[CellMark]] = {}
    for (r, _c), mark in sorted(marks.items()):
        by_row.setdefault(r, []).append(mark)

    def inherited(row: ooxml.RowTag | None, col: int) -> int:
        if (
            row is not None
            and row.attrs.get("customFormat") in ("1", "true")
            and row.attrs.get("s", "").isdigit()
        ):
            return int(row.attrs["s"])
        for lo, hi, style in scan.cols:
            if lo <= col <= hi and style is not None:
                return style
        return 0

    import bisect

    numbers: list[int] | None = None  # row numbers in order, only when a row must be created
    for r, row_marks in by_row.items():
        row = scan.row(r)
        new_cells: list[tuple[int, bytes]] = []  # (col, bytes) of cells to create in this row
        for mark in row_marks:
            cell = row.find_cell(mark.ref) if row else None
            if cell is not None:
                s_raw = cell.s
                if s_raw is not None and not (s_raw.isdigit() and int(s_raw) < styles.orig_xfs):
                    raise Unpatchable(f"单元格 {mark.ref} 的样式编号“{s_raw[:20]}”超出样式表的范围")
                base = int(s_raw) if s_raw else 0
                ours = styles.xf_for(base, mark.severity)
                tag = scan.data[cell.start : cell.end]
                if s_raw is not None:
                    m = S_VALUE_RE.search(tag)
                    if m is None:
                        raise Unpatchable("单元格样式写法无法识别")
                    edits.append((cell.start + m.start(2), cell.start + m.end(2), str(ours).encode()))
                    kind = "attr"
                else:
                    m = R_VALUE_RE.search(tag)
                    if m is None:
                        raise Unpatchable("单元格写法无法识别")
                    at = cell.start + m.end()
                    edits.append((at, at, f' s="{ours}"'.encode()))
                    kind = "inserted_attr"
                cells_rec.append(
                    {
                        "ref": mark.ref,
                        "orig": int(s_raw) if s_raw else None,
                        "ours": ours,
                        "base": base,
                        "kind": kind,
                    }
                )
            else:
                base = inherited(row, mark.col)
                ours = styles.xf_for(base, mark.severity)
                new_cells.append((mark.col, _new_cell(mark.ref, ours)))
                cells_rec.append(
                    {"ref": mark.ref, "orig": None, "ours": ours, "base": base, "kind": "new_cell"}
                )
        if not new_cells:
            continue
        if row is None:
            body = b"".join(b for _, b in new_cells)
            el = f'<row r="{r}">'.encode() + body + b"</row>"
            if numbers is None:
                numbers = [x.r for x in scan.rows]
            i = bisect.bisect_right(numbers, r)
            at = scan.rows[i].start if i < len(numbers) else scan.data_end
            edits.append((at, at, el))
            rows_rec.append({"r": r, "kind": "new"})
        elif row.empty:
            tag = scan.data[row.start : row.tag_end]
            open_tag = tag[:-2].rstrip() + b">"
            body = b"".join(b for _, b in new_cells)
            edits.append((row.start, row.tag_end, open_tag + body + b"</row>"))
            rows_rec.append(
                {"r": r, "kind": "expanded", "orig_tag": tag.decode(), "open_tag": open_tag.decode()}
            )
        else:
            cols = [c.col for c in row.cells]
            for col, raw in new_cells:
                i = bisect.bisect_right(cols, col)
                at = row.cells[i].start if i < len(row.cells) else row.close_start
                edits.append((at, at, raw))
    return edits, cells_rec, rows_rec


def unmark_cells(scan: ooxml.SheetScan, cells_rec: list[dict], rows_rec: list[dict], stats: ClearStats):
    """Edits that give back each marked cell's original format (only where it still has ours), and
    what the sheet must look like afterwards: (edits, rows removed, cells removed, ref -> style)."""
    removed_rows = removed_cells = 0
    styles: dict[str, str | None] = {}
    edits: list[tuple[int, int, bytes]] = []
    handled_rows: set[int] = set()
    row_kind = {rr["r"]: rr for rr in rows_rec}
    # Rows we created or expanded: when they hold nothing but our empty cells, restore the row whole.
    ours_by_row: dict[int, list[dict]] = {}
    for rec in cells_rec:
        m = ooxml.REF_RE.fullmatch(rec["ref"])
        ours_by_row.setdefault(int(m.group(2)), []).append(rec)
    for r, rr in row_kind.items():
        row = scan.row(r)
        if row is None or row.empty:
            continue
        expected = {
            _new_cell(rec["ref"], rec["ours"]) for rec in ours_by_row.get(r, []) if rec["kind"] == "new_cell"
        }
        present = [scan.data[c.start : c.end] for c in row.cells]
        if present and all(p in expected and c.empty for p, c in zip(present, row.cells, strict=True)):
            body = scan.data[row.start : row.end]
            if rr["kind"] == "new" and body == f'<row r="{r}">'.encode() + b"".join(present) + b"</row>":
                edits.append((row.start, row.end, b""))
                removed_rows += 1
            elif rr["kind"] == "expanded" and body == rr["open_tag"].encode() + b"".join(present) + b"</row>":
                edits.append((row.start, row.end, rr["orig_tag"].encode()))
            else:
                continue
            handled_rows.add(r)
            stats.cells += len(present)
            removed_cells += len(present)
    for rec in cells_rec:
        r = int(ooxml.REF_RE.fullmatch(rec["ref"]).group(2))
        if r in handled_rows:
            continue
        row = scan.row(r)
        cell = row.find_cell(rec["ref"]) if row else None
        if cell is None:
            continue
        if cell.s != str(rec["ours"]):
            stats.kept_cells.append(rec["ref"])
            continue
        tag = scan.data[cell.start : cell.end]
        if rec["kind"] == "new_cell" and tag == _new_cell(rec["ref"], rec["ours"]):
            edits.append((cell.start, cell.end, b""))
            removed_cells += 1
        elif rec["kind"] == "inserted_attr":
            sm = re.search(rb"\ss\s*=\s*([\"'])" + str(rec["ours"]).encode() + rb"\1", tag)
            edits.append((cell.start + sm.start(), cell.start + sm.end(), b""))
            styles[rec["ref"]] = None
        else:
            restore = rec["orig"] if rec["orig"] is not None else rec["base"]
            sm = re.search(rb"\ss\s*=\s*([\"'])([^\"']*)\1", tag)
            edits.append((cell.start + sm.start(2), cell.start + sm.end(2), str(restore).encode()))
            styles[rec["ref"]] = str(restore)
        stats.cells += 1
    return edits, removed_rows, removed_cells, styles


# --------------------------------------------------------------------------- comments + VML

COMMENT_EL_RE = re.compile(
    rb"<comment\b((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(?:/>|>.*?</comment>)", re.S
)
AUTHOR_EL_RE = re.compile(rb"<author>(.*?)</author>|<author\s*/>", re.S)
VML_SHAPE_RE = re.compile(
    rb"<([\w.-]+):shape\b(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*(?:/>|>.*?</\1:shape>)", re.S
)
VML_NS_DECL = (
    'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel"'
)
SHAPETYPE_202 = (
    f'<v:shapetype {VML_NS_DECL} id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)


def comment_xml(ref: str, author_id: int, messages: list[str]) -> bytes:
    """A note in the form Excel writes it: a bold author line, then the message(s)."""
    text = "\n".join(f"{i}. {m}" if len(messages) > 1 else m for i, m in enumerate(messages, 1))
    return (
        f'<comment ref="{ref}" authorId="{author_id}"><text>'
        f'<r><rPr><b/><sz val="9"/></rPr><t>{AUTHOR}:</t></r>'
        f'<r><rPr><sz val="9"/></rPr><t xml:space="preserve">\n{xml_text(text, 30000)}</t></r>'
        "</text></comment>"
    ).encode()


def vml_shape(shape_id: int, row: int, col: int, declare: bool = True) -> bytes:
    """A hidden note box for the cell at 1-based (row, col), as Excel writes one. ``declare`` adds the
    v/o/x namespace declarations, needed when the drawing's root does not bind those prefixes."""
    r0, c0 = row - 1, col - 1
    top = min(max(r0 - 1, 0), MAX_ROW - 5)
    left = min(c0 + 1, MAX_COL - 3)
    anchor = f"{left}, 15, {top}, 10, {left + 2}, 15, {top + 4}, 4"
    return (
        f'<v:shape {VML_NS_DECL if declare else ""} id="_x0000_s{shape_id}" type="#_x0000_t202" '
        'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:180pt;height:80pt;z-index:1;'
        'visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
        '<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
        '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
        '<div style="text-align:left"></div></v:textbox>'
        '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
        f"<x:Anchor>{anchor}</x:Anchor><x:AutoFill>False</x:AutoFill>"
        f"<x:Row>{r0}</x:Row><x:Column>{c0}</x:Column></x:ClientData></v:shape>"
    ).encode()


def new_vml(idmap: int) -> bytes:
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">\n'
        f' <o:shapelayout v:ext="edit">\n  <o:idmap v:ext="edit" data="{idmap}"/>\n </o:shapelayout>'
        f"{SHAPETYPE_202}</xml>\n"
    ).encode()


def _vml_idmaps(pkg: Package) -> set[int]:
    used: set[int] = set()
    for name in pkg.names():
        if name.lower().endswith(".vml"):
            for m in re.finditer(rb"<o:idmap\b[^>]*\bdata=\"([\d,\s]*)\"", pkg.get(name) or b""):
                used.update(int(x) for x in re.findall(rb"\d+", m.group(1)))
    return used


def _shape_cell(raw: bytes) -> tuple[int, int] | None:
    if b'ObjectType="Note"' not in raw:
        return None
    r = re.search(rb"<(?:[\w.-]+:)?Row>\s*(\d+)\s*</(?:[\w.-]+:)?Row>", raw)
    c = re.search(rb"<(?:[\w.-]+:)?Column>\s*(\d+)\s*</(?:[\w.-]+:)?Column>", raw)
    return (int(r.group(1)) + 1, int(c.group(1)) + 1) if r and c else None


# --------------------------------------------------------------------------- the 校验结果 sheet


RESULT_NOTE = (
    "说明：本表由校验自动生成，重新校验或清除标记时整表替换；请不要在本表中填写内容"
    "（改动过的本表会被保留，不再自动删除）。"
)


def result_sheet_xml(
    findings: list,
    ledger_sheet: str,
    xf_for: dict[str, int],
    truncated: int,
    field_labels: dict[str, str],
    notes: Sequence[str] = (),
) -> bytes:
    """One row per finding; the 位置 cell links to the cell in the ledger. Text is inline, never a formula."""
    headers = ["序号", "级别", "位置", "字段", "问题说明", "单元格内容", "问题代码"]
    widths = [6, 6, 8, 12, 60, 30, 24]

    def text_cell(ref: str, value: str, s: int | None = None) -> str:
        style = f' s="{s}"' if s else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{xml_text(value)}</t></is></c>'

    rows = [
        '<row r="1">'
        + "".join(text_cell(f"{ooxml.col_letters(i + 1)}1", h) for i, h in enumerate(headers))
        + "</row>"
    ]
    links = []
    quoted = "'" + ledger_sheet.replace("'", "''") + "'"
    r = 1
    for n, f in enumerate(findings, 1):
        r += 1
        where = f"{f.column or ''}{f.row or ''}"
        label = field_labels.get(f.field or "", f.field or "")
        cells = [
            f'<c r="A{r}"><v>{n}</v></c>',
            text_cell(f"B{r}", SEVERITY_LABELS.get(f.severity, f.severity), xf_for.get(f.severity)),
            text_cell(f"C{r}", where or "—"),
            text_cell(f"D{r}", label),
            text_cell(f"E{r}", f.message or ""),
            text_cell(f"F{r}", "" if f.value is None else str(f.value)),
            text_cell(f"G{r}", f.code or ""),
        ]
        rows.append(f'<row r="{r}">' + "".join(cells) + "</row>")
        if f.row and f.column and re.fullmatch(r"[A-Za-z]{1,3}", str(f.column)):
            loc = xml_attr(f"{quoted}!{str(f.column).upper()}{int(f.row)}")
            links.append(f'<hyperlink ref="C{r}" location="{loc}" display="{xml_attr(where)}"/>')
    if not findings:
        r += 1
        rows.append(f'<row r="{r}">' + text_cell(f"E{r}", "未发现问题。") + "</row>")
    if truncated:
        r += 1
        rows.append(f'<row r="{r}">' + text_cell(f"E{r}", f"另有 {truncated} 条问题未列出。") + "</row>")
    for note in [n for n in notes if n] + [RESULT_NOTE]:
        r += 1
        rows.append(f'<row r="{r}">' + text_cell(f"E{r}", note) + "</row>")
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{ooxml.REL_NS}">'
        f'<dimension ref="A1:G{r}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols>"
        f"<sheetData>{''.join(rows)}</sheetData>"
        + (f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else "")
        + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    ).encode()


# --------------------------------------------------------------------------- the record


def _record_xml(record: dict) -> bytes:
    payload = base64.b64encode(json.dumps(record, ensure_ascii=False).encode()).decode()
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<marks xmlns="{RECORD_NS}" version="{RECORD_VERSION}">{payload}</marks>'
    ).encode()


class RecordDoubt(Unpatchable):
    """The marks record does not hold up (damaged, or not matching the workbook): nothing is deleted or
    restyled on its word. ``str(exc)`` says what, in Chinese."""


_RECORD_REF = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")
_ROW_TAG = re.compile(r"<row\b[^<>]*>")
_SHEET_DATA_TAG = re.compile(r"<sheetData\b[^<>]*>")
_LEGACY_EL = re.compile(r'<legacyDrawing(?: xmlns:r="[^"<>]*")? [\w.-]+:id="rId\d+"/>')
_FILLS_TAG = re.compile(r"<fills\b[^<>]*>")
_XFS_TAG = re.compile(r"<cellXfs\b[^<>]*>")
_XF_EL = re.compile(r"<xf\b[^<>]*?(?:/>|>(?:<(?:alignment|protection)\b[^<>]*/>)*</xf>)")
_OUR_PART = {
    "comments": re.compile(r"xl/comments\d+\.xml"),
    "vml": re.compile(r"xl/drawings/vmlDrawing\d+\.vml"),
    "result": re.compile(r"xl/worksheets/sheet\d+\.xml"),
}


def _is_int(value: object, low: int = 0, high: int = 1 << 62) -> bool:
    return type(value) is int and low <= value < high  # bool is not a count


def _is_ref(value: object) -> bool:
    m = _RECORD_REF.fullmatch(value) if isinstance(value, str) else None
    return m is not None and ooxml.col_index(m[1]) <= MAX_COL and int(m[2]) <= MAX_ROW


def _doubt(ok: bool, what: str) -> None:
    if not ok:
        raise RecordDoubt(what)


def check_record(record: dict) -> None:
    """Every field of a record read back from a workbook has the type and form ``mark_package`` writes.

    The record is untrusted input (the file may have been damaged or crafted): a value that could make
    ``clear`` delete or restyle anything we did not add is refused here, before anything is touched.
    """
    damaged = "标记记录已损坏"
    _doubt(
        isinstance(record.get("ledger_sheet"), str) and isinstance(record.get("result_sheet"), str), damaged
    )
    _doubt(record["ledger_sheet"] != record["result_sheet"], "标记记录中的结果表指向台账工作表")
    cells, rows = record.get("cells", []), record.get("rows", [])
    _doubt(isinstance(cells, list) and isinstance(rows, list), damaged)
    for rec in cells:
        _doubt(isinstance(rec, dict) and _is_ref(rec.get("ref")), f"{damaged}（单元格位置）")
        _doubt(rec.get("kind") in ("attr", "inserted_attr", "new_cell"), damaged)
        _doubt(_is_int(rec.get("ours")) and _is_int(rec.get("base")), f"{damaged}（样式编号）")
        _doubt(rec.get("orig") is None or _is_int(rec.get("orig")), f"{damaged}（样式编号）")
    for rr in rows:
        _doubt(isinstance(rr, dict) and _is_int(rr.get("r"), 1, MAX_ROW + 1), f"{damaged}（行号）")
        _doubt(rr.get("kind") in ("new", "expanded"), damaged)
        if rr["kind"] == "expanded":
            orig, open_tag = rr.get("orig_tag"), rr.get("open_tag")
            _doubt(isinstance(orig, str) and isinstance(open_tag, str), damaged)
            _doubt(bool(_ROW_TAG.fullmatch(orig) and _ROW_TAG.fullmatch(open_tag)), damaged)
            _doubt(orig.endswith("/>") and not open_tag.endswith("/>"), damaged)
            _doubt(ooxml.attrs_of(orig.encode()).get("r") == str(rr["r"]), damaged)
    crec = record.get("comments") or {}
    _doubt(isinstance(crec, dict), damaged)
    refs = crec.get("refs") or []
    _doubt(isinstance(refs, list) and all(_is_ref(r) for r in refs), f"{damaged}（批注位置）")
    _doubt(set(refs) <= {c["ref"] for c in cells}, f"{damaged}（批注位置）")
    _doubt(crec.get("author_added") in (None, f"<author>{AUTHOR}</author>"), damaged)
    legacy = crec.get("legacy")
    _doubt(legacy is None or (isinstance(legacy, str) and bool(_LEGACY_EL.fullmatch(legacy))), damaged)
    vrec = crec.get("vml") or {}
    _doubt(isinstance(vrec, dict), damaged)
    for created, kind in ((crec.get("created_part"), "comments"), (vrec.get("created_part"), "vml")):
        _doubt(
            created is None or (isinstance(created, str) and bool(_OUR_PART[kind].fullmatch(created))),
            damaged,
        )
    tags = record.get("sheet_data_tag")
    if tags is not None:
        _doubt(isinstance(tags, list) and len(tags) == 2 and all(isinstance(t, str) for t in tags), damaged)
        _doubt(bool(_SHEET_DATA_TAG.fullmatch(tags[0]) and _SHEET_DATA_TAG.fullmatch(tags[1])), damaged)
        _doubt(tags[0].endswith("/>") and not tags[1].endswith("/>"), damaged)
    srec = record.get("styles")
    if srec is not None:
        _doubt(isinstance(srec, dict) and isinstance(srec.get("part"), str), f"{damaged}（样式）")
        _doubt(_is_int(srec.get("fills_n")) and _is_int(srec.get("xfs_n")), f"{damaged}（样式）")
        fills, xfs = srec.get("added_fills"), srec.get("added_xfs")
        _doubt(isinstance(fills, list) and isinstance(xfs, list), f"{damaged}（样式）")
        ours = {fill_xml(rgb).decode() for rgb in FILL_RGB.values()}
        _doubt(all(f in ours for f in fills), f"{damaged}（样式）")
        _doubt(all(isinstance(x, str) and _XF_EL.fullmatch(x) for x in xfs), f"{damaged}（样式）")
        for key, pattern in (("fills_tag", _FILLS_TAG), ("xfs_tag", _XFS_TAG)):
            _doubt(
                isinstance(srec.get(key), str) and bool(pattern.fullmatch(srec[key])), f"{damaged}（样式）"
            )
        top = srec["xfs_n"] + len(xfs)
        for rec in cells:
            _doubt(rec["ours"] < top and rec["base"] < max(srec["xfs_n"], 1), f"{damaged}（样式编号）")
            _doubt(rec["orig"] is None or rec["orig"] < srec["xfs_n"], f"{damaged}（样式编号）")
    else:
        _doubt(not cells, f"{damaged}（样式）")
    rrec = record.get("result") or {}
    _doubt(isinstance(rrec, dict), damaged)
    for key in ("part", "rid", "sheet_el", "sheet_id", "fingerprint"):
        _doubt(rrec.get(key) is None or isinstance(rrec[key], str), damaged)
    _doubt(rrec.get("part") is None or bool(_OUR_PART["result"].fullmatch(rrec["part"])), damaged)


def _check_styles_still_fit(pkg: Package, wb: ooxml.Workbook, record: dict) -> None:
    """The formats the record would give back exist in the styles table as it is now."""
    srec = record.get("styles")
    if not srec:
        return
    styles_rel = next((r for r in wb.rels if r.type == RT_STYLES and not r.external), None)
    data = pkg.get(srec["part"]) if styles_rel and styles_rel.target.lower() == srec["part"].lower() else None
    if data is None:
        raise RecordDoubt("标记记录与工作簿的样式部件不符")
    try:
        n_xfs = len(_element_bytes(data, "cellXfs", srec["part"])[3])
    except Unpatchable:
        n_xfs = 0
    if srec["xfs_n"] > n_xfs:
        raise RecordDoubt("标记记录中的单元格格式超出了工作簿的样式表")


def sheet_fingerprint(pkg: Package, part: str) -> str:
    """A digest of what a sheet shows (each cell's reference and text), not of its bytes: a save by
    Excel or WPS rewrites the XML (inline strings become shared ones) but keeps the fingerprint, while
    a sheet a user made or typed into has another one."""
    import hashlib

    data = pkg.get(part)
    if data is None:
        return ""
    root = ooxml.parse_xml(data, part)
    c_tag, t_tag, v_tag = f"{{{MAIN_NS}}}c", f"{{{MAIN_NS}}}t", f"{{{MAIN_NS}}}v"
    shared: list[str] | None = None
    pieces: list[str] = []  # hashed at once: the same digest as one update per cell, for less work
    for c in root.iter(c_tag):
        kind = c.get("t")
        if kind == "inlineStr":
            text = "".join([t.text or "" for t in c.iter(t_tag)])
        else:
            text = c.findtext(v_tag) or ""  # the first <v> child's text; "" when it has none
            if kind == "s":
                if shared is None:
                    shared = _shared_strings(pkg)
                index = int(text) if text.isdigit() else -1
                text = shared[index] if 0 <= index < len(shared) else "\x00"
        pieces.append(f"{c.get('r')}\x1f{text}\x1e")
    return hashlib.sha256("".join(pieces).encode()).hexdigest()


def _shared_strings(pkg: Package) -> list[str]:
    wb = ooxml.open_workbook(pkg)
    rel = next((r for r in wb.rels if r.type.endswith("/sharedStrings") and not r.external), None)
    data = pkg.get(rel.target) if rel is not None else None
    if data is None:
        return []
    ns = f"{{{MAIN_NS}}}"
    root = ooxml.parse_xml(data, rel.target)
    return [
        "".join(t.text or "" for t in si.iter(f"{ns}t") if t.getparent().tag != f"{ns}rPh") for si in root
    ]


def _is_our_result_sheet(pkg: Package, sheet: ooxml.SheetRef, rrec: dict) -> bool:
    """The sheet named in the record is the one we wrote: same part, same sheetId, same content."""
    return bool(
        rrec.get("part")
        and rrec.get("sheet_id")
        and rrec.get("fingerprint")
        and sheet.rel_type == RT_WORKSHEET
        and sheet.part.lower() == rrec["part"].lower()
        and sheet.sheet_id == rrec["sheet_id"]
        and sheet_fingerprint(pkg, sheet.part) == rrec["fingerprint"]
    )


def find_record(pkg: Package) -> tuple[str, dict] | None:
    """The custom XML part holding our record of earlier marks, if any."""
    for name in pkg.names():
        if re.fullmatch(r"customXml/item\d+\.xml", name, re.I):
            data = pkg.get(name) or b""
            if RECORD_NS.encode() not in data[:400]:
                continue
            m = re.search(rb">([A-Za-z0-9+/=\s]*)</marks>", data)
            if not m:
                continue
            try:
                record = json.loads(base64.b64decode(m.group(1)))
            except (ValueError, RecursionError):
                continue
            if isinstance(record, dict) and record.get("version") == RECORD_VERSION:
                return name, record
    return None


# --------------------------------------------------------------------------- mark / clear a package


def _to_merge_anchors(marks: dict[tuple[int, int], CellMark], scan: ooxml.SheetScan) -> dict:
    """A cell inside a merged area shows the top-left cell's format: mark that one instead."""
    merged = next((e for e in scan.tail if e.name == "mergeCells"), None)
    if merged is None or not marks:
        return marks
    ranges = []
    for m in re.finditer(
        rb'<mergeCell\s+ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"', scan.data[merged.start : merged.end]
    ):
        c1, r1, c2, r2 = ooxml.col_index(m[1].decode()), int(m[2]), ooxml.col_index(m[3].decode()), int(m[4])
        ranges.append((r1, r2, c1, c2))
    if not ranges:
        return marks
    by_row: dict[int, list[tuple[int, int, int, int]]] = {}
    tall = []  # areas too tall to index row by row
    for rng in ranges:
        if rng[1] - rng[0] > 10_000:
            tall.append(rng)
        else:
            for rr in range(rng[0], rng[1] + 1):
                by_row.setdefault(rr, []).append(rng)
    out: dict[tuple[int, int], CellMark] = {}
    for (r, c), mark in sorted(marks.items()):
        candidates = by_row.get(r, []) + [t for t in tall if t[0] <= r <= t[1]]
        anchor = next(((r1, c1) for r1, r2, c1, c2 in candidates if c1 <= c <= c2), (r, c))
        if anchor == (r, c):
            target = out.setdefault((r, c), mark)
            if target is not mark:
                _merge_into(target, mark)
            continue
        target = out.get(anchor)
        if target is None:
            out[anchor] = CellMark(anchor[0], anchor[1], mark.severity, list(mark.messages))
        else:
            _merge_into(target, mark)
    return out


def _merge_into(target: CellMark, other: CellMark) -> None:
    if SEVERITY_RANK[other.severity] > SEVERITY_RANK[target.severity]:
        target.severity = other.severity
    target.messages.extend(m for m in other.messages if m not in target.messages)


def _ledger_sheet(wb: ooxml.Workbook, name: str) -> ooxml.SheetRef:
    for ref in wb.sheets:
        if ref.name == name:
            if ref.rel_type != RT_WORKSHEET or not ref.part:
                raise Unpatchable(f"“{name}”不是普通工作表")
            return ref
    raise Unpatchable(f"工作簿中找不到工作表“{name}”")


def _check_sheet_rels(rels: list[ooxml.Rel]) -> None:
    for rel in rels:
        if ooxml.THREADED_COMMENTS_MARK in rel.type:
            raise Unpatchable("台账工作表含有新版“批注（线程）”")


def _no_gc(func):
    """Run without the cyclic garbage collector: the work allocates many small acyclic objects, and
    collector passes over them cost more than the patching itself on big ledgers."""
    import functools
    import gc

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        was = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if was:
                gc.enable()

    return wrapper


def mark_package(
    raw: bytes,
    sheet: str,
    findings: list,
    *,
    truncated: int = 0,
    label: str = "",
    field_labels: dict[str, str] | None = None,
    notes: Sequence[str] = (),
) -> tuple[bytes, MarkStats]:
    """Return the package with previous marks undone and new marks written, plus what was done."""
    out, stats, _ = _marked(
        raw, sheet, findings, truncated=truncated, label=label, field_labels=field_labels, notes=notes
    )
    return out, stats


@_no_gc
def _marked(
    raw: bytes,
    sheet: str,
    findings: list,
    *,
    truncated: int = 0,
    label: str = "",
    field_labels: dict[str, str] | None = None,
    notes: Sequence[str] = (),
) -> tuple[bytes, MarkStats, Package]:
    """``mark_package``, also giving the marked package (its parts are exactly the bytes written)."""
    if field_labels is None:
        from toolkit.config import FIELD_LABELS

        field_labels = FIELD_LABELS
    pkg = Package.from_bytes(raw, label)
    cleared = ClearStats()
    _clear_in(pkg, cleared, check=False)
    stats = MarkStats(findings=len(findings), kept_result=cleared.sheet_kept)
    wb = ooxml.open_workbook(pkg)
    ledger = _ledger_sheet(wb, sheet)
    result_name = RESULT_SHEET  # a sheet of that name that is not ours stays; ours gets a free name
    taken = {s.name.lower() for s in wb.sheets}
    n = 2
    while result_name.lower() in taken:
        result_name, n = f"{RESULT_SHEET} ({n})", n + 1
    styles_rel = next((r for r in wb.rels if r.type == RT_STYLES and not r.external), None)
    if styles_rel is None:
        raise Unpatchable("工作簿没有样式部件")
    sheet_rels = ooxml.read_rels(pkg, ledger.part)
    _check_sheet_rels(sheet_rels)
    sheet_data = pkg.require(ledger.part)
    scan = ooxml.scan_sheet(sheet_data, ledger.part)
    stats.rows_before = scan.n_rows
    marks = _to_merge_anchors(plan_marks(findings), scan)
    styles = StylesPatch(pkg, styles_rel.target)
    record: dict = {
        "version": RECORD_VERSION,
        "tool": AUTHOR,
        "ledger_sheet": sheet,
        "result_sheet": result_name,
    }
    edits, cells_rec, rows_rec = mark_cells(scan, marks, styles)
    record["cells"], record["rows"] = cells_rec, rows_rec
    stats.cells = len(cells_rec)

    # Notes: into the sheet's comments part (created when missing) and its VML drawing.
    comments_rel = next((r for r in sheet_rels if r.type == RT_COMMENTS and not r.external), None)
    vml_rel = next((r for r in sheet_rels if r.type == RT_VML and not r.external), None)
    legacy = next((e for e in scan.tail if e.name.split(":")[-1] == "legacyDrawing"), None)
    crec: dict = {
        "refs": [],
        "created_part": None,
        "rels": [],
        "author_added": None,
        "legacy": None,
        "vml": {},
    }
    user_commented: set[str] = set()
    if comments_rel is not None:
        cdata = pkg.require(comments_rel.target)
        ooxml.refuse_markup_we_cannot_scan(cdata, comments_rel.target)
        croot = ooxml.parse_xml(cdata, comments_rel.target)
        if croot.tag != f"{{{MAIN_NS}}}comments":
            raise Unpatchable("台账工作表的批注部件无法识别")
        authors = [a.text or "" for a in croot.iterfind(f"{{{MAIN_NS}}}authors/{{{MAIN_NS}}}author")]
        if any(a.startswith("tc=") for a in authors):
            raise Unpatchable("台账工作表含有新版“批注（线程）”")
        user_commented = {c.get("ref") for c in croot.iterfind(f".//{{{MAIN_NS}}}comment")}
        if len(COMMENT_EL_RE.findall(cdata)) != len(user_commented) or len(
            AUTHOR_EL_RE.findall(cdata)
        ) != len(authors):
            raise Unpatchable("台账工作表的批注部件写法无法安全修改")
        if vml_rel is None or legacy is None:
            raise Unpatchable("台账工作表的批注缺少对应的绘图部件")
    to_comment = [m for m in marks.values() if m.ref not in user_commented and m.messages]
    stats.skipped_comments = sum(1 for m in marks.values() if m.ref in user_commented)
    if legacy is not None and vml_rel is None:
        raise Unpatchable("台账工作表的绘图部件缺失")
    if to_comment:
        crec["rels_created"] = not pkg.has(ooxml.rels_name(ledger.part))
        if comments_rel is None:
            cpart, _ = ooxml.unused_name(pkg, "xl/comments{}.xml")
            cdata = (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<comments xmlns="{MAIN_NS}"><authors></authors><commentList></commentList></comments>'
            ).encode()
            crec["created_part"] = cpart
            rid = ooxml.next_rel_id(sheet_rels)
            crec["rels"].append(
                {"id": rid, "raw": ooxml.add_rel(pkg, ledger.part, rid, RT_COMMENTS, cpart).decode()}
            )
            sheet_rels = ooxml.read_rels(pkg, ledger.part)
            crec["ct"] = [ooxml.add_override(pkg, cpart, CT_COMMENTS).decode()]
            author_names: list[str] = []
        else:
            cpart = comments_rel.target
            author_names = [(m.group(1) or b"").decode() for m in AUTHOR_EL_RE.finditer(cdata)]
        if AUTHOR in author_names:
            author_id = author_names.index(AUTHOR)
        else:
            end = cdata.find(b"</authors>")
            if end < 0:
                raise Unpatchable("台账工作表的批注部件写法无法安全修改")
            el = f"<author>{AUTHOR}</author>".encode()
            cdata = cdata[:end] + el + cdata[end:]
            author_id = len(author_names)
            crec["author_added"] = el.decode()
        end = cdata.rfind(b"</commentList>")
        if end < 0:
            raise Unpatchable("台账工作表的批注部件写法无法安全修改")
        body = b"".join(
            comment_xml(m.ref, author_id, m.messages)
            for m in sorted(to_comment, key=lambda m: (m.row, m.col))
        )
        cdata = cdata[:end] + body + cdata[end:]
        ooxml.parse_xml(cdata, cpart)  # still well-formed
        pkg.set(cpart, cdata)
        crec["part"] = cpart
        crec["author_id"] = author_id
        crec["refs"] = [m.ref for m in to_comment]
        stats.comments = len(to_comment)

        # VML: append our note shapes (before </xml>), or create the drawing.
        if vml_rel is None:
            vpart, _ = ooxml.unused_name(pkg, "xl/drawings/vmlDrawing{}.vml")
            used = _vml_idmaps(pkg)
            idmap = next(i for i in range(1, 10_000) if i not in used)
            vdata = new_vml(idmap)
            crec["vml"]["created_part"] = vpart
            rid = ooxml.next_rel_id(sheet_rels)
            crec["rels"].append(
                {"id": rid, "raw": ooxml.add_rel(pkg, ledger.part, rid, RT_VML, vpart).decode()}
            )
            crec.setdefault("ct", []).append(ooxml.add_override(pkg, vpart, CT_VML).decode())
            next_id = idmap * 1024 + 1
        else:
            vpart = vml_rel.target
            vdata = pkg.require(vpart)
            if b"<!DOCTYPE" in vdata or b"<!ENTITY" in vdata:
                raise ooxml.UnsafeFileError("台账工作表的绘图部件含有 DTD 声明，疑似恶意文件，已停止处理。")
            ids = [int(x) for x in re.findall(rb"_x0000_s(\d+)", vdata)]
            maps = [
                int(x)
                for m in re.finditer(rb"<o:idmap\b[^>]*\bdata=\"([\d,\s]*)\"", vdata)
                for x in re.findall(rb"\d+", m.group(1))
            ]
            next_id = max([*ids, min(maps, default=1) * 1024]) + 1
        if vdata.rfind(b"</xml>") < 0:
            raise Unpatchable("台账工作表的绘图部件写法无法识别")
        added = b""
        if not re.search(rb"<(?:[\w.-]+:)?shapetype\b[^>]*\bid=\"_x0000_t202\"", vdata):
            added += SHAPETYPE_202.encode()
            crec["vml"]["shapetype_added"] = True
        root_tag = vdata[: vdata.find(b">") + 1]
        declared = all(
            f'xmlns:{p}="{u}"'.encode() in root_tag
            for p, u in (
                ("v", "urn:schemas-microsoft-com:vml"),
                ("o", "urn:schemas-microsoft-com:office:office"),
                ("x", "urn:schemas-microsoft-com:office:excel"),
            )
        )
        shapes = [
            vml_shape(next_id + i, m.row, m.col, declare=not declared)
            for i, m in enumerate(sorted(to_comment, key=lambda m: (m.row, m.col)))
        ]
        added += b"".join(shapes)
        end = vdata.rfind(b"</xml>")
        vdata = vdata[:end] + added + vdata[end:]
        pkg.set(vpart, vdata)
        crec["vml"]["part"] = vpart
        if legacy is None:
            rid = next(r["id"] for r in crec["rels"] if attrs_of(r["raw"].encode()).get("Type") == RT_VML)
            if scan.r_prefix:
                el = f'<legacyDrawing {scan.r_prefix}:id="{rid}"/>'.encode()
            else:
                el = f'<legacyDrawing xmlns:r="{ooxml.REL_NS}" r:id="{rid}"/>'.encode()
            for e in scan.tail:
                if (
                    e.name.split(":")[-1] not in ooxml.WORKSHEET_TAIL_ORDER
                    and e.name != "mc:AlternateContent"
                ):
                    raise Unpatchable(f"台账工作表含有无法识别的部分“{e.name}”")
            at = _insert_at(scan, "legacyDrawing")
            edits.append((at, at, el))
            crec["legacy"] = el.decode()
    record["comments"] = crec

    if scan.empty_tag is not None:  # <sheetData/> becomes <sheetData>…our rows…</sheetData>
        start, end = scan.empty_tag
        inside = [e for e in edits if e[0] == e[1] == end]
        edits = [e for e in edits if not e[0] == e[1] == end]
        if inside:
            tag = sheet_data[start:end]
            open_tag = tag[:-2].rstrip() + b">"
            edits.append((start, end, open_tag + b"".join(e[2] for e in inside) + b"</sheetData>"))
            record["sheet_data_tag"] = [tag.decode(), open_tag.decode()]

    new_sheet = apply_edits(sheet_data, edits)
    stats.rows_after = scan.n_rows + sum(1 for r in rows_rec if r["kind"] == "new")
    ooxml.check_patched_sheet(
        new_sheet,
        ledger.part,
        stats.rows_after,
        scan.n_cells + sum(1 for c in cells_rec if c["kind"] == "new_cell"),
        {c["ref"]: str(c["ours"]) for c in cells_rec},
    )
    pkg.set(ledger.part, new_sheet)

    # The 校验结果 sheet: its own part, a <sheet> in workbook.xml, a workbook relationship, a content type.
    xf_for = {sev: styles.xf_for(0, sev) for sev in FILL_RGB}
    record["styles"] = styles.commit()
    spart, _ = ooxml.unused_name(pkg, "xl/worksheets/sheet{}.xml")
    pkg.set(spart, result_sheet_xml(findings, sheet, xf_for, truncated, field_labels, notes))
    rid = ooxml.next_rel_id(wb.rels)
    rrec: dict = {
        "part": spart,
        "rel": ooxml.add_rel(pkg, wb.part, rid, RT_WORKSHEET, spart).decode(),
        "rid": rid,
    }
    rrec["ct"] = ooxml.add_override(pkg, spart, CT_WORKSHEET).decode()
    wdata = pkg.require(wb.part)
    sheet_id = 1 + max((int(s.sheet_id) for s in wb.sheets if s.sheet_id.isdigit()), default=0)
    if wb.r_prefix:
        el = f'<sheet name="{xml_attr(result_name)}" sheetId="{sheet_id}" {wb.r_prefix}:id="{rid}"/>'.encode()
    else:
        el = f'<sheet name="{xml_attr(result_name)}" sheetId="{sheet_id}" xmlns:r="{ooxml.REL_NS}" r:id="{rid}"/>'.encode()
    end = wdata.find(b"</sheets>")
    if end < 0:
        raise Unpatchable("工作簿的工作表列表写法无法安全修改")
    pkg.set(wb.part, wdata[:end] + el + wdata[end:])
    rrec["sheet_el"] = el.decode()
    rrec["sheet_id"] = str(sheet_id)
    rrec["fingerprint"] = sheet_fingerprint(pkg, spart)
    record["result"] = rrec

    # The record itself: a custom XML part related from the workbook (Excel keeps these on save).
    wb_rels = ooxml.read_rels(pkg, wb.part)
    ipart, n = ooxml.unused_name(pkg, "customXml/item{}.xml")
    ppart = f"customXml/itemProps{n}.xml"
    if pkg.has(ppart) or pkg.has(ooxml.rels_name(ipart)):
        raise Unpatchable("自定义 XML 部件命名冲突")
    pkg.set(ipart, _record_xml(record))
    pkg.set(
        ppart,
        (
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            f'<ds:datastoreItem ds:itemID="{{{str(uuid.uuid5(uuid.NAMESPACE_URL, RECORD_NS)).upper()}}}" '
            'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"><ds:schemaRefs/>'
            "</ds:datastoreItem>"
        ).encode(),
    )
    ooxml.add_rel(pkg, ipart, "rId1", RT_CUSTOM_XML_PROPS, ppart)
    ooxml.add_rel(pkg, wb.part, ooxml.next_rel_id(wb_rels), RT_CUSTOM_XML, ipart)
    ooxml.add_override(pkg, ipart, CT_XML)
    ooxml.add_override(pkg, ppart, CT_CUSTOM_XML_PROPS)

    stats.sheet_names = [s.name for s in wb.sheets] + [result_name]
    out = pkg.to_bytes()
    ooxml.verify_written(out, pkg)
    return out, stats, pkg


def _insert_at(scan: ooxml.SheetScan, element: str) -> int:
    rank = ooxml.WORKSHEET_TAIL_ORDER.index(element)
    for e in scan.tail:
        name = e.name.split(":")[-1]
        if name == "AlternateContent":
            name = "oleObjects"  # wraps oleObjects / controls at the top level of a worksheet
        if name in ooxml.WORKSHEET_TAIL_ORDER and ooxml.WORKSHEET_TAIL_ORDER.index(name) > rank:
            return e.start
    return scan.worksheet_end


def clear_package(raw: bytes, *, label: str = "") -> tuple[bytes, ClearStats]:
    """Return the package with our marks taken out (unchanged bytes when there were none)."""
    out, stats, _ = _cleared(raw, label)
    return out, stats


@_no_gc
def _cleared(raw: bytes, label: str) -> tuple[bytes, ClearStats, Package]:
    """``clear_package``, also giving the cleared package (its parts are exactly the bytes written)."""
    pkg = Package.from_bytes(raw, label)
    stats = ClearStats()
    _clear_in(pkg, stats)
    if not stats.found:
        return raw, stats, pkg
    out = pkg.to_bytes()
    ooxml.verify_written(out, pkg)
    return out, stats, pkg


def _clear_in(pkg: Package, stats: ClearStats, check: bool = True) -> None:
    """Undo our marks in ``pkg``. ``check=False`` when marks follow at once (their check covers both)."""
    found = find_record(pkg)
    if found is None:
        return
    stats.found = True
    ipart, record = found
    wb = ooxml.open_workbook(pkg)

    check_record(record)
    _check_styles_still_fit(pkg, wb, record)
    stats.ledger_sheet = record["ledger_sheet"]

    # 1. the 校验结果 sheet: deleted only when it is provably the one we wrote, unchanged
    rrec = record.get("result") or {}
    named = next((s for s in wb.sheets if s.name == record["result_sheet"]), None)
    ours = named if named is not None and _is_our_result_sheet(pkg, named, rrec) else None
    if named is not None and ours is None and named.name != record["ledger_sheet"]:
        stats.sheet_kept = named.name
    if ours is not None:
        wdata = pkg.require(wb.part)
        index = wb.sheets.index(ours)
        wdata = wdata.replace(ours.raw, b"", 1)
        wdata = _renumber_local_sheets(wdata, index)
        wdata = _fix_active_tab(wdata, index)
        pkg.set(wb.part, wdata)
        ooxml.remove_rel(pkg, wb.part, ours.rel_id)
        ooxml.remove_override(pkg, ours.part)
        pkg.delete(ours.part)
        pkg.delete(ooxml.rels_name(ours.part))
        stats.sheet_removed = True

    # 2. cells, notes and the legacy drawing of the ledger sheet
    ledger = next(
        (s for s in wb.sheets if s.name == record.get("ledger_sheet") and s.rel_type == RT_WORKSHEET), None
    )
    if ledger is None and (record.get("cells") or (record.get("comments") or {}).get("refs")):
        raise Unpatchable(
            f"找不到上次标记的工作表“{record.get('ledger_sheet')}”（可能已改名），请改回原名后再运行"
        )
    if ledger is not None and pkg.has(ledger.part):
        sdata = pkg.require(ledger.part)
        scan = ooxml.scan_sheet(sdata, ledger.part)
        edits, removed_rows, removed_cells, styles = unmark_cells(
            scan, record.get("cells", []), record.get("rows", []), stats
        )
        crec = record.get("comments") or {}
        legacy_gone = _clear_comments(pkg, ledger.part, crec, stats)
        if legacy_gone and crec.get("legacy"):
            raw_el = crec["legacy"].encode()
            for e in scan.tail:
                if sdata[e.start : e.end] == raw_el:
                    edits.append((e.start, e.end, b""))
        if edits:
            sdata = apply_edits(sdata, edits)
            if record.get("sheet_data_tag"):
                orig, open_tag = (t.encode() for t in record["sheet_data_tag"])
                sdata = sdata.replace(open_tag + b"</sheetData>", orig, 1)
            if check:
                ooxml.check_patched_sheet(
                    sdata, ledger.part, scan.n_rows - removed_rows, scan.n_cells - removed_cells, styles
                )
            pkg.set(ledger.part, sdata)

    # 3. styles we appended, when nothing uses them any more
    srec = record.get("styles")
    if srec:
        parts = [s.part for s in wb.sheets if s.rel_type == RT_WORKSHEET and s.part and pkg.has(s.part)]
        stats.styles_trimmed = trim_styles(pkg, srec, parts)

    # 4. the record
    rels = ooxml.read_rels(pkg, wb.part)
    for rel in rels:
        if rel.type == RT_CUSTOM_XML and rel.target.lower() == ipart.lower():
            ooxml.remove_rel(pkg, wb.part, rel.id)
    for rel in ooxml.read_rels(pkg, ipart):
        if rel.type == RT_CUSTOM_XML_PROPS:
            ooxml.remove_override(pkg, rel.target)
            pkg.delete(rel.target)
    ooxml.remove_override(pkg, ipart)
    pkg.delete(ooxml.rels_name(ipart))
    pkg.delete(ipart)


def _drop_if_ours_and_empty(
    pkg: Package, sheet_part: str, rel_id: str, part: str, record: dict, remaining: int
) -> None:
    """A comments or drawing part our marking created, left empty by clearing: gone, as before marking."""
    created = record.get("created_part")
    if created and created.lower() == part.lower() and remaining == 0:
        ooxml.remove_rel(pkg, sheet_part, rel_id)
        ooxml.remove_override(pkg, part)
        pkg.delete(part)


def _clear_comments(pkg: Package, sheet_part: str, crec: dict, stats: ClearStats) -> bool:
    """Remove our notes and shapes; True when the parts we created are gone (drop <legacyDrawing>)."""
    refs = set(crec.get("refs") or [])
    if not refs:
        return False
    rels = ooxml.read_rels(pkg, sheet_part)
    comments_rel = next((r for r in rels if r.type == RT_COMMENTS and not r.external), None)
    vml_rel = next((r for r in rels if r.type == RT_VML and not r.external), None)
    remaining_comments = 1
    if comments_rel is not None and pkg.has(comments_rel.target):
        cpart = comments_rel.target
        cdata = pkg.require(cpart)
        authors = [(m.group(1) or b"").decode() for m in AUTHOR_EL_RE.finditer(cdata)]
        if AUTHOR in authors:
            aid = str(authors.index(AUTHOR))
            pieces, pos, remaining_comments, ours_kept = [], 0, 0, False
            for m in COMMENT_EL_RE.finditer(cdata):  # one pass: what re.sub would drop, and what stays
                a = attrs_of(m.group(1))
                if a.get("authorId") == aid and a.get("ref") in refs:
                    stats.comments += 1
                    pieces.append(cdata[pos : m.start()])
                    pos = m.end()
                else:
                    remaining_comments += 1
                    ours_kept = ours_kept or a.get("authorId") == aid
            pieces.append(cdata[pos:])
            cdata = b"".join(pieces)
            if crec.get("author_added") and not ours_kept:
                el = crec["author_added"].encode()
                if cdata.count(el) == 1 and int(aid) == len(authors) - 1:
                    cdata = cdata.replace(el, b"", 1)
            pkg.set(cpart, cdata)
        _drop_if_ours_and_empty(pkg, sheet_part, comments_rel.id, cpart, crec, remaining_comments)
    remaining_shapes = 1
    vrec = crec.get("vml") or {}
    if vml_rel is not None and pkg.has(vml_rel.target):
        vpart = vml_rel.target
        vdata = pkg.require(vpart)

        def drop(m: re.Match) -> bytes:
            cell = _shape_cell(m.group(0))
            if cell is not None and f"{ooxml.col_letters(cell[1])}{cell[0]}" in refs:
                return b""
            return m.group(0)

        vdata = VML_SHAPE_RE.sub(drop, vdata)
        remaining_shapes = len(VML_SHAPE_RE.findall(vdata))
        if vrec.get("shapetype_added"):
            vdata = vdata.replace(SHAPETYPE_202.encode(), b"", 1)
        pkg.set(vpart, vdata)
        _drop_if_ours_and_empty(pkg, sheet_part, vml_rel.id, vpart, vrec, remaining_shapes)
    data = pkg.get(ooxml.rels_name(sheet_part))
    if crec.get("rels_created") and data is not None and not ooxml.REL_EL_RE.search(data):
        pkg.delete(ooxml.rels_name(sheet_part))  # we created it, and it is empty again
    gone = crec.get("legacy") is not None and not any(
        r.type == RT_VML for r in ooxml.read_rels(pkg, sheet_part)
    )
    return gone


def _renumber_local_sheets(wdata: bytes, removed: int) -> bytes:
    """Names scoped to the removed sheet go (e.g. print titles set on it); later ones move down by one."""
    wdata = re.sub(
        rb'<definedName\b[^>]*?\slocalSheetId="'
        + str(removed).encode()
        + rb'"[^>]*?(?:/>|>.*?</definedName>)',
        b"",
        wdata,
        flags=re.S,
    )

    def fix(m: re.Match) -> bytes:
        n = int(m.group(2))
        return m.group(1) + str(n - 1 if n > removed else n).encode() + m.group(3)

    return re.sub(rb"(\slocalSheetId=\")(\d+)(\")", fix, wdata)


def _fix_active_tab(wdata: bytes, removed: int) -> bytes:
    def fix(m: re.Match) -> bytes:
        n = int(m.group(2))
        if n >= removed and n > 0:
            n -= 1
        return m.group(1) + str(n).encode() + m.group(3)

    return re.sub(rb"(\s(?:activeTab|firstSheet)=\")(\d+)(\")", fix, wdata)


# --------------------------------------------------------------------------- files


@dataclass
class MarkResult:
    """What ``mark_file`` did. ``target`` is the file written; ``to_copy`` when it is not the original."""

    source: Path
    target: Path
    to_copy: bool
    reason: str  # why a copy (Chinese), or ""
    backup: Path | None
    stats: MarkStats
    lossless: bool = True  # False when the copy was made by an openpyxl round trip

    @property
    def message(self) -> str:
        s = self.stats
        done = f"已标记 {s.cells} 个单元格、添加 {s.comments} 条批注，{s.findings} 条问题列在“{RESULT_SHEET}”工作表"
        if self.to_copy:
            return f"{self.reason}，{done}，结果另存为“{self.target.name}”，原文件未改动。"
        extra = f"（{s.skipped_comments} 个单元格已有批注，只标了颜色）" if s.skipped_comments else ""
        if s.kept_result:
            extra += f"；上次的“{s.kept_result}”工作表在标记后被改动过，已保留"
        return (
            f"{done}{extra}，原文件已备份到“{self.backup.parent.name}/{self.backup.name}”。"
            if self.backup
            else f"{done}{extra}。"
        )


@dataclass
class ClearResult:
    path: Path
    changed: bool
    backup: Path | None
    stats: ClearStats

    @property
    def message(self) -> str:
        s = self.stats
        if not s.found:
            return f"“{self.path.name}”中没有本工具留下的标记，文件未改动。"
        msg = f"已清除标记：还原 {s.cells} 个单元格的格式，删除 {s.comments} 条批注"
        if s.sheet_removed:
            msg += f"和“{RESULT_SHEET}”工作表"
        if s.sheet_kept:
            msg += f"；“{s.sheet_kept}”工作表在标记后被改动过（或不是本工具生成的），已保留"
        if s.kept_cells:
            shown = "、".join(s.kept_cells[:5]) + ("等" if len(s.kept_cells) > 5 else "")
            msg += f"；{shown} 的格式在标记后被改过，保持现状"
        return msg + "。"


def copy_path(path: Path) -> Path:
    """Where marks go when the original must stay untouched: ``台账.校验结果.xlsx`` beside it."""
    from datetime import datetime

    from toolkit.safesave import NAME_BYTES, fit_name, lock_files

    room = NAME_BYTES - len("~$")  # Excel's lock file of the copy must fit as well
    target = path.with_name(fit_name(path.stem, f".{RESULT_SHEET}{path.suffix}", room))
    if lock_files(target):
        stamp = f".{RESULT_SHEET}-{datetime.now():%Y%m%d-%H%M%S}{path.suffix}"
        target = path.with_name(fit_name(path.stem, stamp, room))
    return target


def _read(path: Path) -> bytes:
    """A user's workbook: a regular file of bounded size (a pipe or a device is refused, never read)."""
    from toolkit.guard import read_user_file

    return read_user_file(path, "工作簿文件")


def make_verifier(
    sheet_names: list[str],
    ledger_sheet: str,
    rows: int,
    expected: bytes | None = None,
    written_from: Package | None = None,
):
    """Read-back check for a written file: the bytes intended, every CRC good, the sheet list, the ledger
    sheet's row count, and every changed XML part well-formed.

    ``written_from``: the package ``expected`` was made from and proved against (``ooxml.verify_written``:
    every CRC good, every part exactly these bytes). A file equal to ``expected`` is then not unzipped a
    second time: its parts are those."""

    def verify(tmp: Path) -> None:
        data = tmp.read_bytes()
        if expected is not None and data != expected:
            raise OSError("the file on disk is not what was written")
        if expected is not None and written_from is not None:
            pkg = written_from
        else:
            pkg = Package.from_bytes(data, tmp.name)  # reads every part, checking each CRC
        wb = ooxml.open_workbook(pkg)
        names = [s.name for s in wb.sheets]
        if names != sheet_names:
            raise OSError(f"sheet list differs after writing: {names} != {sheet_names}")
        ref = _ledger_sheet(wb, ledger_sheet)
        got = ooxml.count_rows(pkg.require(ref.part))
        if got != rows:
            raise OSError(f"ledger sheet has {got} rows after writing, expected {rows}")

    return verify


def mark_file(path: str | Path, ledger, report, *, backup: bool = True) -> MarkResult:
    """Write the marks of ``report`` into the workbook at ``path`` (or a copy beside it, with the reason)."""
    from toolkit import safesave
    from toolkit.errors import OutputError

    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise OutputError(f"只能在 .xlsx 或 .xlsm 工作簿中标记，请先把“{path.name}”另存为 .xlsx 后再运行。")
    raw = _read(path)
    sheet = ledger.sheet
    findings = list(report.findings)
    truncated = getattr(report, "truncated", 0)
    reason = ""
    lossless = True
    notes = [getattr(report, "columns_line", "")]  # how the headers were read, beside the findings
    try:
        new, stats, pkg = _marked(raw, sheet, findings, truncated=truncated, label=path.name, notes=notes)
    except Unpatchable as exc:
        reason = f"工作簿中有无法安全修改的内容（{exc}）"
        new, stats = openpyxl_marked_copy(
            raw, sheet, findings, truncated=truncated, label=path.name, notes=notes
        )
        pkg = None
        lossless = False
    locks = safesave.lock_files(path)
    if locks and not reason:
        reason = f"“{path.name}”正在被打开（发现“{locks[0].name}”），请关闭后重新运行以标记原文件"
    if reason:
        target = copy_path(path)
        verify = make_verifier(stats.sheet_names, sheet, stats.rows_after, new, pkg) if lossless else None
        safesave.write_new(target, new, verify=verify)
        return MarkResult(path, target, True, reason, None, stats, lossless)
    try:
        saved = safesave.replace_file(
            path,
            new,
            original=raw,
            verify=make_verifier(stats.sheet_names, sheet, stats.rows_after, new, pkg),
            backup=backup,
        )
    except safesave.FileInUseError:
        target = copy_path(path)
        safesave.write_new(target, new)
        reason = f"“{path.name}”正在被打开，请关闭后重新运行以标记原文件"
        return MarkResult(path, target, True, reason, None, stats, lossless)
    return MarkResult(path, path, False, "", saved.backup, stats, lossless)


def clear_file(path: str | Path, *, backup: bool = True) -> ClearResult:
    """Take our marks out of the workbook at ``path``; the user's own formats, notes and sheets stay."""
    from toolkit import safesave
    from toolkit.errors import OutputError
    from toolkit.guard import check_workbook

    path = Path(path)
    raw = _read(path)
    package = check_workbook(path)  # a workbook validate would refuse is not rewritten either
    try:
        new, stats, pkg = _cleared(raw, path.name)
    except Unpatchable as exc:
        raise OutputError(f"“{path.name}”中的标记无法安全清除（{exc}），文件未改动。") from exc
    if not stats.found:
        return ClearResult(path, False, None, stats)
    ledger_name = stats.ledger_sheet
    from toolkit.read import check_readable

    check_readable(package, ledger_name)
    try:  # pkg holds exactly the parts of ``new`` (verify_written proved it); the file on disk is checked
        wb = ooxml.open_workbook(pkg)  # against ``new`` and re-read by the verifier
        names = [s.name for s in wb.sheets]
        verify = None
        if ledger_name in names:
            rows = ooxml.count_rows(pkg.require(_ledger_sheet(wb, ledger_name).part))
            verify = make_verifier(names, ledger_name, rows, new, pkg)
    except Unpatchable as exc:
        raise OutputError(f"“{path.name}”中的标记无法安全清除（{exc}），文件未改动。") from exc
    saved = safesave.replace_file(path, new, original=raw, verify=verify, backup=backup)
    return ClearResult(path, True, saved.backup, stats)


@contextlib.contextmanager
def _quiet_fallback() -> Iterator[None]:
    """openpyxl's warnings about what it drops, and the "Exception ignored" of its half-closed archives
    after a failure, are for developers: the clerk gets the one sentence that says what happened."""
    import gc
    import sys
    import warnings

    hook = sys.unraisablehook
    sys.unraisablehook = lambda _unraisable: None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        gc.collect()  # finalise what the failure left behind while the hook is ours
        sys.unraisablehook = hook


def openpyxl_marked_copy(
    raw: bytes, sheet: str, findings: list, *, truncated: int = 0, label: str = "", notes: Sequence[str] = ()
):
    """Last resort for packages we cannot patch: the marks on an openpyxl copy (never the original)."""
    import io

    from openpyxl import load_workbook

    from toolkit.errors import UnreadableFileError

    keep_vba = label.lower().endswith(".xlsm")
    with _quiet_fallback():
        try:
            wb = load_workbook(io.BytesIO(raw), keep_vba=keep_vba, rich_text=True)
        except Exception as exc:  # openpyxl raises many kinds on broken input
            raise UnreadableFileError(f"“{label}”无法读取，请用 Excel 打开确认后另存为 .xlsx 再试。") from exc
        return _openpyxl_marks(wb, sheet, findings, truncated, label, notes)


def _openpyxl_marks(wb, sheet: str, findings: list, truncated: int, label: str, notes: Sequence[str] = ()):
    import io

    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    from toolkit.config import FIELD_LABELS
    from toolkit.errors import UnreadableFileError

    if sheet not in wb.sheetnames:
        raise UnreadableFileError(f"“{label}”中找不到工作表“{sheet}”。")
    ws = wb[sheet]
    marks = plan_marks(findings)
    stats = MarkStats(findings=len(findings), rows_before=ws.max_row)
    for mark in marks.values():
        cell = ws.cell(mark.row, mark.col)
        cell.fill = PatternFill("solid", fgColor=FILL_RGB[mark.severity])
        stats.cells += 1
        if cell.comment is None and mark.messages:
            cell.comment = Comment(f"{AUTHOR}:\n" + "\n".join(mark.messages), AUTHOR, width=240, height=110)
            stats.comments += 1
        elif cell.comment is not None:
            stats.skipped_comments += 1
    name = RESULT_SHEET
    n = 2
    while name in wb.sheetnames:
        name, n = f"{RESULT_SHEET} ({n})", n + 1
    rs = wb.create_sheet(name)
    rs.append(["序号", "级别", "位置", "字段", "问题说明", "单元格内容", "问题代码"])
    quoted = "'" + sheet.replace("'", "''") + "'"
    for i, f in enumerate(findings, 1):
        where = f"{f.column or ''}{f.row or ''}"
        values = [
            i,
            SEVERITY_LABELS.get(f.severity, f.severity),
            where or "—",
            FIELD_LABELS.get(f.field or "", f.field or ""),
            f.message or "",
            "" if f.value is None else str(f.value),
            f.code or "",
        ]
        rs.append(values)
        for c in rs[rs.max_row][1:]:
            c.data_type = "s"  # never a formula, whatever the text starts with
        if f.row and f.column:
            rs.cell(rs.max_row, 3).hyperlink = f"#{quoted}!{str(f.column).upper()}{int(f.row)}"
    if truncated:
        rs.append(["", "", "", "", f"另有 {truncated} 条问题未列出。"])
    for note in notes:
        if note:
            rs.append(["", "", "", "", note])
    buf = io.BytesIO()
    try:
        wb.save(buf)
    except Exception as exc:  # a part the package names but lacks, a value openpyxl cannot write back
        raise UnreadableFileError(
            f"“{label}”有损坏的部分，既无法直接标记，也无法生成标记副本，请用 Excel 打开修复并另存后再试。"
        ) from exc
    stats.sheet_names = list(wb.sheetnames)
    stats.rows_after = ws.max_row
    return buf.getvalue(), stats
