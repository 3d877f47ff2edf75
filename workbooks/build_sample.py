"""Rebuild workbooks/示例台账.xlsx from toolkit/sample.py: ``python workbooks/build_sample.py [OUT]``.

The workbook is laid out the way a clerk's real one is (title and 填报单位 rows above the header, a header
with a line break and an alias, 方面 and 责任领导 merged down their rows, real Excel dates beside text
deadlines), so the reader is exercised on the shipped sample and not only on tidy test grids.
The output is deterministic: the same data gives the same bytes.
"""

from __future__ import annotations

import math
import os
import sys
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout without installing
    sys.path.insert(0, str(ROOT))

from toolkit.config import FIELD_LABELS, FIELDS  # noqa: E402
from toolkit.sample import (  # noqa: E402
    SAMPLE_FILLED_ON,
    SAMPLE_INFO,
    SAMPLE_ROWS,
    SAMPLE_TITLE,
    SAMPLE_UNIT,
)

DEFAULT_PATH = ROOT / "workbooks" / "示例台账.xlsx"
LEDGER_SHEET = "台账"
INFO_SHEET = "通报信息"
TITLE_ROW, UNIT_ROW, HEADER_ROW = 0, 1, 2  # 0-based; data starts on Excel row 4
FIRST_DATA_ROW = HEADER_ROW + 1
CREATED = datetime(2024, 12, 31, 9, 0, 0)

# Headers as this clerk typed them: canonical, except a line break in one and an alias for another.
HEADERS: dict[str, str] = {**FIELD_LABELS, "dept": "责任\n部门", "status": "完成情况"}

# Column widths in Excel character units.
WIDTHS: dict[str, float] = {
    "seq": 5,
    "source": 10,
    "dimension": 11,
    "problem": 34,
    "measures": 46,
    "lead": 8,
    "dept": 10,
    "owner": 8,
    "deadline": 13,
    "progress": 26,
    "status": 9,
    "completed_on": 13,
    "outcome": 34,
    "evidence": 18,
    "remarks": 16,
}

MERGED_FIELDS = ("dimension", "lead")  # merged down consecutive rows holding the same value


def _runs(values: list[object], groups: list[object]) -> list[tuple[int, int]]:
    """(first, last) index runs of equal, non-empty values that stay inside one group."""
    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start] or groups[i] != groups[start]:
            if values[start] not in ("", None):
                runs.append((start, i - 1))
            start = i
    return runs


def _row_height(row: dict[str, object], merged: set[str]) -> float:
    """Enough height for the longest wrapped cell (about 2 width units per CJK character)."""
    lines = 1
    for field_id, width in WIDTHS.items():
        value = row.get(field_id)
        if field_id in merged or not isinstance(value, str) or not value:
            continue
        per_line = max(1, int((width - 1) / 2))
        lines = max(lines, math.ceil(len(value) / per_line))
    return 14.5 * lines + 4


