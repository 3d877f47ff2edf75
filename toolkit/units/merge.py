"""The merged ledger (``ledger merge``): one canonical ledger, 单位 first, and a findings sheet per unit.

Rows are streamed into XlsxWriter's constant-memory mode as the units come in, so a district's worth of
ledgers never sits in memory at once; the file is written to a temporary name and replaces the target
only when complete.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from toolkit.config import DEFAULT_CONFIG, FIELDS, Config
from toolkit.errors import OutputError
from toolkit.stats import format_rate
from toolkit.units.collect import collect_files
from toolkit.units.rollup import NothingReadError, nothing_read_message, repeated_units, repeated_units_notes
from toolkit.units.run import run_many
from toolkit.units.summary import UnitResult

MERGED_SHEET = "汇总台账"
FINDINGS_SHEET = "各单位校验情况"
EXCEL_MAX_ROWS = 1_048_576

# the columns of the findings sheet, in this order; codes not listed follow, sorted
FINDING_CODES = (
    "missing-column",
    "missing-value",
    "unknown-status",
    "unknown-dimension",
    "bad-deadline",
    "bad-date",
    "missing-completion-date",
    "completion-in-future",
    "late-completion",
    "overdue",
    "due-soon",
    "closed-without-evidence",
    "duplicate-problem",
    "seq-gap",
    "seq-duplicate",
    "formula-error",
)


@dataclass(slots=True)
class MergeResult:
    output: Path
    units: int
    rows: int
    failures: list[UnitResult]
    repeated: list[dict] = field(default_factory=list)  # see repeated_units

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def message(self) -> str:
        text = f"已汇总 {self.units} 个单位、{self.rows} 条问题，写入“{self.output}”。"
        if self.failures:
            text += f"另有 {len(self.failures)} 个文件未能读取，原因见“{FINDINGS_SHEET}”工作表。"
        for note in repeated_units_notes(self.repeated):
            text += f"\n注意：{note}"
        return text


def merge_ledgers(
    paths: Iterable[str | os.PathLike],
    output: str | os.PathLike,
    as_of: date,
    config: Config = DEFAULT_CONFIG,
    *,
    force: bool = False,
    jobs: int | None = None,
    progress: bool | None = None,
) -> MergeResult:
    """Write one canonical ledger (单位 first) and a findings sheet, streaming rows as units come in."""
    import xlsxwriter

    from toolkit.safesave import replacing

    out = Path(output)
    if out.exists() and not force:
        raise OutputError(f"“{out}”已存在；如需覆盖，请加 --force，或用 -o 指定其他文件名。")
    if (out.parent / f"~${out.name}").exists():
        raise OutputError(f"“{out}”正在被 Excel/WPS 打开，请先关闭后重试。")
    files = collect_files(paths, exclude=[out])
    summaries: list[UnitResult] = []
    row_count = 0
    with replacing(out, keep_mode=False) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_formulas": False})
        header_fmt = book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True})
        date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
        text_fmt = book.add_format({"text_wrap": False})
        sheet = book.add_worksheet(MERGED_SHEET)
        headers = ["单位", *(spec.header for spec in FIELDS)]
        for col, header in enumerate(headers):
            sheet.write_string(0, col, header, header_fmt)
        widths = {0: 16, 1: 6, 4: 40, 5: 40, 9: 14, 10: 30, 12: 12}
        for col in range(len(headers)):
            sheet.set_column(col, col, widths.get(col, 12))
        sheet.freeze_panes(1, 1)
        excel_row = 1
        for result in run_many(files, as_of, "merge", config, jobs=jobs, progress=progress):
            if excel_row + len(result.rows) > EXCEL_MAX_ROWS:
                raise OutputError(
                    f"汇总后超过 Excel 单个工作表的行数上限（{EXCEL_MAX_ROWS} 行），请分批汇总（例如按街道分文件夹）。"
                )
            for values in result.rows:
                sheet.write_string(excel_row, 0, result.unit)
                for col, value in enumerate(values, start=1):
                    write_cell(sheet, excel_row, col, value, date_fmt, text_fmt)
                excel_row += 1
            row_count += len(result.rows)
            result.rows = []  # written: drop them
            summaries.append(result)
        if excel_row > 1:
            sheet.autofilter(0, 0, excel_row - 1, len(headers) - 1)
        ok = [s for s in summaries if s.ok]
        failures = [s for s in summaries if not s.ok]
        if not ok:
            raise NothingReadError(nothing_read_message(failures))
        write_findings_sheet(book, summaries, header_fmt, config.rate_decimals)
        book.close()
    return MergeResult(out, len(ok), row_count, failures, repeated_units(ok))


def write_cell(sheet, row: int, col: int, value: object, date_fmt, text_fmt) -> None:
    """Strings stay strings (a cell starting with '=' is never a formula); dates are real dates."""
    if isinstance(value, datetime | date):
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        sheet.write_datetime(row, col, moment, date_fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value)
    elif value is None or value == "":
        return
    else:
        sheet.write_string(row, col, str(value))


def write_findings_sheet(book, summaries: Sequence[UnitResult], header_fmt, decimals: int) -> None:
    sheet = book.add_worksheet(FINDINGS_SHEET)
    seen = {code for s in summaries for code in s.findings}
    codes = [c for c in FINDING_CODES if c in seen] + sorted(seen - set(FINDING_CODES))
    headers = ["单位", "文件", "读取结果", "问题总数", "完成率", "错误", "提醒", *codes]
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, header_fmt)
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 24)
    sheet.set_column(2, 2, 40)
    sheet.set_column(3, len(headers) - 1, 10)
    for r, s in enumerate(summaries, start=1):
        sheet.write_string(r, 0, s.unit or Path(s.file).stem)
        sheet.write_string(r, 1, Path(s.file).name)
        if not s.ok:
            sheet.write_string(r, 2, f"未能读取：{s.reason}")
            continue
        sheet.write_string(r, 2, "已读取")
        assert s.total is not None
        sheet.write_number(r, 3, s.total.total)
        sheet.write_string(r, 4, format_rate(s.total.rate, decimals))
        sheet.write_number(r, 5, s.errors)
        sheet.write_number(r, 6, s.warnings)
        for c, code in enumerate(codes, start=7):
            sheet.write_number(r, c, s.findings.get(code, 0))
