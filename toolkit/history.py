"""Snapshots of a ledger over time, kept in an embedded SQLite file beside the workbook.

Every ``ledger validate`` / ``ledger report`` (and the buttons) records what the ledger looked like on
the as-of date: totals, per-dimension counts and the status of every item. The next 通报 compares with
the previous snapshot ("较上次通报……新增完成2项，完成率提高11.8个百分点") and can draw a trend.

Decisions (see also docs/省级扩展.md):

- Location: ``.<workbook file name>.history.sqlite`` in the workbook's folder (hidden, travels with the
  folder, one file per workbook); ``--history PATH`` chooses another file, which may be shared by several
  workbooks — snapshots are then told apart by the workbook's file name (``name`` column), not by its
  absolute path, so moving or copying the folder keeps the history.
- Same content hash and same as-of recorded again: the snapshot is updated in place (recorded_at and
  counts refreshed, items rewritten), not added. Clicking 校验 three times on an unchanged file must not put
  three identical points in the trend, nor make "compared with last time" compare a state with itself.
  A different as-of on the same bytes is a new snapshot (overdue items change with the date); different
  bytes on the same as-of are new snapshots too (edits during the day are kept).
- "Previous" for a comparison is the last 通报 (a snapshot recorded by ``ledger report`` or the 生成通报
  button) whose as-of is strictly earlier than the current one: several runs on one day compare with the last
  report day, not with each other, and a 校验 in between is not a baseline anybody reported. Without an
  earlier 通报 the latest earlier snapshot is used and the sentence says so (较上次校验). Updating a
  snapshot in place keeps its "report" command: validating the bytes a 通报 was made from does not unmake it.
- Items are matched across snapshots by a key built from the 序号 and the normalised 问题描述 (full-width
  forms, spaces and line breaks folded, then sha256): first exact (seq, problem) pairs, then the problem text
  alone when it is unique on both sides (rows renumbered or moved), then the 序号 alone within the same 方面
  when both sides have one such row (problem text reworded).
- Storage (schema 2): a snapshot's items are one zlib-compressed blob of columns (``encode_items``), not a
  row per item. Schema 1 stored 100k SQLite rows per snapshot: ~30 MB and ~0.7 s CPU to write, on every
  ``ledger validate``. The blob is read only when details are needed (the comparison in a 通报, the
  overdue-since list, ``with_items``); totals and per-dimension counts stay as rows for ``ledger history``
  and the trend. Opening a schema-1 file for writing converts it in one transaction (ids, times and every
  item field kept); readers can still read a schema-1 file they cannot convert. Blob format 2 (header last)
  lets each column be compressed as soon as it is made; format-1 blobs of earlier versions are still read,
  and an earlier version meeting a format-2 blob asks for an upgrade.
- The first snapshot of a day is the one that costs (later runs on the same bytes only refresh the time).
  ``ledger validate`` builds it as soon as the ledger is read (``begin_snapshot``) and a worker thread
  compresses it while the rules run: zlib, a third of its CPU, then adds almost no wall time on a 2-core
  machine. It counts only what it keeps (``snapshot_counts``), not full statistics, and takes the reader's
  join of the 问题描述 and 责任部门 columns instead of joining 100k cells again. The problem texts stay in
  full: matching needs only a fingerprint, but a stored snapshot is also read back as the "current" one
  (``history_context`` without a ledger) and lists its items by their text; and a stable fingerprint per
  item (spaces folded, encoded, two checksums) measured 60–85 ms of GIL-bound CPU per 100k items, more
  than zlib takes for ledger-like texts (22–45 ms, off the main thread).
- Concurrency: WAL journal, ``busy_timeout``, one ``BEGIN IMMEDIATE`` transaction per snapshot, so two
  clerks on one shared folder serialise their writes instead of corrupting the file.
- Failures to write (read-only folder, locked or damaged file) never break validation: a Chinese warning on
  stderr, and the command goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import sys
import threading
import time
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import accumulate, compress, repeat
from operator import attrgetter, is_not, sub
from pathlib import Path
from queue import SimpleQueue
from typing import TYPE_CHECKING, TypeVar

from toolkit.config import COMPLETED_STATUSES, OPEN_STATUSES, normalize_text
from toolkit.errors import LedgerError
from toolkit.model import ItemColumns, MadeOnUse
from toolkit.stats import UNASSIGNED, GroupStats, count_no_status, percent
from toolkit.texttable import render_table

if TYPE_CHECKING:
    from toolkit.model import Item, Ledger
    from toolkit.stats import Stats

T = TypeVar("T")

# the command of a snapshot that was only a 校验 (the button's is "button-validate"): a 通报 compares with
# the last 通报, not with a 校验
VALIDATE_COMMAND = "validate"
# an update in place keeps a 通报's command: validating the bytes a 通报 was made from does not unmake it
# (Snapshot.is_report in SQL: a command ending in VALIDATE_COMMAND is only a 校验)
_KEEP_REPORT = (
    f"CASE WHEN command NOT LIKE '%{VALIDATE_COMMAND}' AND ? LIKE '%{VALIDATE_COMMAND}'"
    " THEN command ELSE ? END"
)

SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 15_000
HISTORY_SUFFIX = ".history.sqlite"

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,            -- workbook file name: the key snapshots are grouped by
    path TEXT NOT NULL,            -- absolute path when recorded
    content_hash TEXT NOT NULL,    -- sha256 of the file bytes
    as_of TEXT NOT NULL,           -- ISO date the ledger was judged against
    recorded_at TEXT NOT NULL,     -- ISO UTC timestamp of the (latest) recording
    command TEXT NOT NULL DEFAULT '',
    sheet TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT '',
    total INTEGER NOT NULL,
    completed INTEGER NOT NULL,
    closed INTEGER NOT NULL,
    long_term INTEGER NOT NULL,
    excluded INTEGER NOT NULL,
    overdue INTEGER NOT NULL,
    rate REAL                      -- fraction; NULL when nothing counts
);
CREATE UNIQUE INDEX IF NOT EXISTS snapshots_same_state ON snapshots (name, content_hash, as_of);
CREATE INDEX IF NOT EXISTS snapshots_by_name ON snapshots (name, as_of, id);
CREATE TABLE IF NOT EXISTS snapshot_items (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    row INTEGER NOT NULL,
    seq TEXT NOT NULL,
    dimension TEXT NOT NULL,
    problem TEXT NOT NULL,
    problem_hash TEXT NOT NULL,
    dept TEXT NOT NULL,
    status TEXT,                   -- canonical status id; NULL when empty or unknown
    status_text TEXT NOT NULL,     -- what the cell said
    deadline TEXT NOT NULL,        -- the deadline as typed
    deadline_date TEXT,            -- ISO date when it parses to one
    overdue INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, position)
);
CREATE TABLE IF NOT EXISTS snapshot_dimensions (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    total INTEGER NOT NULL,
    completed INTEGER NOT NULL,
    closed INTEGER NOT NULL,
    long_term INTEGER NOT NULL,
    excluded INTEGER NOT NULL,
    overdue INTEGER NOT NULL,
    rate REAL,
    PRIMARY KEY (snapshot_id, position)
);
"""

# schema 2: the items of a snapshot as one compressed blob (see encode_items) instead of a row each
_SCHEMA_V2 = """
CREATE TABLE IF NOT EXISTS snapshot_item_blobs (
    snapshot_id INTEGER PRIMARY KEY REFERENCES snapshots (id) ON DELETE CASCADE,
    count INTEGER NOT NULL,        -- items in the blob
    format INTEGER NOT NULL,       -- ITEMS_FORMAT the blob was written with
    data BLOB NOT NULL             -- encode_items()
);
"""


def _items_to_blobs(conn: sqlite3.Connection) -> None:
    """Schema 1 → 2: each snapshot's item rows become one blob, then the row table goes.

    Runs inside the migration's transaction: a failure leaves the file at schema 1, untouched.
    """
    for statement in _split_sql(_SCHEMA_V2):
        conn.execute(statement)
    ids = [r[0] for r in conn.execute("SELECT id FROM snapshots ORDER BY id")]
    for snapshot_id in ids:  # one snapshot in memory at a time
        states = ItemStates.from_states(_v1_items(conn, snapshot_id))
        conn.execute(
            "INSERT OR REPLACE INTO snapshot_item_blobs VALUES (?, ?, ?, ?)",
            (snapshot_id, len(states), ITEMS_FORMAT, encode_items(states)),
        )
    conn.execute("DROP TABLE snapshot_items")


