"""The buttons' Python (toolkit.excel) on xlwings' own remote engine, fed real workbooks from ``ledger new``.

xlwings builds a real ``xw.Book`` from the JSON its VBA client sends (``xw.Book(json=...)``) and records what
the code does to it as actions (``book.json()``), the same list the client then applies in Excel. The
payload here is made the way the VBA client makes it (xlwings/addin/Remote.bas): every worksheet's values
from A1, dates as ISO strings, named ranges with their sheet and address. ``Client`` applies the actions
the way Remote.bas does (values, sheets, fills), so a second click can be fed the workbook as the first
click left it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest

from tests.conftest import run_ledger
from toolkit import excel
from toolkit.layout import (
    CONFIG_SHEET,
    ERROR_FILL,
    FIRST_DATA_ROW,
    LEDGER_SHEET,
    MARKS_SHEET,
    RESULTS_SHEET,
    WARNING_FILL,
)
from toolkit.sample import SAMPLE_AS_OF, SAMPLE_FAULTS, SAMPLE_INFO, SAMPLE_ROWS
from toolkit.workbook import WorkbookSpec, build_workbook

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_FIRST_ROW = 4  # SAMPLE_FAULTS count rows of workbooks/build_sample.py, which has two title rows


xw = None  # xlwings, imported by the fixture below once the licence key is set


@pytest.fixture(autouse=True)
def remote_engine(monkeypatch):
    """The remote engine is xlwings PRO, free for noncommercial use: the key is set for the tests only.

    xlwings registers its engines on import; if another test imported it without the key, register the
    remote engine now (undone after the test).
    """
    global xw
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings

    if "remote" not in xlwings.engines.engines_by_name:
        from xlwings.pro import _xlremote

        engine = xlwings.main.Engine(impl=_xlremote.engine)
        monkeypatch.setattr(xlwings.engines, "engines", [*xlwings.engines.engines, engine])
        monkeypatch.setitem(xlwings.engines.engines_by_name, "remote", engine)
        monkeypatch.setattr(xlwings, "__pro__", True)
    xw = xlwings


def _json_value(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day).isoformat(timespec="milliseconds") + "Z"
    return value


class Client:
    """The workbook on the client side: values and fills per sheet, updated from the actions."""

    def __init__(self, path: Path, name: str | None = None, client: str = "VBA") -> None:
        wb = openpyxl.load_workbook(path)
        self.name = name or path.name
        self.client = client
        self.notes: dict[tuple[str, str], str] = {}
        self.sheets: list[dict] = []
        for ws in wb.worksheets:
            values = [list(row) for row in ws.iter_rows(values_only=True)]
            self.sheets.append({"name": ws.title, "values": values, "visible": ws.sheet_state == "visible"})
        self.names = []
        for name_, dn in wb.defined_names.items():
            m = re.fullmatch(r"'?([^'!]+)'?!\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?", dn.attr_text)
            if m:  # Remote.bas sends only names that refer to a range
                sheet, c1, r1, c2, r2 = m.groups()
                address = f"{c1}{r1}" + (f":{c2}{r2}" if c2 else "")
                self.names.append((name_, wb.sheetnames.index(sheet), address))
        self.active = 0
        self.fills: dict[tuple[str, str], str | None] = {}
        self.alerts: list[list] = []

    def sheet(self, name: str) -> dict:
        return next(s for s in self.sheets if s["name"] == name)

    def payload(self) -> dict:
        sheets = []
        for s in self.sheets:
            values = [[_json_value(v) for v in row] for row in s["values"]] or [[]]
            sheet = {"name": s["name"], "values": values, "pictures": [], "tables": []}
            if self.client == "Office.js":  # this client also sends which cells have a note
                sheet["notes"] = [{"address": a} for (n, a) in self.notes if n == s["name"]]
                sheet["visibility"] = "Visible" if s["visible"] else "Hidden"
            sheets.append(sheet)
        names = [
            {"name": n, "sheet_index": i, "address": a, "book_scope": True, "scope_sheet_name": None,
             "scope_sheet_index": None}
            for n, i, a in self.names
        ]  # fmt: skip
        return {
            "client": self.client,
            "version": xw.__version__,
            "book": {"name": self.name, "active_sheet_index": self.active, "selection": "A1"},
            "names": names,
            "sheets": sheets,
        }

    def book(self):
        return xw.Book(json=self.payload())

    def apply(self, actions: list[dict]) -> None:
        for a in actions:
            func, args = a["func"], a["args"]
            sheet = self.sheets[a["sheet_position"]] if a["sheet_position"] is not None else None
            if func == "addSheet":
                self.sheets.insert(args[0], {"name": args[1], "values": [], "visible": True})
                self.active = args[0]
            elif func == "activateSheet":
                self.active = args[0]
            elif func in ("sheetClear", "sheetClearContents"):
                sheet["values"] = []
                if func == "sheetClear":
                    self.fills = {k: v for k, v in self.fills.items() if k[0] != sheet["name"]}
            elif func == "setValues":
                self._set_values(sheet, a["start_row"], a["start_column"], a["values"])
            elif func == "setRangeColor":
                for r in range(a["row_count"]):
                    for c in range(a["column_count"]):
                        cell = cell_name(a["start_row"] + r, a["start_column"] + c)
                        self.fills[(sheet["name"], cell)] = args[0].upper() if args[0] else None
            elif func == "alert":
                self.alerts.append(args)
            elif func == "addNote" and self.client == "Office.js":
                self.notes[(sheet["name"], args[0].replace("$", ""))] = args[1]
            elif func == "deleteNote" and self.client == "Office.js":
                del self.notes[(sheet["name"], args[0].replace("$", ""))]
            elif func == "setAutofit":
                pass
            elif func == "setSheetVisibility" and self.client == "Office.js":
                sheet["visible"] = args[0] == "Visible"
            else:
                raise AssertionError(f"action the VBA client does not know: {func}")

    @staticmethod
    def _set_values(sheet: dict, row0: int, col0: int, values: list[list]) -> None:
        grid = sheet["values"]
        for r, row in enumerate(values):
            while len(grid) <= row0 + r:
                grid.append([])
            line = grid[row0 + r]
            for c, value in enumerate(row):
                while len(line) <= col0 + c:
                    line.append(None)
                if isinstance(value, str) and value.startswith("'"):
                    value = value[1:]  # Excel keeps the apostrophe as a prefix, not as text
                elif isinstance(value, str) and (m := re.fullmatch(r'=HYPERLINK\(".*","(.*)"\)', value)):
                    value = m[1]  # what the cell shows
                line[col0 + c] = None if value == "" else value

    def marked(self, sheet: str = LEDGER_SHEET) -> dict[str, str]:
        return {cell: fill for (name, cell), fill in self.fills.items() if name == sheet and fill}


def actions(book, func: str | None = None) -> list[dict]:
    acts = book.json()["actions"]
    return [a for a in acts if func is None or a["func"] == func]


def sample_row(seq: int) -> int:
    return FIRST_DATA_ROW + next(i for i, row in enumerate(SAMPLE_ROWS) if row["seq"] == seq)


@pytest.fixture(scope="module")
def sample_xlsm(tmp_path_factory) -> Path:
    """The sample through the CLI; .xlsx carries the same sheets as .xlsm, only without the VBA project."""
    path = tmp_path_factory.mktemp("excel") / "示例台账.xlsx"
    assert run_ledger("new", path, "--sample").code == 0
    return path


def expected_marks(report) -> dict[str, str]:
    marks: dict[str, str] = {}
    for f in report.findings:
        if f.row and f.column and f.severity in ("error", "warning"):
            fill = ERROR_FILL if f.severity == "error" else WARNING_FILL
            if marks.get(f"{f.column}{f.row}") != ERROR_FILL:
                marks[f"{f.column}{f.row}"] = fill
    return marks


# --- 校验台账 ------------------------------------------------------------------------------------------


def test_validate_marks_the_faulty_cells(sample_xlsm):
    client = Client(sample_xlsm)
    book = client.book()
    report = excel.validate(book, as_of=SAMPLE_AS_OF)
    assert report is not None and report.errors and report.warnings
    client.apply(book.json()["actions"])

    marked = client.marked()
    assert marked == expected_marks(report)
    # every planted fault of the sample is among them, shifted to this layout
    for row, column, code in SAMPLE_FAULTS:
        cell = f"{column}{row - SAMPLE_FIRST_ROW + FIRST_DATA_ROW}"
        severity = next(f.severity for f in report.findings if f.cell == cell and f.code == code)
        assert marked[cell] == (ERROR_FILL if severity == "error" else WARNING_FILL) or (
            marked[cell] == ERROR_FILL  # an error on the same cell wins
        )
    assert marked[f"K{sample_row(10)}"] == ERROR_FILL  # 已完城: not a status
    # only cells of the ledger sheet are coloured, each once
    colours = actions(book, "setRangeColor")
    assert {a["sheet_position"] for a in colours} == {0}
    assert all(a["row_count"] == a["column_count"] == 1 for a in colours)
    assert len(colours) == len(marked)


def test_validate_writes_the_findings_sheet(sample_xlsm):
    client = Client(sample_xlsm)
    book = client.book()
    report = excel.validate(book, as_of=SAMPLE_AS_OF)
    added = actions(book, "addSheet")
    assert [a["args"] for a in added] == [[1, RESULTS_SHEET]]  # right after 台账
    written = [a for a in actions(book, "setValues") if a["sheet_position"] == 1]
    assert len(written) == 1 and (written[0]["start_row"], written[0]["start_column"]) == (0, 0)
    rows = written[0]["values"]
    assert f"发现 {report.errors} 处错误、{report.warnings} 处提醒" in rows[0][0]
    assert rows[1] == ["单元格", "字段", "级别", "内容", "说明", "代码"]
    assert len(rows) - 2 == len(report.findings)
    by_code = {(r[5], r[0]): r for r in rows[2:]}
    k = f"K{sample_row(10)}"
    row = by_code[("unknown-status", f'=HYPERLINK("#\'台账\'!{k}","{k}")')]
    assert row[1:4] == ["'完成状态", "错误", "'已完城"]
    assert "已完城" in row[4]
    # the clerk lands back on the ledger and reads one sentence
    assert actions(book)[-2]["func"] == "activateSheet" and actions(book)[-2]["args"] == [0]
    alert = actions(book, "alert")
    assert len(alert) == 1
    assert alert[0]["args"][:2] == [excel.summarize(report), "校验台账"]
    assert alert[0]["args"][0].startswith(f"发现 {report.errors} 处错误、{report.warnings} 处提醒")
    client.apply(book.json()["actions"])
    assert client.sheet(RESULTS_SHEET)["values"][2 + [r[5] for r in rows[2:]].index("unknown-status")][0] == k


def test_marks_are_recorded_in_the_hidden_sheet(sample_xlsm):
    client = Client(sample_xlsm)
    book = client.book()
    report = excel.validate(book, as_of=SAMPLE_AS_OF)
    client.apply(book.json()["actions"])
    record = client.sheet(MARKS_SHEET)["values"]
    assert record[0] == ["工作表", "单元格", "原底色", "标记底色", "添加批注"]
    # the remote engine cannot read a fill: the previous one is unknown, clearing will leave no fill;
    # with the VBA client it cannot add notes either
    assert {tuple(r[:5]) for r in record[1:]} == {
        (LEDGER_SHEET, cell, excel.UNKNOWN_FILL, fill, None) for cell, fill in expected_marks(report).items()
    }
    assert not client.sheet(MARKS_SHEET)["visible"]


def test_rerun_replaces_the_previous_marks(sample_xlsm):
    client = Client(sample_xlsm)
    first = client.book()
    excel.validate(first, as_of=SAMPLE_AS_OF)
    client.apply(first.json()["actions"])
    before = client.marked()

    # the clerk fixes seq 10: a real status, done before its deadline
    r = sample_row(10)
    ledger = client.sheet(LEDGER_SHEET)["values"]
    ledger[r - 1][10] = "已完成"
    ledger[r - 1][11] = dt.datetime(2024, 6, 1)
    ledger[r - 1][8] = dt.datetime(2024, 6, 30)
    second = client.book()
    report = excel.validate(second, as_of=SAMPLE_AS_OF)
    assert not [f for f in report.findings if f.row == r]
    assert actions(second, "addSheet") == []  # the findings sheet is rewritten, not added again
    assert [a["sheet_position"] for a in actions(second, "sheetClear")] == [1]
    restored = [a for a in actions(second, "setRangeColor") if a["args"] == [None]]
    assert len(restored) == len(before)  # every old mark undone first ...
    client.apply(second.json()["actions"])
    after = client.marked()
    assert after == expected_marks(report)  # ... then the new ones set
    assert f"K{r}" in before and f"K{r}" not in after and client.fills[(LEDGER_SHEET, f"K{r}")] is None
    assert len(client.sheet(MARKS_SHEET)["values"]) == 1 + len(after)


def test_clear_marks_removes_only_ours(sample_xlsm):
    client = Client(sample_xlsm)
    book = client.book()
    excel.validate(book, as_of=SAMPLE_AS_OF)
    client.apply(book.json()["actions"])
    ours = set(client.marked())

    clearing = client.book()
    assert excel.clear_marks(clearing) == len(ours)
    colours = actions(clearing, "setRangeColor")
    assert {cell_name(a["start_row"], a["start_column"]) for a in colours} == ours  # nothing else is touched
    assert all(a["args"] == [None] for a in colours)
    client.apply(clearing.json()["actions"])
    assert client.marked() == {}
    assert client.sheet(MARKS_SHEET)["values"] == [["工作表", "单元格", "原底色", "标记底色", "添加批注"]]
    assert client.sheet(RESULTS_SHEET)["values"][0][0].startswith("校验标记已清除")
    assert client.alerts[-1][:2] == [f"已清除 {len(ours)} 处校验标记。", "清除标记"]

    again = client.book()
    assert excel.clear_marks(again) == 0
    assert actions(again, "setRangeColor") == []
    assert actions(again, "alert")[0]["args"][0] == "没有需要清除的校验标记。"


def test_notes_where_the_client_can_add_them(sample_xlsm):
    """The Office.js client (xlwings Server / Lite) adds notes; the clerk's own note is never replaced."""
    client = Client(sample_xlsm, client="Office.js")
    k = f"K{sample_row(10)}"
    client.notes[(LEDGER_SHEET, k)] = "秘书：这一条下周再核"
    book = client.book()
    report = excel.validate(book, as_of=SAMPLE_AS_OF)
    client.apply(book.json()["actions"])
    marked = expected_marks(report)
    ours = {cell: text for (sheet, cell), text in client.notes.items() if text.startswith(excel.NOTE_PREFIX)}
    assert set(ours) == set(marked) - {k}
    assert client.notes[(LEDGER_SHEET, k)] == "秘书：这一条下周再核"
    for cell, text in ours.items():
        for f in report.findings:
            if f.cell == cell and f.severity in ("error", "warning"):
                assert f.message in text

    # a second click replaces our notes, a clear removes them; the clerk's note stays throughout
    again = client.book()
    excel.validate(again, as_of=SAMPLE_AS_OF)
    assert len(actions(again, "deleteNote")) == len(ours) == len(actions(again, "addNote"))
    client.apply(again.json()["actions"])
    clearing = client.book()
    excel.clear_marks(clearing)
    client.apply(clearing.json()["actions"])
    assert client.notes == {(LEDGER_SHEET, k): "秘书：这一条下周再核"}
    assert client.marked() == {}


