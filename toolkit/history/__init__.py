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

The package, one job a module (the import graph flows down this list):

- ``model``     what is kept: Snapshot, DimensionCount, ItemState(s), HistoryError, ``warn``
- ``codec``     the items blob: ``encode_items`` / ``decode_items``, the zlib ``BlobWriter`` thread
- ``snapshot``  a snapshot of a Ledger as read now: ``snapshot_from_ledger``, ``snapshot_counts``, hashes
- ``store``     the SQLite file: location, schema, migrations, ``HistoryStore``
- ``record``    recording for the commands: ``begin_snapshot``, ``write_begun``, ``write_snapshot``
- ``compare``   two snapshots compared, and the 通报's sentences about it
- ``context``   the history part of the 通报's context (comparison and trend points)
- ``listing``   ``ledger history``: ``load_history`` and its table
"""

from toolkit.history.codec import ITEMS_FORMAT, BlobWriter, decode_items, encode_items
from toolkit.history.compare import Comparison, compare, match_items, overdue_text, previous_snapshot
from toolkit.history.context import empty_history_context, history_context, trend_points
from toolkit.history.listing import history_table, load_history
from toolkit.history.model import (
    HISTORY_FAILURES,
    VALIDATE_COMMAND,
    DimensionCount,
    HistoryError,
    ItemState,
    ItemStates,
    Snapshot,
    format_seq,
    problem_hash,
    warn,
)
from toolkit.history.record import (
    BegunSnapshot,
    begin_snapshot,
    failure_message,
    warm_up,
    write_begun,
    write_snapshot,
)
from toolkit.history.snapshot import file_hash, item_states, items_hash, snapshot_counts, snapshot_from_ledger
from toolkit.history.store import (
    HISTORY_SUFFIX,
    SCHEMA_VERSION,
    HistoryStore,
    default_history_path,
    is_history_file,
    resolve_history_path,
)

__all__ = [
    "HISTORY_FAILURES",
    "HISTORY_SUFFIX",
    "ITEMS_FORMAT",
    "SCHEMA_VERSION",
    "VALIDATE_COMMAND",
    "BegunSnapshot",
    "BlobWriter",
    "Comparison",
    "DimensionCount",
    "HistoryError",
    "HistoryStore",
    "ItemState",
    "ItemStates",
    "Snapshot",
    "begin_snapshot",
    "compare",
    "decode_items",
    "default_history_path",
    "empty_history_context",
    "encode_items",
    "failure_message",
    "file_hash",
    "format_seq",
    "history_context",
    "history_table",
    "is_history_file",
    "item_states",
    "items_hash",
    "load_history",
    "match_items",
    "overdue_text",
    "previous_snapshot",
    "problem_hash",
    "resolve_history_path",
    "snapshot_counts",
    "snapshot_from_ledger",
    "trend_points",
    "warm_up",
    "warn",
    "write_begun",
    "write_snapshot",
]
