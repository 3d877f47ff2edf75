"""The read stage on ledgers shaped the way clerks really make them."""

from __future__ import annotations

from datetime import date

import pytest
from builders import HEADERS, row, write_ledger

from toolkit.errors import NoLedgerError
from toolkit.read import read_ledger, section_name

AS_OF = "2024-12-31"


def test_title_rows_aliases_and_odd_header_spelling(tmp_path, ledger_cli):
    headers = [
        "编号",
        "问题类别",
        "存在 问题",
        "整改\n举措",
        "牵头领导",
        "责任单位",
        "具体责任人",
        "完成时限",
        "完成情况",
        "办结时间",
        "佐证",
    ]
    rows = [row(1), row(2, problem="作风不实")]
    path = write_ledger(
        tmp_path / "a.xlsx",
        rows,
        headers,
        title_rows=["某街道党工委2024年度民主生活会整改台账", "填报单位：党政办　　填报时间：2024年12月"],
    )
    ledger = read_ledger(path)
    assert ledger.header_row == 3
    assert ledger.title == "某街道党工委2024年度民主生活会整改台账"
    assert set(ledger.columns) == {
        "seq", "dimension", "problem", "measures", "lead", "dept", "owner", "deadline", "status", "completed_on", "evidence"
    }  # fmt: skip
    assert [i.row for i in ledger.items] == [4, 5]
    assert ledger.items[1].values["problem"] == "作风不实"
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert run.code == 0, run.out


def test_full_width_and_spaces_in_headers(tmp_path):
    headers = [
        "序　号",
        "方 面",
        "问题描述 ",
        "整改措施",
        "责任领导",
        "责任部门",
        "责任人",
        "整改时限",
        "完成状态",
        "完成时间",
        "佐证材料",
    ]
    path = write_ledger(tmp_path / "fw.xlsx", [row(1)], headers)
    assert len(read_ledger(path).columns) == 11


def test_merged_cells_are_filled_down(tmp_path):
    rows = [
        row(1, dimension="理论学习", lead="王书记", dept="党政办"),
        row(2, dimension=None, problem="二", lead=None, dept=None),
        row(3, dimension=None, problem="三", lead="李主任", dept=None),
        row(4, dimension="作风建设", problem="四", lead="李主任"),
    ]
    # 方面 B2:B4, 责任领导 E2:E3, 责任部门 F2:F4 (0-based data rows)
    path = write_ledger(tmp_path / "m.xlsx", rows, merged=[(0, 1, 2, 1), (0, 4, 1, 4), (0, 5, 2, 5)])
    ledger = read_ledger(path)
    assert [i.dimension for i in ledger.items] == ["理论学习", "理论学习", "理论学习", "作风建设"]
    assert [i.values["lead"] for i in ledger.items] == ["王书记", "王书记", "李主任", "李主任"]
    assert [i.values["dept"] for i in ledger.items] == ["党政办"] * 3 + ["党政办"]
    assert ledger.dimensions == ["理论学习", "作风建设"]


def test_section_rows_blank_rows_total_and_notes(tmp_path, ledger_cli):
    headers = [h for h in HEADERS if h != "方面"]

    def r(*args, **kw):
        values = row(*args, **kw)
        del values[1]
        return values

    rows = [
        ["一、理论学习方面"],
        r(1),
        r(2, problem="二"),
        [],
        ["（二）作风建设"],
        r(3, problem="三"),
        ["第三部分 全面从严治党方面存在的问题"],
        r(4, problem="四"),
        ["合计", None, None, None, None, None, None, "共4项"],
        ["注：本表由党政办汇总。"],
        ["填表人：张三", None, None, None, "审核人：李四"],
    ]
    path = write_ledger(tmp_path / "s.xlsx", rows, headers)
    ledger = read_ledger(path)
    assert [(i.row, i.dimension) for i in ledger.items] == [
        (3, "理论学习"),
        (4, "理论学习"),
        (7, "作风建设"),
        (9, "全面从严治党"),
    ]
    assert ledger.dimensions == ["理论学习", "作风建设", "全面从严治党"]
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert run.json()["issues"] == [], run.out  # no missing-column for 方面: sections give it


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一、理论学习方面", "理论学习"),
        ("（二）作风建设", "作风建设"),
        ("(3)担当作为方面存在的问题", "担当作为"),
        ("全面从严治党方面", "全面从严治党"),
        ("理论学习不够深入，学用结合不紧", None),
    ],
)
def test_section_names(text, expected):
    assert section_name(text) == expected


def test_date_forms_text_and_real(tmp_path):
    deadlines = [
        date(2024, 6, 30), "2024年6月30日", "2024.6.30", "2024-06-30", "2024年6月底前", "2024年底", "6月底前",
        "立行立改", "长期坚持", "2024/6/30", "二〇二四年六月底",
    ]  # fmt: skip
    rows = [
        row(n + 1, problem=f"问题{n}", deadline=d, status="正在整改", completed_on=None)
        for n, d in enumerate(deadlines)
    ]
    path = write_ledger(tmp_path / "d.xlsx", rows, title_rows=["2024年度整改台账"])
    items = read_ledger(path).items
    parsed = [(i.deadline.kind, i.deadline.value) for i in items]
    june = ("date", date(2024, 6, 30))
    assert parsed == [june] * 5 + [
        ("date", date(2024, 12, 31)),
        june,
        ("immediate", None),
        ("long_term", None),
        june,
        june,
    ]
    assert items[1].deadline.raw == "2024年6月30日"  # the raw text stays beside the value
    assert items[0].values["deadline"] == "2024-06-30"