@pytest.mark.parametrize("client_name", ["VBA", "Office.js"])
def test_a_clerks_own_workbook(client_name):
    """The shipped 示例台账.xlsx as a clerk made it (title rows, merged 方面, no 配置 or record sheet)."""
    shipped = ROOT / "workbooks" / "示例台账.xlsx"
    client = Client(shipped, client=client_name)
    book = client.book()
    report = excel.validate(book, as_of=SAMPLE_AS_OF)
    client.apply(book.json()["actions"])
    for row, column, code in SAMPLE_FAULTS:  # this layout is the one SAMPLE_FAULTS counts in
        assert (row, column, code) in report.flat()
        assert f"{column}{row}" in client.marked(report.sheet)
    # Known limit of the remote engine: its payload says nothing about merged cells, so the covered cells
    # of the merged 方面 and 责任领导 read as empty. Excel on Windows/macOS reports merges (merged_areas).
    extra = set(report.flat()) - set(SAMPLE_FAULTS)
    assert extra and {(column, code) for _, column, code in extra} <= {
        ("C", "missing-value"),
        ("F", "missing-value"),
    }
    assert client.marked(report.sheet) == expected_marks(report)
    record = client.sheet(MARKS_SHEET)  # added at the end, hidden where the client can hide it
    assert client.sheets[-1] is record and record["visible"] == (client_name == "VBA")
    assert len(record["values"]) == 1 + len(expected_marks(report))
    clearing = client.book()
    assert excel.clear_marks(clearing) == len(expected_marks(report))
    client.apply(clearing.json()["actions"])
    assert client.marked(report.sheet) == {}


