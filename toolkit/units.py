"""Many ledgers at once: one per unit, rolled up for a district office.

Files are read in worker processes (one per core, forked once with everything imported) in batches and
in a bounded window: a worker reads a few workbooks, counts each and sends back small summaries
(``UnitResult``), never the ledgers, so memory stays flat however many files there are. A file that cannot
be read becomes a failure with its reason; the others go on. Small files are read *contained* (see
toolkit.fastpath.contained_read): unmeasured, under a memory limit and a CPU timer; a worker that dies of it
has its files read again one by one, the guarded way, so the reasons are those `ledger validate` gives.

Exit codes of the commands built on this module (``ledger stats --by unit``, ``ledger merge``):
0 every file was read; 1 some files failed (results for the others are still printed or written, the
failures listed); 2 nothing could be read at all (or no ledger files were found).
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.config import DEFAULT_CONFIG, FIELDS, Config
from toolkit.errors import LedgerError, OutputError
from toolkit.fastpath import ContainmentExceeded, contained, contained_read
from toolkit.guard import IN_MEMORY_BYTES
from toolkit.stats import GroupStats, format_rate, ledger_stats, percent

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from toolkit.model import Ledger

LEDGER_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
MERGED_DEFAULT_NAME = "汇总台账.xlsx"
# our own outputs and Office's leftovers, never counted as a unit's ledger
SKIP_NAME_PARTS = ("汇总台账", "校验结果", "备份")
PROGRESS_THRESHOLD = 20  # files: below this a progress bar is just noise
SERIAL_THRESHOLD = 3  # files: below this starting worker processes costs more than it saves

FINDING_CODES = (
    "missing-column",
    "missing-value",
    "unknown-status",
    "unknown-dimension",
    "bad-deadline",
    "bad-date",
    "missing-completion-date",
    "completion-in-future",
    "late-completion",
    "overdue",
    "due-soon",
    "closed-without-evidence",
    "duplicate-problem",
    "seq-gap",
    "seq-duplicate",
    "formula-error",
)

COUNT_FIELDS = (
    "total",
    "completed",
    "closed",
    "substantially_done",
    "long_term",
    "in_progress",
    "extended",
    "not_started",
    "undecided",
    "unknown",
    "no_status",
    "excluded",
    "overdue",
    "on_time",
    "completed_with_deadline",
)


class NoLedgerFilesError(LedgerError):
    """No ledger workbook among the paths given."""


class NothingReadError(LedgerError):
    """Every file failed; the message lists why."""


@dataclass(slots=True)
class UnitResult:
    """What one worker sends back for one file: small, picklable, no ledger."""

    file: str
    unit: str = ""
    reason: str = ""  # why the file could not be used; empty when it was read
    total: GroupStats | None = None
    dimensions: list[GroupStats] = field(default_factory=list)
    overdue_items: list[dict] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)  # code -> count (merge only)
    errors: int = 0
    warnings: int = 0
    rows: list[list[object]] = field(default_factory=list)  # canonical rows (merge only)

    @property
    def ok(self) -> bool:
        return not self.reason

    def row(self, decimals: int = 1) -> dict:
        """A row of ``ledger stats --by unit --json``: the dimension-row fields plus the file."""
        assert self.total is not None
        data = self.total.as_dict(decimals)
        data["name"] = self.unit
        data["file"] = self.file
        return data


# ---------------------------------------------------------------- finding the files


def is_candidate(path: Path) -> bool:
    return _candidate_name(path.name)


def _candidate_name(name: str) -> bool:
    if name.startswith(("~$", ".")) or os.path.splitext(name)[1].lower() not in LEDGER_SUFFIXES:
        return False
    return not any(part in name for part in SKIP_NAME_PARTS)


def collect_files(
    paths: Iterable[str | os.PathLike], exclude: Iterable[str | os.PathLike] = ()
) -> list[Path]:
    """Ledger files from folders (top level, sorted by name) and files given by name (kept as given).

    A folder yields its .xlsx/.xlsm/.xls/.ods files except lock files (``~$…``), hidden files and our own
    outputs (汇总台账…, …校验结果…, …备份…). A file named explicitly is always taken.
    """
    skip = {os.path.abspath(p) for p in exclude}
    found: list[Path] = []
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            with os.scandir(path) as entries:  # names first: a stat only for the candidates
                names = sorted(e.name for e in entries if _candidate_name(e.name) and e.is_file())
            folder = os.path.abspath(path)
            children = [(path / name, os.path.join(folder, name)) for name in names]
        elif path.exists():
            children = [(path, os.path.abspath(path))]
        else:
            raise NoLedgerFilesError(f"找不到“{path}”，请检查文件或文件夹路径。")
        for child, key in children:
            if key in seen or key in skip:
                continue
            seen.add(key)
            found.append(child)
    if not found:
        shown = "、".join(str(p) for p in paths) or "（未指定）"
        raise NoLedgerFilesError(
            f"在“{shown}”中没有找到台账文件（.xlsx/.xlsm/.xls/.ods），请检查路径或直接列出文件。"
        )
    return found


def unit_name(ledger: Ledger, path: str | os.PathLike) -> str:
    """The 单位 from the 通报信息 sheet, else the file name without extension."""
    unit = ledger.info.get("unit") if isinstance(ledger.info, dict) else None
    text = str(unit).strip() if unit else ""
    return text or Path(path).stem


# ---------------------------------------------------------------- the worker


def _read(path: str, config: Config, as_of: date | None = None) -> Ledger:
    from toolkit.read import read_ledger

    return read_ledger(path, config=config, as_of=as_of)


def summarize_file(
    path: str, as_of: date, mode: str = "stats", config: Config = DEFAULT_CONFIG
) -> UnitResult:
    """Read one unit's file and boil it down (runs in a worker process).

    ``mode``: "stats" counts the file as a whole; "report" also per dimension and lists overdue items;
    "merge" also validates and returns the canonical rows. Any failure becomes ``reason`` (never an
    exception), so one bad file stops nothing. Only what the mode needs travels back to the parent.
    """
    result = UnitResult(file=str(path))
    try:
        ledger = _read(str(path), config, as_of)
        result.unit = unit_name(ledger, path)
        config = ledger.config or config  # the workbook's 配置 sheet applies to its own ledger
        stats = ledger_stats(ledger, as_of, "dimension", config)
        result.total = stats.total
        if mode == "report":
            result.dimensions = stats.groups
        if mode in ("report", "merge"):
            overdue = set(stats.total.overdue_rows)
            result.overdue_items = [
                {
                    "row": item.row,
                    "seq": item.get("seq"),
                    "dimension": item.dimension,
                    "problem": item.get("problem"),
                    "dept": item.get("dept"),
                    "owner": item.get("owner"),
                    "deadline": item.get("deadline"),
                    "deadline_date": item.deadline.value.isoformat() if item.deadline.value else None,
                    "status": item.get("status"),
                }
                for item in ledger.items
                if item.row in overdue
            ]
        if mode == "merge":
            from toolkit.validate import validate_ledger

            report = validate_ledger(ledger, as_of, config)
            result.errors = report.errors
            result.warnings = report.warnings
            counts: dict[str, int] = {}
            for finding in report.findings:
                counts[finding.code] = counts.get(finding.code, 0) + 1
            result.findings = counts
            result.rows = canonical_rows(ledger)
    except LedgerError as exc:
        result.reason = str(exc)
    except MemoryError:
        if contained():  # the limit was the worker's, not the machine's: read it again guarded
            raise ContainmentExceeded from None
        result.reason = "文件过大，读取时内存不足，请拆分后重试。"
    except Exception as exc:  # a bug or an exotic file must not stop the other units
        if contained():  # maybe the limits' doing (a library that could not be mapped): try it guarded
            raise ContainmentExceeded from None
        result.reason = (
            f"读取时出现意外错误（{type(exc).__name__}：{exc}），请用 ledger validate 单独检查此文件。"
        )
    return result


def canonical_rows(ledger: Ledger) -> list[list[object]]:
    """Items in canonical column order; dates as ``date`` where the cell holds one, else the text."""
    rows = []
    for item in ledger.items:
        row: list[object] = []
        for spec in FIELDS:
            if spec.id == "seq" and item.seq is not None:
                row.append(int(item.seq) if float(item.seq).is_integer() else item.seq)
            elif spec.id == "deadline" and item.deadline.value is not None:
                row.append(item.deadline.value)
            elif spec.id == "completed_on" and item.completed_on.value is not None:
                row.append(item.completed_on.value)
            elif spec.id == "dimension":
                row.append(item.dimension)
            else:
                row.append(item.get(spec.id))
        rows.append(row)
    return rows


# ---------------------------------------------------------------- running many


def run_many(
    files: Sequence[str | os.PathLike],
    as_of: date,
    mode: str = "stats",
    config: Config = DEFAULT_CONFIG,
    *,
    jobs: int | None = None,
    progress: bool | None = None,
) -> Iterator[UnitResult]:
    """Summaries in file order, read by ``jobs`` processes (default: all cores) in a bounded window.

    At most ``2 × jobs`` batches (see _batches) are in flight; a result is handed on as soon as every
    earlier file is done, so the caller can stream (write rows, print) without keeping everything.
    """
    jobs = max(1, jobs or os.cpu_count() or 1)
    paths = [str(f) for f in files]
    show = progress if progress is not None else (len(paths) >= PROGRESS_THRESHOLD and _stderr_is_tty())
    with _progress(len(paths), show) as advance:
        if jobs == 1 or len(paths) < SERIAL_THRESHOLD:
            for path in paths:
                result = summarize_file(path, as_of, mode, config)
                advance()
                yield result
            return
        run = _run_forked if FORKED_WORKERS else _run_pool
        yield from run(paths, as_of, mode, config, jobs, advance)


WORKER_DIED = "读取此文件时读取进程意外退出（可能是损坏或异常的文件），请用 ledger validate 单独检查此文件。"
BATCH_FILES = 8  # files a worker reads per round trip: the pool's own cost is ~0.3 ms a task
BATCH_BYTES = 1 << 20  # …unless they are big: a big file makes its own task (memory, fair sharing)

WINDOWS_MAX_WORKERS = 61  # concurrent.futures.process._MAX_WINDOWS_WORKERS
_job: tuple[date, str, Config] | None = None  # set once in each worker by _start_worker


def _start_worker(as_of: date, mode: str, config: Config) -> None:
    global _job
    _job = (as_of, mode, config)


def _summarize_batch(paths: list[str]) -> list[UnitResult]:
    """One task: several files, read one after the other in this worker."""
    assert _job is not None
    as_of, mode, config = _job
    return [summarize_file(path, as_of, mode, config) for path in paths]


def _batches(paths: list[str], jobs: int) -> list[list[int]]:
    """Consecutive files in batches that shrink towards the end (a quarter of a worker's share of what is
    left, at most BATCH_FILES), so the workers finish together; a file over BATCH_BYTES goes alone."""
    sizes = []
    for path in paths:
        try:
            sizes.append(os.stat(path).st_size)
        except OSError:
            sizes.append(0)  # the worker reports it
    batches: list[list[int]] = []
    i = 0
    while i < len(paths):
        want = max(1, min(BATCH_FILES, (len(paths) - i) // (jobs * 4)))
        batch = [i]
        weight = sizes[i]
        i += 1
        while i < len(paths) and len(batch) < want and weight + sizes[i] <= BATCH_BYTES:
            batch.append(i)
            weight += sizes[i]
            i += 1
        batches.append(batch)
    return batches


def _run_pool(
    paths: list[str], as_of: date, mode: str, config: Config, jobs: int, advance: Callable[[], None]
) -> Iterator[UnitResult]:
    """Where there is no fork (Windows): a process pool, a batch of files per task (see _batches), at most
    2 × jobs batches in flight. If a worker dies (a file that crashes the reader, the OOM killer), the pool
    is rebuilt and the files of every batch that was in flight are re-read one at a time, so only the
    culprit fails."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if sys.platform == "win32":  # WaitForMultipleObjects: ProcessPoolExecutor refuses more than 61 there
        jobs = min(jobs, WINDOWS_MAX_WORKERS)

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=(as_of, mode, config))

    batches = _batches(paths, jobs)
    window = jobs * 2
    pool = new_pool()
    pending: dict[int, Future[list[UnitResult]]] = {}
    done: dict[int, list[UnitResult]] = {}  # batches re-read file by file after a crash
    next_batch = 0

    def recover(in_flight: list[int]) -> None:
        """The pool broke: a new one, and each file of the batches in flight read on its own."""
        nonlocal pool
        pending.clear()
        pool.shutdown(wait=False, cancel_futures=True)
        pool = new_pool()
        for b in in_flight:
            results = []
            for i in batches[b]:
                try:
                    results += pool.submit(_summarize_batch, [paths[i]]).result()
                except BrokenProcessPool:
                    results.append(UnitResult(file=paths[i], reason=WORKER_DIED))
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = new_pool()
            done[b] = results

    try:
        for b in range(len(batches)):
            while next_batch < len(batches) and len(pending) < window:
                if next_batch not in done:
                    try:
                        pending[next_batch] = pool.submit(
                            _summarize_batch, [paths[i] for i in batches[next_batch]]
                        )
                    except BrokenProcessPool:
                        recover([*sorted(pending), next_batch])
                next_batch += 1
            if b not in done:
                try:
                    done[b] = pending.pop(b).result()
                except BrokenProcessPool:
                    recover([b, *sorted(pending)])
            for result in done.pop(b):
                advance()
                yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------- forked workers (POSIX)
