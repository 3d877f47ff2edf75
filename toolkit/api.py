"""The public entry points the CLI and the Excel buttons share: plain data in, plain data out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from toolkit.config import DEFAULT_CONFIG, Config
from toolkit.model import Ledger, Report
from toolkit.read import read_ledger
from toolkit.validate import validate_ledger


def check(
    path: str | Path,
    as_of: date | None = None,
    sheet: str | None = None,
    config: Config | None = None,
    *,
    on_read: Callable[[Ledger], object] | None = None,
) -> tuple[Ledger, Report]:
    """Read and validate a ledger file in one call (the workbook's 配置 sheet applies on top of ``config``).

    ``on_read`` is called with the ledger before it is validated (the CLI starts its history snapshot
    there, so that compressing it overlaps the rules)."""
    as_of = as_of or date.today()
    ledger = read_ledger(path, sheet=sheet, config=config or DEFAULT_CONFIG, as_of=as_of)
    if on_read is not None:
        on_read(ledger)
    return ledger, validate_ledger(ledger, as_of, ledger.config or DEFAULT_CONFIG)
