"""Validate stage: judge every cell of a Ledger and collect Findings (data, never exceptions).

Each rule is a code with a severity and a Chinese message template (RULES); _item_rules scans
the ledger's columns and says which items each rule flags. Messages name the cell and say what
to do.
"""

from __future__ import annotations

import heapq
import itertools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from toolkit.config import (
    COMPLETED_STATUSES,
    DEFAULT_CONFIG,
    OPEN_STATUSES,
    OPTIONAL,
    REQUIRED,
    WARN_IF_EMPTY,
    Config,
    normalize_text,
)
from toolkit.headers import all_standard, mapping_line
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
    Finding,
    ItemColumns,
    Ledger,
    Report,
    distinct_objects,
)
from toolkit.rules import chinese_date
from toolkit.status import STATUS_FIELD, narrative_note, status_field


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    severity: str
    title: str
    template: str  # str.format fields: cell, row, header, value, plus rule-specific ones


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("missing-column", ERROR, "缺少列", "台账缺少“{header}”列（表头在第{row}行），请在表头中补上这一列。"),
    Rule("missing-column-warning", WARNING, "缺少列", "台账缺少“{header}”列（表头在第{row}行），{hint}"),
    Rule("missing-status-column", ERROR, "缺少完成状态",
         "台账缺少“{header}”列（表头在第{row}行），{count}条问题都无法判断是否完成，不计入完成率；"
         "请补上这一列（“是否完成”“整改状态”等写法均可，填“已完成”“正在整改”或“是”“否”）。"),
    Rule("status-from-progress", INFO, "完成状态按进展判断",
         "台账没有完成状态列，完成状态按“{header}”列的文字判断：写明已完成的计为已完成，其余计为未完成。"),
    Rule("year-guessed", INFO, "年份按推断",
         "“{header}”中有没有写年份的日期（如“6月底前”“年底前”），按{year}年计（取自{source}）；"
         "如不对，请写明年份，或在“通报信息”表填写年度。"),
    Rule("status-from-text", INFO, "完成状态按文字判断", "{cell}的“{header}”是一段文字，{note}。"),
    Rule("missing-value", ERROR, "必填项为空", "{cell}的“{header}”为空，请填写。"),
    Rule("missing-value-warning", WARNING, "建议填写", "{cell}的“{header}”为空，建议填写。"),
    Rule("unknown-status", ERROR, "状态无法识别",
         "{cell}的“{header}”为“{value}”，不在状态词表中{hint}，请改为：{allowed}。"),
    Rule("unknown-dimension", ERROR, "方面不在清单中",
         "{cell}的“{header}”为“{value}”，不在配置的方面清单中，请改为：{allowed}。"),
    Rule("bad-deadline", ERROR, "整改时限无法识别",
         "{cell}的“{header}”为“{value}”，无法识别为日期，请写成 2024年6月30日、2024年6月底前、立行立改或长期坚持等形式。"),
    Rule("bad-date", ERROR, "日期无法识别", "{cell}的“{header}”为“{value}”，不是有效日期，请写成 2024年6月30日 或 2024-06-30。"),
    Rule("missing-completion-date", ERROR, "缺少完成时间",
         "{cell}的状态为“{status}”，但“{header}”为空，请填写完成时间。"),
    Rule("completion-in-future", ERROR, "完成时间晚于今天",
         "{cell}的“{header}”为{value}，晚于统计日期{as_of}，请核对完成时间或完成状态。"),
    Rule("late-completion", WARNING, "逾期完成", "{cell}的完成时间{value}晚于整改时限{deadline}，属逾期完成，请在备注中说明原因。"),
    Rule("unexpected-completion-date", WARNING, "状态与完成时间不符",
         "{cell}已填写完成时间“{value}”，但状态为“{status}”，请核对完成状态。"),
    Rule("overdue", WARNING, "已超期", "{cell}的整改时限为{deadline}，截至{as_of}仍为“{status}”，已超期{days}天，请督促整改或按程序申请延期。"),
    Rule("due-soon", INFO, "即将到期", "{cell}的整改时限为{deadline}，还有{days}天到期，请抓紧推进。"),
    Rule("closed-without-evidence", ERROR, "销号缺少佐证",
         "{cell}的状态为“已销号”，但“{header}”为空，请补充佐证材料后再销号。"),
    Rule("duplicate-problem", WARNING, "问题重复", "{cell}的问题描述与第{first}行相同，请确认是否重复录入。"),
    Rule("seq-gap", WARNING, "序号不连续", "{cell}的序号为{value}，上一条为{previous}，序号不连续，请核对是否漏项。"),
    Rule("seq-duplicate", WARNING, "序号重复", "{cell}的序号{value}与第{first}行重复，请重新编号。"),
    Rule("formula-error", ERROR, "公式错误", "{cell}（“{header}”）显示错误值“{value}”，请修正公式或改为直接填写内容。"),
)}  # fmt: skip