# A worker is a fork of this process (everything already imported): file indexes go down one pipe, the
# pickled summaries of a batch come back up another, each message prefixed with its length. The parent
# only waits in poll() and unpickles, so it takes next to no CPU from the workers. When a worker dies,
# its pipe ends: the batch it was reading is read again file by file, each alone, and a file whose
# worker dies a second time fails with WORKER_DIED; the batches queued behind it go to the other workers.

_DEPTH = 2  # batches queued per worker, so it never waits for the parent between two
# Linux and the like; macOS forks too, but its system libraries are not fork-safe (Python spawns there)
FORKED_WORKERS = hasattr(os, "fork") and sys.platform != "darwin"


@dataclass(slots=True)
class _Task:
    files: list[int]
    alone: bool = False  # a second try after a worker died: dying again names the culprit


@dataclass(slots=True)
class _Worker:
    pid: int
    send_fd: int
    recv_fd: int
    tasks: deque[_Task] = field(default_factory=deque)
    buffer: bytearray = field(default_factory=bytearray)


def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(8, "little") + payload


def _fork_worker(paths: list[str], job: tuple[date, str, Config], others: list[_Worker]) -> _Worker:
    task_recv, task_send = os.pipe()
    result_recv, result_send = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns
        code = 1
        try:
            faulthandler.disable()  # a contained read may abort this process on purpose: no stack dump
            os.close(task_send)
            os.close(result_recv)
            for other in others:  # or a dead sibling's pipe would never report its end
                os.close(other.send_fd)
                os.close(other.recv_fd)
            _worker_loop(task_recv, result_send, paths, job)
            code = 0
        finally:
            os._exit(code)
    os.close(task_recv)
    os.close(result_send)
    return _Worker(pid, task_send, result_recv)


