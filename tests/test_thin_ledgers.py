"""Thin ledgers give sensible 通报 text: no 方面, no status, a single item (issue 13, item 4)."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

from docx import Document
from report_ledgers import AS_OF

from toolkit.read import read_ledger
from toolkit.render import ReportOptions, render_document

INFO = [["项目", "内容"], ["单位", "测试街道党工委"], ["年度", "2024"], ["会议", "民主生活会"]]
FULL = ["序号", "方面", "问题描述", "整改措施", "责任部门", "责任人", "整改时限", "完成情况", "完成时间"]
DONE = date(2024, 6, 20)


def item(seq: int, dimension: str, status: str, problem: str = "") -> dict[str, object]:
    return {
        "序号": seq,
        "方面": dimension,
        "问题描述": problem or f"问题{seq}",
        "整改措施": f"措施{seq}",
        "责任部门": "党政办",
        "责任人": "王五",
        "整改时限": date(2024, 6, 30),
        "完成情况": status,
        "完成时间": DONE if status == "已完成" else None,
    }


def write(path: Path, items: list[dict[str, object]], headers: list[str]) -> Path:
    """A ledger with only ``headers`` as its columns (XlsxWriter), and a 通报信息 sheet."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    dated = workbook.add_format({"num_format": "yyyy/m/d"})
    sheet = workbook.add_worksheet("台账")
    sheet.write_row(0, 0, headers)
    for r, values in enumerate(items, start=1):
        for c, header in enumerate(headers):
            value = values.get(header)
            if isinstance(value, date):
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), dated)
            elif value not in (None, ""):
                sheet.write(r, c, value)
    info = workbook.add_worksheet("通报信息")
    for r, row in enumerate(INFO):
        info.write_row(r, 0, row)
    workbook.close()
    return path


def render(path: Path) -> tuple[list[str], int, dict]:
    """(paragraph texts, number of tables, context) of the 通报 rendered from ``path``."""
    ledger = read_ledger(path)
    data, context, _notes = render_document(
        ledger, as_of=date.fromisoformat(AS_OF), options=ReportOptions(chart=False)
    )
    doc = Document(io.BytesIO(data))
    return [p.text for p in doc.paragraphs], len(doc.tables), context


def headings(texts: list[str]) -> list[str]:
    return [t[: t.index("。") + 1] for t in texts if t.startswith("（") and "。" in t]


def test_no_dimension_column_no_unfilled_headings(tmp_path: Path) -> None:
    items = [item(1, "", "已完成"), item(2, "", "正在整改"), item(3, "", "已完成")]
    headers = [h for h in FULL if h != "方面"]
    texts, tables, context = render(write(tmp_path / "台账.xlsx", items, headers))
    body = "\n".join(texts)
    assert "未填写" not in body
    assert headings(texts) == [] and tables == 0
    # the measures of every item still reach the 通报, in one paragraph under the first heading
    first = texts.index("一、对照问题台账，抓好整改落实")
    assert texts[first + 1].startswith("截至2024年12月31日，共梳理问题3个，已完成整改2个，整改完成率66.7%")
    assert "措施1" in texts[first + 2] and "措施2" in texts[first + 2] and "措施3" in texts[first + 2]
    assert texts[first + 3] == "二、存在问题"
    assert context["show_table"] is False and context["dimensions"] == []


def test_blank_dimensions_beside_filled_ones_are_headed_other(tmp_path: Path) -> None:
    items = [item(1, "理论学习", "已完成"), item(2, "作风建设", "已完成"), item(3, "", "正在整改")]
    texts, tables, _context = render(write(tmp_path / "台账.xlsx", items, FULL))
    assert headings(texts) == ["（一）理论学习方面。", "（二）作风建设方面。", "（三）其他方面。"]
    assert tables == 1


def test_no_status_column_says_so_instead_of_a_rate(tmp_path: Path) -> None:
    items = [item(1, "理论学习", ""), item(2, "作风建设", ""), item(3, "作风建设", "")]
    headers = [h for h in FULL if h not in ("完成情况", "完成时间")]
    texts, tables, context = render(write(tmp_path / "台账.xlsx", items, headers))
    body = "\n".join(texts)
    first = texts.index("一、对照问题台账，抓好整改落实")
    assert texts[first + 1] == (
        "截至2024年12月31日，共梳理问题3个，均未注明是否完成整改，无法计算整改完成率。台账未设完成状态列。"
    )
    section_one = "\n".join(texts[first : texts.index("二、存在问题")])
    assert "%" not in body and "已完成整改" not in section_one
    assert headings(texts) == ["（一）理论学习方面。", "（二）作风建设方面。"]
    assert "该方面共梳理问题2个，均未注明是否完成整改，无法计算整改完成率。" in body
    assert tables == 0 and context["has_status"] is False
    assert "对台账所列3个问题逐项核实整改完成情况，补记完成状态" in body
    assert "回头看" not in body  # nothing is known to be done: nothing to look back on


def test_blank_statuses_say_so_and_partly_blank_ones_how_many(tmp_path: Path) -> None:
    blank = [item(1, "理论学习", ""), item(2, "作风建设", "")]
    texts, tables, context = render(write(tmp_path / "空.xlsx", blank, FULL))
    first = texts.index("一、对照问题台账，抓好整改落实")
    assert texts[first + 1] == "截至2024年12月31日，共梳理问题2个，均未注明是否完成整改，无法计算整改完成率。"
    assert tables == 0 and context["has_status"] is False
    assert "该方面共梳理问题1个，均未注明是否完成整改" in "\n".join(texts)
    some = [item(1, "理论学习", "已完成"), item(2, "作风建设", ""), item(3, "作风建设", "已完成")]
    texts, tables, context = render(write(tmp_path / "部分.xlsx", some, FULL))
    first = texts.index("一、对照问题台账，抓好整改落实")
    assert "其中1个问题的完成状态未填写，无法判断是否完成整改，按未完成计。" in texts[first + 1]
    assert tables == 1 and context["has_status"] is True


def test_one_item_no_table_of_one_row(tmp_path: Path) -> None:
    texts, tables, context = render(write(tmp_path / "台账.xlsx", [item(1, "理论学习", "已完成")], FULL))
    assert tables == 0 and context["show_table"] is False
    first = texts.index("一、对照问题台账，抓好整改落实")
    assert texts[first + 1] == "截至2024年12月31日，共梳理问题1个，已完成整改1个，整改完成率100.0%。"
    assert "见下表" not in "\n".join(texts)
    assert headings(texts) == ["（一）理论学习方面。"]
