"""What gets marked: findings grouped by cell, the worst severity picking the colour, merged areas
marked at their top-left cell."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from toolkit.guard import EXCEL_MAX_COL, EXCEL_MAX_ROW
from toolkit.layout import ERROR_FILL, WARNING_FILL
from toolkit.model import column_index, column_letter
from toolkit.xlsx.sheetscan import SheetScan

AUTHOR = "整改台账工具箱"  # the author of our notes, and the tool named in the marks record
FILL_RGB = {
    "error": "FF" + ERROR_FILL.lstrip("#"),
    "warning": "FF" + WARNING_FILL.lstrip("#"),
}  # info: no fill
SEVERITY_RANK = {"error": 2, "warning": 1, "info": 0}


@dataclass
class CellMark:
    """One cell to mark: the worst severity of its findings and their messages, in order."""

    row: int
    col: int  # Excel's column number, 1-based (as openpyxl's ws.cell and <cols> count)
    severity: str
    messages: list[str] = field(default_factory=list)
    ref: str = ""

    def __post_init__(self) -> None:
        self.ref = self.ref or f"{column_letter(self.col - 1)}{self.row}"


def plan_marks(findings: Iterable) -> dict[tuple[int, int], CellMark]:
    """Group findings by cell; the worst severity picks the colour. Info alone marks nothing."""
    marks: dict[tuple[int, int], CellMark] = {}
    for f in findings:
        if f.severity not in FILL_RGB or not f.row or not f.column:
            continue
        letters = str(f.column).strip().upper()
        if not re.fullmatch(r"[A-Z]{1,3}", letters):
            continue
        col = column_index(letters) + 1
        if not (1 <= int(f.row) <= EXCEL_MAX_ROW and 1 <= col <= EXCEL_MAX_COL):
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
            key = (int(f.row), column_index(str(f.column).strip().upper()) + 1)
            if key in marks and f.message not in marks[key].messages:
                marks[key].messages.append(f.message)
    return marks


def to_merge_anchors(
    marks: dict[tuple[int, int], CellMark], scan: SheetScan
) -> dict[tuple[int, int], CellMark]:
    """A cell inside a merged area shows the top-left cell's format: mark that one instead."""
    merged = next((e for e in scan.tail if e.name == "mergeCells"), None)
    if merged is None or not marks:
        return marks
    ranges = []
    for m in re.finditer(
        rb'<mergeCell\s+ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"', scan.data[merged.start : merged.end]
    ):
        c1, c2 = column_index(m[1].decode()) + 1, column_index(m[3].decode()) + 1
        r1, r2 = int(m[2]), int(m[4])
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
