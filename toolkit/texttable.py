"""What the terminal shows: the findings, the counts and other tables as plain text, columns aligned by
display width (a CJK character takes two).

Kept apart from the stages so that printing a table (``ledger stats --by unit``, ``ledger history``)
imports nothing heavy on the way; the stages' modules are imported by the function that needs them.
"""

from __future__ import annotations


def display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [display_width(h) for h in headers]
    for row in rows:
        widths = [max(w, display_width(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c + " " * (w - display_width(c)) for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def format_report(report, mapping: str = "") -> str:
    """The findings as an aligned plain-text table (no rich: the click path stays light); ``mapping``:
    the line saying how the headers were understood."""
    from toolkit.config import FIELD_LABELS
    from toolkit.layout import SEVERITY_LABELS

    lines = [f"文件：{report.file}    工作表：{report.sheet}    统计日期：{report.as_of.isoformat()}"]
    if mapping:
        lines.append(mapping)
    lines.append(f"共 {report.rows} 条问题；发现 {report.errors} 处错误、{report.warnings} 处提醒。")
    if report.findings:
        lines.append("")
        header = ("单元格", "级别", "字段", "说明")
        rows = [
            (
                f.cell or "—",
                SEVERITY_LABELS.get(f.severity, f.severity),
                FIELD_LABELS.get(f.field or "", "—"),
                f.message,
            )
            for f in report.findings
        ]
        widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(3)]
        for row in [header, *rows]:
            lines.append("  ".join(_pad(row[i], widths[i]) for i in range(3)) + "  " + row[3])
    if report.truncated:
        lines.append(f"（另有 {report.truncated} 处未列出：问题过多，请先修正上面的错误。）")
    return "\n".join(lines)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def format_stats(stats) -> str:
    from toolkit.stats import GROUP_FIELDS, format_rate

    decimals = stats.decimals
    header = (
        GROUP_FIELDS.get(stats.by, stats.by),
        "问题数",
        "已完成",
        "长期坚持",
        "正在推进",
        "超期",
        "完成率",
    )

    def unknown(g) -> bool:  # no item says whether it is done: no counts to show, never a silent 0%
        return g.total > 0 and g.no_status >= g.total

    rows = [
        (g.name, g.total, *(["—"] * 3 if unknown(g) else [g.completed, g.long_term, g.pending]), g.overdue,
         format_rate(g.rate, decimals))
        for g in [*stats.groups, stats.total]
    ]  # fmt: skip
    cells = [tuple(str(c) for c in r) for r in [header, *rows]]
    widths = [max(display_width(r[i]) for r in cells) for i in range(len(header))]
    lines = [f"统计日期：{stats.as_of.isoformat()}"]
    for r in cells:
        lines.append(
            "  ".join(
                _pad(r[0], widths[0]) if i == 0 else r[i].rjust(widths[i] - display_width(r[i]) + len(r[i]))
                for i in range(len(r))
            )
        )
    t = stats.total
    rate = format_rate(t.rate, decimals)
    if t.rate is None and t.no_status:
        rate += "（台账没有完成状态列）" if stats.status_from is None else "（完成状态均未填写）"
    lines.append(
        f"整改完成率 {rate}；按期完成率 {format_rate(t.on_time_rate, decimals)}；"
        f"销号率 {format_rate(t.closed_rate, decimals)}。"
    )
    if stats.status_from is None:
        lines.append(
            f"台账没有完成状态列，{t.no_status}条问题无法判断是否完成；请补上“完成状态”或“是否完成”列。"
        )
    elif t.no_status:
        where = "完成状态" if stats.status_from == "status" else "整改进展"
        lines.append(f"有{t.no_status}条问题的“{where}”为空，无法判断是否完成，按未完成计。")
    if stats.status_from == "progress":
        lines.append(
            "台账没有完成状态列，完成状态按“整改进展”的文字判断：写明已完成的计为已完成，其余按未完成计。"
        )
    return "\n".join(lines)
