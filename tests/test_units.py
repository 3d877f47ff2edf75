"""Many units: collecting files, stats by unit, the merged ledger, the district context (real workbooks)."""

from __future__ import annotations

import multiprocessing
import os
from datetime import date, datetime
from pathlib import Path

import pytest
from unit_workbooks import (
    write_broken,
    write_encrypted_looking,
    write_no_ledger,
    write_unit_ledger,
)

from toolkit.config import DEFAULT_CONFIG
from toolkit.district import district_context
from toolkit.units import (
    FINDINGS_SHEET,
    FORKED_WORKERS,
    MERGED_SHEET,
    WORKER_DIED,
    NoLedgerFilesError,
    NothingReadError,
    collect_files,
    run_many,
    stats_by_unit,
    summarize_file,
)
from toolkit.units.run import _run_forked, _run_pool

AS_OF = date(2024, 12, 1)


@pytest.fixture(scope="module")
def units_dir(tmp_path_factory) -> Path:
    """Three good units (100%, 70.6%, 90%), three bad files, and things that must be skipped."""
    d = tmp_path_factory.mktemp("units")
    write_unit_ledger(d / "01甲.xlsx", unit="甲街道", done=17, total=17)
    write_unit_ledger(d / "02乙.xlsx", unit="乙街道", done=12, total=17, overdue=3, measures="=1+1 已整改")
    write_unit_ledger(d / "03丙社区.xlsx", unit=None, done=9, total=10, overdue=1)
    write_no_ledger(d / "04丁.xlsx")
    write_encrypted_looking(d / "05戊.xlsx")
    write_broken(d / "06己.xlsx")
    (d / "~$01甲.xlsx").write_bytes(b"\x00lock")
    (d / ".隐藏.xlsx").write_bytes(b"hidden")
    write_unit_ledger(d / "汇总台账.xlsx", unit="汇总", done=1, total=1)
    write_unit_ledger(d / "01甲（校验结果）.xlsx", unit="甲街道", done=1, total=1)
    (d / "说明.txt").write_text("不是台账", encoding="utf-8")
    return d


GOOD = ["01甲.xlsx", "02乙.xlsx", "03丙社区.xlsx"]
BAD = ["04丁.xlsx", "05戊.xlsx", "06己.xlsx"]


def test_collect_files_skips_locks_hidden_and_our_outputs(units_dir):
    assert [p.name for p in collect_files([units_dir])] == GOOD + BAD
    # a file named explicitly is always taken, and duplicates are dropped
    named = collect_files([units_dir / "汇总台账.xlsx", units_dir, units_dir / "01甲.xlsx"])
    assert [p.name for p in named] == ["汇总台账.xlsx", *GOOD, *BAD]


def test_collect_files_errors(tmp_path):
    with pytest.raises(NoLedgerFilesError, match="没有找到台账文件"):
        collect_files([tmp_path])
    with pytest.raises(NoLedgerFilesError, match="找不到"):
        collect_files([tmp_path / "无此文件夹"])


def test_summarize_file_names_unit_from_info_else_stem(units_dir):
    assert summarize_file(str(units_dir / "01甲.xlsx"), AS_OF).unit == "甲街道"
    assert summarize_file(str(units_dir / "03丙社区.xlsx"), AS_OF).unit == "03丙社区"


def test_stats_by_unit_exact_numbers_and_failures(units_dir):
    result = stats_by_unit([units_dir], AS_OF, jobs=2)
    data = result.as_dict()
    rows = [(u["name"], u["total"], u["completed"], u["rate"], u["overdue"]) for u in data["units"]]
    assert rows == [("甲街道", 17, 17, 100.0, 0), ("乙街道", 17, 12, 70.6, 3), ("03丙社区", 10, 9, 90.0, 1)]
    assert (data["total"]["total"], data["total"]["completed"], data["total"]["rate"]) == (44, 38, 86.4)
    assert [Path(f["file"]).name for f in data["failures"]] == BAD
    reasons = [f["reason"] for f in data["failures"]]
    assert "没有找到台账表头" in reasons[0]
    assert "密码" in reasons[1]
    assert "损坏" in reasons[2]
    assert result.exit_code == 1
    # the same fields as a dimension row of `ledger stats --json`, plus the file
    assert set(data["units"][0]) >= {"name", "total", "completed", "rate", "overdue", "pending", "file"}


def test_parallel_and_serial_agree_and_keep_file_order(units_dir):
    files = collect_files([units_dir])
    serial = [
        (r.file, r.unit, r.reason, r.total and r.total.completed) for r in run_many(files, AS_OF, jobs=1)
    ]
    parallel = [
        (r.file, r.unit, r.reason, r.total and r.total.completed) for r in run_many(files, AS_OF, jobs=2)
    ]
    assert serial == parallel
    assert [Path(f).name for f, *_ in parallel] == GOOD + BAD


