"""Build Ledger objects by hand for the history tests (the same shape toolkit.read produces)."""

from __future__ import annotations

from datetime import date

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