def cell_name(row0: int, col0: int) -> str:
    return f"{openpyxl.utils.get_column_letter(col0 + 1)}{row0 + 1}"


# --- a faulty ledger of our own --------------------------------------------------------------------------


def faulty_rows() -> list[dict]:
    base = {
        "source": "民主生活会查摆",
        "measures": "制定计划，按月推进",
        "lead": "王建国",
        "dept": "党政办",
        "owner": "周涛",
        "deadline": dt.date(2024, 6, 30),
    }
    return [
        {
            **base,
            "seq": 1,
            "dimension": "甲",
            "problem": "问题一",
            "status": "已完成",
            "completed_on": dt.date(2024, 6, 1),
        },
        {
            **base,
            "seq": 2,
            "dimension": "丙",
            "problem": "问题二",
            "status": "正在整改",
            "deadline": dt.date(2025, 6, 30),
        },
        {**base, "seq": 3, "dimension": "乙", "problem": "问题三", "status": "=已完成", "owner": ""},
        {
            **base,
            "seq": 4,
            "dimension": "乙",
            "problem": "问题四",
            "status": "办结了",
            "completed_on": dt.date(2024, 6, 2),
        },
    ]


@pytest.fixture
def faulty(tmp_path) -> Path:
    spec = WorkbookSpec(unit="某社区党委", year="2024", dimensions=["甲", "乙"], rows=faulty_rows())
    return build_workbook(tmp_path / "有错的台账.xlsx", spec)