def build_sample(path: str | os.PathLike[str] = DEFAULT_PATH) -> Path:
    """Write the sample ledger workbook to ``path`` (via a temporary file) and return the path."""
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    field_ids = [f.id for f in FIELDS]
    col = {field_id: i for i, field_id in enumerate(field_ids)}
    last_col = len(field_ids) - 1

    workbook = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
    workbook.set_properties(
        {
            "title": SAMPLE_TITLE,
            "author": SAMPLE_UNIT,
            "company": SAMPLE_UNIT,
            "created": CREATED,
        }
    )
    base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter", "text_wrap": True}
    fmt_title = workbook.add_format(
        {"font_name": "方正小标宋简体", "font_size": 18, "align": "center", "valign": "vcenter"}
    )
    fmt_unit = workbook.add_format({"font_name": "宋体", "font_size": 11, "valign": "vcenter"})
    fmt_unit_right = workbook.add_format(
        {"font_name": "宋体", "font_size": 11, "valign": "vcenter", "align": "right"}
    )
    fmt_header = workbook.add_format({**base, "bold": True, "align": "center", "bg_color": "#D9E1F2"})
    fmt_text = workbook.add_format({**base, "align": "left"})
    fmt_center = workbook.add_format({**base, "align": "center"})
    fmt_date = workbook.add_format({**base, "align": "center", "num_format": "yyyy/m/d"})

    ws = workbook.add_worksheet(LEDGER_SHEET)
    ws.merge_range(TITLE_ROW, 0, TITLE_ROW, last_col, SAMPLE_TITLE, fmt_title)
    ws.set_row(TITLE_ROW, 36)
    ws.merge_range(UNIT_ROW, 0, UNIT_ROW, 6, f"填报单位：{SAMPLE_UNIT}（盖章）", fmt_unit)
    ws.merge_range(UNIT_ROW, 7, UNIT_ROW, last_col, f"填报时间：{SAMPLE_FILLED_ON}", fmt_unit_right)
    ws.set_row(UNIT_ROW, 22)
    for field_id in field_ids:
        ws.write_string(HEADER_ROW, col[field_id], HEADERS[field_id], fmt_header)
        ws.set_column(col[field_id], col[field_id], WIDTHS[field_id])
    ws.set_row(HEADER_ROW, 32)

    centered = {"seq", "lead", "dept", "owner", "deadline", "status", "dimension"}
    for i, row in enumerate(SAMPLE_ROWS):
        r = FIRST_DATA_ROW + i
        ws.set_row(r, _row_height(row, set(MERGED_FIELDS)))
        for field_id in field_ids:
            value = row.get(field_id)
            c = col[field_id]
            fmt = fmt_center if field_id in centered else fmt_text
            if value is None or value == "":
                ws.write_blank(r, c, None, fmt)
            elif isinstance(value, date):
                ws.write_datetime(r, c, datetime(value.year, value.month, value.day), fmt_date)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value, fmt)
            else:
                ws.write_string(r, c, str(value), fmt)

    dimensions = [row["dimension"] for row in SAMPLE_ROWS]
    for field_id in MERGED_FIELDS:
        values = [row[field_id] for row in SAMPLE_ROWS]
        for first, last in _runs(values, dimensions):
            if last > first:
                ws.merge_range(
                    FIRST_DATA_ROW + first,
                    col[field_id],
                    FIRST_DATA_ROW + last,
                    col[field_id],
                    str(values[first]),
                    fmt_center,
                )

    ws.freeze_panes(FIRST_DATA_ROW, col["problem"])
    ws.set_landscape()
    ws.set_paper(8)  # A3
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.repeat_rows(HEADER_ROW)
    ws.fit_to_pages(1, 0)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.activate()

    info = workbook.add_worksheet(INFO_SHEET)
    info.set_column(0, 0, 12)
    info.set_column(1, 1, 90)
    info.write_string(0, 0, "项目", fmt_header)
    info.write_string(0, 1, "内容", fmt_header)
    entries: list[tuple[str, str]] = [
        ("单位", str(SAMPLE_INFO["unit"])),
        ("年度", str(SAMPLE_INFO["year"])),
        ("会议", str(SAMPLE_INFO["meeting"])),
        ("成文日期", str(SAMPLE_INFO["date"])),
    ]
    entries += [("存在问题", str(text)) for text in SAMPLE_INFO["problems"]]  # type: ignore[union-attr]
    entries += [("下一步打算", str(text)) for text in SAMPLE_INFO["plans"]]  # type: ignore[union-attr]
    for i, (key, text) in enumerate(entries, start=1):
        info.write_string(i, 0, key, fmt_center)
        info.write_string(i, 1, text, fmt_text)
        info.set_row(i, 14.5 * max(1, math.ceil(len(text) / 44)) + 4)
    info.freeze_panes(1, 0)

    workbook.close()
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = build_sample(args[0] if args else DEFAULT_PATH)
    print(f"已生成示例台账：{out}（{len(SAMPLE_ROWS)} 条整改事项）")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
