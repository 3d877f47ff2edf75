"""``ledger new``: the workbook a clerk fills in, read back with openpyxl and recalculated by LibreOffice."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from filemakers import soffice_convert

from tests.conftest import run_ledger
from toolkit.cli import parse_dimensions, parse_year
from toolkit.config import DEFAULT_CONFIG, FIELDS
from toolkit.errors import ConfigError
from toolkit.layout import (
    BUTTON_CAPTIONS,
    CONFIG_SHEET,
    FIRST_DATA_ROW,
    HEADER_ROW,
    INFO_SHEET,
    LEDGER_SHEET,
    MARKS_SHEET,
    SHEET_CODENAMES,
    STATS_SHEET,
    XLWINGS_CONF_SHEET,
    config_from_rows,
)
from toolkit.sample import SAMPLE_DIMENSIONS, SAMPLE_INFO, SAMPLE_ROWS, SAMPLE_TITLE
from toolkit.workbook import (
    WorkbookSpec,
    build_workbook,
    buttons,
    default_interpreter,
)

ROOT = Path(__file__).resolve().parents[1]
HAS_VBA = importlib.util.find_spec("toolkit.vba") is not None
needs_vba = pytest.mark.skipif(
    not HAS_VBA, reason="toolkit.vba (VBA project writer, branch vba) not merged yet"
)
SHEETS = [LEDGER_SHEET, STATS_SHEET, INFO_SHEET, CONFIG_SHEET, MARKS_SHEET, XLWINGS_CONF_SHEET]
HEADERS = [f.header for f in FIELDS]


def letter(field_id: str) -> str:
    return openpyxl.utils.get_column_letter([f.id for f in FIELDS].index(field_id) + 1)


def grid(ws) -> list[list[object]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


@pytest.fixture(scope="module")
def new_xlsx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("new") / "台账.xlsx"
    run = run_ledger(
        "new",
        path,
        "--unit",
        "某街道党工委",
        "--year",
        "2024",
        "--dimensions",
        "理论学习，作风建设、为民服务",
    )
    assert run.code == 0, run.err
    assert "已生成" in run.out
    return path


@pytest.fixture(scope="module")
def sample_xlsx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "示例.xlsx"
    run = run_ledger("new", path, "--sample")
    assert run.code == 0, run.err
    return path


# --- structure -----------------------------------------------------------------------------------------


def test_sheets_headers_and_layout(new_xlsx):
    wb = openpyxl.load_workbook(new_xlsx)
    assert wb.sheetnames == SHEETS
    assert wb[MARKS_SHEET].sheet_state == "hidden"
    ws = wb[LEDGER_SHEET]
    assert [c.value for c in ws[HEADER_ROW]] == HEADERS
    assert ws["A1"].value == "某街道党工委2024年度民主生活会整改台账"
    assert ws.freeze_panes == f"A{FIRST_DATA_ROW}"
    assert ws.column_dimensions[letter("problem")].width > 30
    assert ws.column_dimensions[letter("problem")].alignment.wrap_text  # the whole column, rows to come too
    assert ws.auto_filter.ref.startswith(f"A{HEADER_ROW}:O")


def test_dropdowns_and_date_checks(new_xlsx):
    ws = openpyxl.load_workbook(new_xlsx)[LEDGER_SHEET]
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    dim = rules[f"{letter('dimension')}3:{letter('dimension')}5002"]
    assert (dim.type, dim.formula1, dim.errorStyle) == ("list", "方面列表", "warning")
    status = rules[f"{letter('status')}3:{letter('status')}5002"]
    assert (status.type, status.formula1) == ("list", "状态列表")
    assert status.errorStyle in (None, "stop")  # stop is the default
    done = rules[f"{letter('completed_on')}3:{letter('completed_on')}5002"]
    assert done.type == "date" and done.operator in (None, "between")  # between is the default
    deadline = rules[f"{letter('deadline')}3:{letter('deadline')}5002"]
    assert deadline.type in (None, "any")  # text like 2024年底 stays allowed; only a hint
    assert "2024年底" in deadline.prompt


def test_defined_names_point_at_config(new_xlsx):
    wb = openpyxl.load_workbook(new_xlsx)
    names = {name: dn.attr_text for name, dn in wb.defined_names.items()}
    assert names["方面列表"].startswith("OFFSET(配置!$A$2,")
    assert names["状态列表"] == f"配置!$C$2:$C${1 + len(DEFAULT_CONFIG.statuses)}"
    assert names["临期天数"] == "配置!$H$2"
    cfg = wb[CONFIG_SHEET]
    assert [cfg[f"A{r}"].value for r in range(2, 5)] == ["理论学习", "作风建设", "为民服务"]
    assert [cfg[f"C{r}"].value for r in range(2, 2 + len(DEFAULT_CONFIG.statuses))] == [
        s.label for s in DEFAULT_CONFIG.statuses
    ]
    assert cfg["H2"].value == DEFAULT_CONFIG.due_soon_days


def test_conditional_formats(new_xlsx):
    ws = openpyxl.load_workbook(new_xlsx)[LEDGER_SHEET]
    found = {}
    for rng in ws.conditional_formatting:
        for rule in rng.rules:
            found.setdefault(str(rng.sqref), []).append(rule.formula[0])
    status = found[f"{letter('status')}3:{letter('status')}5002"]
    assert status == ['OR($K3="已完成",$K3="已销号")']
    deadline = found[f"{letter('deadline')}3:{letter('deadline')}5002"]
    red, yellow = deadline
    assert "$I3<TODAY()" in red and 'NOT(OR($K3="已完成"' in red
    assert "$I3-TODAY()<=临期天数" in yellow


def test_print_setup(new_xlsx):
    ws = openpyxl.load_workbook(new_xlsx)[LEDGER_SHEET]
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9
    assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) in ((1, 0), (None, 0))


def test_stats_formulas_and_chart(new_xlsx):
    wb = openpyxl.load_workbook(new_xlsx)
    ws = wb[STATS_SHEET]
    rows = grid(ws)
    assert rows[1] == ["方面", "问题总数", "已完成", "其中已销号", "长期坚持", "正在推进", "完成率"]
    assert rows[2][0] == '=IF(配置!$A$2="","",配置!$A$2)'
    assert 'COUNTIFS(台账!$C$3:$C$5002,$A3,台账!$K$3:$K$5002,"已完成")' in rows[2][2]
    assert rows[5][0] == "合计"
    with zipfile.ZipFile(new_xlsx) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    assert "<c:barChart>" in chart and "统计!$G$3:$G$5" in chart and "统计!$A$3:$A$5" in chart


def test_stats_cached_results_are_the_engine_counts(sample_xlsx):
    """What a viewer that does not recalculate on open shows: toolkit.stats' numbers, not zeros."""
    from toolkit.read import read_ledger
    from toolkit.stats import ledger_stats

    stats = ledger_stats(read_ledger(sample_xlsx), date.today())
    rows = grid(openpyxl.load_workbook(sample_xlsx, data_only=True)[STATS_SHEET])
    shown = {row[0]: tuple(row[1:7]) for row in rows[2 : 3 + len(SAMPLE_DIMENSIONS)]}
    assert shown == {
        g.name: (g.total, g.completed, g.closed, g.long_term, g.pending, pytest.approx(g.rate))
        for g in [*stats.groups, stats.total]
    }


