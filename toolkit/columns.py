"""A ledger's columns read whole: cells as the clerk sees them, merged values filled down, each
distinct value judged once.

A 100k-row ledger is 1.5M cells, and every pass over a column costs about as much as the next, so each
column is read once at C speed: text columns through one join, the others (status, 方面, dates, 序号)
through one lookup of each distinct value (toolkit.read.ledger_from_rows puts them together).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, NamedTuple

from toolkit.dates import parse_date
from toolkit.model import EMPTY, FOLDED_SPACES, DateValue, LazyTexts, Memo

if TYPE_CHECKING:  # only the shape of a source's merged ranges: reading grids needs no file I/O
    from toolkit.sources import Merged

ERROR_TOKENS = frozenset({"#REF!", "#N/A", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
                          "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!"})  # fmt: skip
_SUSPECT_CELL = re.compile("\x00[\\s#]")


def cell_text(value: object) -> str:
    """A cell as the clerk sees it: numbers without a spurious .0, dates as ISO text."""
    if value is None:
        return ""
    if type(value) is str:
        return value
    if type(value) is float:  # the usual number: 序号, counts
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def blank_or_text(value: object) -> str:
    """A cell's text as the rules see it: only spaces counts as empty."""
    text = cell_text(value)
    return "" if text.isspace() else text


def grid_columns(body: list[list[object]], columns: dict[str, int]) -> dict[str, Sequence]:
    """The ledger's columns (field → cells below the header), ragged rows padded."""
    width = max(columns.values()) + 1
    lengths = set(map(len, body))
    if lengths and min(lengths) < width:
        body = [list(r) + [""] * (width - len(r)) if len(r) < width else r for r in body]
        lengths = set(map(len, body))
    if len(lengths) == 1:  # calamine's grids are rectangular: transpose at C speed
        transposed = list(zip(*body, strict=True))
        return {f: transposed[c] for f, c in columns.items()}
    return {f: [r[c] for r in body] for f, c in columns.items()}


class Merge(NamedTuple):
    """One merged block reaching below the header, in body offsets (inclusive)."""

    first: int
    last: int
    cols: range
    top_left: int | None  # the body offset of the cell that holds the value, if below the header
    value: object


def merges_below(rows: list[list[object]], merged: Merged, first_data: int) -> list[Merge]:
    blocks = []
    for (r0, c0), (r1, c1) in merged:
        if r1 < first_data or r0 >= len(rows):
            continue
        value = rows[r0][c0] if c0 < len(rows[r0]) else None
        first = max(r0, first_data) - first_data
        last = min(r1, len(rows) - 1) - first_data
        top_left = r0 - first_data if r0 >= first_data else None
        blocks.append(Merge(first, last, range(c0, c1 + 1), top_left, value))
    return blocks


@dataclass(slots=True)
class Fills:
    """Where merged values were copied: a row of only copies is no item."""

    counts: list[int]  # per body row: ledger cells holding a copy
    blank_rows: set[int]  # body rows where a copied value is blank
    spans: dict[str, list[tuple[int, int]]]  # field → body offsets (first, last) holding copies


def fill_columns(
    raw: dict[str, Sequence], columns: dict[str, int], merges: list[Merge], height: int
) -> Fills:
    """Copy each merged block's value down its ledger columns (slice assignment: C speed)."""
    by_column = {c: f for f, c in columns.items()}
    diff = [0] * (height + 1)
    blank_rows: set[int] = set()
    spans: dict[str, list[tuple[int, int]]] = {}
    for block in merges:
        count = 0
        for c in block.cols:
            field_id = by_column.get(c)
            if field_id is None:
                continue
            column = raw[field_id]
            if not isinstance(column, list):
                column = raw[field_id] = list(column)
            column[block.first : block.last + 1] = [block.value] * (block.last - block.first + 1)
            first = block.first + (1 if block.top_left == block.first and c == block.cols.start else 0)
            if first <= block.last:
                spans.setdefault(field_id, []).append((first, block.last))
            count += 1
        if count:
            diff[block.first] += count
            diff[block.last + 1] -= count
            if block.top_left is not None and block.cols.start in by_column:  # the value's own cell
                diff[block.top_left] -= 1
                diff[block.top_left + 1] += 1
            if not blank_or_text(block.value):
                blank_rows.update(range(block.first, block.last + 1))
    return Fills(list(itertools.accumulate(diff[:height])), blank_rows, spans)


