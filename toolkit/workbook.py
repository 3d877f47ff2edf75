"""``ledger new``: the ledger workbook a clerk fills in, built with XlsxWriter.

Sheets, in order: 台账 (the ledger: header, dropdowns, date checks, conditional colours, print set-up and
the three buttons), 统计 (live COUNTIFS per 方面 and a bar chart of the rates, so the numbers move as the
clerk types, even without Python), 通报信息 (what the 通报 needs besides the rows), 配置 (the dimension list,
the status vocabulary and two parameters; the dropdowns read from it and ``config_from_rows`` turns it
back into a Config), a hidden _整改台账标记 (which cells the 校验台账 button coloured, and their
previous fill) and xlwings.conf (the interpreter the buttons start).

The sheet layout (names, rows, columns, colours, the 配置 blocks) is a contract with ``toolkit.excel`` (the
buttons) and ``toolkit.read``: it is defined once, in ``toolkit.layout``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from toolkit.config import DEFAULT_CONFIG, FIELDS, Config
from toolkit.errors import OutputError
from toolkit.layout import (
    BUTTON_CAPTIONS,
    BUTTON_COL,
    COLUMN_WIDTHS,
    CONFIG_DIMENSIONS_HEADER,
    CONFIG_MAX_DIMENSIONS,
    CONFIG_PARAM_HEADERS,
    CONFIG_SHEET,
    CONFIG_STATUS_HEADERS,
    DIM_COL,
    DONE_FILL,
    ERROR_FILL,
    FIRST_DATA_ROW,
    HEADER_ROW,
    INFO_LISTS,
    INFO_SCALARS,
    INFO_SHEET,
    LAST_DATA_ROW,
    LEDGER_SHEET,
    MARKS_HEADERS,
    MARKS_SHEET,
    NAME_DIMENSIONS,
    NAME_DUE_SOON,
    NAME_STATUSES,
    NOTE_COL,
    PARAM_COL,
    PARAMS,
    SHEET_CODENAMES,
    STATS_SHEET,
    STATUS_COL,
    TITLE_ROW,
    WARNING_FILL,
    WORKBOOK_CODENAME,
    XLWINGS_CONF_SHEET,
)
from toolkit.model import column_letter
from toolkit.texttable import display_width

SUFFIXES = (".xlsm", ".xlsx")


@dataclass
class WorkbookSpec:
    """What goes into a new ledger workbook: plain data, no Excel objects."""

    unit: str = ""
    year: str = ""
    meeting: str = "民主生活会"
    dimensions: Sequence[str] = ()
    rows: Sequence[Mapping[str, Any]] = ()
    info: Mapping[str, Any] = field(default_factory=dict)
    interpreter: str | None = None  # None: leave xlwings to its defaults (a workbook shipped to others)
    pythonpath: str | None = None
    config: Config = DEFAULT_CONFIG
    created: datetime | None = None  # fixed for a reproducible file (the shipped sample); None: now


def _status_label(config: Config, status_id: str) -> str:
    return config.status_spec(status_id).label


def _done_labels(config: Config) -> list[str]:
    return [s.label for s in config.statuses if s.completed]


def default_interpreter() -> str | None:
    """The Python running now; on Windows prefer pythonw.exe beside it so no console window flashes.
    None inside the offline Windows bundle (``<kit>\\python\\python.exe`` beside ``<kit>\\ledger.bat``):
    its set-up points each user's xlwings.conf at the installed kit, and a path written into the workbook
    would break once the unzipped folder is moved or deleted."""
    exe = Path(sys.executable)
    if (exe.parent.parent / "ledger.bat").is_file() and any(exe.parent.glob("python3*._pth")):
        return None
    if os.name == "nt" and exe.name.lower() == "python.exe":
        windowed = exe.with_name("pythonw.exe")
        if windowed.exists():
            return str(windowed)
    return str(exe)


def default_pythonpath() -> str | None:
    """The checkout holding ``toolkit`` when it is not installed into site-packages, else None."""
    root = Path(__file__).resolve().parents[1]
    if any(part in ("site-packages", "dist-packages") for part in root.parts):
        return None
    return str(root)


def build_workbook(path: str | os.PathLike, spec: WorkbookSpec, vba_project: bytes | None = None) -> Path:
    """Write the ledger workbook to ``path`` (.xlsm with ``vba_project``, else .xlsx without buttons)."""
    import xlsxwriter

    path = Path(path)
    macros = vba_project is not None
    config = spec.config
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
    try:
        styles = _styles(wb)
        ledger_ws = wb.add_worksheet(LEDGER_SHEET)
        stats_ws = wb.add_worksheet(STATS_SHEET)
        info_ws = wb.add_worksheet(INFO_SHEET)
        config_ws = wb.add_worksheet(CONFIG_SHEET)
        marks_ws = wb.add_worksheet(MARKS_SHEET)
        conf_ws = wb.add_worksheet(XLWINGS_CONF_SHEET)

        dimensions = list(dict.fromkeys(d.strip() for d in spec.dimensions if d and d.strip()))
        _write_config(wb, config_ws, styles, dimensions, config)
        _write_ledger(wb, ledger_ws, styles, spec, macros)
        _write_stats(wb, stats_ws, styles, dimensions, spec)
        _write_info(info_ws, styles, spec)
        _write_marks(marks_ws, styles)
        _write_xlwings_conf(conf_ws, styles, spec)
        ledger_ws.activate()
        if macros:
            wb.set_vba_name(WORKBOOK_CODENAME)
            for ws in wb.worksheets():
                ws.set_vba_name(SHEET_CODENAMES[ws.name])
            wb.add_vba_project(BytesIO(vba_project), is_stream=True)
        properties: dict[str, Any] = {"title": "整改台账", "comments": "由整改台账工具箱生成"}
        if spec.created is not None:
            properties["created"] = spec.created
        wb.set_properties(properties)
    finally:
        wb.close()
    return path


def _styles(wb: Any) -> dict[str, Any]:
    base = {"font_name": "宋体", "font_size": 11, "valign": "vcenter"}
    return {
        "title": wb.add_format({**base, "bold": True, "font_size": 16, "align": "left"}),
        "hint": wb.add_format({**base, "font_color": "#595959", "text_wrap": True, "valign": "top"}),
        "header": wb.add_format(
            {**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center", "text_wrap": True}
        ),
        "cell": wb.add_format(
            {**base, "text_wrap": True, "valign": "top", "border": 1, "border_color": "#BFBFBF"}
        ),
        "date": wb.add_format(
            {
                **base,
                "num_format": "yyyy-mm-dd",
                "valign": "top",
                "align": "left",
                "border": 1,
                "border_color": "#BFBFBF",
            }
        ),
        "number": wb.add_format({**base, "num_format": "0", "valign": "top", "align": "center"}),
        "count": wb.add_format({**base, "num_format": "0", "align": "center", "border": 1}),
        "rate": wb.add_format({**base, "num_format": "0.0%", "align": "center", "border": 1}),
        "name": wb.add_format({**base, "text_wrap": True, "border": 1}),
        "total": wb.add_format({**base, "bold": True, "border": 1, "align": "center"}),
        "total_rate": wb.add_format(
            {**base, "bold": True, "num_format": "0.0%", "align": "center", "border": 1}
        ),
        "wrap": wb.add_format({**base, "text_wrap": True, "valign": "top"}),
        "plain": wb.add_format(base),
        "error": wb.add_format({"bg_color": ERROR_FILL}),
        "warning": wb.add_format({"bg_color": WARNING_FILL}),
        "done": wb.add_format({"bg_color": DONE_FILL}),
    }


def _col(field_id: str) -> int:
    for index, spec in enumerate(FIELDS):
        if spec.id == field_id:
            return index
    raise KeyError(field_id)


def _abs(field_id: str) -> str:
    """Absolute 台账 data range of a field, e.g. 台账!$K$3:$K$5002."""
    letter = column_letter(_col(field_id))
    return f"{LEDGER_SHEET}!${letter}${FIRST_DATA_ROW}:${letter}${LAST_DATA_ROW}"


def _write_cell(ws: Any, row: int, col: int, value: Any, text_fmt: Any, date_fmt: Any, num_fmt: Any) -> None:
    """User data keeps its type; text is always written as text, never as a formula."""
    if value is None or value == "":
        ws.write_blank(row, col, None, text_fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", text_fmt)
    elif isinstance(value, datetime | date):
        when = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        ws.write_datetime(row, col, when, date_fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, num_fmt)
    else:
        ws.write_string(row, col, str(value), text_fmt)


def buttons() -> list[tuple[str, str]]:
    """(caption, VBA Sub) of each button, from the VBA project's own table so the two cannot drift."""
    from toolkit.vba import BUTTON_MACROS

    return [(caption, BUTTON_MACROS[caption]) for caption in BUTTON_CAPTIONS]