def test_faulty_ledger_user_text_stays_text(faulty):
    client = Client(faulty)
    book = client.book()
    report = excel.validate(book, as_of=dt.date(2024, 12, 31))
    codes = {(f.row, f.column, f.code) for f in report.findings}
    r3 = FIRST_DATA_ROW + 2
    assert (r3, "K", "unknown-status") in codes and (r3, "H", "missing-value") in codes
    assert (FIRST_DATA_ROW + 1, "C", "unknown-dimension") in codes  # 丙 is not in the 配置 list
    client.apply(book.json()["actions"])
    assert client.marked()[f"K{r3}"] == ERROR_FILL
    results = next(a for a in actions(book, "setValues") if a["sheet_position"] == 1)["values"]
    row = next(r for r in results[2:] if r[5] == "unknown-status")
    assert row[3] == "'=已完成"  # the clerk's text, never a formula
    formulas = [v for r in results for v in r if isinstance(v, str) and v.startswith("=")]
    assert all(v.startswith('=HYPERLINK("#') for v in formulas)


def test_config_sheet_synonyms_are_honoured(faulty):
    client = Client(faulty)
    config = client.sheet(CONFIG_SHEET)["values"]
    done = [r[2] for r in config].index("已完成")
    config[done][3] = config[done][3] + "、办结了"
    book = client.book()
    report = excel.validate(book, as_of=dt.date(2024, 12, 31))
    r4 = FIRST_DATA_ROW + 3
    assert not [f for f in report.findings if f.row == r4 and f.code == "unknown-status"]

    plain = Client(faulty).book()
    report = excel.validate(plain, as_of=dt.date(2024, 12, 31))
    assert [f for f in report.findings if f.row == r4 and f.code == "unknown-status"]


