"""Comparing two snapshots, and the 通报's wording of it: which items were completed, reopened or became
overdue since, "较上次通报……新增完成2项，完成率提高11.8个百分点。" and the list of newly overdue items.

Items are matched by the key the package docstring describes (序号 and normalised 问题描述).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from toolkit.config import normalize_text
from toolkit.history.model import ItemState, Snapshot, problem_hash
from toolkit.rules import chinese_date
from toolkit.stats import percent


@dataclass(slots=True)
class Comparison:
    previous: Snapshot
    current: Snapshot
    newly_completed: list[ItemState]
    reopened: list[ItemState]  # completed before, not any more
    newly_overdue: list[ItemState]  # overdue now, not overdue (but present) before
    added: list[ItemState]  # no match in the previous snapshot
    removed: list[ItemState]  # in the previous snapshot, gone now
    rate_change: float | None  # percentage points, from the rates as printed (rounded)
    decimals: int = 1

    @property
    def completed_change(self) -> int:
        return self.current.completed - self.previous.completed

    def rate_change_text(self) -> str:
        if self.rate_change is None:
            return ""
        if self.rate_change > 0:
            return f"完成率提高{self.rate_change:.{self.decimals}f}个百分点"
        if self.rate_change < 0:
            return f"完成率下降{-self.rate_change:.{self.decimals}f}个百分点"
        return "完成率与上次持平"

    def sentence(self) -> str:
        """较上次通报（2024年11月1日）新增完成2项，完成率提高11.8个百分点。

        “较上次校验” when the previous snapshot was only a 校验 (no 通报 before this one)."""
        since = f"较上次{self.previous.occasion}（{chinese_date(self.previous.as_of)}）"
        parts = [f"{since}新增完成{len(self.newly_completed)}项"]
        if self.rate_change is not None:
            parts.append(self.rate_change_text())
        text = "，".join(parts)
        if self.newly_overdue:
            text += f"，新增超期未完成{len(self.newly_overdue)}项"
        return text + "。"


def match_items(previous: Sequence[ItemState], current: Sequence[ItemState]) -> list[tuple[int, int]]:
    """Pairs (previous index, current index) of the same problem; see the module docstring for the key."""
    previous, current = list(previous), list(current)  # plain lists: indexed 100k times below
    pairs: list[tuple[int, int]] = []
    free_prev = set(range(len(previous)))
    free_cur = set(range(len(current)))
    # problem hashes once per item (None without text); whitespace is all normalize_text can fold away
    # entirely, so "has text" needs no full-width folding of every problem
    prev_hash = [
        problem_hash(it.problem) if it.problem and not it.problem.isspace() else None for it in previous
    ]
    cur_hash = [
        problem_hash(it.problem) if it.problem and not it.problem.isspace() else None for it in current
    ]

    def take(key_of: Callable[[list[ItemState], list[str | None], int], object], unique: bool) -> None:
        prev_by: dict[object, list[int]] = {}
        for i in sorted(free_prev):
            key = key_of(previous, prev_hash, i)
            if key is not None:
                prev_by.setdefault(key, []).append(i)
        cur_by: dict[object, list[int]] = {}
        for j in sorted(free_cur):
            key = key_of(current, cur_hash, j)
            if key is not None:
                cur_by.setdefault(key, []).append(j)
        for key, cur_list in cur_by.items():
            prev_list = prev_by.get(key)
            if not prev_list:
                continue
            if unique and (len(prev_list) != 1 or len(cur_list) != 1):
                continue
            for i, j in zip(prev_list, cur_list, strict=False):  # duplicates pair in ledger order
                pairs.append((i, j))
                free_prev.discard(i)
                free_cur.discard(j)

    take(lambda items, hashes, i: (items[i].seq, hashes[i]) if hashes[i] is not None else None, unique=False)
    take(lambda items, hashes, i: hashes[i], unique=True)
    take(
        lambda items, _, i: (items[i].seq, normalize_text(items[i].dimension)) if items[i].seq else None, True
    )
    return sorted(pairs, key=lambda p: p[1])


def compare(previous: Snapshot, current: Snapshot, decimals: int = 1) -> Comparison:
    """What changed between two snapshots (both with items loaded)."""
    before_items, now_items = list(previous.items), list(current.items)
    pairs = match_items(before_items, now_items)
    matched_prev = {i for i, _ in pairs}
    matched_cur = {j for _, j in pairs}
    newly_completed: list[ItemState] = []
    reopened: list[ItemState] = []
    newly_overdue: list[ItemState] = []
    for i, j in pairs:
        before, now = before_items[i], now_items[j]
        if now.completed and not before.completed:
            newly_completed.append(now)
        elif before.completed and not now.completed:
            reopened.append(now)
        if now.overdue and not before.overdue:
            newly_overdue.append(now)
    rate_change = None
    if previous.rate is not None and current.rate is not None:
        before_pct = percent(previous.rate, decimals)
        now_pct = percent(current.rate, decimals)
        assert before_pct is not None and now_pct is not None
        rate_change = round(now_pct - before_pct, decimals)
    return Comparison(
        previous=previous,
        current=current,
        newly_completed=newly_completed,
        reopened=reopened,
        newly_overdue=newly_overdue,
        added=[it for j, it in enumerate(now_items) if j not in matched_cur],
        removed=[it for i, it in enumerate(before_items) if i not in matched_prev],
        rate_change=rate_change,
        decimals=decimals,
    )


def previous_snapshot(snapshots: Sequence[Snapshot], current: Snapshot) -> Snapshot | None:
    """What a 通报 compares with: the last 通报 with an as-of strictly before the current one; without one,
    the latest earlier snapshot of any kind (its ``occasion`` then words the sentence: 较上次校验).

    Why: the leader reads “较上次通报” as the change since the document they last signed; a 校验 run
    in between would make the 通报 claim a baseline nobody reported."""
    earlier = [s for s in snapshots if s.as_of < current.as_of]
    reports = [s for s in earlier if s.is_report]
    return (reports or earlier)[-1] if earlier else None


def overdue_text(items: Sequence[ItemState], since: date, limit: int = 10, occasion: str = "通报") -> str:
    """上次通报（…）以来新超期未完成的问题2个：1.…（党政办，整改时限2024年11月15日）；2.…。"""
    if not items:
        return ""
    parts = []
    for n, item in enumerate(items[:limit], start=1):
        deadline = chinese_date(item.deadline_date) if item.deadline_date else item.deadline
        details = "，".join(x for x in (item.dept.strip(), f"整改时限{deadline}" if deadline else "") if x)
        problem = item.problem.strip().rstrip("。；;")
        parts.append(f"{n}.{problem}" + (f"（{details}）" if details else ""))
    text = f"上次{occasion}（{chinese_date(since)}）以来新超期未完成的问题{len(items)}个：" + "；".join(parts)
    if len(items) > limit:
        text += "等"
    return text + "。"
