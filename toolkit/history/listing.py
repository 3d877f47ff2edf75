"""Listing the snapshots of a workbook (``ledger history``): loading them and the plain table."""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from pathlib import Path

from toolkit.history.model import Snapshot
from toolkit.history.store import HistoryStore, is_history_file, resolve_history_path
from toolkit.stats import format_rate
from toolkit.texttable import render_table


def load_history(
    workbook_or_db: str | os.PathLike,
    history_path: str | os.PathLike | None = None,
    *,
    with_items: bool = False,
) -> list[Snapshot]:
    """Snapshots of a workbook (its own history file or ``history_path``), or all of a history file."""
    path = Path(workbook_or_db)
    if history_path is None and is_history_file(path):
        with HistoryStore(path, readonly=True) as store:
            return store.snapshots(with_items=with_items)
    target = resolve_history_path(path, history_path)
    if not target.exists():
        return []
    with HistoryStore(target, readonly=True) as store:
        return store.snapshots(Path(os.path.abspath(path)).name, with_items=with_items)


def history_table(snapshots: Sequence[Snapshot], decimals: int = 1) -> str:
    """A plain Chinese table for ``ledger history``."""
    if not snapshots:
        return "暂无历史记录。运行 ledger validate 或 ledger report 后会自动记录。"
    headers = ["序号", "统计日期", "记录时间", "问题总数", "已完成", "完成率", "超期", "文件指纹"]
    rows = []
    for n, snap in enumerate(snapshots, 1):
        stamp = snap.recorded_at
        with suppress(ValueError):
            stamp = datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
        rows.append(
            [
                str(n),
                snap.as_of.isoformat(),
                stamp,
                str(snap.total),
                str(snap.completed),
                format_rate(snap.rate, decimals),
                str(snap.overdue),
                snap.content_hash[:12],
            ]
        )
    return render_table(headers, rows)