# what the CLI and JSON show as the code: the "-warning" variants are the same rule, milder
PUBLIC_CODE = {
    "missing-column-warning": "missing-column",
    "missing-status-column": "missing-column",
    "missing-value-warning": "missing-value",
}


class _Collector:
    def __init__(self, ledger: Ledger, config: Config, as_of: date) -> None:
        self.ledger = ledger
        self.config = config
        self.as_of = as_of
        self.findings: list[Finding] = []
        self.dropped = 0

    def add(self, code: str, row: int | None, field: str | None, value: str = "", **extra: object) -> None:
        if len(self.findings) >= self.config.max_findings:
            self.dropped += 1
            return
        rule = RULES[code]
        column = self.ledger.column_letter(field) if field else None
        header = self.ledger.headers.get(field, "") if field else ""
        if field and not header:
            header = self.config.spec(field).header
        header = " ".join(header.split())
        cell = f"第{row}行" + (f"（{column}{row}）" if column and row else "")
        fields = {
            "cell": cell,
            "row": row,
            "header": header,
            "value": value,
            "as_of": chinese_date(self.as_of),
        }
        message = rule.template.format(**(fields | extra))
        self.findings.append(
            Finding(PUBLIC_CODE.get(code, code), rule.severity, row, column, field, value, message)
        )


