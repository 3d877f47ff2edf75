"""The speed tricks of the command line, kept apart from what the code means.

Each trick saves time on big workbooks and changes nothing a clerk sees (tests/test_fastpath.py runs
the commands both ways and compares). All of them sit behind one switch, so that a maintainer can take
them out of the picture when hunting a bug: ``LEDGER_FASTPATH=0`` makes ``enabled()`` False and runs
everything the plain way (no forks, no exit hand-over, no kept readers, normal garbage collection).

- No cyclic GC (``start_command``, every command): a command builds ~100k small objects and keeps them
  to the end; GC passes over them only cost time.
- Kept readers (``read_one_workbook``, then ``keep_until_exit`` in toolkit.sources; ``ledger validate``):
  freeing a 100k-row calamine sheet and its rows costs ~65 ms; the exit takes them instead.
- The scan beside the read (``read_one_workbook`` → ``scan_alongside``; ``ledger validate``): the guard's
  scan of a big sheet costs a third of calamine's read; a forked child reads while this process scans.
- Exit at once (``exit_now``, from cli.finish): ``os._exit`` instead of tearing down a 100k-item ledger
  object by object; in the child of a scan beside the read, the exit code is handed to the parent first.
- Contained reads (``contained_read``, toolkit.units.run): a roll-up worker reads a small file unmeasured,
  under limits, which spares the guard's scan. Only forked workers do, and units.run forks them only when
  ``enabled()``.

``start_command``, ``read_one_workbook`` and ``exit_now`` check the switch themselves; the rest acts only
on what ``read_one_workbook`` set up (the list of kept readers, the scan's pipe), or inside a worker.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from toolkit.errors import LedgerError

if TYPE_CHECKING:  # the guard is imported when a workbook is read: ``ledger new`` needs none of it
    from toolkit.guard import Package, SheetRef, SheetScan

SWITCH = "LEDGER_FASTPATH"


def enabled() -> bool:
    """False when the maintainer asked for the plain path (``LEDGER_FASTPATH=0``)."""
    return os.environ.get(SWITCH, "1") != "0"


# --- one command, one workbook, then the exit --------------------------------------------------------


def start_command() -> None:
    """A command process lives for one job: cyclic garbage collection would only cost time."""
    if enabled():
        gc.disable()


def read_one_workbook(path: str | os.PathLike) -> None:
    """Prepare this process to read one workbook and then ``exit_now``.

    Freeing a 100k-row calamine sheet costs ~50 ms and its grid of Python rows ~15 ms more: the readers
    are kept for the exit to take (the workbook itself is closed as usual: it holds the file). A big
    workbook is scanned beside the read (see scan_alongside): this call then returns in a forked child,
    which does the job, while this process scans and never returns (it exits with the child's code, or
    raises the LedgerError its scan found)."""
    if not enabled():
        return
    global _kept
    if _kept is None:
        _kept = []
    scan_alongside(path)


def exit_now(code: int) -> NoReturn:
    """End the command with ``code``; with the tricks on, at once (no interpreter teardown)."""
    if not enabled():
        sys.exit(code)
    flush_std_streams()
    _report_exit(code)  # the child of a scan beside the read: the parent exits with this code now
    os._exit(code)


def flush_std_streams() -> None:
    """Before a fork or an exit; either stream may be None (pythonw, or a job started with 2>&-)."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.flush()


# --- readers kept until the exit ---------------------------------------------------------------------
_kept: list[object] | None = None  # set by read_one_workbook


def keep_until_exit(objects: list[object]) -> None:
    """Hand what a reader loaded to the exit, when the process ends by ``exit_now`` (else it is freed now)."""
    if _kept is not None:
        _kept.extend(objects)


# --- the scan beside the read ------------------------------------------------------------------------
# A big sheet costs the scan a third of what calamine spends on it. On a POSIX machine the CLI runs
# its whole job in a forked child while this process scans: the child reads with calamine straight
# away and takes the scan's results (error cells) from a pipe before it builds the ledger. If the
# scan finds an absurd extent, or calamine aborts the child on one, this process — untouched by the
# Rust reader — says so in one sentence and exits 2. Small workbooks are read the plain way.

