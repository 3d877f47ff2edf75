"""Build Ledger objects by hand for the history tests (the same shape toolkit.read produces)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import date
from pathlib import Path

from toolkit.config import STATUS_LABELS
from toolkit.model import DATE, EMPTY, DateValue, Item, Ledger


def item(
    row: int,
    seq: int | None,
    dimension: str,
    problem: str,
    status: str | None,
    deadline: date | None = None,
    completed_on: date | None = None,
    dept: str = "办公室",
) -> Item:
    values = {
        "seq": "" if seq is None else str(seq),
        "dimension": dimension,
        "problem": problem,
        "status": STATUS_LABELS.get(status or "", ""),
        "dept": dept,
        "deadline": deadline.isoformat() if deadline else "",
    }
    return Item(
        row=row,
        values=values,
        dimension=dimension,
        status=status,
        deadline=DateValue(values["deadline"], DATE, deadline) if deadline else DateValue("", EMPTY),
        completed_on=DateValue(completed_on.isoformat(), DATE, completed_on)
        if completed_on
        else DateValue("", EMPTY),
        seq=None if seq is None else float(seq),
    )


def ledger(path: str, items: list[Item], unit: str = "") -> Ledger:
    dims: list[str] = []
    for it in items:
        if it.dimension not in dims:
            dims.append(it.dimension)
    return Ledger(
        path=path,
        sheet="整改台账",
        header_row=2,
        columns={},
        headers={},
        items=items,
        dimensions=dims,
        info={"unit": unit} if unit else {},
    )


def seventeen(path: str, done: int, deadline: date = date(2024, 11, 15)) -> Ledger:
    """17 items in two dimensions; the first ``done`` are completed, the rest in progress."""
    items = []
    for n in range(1, 18):
        status = "completed" if n <= done else "in_progress"
        dim = "理论学习" if n <= 8 else "作风建设"
        items.append(item(n + 2, n, dim, f"问题{n}：学习不够深入", status, deadline))
    return ledger(path, items, unit="某某街道")


ROOT = Path(__file__).resolve().parents[1]


def module_from_git(commit: str, path: str):
    """``path`` as it was at ``commit``, loaded as a module (None when git or the old code cannot): the
    real earlier code writes the files the migration and format tests, and bench_history, start from."""
    try:
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{commit}:{path}"], capture_output=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    spec = importlib.util.spec_from_loader(f"earlier_{commit}", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        exec(compile(source, f"{commit}:{path}", "exec"), module.__dict__)
    except Exception:  # the code around it moved on: nothing to compare with
        return None
    finally:
        sys.modules.pop(spec.name, None)
    return module
