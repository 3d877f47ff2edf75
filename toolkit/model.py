"""Plain data passed between the stages: read → Ledger (its items kept column by column in ItemColumns),
validate → Findings in a Report; and the 0-based column letters every stage writes cells with."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, TypeVar, overload

if TYPE_CHECKING:
    from toolkit.config import Config
    from toolkit.status import StatusReading

ERROR = "error"
WARNING = "warning"
INFO = "info"

# kinds of a parsed date cell
DATE = "date"  # a calendar date (possibly "end of month/year" text)
IMMEDIATE = "immediate"  # 立行立改
LONG_TERM = "long_term"  # 长期坚持: no date
EMPTY = "empty"
INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class YearGuess:
    """The year given to dates written without one, and where it came from."""

    year: int
    source: str  # one of YEAR_SOURCES

    @property
    def guessed(self) -> bool:
        """Taken from other cells or the calendar rather than written for the ledger (an info finding)."""
        return self.source in GUESSED_SOURCES


# where the year of a date without one comes from, in the order they are tried (the label is for messages)
YEAR_SOURCES: dict[str, str] = {
    "info": "“通报信息”表的年度",
    "title": "台账标题",
    "info_date": "“通报信息”表的成文日期",
    "deadlines": "台账中其他整改时限最常见的年份",
    "as_of": "统计日期",
    "today": "今天的日期",
}
GUESSED_SOURCES = frozenset({"deadlines", "as_of", "today"})


@dataclass(frozen=True, slots=True)
class DateValue:
    """A date cell as parsed, with the text the clerk typed kept beside it."""

    raw: str
    kind: str
    value: date | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str
    row: int | None
    column: str | None
    field: str | None
    value: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def cell(self) -> str:
        return f"{self.column or ''}{self.row or ''}"


@dataclass(slots=True)
class Item:
    """One problem row of the ledger. ``values`` maps field id to the cell's text as shown."""

    row: int
    values: dict[str, str]
    dimension: str
    status: str | None  # canonical status id; None when empty or not in the vocabulary
    deadline: DateValue
    completed_on: DateValue
    seq: float | None = None

    def get(self, field_id: str) -> str:
        return self.values.get(field_id, "")


T = TypeVar("T")

# the spacing the duplicate-problem rule ignores ("问题 一" repeats "问题一")
FOLDED_SPACES = (" ", "\n", "\u3000", "\t")


def distinct_objects(values: Sequence[T]) -> list[T]:
    """Each object once, in order of first appearance, told apart by identity: the reader shares one
    parsed DateValue among all cells holding the same value, so whoever judges dates judges each once."""
    return list(dict(zip(map(id, values), values, strict=True)).values())


class Memo(dict):
    """``judge`` of each distinct cell value, worked out the first time it is looked up:
    ``list(map(memo.__getitem__, column))`` judges a column at C speed, each value once.
    (True == 1.0 as a dict key: callers that may meet booleans check for them.)"""

    __slots__ = ("judge",)

    def __init__(self, judge: Callable[[object], object]) -> None:
        super().__init__()
        self.judge = judge

    def __missing__(self, value: object) -> object:
        judged = self[value] = self.judge(value)
        return judged


class LazyTexts:
    """A column whose texts are worked out only when asked for.

    The reader keeps the parsed values of dates, 序号, statuses and 方面; their cell texts are
    wanted only for messages and for whoever makes Items, so they wait until then.
    """

    __slots__ = ("_memo", "to_text", "values")

    def __init__(self, values: Sequence[object], to_text: Callable[[object], str]) -> None:
        self.values = values
        self.to_text = to_text
        self._memo: dict[str, str] = {}  # texts of text cells asked for one by one

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: int) -> str:
        value = self.values[index]
        if type(value) is not str:
            return self.to_text(value)
        text = self._memo.get(value)
        if text is None:
            text = self._memo[value] = self.to_text(value)
        return text

    def tolist(self) -> list[str]:
        memo = Memo(self.to_text)
        texts = list(map(memo.__getitem__, self.values))  # one pass; each distinct value once
        if (0 in memo or 1 in memo) and bool in set(map(type, self.values)):
            return [self.to_text(v) for v in self.values]  # True == 1.0 as a key: no memo by value
        return texts

    def blank_indices(self) -> list[int]:
        blank = {v for v in set(self.values) if not self.to_text(v)}
        if not blank:  # blank cells are "", None or spaces: never equal to a number
            return []
        return [i for i, v in enumerate(self.values) if v in blank]


