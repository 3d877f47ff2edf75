"""The ``ledger`` command: one subcommand per library function, thin on purpose.

Each command parses its options, makes one library call and prints the result.
Errors a user can cause are LedgerError: one Chinese sentence on stderr, exit code 2.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

import click

from toolkit.errors import LedgerError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def fail(message: str, code: int = 2) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn LedgerError (and a few OS errors) into one sentence and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # a short-lived process building ~100k small objects: cyclic GC passes only cost time
        gc.disable()
        try:
            return func(*args, **kwargs)
        except LedgerError as exc:
            fail(str(exc), exc.exit_code)
        except PermissionError as exc:
            fail(f"没有权限读写“{exc.filename}”，请检查文件是否被占用或设为只读。")
        except KeyboardInterrupt:
            fail("已中止。", 130)
        except Exception as exc:  # a bug of ours: still no traceback for the clerk
            if os.environ.get("LEDGER_DEBUG"):
                raise
            fail(
                f"处理时发生内部错误（{type(exc).__name__}: {exc}），请把所用文件和这句话反馈给维护人员；"
                "设置环境变量 LEDGER_DEBUG=1 可查看详细信息。",
                3,
            )

    return wrapper


def parse_as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"“{value}”不是有效日期，请写成 YYYY-MM-DD，例如 2024-12-31。") from None


as_of_option = click.option(
    "--as-of", callback=parse_as_of, metavar="YYYY-MM-DD", help="按哪一天判断超期（默认今天）。"
)
sheet_option = click.option("--sheet", metavar="名称", help="台账所在工作表（默认自动识别）。")
config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), metavar="FILE", help="TOML 配置文件。"
)
json_option = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")


def finish(code: int = 0) -> None:
    """Exit without tearing down a 100k-item ledger object by object (a real process only)."""
    if sys.stdout is sys.__stdout__ and sys.stderr is sys.__stderr__:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def echo_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="zhenggai-toolkit", message="整改台账工具箱 %(version)s")
def main() -> None:
    """整改台账工具箱：校验台账、统计完成率、生成整改落实情况通报。

    \b
    示例：
      ledger validate 台账.xlsx
      ledger stats 台账.xlsx --by dept
    """


def _config(path: str | None):
    from toolkit.config import load_config

    return load_config(path)


SEVERITY_LABELS = {"error": "错误", "warning": "提醒", "info": "提示"}


def format_report(report) -> str:
    """The findings as an aligned plain-text table (no rich: the click path stays light)."""
    from toolkit.config import FIELD_LABELS

    lines = [f"文件：{report.file}    工作表：{report.sheet}    统计日期：{report.as_of.isoformat()}"]
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
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(3)]
        for row in [header, *rows]:
            lines.append("  ".join(_pad(row[i], widths[i]) for i in range(3)) + "  " + row[3])
    if report.truncated:
        lines.append(f"（另有 {report.truncated} 处未列出：问题过多，请先修正上面的错误。）")
    return "\n".join(lines)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


mark_option = click.option(
    "--mark", is_flag=True, help="把校验结果标记在工作簿里（上色、批注、校验结果表），原文件先备份。"
)


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@as_of_option
@sheet_option
@config_option
@json_option
@mark_option
@user_errors
def validate(
    path: str, as_of: date, sheet: str | None, config_path: str | None, as_json: bool, mark: bool = False
) -> None:
    """校验台账：逐格检查，列出所有错误和提醒。

    退出码：0 无错误，1 有错误，2 文件无法使用，3 （--mark）标记写入了副本、原文件未改动。

    \b
    示例：
      ledger validate 台账.xlsx --as-of 2024-12-31
      ledger validate 台账.xlsx --json > 结果.json
      ledger validate 台账.xlsx --mark
    """
    from toolkit.api import check

    ledger, report = check(path, as_of=as_of, sheet=sheet, config=_config(config_path))
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo(format_report(report))
    if mark and write_marks(path, ledger, report, quiet=as_json):
        finish(3)
    finish(0 if report.valid else 1)


BY_CHOICES = ["dimension", "dept", "lead"]
BY_LABELS = {"dimension": "方面", "dept": "责任部门", "lead": "责任领导"}


def format_stats(stats) -> str:
    from toolkit.stats import format_rate

    decimals = stats.decimals
    header = (BY_LABELS.get(stats.by, stats.by), "问题数", "已完成", "长期坚持", "正在推进", "超期", "完成率")
    rows = [
        (g.name, g.total, g.completed, g.long_term, g.pending, g.overdue, format_rate(g.rate, decimals))
        for g in [*stats.groups, stats.total]
    ]
    cells = [tuple(str(c) for c in r) for r in [header, *rows]]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]
    lines = [f"统计日期：{stats.as_of.isoformat()}"]
    for r in cells:
        lines.append(
            "  ".join(
                _pad(r[0], widths[0]) if i == 0 else r[i].rjust(widths[i] - _width(r[i]) + len(r[i]))
                for i in range(len(r))
            )
        )
    t = stats.total
    lines.append(
        f"整改完成率 {format_rate(t.rate, decimals)}；按期完成率 {format_rate(t.on_time_rate, decimals)}；"
        f"销号率 {format_rate(t.closed_rate, decimals)}。"
    )
    return "\n".join(lines)


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--by", type=click.Choice(BY_CHOICES), default="dimension", show_default=True, help="按什么分组统计。"
)
@as_of_option
@sheet_option
@config_option
@json_option
@user_errors
def stats(path: str, by: str, as_of: date, sheet: str | None, config_path: str | None, as_json: bool) -> None:
    """统计完成率：按方面（或责任部门、责任领导）统计问题数、已完成、超期和完成率。

    \b
    示例：
      ledger stats 台账.xlsx
      ledger stats 台账.xlsx --by dept --json
    """
    from toolkit.read import read_ledger
    from toolkit.stats import ledger_stats

    config = _config(config_path)
    ledger = read_ledger(path, sheet=sheet, config=config)
    result = ledger_stats(ledger, as_of, by=by, config=config)
    if as_json:
        echo_json(result.as_dict())
    else:
        click.echo(format_stats(result))
    finish(0)


# ---------------------------------------------------------------- 生成通报 (report, template)


def parse_doc_date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    return parse_as_of(ctx, param, value)


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "-t", "--template", type=click.Path(dir_okay=False), metavar="模板.docx", help="自定义 Word 模板。"
)
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False),
    metavar="通报.docx",
    help="输出文件（默认在台账旁，以标题命名）。",
)
@as_of_option
@sheet_option
@config_option
@click.option("--unit", metavar="单位", help="单位（通报信息表未填写时使用）。")
@click.option("--year", type=int, metavar="年度", help="年度，如 2024（通报信息表未填写时使用）。")
@click.option("--meeting", metavar="会议", help="会议名称，如 民主生活会（通报信息表未填写时使用）。")
@click.option(
    "--date", "doc_date", callback=parse_doc_date, metavar="YYYY-MM-DD", help="成文日期（默认为统计日期）。"
)
@click.option("--annex", is_flag=True, help="附上整改台账明细表。")
@click.option("--no-chart", is_flag=True, help="不插入完成率图表。")
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 生成 PDF。")
@click.option("--allow-errors", is_flag=True, help="台账有错误时仍然生成通报。")
@user_errors
def report(
    path: str,
    template: str | None,
    out: str | None,
    as_of: date,
    sheet: str | None,
    config_path: str | None,
    unit: str | None,
    year: int | None,
    meeting: str | None,
    doc_date: date | None,
    annex: bool,
    no_chart: bool,
    pdf: bool,
    allow_errors: bool,
) -> None:
    """生成通报：按 GB/T 9704 格式写出整改落实情况通报（Word）。

    单位、年度、会议、成文日期、存在问题、下一步打算优先取台账的“通报信息”表，其次取命令行选项。
    台账有错误时不生成（退出码 1），加 --allow-errors 仍然生成。

    \b
    示例：
      ledger report 台账.xlsx --as-of 2024-12-31
      ledger report 台账.xlsx -t 我的模板.docx -o 通报.docx --pdf
    """
    from toolkit.api import check
    from toolkit.render import ReportOptions, convert_to_pdf, render_report

    config = _config(config_path)
    ledger, found = check(path, as_of=as_of, sheet=sheet, config=config)
    if not found.valid and not allow_errors:
        click.echo(format_report(found), err=True)
        fail(
            f"台账有 {found.errors} 处错误，未生成通报：请先修正上面的错误，或加 --allow-errors 仍然生成。", 1
        )
    options = ReportOptions(
        unit=unit, year=year, meeting=meeting, date=doc_date, annex=annex, chart=not no_chart, config=config
    )
    result = render_report(ledger, as_of=as_of, template=template, out=out, options=options, report=found)
    for note in result.notes:
        click.echo(f"提示：{note}", err=True)
    if not found.valid:
        click.echo(f"提示：台账有 {found.errors} 处错误，通报中的数字可能不准确。", err=True)
    click.echo(f"已生成通报：{result.path}")
    if pdf:
        click.echo(f"已生成 PDF：{convert_to_pdf(result.path)}")


@main.command("template")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="覆盖已有文件。")
@user_errors
def template_command(out: str, force: bool) -> None:
    """写出默认通报模板，供在 Word 中修改措辞、加上版头后用 -t 使用。

    模板中可用的变量见 docs/模板变量.md。

    \b
    示例：
      ledger template 通报模板.docx
      ledger report 台账.xlsx -t 通报模板.docx
    """
    from toolkit.render import write_default_template

    click.echo(f"已写出默认模板：{write_default_template(out, force=force)}")


# --------------------------------------------------------------------------- marks in the file (issue 5)


def write_marks(path: str, ledger, report, *, quiet: bool = False) -> bool:
    """Write the marks; print one sentence (stderr when stdout carries JSON). True when it went to a copy."""
    from toolkit.filemarks import mark_file

    result = mark_file(path, ledger, report)
    click.echo(result.message, err=quiet or result.to_copy)
    return result.to_copy


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@user_errors
def clear(path: str) -> None:
    """清除标记：去掉 --mark 留下的颜色、批注和校验结果表，用户自己的格式和批注不动。

    原文件先备份到旁边的“整改台账备份”文件夹。退出码：0 成功，2 文件无法使用或无法写入。

    \b
    示例：
      ledger clear 台账.xlsx
    """
    from toolkit.filemarks import clear_file

    click.echo(clear_file(path).message)