def _worker_loop(task_fd: int, result_fd: int, paths: list[str], job: tuple[date, str, Config]) -> None:
    import pickle

    as_of, mode, config = job
    contain_small = os.environ.get("LEDGER_CONTAINED_READS", "1") != "0"  # 0: every read guarded (a way out)
    with os.fdopen(task_fd, "rb") as tasks, os.fdopen(result_fd, "wb") as results:
        while len(header := tasks.read(8)) == 8:
            batch, alone = pickle.loads(tasks.read(int.from_bytes(header, "little")))
            summaries = []
            for i in batch:
                size = _size(paths[i])
                # a small file is read contained (toolkit.fastpath.contained_read), unless this is the second
                # try after a worker died: then the guarded way, which names what is wrong with the file
                contain = contain_small and not alone and 0 < size <= IN_MEMORY_BYTES
                with contained_read(size) if contain else contextlib.nullcontext():
                    summaries.append(summarize_file(paths[i], as_of, mode, config))
            results.write(_frame(pickle.dumps(summaries, pickle.HIGHEST_PROTOCOL)))
            results.flush()


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # summarize_file reports it


def _run_forked(
    paths: list[str], as_of: date, mode: str, config: Config, jobs: int, advance: Callable[[], None]
) -> Iterator[UnitResult]:
    """Batches (see _batches) over ``jobs`` forked workers; results handed on in file order.

    A batch is sent only while it is within 2 × jobs batches of the one whose results are due next,
    so however slow one file is, only that many batches' summaries wait in memory.
    """
    import pickle
    import select

    import python_calamine  # noqa: F401  # imported once here, inherited by the forked workers

    import toolkit.read  # noqa: F401

    job = (as_of, mode, config)
    batches = _batches(paths, jobs)
    batch_of = [b for b, files in enumerate(batches) for _ in files]
    queue = deque(_Task(files) for files in batches)
    window = 2 * jobs
    done: dict[int, UnitResult] = {}
    workers: list[_Worker] = []
    next_file = 0

    def lost(worker: _Worker) -> None:
        """The worker's pipe ended: it died. Its batch is retried file by file; the rest is requeued."""
        os.close(worker.send_fd)
        os.close(worker.recv_fd)
        os.waitpid(worker.pid, 0)
        workers.remove(worker)
        if not worker.tasks:
            return
        task = worker.tasks.popleft()
        queue.extendleft(reversed(worker.tasks))
        if task.alone:
            done[task.files[0]] = UnitResult(file=paths[task.files[0]], reason=WORKER_DIED)
        else:
            queue.extendleft(_Task([i], alone=True) for i in reversed(task.files))

    def received(worker: _Worker) -> None:
        buffer = worker.buffer
        while len(buffer) >= 8 and len(buffer) >= 8 + (size := int.from_bytes(buffer[:8], "little")):
            summaries = pickle.loads(bytes(buffer[8 : 8 + size]))
            del buffer[: 8 + size]
            for i, summary in zip(worker.tasks.popleft().files, summaries, strict=True):
                done[i] = summary

    try:
        while next_file < len(paths):
            while next_file in done:
                advance()
                yield done.pop(next_file)
                next_file += 1
            if next_file >= len(paths):
                break
            while queue and len(workers) < jobs and len(workers) < len(queue):
                workers.append(_fork_worker(paths, job, workers))
            for worker in workers:
                while (
                    queue
                    and len(worker.tasks) < _DEPTH
                    and batch_of[queue[0].files[0]] < batch_of[next_file] + window
                ):
                    task = queue.popleft()
                    worker.tasks.append(task)
                    with contextlib.suppress(BrokenPipeError):  # a dead worker: its pipe's end says so
                        os.write(worker.send_fd, _frame(pickle.dumps((task.files, task.alone))))
            busy = {w.recv_fd: w for w in workers if w.tasks}
            if not busy:  # cannot happen (see the window above); never wait for nothing
                raise RuntimeError("no batch in flight")
            poller = select.poll()  # not select(): any number of descriptors, however high
            for fd in busy:
                poller.register(fd, select.POLLIN)
            for fd, _event in poller.poll():
                worker = busy[fd]
                data = os.read(fd, 1 << 16)
                if data:
                    worker.buffer += data
                    received(worker)
                else:
                    lost(worker)
    finally:
        for worker in workers:  # a worker ends when its task pipe closes; one still busy is stopped
            os.close(worker.send_fd)
            os.close(worker.recv_fd)
            if worker.tasks:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGKILL)
        for worker in workers:
            os.waitpid(worker.pid, 0)


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _progress:
    """A rich progress bar on stderr, or nothing."""

    def __init__(self, total: int, show: bool) -> None:
        self.total = total
        self.show = show
        self.bar = None

    def __enter__(self) -> Callable[[], None]:
        if not self.show:
            return lambda: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("读取台账"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.bar.start()
        task = self.bar.add_task("读取", total=self.total)
        bar = self.bar
        return lambda: bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


# ---------------------------------------------------------------- stats by unit


@dataclass(slots=True)
class UnitsStats:
    as_of: date
    units: list[UnitResult]
    failures: list[UnitResult]
    total: GroupStats
    decimals: int = 1
    repeated: list[dict] = field(default_factory=list)  # see repeated_units

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "by": "unit",
            "total": self.total.as_dict(self.decimals),
            "units": [u.row(self.decimals) for u in self.units],
            "failures": [{"file": f.file, "reason": f.reason} for f in self.failures],
            "repeated_units": self.repeated,
        }

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0


