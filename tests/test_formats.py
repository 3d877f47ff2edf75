"""Formats that must read correctly: the same ledger as .xlsx, .xlsm, .xls, .ods and an HTML "xls".

Every variant carries the same five items (LEDGER_ROWS), so each must give the same rows, the
same 方面 totals (merged 方面 cells filled down) and exactly the findings planted in them.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
from builders import HEADERS
from filemakers import (
    AS_OF,
    LEDGER_DIMENSIONS,
    LEDGER_FINDINGS,
    LEDGER_ROWS,
    LEDGER_TITLE,
    build_ledger_xlsx,
    run_limited,
    soffice_convert,
    write_ledger_sheet,
)

office = pytest.mark.office
needs_soffice = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed"
)
DIMENSION_TOTALS = [("理论学习", 2), ("作风建设", 3)]


def validate(path: Path, *extra: str) -> dict:
    run = run_limited("validate", path, "--as-of", AS_OF, "--json", *extra, timeout=120)
    assert run.code in (0, 1), (run.code, run.err[-2000:])
    assert "Traceback" not in run.err
    report = json.loads(run.out)
    assert run.code == (1 if report["errors"] else 0)
    return report


def flat(report: dict) -> list[tuple[int, str, str]]:
    return sorted((i["row"], i["column"], i["code"]) for i in report["issues"])


def dimension_totals(path: Path) -> list[tuple[str, int]]:
    run = run_limited("stats", path, "--as-of", AS_OF, "--json", timeout=120)
    assert run.code == 0, run.err
    return [(d["name"], d["total"]) for d in json.loads(run.out)["dimensions"]]


def assert_reads_the_ledger(path: Path, sheet: str = "台账", first_row: int = 3) -> dict:
    report = validate(path)
    assert report["sheet"] == sheet
    assert report["rows"] == len(LEDGER_ROWS)
    shift = first_row - 3
    assert flat(report) == [(r + shift, c, code) for r, c, code in LEDGER_FINDINGS]
    assert dimension_totals(path) == DIMENSION_TOTALS
    return report


def read_items(path: Path):
    """The library's view, for values the JSON report does not carry (our own benign files only)."""
    from toolkit.read import read_ledger

    return read_ledger(path)


# --- OOXML ----------------------------------------------------------------------------------------------


def test_xlsx(tmp_path):
    path = build_ledger_xlsx(tmp_path / "台账.xlsx")
    assert_reads_the_ledger(path)
    ledger = read_items(path)
    assert ledger.title == LEDGER_TITLE
    assert ledger.dimensions == LEDGER_DIMENSIONS
    assert [item.dimension for item in ledger.items] == [row[0] for row in LEDGER_ROWS]