def _short(text: str, limit: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


Describe = Callable[[int], tuple[str, str, dict[str, object]]]  # item index → (code, value, extra)


@dataclass(slots=True)
class _Hits:
    """The items one rule flags (indices in ledger order) and how to word each finding."""

    field: str | None
    indices: list[int]
    describe: Describe
    # a cell showing #REF! says nothing else: most rules skip it (numbering, dates past due and
    # out-of-range years still speak, as the cell's neighbours and parsed value allow)
    unless_broken: bool = True


def validate_ledger(ledger: Ledger, as_of: date | None = None, config: Config = DEFAULT_CONFIG) -> Report:
    """Every finding in the ledger, in row order, capped at config.max_findings.

    Each rule scans whole columns and yields the indices of the items it flags; messages are
    written only for the findings kept under the cap (a 100k-row ledger may have 40k overdue rows).
    """
    as_of = as_of or date.today()
    out = _Collector(ledger, config, as_of)
    table = ItemColumns.of(ledger.items)
    _check_columns(ledger, table, config, out)
    if ledger.year_guess is not None and ledger.year_guess.guessed:
        field = "deadline" if "deadline" in ledger.columns else "completed_on"
        source = YEAR_SOURCES[ledger.year_guess.source]
        out.add("year-guessed", ledger.header_row, field, str(ledger.year_guess.year),
                year=ledger.year_guess.year, source=source)  # fmt: skip
    hits = _item_rules(ledger, table, config, as_of)
    total = sum(len(h.indices) for h in hits)
    rows = table.rows
    # rules come in the order a row's findings are listed; merge them by row
    streams = [zip(h.indices, itertools.repeat(rank)) for rank, h in enumerate(hits)]
    room = max(0, config.max_findings - len(out.findings))
    taken = 0
    for index, rank in itertools.islice(heapq.merge(*streams), room):
        code, value, extra = hits[rank].describe(index)
        out.add(code, rows[index], hits[rank].field, value, **extra)
        taken += 1
    out.dropped += total - taken
    return Report(
        file=ledger.path,
        sheet=ledger.sheet,
        as_of=as_of,
        rows=len(table),
        findings=out.findings,
        truncated=out.dropped,
        columns_line="" if all_standard(ledger.mapping, config) else mapping_line(ledger.mapping, config),
    )


def _item_rules(ledger: Ledger, table: ItemColumns, config: Config, as_of: date) -> list[_Hits]:
    """Every per-item rule, in the order one row's findings are listed."""
    columns = ledger.columns
    has = columns.__contains__
    statuses = table.statuses
    dims = table.dimensions
    deadlines = table.deadlines
    labels = {s.id: s.label for s in config.statuses}

    def status_label(i: int) -> str:
        status, text = statuses[i], table.cell("status", i).strip()
        return labels.get(status, text) if status else text or "空白"

    hits: list[_Hits] = []

    # formula errors first: a cell showing #REF! says nothing else
    broken: set[tuple[int, str | None]] = set()
    if ledger.formula_errors:
        error_cells = ledger.formula_errors
        error_rows = {r for r, _ in error_cells}
        at_rows = [(i, r) for i, r in enumerate(table.rows) if r in error_rows]
        for field_id, col in columns.items():
            indices = [i for i, r in at_rows if (r, col) in error_cells]
            broken.update((i, field_id) for i in indices)
            hits.append(
                _Hits(field_id, indices, _cell_text(table, "formula-error", field_id), unless_broken=False)
            )

    # required values
    if has("dimension"):
        hits.append(_Hits("dimension", [i for i, d in enumerate(dims) if not d], _constant("missing-value")))
    for spec in config.fields:
        if spec.requirement != OPTIONAL and spec.id in columns and spec.id != "dimension":
            code = "missing-value" if spec.requirement == REQUIRED else "missing-value-warning"
            hits.append(_Hits(spec.id, table.blanks(spec.id), _constant(code)))

    allowed_dims = {normalize_text(d).removesuffix("方面") for d in config.dimensions}
    unknown_dims = (
        {d for d in set(dims) if d and normalize_text(d) not in allowed_dims} if allowed_dims else ()
    )
    if unknown_dims:
        extra = {"allowed": "、".join(config.dimensions)}
        hits.append(_Hits("dimension" if has("dimension") else None,
                          [i for i, d in enumerate(dims) if d in unknown_dims],
                          lambda i: ("unknown-dimension", dims[i], extra)))  # fmt: skip

    if None in statuses:
        hints: dict[str, str] = {}  # one suggestion per distinct unknown word
        allowed_status = "、".join(s.label for s in config.statuses)

        def unknown_status(i: int) -> tuple[str, str, dict[str, object]]:
            text = table.cell("status", i).strip()
            if text not in hints:
                hints[text] = _status_hint(text, config)
            return "unknown-status", text, {"allowed": allowed_status, "hint": hints[text]}

        unknown = [i for i, s in enumerate(statuses) if s is None and table.cell("status", i).strip()]
        hits.append(_Hits("status", unknown, unknown_status))
    if ledger.status_readings:
        hits.append(_narrative_hits(ledger, table, labels))

    # dates are shared objects (one per distinct cell value): judge each once, then find its rows
    distinct_deadlines = distinct_objects(deadlines)
    invalid = {id(d) for d in distinct_deadlines if d.kind == INVALID}
    out_of_range = {id(d) for d in distinct_deadlines if d.kind == DATE and not 2000 <= d.value.year <= 2100}  # type: ignore[union-attr]
    bad = invalid | out_of_range
    flagged = [i for i, k in enumerate(map(id, deadlines)) if k in bad] if bad else []
    describe: Describe = lambda i: ("bad-deadline", deadlines[i].raw, {})  # noqa: E731
    hits.append(_Hits("deadline", [i for i in flagged if id(deadlines[i]) in invalid], describe))
    hits.append(
        _Hits(
            "deadline",
            [i for i in flagged if id(deadlines[i]) in out_of_range],
            describe,
            unless_broken=False,
        )
    )

    completed = list(map({s: s in COMPLETED_STATUSES for s in set(statuses)}.__getitem__, statuses))
    if has("completed_on"):
        hits.append(_completion_hits(table, completed, status_label, as_of))

    if has("evidence"):
        closed = [i for i, s in enumerate(statuses) if s == "closed"]
        closed = [i for i in closed if not table.cell("evidence", i).strip()]
        hits.append(_Hits("evidence", closed, _constant("closed-without-evidence")))

    soon = as_of + timedelta(days=config.due_soon_days)
    open_rows = [i for i, s in enumerate(statuses) if s in OPEN_STATUSES]
    due = [i for i in open_rows if (day := deadlines[i].value) is not None and day <= soon]

    def overdue(i: int) -> tuple[str, str, dict[str, object]]:
        raw, day = deadlines[i].raw, deadlines[i].value
        assert day is not None
        if day < as_of:
            return (
                "overdue",
                raw,
                {"deadline": chinese_date(day), "status": status_label(i), "days": (as_of - day).days},
            )
        return "due-soon", raw, {"deadline": chinese_date(day), "days": (day - as_of).days}

    hits.append(_Hits("deadline", due, overdue, unless_broken=False))

    if "problem" in columns:
        hits.append(_duplicate_problems(table.column("problem"), table.rows, "problem" in table.unspaced))
    hits.append(_numbering(table.seqs, dims, table.rows, frozenset(ledger.table_starts)))

    if broken:
        for h in hits:
            if h.unless_broken:
                h.indices = [i for i in h.indices if (i, h.field) not in broken]
    return [h for h in hits if h.indices]


def _narrative_hits(ledger: Ledger, table: ItemColumns, labels: dict[str, str]) -> _Hits:
    """An info finding on each cell whose status was read from a sentence, saying what was read."""
    source = status_field(ledger.columns)
    readings = ledger.status_readings
    texts = table.column(source or STATUS_FIELD)
    flagged = [i for i, text in enumerate(texts) if text in readings or text.strip() in readings]
    notes: dict[str, str] = {}

    def describe(i: int) -> tuple[str, str, dict[str, object]]:
        text = texts[i].strip()
        if text not in notes:
            notes[text] = narrative_note(readings[text], labels)
        return "status-from-text", _short(text), {"note": notes[text]}

    return _Hits(source, flagged, describe)


def _constant(code: str) -> Describe:
    return lambda i: (code, "", {})


def _cell_text(table: ItemColumns, code: str, field_id: str) -> Describe:
    return lambda i: (code, table.cell(field_id, i), {})


def _completion_hits(
    table: ItemColumns, completed: list[bool], status_label: Callable[[int], str], as_of: date
) -> _Hits:
    """完成时间 against the status, the as-of date and the deadline: at most one finding a row."""
    dones = table.completed_on
    deadlines = table.deadlines
    statuses = table.statuses
    kinds = list(map(operator.attrgetter("kind"), dones))
    days = list(map(operator.attrgetter("value"), dones))
    limits = list(map(operator.attrgetter("value"), deadlines))
    columns = zip(kinds, completed, days, limits, statuses, strict=True)
    # one pass: a date where none belongs, a missing one, one in the future or after the deadline
    flagged = [
        i for i, (kind, done, day, limit, status) in enumerate(columns)
        if kind in _NOT_A_DATE or (kind == EMPTY and done) or (kind == DATE and (
            (done and (day > as_of or (limit is not None and day > limit))) or (not done and status not in _NO_STATUS)))
    ]  # fmt: skip

    def describe(i: int) -> tuple[str, str, dict[str, object]]:
        done = dones[i]
        if done.kind != DATE:
            if done.kind == EMPTY:
                return "missing-completion-date", "", {"status": status_label(i)}
            return "bad-date", done.raw, {}
        day: date = done.value  # type: ignore[assignment]
        if not completed[i]:
            return "unexpected-completion-date", done.raw, {"status": status_label(i)}
        if day > as_of:
            return "completion-in-future", chinese_date(day), {}
        return "late-completion", chinese_date(day), {"deadline": chinese_date(deadlines[i].value)}  # type: ignore[arg-type]

    return _Hits("completed_on", flagged, describe)


_NOT_A_DATE = frozenset({INVALID, IMMEDIATE, LONG_TERM})
_NO_STATUS = frozenset({None, "excluded"})


def _duplicate_problems(problems: Sequence[str], rows: list[int], spaced_known_absent: bool) -> _Hits:
    """The same problem twice (spacing aside): flagged at each later row, naming the first."""
    keys = problems
    joined = "" if spaced_known_absent else "\x00".join(problems)
    if any(space in joined for space in FOLDED_SPACES):  # memchr-fast probes over the whole column
        keys = ["".join(p.split()) if any(space in p for space in FOLDED_SPACES) else p for p in problems]
    first: dict[str, int] = {}
    repeats: list[int] = []
    if len(set(keys)) < len(keys):  # some text twice (or several blank cells): find which
        for i, key in enumerate(keys):
            if key and first.setdefault(key, i) != i:
                repeats.append(i)
    return _Hits(
        "problem",
        repeats,
        lambda i: ("duplicate-problem", _short(problems[i]), {"first": rows[first[keys[i]]]}),
    )


def _numbering(
    seqs: list[float | None], dims: list[str], rows: list[int], table_starts: frozenset[int] = frozenset()
) -> _Hits:
    """序号 repeated or skipping; numbering may restart at 1 in each 方面 and in each stacked table
    (``table_starts``: the Excel rows where one begins)."""
    found: dict[int, tuple[str, str, dict[str, object]]] = {}
    if not _consecutive(seqs):
        seen: dict[float, int] = {}
        previous: float | None = None
        previous_dimension: str | None = None
        for i, (seq, dimension) in enumerate(zip(seqs, dims, strict=True)):
            if seq is not None:
                restart = seq == 1 and (
                    (previous_dimension is not None and dimension != previous_dimension)
                    or rows[i] in table_starts
                )
                if restart:
                    seen.clear()
                first = seen.setdefault(seq, i)
                if first != i:
                    found[i] = ("seq-duplicate", _number(seq), {"first": rows[first]})
                elif previous is not None and not restart and seq != previous + 1:
                    found[i] = ("seq-gap", _number(seq), {"previous": _number(previous)})
                previous = seq
            previous_dimension = dimension
    return _Hits("seq", list(found), found.__getitem__, unless_broken=False)


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


def _check_columns(ledger: Ledger, table: ItemColumns, config: Config, out: _Collector) -> None:
    """missing-column once per column, not once per row.

    Only what counting needs is an error in a ledger laid out elsewhere (Config.columns_required);
    a ledger made by ``ledger new`` keeps every required column.
    """
    columns = ledger.columns
    row = ledger.header_row
    present = set(table.statuses)
    any_completed = not present.isdisjoint(COMPLETED_STATUSES)
    any_closed = "closed" in present
    required = config.columns_required()
    for spec in config.fields:
        if spec.id in columns:
            continue
        if spec.id == "dimension" and all(table.dimensions):
            continue  # section-title rows give every item its dimension
        if spec.id == STATUS_FIELD:
            source = status_field(columns)
            if source is not None:
                header = ledger.headers.get(source) or config.spec(source).header
                out.add("status-from-progress", row, None, "", header=" ".join(header.split()))
            elif STATUS_FIELD in required:
                out.add("missing-status-column", row, None, spec.header, header=spec.header, count=len(table))
            continue
        conditional = spec.id == "completed_on" and any_completed  # needed once an item is completed
        if spec.id in required or (conditional and config.own_layout):
            out.add("missing-column", row, None, spec.header, header=spec.header)
        elif conditional or spec.requirement in (REQUIRED, WARN_IF_EMPTY):
            hint = _MISSING_COLUMN_EFFECT.get(spec.id, "建议补上这一列。")
            out.add("missing-column-warning", row, None, spec.header, header=spec.header, hint=hint)
        elif spec.id == "evidence" and any_closed:
            out.add(
                "missing-column-warning", row, None, spec.header, header=spec.header,
                hint="已销号的问题应附佐证材料，建议补上这一列。",
            )  # fmt: skip


# what a missing column costs, said in its warning (a ledger laid out elsewhere)
_MISSING_COLUMN_EFFECT = {
    "deadline": "无法判断是否超期，建议补上这一列。",
    "completed_on": "无法判断是否按期完成，建议补上这一列。",
    "dimension": "统计不能按方面分组，建议补上这一列。",
}