PARALLEL_SCAN_BYTES = 8 << 20  # uncompressed size of the largest sheet part (LEDGER_PARALLEL_SCAN_BYTES)
_feed: _ScanFeed | None = None
_done_fd: int | None = None  # the child's way to hand its exit code to the parent


class _ScanFeed:
    """The child's end of the pipe: the parent's scans, by part name, as they arrive."""

    def __init__(self, fd: int) -> None:
        self._file = os.fdopen(fd, "rb")
        self._scans: dict[str, SheetScan] = {}

    def get(self, part: str) -> SheetScan | None:
        import pickle

        while part not in self._scans:
            try:
                key, scan = pickle.load(self._file)
            except (EOFError, pickle.UnpicklingError, OSError):
                return None
            self._scans[key] = scan
        return self._scans[part]


def scanning_beside() -> bool:
    """True in the child of scan_alongside: read first, then ask for the parent's scan."""
    return _feed is not None


def scan_from_parent(sheet: SheetRef) -> SheetScan:
    """The parent's scan of this sheet (waits for it); empty when the parent had none to give."""
    from toolkit.guard import SheetScan

    scan = _feed.get(sheet.part) if _feed is not None and sheet.part is not None else None
    return scan or SheetScan()


def scan_alongside(path: str | os.PathLike) -> None:
    """Fork when the workbook is big: returns in the child (which does the job); the parent scans and
    exits with the child's code (or raises the LedgerError its scan found). Else returns at once."""
    global _feed, _done_fd
    from toolkit.guard import sheet_part_sizes, sniff

    threshold = int(os.environ.get("LEDGER_PARALLEL_SCAN_BYTES", PARALLEL_SCAN_BYTES))
    try:
        package = sniff(Path(path))
        sizes = sheet_part_sizes(package)
        parallel = (
            hasattr(os, "fork") and package.kind == "ooxml" and max(sizes.values(), default=0) >= threshold
        )
    except LedgerError:
        parallel = False  # the job reads the file again and reports the problem the usual way
    if not parallel:
        return
    flush_std_streams()
    read_end, write_end = os.pipe()
    done_read, done_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child does the job; the parent reports on it
        os.close(write_end)
        os.close(done_read)
        _feed = _ScanFeed(read_end)
        _done_fd = done_write
        return
    os.close(read_end)
    os.close(done_write)
    os._exit(_scan_for_child(package, sizes, pid, write_end, done_read))


def _report_exit(code: int) -> None:
    """In the child of scan_alongside (output flushed): give the parent the exit code and let go of
    stdout and stderr, so the command is over for whoever waits on it while this process is still
    being torn down (a 100k-row read leaves ~350 MB to unmap)."""
    if _done_fd is None:
        return
    with contextlib.suppress(OSError):
        os.close(1)
        os.close(2)
    with contextlib.suppress(OSError):
        os.write(_done_fd, bytes([code & 0xFF]))


def _scan_for_child(package: Package, sizes: dict[str, int], pid: int, write_end: int, done_read: int) -> int:
    import pickle
    import signal

    from toolkit.guard import scan_sheet

    # small sheets (通报信息, 配置) first: the child asks for those before the big ledger sheet
    sheets = sorted((s for s in package.sheets if s.part), key=lambda s: sizes.get(s.part, 0))
    out = os.fdopen(write_end, "wb")
    try:
        for sheet in sheets:
            try:
                scan = scan_sheet(package, sheet)
            except LedgerError:
                if (code := _reported(done_read, wait=False)) is not None:
                    return code  # the child finished first: calamine managed, so its answer stands
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    return _child_code(package, status)
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise
            try:
                pickle.dump((sheet.part, scan), out)
                out.flush()
            except OSError:
                break  # the child has finished (or died): its exit status tells which
    finally:
        with contextlib.suppress(OSError):
            out.close()
    if (code := _reported(done_read, wait=True)) is not None:
        return code  # the child has said how it ended: its teardown need not be waited for
    _, status = os.waitpid(pid, 0)  # it ended another way (an exception, a crash): its status tells
    return _child_code(package, status)