def sum_groups(name: str, groups: Iterable[GroupStats]) -> GroupStats:
    out = GroupStats(name)
    for g in groups:
        for attr in COUNT_FIELDS:
            setattr(out, attr, getattr(out, attr) + getattr(g, attr))
    return out


def stats_by_unit(
    paths: Iterable[str | os.PathLike],
    as_of: date,
    config: Config = DEFAULT_CONFIG,
    *,
    jobs: int | None = None,
    progress: bool | None = None,
) -> UnitsStats:
    """One row per unit (file order); failures kept apart. Raises only when nothing at all was read."""
    files = collect_files(paths)
    units: list[UnitResult] = []
    failures: list[UnitResult] = []
    for result in run_many(files, as_of, "stats", config, jobs=jobs, progress=progress):
        (units if result.ok else failures).append(result)
    if not units:
        raise NothingReadError(nothing_read_message(failures))
    total = sum_groups("合计", (u.total for u in units if u.total is not None))
    return UnitsStats(as_of, units, failures, total, config.rate_decimals, repeated_units(units))


def repeated_units(results: Iterable[UnitResult]) -> list[dict]:
    """Units named by more than one file, ``[{"name", "files"}]`` in file order.

    Usually a corrected ledger left beside the old one, or a copy: every total counts the unit twice,
    which nobody wants without being told. Told, not decided: which file is the right one is the
    clerk's call (the newer file is not always the corrected one)."""
    files_of: dict[str, list[str]] = {}
    for result in results:
        if result.ok:
            files_of.setdefault(result.unit, []).append(Path(result.file).name)
    return [{"name": name, "files": files} for name, files in files_of.items() if len(files) > 1]


