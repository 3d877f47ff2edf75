"""The history part of the 通报's context: the comparison with the previous snapshot and the trend,
as plain data (``history_context``); the document draws the trend chart from it (toolkit.render.chart).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from toolkit.history.compare import compare, overdue_text, previous_snapshot
from toolkit.history.model import HISTORY_FAILURES, HistoryError, ItemState, Snapshot, warn
from toolkit.history.store import HistoryStore, resolve_history_path
from toolkit.rules import chinese_date
from toolkit.stats import percent


def trend_points(snapshots: Sequence[Snapshot], decimals: int = 1) -> list[dict]:
    """One point per as-of date (the latest recording of that day), in date order."""
    by_day: dict[date, Snapshot] = {}
    for snap in snapshots:  # already in time order: later recordings overwrite
        by_day[snap.as_of] = snap
    several_years = len({day.year for day in by_day}) > 1
    return [
        {
            "as_of": day.isoformat(),
            "label": chinese_date(day) if several_years else f"{day.month}月{day.day}日",
            "date_text": chinese_date(day),
            "total": snap.total,
            "completed": snap.completed,
            "overdue": snap.overdue,
            "rate": percent(snap.rate, decimals),
        }
        for day, snap in sorted(by_day.items())
    ]


def _item_row(item: ItemState) -> dict:
    return {
        "row": item.row,
        "seq": item.seq,
        "dimension": item.dimension,
        "problem": item.problem,
        "dept": item.dept,
        "status": item.status_text,
        "deadline": item.deadline,
    }


def empty_history_context() -> dict:
    """What ``history_context`` gives when there is nothing to compare with (also the template default)."""
    return {
        "has_history": False,
        "has_previous": False,
        "previous_as_of": None,
        "previous_date_text": "",
        "previous_occasion": "",
        "newly_completed_count": 0,
        "newly_completed": [],
        "reopened": [],
        "newly_overdue_count": 0,
        "newly_overdue": [],
        "newly_overdue_text": "",
        "completed_change": 0,
        "rate_change": None,
        "rate_change_text": "",
        "summary": "",
        "trend": [],
        "has_trend": False,
        "snapshot_count": 0,
    }


def history_context(
    ledger_path: str | os.PathLike,
    as_of: date,
    *,
    history_path: str | os.PathLike | None = None,
    current: Snapshot | None = None,
    decimals: int = 1,
) -> dict:
    """Plain data for the 通报: comparison with the previous snapshot and the trend.

    ``current`` is the snapshot just built (recorded or not); without it, the latest recorded snapshot
    for ``as_of`` is used. A missing or unreadable history gives ``has_previous = False`` and an empty
    trend, never an error: the report is written either way.
    """
    empty = empty_history_context()
    previous: Snapshot | None = None
    try:
        target = resolve_history_path(ledger_path, history_path)
        if not target.exists():
            snapshots: list[Snapshot] = []
        else:
            name = Path(os.path.abspath(ledger_path)).name
            with HistoryStore(target, readonly=True) as store:
                snapshots = store.snapshots(name)
                try:  # a damaged items blob costs the comparison, not the counts and the trend
                    if current is None:
                        same_day = [s for s in snapshots if s.as_of == as_of]
                        current = store.load_details(same_day[-1]) if same_day else None
                    previous = previous_snapshot(snapshots, current) if current else None
                    if previous is not None:
                        store.load_details(previous)
                except HistoryError as exc:
                    warn(f"{str(exc).rstrip('。')}；通报中不含与上次的比较。")
                    previous = None
    except HISTORY_FAILURES as exc:
        warn(f"{str(exc).rstrip('。')}；通报中不含与上次的比较。")
        return empty
    if current is not None and not any(s.as_of == current.as_of for s in snapshots):
        snapshots = [*snapshots, current]  # not recorded (--no-history): still part of the trend
    trend = trend_points(snapshots, decimals)
    context = dict(empty, has_history=bool(snapshots), trend=trend, has_trend=len(trend) >= 3)
    context["snapshot_count"] = len(snapshots)
    if current is None or previous is None:
        return context
    cmp = compare(previous, current, decimals)
    context.update(
        has_previous=True,
        previous_as_of=previous.as_of.isoformat(),
        previous_date_text=chinese_date(previous.as_of),
        newly_completed_count=len(cmp.newly_completed),
        newly_completed=[_item_row(i) for i in cmp.newly_completed],
        reopened=[_item_row(i) for i in cmp.reopened],
        newly_overdue_count=len(cmp.newly_overdue),
        newly_overdue=[_item_row(i) for i in cmp.newly_overdue],
        newly_overdue_text=overdue_text(cmp.newly_overdue, previous.as_of, occasion=previous.occasion),
        previous_occasion=previous.occasion,
        completed_change=cmp.completed_change,
        rate_change=cmp.rate_change,
        rate_change_text=cmp.rate_change_text(),
        summary=cmp.sentence(),
    )
    return context
