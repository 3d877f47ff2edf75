"""Read stage: any real ledger workbook → a Ledger of Items.

Finds the ledger sheet and its header row below title rows, maps headers through the
aliases, fills vertically merged cells down, takes dimensions from section-title rows,
skips blank, 合计 and note rows, and parses statuses and dates — keeping the raw text.
Reading happens after toolkit.guard has sniffed and measured the file.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
import os
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import NamedTuple

from toolkit.config import DEFAULT_CONFIG, OPTIONAL, Config, normalize_text
from toolkit.dates import parse_date, written_year
from toolkit.errors import (
    EncryptedFileError,
    LedgerError,
    NoLedgerError,
    UnreadableFileError,
    UnsafeFileError,
)
from toolkit.guard import (
    ContainmentExceeded,
    Package,
    check_extent,
    contained,
    ods_formula_errors,
    scan_from_parent,
    scan_sheet,
    scanning_beside,
    sniff,
)
from toolkit.headers import (
    Header,
    best_guess,
    check_corrections,
    column_number_row,
    locate_header,
    no_header_message,
    repeated_header_offsets,
)
from toolkit.layout import AUX_SHEETS, CONFIG_SHEET, INFO_SHEET, config_from_rows
from toolkit.model import EMPTY, FOLDED_SPACES, DateValue, ItemColumns, LazyTexts, Ledger, Memo, YearGuess
from toolkit.status import FALLBACK_FIELD, StatusReader, status_field

Merged = Sequence[tuple[tuple[int, int], tuple[int, int]]]

ERROR_TOKENS = frozenset({"#REF!", "#N/A", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
                          "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!"})  # fmt: skip

_CN_NUM = "一二三四五六七八九十"
_SECTION = re.compile(
    rf"^(?:[{_CN_NUM}]+\s*[、.．]|[（(]\s*[{_CN_NUM}\d]+\s*[)）]|第[{_CN_NUM}\d]+(?:部分|方面|类)\s*[：:、.．]?|"
    r"[A-Za-z][、.．]|[【〔\[])\s*"
)
_SECTION_TAIL = re.compile(
    r"[】〕\]]?\s*(?:[（(]\s*共?\s*\d+\s*[项个条件]\s*[)）]|共\s*\d+\s*[项个条件])?\s*"
    r"(?:方面)?(?:存在的?问题|的问题|问题)?[：:。;；\s】〕\]]*$"
)
# a count beside a section title (一、理论学习方面 | 共5项): it does not make the row an item
_COUNT = re.compile(r"^(?:共\s*\d+\s*[项个条件]?|\d+\s*[项个条件])$")
_COUNT_TAIL = re.compile(r"\s*(?:[（(]\s*共?\s*\d+\s*[项个条件]\s*[)）]|共\s*\d+\s*[项个条件])\s*$")
_ARABIC = re.compile(r"^\d{1,2}\s*[、.．]\s*")
# a section's number alone in its cell (一 | 理论学习方面: the number in 序号, the name beside it)
_SECTION_NUMBER = re.compile(
    rf"^(?:[{_CN_NUM}]+\s*[、.．]?|[（(]\s*[{_CN_NUM}]+\s*[)）]|第[{_CN_NUM}\d]+(?:部分|方面|类)\s*[：:、.．]?)$"
)
_SUM_ROW = re.compile(r"^(?:合\s*计|总\s*计|小\s*计|共\s*计)")
_NOTE_ROW = re.compile(
    r"^(?:备\s*注|注|说\s*明|填\s*[表报]\s*说\s*明|附\s*[件表]?|填\s*[表报]\s*人?|制\s*表\s*人?|审\s*[核批]\s*人?|联\s*系\s*(?:人|电\s*话|方\s*式)?|"
    r"签\s*发\s*人?|负\s*责\s*人|填\s*[表报]\s*(?:日期|时间))\s*[：:\d、.．]"
)
# a lone sentence under the table about the table itself (本表数据截至…, （此页无正文）): no item
_TAIL_NOTE = re.compile(
    r"^(?:本\s*表|此\s*表|以\s*上|上\s*述|数\s*据\s*截\s*[至止]|截\s*[至止]|[（(]?\s*此页无正文)"
)
# the labels of the signature lines under a table (填报人：… 审核人：… 联系电话：… 日期：…)
_SIGNATURE = re.compile(
    r"^(?:填\s*[表报]\s*(?:人|单位|日期|时间)|制\s*表\s*(?:人|日期)?|审\s*[核批定]\s*人?|联\s*系\s*(?:人|电\s*话|方\s*式)|"
    r"电\s*话|手\s*机|签\s*发\s*人?|(?:主要|单位|分管)?\s*负\s*责\s*人|分\s*管\s*领\s*导|日\s*期|时\s*间|"
    r"(?:单\s*位\s*)?[（(]?\s*盖\s*章\s*[)）]?)\s*[：:]"
)
# a stacked table's title (表二 专项任务, 表一 理论学习方面问题整改台账): its number and the kind of list it is
# say nothing of its items, the rest is their 方面; 续表 and page lines carry the 方面 above on
_TABLE_NUMBER = re.compile(rf"^(?:附\s*)?表\s*(?:[{_CN_NUM}]+|\d+)\s*[：:、.．\-—]?\s*")
_TABLE_KIND = re.compile(
    r"(?:存在的?)?(?:问题)?(?:整改|整治)?(?:落实)?(?:情况)?(?:台账|清单|一览表|明细表|统计表|汇总表|任务表)$"
)
_CONTINUED = re.compile(r"^[（(]?\s*(?:续\s*上?\s*表|接\s*上\s*表|第\s*\d+\s*页)")
_SUM_FIRST = frozenset(" 合总小共\u3000")
# first characters that make a row worth a look: a 合计 line, or a blank-looking first cell
_CHECK_FIRST = _SUM_FIRST | frozenset(c for c in map(chr, range(0x3001)) if c.isspace())
_SUSPECT_CELL = re.compile("\x00[\\s#]")

INFO_KEYS = {
    "单位": "unit", "填报单位": "unit", "单位名称": "unit", "发文单位": "unit",
    "年度": "year", "年份": "year",
    "会议": "meeting", "会议名称": "meeting", "整改来源": "meeting", "巡察组": "meeting", "巡视组": "meeting",
    "整改类型": "kind", "整改类别": "kind", "问题来源类型": "kind",
    "成文日期": "date", "日期": "date", "通报日期": "date",
    "存在问题": "problems", "存在的问题": "problems",
    "下一步打算": "plans", "下一步工作打算": "plans", "下一步工作": "plans",
}  # fmt: skip
LIST_INFO = frozenset({"problems", "plans"})


def read_ledger(
    path: str | Path, sheet: str | None = None, config: Config = DEFAULT_CONFIG, *, as_of: date | None = None
) -> Ledger:
    """Read the ledger in ``path``; raise a LedgerError subclass when it cannot be used.

    ``as_of``: the date it will be judged on (the year of last resort for "6月底前")."""
    path = Path(path)
    package = sniff(path)
    source = _open_source(package)
    try:
        return _read_from_source(source, path, sheet, config, as_of)
    finally:
        source.close()


def _read_from_source(
    source: _Source, path: Path, sheet: str | None, config: Config, as_of: date | None = None
) -> Ledger:
    names = source.sheet_names()
    info_rows = source.load(INFO_SHEET)[0] if INFO_SHEET in names else None
    if CONFIG_SHEET in names:  # the workbook's own settings (ledger new writes them) go on top
        config = config_from_rows(source.load(CONFIG_SHEET)[0], base=config)
    if sheet is not None:
        if sheet not in names:
            raise NoLedgerError(
                f"工作簿“{path.name}”中没有名为“{sheet}”的工作表，现有工作表：{'、'.join(names)}。"
            )
        candidates = [sheet]
    else:
        candidates = [n for n in source.ordered_names() if n not in AUX_SHEETS]
    tried = []
    guess: tuple[str, tuple[int, list]] | None = None
    for name in candidates:
        rows, merged, errors, origin = source.load(name)
        if (header := locate_header(rows, merged, config)) is None:
            tried.append(name)
            seen = best_guess(rows, config)
            if seen is not None and (guess is None or _guess_key(seen) > _guess_key(guess[1])):
                guess = (name, seen)
            continue
        return ledger_from_rows(
            rows,
            sheet=name,
            path=str(path),
            merged=merged,
            info_rows=info_rows,
            config=config,
            formula_errors=errors,
            date1904=source.date1904,
            sheet_names=names,
            origin=origin,
            error_like_text=source.error_like_text(name),
            found_header=header,
            as_of=as_of,
        )
    if guess is not None:
        where = f"工作表“{guess[0]}”" + (f"（共查看了 {len(tried)} 个工作表）" if len(tried) > 1 else "")
        raise NoLedgerError(no_header_message(where, guess[1], config))
    shown = "、".join(tried[:5]) + (f"等 {len(tried)} 个工作表" if len(tried) > 5 else "")
    where = f"工作表“{shown}”" if tried else f"工作簿“{path.name}”"
    raise NoLedgerError(no_header_message(where, None, config))


def _guess_key(guess: tuple[int, list]) -> tuple[int, int]:
    uses = guess[1]
    return sum(1 for u in uses if u.field), len(uses)


# --- sources: where grids come from -------------------------------------------------------------


class _Source:
    date1904 = False

    def sheet_names(self) -> list[str]:
        raise NotImplementedError

    def ordered_names(self) -> list[str]:
        return self.sheet_names()

    def load(self, name: str) -> tuple[list[list], Merged, dict[tuple[int, int], str], tuple[int, int]]:
        raise NotImplementedError

    def error_like_text(self, name: str) -> bool:
        """Whether a loaded sheet may hold "#REF!"-like text (unknown: yes, look for it)."""
        return True

    def close(self) -> None:
        pass


# Freeing a 100k-row calamine sheet costs ~50 ms, and its grid of Python rows ~15 ms more. A
# process that ends with os._exit (the CLI, see toolkit.cli.finish) lets the exit take them
# instead: keep_readers_until_exit(). The workbook itself is closed as usual (it holds the file).
_KEPT_UNTIL_EXIT: list[object] | None = None


def keep_readers_until_exit() -> None:
    global _KEPT_UNTIL_EXIT
    if _KEPT_UNTIL_EXIT is None:
        _KEPT_UNTIL_EXIT = []


class _CalamineSource(_Source):
    """OOXML read in-process: the guard has proved each sheet's extent before calamine sees it."""

    def __init__(self, package: Package) -> None:
        import python_calamine as pc

        self._loaded: list[object] = []
        self._error_like: dict[str, bool] = {}
        self.package = package
        self.date1904 = package.date1904
        self._refs = {s.name: s for s in package.sheets}
        try:
            self.book = _open_book(str(package.path), package.kind, package.data)
        except pc.PasswordError:
            raise EncryptedFileError(
                f"文件“{package.path.name}”设有密码，本工具无法读取；请取消密码后另存再试。"
            ) from None
        except Exception as exc:  # calamine raises several unrelated types for broken packages
            raise _broken(package.path, exc) from None

    def sheet_names(self) -> list[str]:
        return list(self.book.sheet_names)

    def ordered_names(self) -> list[str]:
        visible = [s.name for s in self.package.sheets if s.visible]
        hidden = [s.name for s in self.package.sheets if not s.visible]
        known = set(visible) | set(hidden)
        return visible + hidden + [n for n in self.sheet_names() if n not in known]

    def load(self, name: str):
        ref = self._refs.get(name)
        if ref is None:  # a sheet the guard did not see listed is never read unmeasured in-process
            return _load_in_child(self.package.path, name, self.package.kind)
        beside = scanning_beside()
        unmeasured = contained() and self.package.data is not None  # see toolkit.guard.contained_read
        if unmeasured:
            scan = scan_sheet(self.package, ref, measure=False)
        elif not beside:  # the usual order: measure first, then let calamine allocate
            scan = scan_sheet(self.package, ref)
            if scan.unreferenced_cells:
                return _load_in_child(self.package.path, name, self.package.kind)
        try:
            sheet = self.book.get_sheet_by_name(name)
            if unmeasured and (end := sheet.end) is not None:
                check_extent(name, end[0] + 1, end[1] + 1)
            rows = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
        except LedgerError:
            raise
        except Exception as exc:
            if unmeasured:
                if isinstance(exc, MemoryError):  # the containment's limit: read again, guarded
                    raise ContainmentExceeded from None
                scan_sheet(self.package, ref)  # what calamine failed on may be what the guard refuses
            raise _broken(self.package.path, exc) from None
        self._loaded.append((sheet, rows))  # see close(): freeing them can be left to the exit
        if beside:  # a forked child: calamine has read; the parent's scan arrives now (or it was killed)
            scan = scan_from_parent(ref)
        self._error_like[name] = scan.error_like_text
        return rows, _clip_merged(rows, merged, self.package.path, name), scan.formula_errors, (0, 0)

    def error_like_text(self, name: str) -> bool:
        return self._error_like.get(name, True)

    def close(self) -> None:
        self.book.close()  # the file is let go of at once (--mark may replace it; Windows would refuse)
        if _KEPT_UNTIL_EXIT is not None:
            _KEPT_UNTIL_EXIT.extend(self._loaded)
        self._loaded = []


