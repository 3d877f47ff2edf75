"""Recording snapshots for the commands and the buttons.

``write_snapshot`` / ``write_begun`` store one snapshot and raise ``HISTORY_FAILURES`` when the history
cannot be written (``failure_message`` is the sentence a command tells instead, and goes on: see
``toolkit.api.record_history``). ``begin_snapshot`` builds the snapshot before the ledger is validated so
that compressing it overlaps the rules.
"""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.history.codec import BlobWriter
from toolkit.history.model import HISTORY_FAILURES, HistoryError, Snapshot
from toolkit.history.snapshot import file_hash, items_hash, snapshot_counts, snapshot_from_ledger
from toolkit.history.store import HistoryStore, resolve_history_path

if TYPE_CHECKING:
    from toolkit.model import Ledger
    from toolkit.stats import Stats


def failure_message(exc: BaseException) -> str:
    """The sentence telling the clerk that this result was not recorded, and that nothing else suffers."""
    message = str(exc) if isinstance(exc, HistoryError) else f"无法写入历史记录（{exc}）"
    return f"{message.rstrip('。')}；本次结果未记入历史，其他结果不受影响。"


def warm_up(workbook: str | os.PathLike) -> None:
    """What recording a snapshot of this workbook will need, done early: the CLI runs this in a
    thread while calamine parses the sheet (its Rust parse lets other threads run); importing
    this package is half of it."""
    with suppress(OSError):  # recording will meet the same problem and say so
        file_hash(workbook)


@dataclass(slots=True)
class BegunSnapshot:
    """A snapshot built as soon as the ledger was read; its blob is being compressed meanwhile."""

    snapshot: Snapshot
    writer: BlobWriter


def begin_snapshot(
    ledger: Ledger, as_of: date, history_path: str | os.PathLike | None = None, *, command: str = ""
) -> BegunSnapshot | None:
    """Build the snapshot ``write_begun`` will store, before the ledger is validated.

    Why: zlib is ~50–65 ms of a 100k-row snapshot's CPU (several times that when every problem is
    worded differently) and lets go of the GIL while it works. Handed to the worker thread here, the
    columns are compressed while the rules run, on the core those leave idle. Started after the rules
    instead, the worker waited for the GIL at each zlib output block while the snapshot's long C-level
    joins and maps held it, and most of the compressing happened at the end anyway. Measured in one
    process (bench_history.py --first-snapshot): the snapshot adds ~90–100 ms begun here, ~120–140 ms
    built after the rules; its GIL-bound part alone is ~65 ms (two busy cores slow each other, so the
    overlapped zlib still adds ~25 ms). Building the snapshot costs the same before as after the rules.

    Pass the result to ``write_begun``, which writes or abandons it.
    None when there is nothing to begin (then ``write_snapshot`` does all the work): no workbook file, these
    bytes recorded for this as-of already (a second click only refreshes the time), or the history
    cannot be read (recording meets the same problem and says so).
    """
    path = os.path.abspath(ledger.path) if ledger.path else ""
    if not path or not os.path.isfile(path):
        return None
    try:
        content_hash = file_hash(path)
        target = resolve_history_path(ledger.path, history_path)
        if target.exists():
            with HistoryStore(target, readonly=True) as store:
                if store.has_snapshot(Path(path).name, content_hash, as_of):
                    return None
    except HISTORY_FAILURES:
        return None
    writer = BlobWriter()
    try:
        snapshot = snapshot_from_ledger(
            ledger, None, as_of, content_hash=content_hash, command=command, writer=writer
        )
        writer.feed(snapshot.items)
    except BaseException:
        writer.abandon()
        raise
    return BegunSnapshot(snapshot, writer)  # write_begun finishes or abandons the writer


def write_begun(
    begun: BegunSnapshot, history_path: str | os.PathLike | None = None, *, command: str = ""
) -> Snapshot:
    """Store a snapshot ``begin_snapshot`` built; its day and bytes were not recorded when it began.

    The blob's thread ends here whatever happens (``store.record`` finishes it, or it is abandoned)."""
    with begun.writer, HistoryStore(resolve_history_path(begun.snapshot.path, history_path)) as store:
        begun.snapshot.command = command or begun.snapshot.command
        store.record(begun.snapshot, writer=begun.writer)
    return begun.snapshot


def write_snapshot(
    ledger: Ledger,
    stats: Stats | None,
    as_of: date,
    history_path: str | os.PathLike | None = None,
    *,
    command: str = "",
    content_hash: str | None = None,
    hash_items: bool = False,
) -> Snapshot | None:
    """Build and store the snapshot of a ledger; raises ``HISTORY_FAILURES`` when it cannot be written.

    ``stats`` by dimension when the caller has them; None counts only what the snapshot keeps. What
    tells this state apart from others: the workbook file's bytes (the default), the caller's
    ``content_hash``, or, with ``hash_items``, the items themselves (a ledger read from an open workbook,
    whose unsaved edits the file does not show). Returns None when there is nowhere to keep it (a
    workbook never saved, no ``history_path``).
    """
    if not ledger.path and history_path is None:
        return None
    path = os.path.abspath(ledger.path) if ledger.path else ""
    with HistoryStore(resolve_history_path(ledger.path, history_path)) as store:
        if content_hash is None and not hash_items and path and os.path.isfile(path):
            content_hash = file_hash(path)
            known = _refresh_if_recorded(store, ledger, stats, as_of, path, content_hash, command)
            if known is not None:
                return known
        with BlobWriter() as writer:  # compresses in a thread while the snapshot is built
            snapshot = snapshot_from_ledger(
                ledger, stats, as_of, content_hash=content_hash or "-", command=command, writer=writer
            )
            if content_hash is None:
                snapshot.content_hash = items_hash(snapshot.items)
            store.record(snapshot, writer=writer)  # no transaction is open while the snapshot is built
    return snapshot


def _refresh_if_recorded(
    store: HistoryStore,
    ledger: Ledger,
    stats: Stats | None,
    as_of: date,
    path: str,
    content_hash: str,
    command: str,
) -> Snapshot | None:
    """The same file judged on the same day again (a second click, a re-run): the stored items are these
    items, so only the time is updated — no rewriting a 100k-row snapshot. None when not recorded yet."""
    name = Path(path).name
    if not store.has_snapshot(name, content_hash, as_of):
        return None
    total = stats.total if stats is not None else snapshot_counts(ledger, as_of)[0]
    known = store.touch_if_unchanged(name, content_hash, as_of, total, command)
    if known is None:
        return None
    return Snapshot(  # the stored snapshot stands (its items are not reloaded)
        as_of, total.total, total.completed, total.overdue, total.rate, name=name, path=path,
        content_hash=content_hash, recorded_at=known[1], command=command, id=known[0],
    )  # fmt: skip