def _v1_items(conn: sqlite3.Connection, snapshot_id: int | None) -> list[ItemState]:
    """The items of a snapshot as schema 1 stored them, one row each."""
    return [
        ItemState(
            row=r[0],
            seq=r[1],
            dimension=r[2],
            problem=r[3],
            dept=r[4],
            status=r[5],
            status_text=r[6],
            deadline=r[7],
            deadline_date=date.fromisoformat(r[8]) if r[8] else None,
            overdue=bool(r[9]),
        )
        for r in conn.execute(
            "SELECT row, seq, dimension, problem, dept, status, status_text, deadline, deadline_date,"
            " overdue FROM snapshot_items WHERE snapshot_id = ? ORDER BY position",
            (snapshot_id,),
        )
    ]


# each entry upgrades the schema from version i to i + 1: a script, or a function for data conversions
_MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (_SCHEMA_V1, _items_to_blobs)


class HistoryError(LedgerError):
    """The history database cannot be opened, read or written."""


@dataclass(slots=True)
class ItemState:
    """One item as a snapshot remembers it."""

    row: int
    seq: str
    dimension: str
    problem: str
    status: str | None
    status_text: str = ""
    dept: str = ""
    deadline: str = ""
    deadline_date: date | None = None
    overdue: bool = False

    @property
    def problem_hash(self) -> str:
        return problem_hash(self.problem)

    @property
    def completed(self) -> bool:
        return self.status in COMPLETED_STATUSES

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "seq": self.seq,
            "dimension": self.dimension,
            "problem": self.problem,
            "dept": self.dept,
            "status": self.status,
            "status_text": self.status_text,
            "deadline": self.deadline,
            "deadline_date": self.deadline_date.isoformat() if self.deadline_date else None,
            "overdue": self.overdue,
        }


class ItemStates(MadeOnUse[ItemState]):
    """A snapshot's items kept column by column; ItemState objects are made on first access, once.

    Recording a snapshot only needs the columns (they go straight into the blob), so ``ledger validate``
    never builds 100k objects; comparing and listing index the sequence like a list. The 序号 is kept as
    a number, formatted on access (``format_seq``), or, for a cell without a number, as its final text.
    """

    __slots__ = (
        "_states",
        "deadline_dates",
        "deadlines",
        "depts",
        "dimensions",
        "joined",
        "overdue",
        "problems",
        "rows",
        "seq_texts",
        "seq_values",
        "status_texts",
        "statuses",
    )

    def __init__(
        self,
        rows: Sequence[int],
        seq_values: Sequence[float | None],
        seq_texts: Sequence[str],
        dimensions: Sequence[str],
        problems: Sequence[str],
        depts: Sequence[str],
        statuses: Sequence[str | None],
        status_texts: Sequence[str],
        deadlines: Sequence[str],
        deadline_dates: Sequence[date | None],
        overdue: Sequence[bool] | bytes,
        joined: dict[str, str] | None = None,
    ) -> None:
        self.rows = rows
        self.seq_values = seq_values
        self.seq_texts = seq_texts
        self.dimensions = dimensions
        self.problems = problems
        self.depts = depts
        self.statuses = statuses
        self.status_texts = status_texts
        self.deadlines = deadlines
        self.deadline_dates = deadline_dates
        self.overdue = overdue
        # "problem" / "dept" -> that column joined by NUL, when the reader had it (ItemColumns.joined)
        self.joined = joined or {}
        self._states: list[ItemState] | None = None

    @classmethod
    def from_states(cls, states: Iterable[ItemState]) -> ItemStates:
        """Columns of ItemState objects (a hand-made snapshot, or schema-1 rows being converted)."""
        states = list(states)
        table = cls(
            [s.row for s in states],
            [None] * len(states),  # the seq is formatted already: kept as its final text
            [s.seq for s in states],
            [s.dimension for s in states],
            [s.problem for s in states],
            [s.dept for s in states],
            [s.status for s in states],
            [s.status_text for s in states],
            [s.deadline for s in states],
            [s.deadline_date for s in states],
            bytes(bool(s.overdue) for s in states),
        )
        table._states = states
        return table

    def _materialized(self) -> list[ItemState]:
        if self._states is None:
            columns = zip(
                self.rows,
                _format_seqs(self.seq_values, self.seq_texts),
                self.dimensions,
                self.problems,
                self.statuses,
                self.status_texts,
                self.depts,
                self.deadlines,
                self.deadline_dates,
                map(bool, self.overdue),
                strict=True,
            )
            # positional in ItemState's field order: row, seq, dimension, problem, status, status_text,
            # dept, deadline, deadline_date, overdue
            self._states = [ItemState(*values) for values in columns]
        return self._states

    def __len__(self) -> int:
        return len(self.rows)


# ---------------------------------------------------------------- the items blob

ITEMS_FORMAT = 2  # 1: header first (read, never written now); 2: header last, see encode_items
_SEP = "\x00"  # joins a text column; workbook cells cannot hold NUL (XML forbids it), checked anyway
_TRAILER = 4  # format 2: the header's length, little-endian, closes the payload


def encode_items(states: ItemStates, writer: BlobWriter | None = None) -> bytes:
    """A snapshot's items as one zlib blob: one byte segment per column, then a JSON header naming them.

    Why this shape: a row per item cost ~30 MB and ~0.7 s on 100k items. Columns compress far better
    than rows (a 方面 or 状态 column is a few words repeated), and each column is encoded by one C call:
    a text column is its cells joined by NUL, numbers are little-endian int32/float64 arrays (row numbers
    as differences, so they compress to almost nothing), flags are bytes. Not JSON arrays per field:
    ``json.dumps`` of a 100k-text list costs ~20 ms a column, as much as compressing it. Not pickle: a
    history file in a shared folder is untrusted input, and unpickling runs code. zlib level 1: level 6
    takes three times the CPU for a blob 10–20 % smaller. A text column that holds NUL, or a value that
    is not text, falls back to a JSON array. The header names every segment, so a later format can add
    columns that older readers skip.

    Format 2 puts the header last (its length in the closing 4 bytes) so that each column can go to
    zlib as soon as it is made: zlib lets go of the GIL while it compresses, so a worker thread
    (``BlobWriter``) compresses one column while this thread makes the next. On a 100k-row ledger zlib
    is ~50–65 ms of the snapshot's CPU, the 问题描述 texts a third to a half of it (far more when every
    problem is worded differently); they go first (``snapshot_from_ledger`` hands them over before it
    counts), and ``begin_snapshot`` starts it all before the ledger is validated. Format 1 (header
    first) blobs of earlier versions are still read.
    """
    writer = writer if writer is not None else BlobWriter()
    writer.feed(states)
    return writer.finish(len(states))


def _segments(states: ItemStates, done: Iterable[str] = ()) -> Iterator[tuple[str, str, bytes]]:
    """The columns' segments (name, kind, bytes) not ``done`` yet, made one at a time; those that take
    zlib longest first, so the worker is busy with them while the small ones are made."""
    done = set(done)
    if "problem" not in done:
        yield "problem", *_text_segment(states.problems, joined=states.joined.get("problem"))
    if "deadline" not in done:
        yield "deadline", *_text_segment(states.deadlines, wide=False)
    if "status_text" not in done:
        yield "status_text", *_text_segment(states.status_texts)
    if "status" not in done:
        yield "status", *_text_segment(states.statuses, wide=False, optional=True)
    if "dept" not in done:
        yield "dept", *_text_segment(states.depts, joined=states.joined.get("dept"))
    if "dimension" not in done:
        yield "dimension", *_text_segment(states.dimensions)
    if "row" not in done:
        yield "row", *_int_segment(_differences(states.rows), "i32diff")
    if "seq_value" not in done:
        yield "seq_value", *_float_segment(states.seq_values)
    if "seq_text" not in done:
        yield "seq_text", *_text_segment(states.seq_texts, wide=False)
    if "deadline_date" not in done:
        yield from _date_segments("deadline_date", states.deadline_dates)
    if "overdue" not in done:
        yield "overdue", "u8", _flags(states.overdue)