class MadeOnUse(Sequence[T]):
    """A sequence kept in a compact form (columns) whose elements are made on first use, once:
    subclasses give ``_materialized()`` and a cheap ``__len__``."""

    __slots__ = ()

    def _materialized(self) -> list[T]:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self._materialized()[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self._materialized())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class _CellsOfItems(dict):
    """The texts of a list of Items by field, each column made when first asked for (counting a
    list of Items needs one or two columns, not all fifteen)."""

    def __init__(self, items: list[Item]) -> None:
        super().__init__()
        self.items = items

    def get(self, field_id: str, default: object = None) -> list[str]:  # type: ignore[override]
        if field_id not in self:
            self[field_id] = [item.values.get(field_id, "") for item in self.items]
        return self[field_id]

    def __iter__(self) -> Iterator[str]:  # the fields any item has
        return iter(dict.fromkeys(f for item in self.items for f in item.values))


class ItemColumns(MadeOnUse[Item]):
    """A ledger's items kept column by column: what the reader builds and the rules and counts scan.

    On a 100k-row ledger, making an Item and a value dict per row cost more than judging the rows.
    Validation and statistics read the columns; Items are made only for code that iterates them
    (the 通报, history, the buttons), once, then kept. Every column has one entry per item.
    """

    __slots__ = ("_cells", "_items", "_no_blanks", "completed_on", "deadlines", "dimensions", "joined", "rows",
                 "seqs", "statuses", "unspaced")  # fmt: skip

    def __init__(
        self,
        rows: list[int],
        cells: dict[str, Sequence[str] | LazyTexts],
        dimensions: list[str],
        statuses: list[str | None],
        deadlines: list[DateValue],
        completed_on: list[DateValue],
        seqs: list[float | None],
        items: list[Item] | None = None,
        no_blanks: Iterable[str] = (),
        unspaced: Iterable[str] = (),
        joined: dict[str, str] | None = None,
    ) -> None:
        self.rows = rows  # Excel row numbers
        self._cells = cells  # field id -> the cells' text as shown (some worked out on demand)
        self.dimensions = dimensions
        self.statuses = statuses
        self.deadlines = deadlines
        self.completed_on = completed_on
        self.seqs = seqs
        self._items = items
        self._no_blanks = frozenset(no_blanks)  # fields the reader saw no blank cell in
        # fields the reader saw no space, tab, newline or 全角空格 in: nothing to fold there
        self.unspaced = frozenset(unspaced)
        # field id -> its cells joined by NUL, as the reader joined them anyway (some text columns):
        # whoever stores a column whole (history) takes it instead of joining 100k cells again
        self.joined = joined or {}

    @classmethod
    def of(cls, items: Iterable[Item]) -> ItemColumns:
        """The columns of any items: a reader's columns as they are, a list of Items transposed."""
        if isinstance(items, ItemColumns):
            return items
        items = list(items)
        return cls(
            [i.row for i in items],
            _CellsOfItems(items),
            [i.dimension for i in items],
            [i.status for i in items],
            [i.deadline for i in items],
            [i.completed_on for i in items],
            [i.seq for i in items],
            items,
        )

    @property
    def fields(self) -> list[str]:
        return list(self._cells)

    def column(self, field_id: str) -> Sequence[str]:
        """The texts of one field; empty strings when the ledger has no such column."""
        cells = self._cells.get(field_id)
        if cells is None:
            return [""] * len(self.rows)
        if isinstance(cells, LazyTexts):
            cells = self._cells[field_id] = cells.tolist()
        return cells

    def cell(self, field_id: str, index: int) -> str:
        """One cell's text, without working out the whole column."""
        cells = self._cells.get(field_id)
        return "" if cells is None else cells[index]

    def blanks(self, field_id: str) -> list[int]:
        """Indices of the items whose cell in this field is empty (or only spaces)."""
        cells = self._cells.get(field_id)
        if cells is None:
            return list(range(len(self.rows)))
        # parsed columns know their blanks: a blank status is no status, a blank date is EMPTY
        if field_id == "status":
            return [i for i, s in enumerate(self.statuses) if s is None and not cells[i].strip()]
        if field_id in ("deadline", "completed_on"):
            dates = self.deadlines if field_id == "deadline" else self.completed_on
            empty = {id(d) for d in distinct_objects(dates) if d.kind == EMPTY}
            return [i for i, k in enumerate(map(id, dates)) if k in empty] if empty else []
        if isinstance(cells, LazyTexts):
            return cells.blank_indices()
        if field_id in self._no_blanks or "" not in cells:
            return []
        return list(itertools.compress(range(len(cells)), map(operator.not_, cells)))

    def _materialized(self) -> list[Item]:
        if self._items is None:
            names = self.fields
            columns = [self.column(f) for f in names]
            rows = list(zip(*columns, strict=True)) if names else [()] * len(self.rows)
            self._items = list(
                map(
                    Item,
                    self.rows,
                    [dict(zip(names, texts)) for texts in rows],  # noqa: B905
                    self.dimensions,
                    self.statuses,
                    self.deadlines,
                    self.completed_on,
                    self.seqs,
                )
            )
        return self._items

    def __len__(self) -> int:
        return len(self.rows)


