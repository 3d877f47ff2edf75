"""The district 通报 across units: wording from real workbooks, rendered .docx read back."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from filemakers import soffice_convert
from unit_workbooks import write_broken, write_unit_ledger

from toolkit.district import (
    DistrictOptions,
    district_context,
    district_document_context,
    render_district_report,
    write_district_template,
)
from toolkit.errors import OutputError, TemplateError

AS_OF = date(2024, 12, 1)
OPTIONS = DistrictOptions(issuer="某某区委组织部", meeting="民主生活会", date=date(2024, 12, 5), jobs=1)


@pytest.fixture(scope="module")
def units_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("district")
    write_unit_ledger(d / "01甲.xlsx", unit="甲街道", done=17, total=17)
    write_unit_ledger(d / "02乙.xlsx", unit="乙街道", done=12, total=17, overdue=3)
    write_unit_ledger(d / "03丙社区.xlsx", unit="丙社区", done=9, total=10, overdue=1)
    write_broken(d / "04丁.xlsx")
    return d


def test_document_context_wording(units_dir):
    data = district_context([units_dir], AS_OF, jobs=1)
    ctx = district_document_context(data, OPTIONS)
    assert ctx["title"] == "关于各单位民主生活会整改落实情况的通报"
    assert ctx["date"] == "2024年12月5日" and ctx["as_of"] == "2024年12月1日"
    assert ctx["signature"] == "某某区委组织部"
    assert ctx["ranking_text"] == (
        "从各单位整改完成率看，完成率达到100%的单位1个（甲街道）；低于80%的单位1个（乙街道）。各单位整改情况见下表。"
    )
    assert [(r["rank"], r["name"], r["rate"]) for r in ctx["ranking"]] == [
        (1, "甲街道", "100.0%"),
        (2, "丙社区", "90.0%"),
        (3, "乙街道", "70.6%"),
    ]
    assert ctx["total"] == {"total": 44, "completed": 38, "overdue": 4, "rate": "86.4%"}
    assert [d["heading"] for d in ctx["lagging"]] == ["（一）作风建设方面。", "（二）理论学习方面。"]
    assert ctx["lagging"][0]["text"] == (
        "涉及3个单位，共有问题11个，已完成9个，完成率81.8%，低于整体完成率86.4%，其中超期未完成2个。"
    )
    assert ctx["lagging_none"] == ""
    assert [u["heading"] for u in ctx["overdue_units"]] == ["（一）乙街道（3个）。", "（二）丙社区（1个）。"]
    assert ctx["overdue_units"][1]["text"] == (
        "1.作风建设方面问题10：学习研讨不够深入，联系实际不够紧密（组织科，整改时限2024年6月30日）。"
    )
    assert (
        ctx["failures_text"] == "另有1份台账未能读取（04丁.xlsx），未计入以上统计，请相关单位核对后重新报送。"
    )
    assert ctx["plans_text"].startswith("一是完成率低于80%的1个单位要逐项分析原因")
    assert "二是对4个超期未完成问题" in ctx["plans_text"]


def test_render_district_report_docx(units_dir, tmp_path):
    import docx

    out = tmp_path / "区级通报.docx"
    result = render_district_report([units_dir], as_of=AS_OF, out=out, options=OPTIONS)
    assert result.path == out and result.units == 3 and result.exit_code == 1
    assert [f["file"] for f in result.failures] == ["04丁.xlsx"]
    document = docx.Document(str(out))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs if p.text.strip()]
    assert paragraphs[0] == ("公文标题", "关于各单位民主生活会整改落实情况的通报")
    headings = [text for style, text in paragraphs if style == "一级标题"]
    assert headings == [
        "一、总体情况",
        "二、各单位整改完成情况",
        "三、整改相对滞后的方面",
        "四、超期未完成问题",
        "五、下一步工作要求",
    ]
    assert paragraphs[-2:] == [("落款", "某某区委组织部"), ("成文日期", "2024年12月5日")]
    table = document.tables[0]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows == [
        ["排名", "单位", "问题数", "已完成", "超期", "完成率"],
        ["1", "甲街道", "17", "17", "0", "100.0%"],
        ["2", "丙社区", "10", "9", "1", "90.0%"],
        ["3", "乙街道", "17", "12", "3", "70.6%"],
        ["合计", "", "44", "38", "4", "86.4%"],
    ]
    text = "\n".join(t for _s, t in paragraphs)
    assert "（一）乙街道（3个）。1.理论学习方面问题13" in text
    assert "{{" not in text and "{%" not in text
    # no Jinja left anywhere; East Asian fonts set through the shared styles
    assert document.styles["公文标题"].element.xpath(".//w:rFonts/@w:eastAsia")


def test_render_refuses_unknown_variables_in_a_user_template(units_dir, tmp_path):
    import docx

    template = tmp_path / "模板.docx"
    document = docx.Document()
    document.add_paragraph("{{ title }}{{ 不存在的变量 }}")
    document.save(str(template))
    with pytest.raises(TemplateError, match="不存在的变量"):
        render_district_report(
            [units_dir], as_of=AS_OF, out=tmp_path / "x.docx", template=template, options=OPTIONS
        )
    assert not (tmp_path / "x.docx").exists()


def test_saved_district_template_renders_the_same(units_dir, tmp_path):
    import docx

    template = write_district_template(tmp_path / "区级模板.docx")
    with pytest.raises(OutputError):
        write_district_template(template)
    out = render_district_report(
        [units_dir], as_of=AS_OF, out=tmp_path / "a.docx", template=template, options=OPTIONS
    ).path
    assert docx.Document(str(out)).tables[0].rows[1].cells[1].text == "甲街道"


@pytest.mark.office
def test_district_report_converts_to_pdf(units_dir, tmp_path):
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        pytest.skip("soffice/pdftotext not installed")
    out = render_district_report([units_dir], as_of=AS_OF, out=tmp_path / "通报.docx", options=OPTIONS).path
    soffice_convert(out, "pdf", tmp_path)
    text = subprocess.run(
        ["pdftotext", "-layout", tmp_path / "通报.pdf", "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "关于各单位民主生活会整改落实情况的通报" in text
    assert "86.4%" in text
    assert re.search(r"—\s*1\s*—", text) and re.search(r"—\s*2\s*—", text)  # page numbers


def test_cli_report_dir_writes_the_district_report(units_dir, tmp_path, ledger_cli):
    import docx

    out = tmp_path / "区级.docx"
    args = ["--as-of", "2024-12-01", "--unit", "某某区委组织部", "--meeting", "民主生活会", "--no-chart"]
    run = ledger_cli("report", units_dir, "-o", out, *args)
    assert run.code == 1, run.err  # one unit's file could not be read
    assert run.out.strip() == f"已生成区级通报（3 个单位）：{out}"
    assert "未能读取“04丁.xlsx”" in run.err
    document = docx.Document(str(out))
    assert document.paragraphs[0].text == "关于各单位民主生活会整改落实情况的通报"
    assert [c.text for c in document.tables[0].rows[-1].cells] == ["合计", "", "44", "38", "4", "86.4%"]
    # the saved district template works with -t
    template = tmp_path / "区级模板.docx"
    assert ledger_cli("template", template, "--district").code == 0
    again = ledger_cli("report", units_dir, "-o", tmp_path / "b.docx", "-t", template, *args)
    assert again.code == 1 and (tmp_path / "b.docx").exists()
    # options that only make sense for one ledger are refused
    wrong = ledger_cli("report", units_dir, "--annex", "--sheet", "台账")
    assert wrong.code == 2 and "--sheet、--annex" in wrong.err


def test_cli_report_of_one_ledger_records_history(tmp_path, ledger_cli):
    from toolkit.history import load_history

    wb = write_unit_ledger(tmp_path / "台账.xlsx", unit="甲街道", done=12, total=17, overdue=3)
    run = ledger_cli("report", wb, "--as-of", "2024-12-01", "--no-chart")
    assert run.code == 0, run.err
    [snap] = load_history(wb)
    assert (snap.command, snap.as_of, snap.total, snap.completed) == ("report", AS_OF, 17, 12)
    assert ledger_cli("report", wb, "--as-of", "2024-12-02", "--no-chart", "--no-history").code == 0
    assert len(load_history(wb)) == 1
