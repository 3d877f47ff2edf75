"""Validate stage: judge every cell of a Ledger and collect Findings (data, never exceptions).

Each rule is a code with a severity and a Chinese message template (RULES); the loop below
decides where a rule applies. Messages name the cell and say what to do.
"""

from __future__ import annotations

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
from toolkit.model import (
    DATE,
    EMPTY,
    ERROR,
    IMMEDIATE,
    INFO,
    INVALID,
    LONG_TERM,
    WARNING,
    Finding,
    Ledger,
    Report,
)


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    severity: str
    title: str
    template: str  # str.format fields: cell, row, header, value, plus rule-specific ones


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("missing-column", ERROR, "缺少列", "台账缺少“{header}”列（表头在第{row}行），请在表头中补上这一列。"),
    Rule("missing-column-warning", WARNING, "缺少列", "台账缺少“{header}”列（表头在第{row}行），{hint}"),
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
PUBLIC_CODE = {"missing-column-warning": "missing-column", "missing-value-warning": "missing-value"}


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
        fields = {"cell": cell, "row": row, "header": header, "value": value, "as_of": _cn_date(self.as_of)}
        message = rule.template.format(**(fields | extra))
        self.findings.append(
            Finding(PUBLIC_CODE.get(code, code), rule.severity, row, column, field, value, message)
        )


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _short(text: str, limit: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate_ledger(ledger: Ledger, as_of: date | None = None, config: Config = DEFAULT_CONFIG) -> Report:
    """Every finding in the ledger, in row order, capped at config.max_findings."""
    as_of = as_of or date.today()
    out = _Collector(ledger, config, as_of)
    columns = ledger.columns
    _check_columns(ledger, config, out)

    required = [(s.id, s.requirement) for s in config.fields
                if s.requirement != OPTIONAL and s.id in columns and s.id != "dimension"]  # fmt: skip
    text_fields = list(columns)
    required_fields = [f for f, _ in required]
    labels = {s.id: s.label for s in config.statuses}
    allowed_status = "、".join(s.label for s in config.statuses)
    allowed_dims = {normalize_text(d).removesuffix("方面"): d for d in config.dimensions}
    soon = timedelta(days=config.due_soon_days)
    has = columns.__contains__
    has_done_col = has("completed_on")
    has_evidence = has("evidence")
    problems_seen: dict[str, int] = {}
    hints: dict[str, str] = {}  # one suggestion per distinct unknown status
    seq_seen: dict[float, int] = {}
    previous_seq: float | None = None
    previous_dimension: str | None = None
    error_cells = set(ledger.formula_errors)
    error_rows = {r for r, _ in error_cells}

    for item in ledger.items:
        row = item.row
        values = item.values
        # formula errors first: such a cell says nothing else
        broken: set[str] = set()
        if row in error_rows:  # a cell showing #REF! says nothing else
            for field_id in text_fields:
                if (row, columns[field_id]) in error_cells:
                    out.add("formula-error", row, field_id, values[field_id])
                    broken.add(field_id)
        # required values
        if not item.dimension and "dimension" not in broken and has("dimension"):
            out.add("missing-value", row, "dimension")
            # without the column and without section titles, missing-column already said it
        if "" in map(values.__getitem__, required_fields):
            for field_id, requirement in required:
                if field_id not in broken and not values[field_id]:
                    out.add(
                        "missing-value" if requirement == REQUIRED else "missing-value-warning", row, field_id
                    )
        if (
            allowed_dims
            and item.dimension
            and "dimension" not in broken
            and normalize_text(item.dimension) not in allowed_dims
        ):
            field_id = "dimension" if has("dimension") else None
            out.add("unknown-dimension", row, field_id, item.dimension, allowed="、".join(config.dimensions))
        status = item.status
        status_text = values.get("status", "").strip()
        if status is None and status_text and "status" not in broken:
            hint = hints.get(status_text)
            if hint is None:
                hint = hints[status_text] = _status_hint(status_text, config)
            out.add("unknown-status", row, "status", status_text, allowed=allowed_status, hint=hint)
        status_label = labels.get(status, status_text) if status else status_text or "空白"
        deadline = item.deadline
        if (deadline.kind == INVALID and "deadline" not in broken) or (
            deadline.kind == DATE and not 2000 <= deadline.value.year <= 2100
        ):
            out.add("bad-deadline", row, "deadline", deadline.raw)
        done = item.completed_on
        completed = status in COMPLETED_STATUSES
        if has_done_col and "completed_on" not in broken:
            if done.kind in (INVALID, IMMEDIATE, LONG_TERM):
                out.add("bad-date", row, "completed_on", done.raw)
            elif completed and done.kind == EMPTY:
                out.add("missing-completion-date", row, "completed_on", status=status_label)
            elif done.kind == DATE:
                if completed and done.value > as_of:  # type: ignore[operator]
                    out.add("completion-in-future", row, "completed_on", _cn_date(done.value))  # type: ignore[arg-type]
                elif completed and deadline.value is not None and done.value > deadline.value:  # type: ignore[operator]
                    out.add(
                        "late-completion",
                        row,
                        "completed_on",
                        _cn_date(done.value),  # type: ignore[arg-type]
                        deadline=_cn_date(deadline.value),
                    )
                elif not completed and status not in (None, "excluded"):
                    out.add("unexpected-completion-date", row, "completed_on", done.raw, status=status_label)
        if (
            status == "closed"
            and has_evidence
            and not values["evidence"].strip()
            and "evidence" not in broken
        ):
            out.add("closed-without-evidence", row, "evidence")
        if status in OPEN_STATUSES and deadline.value is not None:
            if deadline.value < as_of:
                out.add(
                    "overdue",
                    row,
                    "deadline",
                    deadline.raw,
                    deadline=_cn_date(deadline.value),
                    status=status_label,
                    days=(as_of - deadline.value).days,
                )
            elif deadline.value - as_of <= soon:
                out.add(
                    "due-soon",
                    row,
                    "deadline",
                    deadline.raw,
                    deadline=_cn_date(deadline.value),
                    days=(deadline.value - as_of).days,
                )
        # duplicates and numbering
        problem = values.get("problem")
        if problem and "problem" not in broken:
            # memchr-fast probes; the full fold runs only on text that has spaces in it
            spaced = " " in problem or "\n" in problem or "\u3000" in problem or "\t" in problem
            key = "".join(problem.split()) if spaced else problem
            if key:
                first = problems_seen.setdefault(key, row)
                if first != row:
                    out.add("duplicate-problem", row, "problem", _short(problem), first=first)
        if item.seq is not None:
            seq = item.seq
            restart = seq == 1 and previous_dimension is not None and item.dimension != previous_dimension
            if restart:
                seq_seen.clear()
            first = seq_seen.setdefault(seq, row)
            if first != row:
                out.add("seq-duplicate", row, "seq", _number(seq), first=first)
            elif previous_seq is not None and not restart and seq != previous_seq + 1:
                out.add("seq-gap", row, "seq", _number(seq), previous=_number(previous_seq))
            previous_seq = seq
        previous_dimension = item.dimension
    return Report(
        file=ledger.path,
        sheet=ledger.sheet,
        as_of=as_of,
        rows=len(ledger.items),
        findings=out.findings,
        truncated=out.dropped,
    )


def _status_hint(text: str, config: Config) -> str:
    """ "已完城" → "（是否应为“已完成”？）": a suggestion only; the item still does not count as done."""
    import difflib

    words = {name: s.label for s in config.statuses for name in (s.label, *s.synonyms)}
    close = difflib.get_close_matches(normalize_text(text), list(words), n=1, cutoff=0.6)
    return f"（是否应为“{words[close[0]]}”？）" if close else ""


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _check_columns(ledger: Ledger, config: Config, out: _Collector) -> None:
    """missing-column once per column, not once per row."""
    columns = ledger.columns
    row = ledger.header_row
    any_completed = any(i.status in COMPLETED_STATUSES for i in ledger.items)
    any_closed = any(i.status == "closed" for i in ledger.items)
    for spec in config.fields:
        if spec.id in columns:
            continue
        if spec.id == "dimension" and all(item.dimension for item in ledger.items):
            continue  # section-title rows give every item its dimension
        if spec.requirement == REQUIRED:
            out.add("missing-column", row, None, spec.header, header=spec.header)
        elif spec.requirement == WARN_IF_EMPTY:
            out.add(
                "missing-column-warning", row, None, spec.header, header=spec.header, hint="建议补上这一列。"
            )
        elif spec.id == "completed_on" and any_completed:
            out.add("missing-column", row, None, spec.header, header=spec.header)
        elif spec.id == "evidence" and any_closed:
            out.add(
                "missing-column-warning", row, None, spec.header, header=spec.header,
                hint="已销号的问题应附佐证材料，建议补上这一列。",
            )  # fmt: skip
