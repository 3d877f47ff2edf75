"""The roll-up across units: one row per unit and a total (``ledger stats DIR --by unit``).

Exit codes of the commands built on the units package (``ledger stats --by unit``, ``ledger merge``,
``ledger report DIR``): 0 every file was read; 1 some files failed (results for the others are still
printed or written, the failures listed); 2 nothing could be read at all (or no ledger files were found).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from toolkit.config import DEFAULT_CONFIG, Config
from toolkit.errors import LedgerError
from toolkit.stats import GroupStats, format_rate
from toolkit.units.collect import collect_files
from toolkit.units.run import run_many
from toolkit.units.summary import UnitResult

# the GroupStats counters a roll-up adds up (the rates follow from them)
COUNT_FIELDS = (
    "total",
    "completed",
    "closed",
    "substantially_done",
    "long_term",
    "in_progress",
    "extended",
    "not_started",
    "undecided",
    "unknown",
    "no_status",
    "excluded",
    "overdue",
    "on_time",
    "completed_with_deadline",
)


class NothingReadError(LedgerError):
    """Every file failed; the message lists why."""


@dataclass(slots=True)
class UnitsStats:
    """``ledger stats --by unit``: the units read (file order), the files that failed, and the total."""

    as_of: date
    units: list[UnitResult]
    failures: list[UnitResult]
    total: GroupStats
    decimals: int = 1
    repeated: list[dict] = field(default_factory=list)  # see repeated_units

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "by": "unit",
            "total": self.total.as_dict(self.decimals),
            "units": [u.row(self.decimals) for u in self.units],
            "failures": [{"file": f.file, "reason": f.reason} for f in self.failures],
            "repeated_units": self.repeated,
        }

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0


def sum_groups(name: str, groups: Iterable[GroupStats]) -> GroupStats:
    """The counters of ``groups`` added up under ``name``; the rates follow from them. (Overdue rows are
    not carried over: row numbers of different files mean nothing together.)"""
    out = GroupStats(name)
    for g in groups:
        for attr in COUNT_FIELDS:
            setattr(out, attr, getattr(out, attr) + getattr(g, attr))
    return out


def stats_by_unit(
    paths: Iterable[str | os.PathLike],
    as_of: date,
    config: Config = DEFAULT_CONFIG,
    *,
    jobs: int | None = None,
    progress: bool | None = None,
) -> UnitsStats:
    """One row per unit (file order); failures kept apart. Raises only when nothing at all was read."""
    files = collect_files(paths)
    units: list[UnitResult] = []
    failures: list[UnitResult] = []
    for result in run_many(files, as_of, "stats", config, jobs=jobs, progress=progress):
        (units if result.ok else failures).append(result)
    if not units:
        raise NothingReadError(nothing_read_message(failures))
    total = sum_groups("合计", (u.total for u in units if u.total is not None))
    return UnitsStats(as_of, units, failures, total, config.rate_decimals, repeated_units(units))


def repeated_units(results: Iterable[UnitResult]) -> list[dict]:
    """Units named by more than one file, ``[{"name", "files"}]`` in file order.

    Usually a corrected ledger left beside the old one, or a copy: every total counts the unit twice,
    which nobody wants without being told. Told, not decided: which file is the right one is the
    clerk's call (the newer file is not always the corrected one)."""
    files_of: dict[str, list[str]] = {}
    for result in results:
        if result.ok:
            files_of.setdefault(result.unit, []).append(Path(result.file).name)
    return [{"name": name, "files": files} for name, files in files_of.items() if len(files) > 1]


def repeated_units_notes(repeated: Sequence[dict]) -> list[str]:
    return [
        f"单位“{x['name']}”出现在 {len(x['files'])} 个文件中（{'、'.join(x['files'])}），都计入了合计；"
        "如果其中有旧版本或副本，请移出文件夹后重新统计。"
        for x in repeated
    ]


def nothing_read_message(failures: Sequence[UnitResult]) -> str:
    first = failures[0]
    return (
        f"{len(failures)}个文件均未能读取，例如“{Path(first.file).name}”：{first.reason.rstrip('。')}。"
        if failures
        else "没有可读取的台账文件。"
    )


def units_table(result: UnitsStats) -> str:
    """The plain Chinese table for ``ledger stats --by unit``."""
    from toolkit.texttable import render_table

    d = result.decimals
    headers = ["单位", "问题总数", "已完成", "完成率", "超期未完成", "文件"]
    rows = [
        [
            u.unit,
            str(u.total.total),
            str(u.total.completed),
            format_rate(u.total.rate, d),
            str(u.total.overdue),
            Path(u.file).name,
        ]
        for u in result.units
        if u.total is not None
    ]
    t = result.total
    rows.append(["合计", str(t.total), str(t.completed), format_rate(t.rate, d), str(t.overdue), ""])
    text = render_table(headers, rows)
    if result.failures:
        lines = [f"以下 {len(result.failures)} 个文件未能读取："]
        lines += [f"  {Path(f.file).name}：{f.reason}" for f in result.failures]
        text += "\n\n" + "\n".join(lines)
    if result.repeated:
        text += "\n\n" + "\n".join(f"注意：{note}" for note in repeated_units_notes(result.repeated))
    if unsaid := [u for u in result.units if u.total is not None and u.total.no_status]:
        names = "、".join(f"{u.unit}（{u.total.no_status}条）" for u in unsaid)
        text += (
            f"\n\n注意：{names}的问题没有完成状态（台账没有完成状态列或未填写），"
            "无法判断是否完成，合计中按未完成计。"
        )
    return text