def test_xlsm_with_a_vba_project(tmp_path):
    path = build_ledger_xlsx(tmp_path / "台账.xlsm", vba=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with zipfile.ZipFile(path) as zf:
        assert "xl/vbaProject.bin" in zf.namelist()
        assert b"sheet.macroEnabled.main+xml" in zf.read("[Content_Types].xml")
    assert_reads_the_ledger(path)


def test_ledger_on_the_second_sheet_after_a_cover(tmp_path):
    path = build_ledger_xlsx(tmp_path / "台账.xlsx", cover=True)
    assert_reads_the_ledger(path, sheet="台账")


def test_hidden_sheet_named_first_does_not_win_over_the_visible_ledger(tmp_path):
    import xlsxwriter

    path = tmp_path / "台账.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    old = write_ledger_sheet(workbook, "旧台账", rows=LEDGER_ROWS[:1])
    old.hide()
    write_ledger_sheet(workbook, "台账")
    workbook.worksheets()[1].activate()
    workbook.close()
    assert_reads_the_ledger(path, sheet="台账")


def test_date1904_workbook_gives_the_same_dates(tmp_path):
    path = build_ledger_xlsx(tmp_path / "台账1904.xlsx", date_1904=True)
    with zipfile.ZipFile(path) as zf:
        assert b'date1904="1"' in zf.read("xl/workbook.xml")
    report = assert_reads_the_ledger(path)
    overdue = next(i for i in report["issues"] if i["code"] == "overdue")
    assert "2024年9月30日" in overdue["message"] and "92天" in overdue["message"]
    ledger = read_items(path)
    for item, row in zip(ledger.items, LEDGER_ROWS, strict=True):
        if isinstance(row[6], date):
            assert item.deadline.value == row[6], item.row
        else:
            assert item.deadline.raw == row[6], item.row
    assert [item.completed_on.value for item in ledger.items] == [row[8] for row in LEDGER_ROWS]


def test_formula_errors_are_findings_at_their_cells(tmp_path):
    path = _formula_error_workbook(tmp_path / "台账.xlsx")
    report = validate(path)
    assert report["rows"] == len(LEDGER_ROWS)
    errors = sorted(
        (i["row"], i["column"], i["value"]) for i in report["issues"] if i["code"] == "formula-error"
    )
    assert errors == [(3, "C", "#REF!"), (6, "H", "#N/A"), (7, "G", "#DIV/0!")]
    assert all(i["severity"] == "error" for i in report["issues"] if i["code"] == "formula-error")
    # the planted findings elsewhere are still there; an error cell says nothing else
    assert set(LEDGER_FINDINGS) <= set(flat(report))
    assert not [i for i in report["issues"] if (i["row"], i["column"]) in {(3, "C"), (6, "H"), (7, "G")}
                and i["code"] != "formula-error"]  # fmt: skip


def _formula_error_workbook(path: Path) -> Path:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    sheet = write_ledger_sheet(workbook)
    sheet.write_formula("C3", "=#REF!", None, "#REF!")  # 问题描述 of item 1
    sheet.write_formula("H6", "=VLOOKUP(1,Z1:Z2,2,0)", None, "#N/A")  # 整改时限 of item 4
    sheet.write_formula("G7", "=1/0", None, "#DIV/0!")  # 责任人 of item 5
    workbook.close()
    return path


# --- LibreOffice conversions ---------------------------------------------------------------------------------


@office
@needs_soffice
@pytest.mark.parametrize("fmt", ["xls", "ods", "xlsx"])
def test_converted_by_libreoffice(tmp_path, fmt):
    (tmp_path / "src").mkdir()
    source = build_ledger_xlsx(tmp_path / "src" / "台账.xlsx")
    out = tmp_path / "out"
    out.mkdir()
    path = soffice_convert(source, fmt, out)
    assert_reads_the_ledger(path)


# --- the HTML "xls" office systems export ----------------------------------------------------------------


def _html_ledger(*, charset: str = "gb2312") -> str:
    cells = {
        "head": "".join(
            f"<td>{h.replace('时限', '<br>时限').replace('领导', '<br/>领导')}</td>" for h in HEADERS
        ),
    }
    rows = []
    for i, (dim, problem, measures, lead, dept, owner, deadline, status, done, evidence) in enumerate(
        LEDGER_ROWS
    ):
        first_of_dim = i == 0 or LEDGER_ROWS[i - 1][0] != dim
        span = sum(1 for row in LEDGER_ROWS if row[0] == dim)
        dim_cell = (
            f'<td rowspan="{span}" style="vnd.ms-excel.numberformat:@">{dim}</td>' if first_of_dim else ""
        )
        owner = "王珺" if i == 0 else owner  # 珺 is outside GB2312: the declared charset undersells the bytes
        problem = problem.replace("，", "，<br>", 1)
        text = [
            str(i + 1), problem, measures.replace("；", "；<br/>"), lead, dept, owner,
            deadline.isoformat() if isinstance(deadline, date) else deadline, status,
            done.strftime("%Y/%m/%d") if done else "", evidence or "&nbsp;",
        ]  # fmt: skip
        tds = [f"<td>{text[0]}</td>", dim_cell] + [f"<td>{t}</td>" for t in text[1:]]
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">\n<head>\n'
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n'
        "<style>td { font-family: 宋体, serif; mso-number-format: '\\@'; }\n"
        + "/* 样式 */\n"
        * 300
        + "</style>\n"
        '</head>\n<body>\n<table border="1">\n'
        f'<tr><td colspan="{len(HEADERS)}" align="center"><b>{LEDGER_TITLE}</b></td></tr>\n'
        f'<tr><td colspan="{len(HEADERS)}">填报单位：某街道党工委</td></tr>\n'
        f"<tr>{cells['head']}</tr>\n" + "\n".join(rows) + "\n"
        '<tr><td colspan="2">合计</td><td colspan="9">共5项</td></tr>\n'
        "</table>\n</body>\n</html>\n"
    )


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
def test_html_xls_export(tmp_path, encoding):
    path = tmp_path / "整改台账导出.xls"
    path.write_bytes(_html_ledger(charset="gb2312" if encoding != "utf-8" else "utf-8").encode(encoding))
    report = assert_reads_the_ledger(path, sheet="表1", first_row=4)
    assert report["errors"] == 0
    ledger = read_items(path)
    assert ledger.title == LEDGER_TITLE
    assert ledger.dimensions == LEDGER_DIMENSIONS
    assert [item.dimension for item in ledger.items] == [row[0] for row in LEDGER_ROWS]  # rowspan filled down
    first = ledger.items[0]
    assert first.values["owner"] == "王珺"
    assert first.values["problem"] == LEDGER_ROWS[0][1].replace("，", "，\n", 1)
    assert first.values["measures"] == LEDGER_ROWS[0][2].replace("；", "；\n")
    assert ledger.headers["deadline"].replace("\n", "") == "整改时限"
    assert [item.completed_on.value for item in ledger.items] == [row[8] for row in LEDGER_ROWS]


