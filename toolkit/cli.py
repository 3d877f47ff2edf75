"""The ``ledger`` command: one subcommand per library function, thin on purpose.

Each command parses its options, makes one library call and prints the result.
Errors a user can cause are LedgerError: one Chinese sentence on stderr, exit code 2.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import date
from typing import Any, NoReturn

import click

from toolkit import fastpath
from toolkit.errors import LedgerError, invalid_name_message
from toolkit.texttable import format_report, format_stats

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
MAX_PATH = 260


def long_path(value: str) -> str:
    """On Windows, a path of MAX_PATH (260) characters or more as an extended-length ``\\\\?\\`` path.

    Deep folders on a shared drive and long Chinese file names pass 260 characters easily; Windows
    refuses such paths unless long paths are enabled in the registry (admin rights, rarely done), but
    accepts the ``\\\\?\\`` form, which every file call then passes through (Python's, calamine's)."""
    if os.name != "nt" or value.startswith("\\\\?\\"):
        return value
    full = os.path.abspath(value)
    if len(full) < MAX_PATH - 12:  # headroom for a temp, backup or copy name beside the file
        return value
    return "\\\\?\\UNC\\" + full[2:] if full.startswith("\\\\") else "\\\\?\\" + full


class LedgerPath(click.Path):
    """click.Path, made usable on Windows however long the path (see long_path)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        converted = super().convert(value, param, ctx)
        return long_path(converted) if isinstance(converted, str) else converted


def fail(message: str, code: int = 2) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn LedgerError (and a few OS errors) into one sentence and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _plain_process():
            fastpath.start_command()
        try:
            return func(*args, **kwargs)
        except LedgerError as exc:
            fail(str(exc), exc.exit_code)
        except click.exceptions.ClickException:  # usage errors keep click's own message and exit code 2
            raise
        except SystemExit:
            raise
        except PermissionError as exc:
            fail(f"没有权限读写“{exc.filename}”，请检查文件是否被占用或设为只读。")
        except KeyboardInterrupt:
            fail("已中止。", 130)
        except Exception as exc:  # a bug of ours: still no traceback for the clerk
            if sentence := invalid_name_message(exc):  # (an OSError, on Windows only)
                fail(sentence)
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
    "--config", "config_path", type=LedgerPath(), metavar="FILE", help="TOML 配置文件。"
)
json_option = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
columns_option = click.option(
    "--columns",
    metavar="表头=字段,…",
    help='说明台账中的表头各是哪个字段（字段名用中文），如 --columns "主责单位=责任部门,内容=问题描述"。',
)

history_path_option = click.option(
    "--history",
    "history_path",
    type=LedgerPath(),
    metavar="FILE",
    help="历史记录文件（默认：台账旁的隐藏文件 .台账文件名.history.sqlite）。",
)
no_history_option = click.option("--no-history", is_flag=True, help="本次不记录历史快照。")
jobs_option = click.option(
    "--jobs", type=click.IntRange(1, 256), metavar="N", help="并行读取的进程数（默认：CPU 核数）。"
)


def _plain_process() -> bool:
    """Run as a command (not inside a test runner that captures the output)."""
    return sys.stdout is sys.__stdout__ and sys.stderr is sys.__stderr__


def finish(code: int = 0) -> NoReturn:
    """End the command with ``code``: a real process at once, without tearing down what it read."""
    if _plain_process():
        fastpath.exit_now(code)
    sys.exit(code)


def echo_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def tolerate_code_page() -> None:
    """stdout that is not UTF-8 puts "?" for a character its code page lacks instead of failing.

    On Chinese Windows, output redirected to a file or a pipe is encoded in the ANSI code page (cp936)
    when Python runs without ``-X utf8`` (``python -m toolkit … > 结果.txt``); a ledger's text may hold
    anything (✓, emoji, ⑳), and a UnicodeEncodeError halfway through a report helps nobody. (A console
    window is written in UTF-16 and needs nothing; stderr already escapes what it cannot encode.)
    Both "strict" and "surrogateescape" (what Python picked under Wine) fail on such a character."""
    stream = sys.stdout
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    if stream is None or encoding in ("utf8", "utf8sig", "utf16", "utf32"):
        return
    if getattr(stream, "errors", None) not in ("strict", "surrogateescape"):
        return  # already tolerant (replace, backslashreplace…)
    with contextlib.suppress(AttributeError, ValueError):
        stream.reconfigure(errors="replace")