def _reported(done_read: int, wait: bool) -> int | None:
    """The exit code the child handed over (_report_exit), or None when it ended without one."""
    os.set_blocking(done_read, wait)
    try:
        code = os.read(done_read, 1)
    except (BlockingIOError, OSError):
        return None
    return code[0] if code else None


def _child_code(package: Package, status: int) -> int:
    if os.WIFSIGNALED(status):
        from toolkit.guard import reader_died

        raise reader_died(package.path)
    return os.WEXITSTATUS(status)


# --- contained reads ---------------------------------------------------------------------------------
# Measuring a sheet before calamine reads it costs a third of what the read itself costs on a small
# ledger (four regex passes over the sheet XML). A worker of a many-ledger roll-up (toolkit.units) is a
# disposable process whose death is handled: its files are read again, one by one, the guarded way. Such
# a worker may instead read a small file *contained*: under an address-space limit, a CPU timer and with
# stderr silenced, calamine reads the sheets unmeasured. A hostile used range then makes calamine's
# allocation fail, which aborts the worker; a range that fits but is too big is refused on what calamine
# read (guard.check_extent, same sentence as the guard's); a runaway parse is ended by the timer. The
# parent retries the file guarded, so the user hears exactly what `ledger validate` would say.

# address space a contained read may add to what the process has mapped already (the reading child
# gets 3 GB in all; a worker forked from a process with big libraries loaded has mapped more)
CONTAINED_MEMORY = 3 << 30
CONTAINED_SECONDS = 2.0  # CPU time allowed per contained file, plus CONTAINED_SECONDS_PER_MB of its size
CONTAINED_SECONDS_PER_MB = 1.0
_contained = False


class ContainmentExceeded(BaseException):
    """A contained read failed in a way its limits may have caused (memory, a library that could not be
    mapped): the worker ends, and the file is read again guarded, which names the file's fault if any.

    A BaseException, so that no ``except Exception`` on the way turns it into a reason for the file."""


def _mapped_bytes() -> int:
    """The process's address space now (Linux; elsewhere 0, and CONTAINED_MEMORY is the whole limit)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def contained() -> bool:
    """True while contained_read is in force: the sheets of an in-memory package are read unmeasured."""
    return _contained


@contextlib.contextmanager
def contained_read(file_bytes: int) -> Iterator[None]:
    """Read one file contained (see above). Only for a forked worker whose death the parent handles."""
    global _contained
    import resource
    import signal

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _mapped_bytes() + CONTAINED_MEMORY
    for cap in (soft, hard):  # never above a limit the process already runs under
        if cap != resource.RLIM_INFINITY:
            limit = min(limit, cap)
    seconds = CONTAINED_SECONDS + CONTAINED_SECONDS_PER_MB * file_bytes / (1 << 20)
    flush_std_streams()
    try:
        saved_stderr: int | None = os.dup(2)
    except OSError:  # no stderr at all (2>&-): nothing to silence
        saved_stderr = None
    devnull = os.open(os.devnull, os.O_WRONLY)
    handler = None
    try:
        # calamine's "memory allocation failed" and its backtrace are not for the user
        if saved_stderr is not None:
            os.dup2(devnull, 2)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        handler = signal.signal(signal.SIGPROF, signal.SIG_DFL)  # the timer's signal ends the process
        signal.setitimer(signal.ITIMER_PROF, seconds)
        _contained = True
        yield
    finally:
        _contained = False
        signal.setitimer(signal.ITIMER_PROF, 0)
        if handler is not None:
            signal.signal(signal.SIGPROF, handler)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        if saved_stderr is not None:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
        os.close(devnull)
