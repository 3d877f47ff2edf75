"""The shipped sample: exactly the planted faults in its data; the built workbook reads back as laid out."""

from __future__ import annotations

import importlib.util
from datetime import date, datetime
from pathlib import Path

import pytest

from toolkit.config import DEFAULT_CONFIG, FIELDS
from toolkit.sample import (
    SAMPLE_AS_OF,
    SAMPLE_DIMENSIONS,
    SAMPLE_FAULTS,
    SAMPLE_INFO,
    SAMPLE_ROWS,
    SAMPLE_TITLE,
)

ROOT = Path(__file__).resolve().parents[1]
FIRST_DATA_ROW = 4  # Excel row of the first item
FIELD_IDS = [f.id for f in FIELDS]


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_sample", ROOT / "workbooks" / "build_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return _load_builder().build_sample(tmp_path_factory.mktemp("sample") / "示例台账.xlsx")


def _excel_row(seq: int) -> int:
    index = next(i for i, row in enumerate(SAMPLE_ROWS) if row["seq"] == seq)
    return FIRST_DATA_ROW + index


# --- the data ------------------------------------------------------------------------------------------


def test_rows_cover_five_dimensions_in_order():
    assert len(SAMPLE_DIMENSIONS) == 5
    assert 30 <= len(SAMPLE_ROWS) <= 36
    order = list(dict.fromkeys(row["dimension"] for row in SAMPLE_ROWS))
    assert order == list(SAMPLE_DIMENSIONS)
    assert all(set(row) == set(FIELD_IDS) for row in SAMPLE_ROWS)


def test_text_has_real_length():
    for row in SAMPLE_ROWS:
        assert 40 <= len(row["problem"]) <= 120, row["seq"]
        assert 70 <= len(row["measures"]) <= 200, row["seq"]
        assert "一是" in row["measures"] and "二是" in row["measures"], row["seq"]
        if row["outcome"]:
            assert 40 <= len(row["outcome"]) <= 120, row["seq"]


def test_deadline_forms_are_mixed():
    deadlines = [row["deadline"] for row in SAMPLE_ROWS]
    texts = {d for d in deadlines if isinstance(d, str)}
    assert sum(isinstance(d, date) for d in deadlines) >= 15
    assert {"2024年9月底前", "2024年底", "6月底前", "立行立改", "长期坚持", "2024.9.30"} <= texts


def _faults_found_by_hand() -> list[tuple[int, str, str]]:
    """An independent, deliberately plain check of the rules the planted faults exercise."""
    col = {field_id: chr(ord("A") + i) for i, field_id in enumerate(FIELD_IDS)}
    found = []
    seen_problems: set[str] = set()
    previous_seq = 0
    for i, row in enumerate(SAMPLE_ROWS):
        r = FIRST_DATA_ROW + i
        status = DEFAULT_CONFIG.status_for(row["status"])
        if row["seq"] != previous_seq + 1:
            found.append((r, col["seq"], "seq-gap"))
        previous_seq = row["seq"]
        for field_id in ("dimension", "problem", "measures", "lead", "dept", "owner", "deadline", "status"):
            if row[field_id] in ("", None):
                found.append((r, col[field_id], "missing-value"))
        if row["problem"] in seen_problems:
            found.append((r, col["problem"], "duplicate-problem"))
        seen_problems.add(row["problem"])
        if status is None:
            found.append((r, col["status"], "unknown-status"))
        elif status in ("completed", "closed"):
            if row["completed_on"] is None:
                found.append((r, col["completed_on"], "missing-completion-date"))
            else:
                assert row["completed_on"] <= SAMPLE_AS_OF, row["seq"]
                if isinstance(row["deadline"], date):
                    assert row["completed_on"] <= row["deadline"], row["seq"]
                assert row["outcome"], row["seq"]
            if status == "closed" and not row["evidence"]:
                found.append((r, col["evidence"], "closed-without-evidence"))
        else:
            assert row["completed_on"] is None, row["seq"]
            deadline = row["deadline"]
            if deadline == "2024年9月底前":
                found.append((r, col["deadline"], "overdue"))
            elif isinstance(deadline, date):
                assert (deadline - SAMPLE_AS_OF).days > DEFAULT_CONFIG.due_soon_days, row["seq"]
            else:
                assert deadline == "长期坚持" and status == "long_term", row["seq"]
    return found


def test_exactly_the_documented_faults_are_planted():
    assert _faults_found_by_hand() == list(SAMPLE_FAULTS)
    assert 5 <= len(SAMPLE_FAULTS) <= 7


def test_fault_rows_match_their_seq():
    assert _excel_row(4) == 7
    assert _excel_row(10) == 13
    assert _excel_row(15) == 18
    assert _excel_row(18) == 20
    assert _excel_row(19) == 21 and _excel_row(14) == 17
    assert _excel_row(24) == 26
    assert _excel_row(31) == 33


def test_info_lists_have_three_items_without_ordinals():
    assert SAMPLE_INFO["unit"] == "某街道党工委"
    assert SAMPLE_INFO["year"] == "2024"
    for key in ("problems", "plans"):
        assert len(SAMPLE_INFO[key]) == 3
        assert not any(text.startswith(("一是", "二是", "三是")) for text in SAMPLE_INFO[key])


