"""Layout of the 通报: table widths from their content, and the pages LibreOffice lays out (issue 13, item 2).

The PDF checks read word positions (pdftotext -bbox) on the seed-shaped ledger (five 方面 named as long as
the headings of the real 通报 the sample follows) and the 33-row sample: no page before the last is more
than half empty, the 落款 shares its page with body text, the annex starts on a page of its own with 附件 in the top
left corner and its title centred on the third line (GB/T 9704-2012 8.2).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from filemakers import soffice_convert_all
from report_ledgers import AS_OF, INFO, SEED_DIMENSIONS, SEED_ROWS, write_report_ledger

from toolkit.render.layout import body_lines, fit_widths, row_lines, tail_split

SAMPLE = Path(__file__).resolve().parents[1] / "workbooks" / "示例台账.xlsx"

SUMMARY_HEADERS = ["方面", "问题数", "已完成", "长期坚持", "正在推进", "完成率"]


def grid(table) -> list[int]:
    return [int(col.get(qn("w:w"))) for col in table._tbl.tblGrid.findall(qn("w:gridCol"))]


# ---------------------------------------------------------------- widths from the cells


def test_long_dimension_names_take_what_the_numbers_do_not_need() -> None:
    rows = [[name, "3", "2", "1", "0", "66.7%"] for name in SEED_DIMENSIONS] + [
        ["合计", "17", "12", "3", "2", "70.6%"]
    ]
    widths = fit_widths(SUMMARY_HEADERS, rows, 29.0)
    assert round(sum(widths), 6) == 29.0
    # numbers on one line, the four-character headers in two (长期⏎坚持), everything else to 方面
    assert [round(w, 1) for w in widths[1:]] == [3.4, 3.4, 2.4, 2.4, 3.4]
    assert widths[0] > 13.5
    # rows of 7 to 12 lines with the template's 30% 方面 column; 4 to 8 now, 29 lines instead of 45
    lines = [row_lines(row, widths) for row in rows[:-1]]
    before = [row_lines(row, [9.02, 4, 4, 4, 4, 4]) for row in rows[:-1]]
    assert (lines, before) == ([5, 4, 7, 5, 8], [8, 7, 10, 8, 12])


def test_short_names_leave_the_space_shared_evenly() -> None:
    rows = [["政治建设", "3", "3", "0", "0", "100.0%"], ["合计", "3", "3", "0", "0", "100.0%"]]
    widths = fit_widths(SUMMARY_HEADERS, rows, 29.0)
    full = [4, 3, 3, 4, 4, 3]  # 100.0% is 3 characters wide, as its header
    surplus = (29 - sum(full) - 6 * 0.4) / 6
    assert [round(w - f, 6) for w, f in zip(widths, full, strict=True)] == [round(0.4 + surplus, 6)] * 6


def test_annex_keeps_dates_and_short_words_whole() -> None:
    headers = ["序号", "方面", "问题描述", "整改措施", "责任部门", "整改时限", "完成状态"]
    rows = [
        [str(n), "理论学习和政治能力", "问题" * 40, "措施" * 60, dept, "2024-06-30", status]
        for n, (dept, status) in enumerate(
            [("党政办", "已完成"), ("城市管理办", "正在整改"), ("组织办", "长期坚持")] * 4, start=1
        )
    ]
    widths = fit_widths(headers, rows, 38.0)
    assert round(sum(widths), 6) == 38.0
    assert widths[5] >= 5.4 and widths[4] >= 5.4 and widths[6] >= 4.4  # 2024-06-30, 城市管理办, 正在整改
    assert widths[3] > widths[2] > widths[1]  # the longest texts get the most


def test_rendered_tables_get_widths_from_their_cells(tmp_path: Path, ledger_cli) -> None:
    ledger = write_report_ledger(tmp_path / "台账.xlsx", SEED_ROWS, info=INFO)
    out = tmp_path / "通报.docx"
    run = ledger_cli("report", ledger, "--as-of", AS_OF, "-o", out, "--annex", "--no-chart", "--no-history")
    assert run.code == 0, run.err
    summary, annex = Document(str(out)).tables
    widths = grid(summary)
    assert sum(widths) == 8845  # the type area's 156 mm
    assert widths[0] > 0.44 * 8845 and widths[3] < widths[1]  # 长期坚持 wraps, 方面 takes the rest
    assert sum(grid(annex)) == 8845 and grid(annex) != [520, 1000, 2040, 2185, 960, 1180, 960]
    # the cells carry the grid's widths (Word reads them, LibreOffice the grid)
    cells = [int(c._tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))) for c in summary.rows[1].cells]
    assert cells == widths


def test_a_long_last_paragraph_keeps_only_its_last_points_with_the_signature() -> None:
    points = "某街道党工委将继续采取有力措施，确保整改取得实效。" + "".join(
        f"{n}是紧盯未完成事项，逐项明确时间表、路线图，实行挂账督办、对账销号，确保按期全部整改到位。"
        for n in "一二三四"
    )
    at = tail_split(points)
    assert points[at:].startswith("三是") and body_lines(points[at:]) <= 4
    assert tail_split("一是紧盯未完成事项，确保按期全部整改到位。") is None  # short: kept whole
    one_sentence = "持续巩固整改成果，健全完善长效机制" * 12 + "。"
    assert body_lines(one_sentence[tail_split(one_sentence) :]) <= 4
    assert tail_split("整" * 200) is None  # nowhere to break: left alone


def test_rendered_plans_split_before_the_last_points(tmp_path: Path, ledger_cli) -> None:
    ledger = write_report_ledger(tmp_path / "台账.xlsx", info=[*INFO[:5]])
    out = tmp_path / "通报.docx"
    run = ledger_cli("report", ledger, "--as-of", AS_OF, "-o", out, "--no-chart", "--no-history")
    assert run.code == 0, run.err
    doc = Document(str(out))
    at = next(i for i, p in enumerate(doc.paragraphs) if p.text == "三、下一步打算")
    head, tail = doc.paragraphs[at + 1], doc.paragraphs[at + 2]
    assert head.text.startswith("测试街道党工委将继续采取有力措施") and head.style.name == "Normal"
    assert tail.text.startswith("三是") and tail.style.name == "正文末段"  # kept with the 落款


# ---------------------------------------------------------------- pages as LibreOffice lays them out

TYPE_TOP, TYPE_BOTTOM = 37 / 25.4 * 72, (297 - 35) / 25.4 * 72  # GB/T 9704 type area, points
LEFT_EDGE = 28 / 25.4 * 72


@dataclass
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


def pdf_pages(pdf: Path) -> list[list[Word]]:
    """Each page's words inside the type area (the page number below it left out)."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True)
    pages = []
    for page in html.stdout.split("<page ")[1:]:
        words = [
            Word(m.group(5), *(float(m.group(i)) for i in range(1, 5)))
            for m in re.finditer(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page
            )
        ]
        pages.append([w for w in words if w.y1 <= TYPE_BOTTOM + 2])
    return pages


