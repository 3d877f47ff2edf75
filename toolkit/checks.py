"""The validation rules as data: each rule declares its findings (code, severity, Chinese message
template), the columns it needs and where its findings point, and carries its own scan.

Modelled on frictionless' checks (a check names the error types it may give) and pandera's checks (an
element-wise check judges one value at a time). The engine (toolkit.validate) runs the rules a ledger's
columns allow, in the order of ITEM_RULES, which is the order one row's findings are listed.

A rule scans whole columns of the column view (``ItemColumns``) and returns the indices of the items it
flags; ``say`` words one finding and runs only for the findings kept under the cap (a 100k-row ledger
may have 40k overdue rows). A rule that sets ``judges`` looks at one column only (``values``): the
engine asks ``judge`` once per distinct value and ``say`` once per distinct flagged value.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any, ClassVar

from toolkit.config import COMPLETED_STATUSES, OPTIONAL, REQUIRED, WARN_IF_EMPTY, Config, normalize_text
from toolkit.model import (
    DATE,
    EMPTY,
    ERROR,
    FOLDED_SPACES,
    IMMEDIATE,
    INFO,
    INVALID,
    LONG_TERM,
    WARNING,
    YEAR_SOURCES,
    DateValue,
    ItemColumns,
    Ledger,
)
from toolkit.rules import chinese_date, is_overdue, overdue_indices
from toolkit.status import STATUS_FIELD, narrative_note, status_field

# what a rule's ``say`` gives: the code, the value the finding shows, the template's other fields
Said = tuple[str, str, dict[str, object]]

# how a rule that ``judges`` values tells them apart
BY_VALUE = "value"  # text cells: equal texts are one value
BY_OBJECT = "object"  # parsed dates: the reader shares one object per distinct cell value


@dataclass(frozen=True, slots=True)
class Message:
    """One kind of finding (frictionless' error type): code, severity, title and Chinese template.

    The template's fields are cell, row, header, value and as_of (filled by the engine) plus whatever
    the rule's ``say`` adds.
    """

    code: str
    severity: str
    title: str
    template: str
    shown_as: str = ""  # the code the CLI and JSON show, when a milder variant shares its rule's code

    @property
    def public_code(self) -> str:
        return self.shown_as or self.code


class Scope:
    """What the rules look at: the ledger, its column view, the config and the as-of date, and what
    several rules share (worked out once, when first asked for)."""

    def __init__(self, ledger: Ledger, config: Config, as_of: date) -> None:
        self.ledger = ledger
        self.config = config
        self.as_of = as_of
        self.columns = ledger.columns
        self.table = ItemColumns.of(ledger.items)

    @cached_property
    def status_labels(self) -> dict[str, str]:
        return {s.id: s.label for s in self.config.statuses}

    def status_label(self, index: int) -> str:
        """How a finding names an item's status: its label, else the cell's text, else 空白."""
        status, text = self.table.statuses[index], self.table.cell("status", index).strip()
        return self.status_labels.get(status, text) if status else text or "空白"

    @cached_property
    def broken(self) -> dict[str, list[int]]:
        """Field id → the items whose cell shows an error value (#REF!, #N/A …), in ledger order."""
        error_cells = self.ledger.formula_errors
        if not error_cells:
            return {}
        error_rows = {r for r, _ in error_cells}
        at_rows = [(i, r) for i, r in enumerate(self.table.rows) if r in error_rows]
        return {
            field: [i for i, r in at_rows if (r, col) in error_cells] for field, col in self.columns.items()
        }


class LedgerRule:
    """A rule about the ledger as a whole: its findings sit on the header row."""

    messages: ClassVar[tuple[Message, ...]]

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def findings(self) -> Iterator[tuple[str, str | None, str, dict[str, object]]]:
        """(code, field, value, the template's other fields) of each finding."""
        raise NotImplementedError


class ItemRule:
    """A rule judged item by item, scanned column-wise (see the module docstring)."""

    messages: ClassVar[tuple[Message, ...]]
    needs: ClassVar[tuple[str, ...]] = ()  # the ledger columns without which the rule does not run
    field: str | None = None  # where its findings point (see ``fields``)
    # a cell showing #REF! says nothing else: most rules skip it; these speak anyway
    speaks_over_errors: ClassVar[bool] = False
    judges: ClassVar[str | None] = None  # BY_VALUE / BY_OBJECT: judge each distinct value of ``values`` once

    def __init__(self, scope: Scope, field: str | None) -> None:
        self.scope = scope
        self.field = field

    @classmethod
    def applies(cls, scope: Scope) -> bool:
        """Whether the rule has anything to look at (beyond ``needs``)."""
        return True

    @classmethod
    def fields(cls, scope: Scope) -> Iterable[str | None]:
        """The fields the rule runs on, once each: its ``field`` unless it checks several columns."""
        return (cls.field,)

    def scan(self) -> list[int] | None:
        """The indices of the items flagged, in ledger order. A rule that ``judges`` gives the candidates
        (None: every item) and leaves the verdict to ``judge``."""
        return None

    def values(self) -> Sequence:
        """The column a rule that ``judges`` looks at, one value per item."""
        raise NotImplementedError

    def judge(self, value: Any) -> bool:
        """Whether a value is flagged (asked once per distinct value)."""
        raise NotImplementedError

    def say(self, key: Any) -> Said:
        """The finding at an item index, or, for a rule that ``judges``, for a flagged value."""
        raise NotImplementedError


# ---- the ledger as a whole ----


class MissingColumns(LedgerRule):
    """missing-column once per column, not once per row.

    Only what counting needs is an error in a ledger laid out elsewhere (Config.columns_required);
    a ledger made by ``ledger new`` keeps every required column.
    """

    messages = (
        Message("missing-column", ERROR, "缺少列", "台账缺少“{header}”列（表头在第{row}行），请在表头中补上这一列。"),
        Message("missing-column-warning", WARNING, "缺少列", "台账缺少“{header}”列（表头在第{row}行），{hint}",
                shown_as="missing-column"),
        Message("missing-status-column", ERROR, "缺少完成状态",
                "台账缺少“{header}”列（表头在第{row}行），{count}条问题都无法判断是否完成，不计入完成率；"
                "请补上这一列（“是否完成”“整改状态”等写法均可，填“已完成”“正在整改”或“是”“否”）。",
                shown_as="missing-column"),
        Message("status-from-progress", INFO, "完成状态按进展判断",
                "台账没有完成状态列，完成状态按“{header}”列的文字判断：写明已完成的计为已完成，其余计为未完成。"),
    )  # fmt: skip

    # what a missing column costs, said in its warning (a ledger laid out elsewhere)
    EFFECT: ClassVar[dict[str, str]] = {
        "deadline": "无法判断是否超期，建议补上这一列。",
        "completed_on": "无法判断是否按期完成，建议补上这一列。",
        "dimension": "统计不能按方面分组，建议补上这一列。",
    }

    def findings(self) -> Iterator[tuple[str, str | None, str, dict[str, object]]]:
        scope, config = self.scope, self.scope.config
        columns = scope.columns
        present = set(scope.table.statuses)
        any_completed = not present.isdisjoint(COMPLETED_STATUSES)
        any_closed = "closed" in present
        required = config.columns_required()
        for spec in config.fields:
            if spec.id in columns:
                continue
            if spec.id == "dimension" and all(scope.table.dimensions):
                continue  # section-title rows give every item its dimension
            if spec.id == STATUS_FIELD:
                source = status_field(columns)
                if source is not None:
                    header = scope.ledger.headers.get(source) or config.spec(source).header
                    yield "status-from-progress", None, "", {"header": " ".join(header.split())}
                elif STATUS_FIELD in required:
                    yield (
                        "missing-status-column",
                        None,
                        spec.header,
                        {"header": spec.header, "count": len(scope.table)},
                    )
                continue
            conditional = spec.id == "completed_on" and any_completed  # needed once an item is completed
            if spec.id in required or (conditional and config.own_layout):
                yield "missing-column", None, spec.header, {"header": spec.header}
            elif conditional or spec.requirement in (REQUIRED, WARN_IF_EMPTY):
                hint = self.EFFECT.get(spec.id, "建议补上这一列。")
                yield "missing-column-warning", None, spec.header, {"header": spec.header, "hint": hint}
            elif spec.id == "evidence" and any_closed:
                hint = "已销号的问题应附佐证材料，建议补上这一列。"
                yield "missing-column-warning", None, spec.header, {"header": spec.header, "hint": hint}


class YearGuessed(LedgerRule):
    """Dates written without a year were given one taken from elsewhere: say which, and from where."""

    messages = (
        Message("year-guessed", INFO, "年份按推断",
                "“{header}”中有没有写年份的日期（如“6月底前”“年底前”），按{year}年计（取自{source}）；"
                "如不对，请写明年份，或在“通报信息”表填写年度。"),
    )  # fmt: skip

    def findings(self) -> Iterator[tuple[str, str | None, str, dict[str, object]]]:
        ledger = self.scope.ledger
        guess = ledger.year_guess
        if guess is not None and guess.guessed:
            field = "deadline" if "deadline" in ledger.columns else "completed_on"
            yield (
                "year-guessed",
                field,
                str(guess.year),
                {"year": guess.year, "source": YEAR_SOURCES[guess.source]},
            )


# ---- item by item, in the order one row's findings are listed ----

MISSING_VALUE = Message("missing-value", ERROR, "必填项为空", "{cell}的“{header}”为空，请填写。")


class FormulaError(ItemRule):
    """A cell showing #REF!, #N/A …: listed first; other rules say nothing else about that cell."""

    messages = (
        Message("formula-error", ERROR, "公式错误", "{cell}（“{header}”）显示错误值“{value}”，请修正公式或改为直接填写内容。"),
    )  # fmt: skip
    speaks_over_errors = True

    @classmethod
    def applies(cls, scope: Scope) -> bool:
        return bool(scope.ledger.formula_errors)

    @classmethod
    def fields(cls, scope: Scope) -> Iterable[str | None]:
        return scope.columns

    def scan(self) -> list[int]:
        return self.scope.broken[self.field]  # type: ignore[index]

    def say(self, index: int) -> Said:
        return "formula-error", self.scope.table.cell(self.field, index), {}  # type: ignore[arg-type]


class MissingDimension(ItemRule):
    """An item without a 方面 (neither its cell nor a section title above gives one)."""

    messages = (MISSING_VALUE,)
    needs = ("dimension",)
    field = "dimension"

    def scan(self) -> list[int]:
        return [i for i, d in enumerate(self.scope.table.dimensions) if not d]

    def say(self, index: int) -> Said:
        return "missing-value", "", {}


class MissingValue(ItemRule):
    """An empty cell in a column the config requires (an error) or recommends (a warning)."""

    messages = (MISSING_VALUE, Message("missing-value-warning", WARNING, "建议填写", "{cell}的“{header}”为空，建议填写。",
                                       shown_as="missing-value"))  # fmt: skip

    @classmethod
    def fields(cls, scope: Scope) -> Iterable[str | None]:
        return [
            spec.id
            for spec in scope.config.fields
            if spec.requirement != OPTIONAL and spec.id in scope.columns and spec.id != "dimension"
        ]

    def scan(self) -> list[int]:
        return self.scope.table.blanks(self.field)  # type: ignore[arg-type]

    def say(self, index: int) -> Said:
        required = self.scope.config.spec(self.field).requirement == REQUIRED  # type: ignore[arg-type]
        return "missing-value" if required else "missing-value-warning", "", {}


class UnknownDimension(ItemRule):
    """A 方面 not in the configured list (only when the config has one)."""

    messages = (
        Message("unknown-dimension", ERROR, "方面不在清单中",
                "{cell}的“{header}”为“{value}”，不在配置的方面清单中，请改为：{allowed}。"),
    )  # fmt: skip
    judges = BY_VALUE

    def __init__(self, scope: Scope, field: str | None) -> None:
        super().__init__(scope, field)
        self.allowed = {normalize_text(d).removesuffix("方面") for d in scope.config.dimensions}

    @classmethod
    def applies(cls, scope: Scope) -> bool:
        return bool(scope.config.dimensions)

    @classmethod
    def fields(cls, scope: Scope) -> Iterable[str | None]:
        return ("dimension" if "dimension" in scope.columns else None,)  # section titles may give it

    def values(self) -> Sequence:
        return self.scope.table.dimensions

    def judge(self, value: str) -> bool:
        return bool(value) and normalize_text(value) not in self.allowed

    def say(self, key: str) -> Said:
        return "unknown-dimension", key, {"allowed": "、".join(self.scope.config.dimensions)}


class UnknownStatus(ItemRule):
    """A status word not in the vocabulary: never counted as done; the message suggests the nearest word."""

    messages = (
        Message("unknown-status", ERROR, "状态无法识别",
                "{cell}的“{header}”为“{value}”，不在状态词表中{hint}，请改为：{allowed}。"),
    )  # fmt: skip
    field = "status"
    judges = BY_VALUE

    @classmethod
    def applies(cls, scope: Scope) -> bool:
        return None in scope.table.statuses

    def scan(self) -> list[int]:
        return [i for i, s in enumerate(self.scope.table.statuses) if s is None]

    def values(self) -> Sequence:
        return _CellTexts(self.scope.table, "status")  # only the candidates' texts are looked at

    def judge(self, value: str) -> bool:
        return bool(value.strip())  # a blank cell is missing-value's

    def say(self, key: str) -> Said:
        text = key.strip()
        allowed = "、".join(s.label for s in self.scope.config.statuses)
        return "unknown-status", text, {"allowed": allowed, "hint": _status_hint(text, self.scope.config)}


class StatusFromText(ItemRule):
    """An info finding on each cell whose status was read from a sentence, saying what was read."""

    messages = (
        Message("status-from-text", INFO, "完成状态按文字判断", "{cell}的“{header}”是一段文字，{note}。"),
    )  # fmt: skip
    judges = BY_VALUE

    @classmethod
    def applies(cls, scope: Scope) -> bool:
        return bool(scope.ledger.status_readings)

    @classmethod
    def fields(cls, scope: Scope) -> Iterable[str | None]:
        return (status_field(scope.columns),)

    def values(self) -> Sequence:
        return self.scope.table.column(self.field or STATUS_FIELD)

    def judge(self, value: str) -> bool:
        readings = self.scope.ledger.status_readings
        return value in readings or value.strip() in readings

    def say(self, key: str) -> Said:
        text = key.strip()
        note = narrative_note(self.scope.ledger.status_readings[text], self.scope.status_labels)
        return "status-from-text", _short(text), {"note": note}


class BadDeadline(ItemRule):
    """A 整改时限 that is no date nor a known phrase (立行立改, 长期坚持)."""

    messages = (
        Message("bad-deadline", ERROR, "整改时限无法识别",
                "{cell}的“{header}”为“{value}”，无法识别为日期，请写成 2024年6月30日、2024年6月底前、立行立改或长期坚持等形式。"),
    )  # fmt: skip
    field = "deadline"
    judges = BY_OBJECT

    def values(self) -> Sequence:
        return self.scope.table.deadlines

    def judge(self, value: DateValue) -> bool:
        return value.kind == INVALID

    def say(self, key: DateValue) -> Said:
        return "bad-deadline", key.raw, {}


class DeadlineOutOfRange(BadDeadline):
    """A deadline read as a date outside 2000–2100 (a typo, or a number taken for a date): the parsed
    value speaks even where the cell's neighbours show an error."""

    speaks_over_errors = True

    def judge(self, value: DateValue) -> bool:
        return value.kind == DATE and not 2000 <= value.value.year <= 2100  # type: ignore[union-attr]


class Completion(ItemRule):
    """完成时间 against the status, the as-of date and the deadline: at most one finding a row."""

    messages = (
        Message("bad-date", ERROR, "日期无法识别", "{cell}的“{header}”为“{value}”，不是有效日期，请写成 2024年6月30日 或 2024-06-30。"),
        Message("missing-completion-date", ERROR, "缺少完成时间",
                "{cell}的状态为“{status}”，但“{header}”为空，请填写完成时间。"),
        Message("completion-in-future", ERROR, "完成时间晚于今天",
                "{cell}的“{header}”为{value}，晚于统计日期{as_of}，请核对完成时间或完成状态。"),
        Message("late-completion", WARNING, "逾期完成", "{cell}的完成时间{value}晚于整改时限{deadline}，属逾期完成，请在备注中说明原因。"),
        Message("unexpected-completion-date", WARNING, "状态与完成时间不符",
                "{cell}已填写完成时间“{value}”，但状态为“{status}”，请核对完成状态。"),
    )  # fmt: skip
    needs = ("completed_on",)
    field = "completed_on"

    NOT_A_DATE = frozenset({INVALID, IMMEDIATE, LONG_TERM})
    NO_STATUS = frozenset({None, "excluded"})

    def scan(self) -> list[int]:
        table, as_of = self.scope.table, self.scope.as_of
        statuses = table.statuses
        self.completed = list(map({s: s in COMPLETED_STATUSES for s in set(statuses)}.__getitem__, statuses))
        kinds = list(map(operator.attrgetter("kind"), table.completed_on))
        days = list(map(operator.attrgetter("value"), table.completed_on))
        limits = list(map(operator.attrgetter("value"), table.deadlines))
        rows = zip(kinds, self.completed, days, limits, statuses, strict=True)
        not_a_date, no_status = self.NOT_A_DATE, self.NO_STATUS
        # one pass: a date where none belongs, a missing one, one in the future or after the deadline
        return [
            i for i, (kind, done, day, limit, status) in enumerate(rows)
            if kind in not_a_date or (kind == EMPTY and done) or (kind == DATE and (
                (done and (day > as_of or (limit is not None and day > limit))) or (not done and status not in no_status)))
        ]  # fmt: skip

    def say(self, index: int) -> Said:
        done: DateValue = self.scope.table.completed_on[index]
        if done.kind != DATE:
            if done.kind == EMPTY:
                return "missing-completion-date", "", {"status": self.scope.status_label(index)}
            return "bad-date", done.raw, {}
        day: date = done.value  # type: ignore[assignment]
        if not self.completed[index]:
            return "unexpected-completion-date", done.raw, {"status": self.scope.status_label(index)}
        if day > self.scope.as_of:
            return "completion-in-future", chinese_date(day), {}
        deadline: date = self.scope.table.deadlines[index].value  # type: ignore[assignment]
        return "late-completion", chinese_date(day), {"deadline": chinese_date(deadline)}


class ClosedWithoutEvidence(ItemRule):
    """已销号 with an empty 佐证材料."""

    messages = (
        Message("closed-without-evidence", ERROR, "销号缺少佐证",
                "{cell}的状态为“已销号”，但“{header}”为空，请补充佐证材料后再销号。"),
    )  # fmt: skip
    needs = ("evidence",)
    field = "evidence"

    def scan(self) -> list[int]:
        table = self.scope.table
        closed = [i for i, s in enumerate(table.statuses) if s == "closed"]
        return [i for i in closed if not table.cell("evidence", i).strip()]

    def say(self, index: int) -> Said:
        return "closed-without-evidence", "", {}


class OverdueOrDueSoon(ItemRule):
    """Open past its dated deadline (toolkit.rules: the overdue rule stats and history count by), or
    due within config.due_soon_days: an item that would be overdue the day after that window ends."""

    messages = (
        Message("overdue", WARNING, "已超期",
                "{cell}的整改时限为{deadline}，截至{as_of}仍为“{status}”，已超期{days}天，请督促整改或按程序申请延期。"),
        Message("due-soon", INFO, "即将到期", "{cell}的整改时限为{deadline}，还有{days}天到期，请抓紧推进。"),
    )  # fmt: skip
    field = "deadline"
    speaks_over_errors = True

    def scan(self) -> list[int]:
        window_end = self.scope.as_of + timedelta(days=self.scope.config.due_soon_days + 1)
        return overdue_indices(self.scope.table.statuses, self.scope.table.deadlines, window_end)

    def say(self, index: int) -> Said:
        scope = self.scope
        deadline: DateValue = scope.table.deadlines[index]
        day: date = deadline.value  # type: ignore[assignment]
        if is_overdue(scope.table.statuses[index], day, scope.as_of):  # type: ignore[arg-type]
            extra = {
                "deadline": chinese_date(day),
                "status": scope.status_label(index),
                "days": (scope.as_of - day).days,
            }
            return "overdue", deadline.raw, extra
        return "due-soon", deadline.raw, {"deadline": chinese_date(day), "days": (day - scope.as_of).days}


class DuplicateProblem(ItemRule):
    """The same problem twice (spacing aside): flagged at each later row, naming the first."""

    messages = (
        Message("duplicate-problem", WARNING, "问题重复", "{cell}的问题描述与第{first}行相同，请确认是否重复录入。"),
    )  # fmt: skip
    needs = ("problem",)
    field = "problem"

    def scan(self) -> list[int]:
        table = self.scope.table
        self.problems = problems = table.column("problem")
        keys = problems
        joined = "" if "problem" in table.unspaced else "\x00".join(problems)
        if any(space in joined for space in FOLDED_SPACES):  # memchr-fast probes over the whole column
            keys = ["".join(p.split()) if any(space in p for space in FOLDED_SPACES) else p for p in problems]
        self.keys = keys
        self.first: dict[str, int] = {}
        repeats: list[int] = []
        if len(set(keys)) < len(keys):  # some text twice (or several blank cells): find which
            for i, key in enumerate(keys):
                if key and self.first.setdefault(key, i) != i:
                    repeats.append(i)
        return repeats

    def say(self, index: int) -> Said:
        first_row = self.scope.table.rows[self.first[self.keys[index]]]
        return "duplicate-problem", _short(self.problems[index]), {"first": first_row}


class Numbering(ItemRule):
    """序号 repeated or skipping; numbering may restart at 1 in each 方面 and in each stacked table
    (``Ledger.table_starts``: the Excel rows where one begins)."""

    messages = (
        Message("seq-gap", WARNING, "序号不连续", "{cell}的序号为{value}，上一条为{previous}，序号不连续，请核对是否漏项。"),
        Message("seq-duplicate", WARNING, "序号重复", "{cell}的序号{value}与第{first}行重复，请重新编号。"),
    )  # fmt: skip
    field = "seq"
    speaks_over_errors = True

    def scan(self) -> list[int]:
        table = self.scope.table
        seqs, rows = table.seqs, table.rows
        table_starts = frozenset(self.scope.ledger.table_starts)
        self.found: dict[int, Said] = {}
        if _consecutive(seqs):
            return []
        seen: dict[float, int] = {}
        previous: float | None = None
        previous_dimension: str | None = None
        for i, (seq, dimension) in enumerate(zip(seqs, table.dimensions, strict=True)):
            if seq is not None:
                restart = seq == 1 and (
                    (previous_dimension is not None and dimension != previous_dimension)
                    or rows[i] in table_starts
                )
                if restart:
                    seen.clear()
                first = seen.setdefault(seq, i)
                if first != i:
                    self.found[i] = ("seq-duplicate", _number(seq), {"first": rows[first]})
                elif previous is not None and not restart and seq != previous + 1:
                    self.found[i] = ("seq-gap", _number(seq), {"previous": _number(previous)})
                previous = seq
            previous_dimension = dimension
        return list(self.found)

    def say(self, index: int) -> Said:
        return self.found[index]


LEDGER_RULES: tuple[type[LedgerRule], ...] = (MissingColumns, YearGuessed)
ITEM_RULES: tuple[type[ItemRule], ...] = (
    FormulaError,  # first: a cell showing #REF! says nothing else
    MissingDimension,
    MissingValue,
    UnknownDimension,
    UnknownStatus,
    StatusFromText,
    BadDeadline,
    DeadlineOutOfRange,
    Completion,
    ClosedWithoutEvidence,
    OverdueOrDueSoon,
    DuplicateProblem,
    Numbering,
)
MESSAGES: dict[str, Message] = {m.code: m for rule in (*LEDGER_RULES, *ITEM_RULES) for m in rule.messages}


class _CellTexts(Sequence[str]):
    """One column's texts looked up cell by cell: cheaper than working out the whole column when a
    rule reads only a few of its cells."""

    __slots__ = ("field", "table")

    def __init__(self, table: ItemColumns, field: str) -> None:
        self.table = table
        self.field = field

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        return self.table.cell(self.field, index)

    def __len__(self) -> int:
        return len(self.table)


def _short(text: str, limit: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _consecutive(seqs: list[float | None]) -> bool:
    """1, 2, 3, … (or any run without a gap): nothing to report, checked at C speed."""
    if not seqs or None in seqs:
        return not any(s is not None for s in seqs)
    return all(map(operator.eq, seqs[1:], map(operator.add, seqs[:-1], itertools.repeat(1.0))))


def _status_hint(text: str, config: Config) -> str:
    """ "已完城" → "（是否应为“已完成”？）": a suggestion only; the item still does not count as done."""
    import difflib

    words = {name: s.label for s in config.statuses for name in (s.label, *s.synonyms)}
    close = difflib.get_close_matches(normalize_text(text), list(words), n=1, cutoff=0.6)
    return f"（是否应为“{words[close[0]]}”？）" if close else ""


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)