def test_info_sheet_for_the_reader(sample_xlsx):
    from toolkit.read import read_info

    rows = grid(openpyxl.load_workbook(sample_xlsx)[INFO_SHEET])
    assert rows[0][:2] == ["项目", "内容"]
    info = read_info(rows)
    assert info["unit"] == SAMPLE_INFO["unit"]
    assert str(info["year"]) == "2024"
    assert info["problems"] == SAMPLE_INFO["problems"]
    assert info["plans"] == SAMPLE_INFO["plans"]


def test_xlwings_conf_names_this_python(new_xlsx):
    rows = grid(openpyxl.load_workbook(new_xlsx)[XLWINGS_CONF_SHEET])
    conf = {r[0]: r[1] for r in rows if r[0]}
    assert conf["Interpreter_Win"] == default_interpreter() == sys.executable
    assert conf["Interpreter_Mac"] == sys.executable
    assert conf["PYTHONPATH"] == str(ROOT)  # a checkout, not installed: the buttons need it on the path
    keys = [r[0] for r in rows]
    assert keys[: keys.index(None) if None in keys else len(keys)] == [
        "Interpreter_Win",
        "Interpreter_Mac",
        "PYTHONPATH",
    ]


def test_xlsx_has_no_buttons_but_says_why(new_xlsx):
    with zipfile.ZipFile(new_xlsx) as z:
        names = z.namelist()
    assert "xl/vbaProject.bin" not in names
    assert not [n for n in names if n.endswith(".vml")]
    ws = openpyxl.load_workbook(new_xlsx)[LEDGER_SHEET]
    assert "ledger validate" in ws["G1"].value