def _broken(path: Path, exc: Exception) -> UnreadableFileError | EncryptedFileError | UnsafeFileError:
    return _reader_error(path, type(exc).__name__, str(exc))


def _reader_error(
    path: Path, kind: str, detail: str
) -> UnreadableFileError | EncryptedFileError | UnsafeFileError:
    """One Chinese sentence for what python-calamine raised (in-process or in the child)."""
    detail = detail.splitlines()[0][:120] if detail else ""
    lowered = detail.lower()
    if kind == "PasswordError" or "password" in lowered or "encrypt" in lowered:
        return EncryptedFileError(f"文件“{path.name}”设有密码，本工具无法读取；请取消密码后另存再试。")
    if kind == "MemoryError" or "cell limit exceeded" in lowered:
        return UnsafeFileError(
            f"文件“{path.name}”的已用区域异常庞大，读取需要的内存超出上限，可能是损坏或恶意文件；"
            "请在 Excel 中删除多余的行列后另存再试。"
        )
    if kind == "WorksheetNotFound":
        return UnreadableFileError(
            f"文件“{path.name}”列出的工作表“{detail}”在文件中找不到，文件可能已损坏；请用 Excel 打开修复后另存再试。"
        )
    if kind == "XmlError":
        return UnreadableFileError(
            f"文件“{path.name}”已损坏：其中的表格内容不完整或格式错误（可能保存或复制时中断），请用 Excel 打开修复后另存再试。"
        )
    if kind == "ZipError":
        return UnreadableFileError(
            f"文件“{path.name}”已损坏或不完整（可能下载或复制时被截断），请重新获取文件或用 Excel 打开修复后另存。"
        )
    return UnreadableFileError(
        f"文件“{path.name}”无法读取（{detail or kind}），可能已损坏或不完整；请用 Excel 打开修复后另存再试。"
    )


