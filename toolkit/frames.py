"""pandas DataFrames of a ledger, its findings, its counts and the district roll-up, for analysts.

Nothing in the toolkit needs pandas to do its work: the command line and the buttons count in plain Python
and never import this module. It is for whoever wants to go further with the same numbers — an analyst in
Jupyter, or an xlwings user putting a table on a sheet (``sheet["A1"].value = stats_frame(stats)``).
pandas is imported inside each function, so importing this module costs nothing until a frame is made.

Columns are named in Chinese, as a clerk reads them: the ledger's canonical headers (those of
``ledger new`` and ``ledger merge``), the status names of the vocabulary (已完成, 正在整改 …) and the
headings of the 通报's tables (问题数, 超期, 完成率). A frame written back to Excel needs no renaming;
code that prefers field ids has ``toolkit.config.FIELD_LABELS`` (id → header). Rates are percentages
rounded the way the 通报 prints them (70.6 means 70.6%), NaN where there is nothing to count.

In Jupyter::

    from datetime import date
    from toolkit import frames
    from toolkit.read import read_ledger
    from toolkit.stats import ledger_stats
    from toolkit.units import collect_files, run_many
    from toolkit.validate import validate_ledger

    as_of = date(2024, 12, 31)
    ledger = read_ledger("示例台账.xlsx", as_of=as_of)  # as_of: the year of "6月底前"
    items = frames.ledger_frame(ledger, as_of)      # one row per problem, indexed by Excel row
    items[items["超期"]].groupby("责任部门").size()  # who has overdue items
    frames.findings_frame(validate_ledger(ledger, as_of))
    frames.stats_frame(ledger_stats(ledger, as_of, "dept"))

    results = list(run_many(collect_files(["各单位台账/"]), as_of, "report"))
    table = frames.district_frame(results)
    table["完成率"]                                  # units × 方面, with a 合计 row and column
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

from toolkit.config import COMPLETED_STATUSES, FIELD_LABELS, FIELDS, STATUS_LABELS
from toolkit.layout import SEVERITY_LABELS
from toolkit.model import DateValue, ItemColumns
from toolkit.rules import overdue_indices
from toolkit.stats import GROUP_FIELDS, GroupStats, percent
from toolkit.units import UnitResult, sum_groups

if TYPE_CHECKING:
    import pandas

    from toolkit.model import Ledger, Report
    from toolkit.stats import Stats

TOTAL = "合计"

# GroupStats.as_dict keys that are not status counters → their column in stats_frame
COUNT_LABELS: dict[str, str] = {
    "total": "问题数",
    "unknown": "状态不明",  # blank or not in the vocabulary: never counted as done
    "no_status": "未填状态",  # of 状态不明: blank, or no column to read it from
    "pending": "正在推进",  # neither completed nor long-term, as the 通报's tables say
    "overdue": "超期",
    "on_time": "按期完成",
    "rate": "完成率",
    "on_time_rate": "按期完成率",
    "closed_rate": "销号率",
}

RATE_COLUMNS = ("完成率", "按期完成率", "销号率")  # percentages: float, NaN when nothing can be counted
# district_frame's measures: the columns of the district 通报's ranking table
DISTRICT_MEASURES = ("问题数", "已完成", "超期", "完成率")


def _datetimes(dates: list[DateValue]) -> list[datetime | None]:
    """Each parsed date as a datetime (pandas makes datetime64 of them), None where the cell holds none."""
    return [datetime(d.value.year, d.value.month, d.value.day) if d.value else None for d in dates]


def ledger_frame(ledger: Ledger, as_of: date | None = None) -> pandas.DataFrame:
    """One row per problem, indexed by its Excel row (``行号``).

    The ledger's columns under their canonical headers (问题描述, 责任部门 …), each cell's text as shown;
    方面 always (filled down, or from the section headings). Then what the reader understood:

    - ``状态``: the status name from the vocabulary (已完成, 正在整改 …), None when blank or unrecognised;
    - ``已完成``: True when the status counts as completed (已完成, 已销号);
    - ``整改时限日期``, ``完成时间日期``: the dates as datetime64 (NaT where the cell holds no date);
    - ``超期`` (only with ``as_of``): still open and past its deadline, as ``ledger stats`` counts it.
    """
    import pandas as pd

    table = ItemColumns.of(ledger.items)
    present = set(ledger.columns) | {"dimension"}
    data: dict[str, object] = {}
    for spec in FIELDS:
        if spec.id == "dimension":
            data[spec.header] = table.dimensions
        elif spec.id in present:
            data[spec.header] = list(table.column(spec.id))
    statuses = table.statuses
    data["状态"] = [STATUS_LABELS.get(s) if s else None for s in statuses]
    data["已完成"] = [s in COMPLETED_STATUSES for s in statuses]
    data["整改时限日期"] = pd.to_datetime(_datetimes(table.deadlines))
    data["完成时间日期"] = pd.to_datetime(_datetimes(table.completed_on))
    if as_of is not None:
        overdue = [False] * len(statuses)
        for i in overdue_indices(statuses, table.deadlines, as_of):
            overdue[i] = True
        data["超期"] = overdue
    return pd.DataFrame(data, index=pd.Index(table.rows, name="行号"))


def findings_frame(report: Report) -> pandas.DataFrame:
    """One row per finding, in the report's order: where it is, how serious, what to do.

    Columns: 单元格 (C5), 行 and 列 (empty for a finding about the whole sheet), 字段 (the canonical header),
    级别 (错误/提醒/提示), 代码 (the stable code, e.g. ``overdue``), 内容 (the cell's text), 说明 (the message).
    """
    import pandas as pd

    findings = report.findings
    return pd.DataFrame(
        {
            "单元格": [f.cell for f in findings],
            "行": pd.array([f.row for f in findings], dtype="Int64"),
            "列": [f.column for f in findings],
            "字段": [FIELD_LABELS.get(f.field, f.field) if f.field else None for f in findings],
            "级别": [SEVERITY_LABELS.get(f.severity, f.severity) for f in findings],
            "代码": [f.code for f in findings],
            "内容": [f.value for f in findings],
            "说明": [f.message for f in findings],
        }
    )


def _stats_columns(group: GroupStats, decimals: int) -> dict[str, object]:
    values = group.as_dict(decimals)
    del values["name"]
    return {COUNT_LABELS.get(key) or STATUS_LABELS[key]: value for key, value in values.items()}


def stats_frame(stats: Stats) -> pandas.DataFrame:
    """The counts of ``ledger stats``: one row per group (方面, 责任部门 or 责任领导) and a 合计 row last.

    Columns: 问题数, one per status (已完成 counts 已销号 too, as the completion rate does), 状态不明,
    未填状态, 正在推进, 超期, 按期完成, and the rates 完成率, 按期完成率, 销号率 (percentages, NaN when
    nothing can be counted) — the same figures as ``ledger stats --json``.
    """
    import pandas as pd

    groups = [*stats.groups, stats.total]
    rows = [_stats_columns(g, stats.decimals) for g in groups]
    index = pd.Index([g.name for g in stats.groups] + [TOTAL], name=GROUP_FIELDS[stats.by])
    return pd.DataFrame(rows, index=index).astype(dict.fromkeys(RATE_COLUMNS, float))


def _measures(group: GroupStats | None, decimals: int) -> tuple[int, int, int, float | None]:
    """问题数, 已完成, 超期, 完成率 of one cell of the cross-table."""
    if group is None:  # the unit has no problem of this 方面
        return 0, 0, 0, None
    return group.total, group.completed, group.overdue, percent(group.rate, decimals)


def district_frame(results: Iterable[UnitResult], decimals: int = 1) -> pandas.DataFrame:
    """The district cross-table: units × 方面, for each of 问题数, 已完成, 超期 and 完成率.

    ``results``: the units' summaries from ``toolkit.units.run_many(files, as_of, "report")`` (the
    "stats" mode has no 方面: only the 合计 column then). Files that could not be read are left out.
    Rows are the units in file order (a unit named by two files appears twice, as in every roll-up), then
    合计; the columns are a two-level index (指标, 方面), the 方面 in order of first appearance, then 合计.
    ``table["完成率"]`` is the table of rates; the 合计 row and column give the figures of the district
    通报 (``toolkit.district.district_context``): a 方面's counts summed over the units, its rate from them.
    """
    import pandas as pd

    units = [r for r in results if r.ok and r.total is not None]
    dimensions = list(dict.fromkeys(g.name for unit in units for g in unit.dimensions))
    grid: list[list[GroupStats | None]] = []  # one row per unit: its group of each 方面, then its total
    for unit in units:
        by_name = {g.name: g for g in unit.dimensions}
        grid.append([by_name.get(name) for name in dimensions] + [unit.total])
    columns = [*dimensions, TOTAL]
    grid.append(
        [sum_groups(name, (g for row in grid if (g := row[c]) is not None)) for c, name in enumerate(columns)]
    )
    cells = [[_measures(group, decimals) for group in row] for row in grid]
    data = {
        (measure, column): [row[c][m] for row in cells]
        for m, measure in enumerate(DISTRICT_MEASURES)
        for c, column in enumerate(columns)
    }
    frame = pd.DataFrame(data, index=pd.Index([u.unit for u in units] + [TOTAL], name="单位"))
    frame.columns = pd.MultiIndex.from_tuples(list(data), names=["指标", "方面"])
    return frame.astype({("完成率", column): float for column in columns})