class BlobWriter:
    """A format-2 items blob being written: one zlib stream, compressed in a worker thread as the
    segments arrive, in order, then the header naming them (``finish``).

    zlib releases the GIL while it deflates a buffer, so the thread that hands segments over goes on
    making the next one meanwhile, and a second core does the compressing. The blob is the same bytes
    as compressing the parts one after the other in one thread. Every writer must be finished or
    abandoned, which ends its thread.
    """

    __slots__ = ("_error", "_out", "_queue", "_thread", "columns")

    def __init__(self) -> None:
        self.columns: list[list] = []  # [name, kind, size] of the segments handed over
        self._queue: SimpleQueue[bytes | None] = SimpleQueue()
        self._out: list[bytes] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="history-zlib", daemon=True)
        self._thread.start()

    @property
    def names(self) -> list[str]:
        return [c[0] for c in self.columns]

    def _run(self) -> None:
        packer = zlib.compressobj(1)
        data = self._queue.get()
        while data is not None:  # after a failure the parts are only taken, up to the closing None
            if self._error is None:
                try:
                    self._out.append(packer.compress(data))
                except BaseException as exc:  # MemoryError: raised again by finish()
                    self._error = exc
            data = self._queue.get()
        if self._error is None:
            try:
                self._out.append(packer.flush())
            except BaseException as exc:
                self._error = exc

    def add(self, name: str, kind: str, data: bytes) -> None:
        self.columns.append([name, kind, len(data)])
        self._queue.put(data)

    def feed(self, states: ItemStates) -> None:
        """Hand over every segment of these items not handed over yet (abandoned if one fails)."""
        try:
            for name, kind, data in _segments(states, self.names):
                self.add(name, kind, data)
        except BaseException:
            self.abandon()
            raise

    def finish(self, count: int) -> bytes:
        """The blob, once every segment is compressed: the header (and its length) close it."""
        header = json.dumps({"format": ITEMS_FORMAT, "count": count, "columns": self.columns})
        encoded = header.encode("ascii")
        self._queue.put(encoded + len(encoded).to_bytes(_TRAILER, "little"))
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return b"".join(self._out)

    def abandon(self) -> None:
        """Nothing will be written after all: end the thread."""
        self._queue.put(None)
        self._thread.join()


def decode_items(blob: bytes, fmt: int = ITEMS_FORMAT) -> ItemStates:
    """The columns ``encode_items`` wrote (format 2, or format 1 of earlier versions); ItemState objects
    are made only when the items are used."""
    if fmt > ITEMS_FORMAT:
        raise HistoryError("历史记录由更新版本的工具箱写入，请升级工具箱后再查看与上次的比较。")
    try:
        raw = zlib.decompress(blob)
        if fmt >= 2:
            size = int.from_bytes(raw[-_TRAILER:], "little")
            end = len(raw) - _TRAILER - size
            if size > len(raw) - _TRAILER:
                raise ValueError("header length")
            header = json.loads(raw[end : len(raw) - _TRAILER])
            offset, limit = 0, end
        else:  # format 1: the header line first
            end = raw.index(b"\n")
            header = json.loads(raw[:end])
            offset, limit = end + 1, len(raw)
        payload = memoryview(raw)
        count = int(header["count"])
        columns: dict[str, list] = {}
        for name, kind, size in header["columns"]:
            if offset + size > limit:
                raise ValueError("segment length")
            columns[name] = _decode_segment(kind, payload[offset : offset + size], count)
            offset += size
        empty = [""] * count
        states = ItemStates(
            columns["row"],
            columns.get("seq_value", [None] * count),
            columns.get("seq_text", empty),
            columns.get("dimension", empty),
            columns.get("problem", empty),
            columns.get("dept", empty),
            columns.get("status", [None] * count),
            columns.get("status_text", empty),
            columns.get("deadline", empty),
            _dates(columns.get("deadline_date_present", b""), columns.get("deadline_date", [])),
            columns.get("overdue", [False] * count),
        )
        if any(len(c) != count for n, c in columns.items() if n != "deadline_date"):
            raise ValueError("column length")
        if len(states.deadline_dates) != count:
            raise ValueError("deadline dates")
    except (ValueError, KeyError, TypeError, IndexError, zlib.error) as exc:
        raise HistoryError(f"历史记录中的问题明细无法读取（{exc}），文件可能已损坏。") from None
    return states


def _flags(values: Sequence[bool] | bytes) -> bytes:
    return values if isinstance(values, bytes) else bytes(map(bool, values))


def _differences(values: Sequence[int]) -> list[int]:
    return list(map(sub, values, [0, *values[:-1]]))


def _text_segment(
    values: Sequence[str | None], *, wide: bool = True, optional: bool = False, joined: str | None = None
) -> tuple[str, bytes]:
    """NUL-joined text. ``wide`` (Chinese) columns: UTF-16-LE, kind ``text16`` — 2 bytes a character
    instead of UTF-8's 3, encoded and decoded at copying speed, and smaller after zlib; columns of mostly
    ASCII (dates, numbers, status ids) and any all-ASCII column: UTF-8, kind ``text``. An ``optional``
    column writes None as "" (kind suffix ``0``) unless it holds a real empty string. Anything that does
    not join (not text, or holding NUL): a JSON array. ``joined``: the values joined by NUL already."""
    suffix = ""
    if optional:
        if "" in values:
            return "json", _json(values)
        values = [v if v is not None else "" for v in values]
        suffix = "0"
    try:
        text = _SEP.join(values) if joined is None else joined  # type: ignore[arg-type]
    except TypeError:  # not all text
        return "json", _json(values)
    if text.count(_SEP) != max(len(values) - 1, 0):
        return "json", _json(values)
    if wide and not text.isascii():
        return "text16" + suffix, text.encode("utf-16-le", "surrogatepass")
    return "text" + suffix, text.encode("utf-8", "surrogatepass")


def _json(values: Sequence) -> bytes:
    return json.dumps(list(values), ensure_ascii=False).encode("utf-8", "surrogatepass")


def _int_segment(values: Sequence[int], kind: str = "i32") -> tuple[str, bytes]:
    try:
        packed = array("i", values)
    except (OverflowError, TypeError):
        return ("jsondiff" if kind == "i32diff" else "json"), _json(values)
    if packed.itemsize != 4:  # pragma: no cover - C int is 4 bytes on every platform Python runs on
        return "json", _json(values)
    if sys.byteorder == "big":  # pragma: no cover
        packed.byteswap()
    return kind, packed.tobytes()


def _date_segments(name: str, values: Sequence[date | None]) -> list[tuple[str, str, bytes]]:
    """Which items have a date (bytes 0/1) and the days of those (``date.toordinal``), by C-level maps."""
    present = bytes(map(is_not, values, repeat(None)))
    return [
        (f"{name}_present", "u8", present),
        (name, *_int_segment(list(map(date.toordinal, filter(None, values))))),
    ]


def _dates(present: Sequence[int], days: Sequence[int]) -> list[date | None]:
    it = map(date.fromordinal, days)
    return [next(it) if flag else None for flag in present]


def _float_segment(values: Sequence[float | None]) -> tuple[str, bytes]:
    try:
        packed = array("d", values)
    except TypeError:  # None (no number in the cell) is written as NaN
        try:
            packed = array("d", [float("nan") if v is None else v for v in values])
        except TypeError:
            return "json", _json(values)
    if sys.byteorder == "big":  # pragma: no cover
        packed.byteswap()
    return "f64", packed.tobytes()


