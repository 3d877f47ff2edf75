"""ledger report end to end: real workbooks in, the .docx read back with python-docx."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from report_ledgers import AS_OF, DIMENSIONS, INFO, ROWS, write_report_ledger

from toolkit.read import read_ledger
from toolkit.render import context as ctx
from toolkit.stats import format_rate, ledger_stats

TITLE = "测试街道党工委关于2024年度民主生活会查摆问题整改落实情况的通报"


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return write_report_ledger(tmp_path / "台账.xlsx", info=INFO)


@pytest.fixture
def rendered(ledger_path: Path, ledger_cli) -> Path:
    run = ledger_cli("report", ledger_path, "--as-of", AS_OF)
    assert run.code == 0, run.err
    out = ledger_path.with_name(f"{TITLE}.docx")
    assert str(out) in run.out
    return out


def styled(doc, style: str) -> list[str]:
    return [p.text for p in doc.paragraphs if p.style.name == style]


def east_asia(style) -> str | None:
    fonts = style.element.find(qn("w:rPr")).find(qn("w:rFonts"))
    return fonts.get(qn("w:eastAsia"))


def subsections(doc) -> list[str]:
    out = []
    for p in doc.paragraphs:
        if p.runs and p.runs[0].style is not None and p.runs[0].style.name == "楷体小标题":
            out.append(p.runs[0].text)
    return out


# ---------------------------------------------------------------- structure and numbers


def test_structure_follows_the_reference_tongbao(rendered: Path) -> None:
    doc = Document(str(rendered))
    assert [t.replace("\n", "") for t in styled(doc, "公文标题")] == [TITLE]
    assert styled(doc, "一级标题") == ["一、对照问题台账，抓好整改落实", "二、存在问题", "三、下一步打算"]
    assert subsections(doc) == [f"（{n}）{d}方面。" for n, d in zip("一二三四五", DIMENSIONS, strict=True)]
    texts = [p.text for p in doc.paragraphs]
    opening = texts[texts.index(styled(doc, "公文标题")[0]) + 2]
    assert opening.startswith("2024年度民主生活会召开以后，测试街道党工委领导班子主动反思")
    # headings come in this order, with the sub-sections between 一、 and 二、
    order = [texts.index(h) for h in styled(doc, "一级标题")]
    first_sub = next(i for i, t in enumerate(texts) if t.startswith("（一）"))
    assert order[0] < first_sub < order[1] < order[2]
    assert styled(doc, "落款") == ["测试街道党工委"]
    assert styled(doc, "成文日期") == ["2025年1月10日"]


def test_numbers_equal_the_stats_of_the_same_ledger(rendered: Path, ledger_path: Path) -> None:
    stats = ledger_stats(read_ledger(ledger_path), date.fromisoformat(AS_OF))
    doc = Document(str(rendered))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "共梳理问题17个，已完成整改12个，整改完成率70.6%；长期坚持3个，正在推进2个" in text
    table = doc.tables[0]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == ["方面", "问题数", "已完成", "长期坚持", "正在推进", "完成率"]
    expected = [
        [g.name, str(g.total), str(g.completed), str(g.long_term), str(g.pending), format_rate(g.rate)]
        for g in [*stats.groups, stats.total]
    ]
    expected[-1][0] = "合计"
    assert rows[1:] == expected
    assert [r[0] for r in rows[1:-1]] == DIMENSIONS
    # per-dimension sentence
    g = stats.group("从严治党")
    assert f"该方面共梳理问题{g.total}个，已完成整改{g.completed}个，整改完成率{format_rate(g.rate)}" in text


def test_prose_is_written_from_measures_and_outcomes(rendered: Path) -> None:
    doc = Document(str(rendered))
    paragraph = next(p.text for p in doc.paragraphs if p.text.startswith("（一）政治建设方面。"))
    assert "建立“第一议题”制度；开展专题研讨，班子成员政治判断力明显提升。" in paragraph
    assert "梳理请示报告事项清单；建立登记台账，形成事项清单23项。" in paragraph
    assert "1." not in paragraph and "一是" not in paragraph and "2." not in paragraph
    text = "\n".join(p.text for p in doc.paragraphs)
    # ledger text with XML metacharacters comes out literally
    assert "制定学习计划 & 落实 <每周> 学习制度，集中学习22次，“学用结合”明显增强。" in text


def test_problems_facts_and_plans(rendered: Path) -> None:
    doc = Document(str(rendered))
    texts = [p.text for p in doc.paragraphs]
    start = texts.index("二、存在问题")
    assert texts[start + 1] == "一是理论武装还不够深入。二是整改推进还不够平衡。"
    facts = texts[start + 2]
    assert "尚有5个问题未完成整改，其中长期坚持3个、正在推进2个" in facts
    assert "已超过整改时限仍未完成的问题1个，涉及城建办（1个）" in facts
    plans = texts[texts.index("三、下一步打算") + 1]
    assert (
        plans
        == "测试街道党工委将继续采取有力措施，确保整改取得实效。一是持续深化理论武装。二是紧盯未完成事项。"
    )


def test_chart_is_an_inline_native_chart(rendered: Path) -> None:
    doc = Document(str(rendered))
    assert len(doc.inline_shapes) == 1
    with zipfile.ZipFile(rendered) as zf:
        names = zf.namelist()
    # no picture but a chart part (read back in tests/test_chart.py)
    assert [n for n in names if n.startswith("word/media/")] == []
    assert "word/charts/chart1.xml" in names and "word/embeddings/Microsoft_Excel_Worksheet1.xlsx" in names


# ---------------------------------------------------------------- GB/T 9704 format


def test_page_setup_and_fonts(rendered: Path) -> None:
    doc = Document(str(rendered))
    section = doc.sections[0]
    for actual, mm in (
        (section.page_width, 210),
        (section.page_height, 297),
        (section.top_margin, 37),
        (section.bottom_margin, 35),
        (section.left_margin, 28),
        (section.right_margin, 26),
    ):
        assert abs(actual - Mm(mm)) < Mm(0.1)
    styles = doc.styles
    assert east_asia(styles["Normal"]) == "仿宋_GB2312"
    assert east_asia(styles["公文标题"]) == "方正小标宋简体"
    assert east_asia(styles["一级标题"]) == "黑体"
    assert east_asia(styles["楷体小标题"]) == "楷体_GB2312"
    assert styles["Normal"].font.size.pt == 16
    assert styles["公文标题"].font.size.pt == 22
    normal_ppr = styles["Normal"].element.find(qn("w:pPr"))
    assert normal_ppr.find(qn("w:ind")).get(qn("w:firstLineChars")) == "200"
    spacing = normal_ppr.find(qn("w:spacing"))
    assert (spacing.get(qn("w:line")), spacing.get(qn("w:lineRule"))) == ("578", "exact")
    # 28 characters a line from the text width, not from a Word-only character grid
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid is None or grid.get(qn("w:type")) in (None, "default", "lines")
    run_spacing = styles["Normal"].element.find(qn("w:rPr")).find(qn("w:spacing"))
    assert int(run_spacing.get(qn("w:val"))) * 28 / 20 + 16 * 28 <= 156 / 25.4 * 72


def test_odd_and_even_footers_carry_page_fields(rendered: Path) -> None:
    doc = Document(str(rendered))
    assert doc.settings.odd_and_even_pages_header_footer
    section = doc.sections[0]
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        p = footer.paragraphs[0]
        assert p.text == "— 1 —"
        assert p._p.pPr.find(qn("w:jc")).get(qn("w:val")) == align
        instr = [t.text for t in p._p.iter(qn("w:instrText"))]
        assert instr == [" PAGE "]
        fonts = p.runs[0]._r.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) == "宋体"
        assert p.runs[0].font.size.pt == 14


def test_signature_placed_by_gb9704_rule(rendered: Path) -> None:
    doc = Document(str(rendered))
    sig = next(p for p in doc.paragraphs if p.style.name == "落款")
    day = next(p for p in doc.paragraphs if p.style.name == "成文日期")
    sig_right = int(sig._p.pPr.find(qn("w:ind")).get(qn("w:rightChars")))
    day_right = int(day._p.pPr.find(qn("w:ind")).get(qn("w:rightChars")))
    # “2025年1月10日” is 6.5 characters wide (digits are half), the signature 7: the date keeps two
    # characters on its right and starts two characters right of the signature's first character
    assert day_right == 200
    assert sig_right == 350  # 350 + 700 = 200 + 650 + 200


# ---------------------------------------------------------------- options and sources


def test_annex_lists_every_item(ledger_path: Path, ledger_cli, tmp_path: Path) -> None:
    out = tmp_path / "带附件.docx"
    run = ledger_cli("report", ledger_path, "--as-of", AS_OF, "--annex", "-o", out)
    assert run.code == 0, run.err
    doc = Document(str(out))
    annex = doc.tables[1]
    assert [c.text for c in annex.rows[0].cells][:3] == ["序号", "方面", "问题描述"]
    assert len(annex.rows) == 1 + len(ROWS)
    assert annex.rows[4].cells[2].text == "学习不够深入 & <系统>"
    assert annex.rows[6].cells[6].text == "已销号"
    assert "附件：整改台账明细" in [p.text for p in doc.paragraphs]


def test_cli_options_fill_in_when_the_workbook_has_no_info_sheet(tmp_path: Path, ledger_cli) -> None:
    path = write_report_ledger(tmp_path / "台账.xlsx", title=None)
    out = tmp_path / "out.docx"
    run = ledger_cli("report", path, "--as-of", AS_OF, "--unit", "某社区党委", "--year", "2023",
                     "--meeting", "巡察反馈问题", "--date", "2025-02-03", "-o", out, "--no-chart")  # fmt: skip
    assert run.code == 0, run.err
    doc = Document(str(out))
    # a 巡察 is not 召开: the meeting name makes the kind, its feedback words are the title's own
    assert styled(doc, "公文标题")[0].replace("\n", "") == "某社区党委关于巡察反馈问题整改落实情况的通报"
    assert styled(doc, "成文日期") == ["2025年2月3日"]
    assert len(doc.inline_shapes) == 0
    # no 存在问题 given: only the facts; no 下一步打算 given: data-aware defaults
    texts = [p.text for p in doc.paragraphs]
    assert texts[texts.index("二、存在问题") + 1].startswith("从台账情况看，截至2024年12月31日")
    # the last points are a paragraph of their own, kept with the 落款 (issue 13): read up to it
    plans = "".join(texts[texts.index("三、下一步打算") + 1 : texts.index("某社区党委")])
    assert "一是对尚未完成整改的2个问题" in plans and "长期坚持的3个问题" in plans


def test_info_sheet_wins_over_options_and_says_so(ledger_path: Path, ledger_cli, tmp_path: Path) -> None:
    out = tmp_path / "out.docx"
    run = ledger_cli("report", ledger_path, "--as-of", AS_OF, "--unit", "别的单位", "-o", out)
    assert run.code == 0
    assert "通报信息表已填写单位“测试街道党工委”" in run.err
    assert styled(Document(str(out)), "落款") == ["测试街道党工委"]


def test_ledger_with_errors_is_refused_unless_allowed(tmp_path: Path, ledger_cli) -> None:
    rows = [list(r) for r in ROWS]
    rows[3][9] = "已完城"  # misspelt status → unknown-status error
    path = write_report_ledger(tmp_path / "台账.xlsx", rows, info=INFO)
    run = ledger_cli("report", path, "--as-of", AS_OF)
    assert run.code == 1
    assert "已完城" in run.err and "未生成通报" in run.err
    assert list(tmp_path.glob("*.docx")) == []
    run = ledger_cli("report", path, "--as-of", AS_OF, "--allow-errors")
    assert run.code == 0, run.err
    assert len(list(tmp_path.glob("*.docx"))) == 1


def test_rerun_keeps_a_backup_and_refuses_an_open_file(rendered: Path, ledger_path: Path, ledger_cli) -> None:
    before = rendered.read_bytes()
    run = ledger_cli("report", ledger_path, "--as-of", AS_OF)
    assert run.code == 0
    assert rendered.with_name(f"{rendered.stem}.bak.docx").read_bytes() == before
    lock = rendered.with_name("~$" + rendered.name[2:])
    lock.write_bytes(b"lock")
    run = ledger_cli("report", ledger_path, "--as-of", AS_OF)
    assert run.code == 2 and "正在 Word 或 WPS 中打开" in run.err


def test_template_command_writes_the_default_and_refuses_overwrite(tmp_path: Path, ledger_cli) -> None:
    target = tmp_path / "模板.docx"
    assert ledger_cli("template", target).code == 0
    doc = Document(str(target))
    assert styled(doc, "公文标题") == ["{{ title_display }}"]
    run = ledger_cli("template", target)
    assert run.code == 2 and "--force" in run.err
    assert ledger_cli("template", target, "--force").code == 0


def test_edited_template_is_used(tmp_path: Path, ledger_path: Path, ledger_cli) -> None:
    template = tmp_path / "我的模板.docx"
    ledger_cli("template", template)
    doc = Document(str(template))
    doc.paragraphs[0].insert_paragraph_before("某某办公室文件 {{ year }}-{{ total.rate }}")
    doc.save(str(template))
    out = tmp_path / "out.docx"
    run = ledger_cli("report", ledger_path, "--as-of", AS_OF, "-t", template, "-o", out)
    assert run.code == 0, run.err
    assert Document(str(out)).paragraphs[0].text == "某某办公室文件 2024-70.6%"


def test_pdf_without_libreoffice_says_how_to_install(
    rendered: Path, ledger_path: Path, tmp_path: Path
) -> None:
    import os
    import sys

    from conftest import ROOT

    env = {"PATH": str(tmp_path), "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8", "HOME": str(tmp_path)}
    for key in ("SYSTEMROOT", "PYENV_ROOT", "LANG"):
        if key in os.environ:
            env[key] = os.environ[key]
    if os.path.exists("/Applications/LibreOffice.app") or os.path.exists(r"C:\Program Files\LibreOffice"):
        pytest.skip("LibreOffice is installed in a fixed location here")
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", "report", str(ledger_path), "--as-of", AS_OF, "--pdf"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "未找到 LibreOffice" in proc.stderr and "apt-get install" in proc.stderr


# ---------------------------------------------------------------- the pieces


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.建立制度；2.开展研讨。", ["建立制度", "开展研讨"]),
        ("一是加强学习，二是建立台账", ["加强学习", "建立台账"]),
        ("（一）开展调研\n（二）撰写报告", ["开展调研", "撰写报告"]),
        ("①排查 ②整改", ["排查 ②整改"]),
        ("提高到1.5万元", ["提高到1.5万元"]),
        ("  ", []),
        ("完成 整改\x0b任务", ["完成整改", "任务"]),
    ],
)
def test_clauses(text: str, expected: list[str]) -> None:
    assert ctx.clauses(text.replace("\x0b", "\n")) == expected


def test_small_helpers() -> None:
    assert [ctx.chinese_number(n) for n in (1, 10, 11, 20, 23, 99, 100)] == [
        "一", "十", "十一", "二十", "二十三", "九十九", "100"]  # fmt: skip
    assert ctx.format_cn_date("2024-12-31") == "2024年12月31日"
    assert ctx.format_cn_date("2024.1.5") == "2024年1月5日"
    assert ctx.format_cn_date(date(2025, 1, 15)) == "2025年1月15日"
    assert ctx.format_cn_date("元旦前") == "元旦前"
    assert ctx.heading_for(2, "理论学习方面") == "（二）理论学习方面。"
    assert ctx.enumerate_points(["1.甲；", "二是乙"]) == "一是甲。二是乙。"
    assert ctx.parse_title("党工委2024年度民主生活会整改台账") == {
        "unit": "党工委", "year": "2024", "meeting": "民主生活会", "kind": "democratic_life"}  # fmt: skip
    assert ctx.title_display("某街道党工委关于2024年度民主生活会查摆问题整改落实情况的通报") == (
        "某街道党工委关于2024年度民主生活会\n查摆问题整改落实情况的通报"
    )


# ---------------------------------------------------------------- LibreOffice: the layout holds there too

SAMPLE = Path(__file__).resolve().parents[1] / "workbooks" / "示例台账.xlsx"


@pytest.mark.office
def test_pdf_layout_in_libreoffice(tmp_path: Path, ledger_cli) -> None:
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or poppler not installed")
    path = tmp_path / "示例台账.xlsx"
    shutil.copy(SAMPLE, path)
    out = tmp_path / "通报.docx"
    run = ledger_cli(
        "report", path, "--as-of", "2024-12-31", "--allow-errors", "-o", out, "--pdf", timeout=300
    )
    assert run.code == 0, run.err
    pdf = out.with_suffix(".pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 3
    body_lengths: list[int] = []
    lines_per_page: list[int] = []
    for number, page in enumerate(pages, start=1):
        lines = [line for line in page.splitlines() if line.strip()]
        footer = lines[-1]
        match = re.fullmatch(r"(\s*)—\s*(\d+)\s*—\s*", footer)
        assert match, f"page {number} ends with {footer!r}"
        assert int(match.group(2)) == number
        indent, width = len(match.group(1)), max(len(line) for line in lines)
        if number % 2:
            assert indent > width / 2, "odd page numbers sit on the right"
        else:
            assert indent < width / 4, "even page numbers sit on the left"
        lines_per_page.append(len(lines) - 1)
        for line in lines[:-1]:
            stripped = line.strip()
            if re.fullmatch(r"[\u4e00-\u9fff，。；、：“”（）]+", stripped):
                body_lengths.append(len(stripped))
    # full body lines hold 28 characters; full pages hold 22 lines
    assert max(set(body_lengths), key=body_lengths.count) == 28
    assert max(lines_per_page) == 22
    assert sum(1 for n in lines_per_page if n >= 21) >= 3


def test_rate_decimals_come_from_the_config(ledger_path: Path, ledger_cli, tmp_path: Path) -> None:
    config = tmp_path / "配置.toml"
    config.write_text("rate_decimals = 2\n", encoding="utf-8")
    out = tmp_path / "out.docx"
    run = ledger_cli("report", ledger_path, "--as-of", AS_OF, "--config", config, "-o", out, "--no-chart")
    assert run.code == 0, run.err
    doc = Document(str(out))
    assert "整改完成率70.59%" in "\n".join(p.text for p in doc.paragraphs)
    assert doc.tables[0].rows[-1].cells[-1].text == "70.59%"


def test_report_file_is_readable_by_others(tmp_path, ledger_cli):
    """mkstemp files are private; a 通报 on a shared folder must get the usual permissions."""
    import os
    import stat

    ledger = write_report_ledger(tmp_path / "台账.xlsx", info=INFO)
    old = os.umask(0o022)
    try:
        run = ledger_cli("report", ledger, "--as-of", AS_OF, "-o", tmp_path / "通报.docx", "--no-history")
    finally:
        os.umask(old)
    assert run.code == 0, run.err
    assert stat.S_IMODE((tmp_path / "通报.docx").stat().st_mode) == 0o644
