"""The ``ledger`` command: one subcommand per library function, thin on purpose.

Each command parses its options, makes one library call and prints the result.
Errors a user can cause are LedgerError: one Chinese sentence on stderr, exit code 2.
"""

from __future__ import annotations

import functools
import json
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
        try:
            return func(*args, **kwargs)
        except LedgerError as exc:
            fail(str(exc), exc.exit_code)
        except PermissionError as exc:
            fail(f"没有权限读写“{exc.filename}”，请检查文件是否被占用或设为只读。")
        except KeyboardInterrupt:
            fail("已中止。", 130)

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


# --- ledger new (workbook) -------------------------------------------------------------------------------


@main.command("new", context_settings=CONTEXT)
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--unit", default="", metavar="单位", help="单位名称，写入标题和“通报信息”表。")
@click.option("--year", default=None, metavar="年度", help="年度（默认今年）。")
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
    from toolkit.workbook import new_ledger, parse_dimensions

    dims = parse_dimensions(dimensions)
    out = new_ledger(path, unit=unit, year=year, dimensions=dims, sample=sample, force=force)
    click.echo(f"已生成 {out}")
    if out.suffix.lower() == ".xlsx":
        click.echo("提示：.xlsx 不含宏按钮，请用 ledger validate / ledger report 在命令行校验和生成通报。")
    if not dims and not sample:
        click.echo("提示：未指定 --dimensions，请在“配置”表填写方面列表，台账的“方面”下拉框即从此读取。")