# python-calamine picks its reader by the file's extension; the guard knows what the bytes are
_CALAMINE_SUFFIXES = {"ooxml": (".xlsx", ".xlsm", ".xlam"), "ods": (".ods",), "xls": (".xls", ".xla")}


def _open_book(path: str, kind: str, data: bytes | None = None):
    """A calamine workbook read as what the file is, whatever its name says (台账.xls that is an .xlsx).

    ``data``: the bytes the guard already read and checked; calamine reads those, not the file again.
    """
    import io

    import python_calamine as pc

    if data is not None:
        return pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    if path.lower().endswith(_CALAMINE_SUFFIXES.get(kind, ())):
        return pc.CalamineWorkbook.from_path(path)
    with open(path, "rb") as fh:  # content-sniffing reader; the bytes are read into memory once
        return pc.CalamineWorkbook.from_filelike(fh)


class _ChildSource(_Source):
    """.xls/.ods read in a memory-limited child process: calamine aborts the process on absurd ranges.

    A contained process (a roll-up worker, see toolkit.guard.contained_read) is such a child already:
    there calamine reads in-process, which saves a fork per sheet (most of the time on a small .xls).
    """

    def __init__(self, package: Package) -> None:
        self.package = package
        self._names: list[str] | None = None
        self._cache: dict[str, tuple] = {}
        self._ods_errors: dict[str, dict[tuple[int, int], str]] | None = None
        self._book = None  # calamine's workbook, read in-process when contained
        self._xlrd_book = None

    def sheet_names(self) -> list[str]:
        if self._names is None:
            if contained():
                self._names = list(self._contained_book().sheet_names)
            else:
                self._names = _child_call(self.package.path, None, self.package.kind)
        return self._names

    def load(self, name: str):
        if name not in self._cache:
            if contained():
                rows, merged, errors, origin = self._load_contained(name)
            else:
                rows, merged, errors, origin = _load_in_child(self.package.path, name, self.package.kind)
            if self.package.kind == "ods":  # calamine reads error cells as "": find them in content.xml
                if self._ods_errors is None:
                    self._ods_errors = ods_formula_errors(self.package)
                errors = self._ods_errors.get(name, {})
            self._cache[name] = rows, merged, errors, origin
        return self._cache[name]

    def _contained_book(self):
        if self._book is None:
            try:
                self._book = _open_book(str(self.package.path), self.package.kind)
            except Exception as exc:  # the sentences the child's failures get
                raise _reader_error(self.package.path, type(exc).__name__, str(exc)) from None
        return self._book

    def _load_contained(self, name: str):
        path = self.package.path
        book = self._contained_book()
        try:
            sheet = book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
        except MemoryError:  # the containment's limit: read again, guarded (the child then decides)
            raise ContainmentExceeded from None
        except Exception as exc:
            raise _reader_error(path, type(exc).__name__, str(exc)) from None
        errors = {}
        if self.package.kind == "xls":
            if self._xlrd_book is None:
                self._xlrd_book = _xlrd_book(str(path))
            errors = _xls_error_cells(self._xlrd_book, name)
        return rows, _clip_merged(rows, merged, path, name), errors, (0, 0)

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
            self._book = None
        if self._xlrd_book not in (None, False):
            self._xlrd_book.release_resources()
        self._xlrd_book = None


def _child_read(path: str, name: str | None, kind: str, conn) -> None:  # runs in the child
    import faulthandler
    import os

    try:
        # calamine reports an aborted allocation on stderr; the parent's one sentence is the message
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        faulthandler.disable()  # (PYTHONFAULTHANDLER, pytest) it would dump this process's stack anyway
        _limit_own_memory(CHILD_MEMORY)
        book = _open_book(path, kind)
        if name is None:
            conn.send(("ok", list(book.sheet_names)))
        else:
            sheet = book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            errors = _xls_error_cells(_xlrd_book(path), name) if kind == "xls" else {}
            conn.send(("ok", (rows, sheet.merged_cell_ranges or [], errors, (0, 0))))
    except BaseException as exc:  # report every failure to the parent, which decides the message
        conn.send(("error", type(exc).__name__, str(exc)[:200]))
    finally:
        conn.close()


def _limit_own_memory(limit: int) -> None:
    """Cap this process's memory, so that calamine's allocation fails (and aborts) instead of the
    machine paging: RLIMIT_AS on POSIX, never above a limit already in force (raising one is not
    allowed); on Windows, where there is no ``resource``, a job object's per-process memory limit."""
    if os.name == "nt":
        _job_memory_limit(limit)
        return
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _job_memory_limit(limit: int) -> None:
    """Put this process in a new job object whose per-process committed-memory limit is ``limit``.

    Best effort: a process already in a job that forbids nesting (Windows 7) stays unlimited, and the
    parent's timeout still bounds the read."""
    import ctypes
    from ctypes import wintypes

    class IoCounters(ctypes.Structure):
        _fields_ = [(name, ctypes.c_ulonglong) for name in ("r", "w", "o", "rb", "wb", "ob")]

    class BasicLimits(ctypes.Structure):
        _fields_ = [
            ("PerProcessUserTimeLimit", ctypes.c_longlong),
            ("PerJobUserTimeLimit", ctypes.c_longlong),
            ("LimitFlags", wintypes.DWORD),
            ("MinimumWorkingSetSize", ctypes.c_size_t),
            ("MaximumWorkingSetSize", ctypes.c_size_t),
            ("ActiveProcessLimit", wintypes.DWORD),
            ("Affinity", ctypes.c_size_t),
            ("PriorityClass", wintypes.DWORD),
            ("SchedulingClass", wintypes.DWORD),
        ]

    class ExtendedLimits(ctypes.Structure):
        _fields_ = [
            ("BasicLimitInformation", BasicLimits),
            ("IoInfo", IoCounters),
            ("ProcessMemoryLimit", ctypes.c_size_t),
            ("JobMemoryLimit", ctypes.c_size_t),
            ("PeakProcessMemoryUsed", ctypes.c_size_t),
            ("PeakJobMemoryUsed", ctypes.c_size_t),
        ]

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    kernel32.SetInformationJobObject.argtypes = [
        wintypes.HANDLE,
        ctypes.c_int,
        ctypes.c_void_p,
        wintypes.DWORD,
    ]
    kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        return
    info = ExtendedLimits()
    info.BasicLimitInformation.LimitFlags = 0x100  # JOB_OBJECT_LIMIT_PROCESS_MEMORY
    info.ProcessMemoryLimit = limit
    extended_limit_information = 9
    if kernel32.SetInformationJobObject(
        job, extended_limit_information, ctypes.byref(info), ctypes.sizeof(info)
    ):
        kernel32.AssignProcessToJobObject(job, kernel32.GetCurrentProcess())
    # the handle stays open until the process ends: closing the job's last handle would not lift the
    # limit, but keeping it costs nothing