def _decode_segment(kind: str, data: memoryview, count: int) -> list:
    if kind in ("text", "text0", "text16", "text160"):
        encoding = "utf-16-le" if kind.startswith("text16") else "utf-8"
        values: list = str(data, encoding, "surrogatepass").split(_SEP) if count else []
        if kind.endswith("0"):
            values = [v or None for v in values]
        return values
    if kind in ("i32", "i32diff", "f64"):
        packed = array("d" if kind == "f64" else "i")
        packed.frombytes(data)
        if sys.byteorder == "big":  # pragma: no cover
            packed.byteswap()
        if kind == "f64":
            return [None if v != v else v for v in packed]  # NaN: no number
        return list(accumulate(packed)) if kind == "i32diff" else packed.tolist()
    if kind == "u8":
        return bytes(data)
    if kind in ("json", "jsondiff"):
        values = json.loads(str(data, "utf-8", "surrogatepass"))
        return list(accumulate(values)) if kind == "jsondiff" else values
    raise ValueError(f"unknown column kind {kind!r}")


@dataclass(slots=True)
class DimensionCount:
    name: str
    total: int
    completed: int
    closed: int = 0
    long_term: int = 0
    excluded: int = 0
    overdue: int = 0
    rate: float | None = None


@dataclass(slots=True)
class Snapshot:
    as_of: date
    total: int
    completed: int
    overdue: int
    rate: float | None
    name: str = ""
    path: str = ""
    content_hash: str = ""
    recorded_at: str = ""
    command: str = ""
    sheet: str = ""
    unit: str = ""
    closed: int = 0
    long_term: int = 0
    excluded: int = 0
    id: int | None = None
    items: Sequence[ItemState] = field(default_factory=list)  # an ItemStates when built or loaded here
    dimensions: list[DimensionCount] = field(default_factory=list)

    @property
    def is_report(self) -> bool:
        """Not only a 校验: recorded by a 通报 (``ledger report``, the 生成通报 button), or by a library call
        that named no command (counted as a 通报, as every snapshot was before commands were told apart)."""
        return not self.command.endswith(VALIDATE_COMMAND)

    @property
    def occasion(self) -> str:
        """What the snapshot was, as a 通报 names it: 通报 or 校验."""
        return "通报" if self.is_report else "校验"

    def as_dict(self, decimals: int = 1) -> dict:
        """The row ``ledger history --json`` prints; rate in percent like ``ledger stats --json``."""
        return {
            "as_of": self.as_of.isoformat(),
            "recorded_at": self.recorded_at,
            "total": self.total,
            "completed": self.completed,
            "rate": percent(self.rate, decimals),
            "overdue": self.overdue,
            "hash": self.content_hash,
            "command": self.command,
            "path": self.path,
        }


# ---------------------------------------------------------------- paths and hashes


def default_history_path(workbook: str | os.PathLike) -> Path:
    """``台账.xlsx`` → ``.台账.xlsx.history.sqlite`` in the same folder."""
    from toolkit.safesave import NAME_BYTES, fit_name

    path = Path(os.path.abspath(workbook))
    # a long name is shortened (with a digest of it), leaving room for SQLite's "-journal" beside it
    return path.with_name(fit_name(f".{path.name}", HISTORY_SUFFIX, NAME_BYTES - len("-journal")))


def is_history_file(path: str | os.PathLike) -> bool:
    return str(path).endswith((HISTORY_SUFFIX, ".sqlite", ".sqlite3", ".db"))


def hide_on_windows(path: Path) -> None:
    """A leading dot hides a file on Linux and macOS; Windows needs the hidden attribute."""
    if sys.platform != "win32":
        return
    with suppress(Exception):
        import ctypes

        ctypes.windll.kernel32.SetFileAttributesW(str(path), 0x02)  # type: ignore[attr-defined]


