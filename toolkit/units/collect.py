"""Finding the unit workbooks: the ledger files in the folders and files a clerk names."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from toolkit.errors import LedgerError
from toolkit.layout import RESULTS_SHEET

LEDGER_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
# our own outputs (the merged ledger, --mark's copy "….校验结果.xlsx", backups), never a unit's ledger
SKIP_NAME_PARTS = ("汇总台账", RESULTS_SHEET, "备份")


class NoLedgerFilesError(LedgerError):
    """No ledger workbook among the paths given."""


def _candidate_name(name: str) -> bool:
    if name.startswith(("~$", ".")) or os.path.splitext(name)[1].lower() not in LEDGER_SUFFIXES:
        return False
    return not any(part in name for part in SKIP_NAME_PARTS)


def collect_files(
    paths: Iterable[str | os.PathLike], exclude: Iterable[str | os.PathLike] = ()
) -> list[Path]:
    """Ledger files from folders (top level, sorted by name) and files given by name (kept as given).

    A folder yields its .xlsx/.xlsm/.xls/.ods files except lock files (``~$…``), hidden files and our own
    outputs (汇总台账…, …校验结果…, …备份…). A file named explicitly is always taken.
    """
    skip = {os.path.abspath(p) for p in exclude}
    found: list[Path] = []
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            with os.scandir(path) as entries:  # names first: a stat only for the candidates
                names = sorted(e.name for e in entries if _candidate_name(e.name) and e.is_file())
            folder = os.path.abspath(path)
            children = [(path / name, os.path.join(folder, name)) for name in names]
        elif path.exists():
            children = [(path, os.path.abspath(path))]
        else:
            raise NoLedgerFilesError(f"找不到“{path}”，请检查文件或文件夹路径。")
        for child, key in children:
            if key in seen or key in skip:
                continue
            seen.add(key)
            found.append(child)
    if not found:
        shown = "、".join(str(p) for p in paths) or "（未指定）"
        raise NoLedgerFilesError(
            f"在“{shown}”中没有找到台账文件（.xlsx/.xlsm/.xls/.ods），请检查路径或直接列出文件。"
        )
    return found
