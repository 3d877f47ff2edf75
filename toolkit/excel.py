"""The Python behind the workbook's buttons (xlwings RunPython): 校验台账, 生成通报, 清除标记.

Each function reads the open workbook through xlwings, makes the same library calls as the CLI
(``ledger_from_rows`` → ``validate_ledger`` / ``toolkit.api``) and writes back through xlwings.
Only calls that every xlwings engine offers are used (Excel on Windows and macOS, and the remote
engine that xlwings Server and the tests use); where an engine cannot do something (the remote
engine cannot read a fill colour or a merged area) the code degrades instead of failing.

Marks are recorded in the hidden _整改台账标记 sheet (sheet, cell, previous fill, our fill) so that a
re-run replaces them and 清除标记 restores exactly what the clerk had, never touching other colours.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from toolkit.config import DEFAULT_CONFIG, Config
from toolkit.errors import LedgerError, NoLedgerError
from toolkit.layout import (
    AUX_SHEETS,
    CONFIG_SHEET,
    ERROR_FILL,
    INFO_SHEET,
    LEDGER_SHEET,
    MARKS_HEADERS,
    MARKS_SHEET,
    RESULTS_SHEET,
    SEVERITY_LABELS,
    WARNING_FILL,
    config_from_rows,
)
from toolkit.model import ERROR, WARNING, Ledger, Report

FILLS = {ERROR: ERROR_FILL, WARNING: WARNING_FILL}
RESULT_HEADERS = ("单元格", "字段", "级别", "内容", "说明", "代码")
T = TypeVar("T")
NOTE_PREFIX = "【台账校验】"  # marks our notes so clearing never deletes the clerk's own
UNKNOWN_FILL = "?"  # the engine could not tell the previous fill (remote engine): restore means "no fill"


@dataclass
class Loaded:
    """The ledger as read from the open workbook, with the xlwings sheet it came from."""

    ledger: Ledger
    config: Config
    sheet: Any  # xlwings Sheet


# --- entry points (bound to the buttons) ---------------------------------------------------------------


def validate(book: Any = None, as_of: date | None = None) -> Report | None:
    """校验台账: colour faulty cells, rewrite the 校验结果 sheet, tell the clerk how many findings."""
    from toolkit.validate import validate_ledger

    book = _caller(book)
    try:
        loaded = load(book)
        report = validate_ledger(loaded.ledger, as_of or date.today(), loaded.config)
    except LedgerError as exc:
        _alert(book, str(exc), "校验台账", critical=True)
        return None

    def write_back() -> bool:
        previous = _restore_marks(book)
        record = _apply_marks(loaded.sheet, plan_marks(report), plan_notes(report), previous)
        _write_record(book, record)
        _write_results(book, loaded.sheet, report)
        return True

    if _guarded(book, "校验台账", write_back) is None:
        return None
    _record_history(loaded, report.as_of, "button-validate")
    _alert(book, summarize(report), "校验台账", critical=not report.valid)
    return report


def clear_marks(book: Any = None) -> int:
    """清除标记: restore the fills we changed and empty the 校验结果 sheet; returns the cells restored."""
    book = _caller(book)

    def write_back() -> dict[tuple[str, str], str]:
        restored = _restore_marks(book)
        _write_record(book, [])
        results = find_sheet(book, RESULTS_SHEET)
        if results is not None:
            results.clear()
            results.range("A1").value = "校验标记已清除。重新点击“校验台账”可再次校验。"
        return restored

    restored = _guarded(book, "清除标记", write_back)
    if restored is None:
        return 0
    message = f"已清除 {len(restored)} 处校验标记。" if restored else "没有需要清除的校验标记。"
    _alert(book, message, "清除标记")
    return len(restored)


def report(book: Any = None, as_of: date | None = None) -> Path | None:
    """生成通报: write the Word 通报 next to the workbook (the CLI's file name) and say where it is.

    Like ``ledger report``, a ledger with errors gives no 通报 unless the clerk says so: the desktop
    engines ask (the button's --allow-errors); engines that cannot ask a question refuse, as the CLI does.
    """
    from toolkit import api
    from toolkit.render import ReportOptions
    from toolkit.validate import validate_ledger

    book = _caller(book)
    title = "生成通报"
    try:
        loaded = load(book)
        when = as_of or date.today()
        checked = validate_ledger(loaded.ledger, when, loaded.config)
        if checked.errors and not _confirm(
            book,
            f"台账有 {checked.errors} 处错误，通报中的数字可能不准确。仍要生成通报吗？"
            "（选“否”后可点“校验台账”查看并修正。）",
            title,
        ):
            _alert(book, f"台账有 {checked.errors} 处错误，未生成通报：请先点“校验台账”查看并修正。", title)
            return None
        result = api.report(
            loaded.ledger,
            checked,
            when,
            ReportOptions(config=loaded.config),
            folder=report_dir(book),
            record_as="button-report",
            open_workbook=True,
        )
    except LedgerError as exc:
        _alert(book, str(exc), title, critical=True)
        return None
    lines = [f"通报已生成：{result.path}", *(f"提示：{note}" for note in result.notes)]
    if checked.errors:
        lines.append(f"提示：台账有 {checked.errors} 处错误，通报中的数字可能不准确。")
    _alert(book, "\n".join(lines), title)
    return Path(result.path)


def _record_history(loaded: Loaded, as_of: date, command: str) -> None:
    """A history snapshot beside the workbook, as the CLI records; only for a workbook saved on this
    computer (``api.record_history``). Never fails the button: a failure is a warning on stderr."""
    from toolkit.api import record_history

    failure = record_history(loaded.ledger, as_of, command=command, open_workbook=True)
    if failure:
        from toolkit.history import warn

        warn(failure)


# --- reading -------------------------------------------------------------------------------------------


def _caller(book: Any) -> Any:
    if book is not None:
        return book
    import xlwings as xw

    return xw.Book.caller()


def find_sheet(book: Any, name: str) -> Any | None:
    for sheet in book.sheets:
        if sheet.name.casefold() == name.casefold():
            return sheet
    return None


def sheet_rows(sheet: Any) -> list[list[object]]:
    """The sheet's values from A1 to the end of its used range (``ledger_from_rows`` wants a grid at A1)."""
    last = sheet.used_range.last_cell
    nrows, ncols = last.row, last.column
    values = sheet.range((1, 1), (nrows, ncols)).options(ndim=2).value or []
    rows = [list(row) for row in values]
    while rows and all(v is None or v == "" for v in rows[-1]):
        rows.pop()
    return rows


def merged_areas(sheet: Any, rows: list[list[object]]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Merged areas as ((r0, c0), (r1, c1)), 0-based; empty where the engine cannot tell (remote).

    Only empty cells can be the covered part of a merge, and only columns that report merged cells
    are scanned, so a ledger without merges costs one call.
    """
    if not rows:
        return []
    nrows, ncols = len(rows), max(len(r) for r in rows)
    try:
        if sheet.range((1, 1), (nrows, ncols)).merge_cells is False:
            return []
    except (NotImplementedError, AttributeError):
        return []
    areas: set[tuple[tuple[int, int], tuple[int, int]]] = set()
    covered: set[tuple[int, int]] = set()
    for c in range(ncols):
        if sheet.range((1, c + 1), (nrows, c + 1)).merge_cells is False:
            continue
        for r in range(nrows):
            value = rows[r][c] if c < len(rows[r]) else None
            if (r, c) in covered or value not in (None, ""):
                continue
            area = sheet.range((r + 1, c + 1)).merge_area
            height, width = area.shape
            if height * width <= 1:
                continue
            r0, c0 = area.row - 1, area.column - 1
            areas.add(((r0, c0), (r0 + height - 1, c0 + width - 1)))
            covered.update((rr, cc) for rr in range(r0, r0 + height) for cc in range(c0, c0 + width))
    return sorted(areas)


def load(book: Any) -> Loaded:
    """Read config, 通报信息 and the ledger sheet from the open workbook."""
    from toolkit.read import ledger_from_rows

    config = DEFAULT_CONFIG
    config_sheet = find_sheet(book, CONFIG_SHEET)
    if config_sheet is not None:
        config = config_from_rows(sheet_rows(config_sheet))
    info_sheet = find_sheet(book, INFO_SHEET)
    info_rows = sheet_rows(info_sheet) if info_sheet is not None else None
    path = str(book.fullname)

    candidates = []
    preferred = find_sheet(book, LEDGER_SHEET)
    if preferred is not None:
        candidates.append(preferred)
    try:
        active = book.sheets.active
    except Exception:  # an engine without an active sheet: fall through to the rest
        active = None
    for sheet in [active, *book.sheets]:
        if sheet is None or sheet.name in AUX_SHEETS or any(sheet.name == s.name for s in candidates):
            continue
        candidates.append(sheet)
    failure: LedgerError | None = None
    for sheet in candidates:
        rows = sheet_rows(sheet)
        try:
            ledger = ledger_from_rows(
                rows,
                sheet=sheet.name,
                path=path,
                merged=merged_areas(sheet, rows),
                info_rows=info_rows,
                config=config,
            )
        except NoLedgerError as exc:
            failure = failure or exc
            continue
        return Loaded(ledger, config, sheet)
    raise failure or NoLedgerError(
        f"工作簿“{book.name}”中没有找到台账表，请确认表头含“问题描述”“完成状态”等列。"
    )


# --- marks ---------------------------------------------------------------------------------------------


def plan_marks(report: Report) -> dict[str, str]:
    """Cell address → fill: errors win over warnings on the same cell; infos are listed, not coloured."""
    marks: dict[str, str] = {}
    for finding in report.findings:
        fill = FILLS.get(finding.severity)
        if fill is None or not finding.row or not finding.column:
            continue
        cell = f"{finding.column}{finding.row}"
        if marks.get(cell) != ERROR_FILL:
            marks[cell] = fill
    return marks


def plan_notes(report: Report) -> dict[str, str]:
    """Cell address → the note put on a marked cell: every message about it, errors first."""
    messages: dict[str, list[tuple[int, str]]] = {}
    for finding in report.findings:
        if finding.severity not in FILLS or not finding.row or not finding.column:
            continue
        rank = 0 if finding.severity == ERROR else 1
        messages.setdefault(f"{finding.column}{finding.row}", []).append((rank, finding.message))
    return {cell: NOTE_PREFIX + "\n".join(m for _, m in sorted(items)) for cell, items in messages.items()}


def _hex(color: Any) -> str:
    """Normalise what xlwings returns for a fill (None, RGB tuple, int or hex) to '' or '#RRGGBB'."""
    if color is None or color == "":
        return ""
    if isinstance(color, str):
        return color.upper() if color.startswith("#") else "#" + color.upper()
    if isinstance(color, int):
        color = (color & 0xFF, (color >> 8) & 0xFF, (color >> 16) & 0xFF)
    red, green, blue = color
    return f"#{red:02X}{green:02X}{blue:02X}"


def _read_fill(rng: Any) -> str:
    try:
        return _hex(rng.color)
    except NotImplementedError:
        return UNKNOWN_FILL


def _set_fill(rng: Any, fill: str) -> None:
    rng.color = None if fill in ("", UNKNOWN_FILL) else fill


def _add_note(rng: Any, text: str) -> bool:
    """Add our note unless the cell has one already (the clerk's own stays); False where the engine
    cannot add notes (the remote engine with the VBA client)."""
    try:
        if rng.note is not None:
            return False
        rng.add_note(text)
    except NotImplementedError:
        return False
    return True


def _remove_note(rng: Any) -> None:
    """Delete the note we added, if it is still ours (engines that cannot read note text: if it exists)."""
    try:
        note = rng.note
        if note is None:
            return
        try:
            if not str(note.text).startswith(NOTE_PREFIX):
                return
        except NotImplementedError:
            pass
        note.delete()
    except NotImplementedError:
        return


Mark = tuple[str, str, str, str, str]  # sheet, cell, previous fill, our fill, "是" when we added the note


def _record_rows(book: Any) -> list[Mark]:
    sheet = find_sheet(book, MARKS_SHEET)
    if sheet is None:
        return []
    out = []
    for row in sheet_rows(sheet)[1:]:
        cells = [("" if v is None else str(v)) for v in [*row, "", "", "", "", ""][:5]]
        if cells[0] and cells[1]:
            out.append((cells[0], cells[1], cells[2], cells[3], cells[4]))
    return out


def _restore_marks(book: Any) -> dict[tuple[str, str], str]:
    """Undo the recorded marks; returns (sheet, cell) → the fill the clerk had before we marked it.

    A cell whose fill is no longer ours (the clerk recoloured it) keeps its fill. Engines that cannot
    read a fill (remote) restore every recorded cell.
    """
    restored: dict[tuple[str, str], str] = {}
    for sheet_name, cell, previous, ours, noted in _record_rows(book):
        sheet = find_sheet(book, sheet_name)
        if sheet is None:
            continue
        rng = sheet.range(cell)
        if noted:
            _remove_note(rng)
        current = _read_fill(rng)
        if current != UNKNOWN_FILL and ours and current != ours.upper():
            continue
        _set_fill(rng, previous)
        restored[(sheet.name, cell)] = previous
    return restored


def _apply_marks(
    sheet: Any, marks: dict[str, str], notes: dict[str, str], previous: dict[tuple[str, str], str]
) -> list[Mark]:
    record = []
    for cell, fill in marks.items():
        rng = sheet.range(cell)
        before = previous.get((sheet.name, cell))
        if before is None:
            before = _read_fill(rng)
        _set_fill(rng, fill)
        noted = "是" if cell in notes and _add_note(rng, notes[cell]) else ""
        record.append((sheet.name, cell, before, fill, noted))
    return record


def _can_hide_sheets(book: Any) -> bool:
    """Every engine can, except xlwings' VBA client of the remote engine (Remote.bas has no such action)."""
    try:
        if book.app.engine.name != "remote":
            return True
        return book.api.get("client") != "VBA"
    except Exception:  # an engine that cannot say: try, and let NotImplementedError tell
        return True


def _write_record(book: Any, record: Sequence[Mark]) -> None:
    sheet = find_sheet(book, MARKS_SHEET)
    if sheet is None:
        if not record:
            return
        sheet = book.sheets.add(MARKS_SHEET, after=book.sheets[len(book.sheets) - 1])
        if _can_hide_sheets(book):
            with contextlib.suppress(NotImplementedError):
                sheet.visible = False
    else:
        sheet.clear_contents()
    sheet.range("A1").value = [list(MARKS_HEADERS), *([as_text(v) for v in row] for row in record)]


# --- results sheet -------------------------------------------------------------------------------------


def as_text(value: object) -> object:
    """Text for a cell that must stay text: a leading apostrophe stops Excel reading it as a formula,
    number or date (the apostrophe is not part of the value)."""
    if value is None:
        return ""
    text = str(value)
    if not text:
        return ""
    return "'" + text


def _link(sheet_name: str, cell: str) -> str:
    target = "#'" + sheet_name.replace("'", "''") + "'!" + cell
    return '=HYPERLINK("' + target.replace('"', '""') + '","' + cell + '")'


def summarize(report: Report) -> str:
    """The one line the clerk reads after clicking 校验台账."""
    if not report.findings:
        return f"校验通过：共 {report.rows} 行，未发现错误或提醒。"
    infos = len(report.findings) - report.errors - report.warnings
    text = f"发现 {report.errors} 处错误、{report.warnings} 处提醒"
    if infos:
        text += f"、{infos} 条提示"
    text += f"（共 {report.rows} 行）。错误的单元格标为红色，提醒标为黄色，逐条说明见“{RESULTS_SHEET}”表。"
    if report.truncated:
        text += f"另有 {report.truncated} 条未列出，请先修正已列出的问题。"
    return text


def results_rows(report: Report, sheet_name: str) -> list[list[object]]:
    """The 校验结果 grid: a summary line, the header, one row per finding (cell linked when known)."""
    from toolkit.config import FIELD_LABELS

    rows: list[list[object]] = [
        [as_text(f"{report.as_of.isoformat()} 校验：{summarize(report)}"), "", "", "", "", ""],
        list(RESULT_HEADERS),
    ]
    for f in report.findings:
        cell = f"{f.column or ''}{f.row or ''}"
        rows.append(
            [
                _link(sheet_name, cell) if f.row and f.column else as_text(cell),
                as_text(FIELD_LABELS.get(f.field or "", f.field or "")),
                SEVERITY_LABELS.get(f.severity, f.severity),
                as_text(f.value),
                as_text(f.message),
                f.code,
            ]
        )
    if report.columns_line:  # how the headers were understood: the clerk checks it where the findings are
        rows += [[""] * 6, [as_text(report.columns_line), "", "", "", "", ""]]
    return rows


def _write_results(book: Any, ledger_sheet: Any, report: Report) -> None:
    sheet = find_sheet(book, RESULTS_SHEET)
    if sheet is None:
        sheet = book.sheets.add(RESULTS_SHEET, after=ledger_sheet)
    else:
        sheet.clear()
    rows = results_rows(report, ledger_sheet.name)
    sheet.range("A1").value = rows
    if len(rows) > 2:  # fit the short columns to the findings, not to the summary line above them
        sheet.range((2, 1), (len(rows), 3)).columns.autofit()
    ledger_sheet.activate()


# --- report --------------------------------------------------------------------------------------------


def report_dir(book: Any) -> Path:
    """The workbook's folder when it is a file on disk; else (remote engine, a cloud URL, an unsaved
    book) the temp folder, the only place the Python side can be sure to write."""
    fullname = Path(str(book.fullname))
    if fullname.is_absolute() and fullname.parent.is_dir():
        return fullname.parent
    return Path(tempfile.gettempdir())


def _guarded(book: Any, title: str, action: Callable[[], T]) -> T | None:
    """Run the write-back; a refusal by Excel (a protected sheet, a cell being edited) becomes one
    sentence for the clerk instead of a traceback box, and None."""
    try:
        return action()
    except LedgerError as exc:
        _alert(book, str(exc), title, critical=True)
    except NotImplementedError:
        raise  # our bug, not the clerk's: let xlwings show it
    except Exception as exc:  # what the Office engines raise varies (COM, AppleScript): name it, stop
        _alert(
            book,
            f"无法把结果写回工作簿（{type(exc).__name__}：{exc}）。"
            "请确认工作表没有加保护、没有单元格正在编辑，然后再点一次。",
            title,
            critical=True,
        )
    return None


ASKING_ENGINES = frozenset({"excel"})  # Windows and macOS Excel: app.alert waits for the answer


def _confirm(book: Any, question: str, title: str) -> bool:
    """Yes/no from the clerk where the engine can wait for it; False elsewhere (the CLI's default)."""
    try:
        engine = book.app.engine.name
    except Exception:  # an engine that cannot say what it is cannot ask either
        return False
    if engine not in ASKING_ENGINES:
        return False
    return book.app.alert(question, title=title, buttons="yes_no", mode="critical") == "yes"


def _alert(book: Any, message: str, title: str, critical: bool = False) -> None:
    book.app.alert(message, title=title, mode="critical" if critical else "info")
