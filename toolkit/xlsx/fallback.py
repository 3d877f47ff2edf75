"""The last resort for a package we cannot patch: the marks on an openpyxl copy, never the original.

openpyxl rewrites what it does not model, which is why this is only ever written beside the original
(``MarkResult.lossless`` is False then).
"""

from __future__ import annotations

import contextlib
import gc
import io
import sys
import warnings
from collections.abc import Iterator, Sequence

from toolkit.layout import RESULTS_SHEET, SEVERITY_LABELS
from toolkit.xlsx.marks import MarkStats
from toolkit.xlsx.plan import AUTHOR, FILL_RGB, plan_marks
from toolkit.xlsx.resultsheet import RESULT_HEADERS


@contextlib.contextmanager
def _quiet_fallback() -> Iterator[None]:
    """openpyxl's warnings about what it drops, and the "Exception ignored" of its half-closed archives
    after a failure, are for developers: the clerk gets the one sentence that says what happened."""
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
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    from toolkit.config import FIELD_LABELS
    from toolkit.errors import UnreadableFileError

    if sheet not in wb.sheetnames:
        raise UnreadableFileError(f"“{label}”中找不到工作表“{sheet}”。")
    ws = wb[sheet]
    marks = plan_marks(findings)
    stats = MarkStats(findings=len(findings))
    for mark in marks.values():
        cell = ws.cell(mark.row, mark.col)
        cell.fill = PatternFill("solid", fgColor=FILL_RGB[mark.severity])
        stats.cells += 1
        if cell.comment is None and mark.messages:
            cell.comment = Comment(f"{AUTHOR}:\n" + "\n".join(mark.messages), AUTHOR, width=240, height=110)
            stats.comments += 1
        elif cell.comment is not None:
            stats.skipped_comments += 1
    name = RESULTS_SHEET
    n = 2
    while name in wb.sheetnames:
        name, n = f"{RESULTS_SHEET} ({n})", n + 1
    rs = wb.create_sheet(name)
    rs.append(list(RESULT_HEADERS))
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
