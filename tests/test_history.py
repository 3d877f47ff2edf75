"""History snapshots: storage, update-in-place, comparison, concurrency, failures that must not break runs."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from history_helpers import seventeen

from toolkit import api, history
from toolkit.history import (
    HistoryError,
    HistoryStore,
    compare,
    default_history_path,
    file_hash,
    history_context,
    load_history,
    match_items,
    snapshot_from_ledger,
    write_snapshot,
)
from toolkit.stats import ledger_stats

NOV1 = date(2024, 11, 1)
DEC1 = date(2024, 12, 1)
JAN1 = date(2025, 1, 1)
SENTENCE_NOV1 = "较上次通报（2024年11月1日）新增完成2项，完成率提高11.8个百分点，新增超期未完成3项。"


def write_bytes(path: Path, text: str) -> str:
    path.write_bytes(text.encode())
    return str(path)


def record(led, as_of: date, **kw):
    return write_snapshot(led, ledger_stats(led, as_of), as_of, **kw)


def test_default_path_is_hidden_beside_the_workbook(tmp_path):
    assert default_history_path(tmp_path / "台账.xlsx") == tmp_path / ".台账.xlsx.history.sqlite"


def test_file_hash_is_sha256_of_bytes(tmp_path):
    p = tmp_path / "a.bin"
    p.write_bytes(b"abc" * 1_000_000)
    import hashlib

    assert file_hash(p, chunk=4096) == hashlib.sha256(b"abc" * 1_000_000).hexdigest()


def test_record_and_read_back(tmp_path):
    wb = write_bytes(tmp_path / "台账.xlsx", "v1")
    led = seventeen(wb, 12)
    snap = record(led, NOV1, command="validate")
    assert snap is not None and snap.id == 1
    db = tmp_path / ".台账.xlsx.history.sqlite"
    assert db.exists()
    with HistoryStore(db) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == history.SCHEMA_VERSION
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    [back] = load_history(wb, with_items=True)
    got = (back.as_of, back.total, back.completed, back.overdue, back.command)
    assert got == (NOV1, 17, 12, 0, "validate")
    assert back.content_hash == file_hash(wb)
    assert back.path == os.path.abspath(wb)
    assert back.unit == "某某街道"
    dims = [(d.name, d.total, d.completed) for d in back.dimensions]
    assert dims == [("理论学习", 8, 8), ("作风建设", 9, 4)]
    assert len(back.items) == 17
    first = back.items[0]
    assert (first.row, first.seq, first.dimension, first.status, first.deadline_date) == (
        3,
        "1",
        "理论学习",
        "completed",
        date(2024, 11, 15),
    )
    assert back.as_dict()["rate"] == 70.6


def test_same_hash_and_as_of_updates_in_place(tmp_path):
    wb = write_bytes(tmp_path / "台账.xlsx", "v1")
    led = seventeen(wb, 12)
    first = record(led, NOV1)
    second = record(led, NOV1)
    snaps = load_history(wb)
    assert len(snaps) == 1
    assert first.id == second.id
    assert snaps[0].recorded_at == second.recorded_at
    # a different as-of on the same bytes is a new point; different bytes on the same day too
    record(led, DEC1)
    write_bytes(tmp_path / "台账.xlsx", "v2")
    record(seventeen(wb, 13), DEC1)
    assert [(s.as_of, s.completed) for s in load_history(wb)] == [(NOV1, 12), (DEC1, 12), (DEC1, 13)]


def test_snapshots_come_in_as_of_order_whatever_the_recording_order(tmp_path):
    wb = write_bytes(tmp_path / "台账.xlsx", "v1")
    for as_of in (JAN1, NOV1, DEC1):
        record(seventeen(wb, 10), as_of)
    assert [s.as_of for s in load_history(wb)] == [NOV1, DEC1, JAN1]


def test_shared_history_file_keeps_workbooks_apart(tmp_path):
    shared = tmp_path / "shared.sqlite"
    a = write_bytes(tmp_path / "甲.xlsx", "a")
    b = write_bytes(tmp_path / "乙.xlsx", "b")
    record(seventeen(a, 5), NOV1, history_path=shared)
    record(seventeen(b, 9), NOV1, history_path=shared)
    assert [s.completed for s in load_history(a, shared)] == [5]
    assert [s.completed for s in load_history(b, shared)] == [9]
    assert sorted(s.name for s in load_history(shared)) == ["乙.xlsx", "甲.xlsx"]


def test_compare_sentence_and_newly_overdue(tmp_path):
    wb = write_bytes(tmp_path / "台账.xlsx", "v1")
    prev = snapshot_from_ledger(seventeen(wb, 12), ledger_stats(seventeen(wb, 12), NOV1), NOV1)
    cur_ledger = seventeen(wb, 14)
    cur = snapshot_from_ledger(cur_ledger, ledger_stats(cur_ledger, DEC1), DEC1)
    cmp = compare(prev, cur)
    assert [i.seq for i in cmp.newly_completed] == ["13", "14"]
    assert cmp.rate_change == 11.8
    # deadline 2024-11-15: not overdue on Nov 1, overdue on Dec 1 for the three still open
    assert [i.seq for i in cmp.newly_overdue] == ["15", "16", "17"]
    assert cmp.sentence() == SENTENCE_NOV1
    back = compare(cur, prev)
    assert back.rate_change == -11.8
    assert [i.seq for i in back.reopened] == ["13", "14"]
    assert back.rate_change_text() == "完成率下降11.8个百分点"


def states(*rows):
    made = []
    for n, (seq, dim, text) in enumerate(rows):
        made.append(history.ItemState(row=n, seq=seq, dimension=dim, problem=text, status=None))
    return made


def test_match_items_by_seq_and_text_then_text_then_seq():
    prev = states(("1", "甲", "问题A"), ("2", "甲", "问题B"), ("3", "乙", "问题C"), ("4", "乙", "问题D"))
    # B and C swapped and renumbered; D reworded (same seq and dimension); new E; A kept
    cur = states(
        ("1", "甲", "问题A"),
        ("2", "乙", "问题C"),
        ("3", "甲", " 问题B "),
        ("4", "乙", "问题D（已改写）"),
        ("5", "乙", "E"),
    )
    assert match_items(prev, cur) == [(0, 0), (2, 1), (1, 2), (3, 3)]


def test_match_items_duplicates_pair_in_order():
    prev = states(("1", "甲", "同一问题"), ("1", "甲", "同一问题"))
    cur = states(("1", "甲", "同一问题"), ("1", "甲", "同一问题"), ("1", "甲", "同一问题"))
    assert match_items(prev, cur) == [(0, 0), (1, 1)]


def test_history_context_three_runs_with_edits(tmp_path):
    wb = tmp_path / "台账.xlsx"
    for as_of, done, text in ((NOV1, 10, "v1"), (DEC1, 12, "v2"), (JAN1, 14, "v3")):
        write_bytes(wb, text)
        record(seventeen(str(wb), done), as_of, command="report")
    ctx = history_context(wb, JAN1)
    assert ctx["has_previous"] is True
    assert ctx["previous_as_of"] == "2024-12-01"
    assert ctx["summary"] == "较上次通报（2024年12月1日）新增完成2项，完成率提高11.8个百分点。"
    assert ctx["newly_completed_count"] == 2
    assert [r["seq"] for r in ctx["newly_completed"]] == ["13", "14"]
    assert ctx["newly_completed"][0]["problem"] == "问题13：学习不够深入"
    assert ctx["has_trend"] is True
    assert [(p["as_of"], p["completed"], p["rate"]) for p in ctx["trend"]] == [
        ("2024-11-01", 10, 58.8),
        ("2024-12-01", 12, 70.6),
        ("2025-01-01", 14, 82.4),
    ]
    # a run on an as-of with no earlier snapshot has nothing to compare with
    first = history_context(wb, NOV1)
    assert first["has_previous"] is False and first["summary"] == ""


def test_history_context_with_unrecorded_current(tmp_path):
    wb = write_bytes(tmp_path / "台账.xlsx", "v1")
    record(seventeen(wb, 12), NOV1)
    led = seventeen(wb, 14)
    current = snapshot_from_ledger(led, ledger_stats(led, DEC1), DEC1)
    ctx = history_context(wb, DEC1, current=current)
    assert ctx["summary"] == SENTENCE_NOV1
    assert [r["seq"] for r in ctx["newly_overdue"]] == ["15", "16", "17"]
    assert ctx["has_trend"] is False and len(ctx["trend"]) == 2


def test_history_context_without_history(tmp_path):
    ctx = history_context(tmp_path / "无.xlsx", NOV1)
    assert ctx["has_history"] is False and ctx["trend"] == [] and ctx["has_previous"] is False
    # the first report: only the current state, nothing to compare with
    wb = write_bytes(tmp_path / "台账.xlsx", "v1")
    led = seventeen(wb, 12)
    current = snapshot_from_ledger(led, ledger_stats(led, NOV1), NOV1)
    first = history_context(wb, NOV1, current=current)
    assert first["has_previous"] is False and first["summary"] == "" and first["newly_overdue_text"] == ""
    assert [p["completed"] for p in first["trend"]] == [12]


def test_unwritable_history_warns_and_goes_on(tmp_path):
    wb = write_bytes(tmp_path / "台账.xlsx", "v1")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    led = seventeen(wb, 3)
    failure = api.record_history(led, NOV1, command="validate", history_path=blocker / "h.sqlite")
    # the caller tells it: "提示：…" on stderr (test_cli_unwritable_history_does_not_break_validate)
    assert failure is not None
    assert failure.startswith("无法打开历史记录文件") and "本次结果未记入历史" in failure
    with pytest.raises(HistoryError):
        write_snapshot(led, ledger_stats(led, NOV1), NOV1, history_path=blocker / "h.sqlite")


def test_damaged_history_file_warns(tmp_path):
    wb = write_bytes(tmp_path / "台账.xlsx", "v1")
    default_history_path(wb).write_bytes(b"this is not a database" * 100)
    led = seventeen(wb, 3)
    failure = api.record_history(led, NOV1, command="validate")
    assert failure is not None and "历史记录" in failure
    assert history_context(wb, NOV1)["has_previous"] is False


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    wb = write_bytes(folder / "台账.xlsx", "v1")
    folder.chmod(0o555)
    try:
        led = seventeen(wb, 3)
        failure = api.record_history(led, NOV1, command="validate")
        assert failure is not None and "本次结果未记入历史" in failure
    finally:
        folder.chmod(0o755)


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "h.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(HistoryError, match="更新版本"):
        HistoryStore(db)


def _writer(args: tuple[str, str, int, int]) -> int:
    db, folder, worker, count = args
    ids = []
    for n in range(count):
        wb = Path(folder) / f"单位{worker}.xlsx"
        led = seventeen(str(wb), (worker + n) % 18)
        as_of = date(2024, 1 + n, 1)
        snap = write_snapshot(
            led, ledger_stats(led, as_of), as_of, history_path=db, content_hash=f"h{worker}-{n}"
        )
        ids.append(snap.id)
    return len(ids)


def test_concurrent_writers_lose_nothing(tmp_path):
    db = tmp_path / "shared.sqlite"
    workers, each = 6, 8
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(workers) as pool:
        done = pool.map(_writer, [(str(db), str(tmp_path), w, each) for w in range(workers)])
    assert done == [each] * workers
    with HistoryStore(db) as store:
        assert store.integrity() == "ok"
        assert store.conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == workers * each
        blobs = store.conn.execute("SELECT count(*), sum(count) FROM snapshot_item_blobs").fetchone()
        assert blobs == (workers * each, workers * each * 17)
        dims = store.conn.execute("SELECT count(*) FROM snapshot_dimensions").fetchone()[0]
        assert dims == workers * each * 2
        for w in range(workers):
            snaps = store.snapshots(f"单位{w}.xlsx")
            assert [s.completed for s in snaps] == [(w + n) % 18 for n in range(each)]
            for snap in snaps:
                items = store.load_details(snap).items
                assert sum(it.completed for it in items) == snap.completed and len(items) == 17


def test_recorded_at_is_utc_iso(tmp_path):
    wb = write_bytes(tmp_path / "台账.xlsx", "v1")
    snap = record(seventeen(wb, 1), NOV1)
    stamp = datetime.fromisoformat(snap.recorded_at)
    assert stamp.tzinfo is not None and abs((datetime.now(UTC) - stamp).total_seconds()) < 60


# ---------------------------------------------------------------- through the CLI, on real workbooks


def test_cli_three_runs_with_edits_then_history(tmp_path, ledger_cli):
    from unit_workbooks import write_unit_ledger

    wb = tmp_path / "台账.xlsx"
    hashes = []
    for as_of, done in (("2024-11-01", 10), ("2024-12-01", 12), ("2025-01-01", 14)):
        write_unit_ledger(wb, unit="某某街道", done=done, total=17, deadline=date(2024, 11, 15))
        hashes.append(file_hash(wb))
        run = ledger_cli("validate", wb, "--as-of", as_of)
        assert run.code in (0, 1), run.err
        assert "提示" not in run.err
    again = ledger_cli("validate", wb, "--as-of", "2025-01-01", "--json")  # same bytes, same day
    assert again.code in (0, 1)
    assert (tmp_path / ".台账.xlsx.history.sqlite").exists()

    run = ledger_cli("history", wb, "--json")
    assert run.code == 0, run.err
    snaps = run.json()["snapshots"]
    got = [(s["as_of"], s["total"], s["completed"], s["rate"], s["overdue"], s["hash"]) for s in snaps]
    assert got == [
        ("2024-11-01", 17, 10, 58.8, 0, hashes[0]),
        ("2024-12-01", 17, 12, 70.6, 5, hashes[1]),
        ("2025-01-01", 17, 14, 82.4, 3, hashes[2]),
    ]
    assert all(s["recorded_at"] and s["command"] == "validate" for s in snaps)

    table = ledger_cli("history", wb)
    assert table.code == 0
    lines = table.out.splitlines()
    assert lines[0].split() == [
        "序号",
        "统计日期",
        "记录时间",
        "问题总数",
        "已完成",
        "完成率",
        "超期",
        "文件指纹",
    ]
    assert lines[2].split()[:2] == ["1", "2024-11-01"] and "58.8%" in lines[2]
    assert len(lines) == 5

    # only 校验 runs before: the comparison says so (issue 13: it used to claim a 通报)
    ctx = history_context(wb, date(2025, 1, 1))
    assert ctx["summary"] == "较上次校验（2024年12月1日）新增完成2项，完成率提高11.8个百分点。"
    assert ctx["has_trend"] is True and [p["rate"] for p in ctx["trend"]] == [58.8, 70.6, 82.4]
    dec = history_context(wb, date(2024, 12, 1))
    assert (
        dec["summary"]
        == "较上次校验（2024年11月1日）新增完成2项，完成率提高11.8个百分点，新增超期未完成5项。"
    )
    assert [r["seq"] for r in dec["newly_overdue"]] == ["13", "14", "15", "16", "17"]


def test_cli_no_history_and_history_path(tmp_path, ledger_cli):
    from unit_workbooks import write_unit_ledger

    wb = write_unit_ledger(tmp_path / "台账.xlsx", unit="甲", done=3, total=5)
    run = ledger_cli("validate", wb, "--as-of", "2024-12-01", "--no-history")
    assert run.code in (0, 1)
    assert not list(tmp_path.glob(".*"))
    custom = tmp_path / "记录" / "h.sqlite"
    custom.parent.mkdir()
    run = ledger_cli("validate", wb, "--as-of", "2024-12-01", "--history", custom)
    assert custom.exists() and not list(tmp_path.glob(".*"))
    assert [
        s["completed"] for s in ledger_cli("history", wb, "--history", custom, "--json").json()["snapshots"]
    ] == [3]
    # the history file itself can be listed directly
    assert len(ledger_cli("history", custom, "--json").json()["snapshots"]) == 1
    # a workbook with no history yet
    empty = ledger_cli("history", tmp_path / "别的.xlsx")
    assert empty.code == 0 and "暂无历史记录" in empty.out


def test_cli_unwritable_history_does_not_break_validate(tmp_path, ledger_cli):
    from unit_workbooks import write_unit_ledger

    wb = write_unit_ledger(tmp_path / "台账.xlsx", unit="甲", done=3, total=5)
    plain = ledger_cli("validate", wb, "--as-of", "2024-12-01", "--no-history", "--json")
    blocker = tmp_path / "是文件"
    blocker.write_text("x")
    run = ledger_cli("validate", wb, "--as-of", "2024-12-01", "--history", blocker / "h.sqlite", "--json")
    assert run.code == plain.code
    assert run.json() == plain.json()
    assert run.err.startswith("提示：无法打开历史记录文件") and "本次结果未记入历史" in run.err
    assert "Traceback" not in run.err
    # a damaged history file beside the workbook: same
    (tmp_path / ".台账.xlsx.history.sqlite").write_bytes(b"garbage" * 200)
    run = ledger_cli("validate", wb, "--as-of", "2024-12-01", "--json")
    assert run.code == plain.code and "本次结果未记入历史" in run.err
    bad = ledger_cli("history", wb)
    assert bad.code == 2 and "历史记录文件" in bad.err and "Traceback" not in bad.err


def test_trend_labels_and_chart():
    from toolkit.render.chart import trend_chart

    def snap(day: date, rate: float) -> history.Snapshot:
        return history.Snapshot(as_of=day, total=10, completed=int(rate * 10), overdue=0, rate=rate)

    same_year = history.trend_points([snap(date(2024, 10, 1), 0.5), snap(date(2024, 11, 1), 0.6)])
    assert [p["label"] for p in same_year] == ["10月1日", "11月1日"]
    points = history.trend_points([snap(NOV1, 0.5), snap(DEC1, 0.6), snap(JAN1, 0.8), snap(JAN1, 0.9)])
    assert [(p["label"], p["rate"]) for p in points] == [
        ("2024年11月1日", 50.0),
        ("2024年12月1日", 60.0),
        ("2025年1月1日", 90.0),  # the latest recording of a day wins
    ]
    assert trend_chart(points[:2]) is None
    chart = trend_chart(points)
    assert (chart.categories, chart.values) == (
        ("2024年11月1日", "2024年12月1日", "2025年1月1日"),
        (0.5, 0.6, 0.9),
    )


def test_report_compares_with_the_last_report_and_draws_the_trend(tmp_path, ledger_cli):
    import docx
    from unit_workbooks import write_unit_ledger

    wb = tmp_path / "台账.xlsx"
    outs = []
    for n, (as_of, done) in enumerate((("2024-11-01", 10), ("2024-12-01", 12), ("2025-01-01", 14))):
        write_unit_ledger(wb, unit="某某街道", done=done, total=17, deadline=date(2024, 11, 15))
        out = tmp_path / f"通报{n}.docx"
        run = ledger_cli("report", wb, "--as-of", as_of, "-o", out)
        assert run.code == 0, run.err
        outs.append(docx.Document(str(out)))

    def body(document) -> str:
        return "\n".join(p.text for p in document.paragraphs)

    assert "较上次通报" not in body(outs[0])
    second = body(outs[1])
    assert (
        "较上次通报（2024年11月1日）新增完成2项，完成率提高11.8个百分点，新增超期未完成5项。各方面" in second
    )
    assert "上次通报（2024年11月1日）以来新超期未完成的问题5个：1.理论学习方面问题13" in second
    assert "整改时限2024年11月15日" in second
    third = body(outs[2])
    assert "较上次通报（2024年12月1日）新增完成2项，完成率提高11.8个百分点。各方面" in third
    # the dimension chart in every report; the trend chart from the third on
    pictures = [len(d.inline_shapes) for d in outs]
    assert pictures[2] == pictures[0] + 1 and pictures[1] == pictures[0]
    assert [s["completed"] for s in ledger_cli("history", wb, "--json").json()["snapshots"]] == [10, 12, 14]


def test_cli_validate_snapshot_begun_before_the_rules_is_complete(tmp_path, ledger_cli):
    """``ledger validate`` builds its snapshot before the rules run (begin_snapshot) and compresses it
    meanwhile: what it stores is what the library stores after validating, a second run on the same
    bytes and day only refreshes the time, and a 通报 then compares with it."""
    import docx
    from unit_workbooks import write_unit_ledger

    from toolkit.read import read_ledger

    wb = tmp_path / "台账.xlsx"
    write_unit_ledger(wb, unit="某某街道", done=10, total=17, deadline=date(2024, 11, 15))
    assert ledger_cli("validate", wb, "--as-of", "2024-11-01").code in (0, 1)
    [first] = load_history(wb, with_items=True)
    elsewhere = tmp_path / "库.sqlite"
    led = read_ledger(wb)
    write_snapshot(led, ledger_stats(led, NOV1), NOV1, elsewhere)
    [by_library] = load_history(wb, elsewhere, with_items=True)
    assert [s.as_dict() for s in first.items] == [s.as_dict() for s in by_library.items]
    assert len(first.items) == 17 and first.dimensions == by_library.dimensions
    assert (first.total, first.completed, first.overdue) == (17, 10, 0)

    again = ledger_cli("validate", wb, "--as-of", "2024-11-01", "--json")
    assert again.code in (0, 1) and "提示" not in again.err
    [touched] = load_history(wb)
    assert touched.id == first.id and touched.recorded_at > first.recorded_at

    write_unit_ledger(wb, unit="某某街道", done=12, total=17, deadline=date(2024, 11, 15))
    assert ledger_cli("validate", wb, "--as-of", "2024-12-01").code in (0, 1)
    out = tmp_path / "通报.docx"
    run = ledger_cli("report", wb, "--as-of", "2024-12-01", "-o", out)
    assert run.code == 0, run.err
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    # the 11-01 snapshot was a 校验 (issue 13: worded as such, not as a 通报)
    assert "较上次校验（2024年11月1日）新增完成2项，完成率提高11.8个百分点，新增超期未完成5项。" in text
    assert "上次校验（2024年11月1日）以来新超期未完成的问题5个：1.理论学习方面问题13" in text
    snaps = ledger_cli("history", wb, "--json").json()["snapshots"]
    assert [(s["as_of"], s["completed"], s["overdue"], s["command"]) for s in snaps] == [
        ("2024-11-01", 10, 0, "validate"),
        ("2024-12-01", 12, 5, "report"),  # the same bytes and day: the report's recording updated it
    ]


def test_report_compares_with_the_last_report_not_a_later_validate(tmp_path, ledger_cli):
    """通报 on 11-01, a 校验 on 12-01, a 通报 on 01-01: “较上次通报” is the 11-01 通报. A 校验 of the bytes a
    通报 was made from (same day) does not turn that 通报 into a 校验."""
    import docx
    from unit_workbooks import write_unit_ledger

    wb = tmp_path / "台账.xlsx"

    def body(as_of: str) -> str:
        out = tmp_path / f"通报{as_of}.docx"
        run = ledger_cli("report", wb, "--as-of", as_of, "-o", out, "--no-chart")
        assert run.code == 0, run.err
        return "\n".join(p.text for p in docx.Document(str(out)).paragraphs)

    write_unit_ledger(wb, unit="某某街道", done=10, total=17, deadline=date(2024, 11, 15))
    body("2024-11-01")
    assert ledger_cli("validate", wb, "--as-of", "2024-11-01").code in (0, 1)  # same bytes, same day
    write_unit_ledger(wb, unit="某某街道", done=12, total=17, deadline=date(2024, 11, 15))
    assert ledger_cli("validate", wb, "--as-of", "2024-12-01").code in (0, 1)
    write_unit_ledger(wb, unit="某某街道", done=14, total=17, deadline=date(2024, 11, 15))
    text = body("2025-01-01")
    assert "较上次通报（2024年11月1日）新增完成4项，完成率提高23.6个百分点，新增超期未完成3项。" in text
    assert "上次通报（2024年11月1日）以来新超期未完成的问题3个" in text
    assert "较上次校验" not in text
    snaps = ledger_cli("history", wb, "--json").json()["snapshots"]
    assert [(s["as_of"], s["command"]) for s in snaps] == [
        ("2024-11-01", "report"),
        ("2024-12-01", "validate"),
        ("2025-01-01", "report"),
    ]
    # the library's history_context (the buttons' path) makes the same choice
    ctx = history_context(wb, date(2025, 1, 1))
    assert ctx["summary"].startswith("较上次通报（2024年11月1日）") and ctx["previous_occasion"] == "通报"