def _xlrd_book(path: str):
    """The .xls opened by xlrd (sheets loaded on demand); False when xlrd cannot follow the file."""
    try:
        import xlrd

        return xlrd.open_workbook(path, on_demand=True)
    except Exception:
        return False


def _xls_error_cells(book, name: str) -> dict[tuple[int, int], str]:
    """calamine reads .xls error cells (#REF! …) as empty strings; xlrd still sees them (in the child)."""
    if book is False:
        return {}
    try:
        import xlrd

        sheet = book.sheet_by_name(name)
        errors = {}
        for r in range(sheet.nrows):
            for c, kind in enumerate(sheet.row_types(r)):
                if kind == xlrd.XL_CELL_ERROR:
                    errors[(r + 1, c)] = xlrd.error_text_from_code.get(sheet.cell_value(r, c), "#N/A")
        return errors
    except Exception:  # a file xlrd cannot follow: the ledger is still read, only error cells go unseen
        return {}


CHILD_MEMORY = 3 << 30
CHILD_SECONDS = 60


def _child_call(path: Path, name: str | None, kind: str):
    import multiprocessing as mp

    # fork where there is one (the child starts at once, everything imported); Windows spawns a fresh
    # interpreter that imports toolkit.read (~1 s under Wine, a fraction of that on a PC)
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_read, args=(str(path), name, kind, child), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(CHILD_SECONDS):
            proc.kill()
            raise UnsafeFileError(
                f"读取文件“{path.name}”超过 {CHILD_SECONDS} 秒仍未完成，可能是损坏或恶意文件，已停止。"
            )
        message = parent.recv()
    except EOFError:
        message = ("crash",)
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
    if message[0] == "ok":
        return message[1]
    if message[0] == "crash":
        raise UnsafeFileError(
            f"读取文件“{path.name}”时读取程序异常退出（需要的内存超出上限），可能是损坏或恶意文件；"
            "请在 Excel 中打开、删除多余行列后另存再试。"
        )
    raise _reader_error(path, message[1], message[2])


def _load_in_child(path: Path, name: str, kind: str):
    rows, merged, errors, origin = _child_call(path, name, kind)
    return rows, _clip_merged(rows, merged, path, name), errors, origin


def _clip_merged(rows: list[list], merged: Merged, path: Path, name: str) -> list:
    """Merged ranges cut to the grid; overlapping ranges covering more than the grid are hostile.

    A merge such as A1:XFD1048576 over a real ledger would otherwise be filled cell by cell.
    """
    if not merged:
        return []
    height = len(rows)
    width = max(map(len, rows), default=0)
    clipped = []
    covered = 0
    for (r0, c0), (r1, c1) in merged:
        r1, c1 = min(r1, height - 1), min(c1, width - 1)
        if r0 > r1 or c0 > c1:
            continue
        covered += (r1 - r0 + 1) * (c1 - c0 + 1)
        clipped.append(((r0, c0), (r1, c1)))
    if covered > height * width:
        raise UnsafeFileError(
            f"工作表“{name}”（文件“{path.name}”）中的合并单元格互相重叠、覆盖范围超过整张表，"
            "Excel 不会生成这样的文件，可能是损坏或恶意文件；请在 Excel 中取消合并后另存再试。"
        )
    return clipped


class _HtmlSource(_Source):
    """The "xls" office systems export is an HTML table: each table is a sheet named 表1, 表2, …"""

    def __init__(self, package: Package) -> None:
        from toolkit.htmltable import read_html_tables

        self.path = package.path
        self.tables = read_html_tables(package.path)
        if not self.tables:
            raise NoLedgerError(
                f"文件“{package.path.name}”是网页（HTML）格式，但其中没有表格；请从系统重新导出为 Excel 文件。"
            )

    def sheet_names(self) -> list[str]:
        return [f"表{i + 1}" for i in range(len(self.tables))]

    def load(self, name: str):
        rows, merged = self.tables[int(name[1:]) - 1]
        return rows, _clip_merged(rows, merged, self.path, name), {}, (0, 0)


def check_readable(package: Package, sheet: str) -> None:
    """Read ``sheet`` as ``read_ledger`` would (the guard, then the reader); its LedgerError when it
    cannot be. ``clear`` asks first, so that a workbook ``validate`` refuses is not rewritten either."""
    source = _open_source(package)
    try:
        if sheet in source.sheet_names():
            source.load(sheet)
    finally:
        source.close()


def _open_source(package: Package) -> _Source:
    if package.kind == "ooxml":
        return _CalamineSource(package)
    if package.kind == "html":
        return _HtmlSource(package)
    return _ChildSource(package)


# --- from a grid to a Ledger ---------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as the clerk sees it: numbers without a spurious .0, dates as ISO text."""
    if value is None:
        return ""
    if type(value) is str:
        return value
    if type(value) is float:  # the usual number: 序号, counts
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def section_name(text: str) -> str | None:
    """ "一、理论学习方面" / "（二）作风建设" → the dimension; None when not a section title."""
    stripped = text.strip()
    if len(stripped) > 60:
        return None
    match = _SECTION.match(stripped)
    if match is None:
        if not normalize_text(_COUNT_TAIL.sub("", stripped)).endswith("方面"):
            return None
        match = _ARABIC.match(stripped)  # 1、理论学习方面: numbered, and named a 方面
    name = stripped[match.end() :] if match else stripped
    return clean_dimension(name) or None