def repeated_units_notes(repeated: Sequence[dict]) -> list[str]:
    return [
        f"单位“{x['name']}”出现在 {len(x['files'])} 个文件中（{'、'.join(x['files'])}），都计入了合计；"
        "如果其中有旧版本或副本，请移出文件夹后重新统计。"
        for x in repeated
    ]


def nothing_read_message(failures: Sequence[UnitResult]) -> str:
    first = failures[0]
    return (
        f"{len(failures)}个文件均未能读取，例如“{Path(first.file).name}”：{first.reason.rstrip('。')}。"
        if failures
        else "没有可读取的台账文件。"
    )


def units_table(result: UnitsStats) -> str:
    """The plain Chinese table for ``ledger stats --by unit``."""
    from toolkit.texttable import render_table

    d = result.decimals
    headers = ["单位", "问题总数", "已完成", "完成率", "超期未完成", "文件"]
    rows = [
        [
            u.unit,
            str(u.total.total),
            str(u.total.completed),
            format_rate(u.total.rate, d),
            str(u.total.overdue),
            Path(u.file).name,
        ]
        for u in result.units
        if u.total is not None
    ]
    t = result.total
    rows.append(["合计", str(t.total), str(t.completed), format_rate(t.rate, d), str(t.overdue), ""])
    text = render_table(headers, rows)
    if result.failures:
        lines = [f"以下 {len(result.failures)} 个文件未能读取："]
        lines += [f"  {Path(f.file).name}：{f.reason}" for f in result.failures]
        text += "\n\n" + "\n".join(lines)
    if result.repeated:
        text += "\n\n" + "\n".join(f"注意：{note}" for note in repeated_units_notes(result.repeated))
    if unsaid := [u for u in result.units if u.total is not None and u.total.no_status]:
        names = "、".join(f"{u.unit}（{u.total.no_status}条）" for u in unsaid)
        text += (
            f"\n\n注意：{names}的问题没有完成状态（台账没有完成状态列或未填写），"
            "无法判断是否完成，合计中按未完成计。"
        )
    return text


