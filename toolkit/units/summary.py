"""One unit's file boiled down to what a roll-up needs: counts, overdue items, findings, canonical rows.

``summarize_file`` runs in a worker process (see toolkit.units.run): it never raises for a bad file, shares
no state, and returns a small picklable ``UnitResult`` instead of the ledger, so memory stays flat however
many files there are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.config import DEFAULT_CONFIG, FIELDS, Config
from toolkit.errors import LedgerError
from toolkit.fastpath import ContainmentExceeded, contained
from toolkit.stats import GroupStats, ledger_stats

if TYPE_CHECKING:
    from toolkit.model import Ledger


@dataclass(slots=True)
class UnitResult:
    """What one worker sends back for one file: small, picklable, no ledger."""

    file: str
    unit: str = ""
    reason: str = ""  # why the file could not be used; empty when it was read
    total: GroupStats | None = None
    dimensions: list[GroupStats] = field(default_factory=list)  # report mode
    overdue_items: list[dict] = field(default_factory=list)  # report mode
    findings: dict[str, int] = field(default_factory=dict)  # code -> count (merge only)
    errors: int = 0
    warnings: int = 0
    rows: list[list[object]] = field(default_factory=list)  # canonical rows (merge only)

    @property
    def ok(self) -> bool:
        return not self.reason

    def row(self, decimals: int = 1) -> dict:
        """A row of ``ledger stats --by unit --json``: the dimension-row fields plus the file."""
        assert self.total is not None
        data = self.total.as_dict(decimals)
        data["name"] = self.unit
        data["file"] = self.file
        return data


def unit_name(ledger: Ledger, path: str | os.PathLike) -> str:
    """The 单位 from the 通报信息 sheet, else the file name without extension."""
    unit = ledger.info.get("unit") if isinstance(ledger.info, dict) else None
    text = str(unit).strip() if unit else ""
    return text or Path(path).stem


def _read(path: str, config: Config, as_of: date | None = None) -> Ledger:
    from toolkit.read import read_ledger

    return read_ledger(path, config=config, as_of=as_of)


def summarize_file(
    path: str, as_of: date, mode: str = "stats", config: Config = DEFAULT_CONFIG
) -> UnitResult:
    """Read one unit's file and boil it down (runs in a worker process).

    ``mode``: "stats" counts the file as a whole; "report" also per dimension and lists overdue items;
    "merge" also validates (findings per code) and returns the canonical rows. Any failure becomes ``reason`` (never an
    exception), so one bad file stops nothing. Only what the mode needs travels back to the parent.
    """
    result = UnitResult(file=str(path))
    try:
        ledger = _read(str(path), config, as_of)
        result.unit = unit_name(ledger, path)
        config = ledger.config or config  # the workbook's 配置 sheet applies to its own ledger
        stats = ledger_stats(ledger, as_of, "dimension", config)
        result.total = stats.total
        if mode == "report":
            result.dimensions = stats.groups
            result.overdue_items = overdue_items(ledger, set(stats.total.overdue_rows))
        if mode == "merge":
            from toolkit.validate import validate_ledger

            report = validate_ledger(ledger, as_of, config)
            result.errors = report.errors
            result.warnings = report.warnings
            counts: dict[str, int] = {}
            for finding in report.findings:
                counts[finding.code] = counts.get(finding.code, 0) + 1
            result.findings = counts
            result.rows = canonical_rows(ledger)
    except LedgerError as exc:
        result.reason = str(exc)
    except MemoryError:
        if contained():  # the limit was the worker's, not the machine's: read it again guarded
            raise ContainmentExceeded from None
        result.reason = "文件过大，读取时内存不足，请拆分后重试。"
    except Exception as exc:  # a bug or an exotic file must not stop the other units
        if contained():  # maybe the limits' doing (a library that could not be mapped): try it guarded
            raise ContainmentExceeded from None
        result.reason = (
            f"读取时出现意外错误（{type(exc).__name__}：{exc}），请用 ledger validate 单独检查此文件。"
        )
    return result


def overdue_items(ledger: Ledger, overdue_rows: set[int]) -> list[dict]:
    """The overdue items as plain dicts (the district 通报 names them; the deadline date in ISO form)."""
    return [
        {
            "row": item.row,
            "seq": item.get("seq"),
            "dimension": item.dimension,
            "problem": item.get("problem"),
            "dept": item.get("dept"),
            "owner": item.get("owner"),
            "deadline": item.get("deadline"),
            "deadline_date": item.deadline.value.isoformat() if item.deadline.value else None,
            "status": item.get("status"),
        }
        for item in ledger.items
        if item.row in overdue_rows
    ]


def canonical_rows(ledger: Ledger) -> list[list[object]]:
    """Items in canonical column order; dates as ``date`` where the cell holds one, else the text."""
    rows = []
    for item in ledger.items:
        row: list[object] = []
        for spec in FIELDS:
            if spec.id == "seq" and item.seq is not None:
                row.append(int(item.seq) if float(item.seq).is_integer() else item.seq)
            elif spec.id == "deadline" and item.deadline.value is not None:
                row.append(item.deadline.value)
            elif spec.id == "completed_on" and item.completed_on.value is not None:
                row.append(item.completed_on.value)
            elif spec.id == "dimension":
                row.append(item.dimension)
            else:
                row.append(item.get(spec.id))
        rows.append(row)
    return rows