class LedgerGroup(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        if _plain_process():
            tolerate_code_page()
        return super().main(*args, **kwargs)


@click.group(cls=LedgerGroup, context_settings=CONTEXT)
@click.version_option(package_name="zhenggai-toolkit", message="整改台账工具箱 %(version)s")
def main() -> None:
    """整改台账工具箱：校验台账、统计完成率、生成整改落实情况通报。

    \b
    示例：
      ledger validate 台账.xlsx
      ledger stats 台账.xlsx --by dept
    """


def _config(path: str | None, columns: str | None = None):
    from toolkit.config import FROM_COMMAND_LINE, load_config, parse_columns_option

    config = load_config(path)
    return config.with_corrections(parse_columns_option(columns), FROM_COMMAND_LINE) if columns else config


mark_option = click.option(
    "--mark", is_flag=True, help="把校验结果标记在工作簿里（上色、批注、校验结果表），原文件先备份。"
)


@main.command()
@click.argument("path", type=LedgerPath())
@as_of_option
@sheet_option
@config_option
@columns_option
@json_option
@history_path_option
@no_history_option
@mark_option
@user_errors
def validate(
    path: str,
    as_of: date,
    sheet: str | None,
    config_path: str | None,
    as_json: bool,
    history_path: str | None = None,
    no_history: bool = False,
    mark: bool = False,
    columns: str | None = None,
) -> None:
    """校验台账：逐格检查，列出所有错误和提醒。

    退出码：0 无错误，1 有错误，2 文件无法使用，3 （--mark）标记写入了副本、原文件未改动。
    每次校验记录一次历史快照（--no-history 不记录）。

    \b
    示例：
      ledger validate 台账.xlsx --as-of 2024-12-31
      ledger validate 台账.xlsx --json > 结果.json
      ledger validate 台账.xlsx --mark
      ledger validate 台账.xlsx --columns "主责单位=责任部门,内容=问题描述"
    """
    config = _config(config_path, columns)
    if _plain_process():
        fastpath.read_one_workbook(path)  # a big workbook: the job goes on in a forked child
    _validate_body(path, as_of, sheet, config, as_json, history_path, no_history, mark)


def _validate_body(path, as_of, sheet, config, as_json, history_path, no_history, mark) -> None:
    from toolkit.api import check, check_and_record

    history_failure = None
    if no_history:
        ledger, report = check(path, as_of=as_of, sheet=sheet, config=config)
    else:
        ledger, report, history_failure = check_and_record(
            path, as_of, sheet, config, command="validate", history_path=history_path
        )
        if history_failure and not mark:  # with --mark, told after the marks: one sentence if both fail
            from toolkit.history import warn

            warn(history_failure)
    from toolkit.headers import mapping_json, mapping_line

    used = ledger.config or config
    if as_json:
        echo_json(report.as_dict() | {"columns": mapping_json(ledger.mapping, used)})
    else:
        click.echo(format_report(report, mapping_line(ledger.mapping, used)))
    if mark:
        try:
            to_copy = write_marks(path, ledger, report, quiet=as_json)
        except LedgerError as exc:
            if history_failure:
                exc.args = (f"{str(exc).rstrip('。')}；本次结果也未能记入历史。",)
            raise
        if history_failure:
            from toolkit.history import warn

            warn(history_failure)
        if to_copy:
            finish(3)
    finish(0 if report.valid else 1)


BY_CHOICES = ["dimension", "dept", "lead"]


@main.command()
@click.argument("paths", nargs=-1, required=True, type=LedgerPath(), metavar="PATH...")
@click.option(
    "--by",
    type=click.Choice([*BY_CHOICES, "unit"]),
    default="dimension",
    show_default=True,
    help="按什么分组统计；unit：多个单位的台账（文件夹或多个文件）逐单位统计。",
)
@as_of_option
@sheet_option
@config_option
@columns_option
@json_option
@jobs_option
@user_errors
def stats(
    paths: tuple[str, ...],
    by: str,
    as_of: date,
    sheet: str | None,
    config_path: str | None,
    as_json: bool,
    jobs: int | None = None,
    columns: str | None = None,
) -> None:
    """统计完成率：按方面（或责任部门、责任领导）统计问题数、已完成、超期和完成率。

    --by unit 时 PATH 可以是文件夹或多个文件，每个单位一行；退出码 0 全部读取，1 部分文件未能读取
    （已列出原因），2 没有可用的台账。

    \b
    示例：
      ledger stats 台账.xlsx
      ledger stats 台账.xlsx --by dept --json
      ledger stats 各单位台账/ --by unit
    """
    from toolkit.read import read_ledger
    from toolkit.stats import GROUP_FIELDS, ledger_stats

    config = _config(config_path, columns)
    if by == "unit":
        if sheet is not None:
            raise LedgerError(
                "--by unit 时各单位的工作表自动识别，不能用 --sheet 指定；请去掉 --sheet 后重试。"
            )
        if columns:
            raise LedgerError(
                "--by unit 时各单位台账的表头各自识别，不能用 --columns；请在各单位工作簿的“配置”表中写表头对照，"
                "或在 --config 配置文件的 [columns] 中写明。"
            )
        stats_by_unit_command(paths, as_of, config, as_json, jobs)
        return
    if len(paths) != 1 or os.path.isdir(paths[0]):
        raise LedgerError(
            f"按“{GROUP_FIELDS[by]}”统计时只能指定一个台账文件；统计多个单位的台账请加 --by unit。"
        )
    path = paths[0]
    ledger = read_ledger(path, sheet=sheet, config=config, as_of=as_of)
    result = ledger_stats(ledger, as_of, by=by, config=ledger.config or config)
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


def _kind_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A label or alias of toolkit.render.kinds, checked here so a typo is one Chinese sentence."""
    if value is None:
        return None
    from toolkit.render.kinds import kind_choices, kind_named

    found = kind_named(value)
    if found is None:
        raise click.BadParameter(f"无法识别的整改类型“{value}”，请改为以下之一：{kind_choices()}。")
    return found.label


kind_option = click.option(
    "--kind",
    callback=_kind_option,
    metavar="整改类型",
    help="整改类型：民主生活会、组织生活会、巡视巡察反馈、审计发现问题、督察督查反馈、主题教育检视问题、"
    "专项整治、其他整改（默认取通报信息表的“整改类型”，其次按台账标题判断）。",
)


@main.command()
@click.argument("path", type=LedgerPath())
@click.option("-t", "--template", type=LedgerPath(), metavar="模板.docx", help="自定义 Word 模板。")
@click.option(
    "-o",
    "--out",
    type=LedgerPath(),
    metavar="通报.docx",
    help="输出文件（默认在台账旁，以标题命名）。",
)
@as_of_option
@sheet_option
@config_option
@columns_option
@click.option("--unit", metavar="单位", help="单位（通报信息表未填写时使用）。")
@click.option("--year", type=int, metavar="年度", help="年度，如 2024（通报信息表未填写时使用）。")
@click.option(
    "--meeting",
    metavar="会议",
    help="会议或检查名称，如 民主生活会、区委第三巡察组、区审计局（通报信息表未填写时使用）。",
)
@kind_option
@click.option(
    "--date", "doc_date", callback=parse_doc_date, metavar="YYYY-MM-DD", help="成文日期（默认为统计日期）。"
)
@click.option("--annex", is_flag=True, help="附上整改台账明细表。")
@click.option("--no-chart", is_flag=True, help="不插入完成率图表。")
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 生成 PDF。")
@click.option("--allow-errors", is_flag=True, help="台账有错误时仍然生成通报。")
@history_path_option
@no_history_option
@jobs_option
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
    kind: str | None,
    doc_date: date | None,
    annex: bool,
    no_chart: bool,
    pdf: bool,
    allow_errors: bool,
    history_path: str | None = None,
    no_history: bool = False,
    jobs: int | None = None,
    columns: str | None = None,
) -> None:
    """生成通报：按 GB/T 9704 格式写出整改落实情况通报（Word）。

    单位、年度、会议、成文日期、存在问题、下一步打算优先取台账的“通报信息”表，其次取命令行选项。
    台账有错误时不生成（退出码 1），加 --allow-errors 仍然生成。每次生成记录一次历史快照。

    PATH 是文件夹时，汇总其中各单位的台账，生成区级通报（--unit 为发文单位）：退出码 0 全部读取，
    1 部分台账未能读取（已在通报中列出）。

    \b
    示例：
      ledger report 台账.xlsx --as-of 2024-12-31
      ledger report 台账.xlsx -t 我的模板.docx -o 通报.docx --pdf
      ledger report 巡察整改台账.xlsx --kind 巡视巡察反馈 --meeting 区委第三巡察组
      ledger report 各单位台账/ --unit 某某区委组织部 --meeting 民主生活会
    """
    from toolkit.api import check
    from toolkit.api import report as write_report
    from toolkit.render import ReportOptions, convert_to_pdf

    if os.path.isdir(path):
        unused = [
            name
            for name, given in (
                ("--sheet", sheet),
                ("--year", year),
                ("--annex", annex),
                ("--kind", kind),
                ("--columns", columns),
            )
            if given
        ]
        if unused:
            raise LedgerError(f"生成区级通报时不能使用 {'、'.join(unused)}，请去掉后重试。")
        district_report_command(
            path, template, out, as_of, config_path, unit, meeting, doc_date, not no_chart, pdf, jobs
        )
        return

    ledger, found = check(path, as_of=as_of, sheet=sheet, config=_config(config_path, columns))
    config = ledger.config or _config(None)
    if not found.valid and not allow_errors:
        click.echo(format_report(found), err=True)
        fail(
            f"台账有 {found.errors} 处错误，未生成通报：请先修正上面的错误，或加 --allow-errors 仍然生成。", 1
        )
    options = ReportOptions(
        unit=unit,
        year=year,
        meeting=meeting,
        kind=kind,
        date=doc_date,
        annex=annex,
        chart=not no_chart,
        config=config,
    )
    result = write_report(
        ledger,
        found,
        as_of,
        options,
        template=template,
        out=out,
        history_path=history_path,
        record_as=None if no_history else "report",
    )
    for note in result.notes:
        click.echo(f"提示：{note}", err=True)
    if not found.valid:
        click.echo(f"提示：台账有 {found.errors} 处错误，通报中的数字可能不准确。", err=True)
    click.echo(f"已生成通报：{result.path}")
    if pdf:
        click.echo(f"已生成 PDF：{convert_to_pdf(result.path)}")
    finish(0)  # as validate: no interpreter teardown of the document and the ledger


@main.command("template")
@click.argument("out", type=LedgerPath())
@click.option("--force", is_flag=True, help="覆盖已有文件。")
@click.option("--district", is_flag=True, help="写出区级（多单位汇总）通报的模板。")
@kind_option
@user_errors
def template_command(out: str, force: bool, district: bool = False, kind: str | None = None) -> None:
    """写出默认通报模板，供在 Word 中修改措辞、加上版头后用 -t 使用。

    不加 --kind 时标题和开头随台账的整改类型变化；加 --kind 时写出该类型的标题和开头原文，便于修改措辞。
    模板中可用的变量见 docs/模板变量.md。

    \b
    示例：
      ledger template 通报模板.docx
      ledger template 巡察通报模板.docx --kind 巡视巡察反馈
      ledger report 台账.xlsx -t 通报模板.docx
    """
    from toolkit.render import write_default_template

    if district and kind:
        raise LedgerError("区级通报模板不区分整改类型，请去掉 --kind 后重试。")
    if district:
        from toolkit.district import write_district_template

        click.echo(f"已写出区级通报模板：{write_district_template(out, force=force)}")
        return
    click.echo(f"已写出默认模板：{write_default_template(out, force=force, kind=kind)}")


# --- ledger new (workbook) -------------------------------------------------------------------------------


def parse_year(text: str | None) -> str | None:
    """``--year``: 2024, 2024年 or 2024年度 (full-width digits too) → "2024"; None when not a year."""
    from toolkit.config import normalize_text

    if text is None:
        return None
    m = re.fullmatch(r"(\d{4})(?:年度?)?", normalize_text(text))
    return m[1] if m else None


def parse_dimensions(text: str | None) -> list[str]:
    """``--dimensions "a,b,c"``: commas (half or full width), 、 or semicolons separate."""

    if not text:
        return []
    return list(dict.fromkeys(p.strip() for p in re.split(r"[,，、;；\n]+", text) if p.strip()))


def _year_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    year = parse_year(value)
    if year is None:
        raise click.BadParameter(f"“{value}”不是年份，请写四位数字，例如 2024。")
    return year


@main.command("new", context_settings=CONTEXT)
@click.argument("path", type=LedgerPath())
@click.option("--unit", default="", metavar="单位", help="单位名称，写入标题和“通报信息”表。")
@click.option(
    "--year", default=None, callback=_year_option, metavar="年度", help="年度，如 2024（默认今年）。"
)
@click.option("--dimensions", default=None, metavar='"甲,乙,丙"', help="方面列表，用逗号分隔。")
@click.option("--sample", is_flag=True, help="填入示例数据。")
@click.option("--force", is_flag=True, help="文件已存在时覆盖。")
@user_errors
def new_command(
    path: str, unit: str, year: str | None, dimensions: str | None, sample: bool, force: bool
) -> None:
    """新建台账工作簿：.xlsm 带“校验台账”“生成通报”“清除标记”按钮，.xlsx 不带宏。

    \b
    示例：
      ledger new 台账.xlsm --unit 某某街道党工委 --year 2024 --dimensions "理论学习,作风建设"
      ledger new 示例台账.xlsm --sample
    """
    from toolkit.workbook import new_ledger

    dims = parse_dimensions(dimensions)
    out = new_ledger(path, unit=unit, year=year, dimensions=dims, sample=sample, force=force)
    click.echo(f"已生成 {out}")
    if out.suffix.lower() == ".xlsx":
        click.echo("提示：.xlsx 不含宏按钮，请用 ledger validate / ledger report 在命令行校验和生成通报。")
    if not dims and not sample:
        click.echo("提示：未指定 --dimensions，请在“配置”表填写方面列表，台账的“方面”下拉框即从此读取。")


# -------------------------------------------- many units and history (toolkit.units, toolkit.history)


@main.command("history")
@click.argument("path", type=LedgerPath())
@history_path_option
@json_option
@user_errors
def history_command(path: str, history_path: str | None, as_json: bool) -> None:
    """按时间顺序列出台账的历史快照（每次校验、生成通报时自动记录）。

    PATH 可以是台账文件，也可以直接是历史记录文件（.sqlite）。

    \b
    示例：
      ledger history 台账.xlsx
      ledger history 台账.xlsx --json
    """
    from toolkit.history import history_table, load_history

    snapshots = load_history(path, history_path)
    if as_json:
        echo_json({"snapshots": [s.as_dict() for s in snapshots]})
    else:
        click.echo(history_table(snapshots))


@main.command("merge")
@click.argument("paths", nargs=-1, required=True, type=LedgerPath())
@click.option(
    "-o", "--output", type=LedgerPath(), default="汇总台账.xlsx", show_default=True,
    help="汇总台账的输出文件。",
)  # fmt: skip
@click.option("--force", is_flag=True, help="输出文件已存在时覆盖。")
@as_of_option
@config_option
@jobs_option
@user_errors
def merge_command(
    paths: tuple[str, ...], output: str, force: bool, as_of: date, config_path: str | None, jobs: int | None
) -> None:
    """把多个单位的台账合并成一份汇总台账（首列为“单位”），第二个工作表列出各单位的校验情况。

    PATHS 可以是文件夹（读取其中的 .xlsx/.xlsm/.xls/.ods）或台账文件。退出码：0 全部读取；
    1 部分文件未能读取（已写出其余单位，原因见第二个工作表）；2 没有可用的台账。

    \b
    示例：
      ledger merge 各单位台账/ -o 汇总台账.xlsx
    """
    from toolkit.config import load_config
    from toolkit.units import merge_ledgers

    result = merge_ledgers(paths, output, as_of, load_config(config_path), force=force, jobs=jobs)
    click.echo(result.message())
    for failure in result.failures:
        click.echo(f"未能读取“{failure.file}”：{failure.reason}", err=True)
    sys.exit(result.exit_code)


def stats_by_unit_command(
    paths: tuple[str, ...], as_of: date, config, as_json: bool, jobs: int | None
) -> None:
    from toolkit.units import stats_by_unit, units_table

    result = stats_by_unit(paths, as_of, config, jobs=jobs)
    if as_json:
        echo_json(result.as_dict())
    else:
        click.echo(f"统计日期：{as_of.isoformat()}")
        click.echo(units_table(result))
    finish(result.exit_code)


def district_report_command(
    folder: str,
    template: str | None,
    out: str | None,
    as_of: date,
    config_path: str | None,
    issuer: str | None,
    meeting: str | None,
    doc_date: date | None,
    chart: bool,
    pdf: bool,
    jobs: int | None,
) -> None:
    """``ledger report DIR``: the district 通报 across the units' ledgers in DIR."""
    from toolkit.district import DistrictOptions, render_district_report
    from toolkit.render import convert_to_pdf

    options = DistrictOptions(
        issuer=issuer, meeting=meeting, date=doc_date, chart=chart, config=_config(config_path), jobs=jobs
    )
    result = render_district_report([folder], as_of=as_of, out=out, template=template, options=options)
    for note in result.notes:
        click.echo(f"提示：{note}", err=True)
    for failure in result.failures:
        click.echo(f"未能读取“{failure['file']}”：{failure['reason']}", err=True)
    click.echo(f"已生成区级通报（{result.units} 个单位）：{result.path}")
    if pdf:
        click.echo(f"已生成 PDF：{convert_to_pdf(result.path)}")
    sys.exit(result.exit_code)


# --------------------------------------------------------------------------- marks in the file (issue 5)


def write_marks(path: str, ledger, report, *, quiet: bool = False) -> bool:
    """Write the marks; print one sentence (stderr when stdout carries JSON). True when it went to a copy."""
    from toolkit.xlsx import mark_file

    result = mark_file(path, ledger, report)
    click.echo(result.message, err=quiet or result.to_copy)
    return result.to_copy


@main.command()
@click.argument("path", type=LedgerPath())  # not dir_okay=False: a folder gets the Chinese sentence
@user_errors
def clear(path: str) -> None:
    """清除标记：去掉 --mark 留下的颜色、批注和校验结果表，用户自己的格式和批注不动。

    原文件先备份到旁边的“整改台账备份”文件夹。退出码：0 成功，2 文件无法使用或无法写入。

    \b
    示例：
      ledger clear 台账.xlsx
    """
    from toolkit.xlsx import clear_file

    click.echo(clear_file(path).message)