def table_title(text: str) -> str | None:
    """A stacked table's title → the 方面 of its items ("" when it names none: 表二 alone); None when the row
    is no title (续表, a page line, a note) and the 方面 above goes on."""
    stripped = text.strip()
    if len(stripped) > 60 or _CONTINUED.match(stripped):
        return None
    if not _TABLE_NUMBER.match(stripped) and _is_note(stripped):  # 附表1 is a table, 附件：… a note
        return None
    if (name := section_name(stripped)) is not None:
        return name
    name = _TABLE_KIND.sub("", _TABLE_NUMBER.sub("", _COUNT_TAIL.sub("", stripped)).strip())
    return clean_dimension(name) if name.strip() else ""


def _is_note(text: str) -> bool:
    """注：…, 合计, 填报人：…, 本表数据截至…: a line about the table, never its title."""
    return bool(
        _SUM_ROW.match(text) or _NOTE_ROW.match(text) or _SIGNATURE.match(text) or _TAIL_NOTE.match(text)
    )


def _first_table_title(rows: Sequence[Sequence[object]], header: int) -> str:
    """The first of stacked tables: its title is the one-cell row just above its header, when that is
    numbered as a table or section (表一, 一、) or the sheet's own title stands above it."""
    above = header - 1
    while above >= 0 and not _row_texts(rows[above]):
        above -= 1
    texts = _row_texts(rows[above]) if above >= 0 else []
    if len(texts) != 1:
        return ""
    numbered = _TABLE_NUMBER.match(texts[0]) or section_name(texts[0]) is not None
    if not numbered and not any(_row_texts(r) for r in rows[:above]):
        return ""  # a lone title over the first table is the sheet's: 某局整改台账
    return table_title(texts[0]) or ""


def _row_texts(row: Sequence[object]) -> list[str]:
    return [t for t in (cell_text(v).strip() for v in row) if t]


def clean_dimension(text: str) -> str:
    """One spelling per dimension: no numbering, no trailing 方面/问题 or punctuation."""
    name = text.strip()
    if m := _SECTION.match(name):
        name = name[m.end() :]
    name = _SECTION_TAIL.sub("", _COUNT_TAIL.sub("", name)).strip()  # 作风方面存在的问题（共2项）
    return name.removesuffix("方面").strip() or text.strip()


def read_info(rows: Iterable[Sequence[object]] | None) -> dict[str, object]:
    """The 通报信息 sheet (项目 | 内容, list keys repeated or left blank on continuation rows)."""
    info: dict[str, object] = {}
    if rows is None:
        return info
    current: str | None = None
    for row in rows:
        key_text = normalize_text(cell_text(row[0])) if row else ""
        value = row[1] if len(row) > 1 else None
        if key_text:
            current = INFO_KEYS.get(key_text.rstrip(":："))
            if current is None:
                continue
        elif current not in LIST_INFO:
            continue
        if current is None:
            continue
        text = cell_text(value).strip() if not isinstance(value, date) else value
        if current in LIST_INFO:
            if text:
                info.setdefault(current, []).append(text)  # type: ignore[union-attr]
        elif text:
            info[current] = text
    return info


def _year_hint(
    info: dict[str, object], title: str, deadlines: Sequence[object], as_of: date | None = None
) -> YearGuess:
    """The year for dates written without one: 通报信息's 年度, the title, the 成文日期, the year most
    deadlines name, the as-of date, today (toolkit.model.YEAR_SOURCES)."""
    info_year = info.get("year")
    if info_year is not None and (m := re.search(r"20\d{2}", str(info_year))):
        return YearGuess(int(m.group()), "info")
    if year := written_year(title):
        return YearGuess(year, "title")
    written = info.get("date")
    if isinstance(written, date):
        return YearGuess(written.year, "info_date")
    if written is not None and (year := written_year(str(written))):
        return YearGuess(year, "info_date")
    years: Counter[int] = Counter()
    for value in deadlines[:2000]:
        if isinstance(value, date):
            years[value.year] += 1
        elif type(value) is str and (year := written_year(value)):
            years[year] += 1
    if years:
        return YearGuess(years.most_common(1)[0][0], "deadlines")
    if as_of is not None:
        return YearGuess(as_of.year, "as_of")
    return YearGuess(date.today().year, "today")