def filled(words: list[Word]) -> float:
    """How far down the type area the page's text reaches (0 empty, 1 full)."""
    lowest = max((w.y1 for w in words), default=TYPE_TOP)
    return (lowest - TYPE_TOP) / (TYPE_BOTTOM - TYPE_TOP)


def lines_of(words: list[Word]) -> list[str]:
    rows: dict[int, list[Word]] = {}
    for w in words:
        rows.setdefault(round(w.y0), []).append(w)
    return ["".join(w.text for w in sorted(row, key=lambda w: w.x0)) for _y, row in sorted(rows.items())]


def render_pdf(ledger: Path, out: Path, ledger_cli, *extra: str) -> list[list[Word]]:
    run = ledger_cli("report", ledger, "--as-of", "2024-12-31", "--allow-errors", "--no-history",
                     "-o", out, "--pdf", *extra, timeout=300)  # fmt: skip
    assert run.code == 0, run.err
    return pdf_pages(out.with_suffix(".pdf"))


def check_pages(pages: list[list[Word]], signature: str, date_text: str) -> None:
    """No page before the last half empty; the 落款 on a page with body text."""
    assert len(pages) >= 2
    fill = [round(filled(words), 2) for words in pages]
    assert all(f >= 0.5 for f in fill[:-1]), fill
    [at] = [n for n, words in enumerate(pages) if signature in lines_of(words)]
    lines = lines_of(pages[at])
    assert date_text in lines
    body = [line for line in lines if line not in (signature, date_text) and len(line) >= 10]
    assert body, f"the 落款 stands alone on page {at + 1}: {lines}"


