"""Sources: where a workbook's cell grids come from, once toolkit.guard has said what the file is.

- OOXML is read by python-calamine in this process, each sheet measured by the guard first (or, for a
  big workbook, beside the read: toolkit.fastpath).
- .xls and .ods are read by calamine in a memory-limited child process: calamine aborts the whole
  process (no exception) on an absurd used range, and only the OOXML guard can measure one beforehand.
- The HTML "xls" that office systems export is parsed by toolkit.htmltable.

Each source gives a sheet as (rows, merged ranges, error cells); calamine reads error cells
(#REF! …) as empty strings, so a source also says where they are.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from toolkit.errors import (
    EncryptedFileError,
    LedgerError,
    NoLedgerError,
    UnreadableFileError,
    UnsafeFileError,
)
from toolkit.fastpath import (
    ContainmentExceeded,
    contained,
    keep_until_exit,
    scan_from_parent,
    scanning_beside,
)
from toolkit.guard import (
    CHUNK,
    ZIP_ERRORS,
    Package,
    SheetRef,
    check_extent,
    damaged_zip_message,
    package_zip,
    reader_died,
    scan_sheet,
    sheet_chunks,
)

Merged = Sequence[tuple[tuple[int, int], tuple[int, int]]]
ErrorCells = dict[tuple[int, int], str]  # (row1, col0) -> "#REF!"
Sheet = tuple[list[list], Merged, ErrorCells]  # rows from A1, merged ranges, error cells


class Source:
    """A workbook's sheets as grids; ``load`` gives one sheet as (rows, merged, error cells)."""

    date1904 = False

    def sheet_names(self) -> list[str]:
        raise NotImplementedError

    def ordered_names(self) -> list[str]:
        return self.sheet_names()

    def load(self, name: str) -> Sheet:
        raise NotImplementedError

    def error_like_text(self, name: str) -> bool:
        """Whether a loaded sheet may hold "#REF!"-like text (unknown: yes, look for it)."""
        return True

    def close(self) -> None:
        pass


class CalamineSource(Source):
    """OOXML read in-process: the guard has proved each sheet's extent before calamine sees it."""

    def __init__(self, package: Package) -> None:
        self._loaded: list[object] = []
        self._error_like: dict[str, bool] = {}
        self.package = package
        self.date1904 = package.date1904
        self._refs = {s.name: s for s in package.sheets}
        try:
            self.book = _open_book(str(package.path), package.kind, package.data)
        except Exception as exc:  # calamine raises several unrelated types (PasswordError …)
            raise _broken(package.path, exc) from None

    def sheet_names(self) -> list[str]:
        return list(self.book.sheet_names)

    def ordered_names(self) -> list[str]:
        visible = [s.name for s in self.package.sheets if s.visible]
        hidden = [s.name for s in self.package.sheets if not s.visible]
        known = set(visible) | set(hidden)
        return visible + hidden + [n for n in self.sheet_names() if n not in known]

    def load(self, name: str) -> Sheet:
        ref = self._refs.get(name)
        if ref is None:  # a sheet the guard did not see listed is never read unmeasured in-process
            return _load_in_child(self.package.path, name, self.package.kind)
        beside = scanning_beside()
        unmeasured = contained() and self.package.data is not None  # see toolkit.fastpath.contained_read
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
        self._loaded.append((sheet, rows))  # see close(): freeing them may be left to the exit
        if beside:  # a forked child: calamine has read; the parent's scan arrives now (or it was killed)
            scan = scan_from_parent(ref)
        self._error_like[name] = scan.error_like_text
        return rows, _clip_merged(rows, merged, self.package.path, name), scan.formula_errors

    def error_like_text(self, name: str) -> bool:
        return self._error_like.get(name, True)

    def close(self) -> None:
        self.book.close()  # the file is let go of at once (--mark may replace it; Windows would refuse)
        keep_until_exit(self._loaded)  # a 100k-row sheet costs ~65 ms to free (toolkit.fastpath)
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
        return UnreadableFileError(damaged_zip_message(path.name))
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