def ledger_from_rows(
    rows: list[list[object]],
    *,
    sheet: str,
    path: str = "",
    merged: Merged = (),
    info_rows: list[list[object]] | None = None,
    config: Config = DEFAULT_CONFIG,
    formula_errors: dict[tuple[int, int], str] | None = None,
    date1904: bool = False,
    sheet_names: Sequence[str] = (),
    origin: tuple[int, int] = (0, 0),
    error_like_text: bool = True,
    found_header: Header | None = None,
    as_of: date | None = None,
) -> Ledger:
    """The read logic on a grid whose first row is Excel row 1 (the xlwings binding uses this).

    ``error_like_text=False`` (the guard's scan saw no text that could read "#REF!") lets the
    optional text columns wait untouched until someone asks for their texts. ``found_header``:
    what locate_header gave for these rows, when the caller has looked already. ``as_of``: the date the
    ledger is judged on, the year of last resort for dates written without one.

    A 100k-row ledger is 1.5M cells, and every pass over a column costs about as much as the
    next, so each column is read once at C speed: text columns through one join, the others
    (status, 方面, dates, 序号) through one lookup of each distinct value. Python loops run only
    over distinct values and over the few rows that need a closer look (titles, notes, 合计).
    """
    found = found_header or locate_header(rows, merged, config)
    if found is None:
        raise NoLedgerError(no_header_message(f"工作表“{sheet}”", best_guess(rows, config), config))
    check_corrections(found, config)
    header = found.row
    columns = dict(found.columns)
    headers = found.texts
    first_data = header + found.rows
    if first_data < len(rows) and column_number_row(rows[first_data]):  # 1 2 3 … under the header
        first_data += 1
    title = next(
        (cell_text(v).strip() for r in rows[:header] for v in r if type(v) is str and v.strip()),
        "",
    )
    info = read_info(info_rows)
    if formula_errors:
        rows = _with_errors(rows, formula_errors)
    end = _end_of_table(rows, first_data)
    if end < len(rows):  # notes and signatures below the table: as if the sheet ended above them
        rows = rows[:end]
    body = rows[first_data:]
    raw = _columns(body, columns)
    repeats = repeated_header_offsets(body, raw, found) if body else []
    # stacked tables with no 方面 column: each table's title gives the 方面 of its items
    titles: dict[int, str] = {}
    drop = _around_repeats(body, repeats, None if "dimension" in columns else titles)
    first_section = _first_table_title(rows, header) if titles else ""
    merges = _merges_below(rows, merged, first_data)
    fills = _fill_columns(raw, columns, merges, len(body))

    # text columns: one join each tells whether all cells are text, which look blank, which are tokens
    texts: dict[str, Sequence[str]] = {}
    no_blanks: set[str] = set()
    tokens: dict[str, list[tuple[int, str]]] = {}
    unspaced: set[str] = set()
    joined: dict[str, str] = {}
    for f in columns:
        if f not in _VALUE_FIELDS and (
            error_like_text or f in _JUDGED or config.spec(f).requirement != OPTIONAL
        ):
            texts[f], tokens[f], has_blank, has_space, whole = _text_column(
                raw[f], probe_spaces=f == "problem"
            )
            if whole is not None and f in _KEEP_JOINED:
                joined[f] = whole
            if not has_blank:
                no_blanks.add(f)
            if not has_space:
                unspaced.add(f)
    # value columns: each distinct cell value is judged once
    status_from = status_field(columns)
    reader = StatusReader(
        config,
        headers.get(status_from or "", ""),
        fallback=status_from == FALLBACK_FIELD,
        skip=ERROR_TOKENS,
        to_text=cell_text,
    )
    statuses = _per_value(
        raw.get(status_from) if status_from else None,
        reader,
        tokens.setdefault("status", []) if status_from == "status" else [],
    )
    dim_names = _per_value(
        raw.get("dimension"),
        lambda v: clean_dimension(t) if (t := blank_or_text(v)).strip() else "",
        tokens.setdefault("dimension", []),
    )
    seq_values, plain_numbers = _seq_column(raw.get("seq"), tokens.setdefault("seq", []))
    deadline_raw = raw.get("deadline")
    # only text like "6月底前" needs the ledger's year: work it out the first time it is asked for
    year_guess = functools.cache(lambda: _year_hint(info, title, deadline_raw or (), as_of))
    dates = _DateColumns(lambda: year_guess().year, date1904)
    deadlines = dates.parse(deadline_raw, tokens.setdefault("deadline", []))
    completions = dates.parse(raw.get("completed_on"), tokens.setdefault("completed_on", []))

    numbers_only = {"seq"} if plain_numbers else set()
    kept, sections = _item_rows(
        body, raw, texts, columns, fills, merges, no_blanks, numbers_only, drop, titles, first_section
    )
    starts = sorted({kept[i] for r in repeats if (i := bisect.bisect_right(kept, r)) < len(kept)})

    def pick(column: Sequence) -> Sequence:
        return [column[o] for o in kept] if len(kept) != len(column) else column

    n = len(kept)
    dims = (
        [name or section for name, section in zip(pick(dim_names), sections, strict=True)]
        if dim_names is not None
        else sections
    )
    cells: dict[str, Sequence[str] | LazyTexts] = {
        f: pick(texts[f])
        if f in texts
        else (_NumberTexts if f in numbers_only else LazyTexts)(pick(raw[f]), blank_or_text)
        for f in columns
    }
    items = ItemColumns(
        list(map((first_data + 1 + origin[0]).__add__, kept)),
        cells,
        dims,
        pick(statuses) if statuses is not None else [None] * n,
        pick(deadlines) if deadlines is not None else [dates.empty] * n,
        pick(completions) if completions is not None else [dates.empty] * n,
        pick(seq_values) if seq_values is not None else [None] * n,
        no_blanks=no_blanks,  # dropping title or note rows cannot make a cell blank
        unspaced=unspaced,
        joined=joined if len(kept) == len(body) else {},
    )
    error_cells = {
        (first_data + offset + 1 + origin[0], columns[f] + origin[1]): token
        for f, found_tokens in tokens.items()
        for offset, token in found_tokens
    }
    if origin != (0, 0):
        columns = {f: c + origin[1] for f, c in columns.items()}
    return Ledger(
        path=path,
        sheet=sheet,
        header_row=header + 1 + origin[0],
        columns=columns,
        headers=headers,
        items=items,
        dimensions=[d for d in dict.fromkeys(dims) if d],
        title=title,
        info=info,
        formula_errors=_error_cells(formula_errors, error_cells, first_data, origin),
        sheet_names=list(sheet_names),
        config=config,
        mapping=[replace(u, column=u.column + origin[1]) for u in found.uses] if origin[1] else found.uses,
        table_starts=[first_data + 1 + origin[0] + o for o in starts],
        status_readings=reader.narratives,
        year_guess=year_guess() if year_guess.cache_info().currsize else None,
    )


def _end_of_table(rows: list[list[object]], first_data: int) -> int:
    """Where the items end: notes (注：…), signature lines (填报人：… 审核人：… 联系电话：…) and 合计 below
    the table are no items, however many cells they fill. A few rows from the bottom are looked at."""
    end = len(rows)
    while end > first_data:
        texts = _row_texts(rows[end - 1])
        if texts and not (
            _SUM_ROW.match(texts[0])
            or _NOTE_ROW.match(texts[0])
            or _signature_row(texts)
            or (len(texts) == 1 and _TAIL_NOTE.match(texts[0]))
        ):
            break
        end -= 1
    return end


def _signature_row(texts: list[str]) -> bool:
    """填报人：张三 | 审核人：李四 | 联系电话：… — at least half of the cells are such labels."""
    labelled = sum(1 for t in texts if _SIGNATURE.match(t))
    return labelled > 0 and labelled * 2 >= len(texts)


def _around_repeats(
    body: list[list[object]], repeats: list[int], titles: dict[int, str] | None = None
) -> set[int]:
    """Rows that go with a repeated header: itself, the column numbers under it, and a table's title
    just above it (表二 …; a section title such as 二、…方面 is left to give the 方面 of the items below).

    ``titles`` (a ledger with no 方面 column): filled with body offset → the 方面 each table's title gives,
    section titles included, so that the caller knows the tables are titled."""
    drop = set(repeats)
    for offset in repeats:
        if offset + 1 < len(body) and column_number_row(body[offset + 1]):
            drop.add(offset + 1)
        above = offset - 1
        while above >= 0 and above not in drop and not any(cell_text(v).strip() for v in body[above]):
            above -= 1
        if above >= 0 and above not in drop:
            texts = _row_texts(body[above])
            if len(texts) != 1:
                continue
            if titles is not None and (name := table_title(texts[0])) is not None:
                titles[above] = name
                drop.add(above)
            elif section_name(texts[0]) is None:
                drop.add(above)
    return drop


# columns read as parsed values (one lookup per distinct value) rather than as text
_VALUE_FIELDS = frozenset({"status", "dimension", "seq", "deadline", "completed_on"})
# optional text columns the rules still read whole (duplicates are found in 问题描述)
_JUDGED = frozenset({"problem"})
# columns whose join is kept on the ItemColumns (``joined``): a history snapshot stores them whole,
# and joining 100k cells again costs ~10 ms a column (more than keeping the text costs)
_KEEP_JOINED = frozenset({"problem", "dept"})


def blank_or_text(value: object) -> str:
    """A cell's text as the rules see it: only spaces counts as empty."""
    text = cell_text(value)
    return "" if text.isspace() else text


def _columns(body: list[list[object]], columns: dict[str, int]) -> dict[str, Sequence]:
    """The ledger's columns (field → cells below the header), ragged rows padded."""
    width = max(columns.values()) + 1
    lengths = set(map(len, body))
    if lengths and min(lengths) < width:
        body = [list(r) + [""] * (width - len(r)) if len(r) < width else r for r in body]
        lengths = set(map(len, body))
    if len(lengths) == 1:  # calamine's grids are rectangular: transpose at C speed
        transposed = list(zip(*body, strict=True))
        return {f: transposed[c] for f, c in columns.items()}
    return {f: [r[c] for r in body] for f, c in columns.items()}


