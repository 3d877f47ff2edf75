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
