"""The items of a snapshot as one zlib blob of columns, compressed in a worker thread as it is written.

``encode_items`` / ``decode_items`` are the format; ``BlobWriter`` is the thread that compresses the
columns while the caller makes the next one (see ``encode_items`` for why this shape).
"""

from __future__ import annotations

import json
import sys
import threading
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import accumulate, repeat
from operator import is_not, sub
from queue import SimpleQueue

from toolkit.history.model import HistoryError, ItemStates

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
    as compressing the parts one after the other in one thread. Use it as a context manager: leaving
    the block without ``finish`` abandons it, which ends its thread.
    """

    __slots__ = ("_closed", "_error", "_out", "_queue", "_thread", "columns")

    def __init__(self) -> None:
        self.columns: list[list] = []  # [name, kind, size] of the segments handed over
        self._queue: SimpleQueue[bytes | None] = SimpleQueue()
        self._out: list[bytes] = []
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="history-zlib", daemon=True)
        self._thread.start()

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abandon()

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

    def feed_problems(self, states: ItemStates) -> None:
        """The 问题描述 texts, the column zlib takes longest on, ahead of the rest (``snapshot_from_ledger``
        hands them over before it counts)."""
        if "problem" not in self.names:
            self.add("problem", *_text_segment(states.problems, joined=states.joined.get("problem")))

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
        self._close()
        if self._error is not None:
            raise self._error
        return b"".join(self._out)

    def abandon(self) -> None:
        """Nothing will be written after all: end the thread (nothing to do once finished)."""
        self._close()

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
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
