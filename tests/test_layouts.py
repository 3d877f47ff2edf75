"""Ledgers as offices lay them out (issue 12): each read with no config file and counted as a person would.

The layouts (tests/layouts.py) are written as real files — .xlsx, a WPS-saved .xlsx, the HTML "xls" export
and, with LibreOffice, .xls — and each must give its hand counts, its header mapping, and none of the
findings a misread structure floods a ledger with (a header row read as an item, numbering that restarts
in each table, a section title read as a problem).
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import replace
from datetime import date

import pytest
from layouts import (
    AS_OF,
    AUDIT_XLS,
    COMBINED,
    LAYOUTS,
    MINSHENG,
    STACKED,
    STACKED_TITLED,
    WPS,
    XUNCHA,
    YESNO_BESIDE,
    ZHUANXIANG,
    ZHUTI,
    Layout,
    write_html_xls,
    write_wps_xlsx,
    write_xlsx,
)

from toolkit.read import read_ledger, table_title
from toolkit.stats import ledger_stats
from toolkit.validate import validate_ledger

# what a misread structure gives: never on these ledgers, which are all correct
MISREAD = frozenset({"unknown-status", "duplicate-problem", "seq-gap", "seq-duplicate", "missing-value",
                     "unknown-dimension", "bad-date", "bad-deadline", "formula-error"})  # fmt: skip


def assert_counted_by_hand(layout: Layout, path) -> None:
    ledger = read_ledger(path)
    assert {use.header: use.field for use in ledger.mapping} == layout.columns
    stats = ledger_stats(ledger, AS_OF).as_dict()
    total = stats["total"]
    assert (total["total"], total["completed"]) == (layout.total, layout.completed)
    # the completion rate a person works out; none at all when no item says whether it is done
    by_hand = None if total["no_status"] == layout.total else round(100 * layout.completed / layout.total, 1)
    assert total["rate"] == by_hand
    assert {key: total[key] for key in layout.counts} == layout.counts
    if layout.dimensions is not None:
        assert [(g["name"], g["total"]) for g in stats["dimensions"]] == layout.dimensions
    assert ledger.items.rows[0] == layout.first_row
    issues = validate_ledger(ledger, AS_OF).as_dict()["issues"]
    assert [(i["row"], i["column"], i["code"]) for i in issues if i["code"] in MISREAD] == []
    assert sum(1 for i in issues if i["severity"] == "error") == layout.errors


@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.name for layout in LAYOUTS])
def test_each_layout_as_xlsx(tmp_path, layout):
    assert_counted_by_hand(layout, write_xlsx(layout, tmp_path / f"{layout.name}.xlsx"))


@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.name for layout in LAYOUTS])
def test_each_layout_as_an_html_export(tmp_path, layout):
    assert_counted_by_hand(layout, write_html_xls(layout, tmp_path / f"{layout.name}.xls"))


@pytest.mark.parametrize("layout", [WPS, ZHUTI, XUNCHA], ids=["巡视", "两行表头", "巡察"])
def test_saved_by_wps(tmp_path, layout):
    path = write_wps_xlsx(layout, tmp_path / f"{layout.name}.xlsx")
    with zipfile.ZipFile(path) as package:
        assert b"WPS" in package.read("docProps/app.xml")
        assert b"KSOProductBuildVer" in package.read("docProps/custom.xml")
    assert_counted_by_hand(layout, path)


@pytest.mark.office
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
@pytest.mark.parametrize("layout", [AUDIT_XLS, ZHUTI, STACKED, MINSHENG], ids=lambda layout: layout.name)
def test_converted_to_xls_by_libreoffice(tmp_path, layout):
    from filemakers import soffice_convert

    source = write_xlsx(layout, tmp_path / f"{layout.name}.xlsx")
    (tmp_path / "out").mkdir()
    path = soffice_convert(source, "xls", tmp_path / "out")
    assert path.suffix == ".xls" and path.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"  # a real BIFF file
    assert_counted_by_hand(layout, path)


def test_at_least_twelve_shapes():
    assert len(LAYOUTS) >= 12 and len({layout.name for layout in LAYOUTS}) == len(LAYOUTS)


# --- the mapping, shown ------------------------------------------------------------------------------------


def test_validate_says_how_the_headers_were_understood(tmp_path, ledger_cli):
    path = write_xlsx(XUNCHA, tmp_path / "巡察.xlsx")
    run = ledger_cli("validate", path, "--as-of", AS_OF)
    assert run.code == 0, run.out + run.err
    [line] = [line for line in run.out.splitlines() if line.startswith("表头识别：")]
    assert line == (
        "表头识别：巡察反馈问题→问题描述；牵头单位→责任部门；整改进展情况→整改进展；是否完成→完成状态；"
        "其余 5 列与标准表头一致；未使用：具体表现、配合单位。"
    )
    data = ledger_cli("validate", path, "--as-of", AS_OF, "--json").json()
    assert {letter: (c["header"], c["field"], c["how"]) for letter, c in data["columns"].items()} == {
        "A": ("序号", "seq", "alias"),
        "B": ("巡察反馈问题", "problem", "role"),
        "C": ("具体表现", None, None),
        "D": ("整改措施", "measures", "alias"),
        "E": ("牵头单位", "dept", "alias"),
        "F": ("配合单位", None, None),
        "G": ("责任人", "owner", "alias"),
        "H": ("整改时限", "deadline", "alias"),
        "I": ("整改进展情况", "progress", "alias"),
        "J": ("是否完成", "status", "role"),
        "K": ("备注", "remarks", "alias"),
    }
    assert data["columns"]["J"]["name"] == "完成状态"

    # the clerk who marks the file (or presses the button) sees the same line beside the findings
    assert ledger_cli("validate", path, "--as-of", AS_OF, "--mark").code == 0
    from openpyxl import load_workbook

    results = load_workbook(path, read_only=True)["校验结果"]
    texts = [cell for row in results.iter_rows(values_only=True) for cell in row if isinstance(cell, str)]
    assert line in texts


def test_the_button_results_sheet_shows_the_header_mapping(tmp_path):
    from toolkit.excel import results_rows

    report = validate_ledger(read_ledger(write_xlsx(XUNCHA, tmp_path / "巡察.xlsx")), AS_OF)
    assert results_rows(report, "台账")[-1][0].removeprefix("'") == report.columns_line  # as_text quotes it
    assert report.columns_line.startswith("表头识别：巡察反馈问题→问题描述；牵头单位→责任部门；")


def test_a_yes_no_column_gives_the_completion_rate(tmp_path, ledger_cli):
    """是否完成 beside a 完成情况 narrative: the yes/no answer counts, the narrative is the progress."""
    path = write_xlsx(YESNO_BESIDE, tmp_path / "并列.xlsx")
    data = ledger_cli("stats", path, "--as-of", AS_OF, "--json").json()
    assert (data["status_from"], data["total"]["completed"], data["total"]["rate"]) == ("status", 4, 66.7)


def test_two_row_header_is_not_an_item(tmp_path):
    ledger = read_ledger(write_xlsx(ZHUTI, tmp_path / "两行.xlsx"))
    assert ledger.header_row == 2 and list(ledger.items.rows) == [4, 5, 6, 7]
    assert [str(d.value) for d in ledger.items.completed_on][:1] == ["2024-05-20"]
    assert ledger.headers["lead"] == "责任领导" and ledger.headers["status"] == "完成情况"


def test_stacked_tables_restart_their_numbering(tmp_path):
    ledger = read_ledger(write_xlsx(STACKED, tmp_path / "叠放.xlsx"))
    assert list(ledger.items.rows) == [3, 4, 8, 9, 10, 14, 15]
    assert ledger.table_starts == [8, 14]
    # the same rows as one table: numbering that restarts is then a duplicate 序号
    rows = [r for r in STACKED.rows if not (r and r[0] in ("编号", "表二 专项任务", "表三 日常任务"))]
    rows.insert(1, STACKED.rows[1])
    one = Layout("一张表", rows, STACKED.columns, STACKED.total, STACKED.completed)
    issues = validate_ledger(read_ledger(write_xlsx(one, tmp_path / "一张.xlsx")), AS_OF).as_dict()["issues"]
    assert "seq-duplicate" in {i["code"] for i in issues}


def _dimension_rows(ledger) -> list[tuple[int, str]]:
    return list(zip(ledger.items.rows, ledger.items.dimensions, strict=True))


def test_stacked_tables_take_their_titles_as_the_dimension(tmp_path):
    """表一 理论学习方面问题整改台账 / 表二 … / 三、…方面: each table's items are of its title's 方面; 续表 goes on."""
    ledger = read_ledger(write_xlsx(STACKED_TITLED, tmp_path / "叠放.xlsx"))
    assert _dimension_rows(ledger) == [
        (4, "理论学习"), (5, "理论学习"), (9, "作风建设"), (10, "作风建设"), (11, "作风建设"), (14, "作风建设"),
        (18, "为民服务"), (19, "为民服务"),
    ]  # fmt: skip
    codes = {(i["code"], i["value"]) for i in validate_ledger(ledger, AS_OF).as_dict()["issues"]}
    assert ("missing-column", "方面") not in codes  # the titles give every item its 方面


def test_table_titles_give_no_dimension_where_they_should_not(tmp_path):
    # a 方面 column: the column says it, the titles are only titles
    with_column = [
        [*r[:1], "方面" if r[:1] == ["序号"] else "党建", *r[1:]] if len(r) > 1 else r
        for r in STACKED_TITLED.rows
    ]
    ledger = read_ledger(write_xlsx(replace(STACKED_TITLED, rows=with_column), tmp_path / "方面列.xlsx"))
    assert set(ledger.items.dimensions) == {"党建"} and len(ledger.items) == STACKED_TITLED.total
    # 表二 with no name: its items have no 方面 (not the table above's); the sheet's own title over the first
    # table (no number, nothing above it) is no 方面 either
    rows = [["某镇整改台账"], *STACKED.rows[1:5], ["表二"], *STACKED.rows[6:]]
    ledger = read_ledger(write_xlsx(replace(STACKED, rows=rows), tmp_path / "表二.xlsx"))
    assert [d for _, d in _dimension_rows(ledger)] == ["", "", "", "", "", "日常任务", "日常任务"]
    # one table under a numbered title is no stack: the title is the sheet's
    single = read_ledger(write_xlsx(replace(STACKED, rows=STACKED.rows[:4]), tmp_path / "一张.xlsx"))
    assert set(single.items.dimensions) == {""}


def test_table_titles_cleaned():
    titles = ["表一 理论学习方面问题整改台账", "表二 专项任务", "表3：重点任务清单（5项）", "附表1 为民服务方面存在问题整改清单",
              "表二、作风建设问题整改落实情况台账", "一、作风建设方面（共3项）", "（二）教育医疗领域", "表二", "续表",
              "续上表", "第2页", "注：本表由党政办汇总", "合计"]  # fmt: skip
    assert [table_title(t) for t in titles] == [
        "理论学习", "专项任务", "重点任务", "为民服务", "作风建设", "作风建设", "教育医疗领域", "", None, None, None,
        None, None,
    ]  # fmt: skip


def test_json_says_a_column_joins_two_roles(tmp_path, ledger_cli):
    data = ledger_cli(
        "validate", write_xlsx(COMBINED, tmp_path / "合写.xlsx"), "--as-of", AS_OF, "--json"
    ).json()
    assert {
        c["header"]: (c["field"], c["how"], c["also"]) for c in data["columns"].values() if c["also"]
    } == {
        "牵头领导及责任部门": ("lead", "combined", ["dept"]),
        "责任单位（责任人）": ("dept", "combined", ["owner"]),
        "完成时限及进展": ("deadline", "combined", ["progress"]),
    }
    run = ledger_cli("validate", write_xlsx(COMBINED, tmp_path / "合写2.xlsx"), "--as-of", AS_OF)
    assert (
        "牵头领导及责任部门→责任领导（与责任部门合写）；责任单位（责任人）→责任部门（与责任人合写）"
        in run.out
    )


def test_deadlines_as_offices_write_them(tmp_path):
    """A range is its end; 6月30日前, 三季度末, 年底前 take the year of the title; 二〇二四年八月底 is a date."""
    ledger = read_ledger(write_xlsx(ZHUANXIANG, tmp_path / "整治.xlsx"), as_of=AS_OF)
    assert [d.value for d in ledger.items.deadlines] == [
        date(2024, 6, 30), date(2024, 9, 30), date(2024, 8, 31), date(2024, 12, 31), date(2024, 9, 30),
        date(2024, 12, 31),
    ]  # fmt: skip
    codes = {i["code"] for i in validate_ledger(ledger, AS_OF).as_dict()["issues"]}
    assert "year-guessed" not in codes  # the title says 2024: no guess
    # without a year in the title the year is a guess, and validation says so
    untitled = replace(
        ZHUANXIANG, rows=[["群众身边不正之风和腐败问题集中整治事项清单"], *ZHUANXIANG.rows[1:]]
    )
    ledger = read_ledger(write_xlsx(untitled, tmp_path / "无年份.xlsx"), as_of=AS_OF)
    issues = validate_ledger(ledger, AS_OF).as_dict()["issues"]
    assert [(i["row"], i["code"]) for i in issues if i["code"] == "year-guessed"] == [(2, "year-guessed")]
    ranged = read_ledger(write_xlsx(XUNCHA, tmp_path / "巡察.xlsx"), as_of=AS_OF)
    assert [d.value for d in ranged.items.deadlines][1:5:3] == [date(2024, 12, 31), date(2025, 3, 31)]


def test_the_report_is_written_for_a_ledger_laid_out_elsewhere(tmp_path, ledger_cli):
    """No 方面 or 完成时间 column, a yes/no status, notes below: the 通报 is not refused, and counts by hand."""
    from docx import Document

    path = write_xlsx(XUNCHA, tmp_path / "巡察.xlsx")
    out = tmp_path / "通报.docx"
    run = ledger_cli("report", path, "--as-of", AS_OF, "-o", out, "--no-history")
    assert run.code == 0, run.out + run.err
    text = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "共梳理问题5个，已完成整改3个，整改完成率60.0%" in text