def text_column(
    column: Sequence, probe_spaces: bool = False
) -> tuple[Sequence[str], list[tuple[int, str]], bool, bool, str | None]:
    """A column as the texts a clerk sees (blank-looking cells as ""), its error tokens, whether any
    cell is blank, (when probed, else True) whether any cell holds a space or line break, and the
    texts joined by NUL when they are the cells as they were joined (else None)."""
    if not column:
        return column, [], False, False, None
    try:
        joined = "\x00".join(column)  # TypeError unless every cell is text: C speed either way
    except TypeError:
        column = LazyTexts(column, cell_text).tolist()
        joined = "\x00".join(column)
    spaced = not probe_spaces or any(space in joined for space in FOLDED_SPACES)  # memchr-fast
    # a cell that starts with whitespace (maybe only spaces: an empty cell) or "#" (every error
    # token does) is a candidate; the search runs at memchr speed over the joined column
    first = column[0][:1]
    if not (first.isspace() or first == "#" or _SUSPECT_CELL.search(joined)):
        blank = not first or "\x00\x00" in joined or joined.endswith("\x00")
        return column, [], blank, spaced, joined
    column = [v if not v.isspace() else "" for v in column]
    tokens = [(offset, value) for offset, value in enumerate(column) if value in ERROR_TOKENS]
    return column, tokens, "" in column, spaced, None


def per_value(
    column: Sequence | None, judge: Callable[[object], object], tokens: list[tuple[int, str]]
) -> list | None:
    """``judge`` of every cell, called once per distinct value (one C-speed pass over the column);
    error tokens in the column are added to ``tokens``."""
    if column is None:
        return None
    memo = ValueMemo(judge)
    judged = memo.judge_all(column)
    tokens.extend(memo.tokens_in(column))
    return judged


class ValueMemo(Memo):
    __slots__ = ()

    def judge_all(self, column: Sequence) -> list:
        judged = list(map(self.__getitem__, column))
        if (1 in self or 0 in self) and bool in set(map(type, column)):
            # True == 1.0 as a dict key, yet a TRUE cell is no 序号 1: judge booleans apart
            judged = [self.judge(v) for v in column]
        return judged

    def tokens_in(self, column: Sequence) -> list[tuple[int, str]]:
        """Error tokens typed or pasted into the column, found among the distinct values first."""
        found = ERROR_TOKENS.intersection(k for k in self if type(k) is str)
        return [(offset, v) for offset, v in enumerate(column) if v in found] if found else []


class NumberTexts(LazyTexts):
    """The texts of a column of plain numbers (序号 1, 2, 3 …), each one different: no memo."""

    __slots__ = ()

    def tolist(self) -> list[str]:
        return [str(int(v)) if v.is_integer() else repr(v) for v in self.values]  # as cell_text


def seq_column(column: Sequence | None, tokens: list[tuple[int, str]]) -> tuple[Sequence | None, bool]:
    """序号 as numbers, and whether the column held plain numbers only (then, each one different,
    it needs no per-value work and its cells are never blank, 合计 or error text)."""
    if column is None:
        return None, False
    if set(map(type, column)) == {float}:
        return column, True
    return per_value(column, _seq, tokens), False


class DateColumns:
    """Deadlines repeat a lot: each distinct cell value is parsed once per ledger."""

    def __init__(self, year_hint, date1904: bool) -> None:
        self.empty = DateValue("", EMPTY)
        self.memo = ValueMemo(lambda v: parse_date(v, year_hint, date1904))
        self.memo[""] = self.memo[None] = self.empty

    def parse(self, column: Sequence | None, tokens: list[tuple[int, str]]) -> list[DateValue] | None:
        if column is None:
            return None
        parsed = self.memo.judge_all(column)
        tokens.extend(self.memo.tokens_in(column))
        return parsed


def _seq(value: object) -> float | None:
    if type(value) is float or type(value) is int:
        return float(value)
    if type(value) is str and value.strip().isdigit():
        return float(value.strip())
    return None
