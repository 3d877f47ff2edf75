"""History storage (schema 2): items as one compressed blob per snapshot, and the upgrade of schema-1 files
(one SQLite row per item) written by earlier versions: nothing lost, all or nothing, concurrent openers."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading
import zlib
from datetime import date
from pathlib import Path

import pytest
from history_helpers import module_from_git, seventeen

from toolkit import history
from toolkit.history import (
    HistoryError,
    HistoryStore,
    ItemState,
    ItemStates,
    decode_items,
    encode_items,
    history_context,
    load_history,
    snapshot_from_ledger,
    write_begun,
    write_snapshot,
)
from toolkit.history import codec as history_codec
from toolkit.history import snapshot as history_snapshot
from toolkit.history import store as history_store
from toolkit.stats import ledger_stats

ROOT = Path(__file__).resolve().parents[1]
NOV1 = date(2024, 11, 1)
DEC1 = date(2024, 12, 1)
JAN1 = date(2025, 1, 1)
# the last commit whose toolkit/history.py wrote schema 1 (a row per item)
V1_COMMIT = "9455dcf"


def tricky_states() -> list[ItemState]:
    """Values that stress the encoding: empty and missing text, characters beyond the BMP, line breaks,
    non-integer and missing 序号, no status, no deadline, rows out of order."""
    return [
        ItemState(7, "1", "理论学习", "学习不够深入😀\n第二行", "completed", "已完成", "党政办", "2024-06-30",
                  date(2024, 6, 30), False),
        ItemState(3, "1.5", "", "", None, "", "", "", None, True),
        ItemState(1_048_576, "一", "作风建设", "“引号”与 'quotes' \t tab", "closed", "已销号", "组织办\r\n",
                  "2024年6月底前", date(2024, 6, 30), True),
        ItemState(4, "", "作风建设", "x" * 5000, "long_term", "长期坚持", "纪工委", "长期坚持", None, False),
    ]  # fmt: skip


def as_dicts(states) -> list[dict]:
    return [s.as_dict() for s in states]


# ---------------------------------------------------------------- the blob


def test_blob_round_trip_keeps_every_field():
    states = tricky_states()
    blob = encode_items(ItemStates.from_states(states))
    back = decode_items(blob)
    assert isinstance(back, ItemStates) and len(back) == 4
    assert as_dicts(back) == as_dicts(states)
    assert list(back) == states


def test_hand_made_states_round_trip_exactly():
    """Text is kept as given, even where the reader would have folded it (spaces in a 序号)."""
    states = [ItemState(2, " 1 ", "甲", " 问题 ", "completed", " 已完成 ", " 办 ", " 2024-6-30 ", None, True)]
    assert list(decode_items(encode_items(ItemStates.from_states(states)))) == states


@pytest.mark.parametrize("count", [0, 1])
def test_blob_round_trip_empty_and_single(count):
    states = tricky_states()[:count]
    assert list(decode_items(encode_items(ItemStates.from_states(states)))) == states


def test_blob_falls_back_to_json_where_joining_would_be_ambiguous():
    states = tricky_states()
    states[0].problem = "含\x00字符"  # cannot be NUL-joined
    states[1].status = ""  # an empty status id is not "no status"
    states[2].row = 2**40  # beyond int32
    back = list(decode_items(encode_items(ItemStates.from_states(states))))
    assert back == states
    assert back[1].status == "" and back[3].status == "long_term"


def test_snapshot_items_are_columns_until_used(tmp_path):
    wb = tmp_path / "台账.xlsx"
    wb.write_bytes(b"v1")
    led = seventeen(str(wb), 12)
    led.items[0].seq, led.items[0].values["seq"] = None, "（ １ ）"  # a 序号 cell without a number
    led.items[1].seq = 2.5
    stats = ledger_stats(led, DEC1)
    snap = snapshot_from_ledger(led, stats, DEC1)
    assert isinstance(snap.items, ItemStates)
    # what the old row-per-item code built from the same ledger, field by field
    expected = [
        ItemState(it.row, history.format_seq(it.seq, it.get("seq")), it.dimension, it.get("problem"), it.status,
                  it.get("status"), it.get("dept"), it.deadline.raw, it.deadline.value, it.row in {
                      r for g in stats.groups for r in g.overdue_rows})
        for it in led.items
    ]  # fmt: skip
    assert list(snap.items) == expected
    assert [s.seq for s in snap.items[:3]] == ["(1)", "2.5", "3"]
    assert sum(s.overdue for s in snap.items) == 5
    assert list(decode_items(encode_items(snap.items))) == expected
    # the stand-in content hash of the buttons is the same from columns as from objects
    assert history.items_hash(snapshot_from_ledger(led, stats, DEC1).items) == history.items_hash(expected)


def test_column_store_items_give_the_same_snapshot(tmp_path):
    """A ledger whose items are kept column by column hands its columns over without making Items."""
    item_columns = getattr(__import__("toolkit.model", fromlist=["ItemColumns"]), "ItemColumns", None)
    if item_columns is None:
        pytest.skip("toolkit.model has no ItemColumns yet")
    wb = tmp_path / "台账.xlsx"
    wb.write_bytes(b"v1")
    led = seventeen(str(wb), 12)
    stats = ledger_stats(led, DEC1)
    by_items = snapshot_from_ledger(led, stats, DEC1)
    led.items = item_columns.of(list(led.items))
    by_columns = snapshot_from_ledger(led, stats, DEC1)
    assert list(by_columns.items) == list(by_items.items)


def test_listing_reads_no_items_and_details_load_on_demand(tmp_path):
    wb = tmp_path / "台账.xlsx"
    wb.write_bytes(b"v1")
    write_snapshot(seventeen(str(wb), 12), ledger_stats(seventeen(str(wb), 12), NOV1), NOV1)
    [listed] = load_history(wb)
    assert list(listed.items) == [] and listed.dimensions == []
    [full] = load_history(wb, with_items=True)
    assert len(full.items) == 17 and [d.name for d in full.dimensions] == ["理论学习", "作风建设"]
    db = tmp_path / ".台账.xlsx.history.sqlite"
    with HistoryStore(db) as store:
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "snapshot_items" not in tables and "snapshot_item_blobs" in tables
        count, fmt, size = store.conn.execute(
            "SELECT count, format, length(data) FROM snapshot_item_blobs"
        ).fetchone()
    assert (count, fmt) == (17, history.ITEMS_FORMAT)
    assert size < 17 * 40  # the 17 problems alone are 17 × 30 bytes of UTF-8


def test_damaged_blob_does_not_break_the_report(tmp_path, capsys):
    wb = tmp_path / "台账.xlsx"
    wb.write_bytes(b"v1")
    led = seventeen(str(wb), 12)
    write_snapshot(led, ledger_stats(led, NOV1), NOV1)
    db = tmp_path / ".台账.xlsx.history.sqlite"
    with HistoryStore(db) as store:
        store.conn.execute("UPDATE snapshot_item_blobs SET data = ?", (zlib.compress(b"not a header"),))
    with pytest.raises(HistoryError, match="损坏"):
        load_history(wb, with_items=True)
    current = snapshot_from_ledger(led, ledger_stats(led, DEC1), DEC1)
    ctx = history_context(wb, DEC1, current=current)
    assert ctx["has_previous"] is False and ctx["snapshot_count"] == 2
    assert "提示" in capsys.readouterr().err


# ---------------------------------------------------------------- schema 1 files


def _v1_database(db: Path) -> list[tuple[int, list[ItemState]]]:
    """A schema-1 file as the earlier code wrote it: its schema, then a row per item (its INSERTs)."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN IMMEDIATE")
    for statement in history_store._split_sql(history_store._SCHEMA_V1):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    written = []
    plans = [
        ("甲.xlsx", NOV1, tricky_states()),
        ("甲.xlsx", DEC1, tricky_states()[::-1]),
        ("乙.xlsx", NOV1, []),
    ]
    for n, (name, as_of, states) in enumerate(plans):
        cur = conn.execute(
            "INSERT INTO snapshots (path, recorded_at, command, sheet, unit, total, completed, closed, long_term,"
            " excluded, overdue, rate, name, content_hash, as_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (f"/old/{name}", f"2024-11-0{n + 1}T08:00:00.000000+00:00", "validate", "台账", "某单位", len(states),
             1, 1, 1, 0, 2, 0.25 if states else None, name, f"hash{n}", as_of.isoformat()),
        )  # fmt: skip
        snapshot_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT INTO snapshot_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (snapshot_id, pos, s.row, s.seq, s.dimension, s.problem, s.problem_hash, s.dept, s.status,
                 s.status_text, s.deadline, s.deadline_date.isoformat() if s.deadline_date else None,
                 int(s.overdue))
                for pos, s in enumerate(states)
            ],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO snapshot_dimensions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (snapshot_id, 0, "作风建设", 2, 1, 1, 0, 0, 1, 0.5),
                (snapshot_id, 1, "理论学习", 2, 0, 0, 1, 0, 1, 0.0),
            ],
        )
        written.append((snapshot_id, states))
    conn.execute("COMMIT")
    conn.close()
    return written