# --- the sample and user text --------------------------------------------------------------------------


def test_sample_rows_written_as_typed(sample_xlsx):
    ws = openpyxl.load_workbook(sample_xlsx)[LEDGER_SHEET]
    assert ws["A1"].value == SAMPLE_TITLE
    ids = [f.id for f in FIELDS]
    for i, row in enumerate(SAMPLE_ROWS):
        cells = ws[FIRST_DATA_ROW + i]
        for col, field_id in enumerate(ids):
            want, got = row.get(field_id), cells[col].value
            if want in (None, ""):
                assert got is None
            elif isinstance(want, date):
                assert got == datetime(want.year, want.month, want.day)
            else:
                assert got == want, (i, field_id)
    cfg = openpyxl.load_workbook(sample_xlsx)[CONFIG_SHEET]
    assert [cfg[f"A{r}"].value for r in range(2, 2 + len(SAMPLE_DIMENSIONS))] == list(SAMPLE_DIMENSIONS)


def test_sample_reads_back_through_the_engine(sample_xlsx):
    from toolkit.read import read_ledger

    ledger = read_ledger(sample_xlsx)
    assert ledger.sheet == LEDGER_SHEET
    assert ledger.header_row == HEADER_ROW
    assert len(ledger.items) == len(SAMPLE_ROWS)
    assert ledger.dimensions == list(SAMPLE_DIMENSIONS)


def test_user_text_never_becomes_a_formula(tmp_path):
    rows = [
        {
            "seq": 1,
            "dimension": "甲",
            "problem": "=1+1",
            "measures": "+SUM(A1)",
            "owner": "@x",
            "remarks": "-3",
        }
    ]
    path = build_workbook(tmp_path / "t.xlsx", WorkbookSpec(dimensions=["甲"], rows=rows))
    ws = openpyxl.load_workbook(path)[LEDGER_SHEET]
    for col, text in ((letter("problem"), "=1+1"), (letter("measures"), "+SUM(A1)"), (letter("owner"), "@x")):
        cell = ws[f"{col}{FIRST_DATA_ROW}"]
        assert (cell.value, cell.data_type) == (text, "s")
    assert ws[f"{letter('remarks')}{FIRST_DATA_ROW}"].data_type == "s"


# --- refusing to overwrite -----------------------------------------------------------------------------