def test_nothing_readable_raises(units_dir):
    with pytest.raises(NothingReadError, match="3个文件均未能读取"):
        stats_by_unit([units_dir / name for name in BAD], AS_OF)


def test_district_context(units_dir):
    ctx = district_context([units_dir], AS_OF, jobs=2)
    ranking = [(r["rank"], r["name"], r["rate"], r["rate_text"]) for r in ctx["ranking"]]
    assert ranking == [
        (1, "甲街道", 100.0, "100.0%"),
        (2, "03丙社区", 90.0, "90.0%"),
        (3, "乙街道", 70.6, "70.6%"),
    ]
    assert (ctx["unit_count"], ctx["total"], ctx["completed"], ctx["rate"]) == (3, 44, 38, 86.4)
    assert (ctx["full_count"], ctx["full_units"]) == (1, ["甲街道"])
    assert (ctx["low_count"], ctx["low_units"]) == (1, ["乙街道"])
    dims = {d["name"]: (d["total"], d["completed"], d["rate"]) for d in ctx["dimensions"]}
    # rows rotate over 4 dimensions: 甲 5/4/4/4 all done, 乙 rows 13-17 open, 丙 row 10 open
    assert dims == {
        "理论学习": (5 + 5 + 3, 5 + 3 + 3, 84.6),
        "作风建设": (4 + 4 + 3, 4 + 3 + 2, 81.8),
        "担当作为": (4 + 4 + 2, 4 + 3 + 2, 90.0),
        "廉洁自律": (4 + 4 + 2, 4 + 3 + 2, 90.0),
    }
    assert [d["name"] for d in ctx["lagging_dimensions"]] == ["作风建设", "理论学习"]
    assert [(u["name"], u["count"]) for u in ctx["overdue_units"]] == [("乙街道", 3), ("03丙社区", 1)]
    assert [i["seq"] for i in ctx["overdue_units"][0]["items"]] == ["13", "14", "15"]
    assert ctx["overdue_total"] == 4
    assert [f["file"] for f in ctx["failures"]] == BAD
    assert ctx["summary"] == (
        "截至2024年12月1日，共3个单位报送整改台账，梳理问题44个，已完成38个，整体完成率86.4%。"
        "其中完成率达到100%的单位1个，低于80%的单位1个；超期未完成问题4个，涉及2个单位。"
    )


