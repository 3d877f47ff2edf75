"""Running ``summarize_file`` over many files: results in file order, memory flat, one bad file stops nothing.

Two executors, one contract (``UnitResult`` per file, in file order, whatever happens to a worker):

- the plain one, a ``ProcessPoolExecutor`` with a batch of files per task — what Windows and macOS use,
  and what every platform uses with ``LEDGER_FASTPATH=0`` (see toolkit.fastpath);
- the fork pool (Linux and the like, a speed trick): workers forked once with everything imported, file
  indexes down one pipe, pickled summaries up another. Small files are read *contained* there (see
  toolkit.fastpath.contained_read): unmeasured, under a memory limit and a CPU timer; a worker that dies of it
  has its files read again one by one, the guarded way, so the reasons are those ``ledger validate`` gives.
  ``LEDGER_CONTAINED_READS=0`` turns the contained reads off (every read guarded).
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from toolkit import fastpath
from toolkit.config import DEFAULT_CONFIG, Config
from toolkit.fastpath import contained_read
from toolkit.guard import IN_MEMORY_BYTES
from toolkit.units.summary import UnitResult, summarize_file

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

PROGRESS_THRESHOLD = 20  # files: below this a progress bar is just noise
SERIAL_THRESHOLD = 3  # files: below this starting worker processes costs more than it saves
# where the fork pool may run: Linux and the like; macOS forks too, but its system libraries are not
# fork-safe (Python spawns there). run_many uses it only while fastpath.enabled().
FORKED_WORKERS = hasattr(os, "fork") and sys.platform != "darwin"


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
        run = _run_forked if FORKED_WORKERS and fastpath.enabled() else _run_pool
        yield from run(paths, as_of, mode, config, jobs, advance)


WORKER_DIED = "读取此文件时读取进程意外退出（可能是损坏或异常的文件），请用 ledger validate 单独检查此文件。"
BATCH_FILES = 8  # files a worker reads per round trip: the pool's own cost is ~0.3 ms a task
BATCH_BYTES = 1 << 20  # …unless they are big: a big file makes its own task (memory, fair sharing)

WINDOWS_MAX_WORKERS = 61  # concurrent.futures.process._MAX_WINDOWS_WORKERS
_job: tuple[date, str, Config] | None = None  # set once in each worker by _start_worker


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # summarize_file reports it


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
    sizes = [_size(path) for path in paths]
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
    """The plain executor (Windows, macOS, and everywhere with ``LEDGER_FASTPATH=0``): a process pool, a
    batch of files per task (see _batches), at most 2 × jobs batches in flight. If a worker dies (a file
    that crashes the reader, the OOM killer), the pool is rebuilt and the files of every batch that was in
    flight are re-read one at a time, so only the culprit fails."""
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