# ---------------------------------------------------------------- merged ledger


@dataclass(slots=True)
class MergeResult:
    output: Path
    units: int
    rows: int
    failures: list[UnitResult]
    repeated: list[dict] = field(default_factory=list)  # see repeated_units

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def message(self) -> str:
        text = f"已汇总 {self.units} 个单位、{self.rows} 条问题，写入“{self.output}”。"
        if self.failures:
            text += f"另有 {len(self.failures)} 个文件未能读取，原因见“各单位校验情况”工作表。"
        for note in repeated_units_notes(self.repeated):
            text += f"\n注意：{note}"
        return text


MERGED_SHEET = "汇总台账"
EXCEL_MAX_ROWS = 1_048_576
FINDINGS_SHEET = "各单位校验情况"


def merge_ledgers(
    paths: Iterable[str | os.PathLike],
    output: str | os.PathLike,
    as_of: date,
    config: Config = DEFAULT_CONFIG,
    *,
    force: bool = False,
    jobs: int | None = None,
    progress: bool | None = None,
) -> MergeResult:
    """Write one canonical ledger (单位 first) and a findings sheet, streaming rows as units come in."""
    import xlsxwriter

    from toolkit.safesave import replacing

    out = Path(output)
    if out.exists() and not force:
        raise OutputError(f"“{out}”已存在；如需覆盖，请加 --force，或用 -o 指定其他文件名。")
    if (out.parent / f"~${out.name}").exists():
        raise OutputError(f"“{out}”正在被 Excel/WPS 打开，请先关闭后重试。")
    files = collect_files(paths, exclude=[out])
    summaries: list[UnitResult] = []
    row_count = 0
    with replacing(out, keep_mode=False) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_formulas": False})
        header_fmt = book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True})
        date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
        text_fmt = book.add_format({"text_wrap": False})
        sheet = book.add_worksheet(MERGED_SHEET)
        headers = ["单位", *(spec.header for spec in FIELDS)]
        for col, header in enumerate(headers):
            sheet.write_string(0, col, header, header_fmt)
        widths = {0: 16, 1: 6, 4: 40, 5: 40, 9: 14, 10: 30, 12: 12}
        for col in range(len(headers)):
            sheet.set_column(col, col, widths.get(col, 12))
        sheet.freeze_panes(1, 1)
        excel_row = 1
        for result in run_many(files, as_of, "merge", config, jobs=jobs, progress=progress):
            if excel_row + len(result.rows) > EXCEL_MAX_ROWS:
                raise OutputError(
                    f"汇总后超过 Excel 单个工作表的行数上限（{EXCEL_MAX_ROWS} 行），请分批汇总（例如按街道分文件夹）。"
                )
            for values in result.rows:
                sheet.write_string(excel_row, 0, result.unit)
                for col, value in enumerate(values, start=1):
                    write_cell(sheet, excel_row, col, value, date_fmt, text_fmt)
                excel_row += 1
            row_count += len(result.rows)
            result.rows = []  # written: drop them
            result.overdue_items = []
            result.dimensions = []
            summaries.append(result)
        if excel_row > 1:
            sheet.autofilter(0, 0, excel_row - 1, len(headers) - 1)
        ok = [s for s in summaries if s.ok]
        failures = [s for s in summaries if not s.ok]
        if not ok:
            raise NothingReadError(nothing_read_message(failures))
        write_findings_sheet(book, summaries, header_fmt, config.rate_decimals)
        book.close()
    return MergeResult(out, len(ok), row_count, failures, repeated_units(ok))


