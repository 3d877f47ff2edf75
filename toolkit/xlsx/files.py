"""The file policy of ``--mark`` and ``clear``: which file is written, and how.

The original is replaced only through ``toolkit.safesave`` (a temp file beside it, verified by reading
it back, a backup first); when it is held open, or the package cannot be patched safely, the marks go
to a copy beside it (``台账.校验结果.xlsx``) and the original stays untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.layout import RESULTS_SHEET
from toolkit.xlsx.fallback import openpyxl_marked_copy
from toolkit.xlsx.marks import ClearStats, MarkStats, cleared, marked
from toolkit.xlsx.package import Package
from toolkit.xlsx.sheetscan import count_rows
from toolkit.xlsx.workbookpart import open_workbook, worksheet
from toolkit.xlsx.xmlbytes import Unpatchable


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
        done = f"已标记 {s.cells} 个单元格、添加 {s.comments} 条批注，{s.findings} 条问题列在“{RESULTS_SHEET}”工作表"
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
            msg += f"和“{RESULTS_SHEET}”工作表"
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
    target = path.with_name(fit_name(path.stem, f".{RESULTS_SHEET}{path.suffix}", room))
    if lock_files(target):
        stamp = f".{RESULTS_SHEET}-{datetime.now():%Y%m%d-%H%M%S}{path.suffix}"
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

    ``written_from``: the package ``expected`` was made from and proved against (``package.verify_written``:
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
        wb = open_workbook(pkg)
        names = [s.name for s in wb.sheets]
        if names != sheet_names:
            raise OSError(f"sheet list differs after writing: {names} != {sheet_names}")
        ref = worksheet(wb, ledger_sheet)
        got = count_rows(pkg.require(ref.part))
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
        new, stats, pkg = marked(raw, sheet, findings, truncated=truncated, label=path.name, notes=notes)
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
        new, stats, pkg = cleared(raw, path.name)
    except Unpatchable as exc:
        raise OutputError(f"“{path.name}”中的标记无法安全清除（{exc}），文件未改动。") from exc
    if not stats.found:
        return ClearResult(path, False, None, stats)
    ledger_name = stats.ledger_sheet
    from toolkit.sources import check_readable

    check_readable(package, ledger_name)
    try:  # pkg holds exactly the parts of ``new`` (verify_written proved it); the file on disk is checked
        wb = open_workbook(pkg)  # against ``new`` and re-read by the verifier
        names = [s.name for s in wb.sheets]
        verify = None
        if ledger_name in names:
            rows = count_rows(pkg.require(worksheet(wb, ledger_name).part))
            verify = make_verifier(names, ledger_name, rows, new, pkg)
    except Unpatchable as exc:
        raise OutputError(f"“{path.name}”中的标记无法安全清除（{exc}），文件未改动。") from exc
    saved = safesave.replace_file(path, new, original=raw, verify=verify, backup=backup)
    return ClearResult(path, True, saved.backup, stats)
