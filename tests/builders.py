"""Build real ledger workbooks for tests with XlsxWriter (a different writer from the one we read with).

``HEADERS`` is the header row of a common clerk's ledger: the other test helpers derive theirs from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

# the eleven columns most ledgers the tests use have, in this order
HEADERS = [
    "序号",
    "方面",
    "问题描述",
    "整改措施",
    "责任领导",
    "责任部门",
    "责任人",
    "整改时限",
    "完成状态",
    "完成时间",
    "佐证材料",
]


def row(
    seq: object = None,
    dimension: str = "理论学习",
    problem: str = "理论学习不够深入系统",
    measures: str = "一是坚持每周集中学习；二是开展专题研讨。",
    lead: str = "王书记",
    dept: str = "党政办",
    owner: str = "张三",
    deadline: object = date(2024, 6, 30),
    status: str = "已完成",
    completed_on: object = date(2024, 5, 20),
    evidence: str = "学习记录",
) -> list[object]:
    return [seq, dimension, problem, measures, lead, dept, owner, deadline, status, completed_on, evidence]


def write_ledger(
    path: Path,
    rows: Sequence[Sequence[object]],
    headers: Sequence[str] = HEADERS,
    *,
    title_rows: Sequence[str] = (),
    sheet: str = "台账",
    merged: Sequence[tuple[int, int, int, int]] = (),
    info: Sequence[Sequence[object]] | None = None,
    before: Sequence[str] = (),
    workbook_options: dict | None = None,
    date_format: str = "yyyy-mm-dd",
) -> Path:
    """Title rows, a header, then rows; merged = (first_row, first_col, last_row, last_col) 0-based.
    ``info``: the 通报信息 sheet's rows (key, value); None leaves a cell empty."""
    wb = xlsxwriter.Workbook(str(path), workbook_options or {})
    date_cell = wb.add_format({"num_format": date_format})
    for name in before:
        wb.add_worksheet(name).write(0, 0, "封面")
    ws = wb.add_worksheet(sheet)
    r = 0
    for title in title_rows:
        ws.write_string(r, 0, title)
        r += 1
    for c, header in enumerate(headers):
        ws.write_string(r, c, header)
    r += 1
    first_data = r
    merged_cells = {(fr, fc) for fr, fc, _, _ in merged}
    for values in rows:
        for c, value in enumerate(values):
            if value is None or (r - first_data, c) in merged_cells:
                continue
            if isinstance(value, datetime | date):
                ws.write_datetime(r, c, datetime(value.year, value.month, value.day), date_cell)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value)
            elif isinstance(value, str) and value.startswith("="):
                ws.write_formula(r, c, value)
            else:
                ws.write_string(r, c, value)
        r += 1
    for fr, fc, lr, lc in merged:
        value = rows[fr][fc]
        ws.merge_range(first_data + fr, fc, first_data + lr, lc, value if value is not None else "")
    if info is not None:
        info_sheet = wb.add_worksheet("通报信息")
        for i, (key, value) in enumerate(info):
            if key is not None:
                info_sheet.write_string(i, 0, str(key))
            if value is None:
                continue
            if isinstance(value, date):
                info_sheet.write_datetime(i, 1, datetime(value.year, value.month, value.day), date_cell)
            else:
                info_sheet.write_string(i, 1, str(value))
    wb.close()
    return path