def write_cell(sheet, row: int, col: int, value: object, date_fmt, text_fmt) -> None:
    """Strings stay strings (a cell starting with '=' is never a formula); dates are real dates."""
    if isinstance(value, datetime | date):
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        sheet.write_datetime(row, col, moment, date_fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value)
    elif value is None or value == "":
        return
    else:
        sheet.write_string(row, col, str(value))


def write_findings_sheet(book, summaries: Sequence[UnitResult], header_fmt, decimals: int) -> None:
    sheet = book.add_worksheet(FINDINGS_SHEET)
    seen = {code for s in summaries for code in s.findings}
    codes = [c for c in FINDING_CODES if c in seen] + sorted(seen - set(FINDING_CODES))
    headers = ["单位", "文件", "读取结果", "问题总数", "完成率", "错误", "提醒", *codes]
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, header_fmt)
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 24)
    sheet.set_column(2, 2, 40)
    sheet.set_column(3, len(headers) - 1, 10)
    for r, s in enumerate(summaries, start=1):
        sheet.write_string(r, 0, s.unit or Path(s.file).stem)
        sheet.write_string(r, 1, Path(s.file).name)
        if not s.ok:
            sheet.write_string(r, 2, f"未能读取：{s.reason}")
            continue
        sheet.write_string(r, 2, "已读取")
        assert s.total is not None
        sheet.write_number(r, 3, s.total.total)
        sheet.write_string(r, 4, format_rate(s.total.rate, decimals))
        sheet.write_number(r, 5, s.errors)
        sheet.write_number(r, 6, s.warnings)
        for c, code in enumerate(codes, start=7):
            sheet.write_number(r, c, s.findings.get(code, 0))


# ---------------------------------------------------------------- district 通报 context


LOW_RATE = 80.0  # percent: "under 80%" in the district report