def _row_height(row: Mapping[str, Any]) -> float:
    """Tall enough for the longest wrapped cell: not every office suite fits wrapped rows on open."""
    lines = 1
    for fspec in FIELDS:
        value = row.get(fspec.id)
        if isinstance(value, str) and value:
            per_line = max(1, int(COLUMN_WIDTHS.get(fspec.id, 14)) - 1)
            wrapped = sum(max(1, -(-display_width(part) // per_line)) for part in value.splitlines() or [""])
            lines = max(lines, wrapped)
    return min(409.0, 15.0 * lines + 3)


def _write_ledger(wb: Any, ws: Any, styles: dict[str, Any], spec: WorkbookSpec, macros: bool) -> None:
    config = spec.config
    ncols = len(FIELDS)
    last_col = ncols - 1
    r0 = HEADER_ROW - 1  # 0-based header row
    title = f"{spec.unit}{spec.year}{'年度' if spec.year else ''}{spec.meeting}整改台账"
    ws.set_row(TITLE_ROW - 1, 36)
    ws.merge_range(TITLE_ROW - 1, 0, TITLE_ROW - 1, 4, title, styles["title"])
    ws.set_row(r0, 32)
    for col, fspec in enumerate(FIELDS):
        ws.write_string(r0, col, fspec.header, styles["header"])
        fmt = styles["date"] if fspec.id in ("deadline", "completed_on") else styles["cell"]
        ws.set_column(col, col, COLUMN_WIDTHS.get(fspec.id, 14), fmt)
    ws.freeze_panes(FIRST_DATA_ROW - 1, 0)
    ws.autofilter(r0, 0, LAST_DATA_ROW - 1, last_col)

    for i, row in enumerate(spec.rows):
        r = FIRST_DATA_ROW - 1 + i
        ws.set_row(r, _row_height(row))
        for col, fspec in enumerate(FIELDS):
            value = row.get(fspec.id)
            if value is None:
                continue
            _write_cell(ws, r, col, value, styles["cell"], styles["date"], styles["number"])

    first, last = FIRST_DATA_ROW - 1, LAST_DATA_ROW - 1
    dim_col, status_col = _col("dimension"), _col("status")
    deadline_col, done_col = _col("deadline"), _col("completed_on")
    ws.data_validation(
        first,
        dim_col,
        last,
        dim_col,
        {
            "validate": "list",
            "source": f"={NAME_DIMENSIONS}",
            "ignore_blank": True,
            "error_type": "warning",
            "error_title": "方面不在列表中",
            "error_message": "所填方面不在“配置”表的方面列表中。请从下拉列表选择，或先在“配置”表增加该方面。",
            "input_title": "方面",
            "input_message": "从下拉列表选择；列表在“配置”表维护。",
        },
    )
    labels = [s.label for s in config.statuses]
    ws.data_validation(
        first,
        status_col,
        last,
        status_col,
        {
            "validate": "list",
            "source": f"={NAME_STATUSES}",
            "ignore_blank": True,
            "error_type": "stop",
            "error_title": "完成状态无效",
            "error_message": f"请从下拉列表选择：{'、'.join(labels)}。"[:255],
            "input_title": "完成状态",
            "input_message": "从下拉列表选择完成状态。",
        },
    )
    ws.data_validation(
        first,
        done_col,
        last,
        done_col,
        {
            "validate": "date",
            "criteria": "between",
            "minimum": date(2000, 1, 1),
            "maximum": date(2099, 12, 31),
            "ignore_blank": True,
            "error_type": "stop",
            "error_title": "完成时间应为日期",
            "error_message": "请输入日期，例如 2024-06-30。",
            "input_title": "完成时间",
            "input_message": "整改完成（或销号）的日期，例如 2024-06-30。",
        },
    )
    # 整改时限 may be text (2024年底、长期坚持、立行立改): guide, do not forbid
    ws.data_validation(
        first,
        deadline_col,
        last,
        deadline_col,
        {
            "validate": "any",
            "input_title": "整改时限",
            "input_message": "填写日期（如 2024-12-31），或“2024年底”“长期坚持”“立行立改”等。",
        },
    )

    s = column_letter(status_col)
    d = column_letter(deadline_col)
    r = FIRST_DATA_ROW
    done = ",".join(f'${s}{r}="{label}"' for label in _done_labels(config))
    settled = ",".join(
        f'${s}{r}="{label}"'
        for label in [
            *_done_labels(config),
            _status_label(config, "long_term"),
            _status_label(config, "excluded"),
        ]
    )
    green = f"OR({done})"
    red = f"AND(ISNUMBER(${d}{r}),${d}{r}<TODAY(),NOT(OR({settled})))"
    yellow = f"AND(ISNUMBER(${d}{r}),${d}{r}>=TODAY(),${d}{r}-TODAY()<={NAME_DUE_SOON},NOT(OR({settled})))"
    ws.conditional_format(
        first,
        status_col,
        last,
        status_col,
        {"type": "formula", "criteria": "=" + green, "format": styles["done"]},
    )
    ws.conditional_format(
        first,
        deadline_col,
        last,
        deadline_col,
        {"type": "formula", "criteria": "=" + red, "format": styles["error"]},
    )
    ws.conditional_format(
        first,
        deadline_col,
        last,
        deadline_col,
        {"type": "formula", "criteria": "=" + yellow, "format": styles["warning"]},
    )

    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.repeat_rows(r0)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.hide_gridlines(0)

    if macros:
        for i, (caption, macro) in enumerate(buttons()):  # side by side, right of the title
            ws.insert_button(
                TITLE_ROW - 1,
                BUTTON_COL,
                {
                    "macro": macro,
                    "caption": caption,
                    "width": 96,
                    "height": 30,
                    "x_offset": 4 + 104 * i,
                    "y_offset": 3,
                },
            )
    else:
        ws.merge_range(
            TITLE_ROW - 1,
            BUTTON_COL,
            TITLE_ROW - 1,
            last_col,
            "本工作簿不含宏按钮。校验：ledger validate 文件名；"
            "生成通报：ledger report 文件名（在命令行运行）。",
            styles["hint"],
        )


def _initial_counts(spec: WorkbookSpec, dimensions: list[str]) -> dict[str, tuple]:
    """The 统计 numbers for the rows written now, from the engine (toolkit.stats): stored as the
    formulas' cached results so viewers that do not recalculate on open (LibreOffice by default,
    previews) show the right figures. Excel recalculates anyway."""
    from toolkit.read import ledger_from_rows
    from toolkit.stats import compute_stats

    counts: dict[str, tuple] = {}
    if not spec.rows:
        return counts
    header = [f.header for f in FIELDS]
    grid: list[list[object]] = [header] + [[row.get(f.id) for f in FIELDS] for row in spec.rows]
    ledger = ledger_from_rows(grid, sheet=LEDGER_SHEET, config=spec.config)
    stats = compute_stats(ledger.items, date.today(), "dimension", dimensions, spec.config)
    for group in [*stats.groups, stats.total]:
        rate = "" if group.rate is None else group.rate
        counts[group.name] = (
            group.total,
            group.completed,
            group.closed,
            group.long_term,
            group.pending,
            rate,
        )
    return counts


def _write_stats(wb: Any, ws: Any, styles: dict[str, Any], dimensions: list[str], spec: WorkbookSpec) -> None:
    """Live counts per 方面: the 方面 names link to the 配置 list so renaming there renames here."""
    config = spec.config
    headers = ("方面", "问题总数", "已完成", "其中已销号", "长期坚持", "正在推进", "完成率")
    widths = (40, 10, 10, 11, 10, 10, 10)
    ws.merge_range(0, 0, 0, len(headers) - 1, "各方面整改完成情况（随台账实时更新）", styles["title"])
    ws.set_row(0, 30)
    for col, (text, width) in enumerate(zip(headers, widths, strict=True)):
        ws.write_string(1, col, text, styles["header"])
        ws.set_column(col, col, width)
    dim = _abs("dimension")
    status = _abs("status")
    done = _done_labels(config)
    closed = _status_label(config, "closed")
    long_term = _status_label(config, "long_term")
    excluded = _status_label(config, "excluded")
    from toolkit.read import clean_dimension

    counts = _initial_counts(spec, dimensions)
    nrows = len(dimensions) if dimensions else 10
    first = 2  # 0-based row of the first 方面

    def formulas(name: str) -> list[str]:
        """Columns B–E for the rows whose 方面 matches ``name`` (a cell, or "<>" for any)."""
        return [
            f'COUNTIFS({dim},{name})-COUNTIFS({dim},{name},{status},"{excluded}")',
            "+".join(f'COUNTIFS({dim},{name},{status},"{label}")' for label in done),
            f'COUNTIFS({dim},{name},{status},"{closed}")',
            f'COUNTIFS({dim},{name},{status},"{long_term}")',
        ]

    for i in range(nrows):
        r = first + i
        row = r + 1
        cfg = f"{CONFIG_SHEET}!$A${i + 2}"  # 配置 list starts at A2
        label = dimensions[i] if i < len(dimensions) else ""
        cached = counts.get(clean_dimension(label), (0, 0, 0, 0, 0, "")) if label else ("",) * 6
        ws.write_formula(r, 0, f'=IF({cfg}="","",{cfg})', styles["name"], label)
        guard = f'IF($A{row}="","",'
        for col, body in enumerate([*formulas(f"$A{row}"), f"B{row}-C{row}-E{row}"], start=1):
            ws.write_formula(r, col, f"={guard}{body})", styles["count"], cached[col - 1])
        ws.write_formula(r, 6, f'=IF(N(B{row})=0,"",C{row}/B{row})', styles["rate"], cached[5])
    total_r = first + nrows
    tr = total_r + 1
    cached = counts.get("合计", (0, 0, 0, 0, 0, ""))
    ws.write_string(total_r, 0, "合计", styles["total"])
    for col, body in enumerate([*formulas('"<>"'), f"B{tr}-C{tr}-E{tr}"], start=1):
        ws.write_formula(total_r, col, f"={body}", styles["total"], cached[col - 1])
    ws.write_formula(total_r, 6, f'=IF(N(B{tr})=0,"",C{tr}/B{tr})', styles["total_rate"], cached[5])
    ws.merge_range(
        total_r + 2,
        0,
        total_r + 3,
        len(headers) - 1,
        f"说明：完成 = “{'”“'.join(done)}”；完成率 = 完成 ÷（总数 − “{excluded}”）；"
        "正在推进 = 总数 − 完成 − 长期坚持。"
        "方面名称取自“配置”表；增加方面后请在本表复制一行公式。点击“校验台账”按钮可查出状态填写不规范的行。",
        styles["hint"],
    )
    ws.set_row(total_r + 2, 30)

    chart = wb.add_chart({"type": "bar"})
    last_r = first + nrows - 1
    chart.add_series(
        {
            "name": "完成率",
            "categories": [STATS_SHEET, first, 0, last_r, 0],
            "values": [STATS_SHEET, first, 6, last_r, 6],
            "data_labels": {"value": True, "num_format": "0.0%"},
            "fill": {"color": "#5B9BD5"},
            "gap": 60,
        }
    )
    chart.set_title({"name": "各方面整改完成率", "name_font": {"name": "宋体", "size": 14}})
    chart.set_x_axis({"min": 0, "max": 1, "num_format": "0%", "major_gridlines": {"visible": True}})
    chart.set_y_axis({"reverse": True, "num_font": {"name": "宋体", "size": 9}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": max(260, 60 + 34 * nrows)})
    ws.insert_chart(1, len(headers) + 1, chart, {"x_offset": 10, "y_offset": 0})
    ws.freeze_panes(2, 0)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def _write_info(ws: Any, styles: dict[str, Any], spec: WorkbookSpec) -> None:
    info: dict[str, Any] = {"unit": spec.unit, "year": spec.year, "meeting": spec.meeting}
    info.update({k: v for k, v in spec.info.items() if v not in (None, "")})
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 90, styles["wrap"])
    ws.set_column(3, 3, 50, styles["hint"])
    ws.write_string(0, 0, "项目", styles["header"])
    ws.write_string(0, 1, "内容", styles["header"])
    r = 1
    for key, label in INFO_SCALARS:
        ws.write_string(r, 0, label, styles["plain"])
        value = info.get(key, "")
        if key == "year" and isinstance(value, str) and value.isdigit():
            value = int(value)
        _write_cell(ws, r, 1, value, styles["wrap"], styles["date"], styles["number"])
        r += 1
    for key, label in INFO_LISTS:
        values = info.get(key) or [""]
        if isinstance(values, str):
            values = [values]
        for i, value in enumerate(values):
            if i == 0:
                ws.write_string(r, 0, label, styles["plain"])
            ws.write_string(r, 1, str(value), styles["wrap"])
            r += 1
    ws.write_string(0, 3, "填写说明", styles["header"])
    ws.write_string(
        1,
        3,
        "“生成通报”按钮按本表填写通报的单位、年度、会议名称和成文日期。“存在问题”“下一步打算”每条一行："
        "第一行在 A 列写项目名称，后续各行 A 列留空即可；需要更多行时直接在下方插入。",
        styles["hint"],
    )
    ws.set_row(1, 90)


def _write_config(wb: Any, ws: Any, styles: dict[str, Any], dimensions: list[str], config: Config) -> None:
    ws.write_string(0, DIM_COL, CONFIG_DIMENSIONS_HEADER, styles["header"])
    ws.set_column(DIM_COL, DIM_COL, 40, styles["wrap"])
    for i, dim in enumerate(dimensions):
        ws.write_string(1 + i, DIM_COL, dim, styles["wrap"])
    for j, text in enumerate(CONFIG_STATUS_HEADERS):
        ws.write_string(0, STATUS_COL + j, text, styles["header"])
    ws.set_column(STATUS_COL, STATUS_COL, 12)
    ws.set_column(STATUS_COL + 1, STATUS_COL + 1, 40, styles["wrap"])
    ws.set_column(STATUS_COL + 2, STATUS_COL + 2, 10)
    for i, status in enumerate(config.statuses):
        ws.write_string(1 + i, STATUS_COL, status.label, styles["plain"])
        ws.write_string(1 + i, STATUS_COL + 1, "、".join(status.synonyms), styles["wrap"])
        counted = "是" if status.completed else ("不计入总数" if not status.counted else "否")
        ws.write_string(1 + i, STATUS_COL + 2, counted, styles["plain"])
    for j, text in enumerate(CONFIG_PARAM_HEADERS):
        ws.write_string(0, PARAM_COL + j, text, styles["header"])
    ws.set_column(PARAM_COL, PARAM_COL, 16)
    ws.set_column(PARAM_COL + 1, PARAM_COL + 1, 8)
    for i, (label, attr) in enumerate(PARAMS):
        ws.write_string(1 + i, PARAM_COL, label, styles["plain"])
        ws.write_number(1 + i, PARAM_COL + 1, getattr(config, attr), styles["plain"])
    ws.set_column(NOTE_COL, NOTE_COL, 50, styles["hint"])
    ws.write_string(0, NOTE_COL, "说明", styles["header"])
    ws.write_string(
        1,
        NOTE_COL,
        "方面列表：台账“方面”下拉框的选项，每行一个；校验时不在列表中的方面会被指出（列表为空则不检查）。"
        "完成状态：下拉框的选项；同义词一列可增加本单位习惯的写法（如“已办结”），校验和统计会把它们视同该状态；"
        "状态名称和“计入完成率”一列由统计规则决定，请勿修改。"
        "参数：临期提醒天数决定台账“整改时限”何时标黄及校验时的临期提醒。",
        styles["hint"],
    )
    ws.set_row(1, 150)
    dim_letter = column_letter(DIM_COL)
    last = 1 + CONFIG_MAX_DIMENSIONS
    wb.define_name(
        NAME_DIMENSIONS,
        f"=OFFSET({CONFIG_SHEET}!${dim_letter}$2,0,0,MAX(1,COUNTA({CONFIG_SHEET}!${dim_letter}$2:${dim_letter}${last})),1)",
    )
    st = column_letter(STATUS_COL)
    wb.define_name(NAME_STATUSES, f"={CONFIG_SHEET}!${st}$2:${st}${1 + len(config.statuses)}")
    pv = column_letter(PARAM_COL + 1)
    due_row = 2 + [attr for _, attr in PARAMS].index("due_soon_days")
    wb.define_name(NAME_DUE_SOON, f"={CONFIG_SHEET}!${pv}${due_row}")


def _write_marks(ws: Any, styles: dict[str, Any]) -> None:
    for col, text in enumerate(MARKS_HEADERS):
        ws.write_string(0, col, text, styles["header"])
    ws.hide()


def _write_xlwings_conf(ws: Any, styles: dict[str, Any], spec: WorkbookSpec) -> None:
    """xlwings reads column A (key) and B (value) from A1 down to the first blank: no header row here."""
    rows: list[tuple[str, str]] = []
    if spec.interpreter:
        rows += [("Interpreter_Win", spec.interpreter), ("Interpreter_Mac", spec.interpreter)]
    if spec.pythonpath:
        rows.append(("PYTHONPATH", spec.pythonpath))
    for r, (key, value) in enumerate(rows):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, value)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 60)
    ws.set_column(3, 3, 60, styles["hint"])
    ws.write_string(
        0,
        3,
        "本表供按钮使用（xlwings 设置）：Interpreter_Win / Interpreter_Mac 为 Python 程序的完整路径。"
        "留空则使用 xlwings 加载项或电脑上的默认 Python；换电脑后可改这里，或重新运行 ledger new。",
    )


# --- ledger new ----------------------------------------------------------------------------------------


def new_ledger(
    path: str | os.PathLike,
    *,
    unit: str = "",
    year: str | int | None = None,
    dimensions: Sequence[str] = (),
    sample: bool = False,
    force: bool = False,
    interpreter: str | bool | None = True,
    created: datetime | None = None,
) -> Path:
    """Create a ledger workbook at ``path``; refuse to overwrite unless ``force``.

    ``interpreter=True`` records the running Python in xlwings.conf (what ``ledger new`` does); a string
    records that path; None/False leaves it to xlwings' defaults (a workbook shipped to other machines).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise OutputError(
            f"“{path.name}”的扩展名应为 .xlsm（带按钮）或 .xlsx（不带宏），请修改文件名后重试。"
        )
    if path.exists() and not force:
        raise OutputError(f"文件“{path}”已存在；如确定要覆盖，请加 --force，或换一个文件名。")
    if path.is_dir():
        raise OutputError(f"“{path}”是一个文件夹，请给出工作簿文件名，例如 台账.xlsm。")
    lock = path.with_name("~$" + path.name)
    if lock.exists():
        raise OutputError(f"“{path.name}”正在 Excel 或 WPS 中打开，请先关闭后重试。")
    if not path.parent.exists():
        raise OutputError(f"文件夹“{path.parent}”不存在，请先创建或换一个位置。")

    rows: list[Mapping[str, Any]] = []
    info: dict[str, Any] = {}
    dims = list(dimensions)
    if sample:
        from toolkit import sample as sample_data

        rows = list(sample_data.SAMPLE_ROWS)
        info = dict(sample_data.SAMPLE_INFO)
        if not dims:
            dims = list(sample_data.SAMPLE_DIMENSIONS)
        for row in rows:  # a sample row's 方面 must be in the dropdown list
            dim = str(row.get("dimension") or "").strip()
            if dim and dim not in dims:
                dims.append(dim)
    if not unit and info.get("unit"):
        unit = str(info["unit"])
    if year is None:
        year = info.get("year") or date.today().year
    if interpreter is True:
        interp: str | None = default_interpreter()
        pythonpath = default_pythonpath()
    else:
        interp = interpreter or None
        pythonpath = None
    spec = WorkbookSpec(
        unit=unit,
        year=str(year),
        dimensions=dims,
        rows=rows,
        info=info,
        interpreter=interp,
        pythonpath=pythonpath,
        created=created,
    )
    vba = None
    if suffix == ".xlsm":
        from toolkit.vba import ledger_vba_project

        vba = ledger_vba_project([SHEET_CODENAMES[name] for name in SHEET_CODENAMES])

    from toolkit.safesave import replacing

    with replacing(path) as tmp:
        build_workbook(tmp, spec, vba)
    return path