def _everything(store: HistoryStore) -> list[tuple]:
    return [
        (s.id, s.name, s.as_of, s.recorded_at, s.total, s.rate, s.content_hash, as_dicts(s.items),
         [(d.name, d.total, d.completed, d.rate) for d in s.dimensions])
        for s in sorted(store.snapshots(with_items=True), key=lambda s: s.id or 0)
    ]  # fmt: skip


def test_schema_1_file_is_converted_without_losing_anything(tmp_path):
    db = tmp_path / "old.sqlite"
    written = _v1_database(db)
    with HistoryStore(db, readonly=True) as reader:  # a reader leaves it as it is and still reads it
        before = _everything(reader)
        assert reader.conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert [(row[0], row[7]) for row in before] == [(i, as_dicts(states)) for i, states in written]

    with HistoryStore(db) as store:  # a writer converts it
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == history.SCHEMA_VERSION == 2
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "snapshot_items" not in tables
        assert store.integrity() == "ok"
        assert _everything(store) == before
        counts = store.conn.execute(
            "SELECT snapshot_id, count FROM snapshot_item_blobs ORDER BY 1"
        ).fetchall()
        assert counts == [(i, len(states)) for i, states in written]
    with HistoryStore(db) as again:  # opening once more changes nothing
        assert _everything(again) == before