def test_existing_file_refused_then_forced(tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(b"clerk's months of work")
    run = run_ledger("new", path)
    assert run.code == 2
    assert "已存在" in run.err and "--force" in run.err and "Traceback" not in run.err
    assert path.read_bytes() == b"clerk's months of work"
    run = run_ledger("new", path, "--force")
    assert run.code == 0, run.err
    assert openpyxl.load_workbook(path).sheetnames == SHEETS
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~ledger-")]


def test_new_file_gets_ordinary_permissions(tmp_path):
    import os

    umask = os.umask(0)
    os.umask(umask)
    path = tmp_path / "台账.xlsx"
    assert run_ledger("new", path).code == 0
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    path.chmod(0o640)
    assert run_ledger("new", path, "--force").code == 0
    assert path.stat().st_mode & 0o777 == 0o640  # replacing keeps the file's own permissions


def test_open_workbook_and_bad_names_refused(tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(b"x")
    (tmp_path / "~$台账.xlsx").write_bytes(b"lock")
    run = run_ledger("new", path, "--force")
    assert run.code == 2 and "正在 Excel 或 WPS 中打开" in run.err
    assert path.read_bytes() == b"x"
    run = run_ledger("new", tmp_path / "台账.xls")
    assert run.code == 2 and ".xlsm" in run.err
    run = run_ledger("new", tmp_path / "没有的文件夹" / "台账.xlsx")
    assert run.code == 2 and "不存在" in run.err


def test_year_option(tmp_path):
    assert parse_year("２０２４年度") == parse_year("2024年") == parse_year(" 2024 ") == "2024"
    assert parse_year("明年") is None
    run = run_ledger("new", tmp_path / "a.xlsx", "--year", "明年")
    assert run.code == 2 and "“明年”不是年份" in run.err and not (tmp_path / "a.xlsx").exists()
    assert run_ledger("new", tmp_path / "b.xlsx", "--year", "2025年度").code == 0
    assert (
        openpyxl.load_workbook(tmp_path / "b.xlsx")[LEDGER_SHEET]["A1"].value == "2025年度民主生活会整改台账"
    )


def test_parse_dimensions():
    assert parse_dimensions("理论学习, 作风建设，为民服务、理论学习;廉洁") == [
        "理论学习",
        "作风建设",
        "为民服务",
        "廉洁",
    ]
    assert parse_dimensions(None) == []


# --- the 配置 sheet read back --------------------------------------------------------------------------


def test_config_round_trip(new_xlsx):
    rows = grid(openpyxl.load_workbook(new_xlsx)[CONFIG_SHEET])
    config = config_from_rows(rows)
    assert config.dimensions == ("理论学习", "作风建设", "为民服务")
    assert config.statuses == DEFAULT_CONFIG.statuses  # synonyms as written add nothing new
    assert config.status_for("已整改") == "completed"
    assert (config.due_soon_days, config.rate_decimals) == (7, 1)
    assert "配置" in config.source


def test_config_edits_are_honoured(new_xlsx):
    rows = grid(openpyxl.load_workbook(new_xlsx)[CONFIG_SHEET])
    labels = [r[2] for r in rows]
    done = labels.index("已完成")
    rows[done][3] = (rows[done][3] or "") + "、办结了，办好了"
    rows[1][7] = 14.0  # 临期提醒天数 as Excel hands a number back
    rows.append(["新增方面"] + [None] * (len(rows[0]) - 1))
    config = config_from_rows(rows)
    assert config.status_for("办结了") == config.status_for("办好了") == "completed"
    assert config.due_soon_days == 14
    assert config.dimensions[-1] == "新增方面"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ((2, 2, "已完结"), "已完结"),  # a status label the rules do not know
        ((1, 7, "七天"), "七天"),  # 临期提醒天数 not a number
        ((2, 7, -1), "-1"),
        ((4, 6, "颜色"), "颜色"),  # unknown parameter name
        ((3, 3, "已完成"), "已完成"),  # a synonym of 已销号 that already belongs to another status
    ],
)
def test_config_errors_quote_the_value(new_xlsx, edit, message):
    rows = grid(openpyxl.load_workbook(new_xlsx)[CONFIG_SHEET])
    r, c, value = edit
    while len(rows) <= r:
        rows.append([None] * len(rows[0]))
    rows[r][c] = value
    with pytest.raises(ConfigError) as err:
        config_from_rows(rows)
    assert message in str(err.value) and "配置" in str(err.value)


def test_config_without_blocks_is_the_base():
    assert config_from_rows([]) is DEFAULT_CONFIG
    assert config_from_rows([["随便写的"], [None, "x"]]) is DEFAULT_CONFIG