def file_hash(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """sha256 of the file bytes, read in 1 MiB chunks so big workbooks never sit in memory.

    Remembered for the file as it is (path, size, modification time): see warm_up.
    """
    info = os.stat(path)
    key = (os.path.abspath(path), info.st_size, info.st_mtime_ns)
    if (known := _FILE_HASHES.get(key)) is not None:
        return known
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    _FILE_HASHES[key] = digest.hexdigest()
    return _FILE_HASHES[key]


_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def warm_up(workbook: str | os.PathLike) -> None:
    """What recording a snapshot of this workbook will need, done early: the CLI runs this in a
    thread while calamine parses the sheet (its Rust parse lets other threads run); importing
    this module is half of it."""
    with suppress(OSError):  # recording will meet the same problem and say so
        file_hash(workbook)


def problem_hash(text: str) -> str:
    """Hash of the problem text with spaces and line breaks folded away."""
    # spaces and line breaks only: folding full-width punctuation (in every Chinese sentence) costs
    # more than the rest of a snapshot, and a retyped comma is not a different problem often enough
    return hashlib.sha256("".join(text.split()).encode("utf-8")).hexdigest()[:16]


def format_seq(item_seq: float | None, raw: str) -> str:
    if item_seq is not None and float(item_seq).is_integer():
        return str(int(item_seq))
    if item_seq is not None:
        return repr(item_seq)
    return normalize_text(raw)


def _format_seqs(values: Sequence[float | None], texts: Sequence[str]) -> Iterable[str]:
    """The 序号 texts of a column: ``format_seq`` of the numbers, the text where there is none. Whole
    numbers only (the usual 序号 column) go through C-level maps."""
    if None not in values:
        with suppress(ValueError, OverflowError, TypeError):
            whole = list(map(int, values))  # type: ignore[arg-type]
            if whole == list(values):
                return map(str, whole)
    return (
        text if value is None else format_seq(value, text) for value, text in zip(values, texts, strict=True)
    )


def chinese_date(value: date) -> str:
    """2024年11月1日: the way a 通报 writes a date."""
    return f"{value.year}年{value.month}月{value.day}日"


# ---------------------------------------------------------------- building snapshots


def snapshot_from_ledger(
    ledger: Ledger,
    stats: Stats | None,
    as_of: date,
    *,
    content_hash: str | None = None,
    command: str = "",
    writer: BlobWriter | None = None,
) -> Snapshot:
    """The snapshot of a ledger as read now (not stored yet).

    ``stats`` by dimension, when the caller has them; None counts only what a snapshot keeps
    (``snapshot_counts``). ``writer``: a blob being written for this snapshot, handed the 问题描述
    texts before the counting starts, so that zlib compresses them meanwhile.
    """
    if stats is None:
        items = item_states(ledger.items, b"")  # overdue flags once counted, below
        _hand_over_problems(writer, items)
        total, dimensions, overdue = snapshot_counts(ledger, as_of)
        flags = bytearray(len(items))
        for i in overdue:
            flags[i] = 1
        items.overdue = bytes(flags)
    else:
        overdue_rows: set[int] = set()
        for group in stats.groups:
            overdue_rows.update(group.overdue_rows)
        overdue_rows.update(stats.total.overdue_rows)
        items = item_states(ledger.items, overdue_rows)
        _hand_over_problems(writer, items)
        dimensions = []
        if stats.by == "dimension":
            dimensions = [_dimension_count(g) for g in stats.groups]
        total = _dimension_count(stats.total)
    path = os.path.abspath(ledger.path) if ledger.path else ""
    if content_hash is None:
        content_hash = file_hash(path) if path and os.path.isfile(path) else items_hash(items)
    unit = ledger.info.get("unit", "") if isinstance(ledger.info, dict) else ""
    return Snapshot(
        as_of=as_of,
        total=total.total,
        completed=total.completed,
        overdue=total.overdue,
        rate=total.rate,
        name=Path(path).name if path else "",
        path=path,
        content_hash=content_hash,
        command=command,
        sheet=ledger.sheet,
        unit=str(unit or ""),
        closed=total.closed,
        long_term=total.long_term,
        excluded=total.excluded,
        items=items,
        dimensions=dimensions,
    )


def _hand_over_problems(writer: BlobWriter | None, items: ItemStates) -> None:
    """The 问题描述 texts, the column zlib takes longest on, go to the writer's thread before any counting."""
    if writer is not None and "problem" not in writer.names:
        writer.add("problem", *_text_segment(items.problems, joined=items.joined.get("problem")))


def _dimension_count(group: GroupStats) -> DimensionCount:
    return DimensionCount(
        group.name, group.total, group.completed, group.closed, group.long_term, group.excluded, group.overdue,
        group.rate,
    )  # fmt: skip


def snapshot_counts(ledger: Ledger, as_of: date) -> tuple[DimensionCount, list[DimensionCount], list[int]]:
    """What a snapshot keeps of ``ledger_stats(ledger, as_of, "dimension")``: the totals, the counts
    per 方面 and the indices of the overdue items — counted the same way, and nothing more.

    ``ledger validate`` needs no statistics of its own; a full count of a 100k-row ledger (on-time
    completion, overdue row lists per group) costs ~30 ms, this ~15 ms: statuses per 方面 through one
    Counter, deadlines looked at only for the items still open.
    """
    table = ItemColumns.of(ledger.items)
    keys = table.dimensions
    if "" in keys:
        keys = [d or UNASSIGNED for d in keys]
    statuses, deadlines = table.statuses, table.deadlines
    is_open = map(OPEN_STATUSES.__contains__, statuses)
    overdue = [
        i for i in compress(range(len(statuses)), is_open) if (day := deadlines[i].value) is not None and day < as_of
    ]  # fmt: skip
    total = GroupStats("合计")
    groups = {name: GroupStats(name) for name in ledger.dimensions}
    for (key, status), count in Counter(zip(keys, statuses, strict=True)).items():  # in order of appearance
        group = groups.get(key)
        if group is None:
            group = groups[key] = GroupStats(key)
        group.count_status(status, count)
        total.count_status(status, count)
    count_no_status(table, ledger.columns, keys, groups, total)  # the rate is None when no item says
    for key, count in Counter(map(keys.__getitem__, overdue)).items():
        groups[key].overdue = count
    total.overdue = len(overdue)
    dimensions = [_dimension_count(g) for g in groups.values() if g.total or g.excluded]
    return _dimension_count(total), dimensions, overdue


_ROW = attrgetter("row")
_SEQ = attrgetter("seq")
_VALUES = attrgetter("values")
_DIMENSION = attrgetter("dimension")
_STATUS = attrgetter("status")
_DEADLINE = attrgetter("deadline")
_RAW = attrgetter("raw")
_VALUE = attrgetter("value")


def item_states(items: Sequence[Item], overdue: set[int] | frozenset[int] | bytes) -> ItemStates:
    """The columns a snapshot keeps, taken from a ledger's items without making an object per item.

    The reader's ``ItemColumns`` hand their columns over as they are; any other sequence is walked
    once and transposed by C-level ``map`` calls. ``overdue``: the Excel rows of the overdue items,
    or a flag byte per item.
    """
    if isinstance(items, ItemColumns):  # the reader's columns: no Item made
        store = items
        rows, seq_values, dimensions, statuses = store.rows, store.seqs, store.dimensions, store.statuses
        seq_texts = _seq_texts(seq_values, lambda: store.column("seq"))
        problems, depts, status_texts = store.column("problem"), store.column("dept"), store.column("status")
        deadlines = store.deadlines
        joined = {f: store.joined[f] for f in ("problem", "dept") if f in store.joined}
    else:
        listed = items if isinstance(items, list) else list(items)
        rows = list(map(_ROW, listed))
        seq_values = list(map(_SEQ, listed))
        dimensions = list(map(_DIMENSION, listed))
        statuses = list(map(_STATUS, listed))
        deadlines = list(map(_DEADLINE, listed))
        values = list(map(_VALUES, listed))
        seq_texts = _seq_texts(seq_values, lambda: [v.get("seq", "") for v in values])
        problems = [v.get("problem", "") for v in values]
        depts = [v.get("dept", "") for v in values]
        status_texts = [v.get("status", "") for v in values]
        joined = {}
    return ItemStates(
        rows,
        seq_values,
        seq_texts,
        dimensions,
        problems,
        depts,
        statuses,
        status_texts,
        list(map(_RAW, deadlines)),
        list(map(_VALUE, deadlines)),
        overdue if isinstance(overdue, bytes) else bytes(map(overdue.__contains__, rows)),
        joined,
    )


def _seq_texts(numbers: Sequence[float | None], texts: Callable[[], Sequence[str]]) -> list[str]:
    """The 序号 as ``format_seq`` gives it where the cell held no number, "" elsewhere (numbers are
    formatted when the items are used); the cell texts are fetched only when some cell has no number."""
    if None not in numbers:
        return [""] * len(numbers)
    return [format_seq(None, t) if n is None else "" for n, t in zip(numbers, texts(), strict=True)]


def items_hash(items: Iterable[ItemState]) -> str:
    """A stand-in content hash when there is no file (an unsaved workbook read through xlwings)."""
    digest = hashlib.sha256()
    if isinstance(items, ItemStates):  # straight from the columns: no ItemState objects needed
        seqs = _format_seqs(items.seq_values, items.seq_texts)
        fields = zip(items.rows, seqs, items.problems, items.status_texts, items.deadlines, strict=True)
    else:
        fields = ((it.row, it.seq, it.problem, it.status_text, it.deadline) for it in items)
    for values in fields:
        digest.update(repr(values).encode())
    return "items:" + digest.hexdigest()


# ---------------------------------------------------------------- the store


class HistoryStore:
    """One SQLite history file. Open, use, close; safe to use from several processes at once."""

    def __init__(self, path: str | os.PathLike, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        try:
            if readonly:
                if not self.path.exists():
                    raise HistoryError(f"找不到历史记录文件“{self.path}”，请先运行一次 ledger validate。")
                # Readers open read-write where they can (nothing is written, but closing the last
                # connection then tidies the -wal/-shm files away); a read-only folder cannot hold the
                # WAL index, so there the file is read as immutable.
                writable = os.access(self.path.parent, os.W_OK) and os.access(self.path, os.W_OK)
                uri = self.path.resolve().as_uri() + ("" if writable else "?immutable=1")
                self.conn = sqlite3.connect(
                    uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
                )
            else:
                created = not self.path.exists()
                self.conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
                if created and self.path.name.startswith("."):
                    hide_on_windows(self.path)
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                self._set_wal()
                self._migrate()
            else:
                self._check_version()
        except sqlite3.Error as exc:
            raise HistoryError(
                f"无法打开历史记录文件“{self.path}”（{exc}），请检查文件夹是否可写、文件是否损坏。"
            ) from None

    def _set_wal(self) -> None:
        """Switch to WAL once; the switch needs an exclusive lock and does not wait on busy_timeout itself."""
        if str(self.conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            mode = _retry_busy(lambda: self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            if str(mode).lower() != "wal":  # a share that cannot do WAL: rollback journal, still safe
                _retry_busy(lambda: self.conn.execute("PRAGMA journal_mode = DELETE"))
        self.conn.execute("PRAGMA synchronous = NORMAL")

    def _check_version(self) -> int:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"历史记录文件“{self.path}”由更新版本的工具箱创建（版本 {version}），请升级工具箱后再试。"
            )
        return version

    def _migrate(self) -> None:
        version = self._check_version()
        if version == SCHEMA_VERSION:
            return
        try:
            with self.transaction():
                version = self._check_version()  # another process may have migrated meanwhile
                for step in range(version, SCHEMA_VERSION):
                    migration = _MIGRATIONS[step]
                    if callable(migration):
                        migration(self.conn)
                    else:
                        for statement in _split_sql(migration):
                            self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except (ValueError, TypeError, OverflowError, zlib.error) as exc:  # a damaged old row
            raise HistoryError(
                f"无法升级历史记录文件“{self.path}”（{exc}），文件未改动；请检查文件是否损坏。"
            ) from None
        if 1 <= version < SCHEMA_VERSION:
            # rows were converted to blobs: give their pages back to the disk once (the data is already
            # committed; a busy or failing VACUUM only leaves free pages that later snapshots reuse)
            with suppress(sqlite3.Error):
                self.conn.execute("VACUUM")
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: take the write lock up front, so concurrent writers queue on busy_timeout."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------- writing

    def has_snapshot(self, name: str, content_hash: str, as_of: date) -> bool:
        """Whether these bytes were recorded for this as-of already (then only their counts are needed)."""
        row = self.conn.execute(
            "SELECT 1 FROM snapshots WHERE name = ? AND content_hash = ? AND as_of = ?",
            (name, content_hash, as_of.isoformat()),
        ).fetchone()
        return row is not None

    def touch_if_unchanged(
        self, name: str, content_hash: str, as_of: date, total: GroupStats | DimensionCount, command: str
    ) -> tuple[int, str] | None:
        """Refresh the time of a stored snapshot of the same bytes, day and counts: (id, time), or None."""
        stamp = datetime.now(UTC).isoformat(timespec="microseconds")
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT id FROM snapshots WHERE name = ? AND content_hash = ? AND as_of = ? AND total = ?"
                " AND completed = ? AND overdue = ?",
                (name, content_hash, as_of.isoformat(), total.total, total.completed, total.overdue),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                f"UPDATE snapshots SET recorded_at = ?, command = {_KEEP_REPORT} WHERE id = ?",
                (stamp, command, command, row[0]),
            )
            return int(row[0]), stamp

    def record(
        self, snapshot: Snapshot, recorded_at: datetime | None = None, *, writer: BlobWriter | None = None
    ) -> int:
        """Store a snapshot (one transaction); same workbook + hash + as-of updates in place.

        ``writer``: the blob of this snapshot's items begun already (``snapshot_from_ledger``)."""
        stamp = (recorded_at or datetime.now(UTC)).isoformat(timespec="microseconds")
        snapshot.recorded_at = stamp
        items = snapshot.items
        states = items if isinstance(items, ItemStates) else ItemStates.from_states(items)
        blob = encode_items(states, writer)  # before the write lock: other writers wait only for the writes
        values = (
            snapshot.path,
            stamp,
            snapshot.command,
            snapshot.sheet,
            snapshot.unit,
            snapshot.total,
            snapshot.completed,
            snapshot.closed,
            snapshot.long_term,
            snapshot.excluded,
            snapshot.overdue,
            snapshot.rate,
        )
        try:
            with self.transaction() as conn:
                row = conn.execute(
                    "SELECT id FROM snapshots WHERE name = ? AND content_hash = ? AND as_of = ?",
                    (snapshot.name, snapshot.content_hash, snapshot.as_of.isoformat()),
                ).fetchone()
                if row is None:
                    cur = conn.execute(
                        "INSERT INTO snapshots (path, recorded_at, command, sheet, unit, total, completed,"
                        " closed, long_term, excluded, overdue, rate, name, content_hash, as_of)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (*values, snapshot.name, snapshot.content_hash, snapshot.as_of.isoformat()),
                    )
                    snapshot_id = int(cur.lastrowid or 0)
                else:
                    snapshot_id = int(row[0])
                    conn.execute(
                        f"UPDATE snapshots SET path = ?, recorded_at = ?, command = {_KEEP_REPORT}, sheet = ?,"
                        " unit = ?, total = ?, completed = ?, closed = ?, long_term = ?, excluded = ?,"
                        " overdue = ?, rate = ? WHERE id = ?",
                        (*values[:3], snapshot.command, *values[3:], snapshot_id),
                    )
                    conn.execute("DELETE FROM snapshot_dimensions WHERE snapshot_id = ?", (snapshot_id,))
                conn.execute(
                    "INSERT OR REPLACE INTO snapshot_item_blobs (snapshot_id, count, format, data)"
                    " VALUES (?, ?, ?, ?)",
                    (snapshot_id, len(states), ITEMS_FORMAT, blob),
                )
                conn.executemany(
                    "INSERT INTO snapshot_dimensions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        (
                            snapshot_id,
                            pos,
                            d.name,
                            d.total,
                            d.completed,
                            d.closed,
                            d.long_term,
                            d.excluded,
                            d.overdue,
                            d.rate,
                        )
                        for pos, d in enumerate(snapshot.dimensions)
                    ),
                )
        except sqlite3.Error as exc:
            raise HistoryError(
                f"无法写入历史记录文件“{self.path}”（{exc}），请检查文件夹是否可写、文件是否被占用。"
            ) from None
        snapshot.id = snapshot_id
        return snapshot_id

    # -------------------------------------------------------- reading

    def names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT name FROM snapshots ORDER BY name")]

    def snapshots(self, name: str | None = None, *, with_items: bool = False) -> list[Snapshot]:
        """Snapshots in time order (as-of, then recording order); all workbooks when ``name`` is None."""
        sql = (
            "SELECT id, name, path, content_hash, as_of, recorded_at, command, sheet, unit, total, completed,"
            " closed, long_term, excluded, overdue, rate FROM snapshots"
        )
        args: tuple = ()
        if name is not None:
            sql += " WHERE name = ?"
            args = (name,)
        sql += " ORDER BY as_of, recorded_at, id"
        try:
            if self.conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                return []  # created but never written
            rows = self.conn.execute(sql, args).fetchall()
            result = [
                Snapshot(
                    id=r[0],
                    name=r[1],
                    path=r[2],
                    content_hash=r[3],
                    as_of=date.fromisoformat(r[4]),
                    recorded_at=r[5],
                    command=r[6],
                    sheet=r[7],
                    unit=r[8],
                    total=r[9],
                    completed=r[10],
                    closed=r[11],
                    long_term=r[12],
                    excluded=r[13],
                    overdue=r[14],
                    rate=r[15],
                )
                for r in rows
            ]
            if with_items:
                for snap in result:
                    self.load_details(snap)
        except sqlite3.Error as exc:
            raise HistoryError(f"无法读取历史记录文件“{self.path}”（{exc}），文件可能已损坏。") from None
        return result

    def load_details(self, snap: Snapshot) -> Snapshot:
        """Fill in a snapshot's items and per-dimension counts (the items blob is read only here)."""
        try:
            if self.conn.execute("PRAGMA user_version").fetchone()[0] < 2:
                snap.items = _v1_items(self.conn, snap.id)  # a reader on a file not converted yet
            else:
                row = self.conn.execute(
                    "SELECT format, data FROM snapshot_item_blobs WHERE snapshot_id = ?", (snap.id,)
                ).fetchone()
                snap.items = decode_items(row[1], row[0]) if row else []
            snap.dimensions = [
                DimensionCount(*r)
                for r in self.conn.execute(
                    "SELECT name, total, completed, closed, long_term, excluded, overdue, rate"
                    " FROM snapshot_dimensions WHERE snapshot_id = ? ORDER BY position",
                    (snap.id,),
                )
            ]
        except (sqlite3.Error, ValueError) as exc:
            raise HistoryError(f"无法读取历史记录文件“{self.path}”（{exc}），文件可能已损坏。") from None
        return snap

    def integrity(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])