def test_merge_cli_writes_canonical_ledger_and_findings(units_dir, tmp_path, ledger_cli):
    out = tmp_path / "汇总台账.xlsx"
    run = ledger_cli("merge", units_dir, "-o", out, "--as-of", "2024-12-01")
    assert run.code == 1, run.err
    assert "已汇总 3 个单位、44 条问题" in run.out
    assert run.err.count("未能读取") == 3

    import openpyxl

    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [MERGED_SHEET, FINDINGS_SHEET]
    ws = book[MERGED_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    assert header[:4] == ("单位", "序号", "问题来源", "方面")
    assert len(rows) == 1 + 44
    assert [r[0] for r in rows[1:]].count("乙街道") == 17
    col = {name: i for i, name in enumerate(header)}
    first = rows[1]
    assert first[0] == "甲街道" and first[col["序号"]] == 1
    assert first[col["整改时限"]] == datetime(2024, 12, 31)
    assert first[col["完成时间"]] == datetime(2024, 5, 20)
    assert first[col["完成状态"]] == "已完成"
    yi = next(r for r in rows[1:] if r[0] == "乙街道")
    assert yi[col["整改措施"]] == "=1+1 已整改"  # text, never a formula
    assert ws.cell(row=19, column=col["整改措施"] + 1).data_type == "s"

    findings = list(book[FINDINGS_SHEET].iter_rows(values_only=True))
    assert findings[0][:7] == ("单位", "文件", "读取结果", "问题总数", "完成率", "错误", "提醒")
    by_file = {r[1]: r for r in findings[1:]}
    assert set(by_file) == set(GOOD + BAD)
    assert by_file["02乙.xlsx"][2:5] == ("已读取", 17, "70.6%")
    codes = findings[0][7:]
    assert "overdue" in codes
    assert by_file["02乙.xlsx"][7 + codes.index("overdue")] == 3
    assert by_file["05戊.xlsx"][2].startswith("未能读取：") and "密码" in by_file["05戊.xlsx"][2]

    # the merged ledger is itself a ledger our own reader understands
    back = ledger_cli("stats", out, "--json", "--as-of", "2024-12-01").json()["total"]
    assert (back["total"], back["completed"], back["overdue"]) == (44, 38, 4)


def test_merge_refuses_to_overwrite(units_dir, tmp_path, ledger_cli):
    out = tmp_path / "汇总台账.xlsx"
    out.write_bytes(b"keep me")
    run = ledger_cli("merge", units_dir / "01甲.xlsx", "-o", out)
    assert run.code == 2 and "已存在" in run.err and "--force" in run.err
    assert out.read_bytes() == b"keep me"
    run = ledger_cli("merge", units_dir / "01甲.xlsx", "-o", out, "--force")
    assert run.code == 0, run.err
    assert "已汇总 1 个单位、17 条问题" in run.out
    import stat

    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask  # not mkstemp's owner-only 0600
    assert not list(tmp_path.glob(".*.tmp.xlsx"))


def test_merge_with_nothing_readable_writes_nothing(units_dir, tmp_path, ledger_cli):
    out = tmp_path / "汇总台账.xlsx"
    run = ledger_cli("merge", *(units_dir / n for n in BAD), "-o", out)
    assert run.code == 2 and "均未能读取" in run.err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_stats_by_unit_cli_json(units_dir, ledger_cli):
    run = ledger_cli("stats", units_dir, "--by", "unit", "--json", "--as-of", "2024-12-01")
    assert run.code == 1, run.err
    data = run.json()
    assert data["by"] == "unit" and data["as_of"] == "2024-12-01"
    rows = [(u["name"], u["total"], u["completed"], u["rate"], u["overdue"]) for u in data["units"]]
    assert rows == [("甲街道", 17, 17, 100.0, 0), ("乙街道", 17, 12, 70.6, 3), ("03丙社区", 10, 9, 90.0, 1)]
    assert [Path(f["file"]).name for f in data["failures"]] == BAD
    # the unit rows carry the same fields as the dimension rows of single-file stats
    single = ledger_cli("stats", units_dir / "02乙.xlsx", "--json", "--as-of", "2024-12-01").json()
    assert set(single["dimensions"][0]) <= set(data["units"][0])
    assert single["total"]["rate"] == data["units"][1]["rate"] == 70.6


def test_a_unit_in_two_files_is_pointed_out_everywhere(units_dir, tmp_path, ledger_cli):
    """A corrected ledger left beside the old one counts the unit twice: stats, merge and the district
    report all say so (which file stays is the clerk's call)."""
    import shutil

    d = tmp_path / "重复"
    d.mkdir()
    shutil.copy(units_dir / "01甲.xlsx", d / "01甲.xlsx")
    write_unit_ledger(d / "01甲（修改）.xlsx", unit="甲街道", done=16, total=17)
    shutil.copy(units_dir / "02乙.xlsx", d / "02乙.xlsx")
    assert ledger_cli("stats", units_dir, "--by", "unit", "--json").json()["repeated_units"] == []

    data = ledger_cli("stats", d, "--by", "unit", "--json", "--as-of", "2024-12-01").json()
    assert data["repeated_units"] == [{"name": "甲街道", "files": ["01甲.xlsx", "01甲（修改）.xlsx"]}]
    assert data["total"]["total"] == 17 * 3  # told, not dropped
    text = ledger_cli("stats", d, "--by", "unit", "--as-of", "2024-12-01")
    assert text.code == 0
    assert "注意：单位“甲街道”出现在 2 个文件中（01甲.xlsx、01甲（修改）.xlsx），都计入了合计" in text.out
    merged = ledger_cli("merge", d, "-o", tmp_path / "汇总台账.xlsx", "--as-of", "2024-12-01")
    assert merged.code == 0 and "单位“甲街道”出现在 2 个文件中" in merged.out
    report = ledger_cli("report", d, "-o", tmp_path / "区级通报.docx", "--as-of", "2024-12-01")
    assert report.code == 0, report.err
    assert "提示：单位“甲街道”出现在 2 个文件中" in report.err


def test_stats_by_unit_cli_text_and_files(units_dir, ledger_cli):
    run = ledger_cli(
        "stats", units_dir / "01甲.xlsx", units_dir / "03丙社区.xlsx", "--by", "unit", "--as-of", "2024-12-01"
    )
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "统计日期：2024-12-01"
    assert lines[1].split() == ["单位", "问题总数", "已完成", "完成率", "超期未完成", "文件"]
    assert lines[3].split() == ["甲街道", "17", "17", "100.0%", "0", "01甲.xlsx"]
    assert lines[4].split() == ["03丙社区", "10", "9", "90.0%", "1", "03丙社区.xlsx"]
    assert lines[5].split() == ["合计", "27", "26", "96.3%", "1"]


def test_stats_by_unit_cli_failures_and_usage(units_dir, tmp_path, ledger_cli):
    run = ledger_cli("stats", units_dir, "--by", "unit", "--as-of", "2024-12-01")
    assert run.code == 1 and "以下 3 个文件未能读取：" in run.out and "05戊.xlsx：" in run.out
    none = ledger_cli("stats", *(units_dir / n for n in BAD), "--by", "unit")
    assert none.code == 2 and "3个文件均未能读取" in none.err and "Traceback" not in none.err
    empty = ledger_cli("stats", tmp_path, "--by", "unit")
    assert empty.code == 2 and "没有找到台账文件" in empty.err
    # single-file behaviour stays as it was; folders and several files need --by unit
    assert ledger_cli("stats", units_dir / "01甲.xlsx").code == 0
    folder = ledger_cli("stats", units_dir)
    assert folder.code == 2 and "--by unit" in folder.err
    two = ledger_cli("stats", units_dir / "01甲.xlsx", units_dir / "02乙.xlsx", "--by", "dept")
    assert two.code == 2 and "只能指定一个台账文件" in two.err
    sheet = ledger_cli("stats", units_dir, "--by", "unit", "--sheet", "整改台账")
    assert sheet.code == 2 and "--sheet" in sheet.err


_real_summarize = summarize_file


def _crash_on_bad(path: str, *args, **kwargs):
    """Stands in for a file that kills the reading process outright (as a native crash would)."""
    if Path(path).name == "02乙.xlsx":
        import os

        os._exit(70)
    return _real_summarize(path, *args, **kwargs)


def test_a_worker_that_dies_fails_only_its_own_file(units_dir, monkeypatch):
    import multiprocessing

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("the stand-in crash needs forked workers")
    import toolkit.units.run

    monkeypatch.setattr(toolkit.units.run, "summarize_file", _crash_on_bad)
    results = list(run_many(collect_files([units_dir]), AS_OF, jobs=2))
    assert [Path(r.file).name for r in results] == GOOD + BAD
    by_name = {Path(r.file).name: r for r in results}
    assert "读取进程意外退出" in by_name["02乙.xlsx"].reason
    assert by_name["01甲.xlsx"].ok and by_name["03丙社区.xlsx"].ok
    assert by_name["03丙社区.xlsx"].total.completed == 9


def test_a_worker_that_dies_in_a_batch_fails_only_its_own_files(units_dir, monkeypatch):
    """Sixty files make batches of several: the batch is retried file by file, the rest go on."""
    if not FORKED_WORKERS:
        pytest.skip("the stand-in crash needs forked workers")
    import toolkit.units.run

    monkeypatch.setattr(toolkit.units.run, "summarize_file", _crash_on_bad)
    files = collect_files([units_dir]) * 10
    results = list(run_many(files, AS_OF, jobs=2))
    assert [r.file for r in results] == [str(f) for f in files]
    died = [Path(r.file).name for r in results if r.reason == WORKER_DIED]
    assert died == ["02乙.xlsx"] * 10
    assert [r.total.completed for r in results if Path(r.file).name == "03丙社区.xlsx"] == [9] * 10


def test_the_process_pool_where_there_is_no_fork_agrees(units_dir, monkeypatch):
    """The Windows path (a process pool) gives what the forked workers give, crash included."""
    import toolkit.units.run

    files = [str(f) for f in collect_files([units_dir])] * 3

    def run(runner) -> list[tuple]:
        return [
            (r.file, r.unit, r.reason, r.total and r.total.completed)
            for r in runner(files, AS_OF, "stats", DEFAULT_CONFIG, 2, lambda: None)
        ]

    assert run(_run_pool) == run(_run_forked)
    if multiprocessing.get_start_method() == "fork":
        monkeypatch.setattr(toolkit.units.run, "summarize_file", _crash_on_bad)
        reasons = {Path(f).name: reason for f, _, reason, _ in run(_run_pool)}
        assert reasons["02乙.xlsx"] == WORKER_DIED and reasons["01甲.xlsx"] == ""


def test_the_fork_pool_is_a_fastpath_trick(units_dir, monkeypatch):
    """LEDGER_FASTPATH=0: the plain process pool reads the files, with the same results."""
    import toolkit.units.run

    files = collect_files([units_dir])
    forked = [(r.file, r.reason, r.total and r.total.completed) for r in run_many(files, AS_OF, jobs=2)]

    def no_fork(*args, **kwargs):
        raise AssertionError("the fork pool ran with LEDGER_FASTPATH=0")

    monkeypatch.setattr(toolkit.units.run, "_run_forked", no_fork)
    monkeypatch.setenv("LEDGER_FASTPATH", "0")
    plain = [(r.file, r.reason, r.total and r.total.completed) for r in run_many(files, AS_OF, jobs=2)]
    assert plain == forked