class _Merge(NamedTuple):
    """One merged block reaching below the header, in body offsets (inclusive)."""

    first: int
    last: int
    cols: range
    top_left: int | None  # the body offset of the cell that holds the value, if below the header
    value: object


def _merges_below(rows: list[list[object]], merged: Merged, first_data: int) -> list[_Merge]:
    blocks = []
    for (r0, c0), (r1, c1) in merged:
        if r1 < first_data or r0 >= len(rows):
            continue
        value = rows[r0][c0] if c0 < len(rows[r0]) else None
        first = max(r0, first_data) - first_data
        last = min(r1, len(rows) - 1) - first_data
        top_left = r0 - first_data if r0 >= first_data else None
        blocks.append(_Merge(first, last, range(c0, c1 + 1), top_left, value))
    return blocks


@dataclass(slots=True)
class _Fills:
    """Where merged values were copied: a row of only copies is no item."""

    counts: list[int]  # per body row: ledger cells holding a copy
    blank_rows: set[int]  # body rows where a copied value is blank
    spans: dict[str, list[tuple[int, int]]]  # field → body offsets (first, last) holding copies


def _fill_columns(
    raw: dict[str, Sequence], columns: dict[str, int], merges: list[_Merge], height: int
) -> _Fills:
    """Copy each merged block's value down its ledger columns (slice assignment: C speed)."""
    by_column = {c: f for f, c in columns.items()}
    diff = [0] * (height + 1)
    blank_rows: set[int] = set()
    spans: dict[str, list[tuple[int, int]]] = {}
    for block in merges:
        count = 0
        for c in block.cols:
            field_id = by_column.get(c)
            if field_id is None:
                continue
            column = raw[field_id]
            if not isinstance(column, list):
                column = raw[field_id] = list(column)
            column[block.first : block.last + 1] = [block.value] * (block.last - block.first + 1)
            first = block.first + (1 if block.top_left == block.first and c == block.cols.start else 0)
            if first <= block.last:
                spans.setdefault(field_id, []).append((first, block.last))
            count += 1
        if count:
            diff[block.first] += count
            diff[block.last + 1] -= count
            if block.top_left is not None and block.cols.start in by_column:  # the value's own cell
                diff[block.top_left] -= 1
                diff[block.top_left + 1] += 1
            if not blank_or_text(block.value):
                blank_rows.update(range(block.first, block.last + 1))
    return _Fills(list(itertools.accumulate(diff[:height])), blank_rows, spans)


def _text_column(
    column: Sequence, probe_spaces: bool = False
) -> tuple[Sequence[str], list[tuple[int, str]], bool, bool, str | None]:
    """A column as the texts a clerk sees (blank-looking cells as ""), its error tokens, whether any
    cell is blank, (when probed, else True) whether any cell holds a space or line break, and the
    texts joined by NUL when they are the cells as they were joined (else None)."""
    if not column:
        return column, [], False, False, None
    try:
        joined = "\x00".join(column)  # TypeError unless every cell is text: C speed either way
    except TypeError:
        column = LazyTexts(column, cell_text).tolist()
        joined = "\x00".join(column)
    spaced = not probe_spaces or any(space in joined for space in FOLDED_SPACES)  # memchr-fast
    # a cell that starts with whitespace (maybe only spaces: an empty cell) or "#" (every error
    # token does) is a candidate; the search runs at memchr speed over the joined column
    first = column[0][:1]
    if not (first.isspace() or first == "#" or _SUSPECT_CELL.search(joined)):
        blank = not first or "\x00\x00" in joined or joined.endswith("\x00")
        return column, [], blank, spaced, joined
    column = [v if not v.isspace() else "" for v in column]
    tokens = [(offset, value) for offset, value in enumerate(column) if value in ERROR_TOKENS]
    return column, tokens, "" in column, spaced, None


def _per_value(
    column: Sequence | None, judge: Callable[[object], object], tokens: list[tuple[int, str]]
) -> list | None:
    """``judge`` of every cell, called once per distinct value (one C-speed pass over the column);
    error tokens in the column are added to ``tokens``."""
    if column is None:
        return None
    memo = _Memo(judge)
    judged = memo.judge_all(column)
    tokens.extend(memo.tokens_in(column))
    return judged


class _Memo(Memo):
    __slots__ = ()

    def judge_all(self, column: Sequence) -> list:
        judged = list(map(self.__getitem__, column))
        if (1 in self or 0 in self) and bool in set(map(type, column)):
            # True == 1.0 as a dict key, yet a TRUE cell is no 序号 1: judge booleans apart
            judged = [self.judge(v) for v in column]
        return judged

    def tokens_in(self, column: Sequence) -> list[tuple[int, str]]:
        """Error tokens typed or pasted into the column, found among the distinct values first."""
        found = ERROR_TOKENS.intersection(k for k in self if type(k) is str)
        return [(offset, v) for offset, v in enumerate(column) if v in found] if found else []


class _NumberTexts(LazyTexts):
    """The texts of a column of plain numbers (序号 1, 2, 3 …), each one different: no memo."""

    __slots__ = ()

    def tolist(self) -> list[str]:
        return [str(int(v)) if v.is_integer() else repr(v) for v in self.values]  # as cell_text


def _seq_column(column: Sequence | None, tokens: list[tuple[int, str]]) -> tuple[Sequence | None, bool]:
    """序号 as numbers, and whether the column held plain numbers only (then, each one different,
    it needs no per-value work and its cells are never blank, 合计 or error text)."""
    if column is None:
        return None, False
    if set(map(type, column)) == {float}:
        return column, True
    return _per_value(column, _seq, tokens), False


class _DateColumns:
    """Deadlines repeat a lot: each distinct cell value is parsed once per ledger."""

    def __init__(self, year_hint, date1904: bool) -> None:
        self.empty = DateValue("", EMPTY)
        self.memo = _Memo(lambda v: parse_date(v, year_hint, date1904))
        self.memo[""] = self.memo[None] = self.empty

    def parse(self, column: Sequence | None, tokens: list[tuple[int, str]]) -> list[DateValue] | None:
        if column is None:
            return None
        parsed = self.memo.judge_all(column)
        tokens.extend(self.memo.tokens_in(column))
        return parsed