def _retry_busy(action: Callable[[], T], timeout: float = BUSY_TIMEOUT_MS / 1000) -> T:
    """Retry an action that SQLite refuses with "database is locked" without consulting busy_timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
        time.sleep(delay + random.random() * delay)
        delay = min(delay * 2, 0.5)


def _split_sql(script: str) -> list[str]:
    """Statements of a migration script (no semicolons inside our statements)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


# ---------------------------------------------------------------- recording from the commands


def resolve_history_path(workbook: str | os.PathLike, history_path: str | os.PathLike | None) -> Path:
    return Path(history_path) if history_path else default_history_path(workbook)


def warn(message: str) -> None:
    if sys.stderr is None:  # no stderr (pythonw behind a button, 2>&-); print(file=None) would use stdout
        return
    with suppress(OSError, ValueError, AttributeError):
        print(f"提示：{message}", file=sys.stderr)


@dataclass(slots=True)
class BegunSnapshot:
    """A snapshot built as soon as the ledger was read; its blob is being compressed meanwhile."""

    snapshot: Snapshot
    writer: BlobWriter


def begin_snapshot(
    ledger: Ledger, as_of: date, history_path: str | os.PathLike | None = None, *, command: str = ""
) -> BegunSnapshot | None:
    """Build the snapshot ``record_snapshot`` will store, before the ledger is validated.

    Why: zlib is ~50–65 ms of a 100k-row snapshot's CPU (several times that when every problem is
    worded differently) and lets go of the GIL while it works. Handed to the worker thread here, the
    columns are compressed while the rules run, on the core those leave idle. Started after the rules
    instead, the worker waited for the GIL at each zlib output block while the snapshot's long C-level
    joins and maps held it, and most of the compressing happened at the end anyway. Measured in one
    process (bench_history.py --first-snapshot): the snapshot adds ~90–100 ms begun here, ~120–140 ms
    built after the rules; its GIL-bound part alone is ~65 ms (two busy cores slow each other, so the
    overlapped zlib still adds ~25 ms). Building the snapshot costs the same before as after the rules.

    Pass the result to ``record_snapshot(begun=…)``, which writes or abandons it. None when there is
    nothing to begin (then ``record_snapshot`` does all the work as before): no workbook file, these
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
    except (HistoryError, OSError, sqlite3.Error):
        return None
    writer = BlobWriter()
    try:
        snapshot = snapshot_from_ledger(
            ledger, None, as_of, content_hash=content_hash, command=command, writer=writer
        )
    except BaseException:
        writer.abandon()
        raise
    writer.feed(snapshot.items)
    return BegunSnapshot(snapshot, writer)


def record_snapshot(
    ledger: Ledger,
    stats: Stats | None,
    as_of: date,
    history_path: str | os.PathLike | None = None,
    *,
    command: str = "",
    content_hash: str | None = None,
    hash_items: bool = False,
    strict: bool = False,
    begun: BegunSnapshot | None = None,
) -> Snapshot | None:
    """Record one snapshot for the CLI commands and the buttons; never lets history break the command.

    ``stats`` should be by dimension (the per-dimension counts are stored); None (``ledger validate``, which
    has none) counts only what the snapshot keeps. ``hash_items``: the ledger was
    read from an open workbook (the buttons), whose unsaved state the file bytes do not show, so the content
    hash is taken over the items instead. ``begun``: ``begin_snapshot`` of this ledger. Returns
    the stored snapshot, or None after a warning on stderr when the history could not be written
    (unless ``strict``).
    """
    writer = begun.writer if begun is not None else None
    try:
        if not ledger.path and history_path is None:
            return None  # nowhere to keep it: a workbook that was never saved
        path = os.path.abspath(ledger.path) if ledger.path else ""
        with HistoryStore(resolve_history_path(ledger.path, history_path)) as store:
            if begun is not None:  # built already; its day and bytes were not recorded when it began
                writer = None  # record() finishes it, or abandons it when it fails
                begun.snapshot.command = command or begun.snapshot.command
                store.record(begun.snapshot, writer=begun.writer)
                return begun.snapshot
            if content_hash is None and not hash_items and path and os.path.isfile(path):
                # the same file judged on the same day again (a second click, a re-run): the stored items
                # are these items, so only the time is updated — no rewriting a 100k-row snapshot
                same_hash = file_hash(path)
                if store.has_snapshot(Path(path).name, same_hash, as_of):
                    total = stats.total if stats is not None else snapshot_counts(ledger, as_of)[0]
                    known = store.touch_if_unchanged(Path(path).name, same_hash, as_of, total, command)
                    if known is not None:  # the stored snapshot stands (its items are not reloaded)
                        return Snapshot(
                            as_of, total.total, total.completed, total.overdue, total.rate, name=Path(path).name,
                            path=path, content_hash=same_hash, recorded_at=known[1], command=command,
                            id=known[0],
                        )  # fmt: skip
                content_hash = same_hash
            if writer is None:
                writer = BlobWriter()  # compresses in a thread while the snapshot is built
            snapshot = snapshot_from_ledger(
                ledger, stats, as_of, content_hash=content_hash or "-", command=command, writer=writer
            )
            if content_hash is None:
                path = snapshot.path
                use_file = not hash_items and path and os.path.isfile(path)
                snapshot.content_hash = file_hash(path) if use_file else items_hash(snapshot.items)
            writer, started = None, writer  # record() finishes it, or abandons it when it fails
            store.record(snapshot, writer=started)  # no transaction is open while the snapshot is built
        return snapshot
    except (HistoryError, OSError, sqlite3.Error) as exc:
        if strict:
            raise
        message = str(exc) if isinstance(exc, HistoryError) else f"无法写入历史记录（{exc}）"
        warn(f"{message.rstrip('。')}；本次结果未记入历史，其他结果不受影响。")
        return None
    finally:
        if writer is not None:  # not handed to record(): end its thread
            writer.abandon()


def load_history(
    workbook_or_db: str | os.PathLike,
    history_path: str | os.PathLike | None = None,
    *,
    with_items: bool = False,
) -> list[Snapshot]:
    """Snapshots of a workbook (its own history file or ``history_path``), or all of a history file."""
    path = Path(workbook_or_db)
    if history_path is None and is_history_file(path):
        with HistoryStore(path, readonly=True) as store:
            return store.snapshots(with_items=with_items)
    target = resolve_history_path(path, history_path)
    if not target.exists():
        return []
    with HistoryStore(target, readonly=True) as store:
        return store.snapshots(Path(os.path.abspath(path)).name, with_items=with_items)


# ---------------------------------------------------------------- comparing


@dataclass(slots=True)
class Comparison:
    previous: Snapshot
    current: Snapshot
    newly_completed: list[ItemState]
    reopened: list[ItemState]  # completed before, not any more
    newly_overdue: list[ItemState]  # overdue now, not overdue (but present) before
    added: list[ItemState]  # no match in the previous snapshot
    removed: list[ItemState]  # in the previous snapshot, gone now
    rate_change: float | None  # percentage points, from the rates as printed (rounded)
    decimals: int = 1

    @property
    def completed_change(self) -> int:
        return self.current.completed - self.previous.completed

    def rate_change_text(self) -> str:
        if self.rate_change is None:
            return ""
        if self.rate_change > 0:
            return f"完成率提高{self.rate_change:.{self.decimals}f}个百分点"
        if self.rate_change < 0:
            return f"完成率下降{-self.rate_change:.{self.decimals}f}个百分点"
        return "完成率与上次持平"

    def sentence(self) -> str:
        """较上次通报（2024年11月1日）新增完成2项，完成率提高11.8个百分点。

        “较上次校验” when the previous snapshot was only a 校验 (no 通报 before this one)."""
        since = f"较上次{self.previous.occasion}（{chinese_date(self.previous.as_of)}）"
        parts = [f"{since}新增完成{len(self.newly_completed)}项"]
        if self.rate_change is not None:
            parts.append(self.rate_change_text())
        text = "，".join(parts)
        if self.newly_overdue:
            text += f"，新增超期未完成{len(self.newly_overdue)}项"
        return text + "。"


def match_items(previous: Sequence[ItemState], current: Sequence[ItemState]) -> list[tuple[int, int]]:
    """Pairs (previous index, current index) of the same problem; see the module docstring for the key."""
    previous, current = list(previous), list(current)  # plain lists: indexed 100k times below
    pairs: list[tuple[int, int]] = []
    free_prev = set(range(len(previous)))
    free_cur = set(range(len(current)))
    # problem hashes once per item (None without text); whitespace is all normalize_text can fold away
    # entirely, so "has text" needs no full-width folding of every problem
    prev_hash = [
        problem_hash(it.problem) if it.problem and not it.problem.isspace() else None for it in previous
    ]
    cur_hash = [
        problem_hash(it.problem) if it.problem and not it.problem.isspace() else None for it in current
    ]

    def take(key_of: Callable[[list[ItemState], list[str | None], int], object], unique: bool) -> None:
        prev_by: dict[object, list[int]] = {}
        for i in sorted(free_prev):
            key = key_of(previous, prev_hash, i)
            if key is not None:
                prev_by.setdefault(key, []).append(i)
        cur_by: dict[object, list[int]] = {}
        for j in sorted(free_cur):
            key = key_of(current, cur_hash, j)
            if key is not None:
                cur_by.setdefault(key, []).append(j)
        for key, cur_list in cur_by.items():
            prev_list = prev_by.get(key)
            if not prev_list:
                continue
            if unique and (len(prev_list) != 1 or len(cur_list) != 1):
                continue
            for i, j in zip(prev_list, cur_list, strict=False):  # duplicates pair in ledger order
                pairs.append((i, j))
                free_prev.discard(i)
                free_cur.discard(j)

    take(lambda items, hashes, i: (items[i].seq, hashes[i]) if hashes[i] is not None else None, unique=False)
    take(lambda items, hashes, i: hashes[i], unique=True)
    take(
        lambda items, _, i: (items[i].seq, normalize_text(items[i].dimension)) if items[i].seq else None, True
    )
    return sorted(pairs, key=lambda p: p[1])


def compare(previous: Snapshot, current: Snapshot, decimals: int = 1) -> Comparison:
    """What changed between two snapshots (both with items loaded)."""
    before_items, now_items = list(previous.items), list(current.items)
    pairs = match_items(before_items, now_items)
    matched_prev = {i for i, _ in pairs}
    matched_cur = {j for _, j in pairs}
    newly_completed: list[ItemState] = []
    reopened: list[ItemState] = []
    newly_overdue: list[ItemState] = []
    for i, j in pairs:
        before, now = before_items[i], now_items[j]
        if now.completed and not before.completed:
            newly_completed.append(now)
        elif before.completed and not now.completed:
            reopened.append(now)
        if now.overdue and not before.overdue:
            newly_overdue.append(now)
    rate_change = None
    if previous.rate is not None and current.rate is not None:
        before_pct = percent(previous.rate, decimals)
        now_pct = percent(current.rate, decimals)
        assert before_pct is not None and now_pct is not None
        rate_change = round(now_pct - before_pct, decimals)
    return Comparison(
        previous=previous,
        current=current,
        newly_completed=newly_completed,
        reopened=reopened,
        newly_overdue=newly_overdue,
        added=[it for j, it in enumerate(now_items) if j not in matched_cur],
        removed=[it for i, it in enumerate(before_items) if i not in matched_prev],
        rate_change=rate_change,
        decimals=decimals,
    )


def previous_snapshot(snapshots: Sequence[Snapshot], current: Snapshot) -> Snapshot | None:
    """What a 通报 compares with: the last 通报 with an as-of strictly before the current one; without one,
    the latest earlier snapshot of any kind (its ``occasion`` then words the sentence: 较上次校验).

    Why: the leader reads “较上次通报” as the change since the document they last signed; a 校验 run
    in between would make the 通报 claim a baseline nobody reported."""
    earlier = [s for s in snapshots if s.as_of < current.as_of]
    reports = [s for s in earlier if s.is_report]
    return (reports or earlier)[-1] if earlier else None


def trend_points(snapshots: Sequence[Snapshot], decimals: int = 1) -> list[dict]:
    """One point per as-of date (the latest recording of that day), in date order."""
    by_day: dict[date, Snapshot] = {}
    for snap in snapshots:  # already in time order: later recordings overwrite
        by_day[snap.as_of] = snap
    several_years = len({day.year for day in by_day}) > 1
    return [
        {
            "as_of": day.isoformat(),
            "label": chinese_date(day) if several_years else f"{day.month}月{day.day}日",
            "date_text": chinese_date(day),
            "total": snap.total,
            "completed": snap.completed,
            "overdue": snap.overdue,
            "rate": percent(snap.rate, decimals),
        }
        for day, snap in sorted(by_day.items())
    ]


def _item_row(item: ItemState) -> dict:
    return {
        "row": item.row,
        "seq": item.seq,
        "dimension": item.dimension,
        "problem": item.problem,
        "dept": item.dept,
        "status": item.status_text,
        "deadline": item.deadline,
    }


def empty_history_context() -> dict:
    """What ``history_context`` gives when there is nothing to compare with (also the template default)."""
    return {
        "has_history": False,
        "has_previous": False,
        "previous_as_of": None,
        "previous_date_text": "",
        "previous_occasion": "",
        "newly_completed_count": 0,
        "newly_completed": [],
        "reopened": [],
        "newly_overdue_count": 0,
        "newly_overdue": [],
        "newly_overdue_text": "",
        "completed_change": 0,
        "rate_change": None,
        "rate_change_text": "",
        "summary": "",
        "trend": [],
        "has_trend": False,
        "snapshot_count": 0,
    }


def overdue_text(items: Sequence[ItemState], since: date, limit: int = 10, occasion: str = "通报") -> str:
    """上次通报（…）以来新超期未完成的问题2个：1.…（党政办，整改时限2024年11月15日）；2.…。"""
    if not items:
        return ""
    parts = []
    for n, item in enumerate(items[:limit], start=1):
        deadline = chinese_date(item.deadline_date) if item.deadline_date else item.deadline
        details = "，".join(x for x in (item.dept.strip(), f"整改时限{deadline}" if deadline else "") if x)
        problem = item.problem.strip().rstrip("。；;")
        parts.append(f"{n}.{problem}" + (f"（{details}）" if details else ""))
    text = f"上次{occasion}（{chinese_date(since)}）以来新超期未完成的问题{len(items)}个：" + "；".join(parts)
    if len(items) > limit:
        text += "等"
    return text + "。"


def history_context(
    ledger_path: str | os.PathLike,
    as_of: date,
    *,
    history_path: str | os.PathLike | None = None,
    current: Snapshot | None = None,
    decimals: int = 1,
) -> dict:
    """Plain data for the 通报: comparison with the previous snapshot and the trend.

    ``current`` is the snapshot just built (recorded or not); without it, the latest recorded snapshot
    for ``as_of`` is used. A missing or unreadable history gives ``has_previous = False`` and an empty
    trend, never an error: the report is written either way.
    """
    empty = empty_history_context()
    previous: Snapshot | None = None
    try:
        target = resolve_history_path(ledger_path, history_path)
        if not target.exists():
            snapshots: list[Snapshot] = []
        else:
            name = Path(os.path.abspath(ledger_path)).name
            with HistoryStore(target, readonly=True) as store:
                snapshots = store.snapshots(name)
                try:  # a damaged items blob costs the comparison, not the counts and the trend
                    if current is None:
                        same_day = [s for s in snapshots if s.as_of == as_of]
                        current = store.load_details(same_day[-1]) if same_day else None
                    previous = previous_snapshot(snapshots, current) if current else None
                    if previous is not None:
                        store.load_details(previous)
                except HistoryError as exc:
                    warn(f"{str(exc).rstrip('。')}；通报中不含与上次的比较。")
                    previous = None
    except (HistoryError, OSError, sqlite3.Error) as exc:
        warn(f"{str(exc).rstrip('。')}；通报中不含与上次的比较。")
        return empty
    if current is not None and not any(s.as_of == current.as_of for s in snapshots):
        snapshots = [*snapshots, current]  # not recorded (--no-history): still part of the trend
    trend = trend_points(snapshots, decimals)
    context = dict(empty, has_history=bool(snapshots), trend=trend, has_trend=len(trend) >= 3)
    context["snapshot_count"] = len(snapshots)
    if current is None or previous is None:
        return context
    cmp = compare(previous, current, decimals)
    context.update(
        has_previous=True,
        previous_as_of=previous.as_of.isoformat(),
        previous_date_text=chinese_date(previous.as_of),
        newly_completed_count=len(cmp.newly_completed),
        newly_completed=[_item_row(i) for i in cmp.newly_completed],
        reopened=[_item_row(i) for i in cmp.reopened],
        newly_overdue_count=len(cmp.newly_overdue),
        newly_overdue=[_item_row(i) for i in cmp.newly_overdue],
        newly_overdue_text=overdue_text(cmp.newly_overdue, previous.as_of, occasion=previous.occasion),
        previous_occasion=previous.occasion,
        completed_change=cmp.completed_change,
        rate_change=cmp.rate_change,
        rate_change_text=cmp.rate_change_text(),
        summary=cmp.sentence(),
    )
    return context


# ---------------------------------------------------------------- printing


def history_table(snapshots: Sequence[Snapshot], decimals: int = 1) -> str:
    """A plain Chinese table for ``ledger history``."""
    if not snapshots:
        return "暂无历史记录。运行 ledger validate 或 ledger report 后会自动记录。"
    headers = ["序号", "统计日期", "记录时间", "问题总数", "已完成", "完成率", "超期", "文件指纹"]
    rows = []
    for n, snap in enumerate(snapshots, 1):
        rate = percent(snap.rate, decimals)
        stamp = snap.recorded_at
        with suppress(ValueError):
            stamp = datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
        rows.append(
            [
                str(n),
                snap.as_of.isoformat(),
                stamp,
                str(snap.total),
                str(snap.completed),
                "—" if rate is None else f"{rate:.{decimals}f}%",
                str(snap.overdue),
                snap.content_hash[:12],
            ]
        )
    return render_table(headers, rows)