def test_year_from_info_sheet(tmp_path):
    rows = [row(1, deadline="9月30日前", status="正在整改", completed_on=None)]
    path = write_ledger(tmp_path / "y.xlsx", rows, info=[("项目", "内容"), ("年度", "2023")])
    assert read_ledger(path).items[0].deadline.value == date(2023, 9, 30)


def test_1904_date_system(tmp_path):
    path = write_ledger(tmp_path / "mac.xlsx", [row(1)], workbook_options={"date_1904": True})
    item = read_ledger(path).items[0]
    assert item.deadline.value == date(2024, 6, 30)
    assert item.completed_on.value == date(2024, 5, 20)


def test_ledger_on_second_sheet_and_sheet_option(tmp_path, ledger_cli):
    path = write_ledger(tmp_path / "b.xlsx", [row(1)], sheet="问题清单", before=["封面"])
    assert read_ledger(path).sheet == "问题清单"
    run = ledger_cli("validate", path, "--sheet", "封面", "--json")
    assert run.code == 2 and "没有找到台账表头" in run.err
    run = ledger_cli("validate", path, "--sheet", "不存在", "--json")
    assert run.code == 2 and "封面、问题清单" in run.err


def test_info_sheet(tmp_path):
    info = [
        ("项目", "内容"),
        ("单位", "某街道党工委"),
        ("年度", "2024"),
        ("会议", "民主生活会"),
        ("成文日期", date(2024, 12, 31)),
        ("存在问题", "理想信念有所淡化"),
        ("", "理论联系实际能力不足"),
        ("存在问题", "工作作风不实"),
        ("下一步打算", "增强宗旨意识"),
    ]
    ledger = read_ledger(write_ledger(tmp_path / "i.xlsx", [row(1)], info=info))
    assert ledger.info == {
        "unit": "某街道党工委",
        "year": "2024",
        "meeting": "民主生活会",
        "date": date(2024, 12, 31),
        "problems": ["理想信念有所淡化", "理论联系实际能力不足", "工作作风不实"],
        "plans": ["增强宗旨意识"],
    }


def test_extra_aliases_from_config(tmp_path, ledger_cli):
    headers = list(HEADERS)
    headers[2] = "检视剖析"  # no word of it names a role (查摆问题 now reads as 问题描述 by its words)
    path = write_ledger(tmp_path / "x.xlsx", [row(1), row(2, problem="二")], headers)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert run.json()["issues"][0]["code"] == "missing-column"
    config = tmp_path / "c.toml"
    config.write_text(
        '[aliases]\nproblem = ["检视剖析"]\n[statuses]\n"已完成" = ["已落实"]\n', encoding="utf-8"
    )
    rows = [row(1), row(2, problem="二", status="已落实")]
    path = write_ledger(tmp_path / "x2.xlsx", rows, headers)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--config", config, "--json")
    assert run.code == 0 and run.json()["issues"] == []


def test_bad_config_is_a_clear_error(tmp_path, ledger_cli):
    path = write_ledger(tmp_path / "x.xlsx", [row(1)])
    config = tmp_path / "bad.toml"
    config.write_text("dimensions = [1, 2\n", encoding="utf-8")
    run = ledger_cli("validate", path, "--config", config)
    assert run.code == 2 and "配置文件" in run.err and "Traceback" not in run.err
    config.write_text('[aliases]\nnosuch = ["x"]\n', encoding="utf-8")
    run = ledger_cli("validate", path, "--config", config)
    assert run.code == 2 and "nosuch" in run.err


def test_no_ledger_raises(tmp_path):
    import xlsxwriter

    path = tmp_path / "empty.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Sheet1").write(0, 0, "随便写点")
    wb.close()
    with pytest.raises(NoLedgerError, match="没有找到台账表头"):
        read_ledger(path)


def _alias_sets() -> list[dict[str, str]]:
    """Header sets that together use every alias of DESIGN.md's table at least once."""
    from toolkit.config import FIELDS

    width = max(len(f.names) for f in FIELDS)
    return [{f.id: f.names[i % len(f.names)] for f in FIELDS} for i in range(width)]


@pytest.mark.parametrize("names", _alias_sets(), ids=lambda n: n["problem"])
def test_every_alias_is_recognised(tmp_path, ledger_cli, names):
    from toolkit.config import FIELDS

    headers = [names[f.id] for f in FIELDS]
    values = {
        "seq": 1, "source": "巡察", "dimension": "理论学习", "problem": "学习不深", "measures": "加强学习",
        "lead": "王书记", "dept": "党政办", "owner": "张三", "deadline": date(2024, 6, 30), "progress": "已完成",
        "status": "已销号", "completed_on": date(2024, 6, 1), "outcome": "成效明显", "evidence": "记录", "remarks": "",
    }  # fmt: skip
    path = write_ledger(tmp_path / "alias.xlsx", [[values[f.id] for f in FIELDS]], headers)
    ledger = read_ledger(path)
    assert set(ledger.columns) == {f.id for f in FIELDS}
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert run.code == 0 and run.json()["issues"] == [], run.out