def _item_rows(
    body: list[list[object]],
    raw: dict[str, Sequence],
    texts: dict[str, Sequence[str]],
    columns: dict[str, int],
    fills: _Fills,
    merges: list[_Merge],
    no_blanks: Collection[str],
    numbers_only: Collection[str],
    drop: Collection[int] = (),
    titles: dict[int, str] | None = None,
    section: str = "",
) -> tuple[list[int], list[str]]:
    """Which body rows are items, and the section title above each.

    A row with three own non-empty text cells is an item unless it is a 合计 line; only the other
    rows (titles, notes, blank lines, sparse items) and possible 合计 lines are looked at one by
    one. The runs between them are items of the current section: ``section`` at first, then the one each
    section row or stacked table's title (``titles``, among the ``drop`` rows) names.
    """
    height = len(body)
    names = list(columns)
    proof = [f for f in _PROOF_FIELDS if f in texts][:3]
    if len(proof) == 3:
        if all(f in no_blanks for f in proof):  # known from the joins: no need to look again
            full = [True] * height
        else:
            full = list(map(all, zip(*(texts[f] for f in proof), strict=True)))
        for f in proof:  # a copy from a merged cell is not the row's own
            for first, last in fills.spans.get(f, ()):
                full[first : last + 1] = [False] * (last - first + 1)
        for offset in fills.blank_rows:
            full[offset] = False
        sparse = list(itertools.compress(range(height), map(operator.not_, full)))
    else:
        sparse = list(range(height))

    def text_row(offset: int) -> list[str]:
        return [texts[f][offset] if f in texts else blank_or_text(raw[f][offset]) for f in names]

    # rows with few own cells: count exactly (序号 does not count; merged copies are allowed for)
    short = []
    for offset in sparse:
        row_texts = text_row(offset)
        filled = sum(1 for t in row_texts if t) - (
            1 if "seq" in columns and row_texts[names.index("seq")] else 0
        )
        if filled <= 2 + fills.counts[offset]:
            short.append(offset)
    # a 合计 line starts with 合/总/小/共 (or its first cell is blank); numbers and dates never do
    maybe_sum = (
        []
        if names[0] in numbers_only
        else [
            o
            for o, v in enumerate(raw[names[0]])
            if v is None or (type(v) is str and (not v or v[0] in _CHECK_FIRST))
        ]
    )
    special = sorted(set(short).union(maybe_sum, drop))
    short_set = set(short)
    copies = _filled_cells(special, merges) if merges and short else {}
    kept: list[int] = []
    sections: list[str] = []
    start = 0
    for offset in special:
        kept.extend(range(start, offset))
        sections.extend([section] * (offset - start))
        start = offset + 1
        if offset in drop:
            if titles and offset in titles:
                section = titles[offset]
            continue
        row_texts = text_row(offset)
        if offset in short_set:
            row = _filled_row(body[offset], copies.get(offset, {}))
            kind, name = _classify_short_row(row, row_texts, names, columns, copies.get(offset, {}))
            if kind == "section":
                section = name
                continue
            if kind == "skip":
                continue
        first_text = row_texts[0] or next((t for t in row_texts if t), "")
        if first_text[:1] in _SUM_FIRST and _SUM_ROW.match(first_text.lstrip()):
            continue
        kept.append(offset)
        sections.append(section)
    kept.extend(range(start, height))
    sections.extend([section] * (height - start))
    return kept, sections


# text fields whose three non-empty own cells prove a row is an item, most often filled first
_PROOF_FIELDS = ("problem", "measures", "dept", "owner", "lead", "progress", "source", "outcome", "notes",
                 "evidence")  # fmt: skip


def _filled_cells(offsets: list[int], merges: list[_Merge]) -> dict[int, dict[int, object]]:
    """For the given body rows: column → merged value copied into it (the value's own cell excluded)."""
    filled: dict[int, dict[int, object]] = {}
    for block in merges:
        lo = bisect.bisect_left(offsets, block.first)
        hi = bisect.bisect_right(offsets, block.last)
        for offset in offsets[lo:hi]:
            cells = filled.setdefault(offset, {})
            for c in block.cols:
                if not (offset == block.top_left and c == block.cols.start):
                    cells[c] = block.value
    return filled


def _filled_row(row: list[object], copies: dict[int, object]) -> list[object]:
    """The row as it looks with merged cells copied in."""
    if not copies:
        return row
    row = list(row)
    need = max(copies) + 1
    if need > len(row):
        row.extend([""] * (need - len(row)))
    for c, value in copies.items():
        row[c] = value
    return row


def _seq(value: object) -> float | None:
    if type(value) is float or type(value) is int:
        return float(value)
    if type(value) is str and value.strip().isdigit():
        return float(value.strip())
    return None


def _classify_short_row(
    row: Sequence[object],
    text_row: Sequence[str],
    names: Sequence[str],
    columns: dict[str, int],
    filled: Collection[int],
) -> tuple[str, str]:
    """A row with few own cells: ("skip", ""), ("section", name) or ("item", "")."""
    own = [t for f, t in zip(names, text_row, strict=True)
           if t.strip() and columns[f] not in filled
           and not (f == "seq" and _is_number_text(t))]  # fmt: skip
    if not own and not any(type(v) is str and v.strip() for v in row):
        return "skip", ""
    if len(own) <= 2:
        texts = {cell_text(v).strip() for v in row if v is not None and v != ""}
        texts.discard("")
        if len(texts) == 2 and len(counts := {t for t in texts if _COUNT.match(t)}) == 1:
            texts -= counts  # 一、理论学习方面 | 共5项
        if len(texts) == 2 and (name := _split_section(row)) is not None:
            return "section", name
        if len(texts) == 1:
            only = next(iter(texts))
            name = section_name(only)
            if name is not None:
                return "section", name
            if _SUM_ROW.match(only) or _NOTE_ROW.match(only):
                return "skip", ""
        first_text = next((t for t in (cell_text(v).strip() for v in row) if t), "")
        if _NOTE_ROW.match(first_text) and len(texts) <= 2:
            return "skip", ""
    return "item", ""


def _split_section(row: Sequence[object]) -> str | None:
    """一 | 理论学习方面 (the number in its own cell, the name in the next): the section's name, else None."""
    texts = _row_texts(row)
    if len(texts) != 2 or not _SECTION_NUMBER.match(texts[0]):
        return None
    number, name = texts
    return section_name(number + ("" if number[-1] in "、.．)）：:" else "、") + name)


def _error_cells(
    scanned: dict[tuple[int, int], str] | None,
    tokens: dict[tuple[int, int], str],
    first_data: int,
    origin: tuple[int, int],
) -> dict[tuple[int, int], str]:
    """Error cells of the item rows: from the scan (formulas) and error tokens typed or pasted as text."""
    cells = dict(tokens)
    for (row1, col), text in (scanned or {}).items():
        if row1 > first_data:
            cells[(row1 + origin[0], col + origin[1])] = text
    return cells


def _is_number_text(text: str) -> bool:
    return text.strip().replace(".", "", 1).isdigit()


def _with_errors(rows: list[list[object]], errors: dict[tuple[int, int], str]) -> list[list[object]]:
    """calamine reads error cells as empty strings; put the error text back where the scan saw it."""
    for (row1, col), text in errors.items():
        if row1 - 1 < len(rows):
            row = rows[row1 - 1]
            if col < len(row):
                row[col] = text
    return rows