# --- the workbook --------------------------------------------------------------------------------------


def test_openpyxl_reads_layout_merges_and_dates(built):
    import openpyxl

    wb = openpyxl.load_workbook(built)
    assert wb.sheetnames == ["台账", "通报信息"]
    ws = wb["台账"]
    assert ws["A1"].value == SAMPLE_TITLE
    assert ws["A2"].value.startswith("填报单位：")
    assert ws["H2"].value.startswith("填报时间：")
    header = [ws.cell(3, c).value for c in range(1, 16)]
    assert [DEFAULT_CONFIG.field_for_header(h) for h in header] == FIELD_IDS
    assert header[6] == "责任\n部门" and header[10] == "完成情况"
    assert ws.max_row == FIRST_DATA_ROW + len(SAMPLE_ROWS) - 1 == 36
    assert ws.freeze_panes == "D4"

    merged = {str(r) for r in ws.merged_cells.ranges}
    assert merged == {
        "A1:O1",
        "A2:G2",
        "H2:O2",
        "C4:C10",
        "C11:C16",
        "C17:C23",
        "C24:C29",
        "C30:C36",
        "F4:F5",
        "F8:F10",
        "F11:F12",
        "F13:F15",
        "F24:F25",
        "F27:F28",
        "F30:F31",
        "F32:F35",
    }
    assert ws["C4"].value == SAMPLE_DIMENSIONS[0] and ws["C30"].value == SAMPLE_DIMENSIONS[4]

    assert ws["I4"].is_date and ws["I4"].value == datetime(2024, 6, 30)
    assert ws["L4"].is_date and ws["L4"].value == datetime(2024, 6, 25)
    assert ws["I5"].value == "2024年底" and ws["I20"].value == "2024.9.30"
    assert ws["L7"].value is None  # the planted missing completion date
    assert ws["K13"].value == "已完城"
    assert ws["H33"].value is None
    assert ws["A20"].value == 18 and ws["A19"].value == 16


def test_calamine_reads_rows_dates_and_info(built):
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(built))
    rows = wb.get_sheet_by_name("台账").to_python()
    assert len(rows) == 36
    items = rows[FIRST_DATA_ROW - 1 :]
    assert [int(r[0]) for r in items] == [row["seq"] for row in SAMPLE_ROWS]
    assert [r[3] for r in items] == [row["problem"] for row in SAMPLE_ROWS]
    for r, row in zip(items, SAMPLE_ROWS, strict=True):
        for field_id in ("deadline", "completed_on"):
            value = r[FIELD_IDS.index(field_id)]
            expected = row[field_id]
            if isinstance(expected, date):
                assert type(value) is date and value == expected
            else:
                assert value == (expected or "")

    info = wb.get_sheet_by_name("通报信息").to_python()
    assert info[0] == ["项目", "内容"]
    pairs = info[1:]
    assert pairs[:4] == [
        ["单位", "某街道党工委"],
        ["年度", "2024"],
        ["会议", "民主生活会"],
        ["成文日期", "2024年12月31日"],
    ]
    assert [v for k, v in pairs if k == "存在问题"] == SAMPLE_INFO["problems"]
    assert [v for k, v in pairs if k == "下一步打算"] == SAMPLE_INFO["plans"]


def test_build_is_deterministic_and_matches_committed_copy(built, tmp_path):
    again = _load_builder().build_sample(tmp_path / "again.xlsx")
    assert again.read_bytes() == built.read_bytes()
    assert (ROOT / "workbooks" / "示例台账.xlsx").read_bytes() == built.read_bytes(), (
        "workbooks/示例台账.xlsx is stale: run python workbooks/build_sample.py"
    )


# --- the engine on the shipped workbook (runs once toolkit.read / toolkit.validate are merged) --------------


def test_read_ledger_reads_the_sample(built):
    read = pytest.importorskip("toolkit.read")
    ledger = read.read_ledger(built)
    assert ledger.sheet == "台账"
    assert len(ledger.items) == len(SAMPLE_ROWS) == 33
    assert ledger.dimensions == list(SAMPLE_DIMENSIONS)
    assert [item.row for item in ledger.items] == list(range(FIRST_DATA_ROW, FIRST_DATA_ROW + 33))
    assert [item.dimension for item in ledger.items] == [row["dimension"] for row in SAMPLE_ROWS]
    assert [item.get("lead") for item in ledger.items] == [row["lead"] for row in SAMPLE_ROWS]
    assert set(ledger.columns) == set(FIELD_IDS)
    assert ledger.info == SAMPLE_INFO


def test_validate_finds_the_planted_faults(built):
    read = pytest.importorskip("toolkit.read")
    validate = pytest.importorskip("toolkit.validate")
    report = validate.validate_ledger(read.read_ledger(built), SAMPLE_AS_OF)
    found = {(f.row, f.code) for f in report.findings if f.severity in ("error", "warning")}
    planted = {(row, code) for row, _column, code in SAMPLE_FAULTS}
    assert planted <= found
    # most rows are clean: errors fall only on planted rows (and on the first copy of the duplicate)
    error_rows = {f.row for f in report.findings if f.severity == "error"}
    assert error_rows <= {row for row, _code in planted} | {17}
