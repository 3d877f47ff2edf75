"""Validate stage: run the rules (toolkit.checks) over a Ledger and collect Findings (data, never exceptions).

The engine picks the rules a ledger's columns allow, lets each scan whole columns, judges each distinct
value once for the rules that declare so, and merges the flagged items by row, a row's findings in rule
order. Messages are written only for the findings kept under the cap.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from toolkit.checks import BY_OBJECT, ITEM_RULES, LEDGER_RULES, MESSAGES, ItemRule, Said, Scope
from toolkit.config import DEFAULT_CONFIG, Config
from toolkit.headers import all_standard, mapping_line
from toolkit.model import Finding, Ledger, Report, distinct_objects
from toolkit.rules import chinese_date


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
        message = MESSAGES[code]
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
        text = message.template.format(**(fields | extra))
        self.findings.append(Finding(message.public_code, message.severity, row, column, field, value, text))


@dataclass(slots=True)
class _Flagged:
    """The items one rule flags (indices in ledger order) and how to word the finding at each."""

    field: str | None
    indices: list[int]
    say: Callable[[int], Said]


def validate_ledger(ledger: Ledger, as_of: date | None = None, config: Config = DEFAULT_CONFIG) -> Report:
    """Every finding in the ledger, in row order, capped at config.max_findings."""
    as_of = as_of or date.today()
    scope = Scope(ledger, config, as_of)
    out = _Collector(ledger, config, as_of)
    for ledger_rule in LEDGER_RULES:
        for code, field, value, extra in ledger_rule(scope).findings():
            out.add(code, ledger.header_row, field, value, **extra)
    flagged = _run_item_rules(scope)
    total = sum(len(f.indices) for f in flagged)
    rows = scope.table.rows
    # rules come in the order a row's findings are listed; merge them by row
    streams = [zip(f.indices, itertools.repeat(rank)) for rank, f in enumerate(flagged)]
    room = max(0, config.max_findings - len(out.findings))
    taken = 0
    for index, rank in itertools.islice(heapq.merge(*streams), room):
        code, value, extra = flagged[rank].say(index)
        out.add(code, rows[index], flagged[rank].field, value, **extra)
        taken += 1
    out.dropped += total - taken
    return Report(
        file=ledger.path,
        sheet=ledger.sheet,
        as_of=as_of,
        rows=len(scope.table),
        findings=out.findings,
        truncated=out.dropped,
        columns_line="" if all_standard(ledger.mapping, config) else mapping_line(ledger.mapping, config),
    )


def _run_item_rules(scope: Scope) -> list[_Flagged]:
    """Each rule the ledger's columns allow, once per field it runs on, in ITEM_RULES order."""
    distinct = _DistinctValues()
    flagged: list[_Flagged] = []
    for rule_type in ITEM_RULES:
        if not all(f in scope.columns for f in rule_type.needs) or not rule_type.applies(scope):
            continue
        for field in rule_type.fields(scope):
            rule = rule_type(scope, field)
            if rule.judges:
                indices, say = _judge_each_value_once(rule, distinct)
            else:
                indices, say = rule.scan() or [], rule.say
            broken = scope.broken.get(field) if field else None
            if broken and not rule.speaks_over_errors:
                skip = set(broken)
                indices = [i for i in indices if i not in skip]
            if indices:
                flagged.append(_Flagged(field, indices, say))
    return flagged


class _DistinctValues(dict):
    """Each column's distinct values, worked out once however many rules judge that column."""

    def of(self, values: Sequence, by_object: bool) -> list:
        key = (id(values), by_object)
        if key not in self:
            self[key] = (values, distinct_objects(values) if by_object else list(set(values)))
        return self[key][1]  # (the column is kept beside them so its id stays its own)


def _judge_each_value_once(
    rule: ItemRule, distinct: _DistinctValues
) -> tuple[list[int], Callable[[int], Said]]:
    """The items whose value ``rule.judge`` flags, asking it once per distinct value, and a ``say`` that
    words each distinct flagged value once. Values are told apart by identity for BY_OBJECT (the reader
    shares one parsed date per distinct cell value), else by equality."""
    values = rule.values()
    candidates = rule.scan()  # None: every item
    by_object = rule.judges == BY_OBJECT
    key: Callable[[object], object] = id if by_object else _itself
    if candidates is None:
        pool = distinct.of(values, by_object)
    else:
        at = list(map(values.__getitem__, candidates))
        pool = distinct_objects(at) if by_object else list(set(at))
    bad = {key(v) for v in pool if rule.judge(v)}
    if not bad:
        indices: list[int] = []
    elif candidates is None:
        keys = map(id, values) if by_object else values
        indices = [i for i, k in enumerate(keys) if k in bad]
    else:
        indices = [i for i, v in zip(candidates, at, strict=True) if key(v) in bad]
    said: dict[object, Said] = {}

    def say(index: int) -> Said:
        value = values[index]
        k = key(value)
        if k not in said:
            said[k] = rule.say(value)
        return said[k]

    return indices, say


def _itself(value: object) -> object:
    return value
