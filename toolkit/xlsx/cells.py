"""The ledger sheet's cells: each marked cell given our format, and its own format given back.

A marked cell keeps everything but its style index; a cell that has no ``<c>`` yet is created (and its
row, when the row has no tag either). Each change is recorded as a typed undo record, so that clear
restores exactly what was there, and only where the cell still has our format.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from toolkit.xlsx.plan import CellMark
from toolkit.xlsx.sheetscan import REF_RE, CellTag, RowTag, SheetScan
from toolkit.xlsx.styles import StylesPatch
from toolkit.xlsx.xmlbytes import Edit, Unpatchable

S_VALUE_RE = re.compile(rb"\ss\s*=\s*([\"'])([^\"']*)\1")
R_VALUE_RE = re.compile(rb"\sr\s*=\s*([\"'])[^\"']*\1")

CellKind = Literal["attr", "inserted_attr", "new_cell"]


@dataclass(frozen=True)
class CellUndo:
    """One marked cell. ``kind``: its ``s`` attribute was changed (``attr``), added (``inserted_attr``),
    or the whole ``<c>`` was created (``new_cell``)."""

    ref: str
    orig: int | None  # the cell's own style index; None when it had no ``s``
    ours: int  # the format we gave it
    base: int  # the format ours was cloned from
    kind: CellKind

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "orig": self.orig, "ours": self.ours, "base": self.base, "kind": self.kind}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CellUndo:
        return cls(d["ref"], d.get("orig"), d["ours"], d["base"], d["kind"])


@dataclass(frozen=True)
class RowUndo:
    """A row we created (``new``) or an empty ``<row/>`` we opened to hold new cells (``expanded``)."""

    r: int
    kind: Literal["new", "expanded"]
    orig_tag: str | None = None  # expanded: the row's tag before (``<row …/>``) and after (``<row …>``)
    open_tag: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.kind == "expanded":
            return {"r": self.r, "kind": self.kind, "orig_tag": self.orig_tag, "open_tag": self.open_tag}
        return {"r": self.r, "kind": self.kind}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RowUndo:
        return cls(d["r"], d["kind"], d.get("orig_tag"), d.get("open_tag"))


@dataclass
class CellsMarked:
    """The sheet edits that mark the cells, and their undo records."""

    edits: list[Edit]
    cells: tuple[CellUndo, ...]
    rows: tuple[RowUndo, ...]


@dataclass
class CellsRestored:
    """The sheet edits that give the cells back, and what the sheet must look like afterwards."""

    edits: list[Edit] = field(default_factory=list)
    restored: int = 0  # cells whose format was given back
    kept: list[str] = field(default_factory=list)  # cells the user restyled since: left alone
    removed_rows: int = 0
    removed_cells: int = 0
    styles: dict[str, str | None] = field(default_factory=dict)  # ref -> its style afterwards


def new_cell(ref: str, s: int) -> bytes:
    return f'<c r="{ref}" s="{s}"/>'.encode()


def _inherited_style(scan: SheetScan, row: RowTag | None, col: int) -> int:
    """The format an absent cell shows: its row's (when custom), else its column's, else the default."""
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


def mark_cells(scan: SheetScan, marks: dict[tuple[int, int], CellMark], styles: StylesPatch) -> CellsMarked:
    """Edits that give each marked cell our format, plus the records to undo them."""
    edits: list[Edit] = []
    cells_undo: list[CellUndo] = []
    rows_undo: list[RowUndo] = []
    by_row: dict[int, list[CellMark]] = {}
    for (r, _c), mark in sorted(marks.items()):
        by_row.setdefault(r, []).append(mark)
    numbers: list[int] | None = None  # row numbers in order, only when a row must be created
    for r, row_marks in by_row.items():
        row = scan.row(r)
        new_cells: list[tuple[int, bytes]] = []  # (col, bytes) of cells to create in this row
        for mark in row_marks:
            cell = row.find_cell(mark.ref) if row else None
            if cell is not None:
                edit, undo = _restyle_cell(scan, cell, mark, styles)
                edits.append(edit)
                cells_undo.append(undo)
            else:
                base = _inherited_style(scan, row, mark.col)
                ours = styles.xf_for(base, mark.severity)
                new_cells.append((mark.col, new_cell(mark.ref, ours)))
                cells_undo.append(CellUndo(mark.ref, None, ours, base, "new_cell"))
        if not new_cells:
            continue
        if row is None:
            el = f'<row r="{r}">'.encode() + b"".join(b for _, b in new_cells) + b"</row>"
            if numbers is None:
                numbers = [x.r for x in scan.rows]
            i = bisect.bisect_right(numbers, r)
            at = scan.rows[i].start if i < len(numbers) else scan.data_end
            edits.append((at, at, el))
            rows_undo.append(RowUndo(r, "new"))
        elif row.empty:
            tag = scan.data[row.start : row.tag_end]
            open_tag = tag[:-2].rstrip() + b">"
            body = b"".join(b for _, b in new_cells)
            edits.append((row.start, row.tag_end, open_tag + body + b"</row>"))
            rows_undo.append(RowUndo(r, "expanded", tag.decode(), open_tag.decode()))
        else:
            cols = [c.col for c in row.cells]
            for col, raw in new_cells:
                i = bisect.bisect_right(cols, col)
                at = row.cells[i].start if i < len(row.cells) else row.close_start
                edits.append((at, at, raw))
    return CellsMarked(edits, tuple(cells_undo), tuple(rows_undo))


def _restyle_cell(
    scan: SheetScan, cell: CellTag, mark: CellMark, styles: StylesPatch
) -> tuple[Edit, CellUndo]:
    """An existing cell: its ``s`` set to our clone of its format (or added when it had none)."""
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
        edit = (cell.start + m.start(2), cell.start + m.end(2), str(ours).encode())
        kind: CellKind = "attr"
    else:
        m = R_VALUE_RE.search(tag)
        if m is None:
            raise Unpatchable("单元格写法无法识别")
        at = cell.start + m.end()
        edit = (at, at, f' s="{ours}"'.encode())
        kind = "inserted_attr"
    return edit, CellUndo(mark.ref, int(s_raw) if s_raw else None, ours, base, kind)


def open_empty_sheet_data(scan: SheetScan, edits: list[Edit]) -> tuple[list[Edit], tuple[str, str] | None]:
    """``<sheetData/>`` becomes ``<sheetData>…our rows…</sheetData>``: the rows inserted at its end go
    inside. Returns the edits and, when the tag was opened, its (original, opened) start tags."""
    if scan.empty_tag is None:
        return edits, None
    start, end = scan.empty_tag
    inside = [e for e in edits if e[0] == e[1] == end]
    if not inside:
        return edits, None
    edits = [e for e in edits if not e[0] == e[1] == end]
    tag = scan.data[start:end]
    open_tag = tag[:-2].rstrip() + b">"
    edits.append((start, end, open_tag + b"".join(e[2] for e in inside) + b"</sheetData>"))
    return edits, (tag.decode(), open_tag.decode())


def unmark_cells(scan: SheetScan, cells: tuple[CellUndo, ...], rows: tuple[RowUndo, ...]) -> CellsRestored:
    """Edits that give back each marked cell's original format (only where it still has ours)."""
    out = CellsRestored()
    handled_rows = _drop_our_rows(scan, cells, rows, out)
    for undo in cells:
        r = int(REF_RE.fullmatch(undo.ref).group(2))
        if r in handled_rows:
            continue
        row = scan.row(r)
        cell = row.find_cell(undo.ref) if row else None
        if cell is None:
            continue
        if cell.s != str(undo.ours):
            out.kept.append(undo.ref)
            continue
        tag = scan.data[cell.start : cell.end]
        if undo.kind == "new_cell" and tag == new_cell(undo.ref, undo.ours):
            out.edits.append((cell.start, cell.end, b""))
            out.removed_cells += 1
        elif undo.kind == "inserted_attr":
            sm = re.search(rb"\ss\s*=\s*([\"'])" + str(undo.ours).encode() + rb"\1", tag)
            out.edits.append((cell.start + sm.start(), cell.start + sm.end(), b""))
            out.styles[undo.ref] = None
        else:
            restore = undo.orig if undo.orig is not None else undo.base
            sm = S_VALUE_RE.search(tag)
            out.edits.append((cell.start + sm.start(2), cell.start + sm.end(2), str(restore).encode()))
            out.styles[undo.ref] = str(restore)
        out.restored += 1
    return out