# how a column's field was found (ColumnUse.how)
BY_ALIAS = "alias"  # the header is a field's name or one of its aliases
BY_ROLE = "role"  # the header's words name the field's role (巡察反馈问题 → 问题描述)
BY_USER = "user"  # the clerk said so (配置 表头对照, --columns, TOML [columns])
BY_COMBINED = "combined"  # the header names two roles (责任单位及责任人): the more important one still free


@dataclass(frozen=True, slots=True)
class ColumnUse:
    """How the reader understood one header cell: shown to the clerk, who may correct it."""

    column: int  # 0-based
    header: str  # as written, on one line (a two-row header: the lower cell, or the merged one above)
    field: str | None  # None: the column is not used
    how: str = ""  # BY_ALIAS, BY_ROLE, BY_COMBINED or BY_USER ("" when unused)
    also: tuple[str, ...] = ()  # BY_COMBINED: the other fields the header names, not taken from it


@dataclass(slots=True)
class Ledger:
    path: str
    sheet: str
    header_row: int
    columns: dict[str, int]  # field id -> 0-based column index
    headers: dict[str, str]  # field id -> header text as written
    items: Sequence[Item]  # a list, or the reader's ItemColumns
    dimensions: list[str]  # in ledger order of first appearance
    title: str = ""
    info: dict[str, object] = field(default_factory=dict)  # the 通报信息 sheet
    formula_errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col0) -> "#REF!"
    sheet_names: list[str] = field(default_factory=list)
    # the configuration the ledger was read with, the workbook's 配置 sheet applied on top
    config: Config | None = None
    # every header cell and what it was understood as, in column order
    mapping: list[ColumnUse] = field(default_factory=list)
    # Excel rows of the first item of each stacked table after the first (its numbering starts again)
    table_starts: list[int] = field(default_factory=list)
    # cells read as sentences (stripped text → how it was read): validation says so on each
    status_readings: dict[str, StatusReading] = field(default_factory=dict)
    # the year given to deadlines written without one, and where it came from (see toolkit.dates)
    year_guess: YearGuess | None = None

    def column_letter(self, field_id: str) -> str | None:
        index = self.columns.get(field_id)
        return None if index is None else column_letter(index)


@dataclass(slots=True)
class Report:
    """The findings of a validation run."""

    file: str
    sheet: str
    as_of: date
    rows: int
    findings: list[Finding]
    truncated: int = 0  # findings left out beyond the cap
    columns_line: str = ""  # how the headers were understood ("表头识别：…"); empty for standard headers

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == WARNING)

    @property
    def valid(self) -> bool:
        return self.errors == 0

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "sheet": self.sheet,
            "as_of": self.as_of.isoformat(),
            "rows": self.rows,
            "errors": self.errors,
            "warnings": self.warnings,
            "truncated": self.truncated,
            "issues": [f.as_dict() for f in self.findings],
        }

    def flat(self) -> list[tuple[int | None, str | None, str]]:
        return [(f.row, f.column, f.code) for f in self.findings]


def column_letter(index: int) -> str:
    """0-based column index to Excel letters (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """Excel letters to 0-based column index."""
    value = 0
    for ch in letters.upper():
        value = value * 26 + ord(ch) - 64
    return value - 1