class ChildSource(Source):
    """.xls/.ods read in a memory-limited child process: calamine aborts the process on absurd ranges.

    A contained process (a roll-up worker, see toolkit.fastpath.contained_read) is such a child already:
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

    def load(self, name: str) -> Sheet:
        if name not in self._cache:
            if contained():
                rows, merged, errors = self._load_contained(name)
            else:
                rows, merged, errors = _load_in_child(self.package.path, name, self.package.kind)
            if self.package.kind == "ods":  # calamine reads error cells as "": find them in content.xml
                if self._ods_errors is None:
                    self._ods_errors = ods_formula_errors(self.package)
                errors = self._ods_errors.get(name, {})
            self._cache[name] = rows, merged, errors
        return self._cache[name]

    def _contained_book(self):
        if self._book is None:
            try:
                self._book = _open_book(str(self.package.path), self.package.kind)
            except Exception as exc:  # the sentences the child's failures get
                raise _reader_error(self.package.path, type(exc).__name__, str(exc)) from None
        return self._book

    def _load_contained(self, name: str) -> Sheet:
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
        return rows, _clip_merged(rows, merged, path, name), errors

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
            self._book = None
        if self._xlrd_book not in (None, False):
            self._xlrd_book.release_resources()
        self._xlrd_book = None


def _child_read(path: str, name: str | None, kind: str, conn) -> None:  # runs in the child
    import faulthandler

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
            conn.send(("ok", (rows, sheet.merged_cell_ranges or [], errors)))
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


# --- error cells calamine reads as empty strings ----------------------------------------------------

_ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
_ODS_CALCEXT_TYPE = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0 value-type"
MAX_ODS_ERRORS = 10_000


class _OdsErrors:
    """expat callbacks that follow an .ods sheet's row/column positions and keep the error cells."""

    def __init__(self) -> None:
        self.found: dict[str, dict[tuple[int, int], str]] = {}
        self.table = ""
        self.row = self.col = self.kept = 0
        self.row_repeat = 1
        self.cell: tuple[int, list[str]] | None = None  # (column repeat, text) of an open error cell

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == _ODS_TABLE + "table":
            self.table, self.row = attrs.get(_ODS_TABLE + "name", ""), 0
        elif name == _ODS_TABLE + "table-row":
            self.col = 0
            self.row_repeat = _repeat(attrs.get(_ODS_TABLE + "number-rows-repeated"))
        elif name in (_ODS_TABLE + "table-cell", _ODS_TABLE + "covered-table-cell"):
            repeat = _repeat(attrs.get(_ODS_TABLE + "number-columns-repeated"))
            if attrs.get(_ODS_CALCEXT_TYPE) == "error" and self.kept < MAX_ODS_ERRORS:
                self.cell = (repeat, [])
            else:
                self.col += repeat

    def text(self, data: str) -> None:
        if self.cell is not None:
            self.cell[1].append(data)

    def end(self, name: str) -> None:
        if name == _ODS_TABLE + "table-row":
            self.row += self.row_repeat
        elif self.cell is not None and name in (_ODS_TABLE + "table-cell", _ODS_TABLE + "covered-table-cell"):
            repeat, parts = self.cell
            self.cell = None
            text = "".join(parts).strip() or "#VALUE!"
            cells = self.found.setdefault(self.table, {})
            for r in range(self.row, self.row + min(self.row_repeat, MAX_ODS_ERRORS)):
                for c in range(self.col, self.col + min(repeat, MAX_ODS_ERRORS)):
                    if self.kept >= MAX_ODS_ERRORS:
                        break
                    cells[(r + 1, c)] = text
                    self.kept += 1
            self.col += repeat


def ods_formula_errors(package: Package) -> dict[str, dict[tuple[int, int], str]]:
    """Error cells of each .ods sheet as sheet → {(row1, col0): "#REF!"}; calamine reads them as "".

    content.xml is streamed through expat with no tree kept (its prolog was checked for a DTD
    in sniff, and any entity declaration stops the parse); positions follow the repeat counts;
    at most MAX_ODS_ERRORS cells are kept, so a repeated error row cannot blow up.
    """
    try:
        if not any(map(_says_error, sheet_chunks(package, _ODS_CONTENT))):
            return {}  # no cell says it holds an error: the walk through every cell (~9 ms a file) is spared
    except LedgerError:
        return {}
    from xml.parsers import expat

    walker = _OdsErrors()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = walker.start
    parser.EndElementHandler = walker.end
    parser.CharacterDataHandler = walker.text
    parser.EntityDeclHandler = _no_entities
    try:
        with package_zip(package) as zf, zf.open("content.xml") as fh:
            while chunk := fh.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (expat.ExpatError, *ZIP_ERRORS):
        pass  # calamine has read the sheet already: error cells are a bonus, not a condition
    return walker.found


_ODS_CONTENT = SheetRef("content.xml", "content.xml", False)


def _says_error(data: bytes) -> bool:
    """An attribute value "error" somewhere (calcext:value-type="error"): one pass for a rare word."""
    at = data.find(b"error")
    while at >= 0:
        if data[at - 1 : at] in (b'"', b"'") and data[at + 5 : at + 6] in (b'"', b"'"):
            return True
        at = data.find(b"error", at + 5)
    return False


def _no_entities(*_args: object) -> None:
    raise ValueError("entity declaration")


def _repeat(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


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
    # interpreter that imports toolkit.sources (~1 s under Wine, a fraction of that on a PC)
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
        raise reader_died(path)
    raise _reader_error(path, message[1], message[2])


def _load_in_child(path: Path, name: str, kind: str):
    rows, merged, errors = _child_call(path, name, kind)
    return rows, _clip_merged(rows, merged, path, name), errors


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


class HtmlSource(Source):
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

    def load(self, name: str) -> Sheet:
        rows, merged = self.tables[int(name[1:]) - 1]
        return rows, _clip_merged(rows, merged, self.path, name), {}


def open_source(package: Package) -> Source:
    """The source for what the guard found the file to be."""
    if package.kind == "ooxml":
        return CalamineSource(package)
    if package.kind == "html":
        return HtmlSource(package)
    return ChildSource(package)


def check_readable(package: Package, sheet: str) -> None:
    """Load ``sheet`` as ``toolkit.read.read_ledger`` would (the guard, then the reader): its LedgerError
    when it cannot be. ``clear`` asks first, so that a workbook ``validate`` refuses is not rewritten either."""
    source = open_source(package)
    try:
        if sheet in source.sheet_names():
            source.load(sheet)
    finally:
        source.close()