def _drop_our_rows(
    scan: SheetScan, cells: tuple[CellUndo, ...], rows: tuple[RowUndo, ...], out: CellsRestored
) -> set[int]:
    """Rows we created or expanded that hold nothing but our empty cells: restored whole. Returns
    their numbers (their cells need nothing more)."""
    handled: set[int] = set()
    ours_by_row: dict[int, list[CellUndo]] = {}
    for undo in cells:
        ours_by_row.setdefault(int(REF_RE.fullmatch(undo.ref).group(2)), []).append(undo)
    for rr in {u.r: u for u in rows}.values():
        r = rr.r
        row = scan.row(r)
        if row is None or row.empty:
            continue
        expected = {new_cell(u.ref, u.ours) for u in ours_by_row.get(r, []) if u.kind == "new_cell"}
        present = [scan.data[c.start : c.end] for c in row.cells]
        if not (present and all(p in expected and c.empty for p, c in zip(present, row.cells, strict=True))):
            continue
        body = scan.data[row.start : row.end]
        if rr.kind == "new" and body == f'<row r="{r}">'.encode() + b"".join(present) + b"</row>":
            out.edits.append((row.start, row.end, b""))
            out.removed_rows += 1
        elif rr.kind == "expanded" and body == rr.open_tag.encode() + b"".join(present) + b"</row>":
            out.edits.append((row.start, row.end, rr.orig_tag.encode()))
        else:
            continue
        handled.add(r)
        out.restored += len(present)
        out.removed_cells += len(present)
    return handled
