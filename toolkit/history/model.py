"""What the history keeps: a snapshot, its per-方面 counts and its items, and the error it raises.

Plain data shared by the codec, the store, snapshot building and the comparison; nothing here reads or
writes a history file (``HISTORY_FAILURES`` only names what doing so may raise).
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date

from toolkit.config import COMPLETED_STATUSES, normalize_text
from toolkit.errors import LedgerError
from toolkit.model import MadeOnUse
from toolkit.stats import percent

# the command of a snapshot that was only a 校验 (the button's is "button-validate"): a 通报 compares with
# the last 通报, not with a 校验
VALIDATE_COMMAND = "validate"


class HistoryError(LedgerError):
    """The history database cannot be opened, read or written."""


# what may go wrong with a history file; never a reason to fail the command that reads or records it
HISTORY_FAILURES = (HistoryError, OSError, sqlite3.Error)


@dataclass(slots=True)
class ItemState:
    """One item as a snapshot remembers it."""

    row: int
    seq: str
    dimension: str
    problem: str
    status: str | None
    status_text: str = ""
    dept: str = ""
    deadline: str = ""
    deadline_date: date | None = None
    overdue: bool = False

    @property
    def problem_hash(self) -> str:
        return problem_hash(self.problem)

    @property
    def completed(self) -> bool:
        return self.status in COMPLETED_STATUSES

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "seq": self.seq,
            "dimension": self.dimension,
            "problem": self.problem,
            "dept": self.dept,
            "status": self.status,
            "status_text": self.status_text,
            "deadline": self.deadline,
            "deadline_date": self.deadline_date.isoformat() if self.deadline_date else None,
            "overdue": self.overdue,
        }


class ItemStates(MadeOnUse[ItemState]):
    """A snapshot's items kept column by column; ItemState objects are made on first access, once.

    Recording a snapshot only needs the columns (they go straight into the blob), so ``ledger validate``
    never builds 100k objects; comparing and listing index the sequence like a list. The 序号 is kept as
    a number, formatted on access (``format_seq``), or, for a cell without a number, as its final text.
    """

    __slots__ = (
        "_states",
        "deadline_dates",
        "deadlines",
        "depts",
        "dimensions",
        "joined",
        "overdue",
        "problems",
        "rows",
        "seq_texts",
        "seq_values",
        "status_texts",
        "statuses",
    )

    def __init__(
        self,
        rows: Sequence[int],
        seq_values: Sequence[float | None],
        seq_texts: Sequence[str],
        dimensions: Sequence[str],
        problems: Sequence[str],
        depts: Sequence[str],
        statuses: Sequence[str | None],
        status_texts: Sequence[str],
        deadlines: Sequence[str],
        deadline_dates: Sequence[date | None],
        overdue: Sequence[bool] | bytes,
        joined: dict[str, str] | None = None,
    ) -> None:
        self.rows = rows
        self.seq_values = seq_values
        self.seq_texts = seq_texts
        self.dimensions = dimensions
        self.problems = problems
        self.depts = depts
        self.statuses = statuses
        self.status_texts = status_texts
        self.deadlines = deadlines
        self.deadline_dates = deadline_dates
        self.overdue = overdue
        # "problem" / "dept" -> that column joined by NUL, when the reader had it (ItemColumns.joined)
        self.joined = joined or {}
        self._states: list[ItemState] | None = None

    @classmethod
    def from_states(cls, states: Iterable[ItemState]) -> ItemStates:
        """Columns of ItemState objects (a hand-made snapshot, or schema-1 rows being converted)."""
        states = list(states)
        table = cls(
            [s.row for s in states],
            [None] * len(states),  # the seq is formatted already: kept as its final text
            [s.seq for s in states],
            [s.dimension for s in states],
            [s.problem for s in states],
            [s.dept for s in states],
            [s.status for s in states],
            [s.status_text for s in states],
            [s.deadline for s in states],
            [s.deadline_date for s in states],
            bytes(bool(s.overdue) for s in states),
        )
        table._states = states
        return table

    def _materialized(self) -> list[ItemState]:
        if self._states is None:
            columns = zip(
                self.rows,
                format_seqs(self.seq_values, self.seq_texts),
                self.dimensions,
                self.problems,
                self.statuses,
                self.status_texts,
                self.depts,
                self.deadlines,
                self.deadline_dates,
                map(bool, self.overdue),
                strict=True,
            )
            # positional in ItemState's field order: row, seq, dimension, problem, status, status_text,
            # dept, deadline, deadline_date, overdue
            self._states = [ItemState(*values) for values in columns]
        return self._states

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(slots=True)
class DimensionCount:
    name: str
    total: int
    completed: int
    closed: int = 0
    long_term: int = 0
    excluded: int = 0
    overdue: int = 0
    rate: float | None = None


@dataclass(slots=True)
class Snapshot:
    as_of: date
    total: int
    completed: int
    overdue: int
    rate: float | None
    name: str = ""
    path: str = ""
    content_hash: str = ""
    recorded_at: str = ""
    command: str = ""
    sheet: str = ""
    unit: str = ""
    closed: int = 0
    long_term: int = 0
    excluded: int = 0
    id: int | None = None
    items: Sequence[ItemState] = field(default_factory=list)  # an ItemStates when built or loaded here
    dimensions: list[DimensionCount] = field(default_factory=list)

    @property
    def is_report(self) -> bool:
        """Not only a 校验: recorded by a 通报 (``ledger report``, the 生成通报 button), or by a library call
        that named no command (counted as a 通报, as every snapshot was before commands were told apart)."""
        return not self.command.endswith(VALIDATE_COMMAND)

    @property
    def occasion(self) -> str:
        """What the snapshot was, as a 通报 names it: 通报 or 校验."""
        return "通报" if self.is_report else "校验"

    def as_dict(self, decimals: int = 1) -> dict:
        """The row ``ledger history --json`` prints; rate in percent like ``ledger stats --json``."""
        return {
            "as_of": self.as_of.isoformat(),
            "recorded_at": self.recorded_at,
            "total": self.total,
            "completed": self.completed,
            "rate": percent(self.rate, decimals),
            "overdue": self.overdue,
            "hash": self.content_hash,
            "command": self.command,
            "path": self.path,
        }


def problem_hash(text: str) -> str:
    """Hash of the problem text with spaces and line breaks folded away."""
    # spaces and line breaks only: folding full-width punctuation (in every Chinese sentence) costs
    # more than the rest of a snapshot, and a retyped comma is not a different problem often enough
    return hashlib.sha256("".join(text.split()).encode("utf-8")).hexdigest()[:16]


def format_seq(item_seq: float | None, raw: str) -> str:
    if item_seq is not None and float(item_seq).is_integer():
        return str(int(item_seq))
    if item_seq is not None:
        return repr(item_seq)
    return normalize_text(raw)


def format_seqs(values: Sequence[float | None], texts: Sequence[str]) -> Iterable[str]:
    """The 序号 texts of a column: ``format_seq`` of the numbers, the text where there is none. Whole
    numbers only (the usual 序号 column) go through C-level maps."""
    if None not in values:
        with suppress(ValueError, OverflowError, TypeError):
            whole = list(map(int, values))  # type: ignore[arg-type]
            if whole == list(values):
                return map(str, whole)
    return (
        text if value is None else format_seq(value, text) for value, text in zip(values, texts, strict=True)
    )


def warn(message: str) -> None:
    """Tell a history failure on stderr: history never breaks the command it goes with."""
    if sys.stderr is None:  # no stderr (pythonw behind a button, 2>&-); print(file=None) would use stdout
        return
    with suppress(OSError, ValueError, AttributeError):
        print(f"提示：{message}", file=sys.stderr)