def test_failed_conversion_leaves_the_schema_1_file_untouched(tmp_path, monkeypatch):
    db = tmp_path / "old.sqlite"
    _v1_database(db)
    calls = []

    def failing(states):
        calls.append(len(states))
        if len(calls) == 2:
            raise ValueError("simulated damaged row")
        return encode_items(states)

    monkeypatch.setattr(history_store, "encode_items", failing)
    with pytest.raises(HistoryError, match=r"无法升级.*文件未改动"):
        HistoryStore(db)
    with HistoryStore(db, readonly=True) as reader:
        assert reader.conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert reader.conn.execute("SELECT count(*) FROM snapshot_items").fetchone()[0] == 8
        tables = {r[0] for r in reader.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "snapshot_item_blobs" not in tables
    monkeypatch.undo()
    with HistoryStore(db) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == 2
        assert [len(row[7]) for row in _everything(store)] == [4, 4, 0]


def _open_and_record(args: tuple[str, int]) -> int:
    db, worker = args
    with HistoryStore(db) as store:
        snap = snapshot_from_ledger(
            seventeen(f"/w/单位{worker}.xlsx", worker), ledger_stats(seventeen("x", worker), NOV1), NOV1,
            content_hash=f"w{worker}",
        )  # fmt: skip
        return store.record(snap)


def test_concurrent_openers_of_a_schema_1_file(tmp_path):
    db = tmp_path / "old.sqlite"
    _v1_database(db)
    with HistoryStore(db, readonly=True) as reader:
        before = _everything(reader)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(4) as pool:
        ids = pool.map(_open_and_record, [(str(db), w) for w in range(4)])
    assert sorted(ids) == [4, 5, 6, 7]
    with HistoryStore(db) as store:
        assert store.integrity() == "ok"
        after = _everything(store)
    assert after[:3] == before
    assert [len(row[7]) for row in after[3:]] == [17] * 4


def _history_written_by(commit: str, version_name: str, label: str, tmp_path: Path):
    """The earlier history module of ``commit`` (its ``version_name`` is 1) and a workbook whose history
    it wrote: two snapshots of 17 items (10, then 12 done)."""
    old = module_from_git(commit, "toolkit/history.py")
    if old is None or getattr(old, version_name, None) != 1:
        pytest.skip(f"the {label} module of {commit} is not available in this checkout")
    wb = tmp_path / "台账.xlsx"
    wb.write_bytes(b"v1")
    for as_of, done in ((NOV1, 10), (DEC1, 12)):
        led = seventeen(str(wb), done)
        old.record_snapshot(led, ledger_stats(led, as_of), as_of, strict=True)
    return old, wb


def test_file_written_by_the_schema_1_code_opens_and_converts(tmp_path):
    """The real earlier module (from git) writes the file; this one reads and converts it."""
    old, wb = _history_written_by(V1_COMMIT, "SCHEMA_VERSION", "schema-1", tmp_path)
    written = old.load_history(wb, with_items=True)
    assert [len(s.items) for s in written] == [17, 17]

    # a report after the upgrade compares with the old snapshot before anything is recorded (read only) …
    led = seventeen(str(wb), 14)
    current = snapshot_from_ledger(led, ledger_stats(led, JAN1), JAN1)
    ctx = history_context(wb, JAN1, current=current)
    assert ctx["summary"] == "较上次通报（2024年12月1日）新增完成2项，完成率提高11.8个百分点。"
    # … then recording converts the file
    write_snapshot(led, ledger_stats(led, JAN1), JAN1)
    snaps = load_history(wb, with_items=True)
    assert [s.completed for s in snaps] == [10, 12, 14]
    assert [as_dicts(s.items) for s in snaps[:2]] == [as_dicts(s.items) for s in written]
    assert [(s.id, s.recorded_at, s.content_hash) for s in snaps[:2]] == [
        (s.id, s.recorded_at, s.content_hash) for s in written
    ]
    with HistoryStore(tmp_path / ".台账.xlsx.history.sqlite") as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == 2


# ---------------------------------------------------------------- items format 2 (header last, compressed in a thread)

# the last commit whose toolkit/history.py wrote items format 1 (the header line first)
FORMAT_1_COMMIT = "97f6314"
FORMAT_1_ORDER = ("row", "seq_value", "seq_text", "dimension", "problem", "dept", "status", "status_text",
                  "deadline", "deadline_date_present", "deadline_date", "overdue")  # fmt: skip


def format_1_blob(states: ItemStates) -> bytes:
    """A blob laid out as format 1 was: a JSON header line naming the segments, then the segments (their
    encodings did not change), all in one zlib stream."""
    segments = {name: (kind, data) for name, kind, data in history_codec._segments(states)}
    columns = [[name, segments[name][0], len(segments[name][1])] for name in FORMAT_1_ORDER]
    header = json.dumps({"format": 1, "count": len(states), "columns": columns}).encode("ascii")
    return zlib.compress(b"".join([header, b"\n", *(segments[name][1] for name in FORMAT_1_ORDER)]), 1)


def test_format_2_is_the_segments_then_the_header():
    states = ItemStates.from_states(tricky_states())
    raw = zlib.decompress(encode_items(states))
    size = int.from_bytes(raw[-4:], "little")
    header = json.loads(raw[-4 - size : -4])
    assert header["format"] == history.ITEMS_FORMAT == 2 and header["count"] == 4
    assert header["columns"][0][0] == "problem"  # the longest zlib work first
    assert sum(c[2] for c in header["columns"]) == len(raw) - 4 - size


def test_format_1_blobs_are_still_read():
    for states in (tricky_states(), tricky_states()[:1], []):
        blob = format_1_blob(ItemStates.from_states(states))
        assert list(decode_items(blob, 1)) == states
    with pytest.raises(HistoryError, match="损坏"):  # a format-1 blob is not read as format 2
        decode_items(format_1_blob(ItemStates.from_states(tricky_states())), 2)


def test_format_2_blob_is_the_same_bytes_as_compressing_in_one_thread():
    states = ItemStates.from_states(tricky_states() * 50)
    blob = encode_items(states)
    parts = [data for _, _, data in history_codec._segments(states)]
    raw = zlib.decompress(blob)
    assert raw.startswith(b"".join(parts))
    packer = zlib.compressobj(1)
    header = raw[len(b"".join(parts)) :]
    assert blob == b"".join([*map(packer.compress, [*parts, header]), packer.flush()])


def test_blob_writer_threads_end_when_finished_abandoned_or_failing(monkeypatch):
    before = threading.active_count()
    writer = history.BlobWriter()
    writer.add("problem", "text", b"x" * 1000)
    writer.abandon()
    assert threading.active_count() == before

    def broken(states):
        yield "problem", "text", b"ok"
        raise ValueError("a column that cannot be made")

    monkeypatch.setattr(history_codec, "_segments", lambda states, done=(): broken(states))
    with pytest.raises(ValueError, match="cannot be made"):
        encode_items(ItemStates.from_states(tricky_states()))
    assert threading.active_count() == before


def test_file_with_format_1_blobs_from_the_earlier_code_compares_and_gets_format_2(tmp_path):
    """The real earlier module (from git) writes format-1 blobs; this one compares with them, adds format-2
    snapshots beside them, and the earlier module says "upgrade" (not "damaged") for a format-2 blob."""
    old, wb = _history_written_by(FORMAT_1_COMMIT, "ITEMS_FORMAT", "format-1", tmp_path)
    written = old.load_history(wb, with_items=True)
    db = tmp_path / ".台账.xlsx.history.sqlite"
    with HistoryStore(db) as store:
        assert [r[0] for r in store.conn.execute("SELECT format FROM snapshot_item_blobs")] == [1, 1]

    wb.write_bytes(b"v2")
    led = seventeen(str(wb), 14)
    begun = history.begin_snapshot(led, JAN1, command="validate")
    assert begun is not None
    write_begun(begun, command="validate")
    snaps = load_history(wb, with_items=True)
    assert [as_dicts(s.items) for s in snaps[:2]] == [as_dicts(s.items) for s in written]
    assert [s.completed for s in snaps] == [10, 12, 14]
    with HistoryStore(db) as store:
        formats = [r[0] for r in store.conn.execute("SELECT format FROM snapshot_item_blobs ORDER BY 1")]
        assert formats == [1, 1, 2]
        new_blob = store.conn.execute("SELECT data FROM snapshot_item_blobs WHERE format = 2").fetchone()[0]
    ctx = history_context(wb, JAN1)
    assert ctx["summary"] == "较上次通报（2024年12月1日）新增完成2项，完成率提高11.8个百分点。"
    with pytest.raises(old.HistoryError, match="升级"):
        old.decode_items(new_blob, 2)


# ---------------------------------------------------------------- snapshots counted without full statistics


def test_snapshot_counts_are_what_ledger_stats_counts(tmp_path):
    from toolkit.read import read_ledger
    from toolkit.workbook import new_ledger

    sample = read_ledger(new_ledger(tmp_path / "样例.xlsx", sample=True, interpreter=None))
    led = seventeen(str(tmp_path / "台账.xlsx"), 5)
    led.items[2].dimension = ""  # no 方面: counted under （未填写）
    led.items[3].status = None  # empty or unknown status: in the total, never completed
    led.items[4].status = "excluded"
    led.items[6].status = "closed"
    led.items[7].status = "long_term"
    for ledger_ in (sample, led):
        for as_of in (NOV1, date(2024, 11, 15), DEC1):  # before, on and after the deadline
            stats = ledger_stats(ledger_, as_of)
            total, dims, overdue = history.snapshot_counts(ledger_, as_of)
            assert total == history_snapshot._dimension_count(stats.total)
            assert dims == [history_snapshot._dimension_count(g) for g in stats.groups]
            assert [ledger_.items[i].row for i in overdue] == stats.total.overdue_rows
            by_stats = snapshot_from_ledger(ledger_, stats, as_of, content_hash="h")
            by_counts = snapshot_from_ledger(ledger_, None, as_of, content_hash="h")
            assert as_dicts(by_counts.items) == as_dicts(by_stats.items)
            assert (by_counts.dimensions, by_counts.total, by_counts.completed, by_counts.overdue) == (
                by_stats.dimensions, by_stats.total, by_stats.completed, by_stats.overdue
            )  # fmt: skip


def test_begun_snapshot_is_the_snapshot_recorded_after_validation(tmp_path):
    """begin_snapshot (before the rules run) stores exactly what write_snapshot alone stores."""
    from toolkit.read import read_ledger
    from toolkit.workbook import new_ledger

    wb = new_ledger(tmp_path / "样例.xlsx", sample=True, interpreter=None)
    led = read_ledger(wb)
    begun = history.begin_snapshot(led, DEC1, command="validate")
    assert begun is not None and begun.snapshot.content_hash == history.file_hash(wb)
    by_begun = write_begun(begun, command="validate")
    other = tmp_path / "另存.sqlite"
    by_stats = write_snapshot(led, ledger_stats(led, DEC1), DEC1, other, command="validate")
    assert by_begun is not None and by_stats is not None
    [one] = load_history(wb, with_items=True)
    [two] = load_history(wb, other, with_items=True)
    assert as_dicts(one.items) == as_dicts(two.items) and len(one.items) == len(led.items)
    assert one.dimensions == two.dimensions
    assert one.as_dict() | {"recorded_at": "", "path": ""} == two.as_dict() | {"recorded_at": "", "path": ""}
    # the same bytes on the same day: nothing to begin, the stored snapshot is only touched
    assert history.begin_snapshot(led, DEC1) is None
    again = write_snapshot(led, None, DEC1)
    assert again is not None and again.id == one.id and len(load_history(wb)) == 1
    # no workbook file (a ledger from the buttons' open workbook): nothing begun either
    led.path = ""
    assert history.begin_snapshot(led, DEC1) is None