def test_bad_config_is_one_sentence_not_a_traceback(faulty):
    client = Client(faulty)
    client.sheet(CONFIG_SHEET)["values"][1][7] = "七天"
    book = client.book()
    assert excel.validate(book) is None
    acts = actions(book)
    assert [a["func"] for a in acts] == ["alert"]
    message, title, _, mode, _ = acts[0]["args"]
    assert "七天" in message and title == "校验台账" and mode == "critical"


def test_no_ledger_in_the_book(tmp_path):
    book = xw.Book(
        json={
            "client": "VBA",
            "version": xw.__version__,
            "book": {"name": "空白.xlsx", "active_sheet_index": 0, "selection": "A1"},
            "names": [],
            "sheets": [
                {
                    "name": "Sheet1",
                    "values": [["会议记录"], ["2024-01-05T00:00:00.000Z"]],
                    "pictures": [],
                    "tables": [],
                }
            ],
        }
    )
    assert excel.validate(book) is None
    assert excel.report(book) is None
    alerts = actions(book, "alert")
    assert len(alerts) == 2 and all("台账表头" in a["args"][0] and a["args"][3] == "critical" for a in alerts)
    assert len(actions(book)) == 2  # nothing written into a workbook we could not read


# --- 生成通报 ------------------------------------------------------------------------------------------


