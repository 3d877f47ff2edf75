"""Mark and clear a workbook package: the part patches composed, each recorded so that it can be undone.

Marking first undoes the previous marks (from the record), then colours the cells (cells.py, with the
formats from styles.py), adds the notes (notes.py), the 校验结果 sheet (resultsheet.py) and the record
(record.py), proves the patched ledger sheet with a real parser and re-reads the written package.
Clearing undoes the record's changes where the workbook still shows them, and leaves the rest.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import ParamSpec, TypeVar

from toolkit import fastpath
from toolkit.layout import RESULTS_SHEET
from toolkit.xlsx.cells import mark_cells, open_empty_sheet_data, unmark_cells
from toolkit.xlsx.notes import clear_notes, unlink_drawing_edits, write_notes
from toolkit.xlsx.package import (
    RT_STYLES,
    RT_WORKSHEET,
    THREADED_COMMENTS_MARK,
    Package,
    Rel,
    internal_rel,
    read_rels,
    verify_written,
)
from toolkit.xlsx.plan import FILL_RGB, CellMark, plan_marks, to_merge_anchors
from toolkit.xlsx.record import (
    MarksRecord,
    check_record,
    check_styles_still_fit,
    find_record,
    remove_record,
    write_record,
)
from toolkit.xlsx.resultsheet import (
    add_result_sheet,
    is_our_result_sheet,
    remove_result_sheet,
    result_sheet_xml,
)
from toolkit.xlsx.sheetscan import SheetScan, check_patched_sheet, scan_sheet
from toolkit.xlsx.styles import StylesPatch, trim_styles
from toolkit.xlsx.workbookpart import Workbook, free_sheet_name, open_workbook, worksheet
from toolkit.xlsx.xmlbytes import Unpatchable, apply_edits


@dataclass
class MarkStats:
    cells: int = 0  # cells given a fill
    comments: int = 0  # notes added
    skipped_comments: int = 0  # cells that already hold a user comment: fill only
    findings: int = 0  # rows on the 校验结果 sheet
    rows_after: int = 0  # <row> elements of the ledger sheet after marking
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


P = ParamSpec("P")
R = TypeVar("R")


def _no_gc(func: Callable[P, R]) -> Callable[P, R]:
    """Run without the cyclic garbage collector: the work allocates many small acyclic objects, and
    collector passes over them cost more than the patching itself on big ledgers. A speed trick, so
    ``LEDGER_FASTPATH=0`` turns it off with the others (``toolkit.fastpath``)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not fastpath.enabled():
            return func(*args, **kwargs)
        was = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if was:
                gc.enable()

    return wrapper


# --------------------------------------------------------------------------- mark


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
    out, stats, _ = marked(
        raw, sheet, findings, truncated=truncated, label=label, field_labels=field_labels, notes=notes
    )
    return out, stats