def test_html_xls_in_utf16_with_bom(tmp_path):
    path = tmp_path / "整改台账导出.xls"
    path.write_bytes(_html_ledger(charset="unicode").encode("utf-16"))
    assert_reads_the_ledger(path, sheet="表1", first_row=4)


def test_html_xls_with_a_table_per_sheet_and_layout_tables(tmp_path):
    """A layout table around the data and a second, empty table: the ledger table is still found."""
    inner = _html_ledger(charset="utf-8")
    table = inner[inner.index("<table") : inner.index("</table>") + len("</table>")]
    html = (
        '<html><head><meta charset="utf-8"></head><body>'
        "<table><tr><td>导出时间：2024-12-31</td></tr></table>"
        f"<table><tr><td>{table}</td></tr></table></body></html>"
    )
    path = tmp_path / "导出.xls"
    path.write_text(html, encoding="utf-8")
    report = validate(path)
    assert report["rows"] == len(LEDGER_ROWS)
    assert flat(report) == [(r + 1, c, code) for r, c, code in LEDGER_FINDINGS]


# --- the extension lies, the content decides ------------------------------------------------------------------


def test_xlsx_named_xls_is_read_by_its_content(tmp_path):
    path = build_ledger_xlsx(tmp_path / "台账.xls")
    assert_reads_the_ledger(path)


@office
@needs_soffice
def test_xls_named_xlsx_is_read_by_its_content(tmp_path):
    (tmp_path / "src").mkdir()
    xls = soffice_convert(build_ledger_xlsx(tmp_path / "src" / "台账.xlsx"), "xls", tmp_path)
    path = tmp_path / "台账（另存）.xlsx"
    xls.rename(path)
    assert_reads_the_ledger(path)


@office
@needs_soffice
@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_formula_errors_in_xls_and_ods(tmp_path, fmt):
    (tmp_path / "src").mkdir()
    path = soffice_convert(_formula_error_workbook(tmp_path / "src" / "台账.xlsx"), fmt, tmp_path)
    report = validate(path)
    errors = sorted((i["row"], i["column"]) for i in report["issues"] if i["code"] == "formula-error")
    assert errors == [(3, "C"), (6, "H"), (7, "G")]