def test_report_refused_while_the_ledger_has_errors(sample_xlsm, tmp_path, monkeypatch):
    """As ``ledger report`` without --allow-errors: the remote engine cannot ask, so it refuses."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    book = Client(sample_xlsm).book()
    assert excel.report(book, as_of=SAMPLE_AS_OF) is None
    (alert,) = actions(book)
    assert alert["func"] == "alert" and alert["args"][1] == "生成通报"
    assert re.fullmatch(r"台账有 \d+ 处错误，未生成通报：请先点“校验台账”查看并修正。", alert["args"][0])
    assert not list(tmp_path.glob("*.docx"))


def fix_sample_errors(client: Client) -> None:
    """What the clerk does after 校验台账: fill the missing date, owner and evidence, correct the typo."""
    ledger = client.sheet(LEDGER_SHEET)["values"]
    ledger[sample_row(4) - 1][11] = dt.datetime(2024, 3, 1)  # 完成时间
    ledger[sample_row(10) - 1][10] = "正在整改"  # 已完城
    ledger[sample_row(24) - 1][13] = "销号审批表"  # 佐证材料
    ledger[sample_row(31) - 1][7] = "李明"  # 责任人


def test_report_written_to_the_temp_folder_on_the_remote_engine(sample_xlsm, tmp_path, monkeypatch):
    import docx

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    client = Client(sample_xlsm)
    fix_sample_errors(client)
    book = client.book()
    out = excel.report(book, as_of=SAMPLE_AS_OF)
    assert out is not None and out.parent == tmp_path and out.suffix == ".docx" and out.exists()
    text = "\n".join(p.text for p in docx.Document(out).paragraphs)
    assert SAMPLE_INFO["unit"] in text
    assert SAMPLE_INFO["problems"][0][:20] in text  # 存在问题 from the 通报信息 sheet
    alert = actions(book, "alert")[0]["args"]
    assert alert[0].startswith(f"通报已生成：{out}") and alert[1] == "生成通报" and alert[3] == "info"
    assert [a["func"] for a in actions(book)] == ["alert"]  # the workbook itself is left alone
    # the same name as ``ledger report`` gives beside the file
    run = run_ledger("report", sample_xlsm, "--as-of", SAMPLE_AS_OF.isoformat(), "--allow-errors")
    assert run.code == 0, run.err
    produced = Path(run.out.strip().split("：", 1)[1])
    assert produced.name == out.name
    produced.unlink()


def test_report_goes_next_to_a_workbook_on_disk(tmp_path):
    on_disk = SimpleNamespace(fullname=str(tmp_path / "台账.xlsm"), name="台账.xlsm")
    assert excel.report_dir(on_disk) == tmp_path
    cloud = SimpleNamespace(fullname="https://example.invalid/sites/x/台账.xlsm", name="台账.xlsm")
    remote = SimpleNamespace(fullname="台账.xlsm", name="台账.xlsm")
    import tempfile

    assert excel.report_dir(cloud) == excel.report_dir(remote) == Path(tempfile.gettempdir())


# --- what the VBA buttons call -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["validate", "report", "clear_marks"])
def test_button_targets_are_callable_with_the_caller_default(name):
    import inspect

    func = getattr(excel, name)
    assert callable(func)
    assert inspect.signature(func).parameters["book"].default is None


def test_an_error_outranks_a_warning_on_the_same_cell():
    from toolkit.model import Finding, Report

    findings = [
        Finding("overdue", "warning", 5, "I", "deadline", "2024-06-30", "超期"),
        Finding("bad-deadline", "error", 5, "I", "deadline", "2024-06-30", "时限有误"),
        Finding("due-soon", "warning", 5, "I", "deadline", "2024-06-30", "临期"),
        Finding("seq-gap", "info", 6, "A", "seq", "7", "序号不连续"),
        Finding("missing-column", "error", None, None, "owner", "", "缺少列"),
        Finding("due-soon", "warning", 7, "I", "deadline", "2025-01-03", "临期"),
    ]
    report = Report("t.xlsx", "台账", dt.date(2024, 12, 31), 3, findings)
    assert excel.plan_marks(report) == {"I5": ERROR_FILL, "I7": WARNING_FILL}
    assert excel.summarize(report).startswith("发现 2 处错误、3 处提醒、1 条提示（共 3 行）")


def test_a_refusal_by_excel_is_one_sentence(sample_xlsm):
    book = Client(sample_xlsm).book()

    def protected() -> None:
        raise PermissionError("The cell or chart you're trying to change is on a protected sheet.")

    assert excel._guarded(book, "校验台账", protected) is None
    (alert,) = actions(book, "alert")
    assert alert["args"][0].startswith("无法把结果写回工作簿（PermissionError：")
    assert "保护" in alert["args"][0] and alert["args"][1:4] == ["校验台账", "ok", "critical"]
    assert excel._guarded(book, "校验台账", lambda: 42) == 42


def test_only_an_engine_that_waits_for_the_answer_is_asked():
    """Desktop Excel's app.alert returns the button pressed; the remote engine only queues a dialog."""
    asked = []

    class App:  # the two attributes _confirm uses, shaped like xlwings' App on the desktop engines
        def __init__(self, engine: str, answer: str) -> None:
            self.engine = SimpleNamespace(name=engine)
            self.answer = answer

        def alert(self, prompt, title=None, buttons=None, mode=None):
            asked.append((prompt, title, buttons, mode))
            return self.answer

    assert excel._confirm(SimpleNamespace(app=App("excel", "yes")), "仍要生成吗？", "生成通报") is True
    assert excel._confirm(SimpleNamespace(app=App("excel", "no")), "仍要生成吗？", "生成通报") is False
    assert asked == [("仍要生成吗？", "生成通报", "yes_no", "critical")] * 2
    assert excel._confirm(SimpleNamespace(app=App("remote", "yes")), "仍要生成吗？", "生成通报") is False
    assert len(asked) == 2