def district_context(
    paths: Iterable[str | os.PathLike] | None = None,
    as_of: date | None = None,
    config: Config = DEFAULT_CONFIG,
    *,
    results: Sequence[UnitResult] | None = None,
    jobs: int | None = None,
    progress: bool | None = None,
    low_rate: float = LOW_RATE,
) -> dict:
    """Plain data for the district-level 通报 across units (no rendering here).

    Pass ``paths`` (read in parallel) or ready ``results``. Keys: see the README of the report template and
    ``tests/test_units.py``; every rate is a percentage (float) plus a ``*_text`` form ("70.6%").
    """
    as_of = as_of or date.today()
    d = config.rate_decimals
    if results is None:
        files = collect_files(paths or ())
        results = list(run_many(files, as_of, "report", config, jobs=jobs, progress=progress))
    units = [r for r in results if r.ok and r.total is not None]
    failures = [r for r in results if not r.ok]
    if not units:
        raise NothingReadError(nothing_read_message(failures))
    total = sum_groups("合计", (u.total for u in units if u.total is not None))

    def unit_row(u: UnitResult) -> dict:
        assert u.total is not None
        rate = percent(u.total.rate, d)
        return {
            "name": u.unit,
            "file": Path(u.file).name,
            "total": u.total.total,
            "completed": u.total.completed,
            "pending": u.total.pending,
            "long_term": u.total.long_term,
            "overdue": u.total.overdue,
            "no_status": u.total.no_status,
            "rate": rate,
            "rate_text": format_rate(u.total.rate, d),
        }

    rows = [unit_row(u) for u in units]
    ranked = sorted(rows, key=lambda r: (r["rate"] is None, -(r["rate"] or 0), r["overdue"], r["name"]))
    previous_rate: float | None = None
    rank = 0
    for position, row in enumerate(ranked, start=1):
        if row["rate"] != previous_rate:
            rank = position  # ties share a rank (1, 2, 2, 4)
            previous_rate = row["rate"]
        row["rank"] = rank
    full = [r for r in ranked if r["rate"] is not None and r["rate"] >= 100]
    low = [r for r in ranked if r["rate"] is not None and r["rate"] < low_rate]

    # dimensions across units: summed counts; "lagging" = below the overall rate
    by_dim: dict[str, list[GroupStats]] = {}
    for u in units:
        for g in u.dimensions:
            by_dim.setdefault(g.name, []).append(g)
    overall = percent(total.rate, d)
    dimensions = []
    for name, groups in by_dim.items():
        g = sum_groups(name, groups)
        rate = percent(g.rate, d)
        dimensions.append(
            {
                "name": name,
                "units": len(groups),
                "total": g.total,
                "completed": g.completed,
                "pending": g.pending,
                "overdue": g.overdue,
                "rate": rate,
                "rate_text": format_rate(g.rate, d),
                "lagging": rate is not None and overall is not None and rate < overall,
            }
        )
    lagging = sorted((x for x in dimensions if x["lagging"]), key=lambda x: (x["rate"], x["name"]))

    overdue_units = sorted(
        (
            {
                "name": u.unit,
                "file": Path(u.file).name,
                "count": len(u.overdue_items),
                "items": u.overdue_items,
            }
            for u in units
            if u.overdue_items
        ),
        key=lambda x: (-x["count"], x["name"]),
    )
    overdue_total = sum(x["count"] for x in overdue_units)
    date_text = f"{as_of.year}年{as_of.month}月{as_of.day}日"
    summary = (
        f"截至{date_text}，共{len(units)}个单位报送整改台账，梳理问题{total.total}个，"
        f"已完成{total.completed}个，整体完成率{format_rate(total.rate, d)}。"
        f"其中完成率达到100%的单位{len(full)}个，低于{low_rate:g}%的单位{len(low)}个；"
        f"超期未完成问题{overdue_total}个，涉及{len(overdue_units)}个单位。"
    )
    unsaid = [r for r in rows if r["no_status"]]
    if unsaid:  # never a silent 0%: say whose items could not be judged
        names = "、".join(f"{r['name']}{r['no_status']}个" for r in unsaid)
        summary += f"另有{names}问题未注明完成状态，无法判断是否完成，按未完成计入整体完成率。"
    return {
        "as_of": as_of.isoformat(),
        "date_text": date_text,
        "unit_count": len(units),
        "total": total.total,
        "completed": total.completed,
        "pending": total.pending,
        "long_term": total.long_term,
        "rate": overall,
        "rate_text": format_rate(total.rate, d),
        "rate_decimals": d,  # of every rate_text here: the chart's labels write them alike
        "ranking": ranked,
        "full_count": len(full),
        "full_units": [r["name"] for r in full],
        "low_threshold": low_rate,
        "low_count": len(low),
        "low_units": [r["name"] for r in low],
        "dimensions": dimensions,
        "lagging_dimensions": lagging,
        "overdue_total": overdue_total,
        "overdue_units": overdue_units,
        "no_status": total.no_status,
        "failures": [{"file": Path(f.file).name, "reason": f.reason} for f in failures],
        "repeated_units": repeated_units(units),
        "summary": summary,
    }