# --- .xlsm: VBA project and buttons --------------------------------------------------------------------


@needs_vba
def test_xlsm_buttons_bound_to_macros(tmp_path):
    path = tmp_path / "台账.xlsm"
    run = run_ledger("new", path, "--dimensions", "甲,乙")
    assert run.code == 0, run.err
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert wb.sheetnames == SHEETS
    assert wb.vba_archive is not None
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert "xl/vbaProject.bin" in names
        workbook_xml = z.read("xl/workbook.xml").decode()
        vml = "".join(z.read(n).decode() for n in names if n.endswith(".vml"))
        types = z.read("[Content_Types].xml").decode()
        sheet1 = z.read("xl/worksheets/sheet1.xml").decode()
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
    assert 'codeName="ThisWorkbook"' in workbook_xml
    assert f'codeName="{SHEET_CODENAMES[LEDGER_SHEET]}"' in sheet1
    assert vml.count('ObjectType="Button"') == len(BUTTON_CAPTIONS)
    bound = re.findall(r"<font[^>]*>([^<]+)</font>.*?<x:FmlaMacro>\[0\]!([\w.]+)</x:FmlaMacro>", vml, re.S)
    assert bound == buttons() and [c for c, _ in bound] == list(BUTTON_CAPTIONS)


@needs_vba
def test_xlsm_macros_exist_in_the_project(tmp_path):
    oletools = pytest.importorskip("oletools.olevba")
    path = tmp_path / "台账.xlsm"
    assert run_ledger("new", path).code == 0
    parser = oletools.VBA_Parser(str(path))
    code = "\n".join(src for _, _, _, src in parser.extract_macros())
    parser.close()
    for _, macro in buttons():
        assert re.search(rf"Sub {macro}\(\)", code), macro
    assert "Function RunPython" in code


# --- live formulas, recalculated by LibreOffice --------------------------------------------------------


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def recalc(path: Path, workdir: Path) -> Path:
    """Convert with LibreOffice set to recalculate every formula on load (its own throwaway profile)."""
    profile = workdir / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_PROFILE, encoding="utf-8")
    return soffice_convert(path, "xlsx", workdir / "recalc", profile=profile)


@pytest.mark.office
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) not installed")
def test_countifs_compute_the_engine_counts(sample_xlsx, tmp_path):
    """Edit statuses after the build (openpyxl keeps formulas, drops cached values), recalc, compare."""
    from toolkit.read import read_ledger
    from toolkit.stats import ledger_stats, percent

    wb = openpyxl.load_workbook(sample_xlsx)
    ws = wb[LEDGER_SHEET]
    col = letter("status")
    ws[f"{col}{FIRST_DATA_ROW}"] = "正在整改"  # was 已销号
    ws[f"{col}{FIRST_DATA_ROW + 1}"] = "不适用"  # leaves the total
    ws[f"{col}{FIRST_DATA_ROW + 5}"] = "长期坚持"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)

    stats = ledger_stats(read_ledger(edited), date(2024, 12, 31))
    computed = grid(openpyxl.load_workbook(recalc(edited, tmp_path), data_only=True)[STATS_SHEET])
    body = computed[2:]
    body = body[: [row[0] for row in body].index("合计") + 1]
    table = {row[0]: row[1:7] for row in body}
    assert list(table)[:-1] == list(SAMPLE_DIMENSIONS) and list(table)[-1] == "合计"
    for group in [*stats.groups, stats.total]:
        total, completed, closed, long_term, pending, rate = table[group.name]
        assert (total, completed, closed, long_term, pending) == (
            group.total,
            group.completed,
            group.closed,
            group.long_term,
            group.pending,
        ), group.name
        assert percent(rate) == percent(group.rate)


SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, the one with LibreOffice's uno
PROBE = Path(__file__).with_name("lo_vba_probe.py")


def have_uno() -> bool:
    if soffice() is None or not Path(SYSTEM_PYTHON).exists():
        return False
    check = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=30)
    return check.returncode == 0