class DesktopSheet:
    """The part of xlwings' desktop Range API that merged_areas uses (merge_cells, merge_area, shape, row,
    column), answered from a real workbook's merged ranges the way Excel answers: merge_cells is True when
    the whole range is merged, False when none of it is, None when mixed."""

    def __init__(self, path: Path, sheet: str) -> None:
        ws = openpyxl.load_workbook(path)[sheet]
        self.areas = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in ws.merged_cells.ranges]
        self.rows = [list(r) for r in ws.iter_rows(values_only=True)]
        self.calls = 0

    def area_of(self, row: int, col: int):
        return next(((a, b, c, d) for a, b, c, d in self.areas if a <= row <= c and b <= col <= d), None)

    def range(self, first, last=None):
        self.calls += 1
        sheet = self
        last = last or first

        class Rng:
            row, column = first
            shape = (last[0] - first[0] + 1, last[1] - first[1] + 1)

            @property
            def merge_cells(self):
                flags = {
                    sheet.area_of(r, c) is not None
                    for r in range(first[0], last[0] + 1)
                    for c in range(first[1], last[1] + 1)
                }
                return flags.pop() if len(flags) == 1 else None

            @property
            def merge_area(self):
                a, b, c, d = sheet.area_of(*first) or (*first, *first)
                return sheet.range((a, b), (c, d))

        return Rng()


def test_merged_areas_as_the_desktop_engines_report_them():
    shipped = ROOT / "workbooks" / "示例台账.xlsx"
    sheet = DesktopSheet(shipped, LEDGER_SHEET)
    found = excel.merged_areas(sheet, sheet.rows)
    assert found == sorted(((a - 1, b - 1), (c - 1, d - 1)) for a, b, c, d in sheet.areas)
    assert found  # the shipped sample merges 方面 and 责任领导 down their rows
    # with them, the grid the desktop engines read gives exactly the sample's planted faults
    from toolkit.read import ledger_from_rows
    from toolkit.validate import validate_ledger

    ledger = ledger_from_rows(sheet.rows, sheet=LEDGER_SHEET, merged=found)
    assert set(validate_ledger(ledger, SAMPLE_AS_OF).flat()) == set(SAMPLE_FAULTS)

    plain = DesktopSheet(shipped, "通报信息")
    assert excel.merged_areas(plain, plain.rows) == [] and plain.calls == 1  # no merges: one call