def office_tools() -> None:
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or poppler not installed")


@pytest.mark.office
def test_seed_shaped_ledger_pages(tmp_path: Path, ledger_cli) -> None:
    office_tools()
    ledger = write_report_ledger(tmp_path / "台账.xlsx", SEED_ROWS, info=INFO)
    pages = render_pdf(ledger, tmp_path / "通报.docx", ledger_cli)
    check_pages(pages, "测试街道党工委", "2025年1月10日")
    # the summary table: no row taller than six lines of its text (seven and more with a 30% 方面 column)
    assert len(pages) <= 5


@pytest.mark.office
def test_sample_pages_with_the_annex(tmp_path: Path, ledger_cli) -> None:
    office_tools()
    path = tmp_path / "示例台账.xlsx"
    shutil.copy(SAMPLE, path)
    pages = render_pdf(path, tmp_path / "通报.docx", ledger_cli, "--annex")
    [first] = [n for n, words in enumerate(pages) if lines_of(words)[:1] == ["附件"]]
    check_pages(pages[:first], "某街道党工委", "2024年12月31日")
    body_pages, annex_pages = pages[:first], pages[first:]
    assert "附件：整改台账明细" in lines_of(body_pages[-1])
    # GB/T 9704 8.2: 附件 top left on the first line, the title centred on the third (lines 28.9 pt apart)
    mark = next(w for w in annex_pages[0] if w.text == "附件")
    title = next(w for w in annex_pages[0] if w.text == "整改台账明细")
    assert abs(mark.x0 - LEFT_EDGE) < 3 and mark.y0 < TYPE_TOP + 20
    assert 2 * 28.9 - 8 < title.y0 - mark.y0 < 2 * 28.9 + 16
    assert abs((title.x0 + title.x1) / 2 - (LEFT_EDGE + 156 / 25.4 * 72 / 2)) < 6
    # the annex pages are filled too (tall rows may break across pages), the last one aside
    assert all(filled(words) >= 0.5 for words in annex_pages[:-1]), [filled(w) for w in annex_pages]


@pytest.mark.office
def test_the_signature_never_stands_alone_wherever_the_body_ends(tmp_path: Path) -> None:
    """22 通报 whose last paragraph grows a line at a time: the body ends on every line of a page once, so a
    落款 left to itself would have a page of its own in at least one of them."""
    import io
    from datetime import date

    from toolkit.read import read_ledger
    from toolkit.render import ReportOptions, render_document

    office_tools()
    point = "持续巩固整改成果，健全完善长效机制，推动各项工作提质增效"  # 28 characters: about a line
    names = []
    for extra in range(22):
        info = [*INFO[:5], ["下一步打算", "一是" + point * (extra + 1)]]
        ledger = read_ledger(write_report_ledger(tmp_path / f"台账{extra}.xlsx", info=info))
        data, _context, _notes = render_document(
            ledger, as_of=date.fromisoformat(AS_OF), options=ReportOptions(chart=False)
        )
        name = tmp_path / f"通报{extra:02d}.docx"
        Document(io.BytesIO(data)).save(str(name))
        names.append(name)
    soffice_convert_all(names, "pdf", tmp_path, profile=tmp_path / "profile", timeout=600)
    ends = []
    for name in names:
        pages = pdf_pages(name.with_suffix(".pdf"))
        check_pages(pages, "测试街道党工委", "2025年1月10日")
        ends.append(round(filled(pages[-1]), 2))
    assert len(set(ends)) > 10, ends  # the 落款 did land all over the last page