@pytest.mark.office
@needs_vba
@pytest.mark.skipif(not have_uno(), reason="needs LibreOffice (soffice) and python3-uno")
def test_libreoffice_opens_the_new_workbook_with_bound_buttons(tmp_path):
    """The real ``ledger new`` .xlsm: every sheet, the VBA project imported, each button on its Sub."""
    from toolkit.vba import SELF_TEST_MACRO

    path = tmp_path / "台账.xlsm"
    assert run_ledger("new", path, "--sample").code == 0
    url = f"vnd.sun.star.script:VBAProject.{SELF_TEST_MACRO}?language=Basic&location=document"
    proc = subprocess.run(
        [SYSTEM_PYTHON, str(PROBE), str(path), str(tmp_path / "lo-profile"), url],
        capture_output=True, text=True, encoding="utf-8", timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["vba_mode"] and "VBAProject" in result["libraries"]
    assert {"ThisWorkbook", *SHEET_CODENAMES.values(), "LedgerButtons", "xlwings"} <= set(result["modules"])
    found = {b["label"]: (b["sheet"], b["events"]) for b in result["buttons"]}
    assert set(found) == set(BUTTON_CAPTIONS)
    for caption, sub in buttons():
        sheet, events = found[caption]
        assert sheet == LEDGER_SHEET
        codes = [e["code"] for e in events if e["method"] == "actionPerformed"]
        assert codes == [
            f"vnd.sun.star.script:VBAProject.LedgerButtons.{sub}?language=Basic&location=document"
        ]
    assert not str(result["calls"][url]).startswith("ERROR"), result["calls"][url]


# --- the shipped workbook ------------------------------------------------------------------------------

SHIPPED = ROOT / "workbooks" / "示例台账.xlsm"


@needs_vba
def test_build_xlsm_is_reproducible_and_names_no_interpreter(tmp_path):
    spec = importlib.util.spec_from_file_location("build_xlsm", ROOT / "workbooks" / "build_xlsm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    first, second = module.build_xlsm(tmp_path / "a.xlsm"), module.build_xlsm(tmp_path / "b.xlsm")
    assert first.read_bytes() == second.read_bytes()
    rows = grid(openpyxl.load_workbook(first)[XLWINGS_CONF_SHEET])
    assert all(r[0] is None for r in rows)  # the clerk's own xlwings settings apply on another machine


def test_shipped_xlsm_is_the_sample_with_buttons():
    assert SHIPPED.exists(), "run python workbooks/build_xlsm.py"
    wb = openpyxl.load_workbook(SHIPPED, keep_vba=True)
    assert wb.sheetnames == SHEETS and wb.vba_archive is not None
    ws = wb[LEDGER_SHEET]
    seqs = [ws.cell(FIRST_DATA_ROW + i, 1).value for i in range(len(SAMPLE_ROWS))]
    assert seqs == [row["seq"] for row in SAMPLE_ROWS]
    with zipfile.ZipFile(SHIPPED) as z:
        vml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".vml"))
    assert vml.count('ObjectType="Button"') == len(BUTTON_CAPTIONS)


def test_cli_honours_the_config_sheet(tmp_path, ledger_cli):
    """A dimension typed into 台账 that the 配置 sheet does not list is an error for the CLI too."""
    import openpyxl

    path = tmp_path / "台账.xlsx"
    assert ledger_cli("new", path, "--dimensions", "理论学习,作风建设", "--sample").code == 0
    book = openpyxl.load_workbook(path)
    sheet = book["台账"]
    header_row = next(r for r in range(1, 6) if sheet.cell(r, 3).value == "方面")
    sheet.cell(header_row + 1, 3).value = "不在清单里的方面"
    book.save(path)
    run = ledger_cli("validate", path, "--as-of", "2024-12-31", "--json")
    codes = {(i["row"], i["code"]) for i in run.json()["issues"]}
    assert (header_row + 1, "unknown-dimension") in codes