@_no_gc
def marked(
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
    wb = open_workbook(pkg)
    ledger = worksheet(wb, sheet)
    result_name = free_sheet_name(wb, RESULTS_SHEET)  # a sheet of that name that is not ours stays
    styles_rel = internal_rel(wb.rels, RT_STYLES)
    if styles_rel is None:
        raise Unpatchable("工作簿没有样式部件")
    sheet_rels = read_rels(pkg, ledger.part)
    _refuse_threaded_comments(sheet_rels)
    scan = scan_sheet(pkg.require(ledger.part), ledger.part)
    marks = to_merge_anchors(plan_marks(findings), scan)
    styles = StylesPatch(pkg, styles_rel.target)
    record = _mark_ledger_sheet(pkg, ledger.part, sheet_rels, scan, marks, styles, stats)
    xf_for = {sev: styles.xf_for(0, sev) for sev in FILL_RGB}  # the 级别 cells share the marks' colours
    result_xml = result_sheet_xml(findings, sheet, xf_for, truncated, field_labels, notes)
    record = replace(
        record,
        ledger_sheet=sheet,
        result_sheet=result_name,
        styles=styles.commit(),  # after the last format is added; before the result sheet is numbered
        result=add_result_sheet(pkg, wb, result_name, result_xml),
    )
    write_record(pkg, wb, record)
    stats.sheet_names = [s.name for s in wb.sheets] + [result_name]
    out = pkg.to_bytes()
    verify_written(out, pkg)
    return out, stats, pkg


def _refuse_threaded_comments(rels: list[Rel]) -> None:
    for rel in rels:
        if THREADED_COMMENTS_MARK in rel.type:
            raise Unpatchable("台账工作表含有新版“批注（线程）”")


def _mark_ledger_sheet(
    pkg: Package,
    part: str,
    sheet_rels: list[Rel],
    scan: SheetScan,
    marks: dict[tuple[int, int], CellMark],
    styles: StylesPatch,
    stats: MarkStats,
) -> MarksRecord:
    """Colour and note the marked cells, and prove the patched sheet. Returns the record of the sheet's
    changes (the sheet names, styles and result sheet are the caller's to fill in)."""
    cells = mark_cells(scan, marks, styles)
    written = write_notes(pkg, part, sheet_rels, scan, marks.values())
    edits, sheet_data_tag = open_empty_sheet_data(scan, cells.edits + written.sheet_edits)
    stats.cells = len(cells.cells)
    stats.comments, stats.skipped_comments = written.notes, written.skipped
    new_data = apply_edits(scan.data, edits)
    stats.rows_after = scan.n_rows + sum(1 for r in cells.rows if r.kind == "new")
    check_patched_sheet(
        new_data,
        part,
        stats.rows_after,
        scan.n_cells + sum(1 for c in cells.cells if c.kind == "new_cell"),
        {c.ref: str(c.ours) for c in cells.cells},
    )
    pkg.set(part, new_data)
    return MarksRecord("", "", cells.cells, cells.rows, written.undo, sheet_data_tag)


# --------------------------------------------------------------------------- clear


def clear_package(raw: bytes, *, label: str = "") -> tuple[bytes, ClearStats]:
    """Return the package with our marks taken out (unchanged bytes when there were none)."""
    out, stats, _ = cleared(raw, label)
    return out, stats


@_no_gc
def cleared(raw: bytes, label: str) -> tuple[bytes, ClearStats, Package]:
    """``clear_package``, also giving the cleared package (its parts are exactly the bytes written)."""
    pkg = Package.from_bytes(raw, label)
    stats = ClearStats()
    _clear_in(pkg, stats)
    if not stats.found:
        return raw, stats, pkg
    out = pkg.to_bytes()
    verify_written(out, pkg)
    return out, stats, pkg


def _clear_in(pkg: Package, stats: ClearStats, check: bool = True) -> None:
    """Undo our marks in ``pkg``. ``check=False`` when marks follow at once (their check covers both)."""
    found = find_record(pkg)
    if found is None:
        return
    stats.found = True
    ipart, raw_record = found
    wb = open_workbook(pkg)
    check_record(raw_record)
    record = MarksRecord.from_json(raw_record)
    check_styles_still_fit(pkg, wb, record)
    stats.ledger_sheet = record.ledger_sheet
    _remove_our_result_sheet(pkg, wb, record, stats)
    _unmark_ledger_sheet(pkg, wb, record, stats, check)
    if record.styles is not None:
        parts = [s.part for s in wb.sheets if s.rel_type == RT_WORKSHEET and s.part and pkg.has(s.part)]
        stats.styles_trimmed = trim_styles(pkg, record.styles, parts)
    remove_record(pkg, wb, ipart)


def _remove_our_result_sheet(pkg: Package, wb: Workbook, record: MarksRecord, stats: ClearStats) -> None:
    """The 校验结果 sheet goes only when it is provably the one we wrote, unchanged."""
    named = next((s for s in wb.sheets if s.name == record.result_sheet), None)
    ours = named if named is not None and is_our_result_sheet(pkg, named, record.result) else None
    if named is not None and ours is None and named.name != record.ledger_sheet:
        stats.sheet_kept = named.name
    if ours is not None:
        remove_result_sheet(pkg, wb, ours)
        stats.sheet_removed = True


def _unmark_ledger_sheet(
    pkg: Package, wb: Workbook, record: MarksRecord, stats: ClearStats, check: bool
) -> None:
    """Cells, notes and the legacy drawing link of the ledger sheet."""
    ledger = next(
        (s for s in wb.sheets if s.name == record.ledger_sheet and s.rel_type == RT_WORKSHEET), None
    )
    if ledger is None and (record.cells or record.notes.refs):
        raise Unpatchable(f"找不到上次标记的工作表“{record.ledger_sheet}”（可能已改名），请改回原名后再运行")
    if ledger is None or not pkg.has(ledger.part):
        return
    data = pkg.require(ledger.part)
    scan = scan_sheet(data, ledger.part)
    restored = unmark_cells(scan, record.cells, record.rows)
    stats.cells += restored.restored
    stats.kept_cells.extend(restored.kept)
    removed_notes, drawing_gone = clear_notes(pkg, ledger.part, record.notes)
    stats.comments += removed_notes
    edits = restored.edits + (unlink_drawing_edits(scan, record.notes) if drawing_gone else [])
    if not edits:
        return
    data = apply_edits(data, edits)
    if record.sheet_data_tag:
        orig, open_tag = (t.encode() for t in record.sheet_data_tag)
        data = data.replace(open_tag + b"</sheetData>", orig, 1)
    if check:
        check_patched_sheet(
            data,
            ledger.part,
            scan.n_rows - restored.removed_rows,
            scan.n_cells - restored.removed_cells,
            restored.styles,
        )
    pkg.set(ledger.part, data)
