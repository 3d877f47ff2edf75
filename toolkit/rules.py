"""The counting rules every stage shares: when an item is overdue, when it was done on time, and how a
date is written in Chinese.

Statistics, validation and the history snapshots must count the same way; a rule written out three times
drifts. These are plain functions over the column view (``ItemColumns``), cheap enough for 100k rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from toolkit.config import COMPLETED_STATUSES, OPEN_STATUSES
from toolkit.model import DateValue


def chinese_date(day: date) -> str:
    """2024年11月1日: the way a 通报, a finding and a 校验 sheet write a date."""
    return f"{day.year}年{day.month}月{day.day}日"


def is_overdue(status: str, deadline: date | None, as_of: date) -> bool:
    """Still open and past its deadline on ``as_of`` (the deadline day itself is not late)."""
    return status in OPEN_STATUSES and deadline is not None and deadline < as_of


def overdue_indices(statuses: Sequence[str], deadlines: Sequence[DateValue], as_of: date) -> list[int]:
    """Positions of the overdue items, by ``is_overdue`` (100k rows: ~6 ms; spelled out inline, ~3 ms)."""
    return [i for i, status in enumerate(statuses) if is_overdue(status, deadlines[i].value, as_of)]


def done_on_time(status: str, completed_on: date | None, deadline: date | None) -> bool | None:
    """True/False for a completed item with both dates, None when on-time cannot be judged."""
    if status not in COMPLETED_STATUSES or completed_on is None or deadline is None:
        return None
    return completed_on <= deadline
