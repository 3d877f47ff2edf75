"""The SQLite history file: where it lives, its schema and migrations, and ``HistoryStore`` to read
and write snapshots in it (one ``BEGIN IMMEDIATE`` transaction per snapshot; WAL; busy_timeout).
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from toolkit.history.codec import ITEMS_FORMAT, BlobWriter, decode_items, encode_items
from toolkit.history.model import (
    VALIDATE_COMMAND,
    DimensionCount,
    HistoryError,
    ItemState,
    ItemStates,
    Snapshot,
)

if TYPE_CHECKING:
    from toolkit.stats import GroupStats

T = TypeVar("T")

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


def resolve_history_path(workbook: str | os.PathLike, history_path: str | os.PathLike | None) -> Path:
    return Path(history_path) if history_path else default_history_path(workbook)


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
