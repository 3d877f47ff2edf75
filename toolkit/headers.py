"""Header rows understood by meaning: which column holds which field, and why.

Offices lay their ledgers out as they please — 巡察反馈问题 / 牵头单位 / 配合单位 / 是否完成, 审计发现的问题 /
整改要求 / 整改期限, 整改任务 / 整改目标 / 整改完成情况 — so a list of aliases is never enough. The words of a
header name its role: each header is scored against each field (ROLES below, data), then the columns are
assigned globally, best score first, one column per field. The clerk's corrections (配置 表头对照,
``--columns``) beat exact aliases, exact aliases beat role words, and a helper's column (配合单位) names no
field. A header naming two roles (责任单位及责任人, 完成时限及进展) takes the more important of them that no
other column claims (COMBINED_ORDER). Scoring runs on a few dozen header-candidate rows at most, never in a
per-row loop over the body.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from toolkit.config import FROM_COMMAND_LINE, FROM_CONFIG_SHEET, Config, normalize_text
from toolkit.model import BY_ALIAS, BY_COMBINED, BY_ROLE, BY_USER, ColumnUse, column_letter


@dataclass(frozen=True, slots=True)
class Role:
    """Words in a header that name a field's role: any of ``words``, one of ``needs`` (if any), none of ``unless``."""

    field: str
    words: tuple[str, ...]
    weight: int
    needs: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()


SCORE_USER = 1000  # the clerk said so
SCORE_ALIAS = 100  # a field's name or alias, exactly
# role scores are weight + the length of the longest word found (the more specific word wins ties)

# fmt: off
_NOT_PROBLEM = ("类型", "类别", "来源", "方面", "领域", "性质", "编号", "序号", "数量", "个数", "责任", "措施", "时限",
                "期限", "时间", "日期", "情况", "状态", "成效", "结果", "领导", "单位", "部门", "要求", "目标", "进展",
                "进度", "是否", "整改内容")
# fmt: on
_DEPT_NOUNS = ("单位", "部门", "科室", "处室", "股室", "主体", "机关", "站所")
_HELPERS = ("配合", "协办", "协助", "参与", "协同", "协作", "配办")  # 配合单位 stays an extra column

# fmt: off
ROLES: tuple[Role, ...] = (
    Role("seq", ("序号", "编号", "序列号", "顺序号"), 70),
    Role("source", ("来源", "出处", "渠道"), 70),
    Role("dimension", ("类型", "类别", "方面", "领域", "维度", "分类", "板块", "性质"), 65, unless=("是否",)),
    Role("problem", ("问题", "事项", "任务", "内容", "表现", "意见", "清单", "线索", "短板", "不足"), 40,
         unless=_NOT_PROBLEM),
    # the problem as the inspection put it (巡察反馈问题) is the problem, the 具体表现 beside it the detail
    Role("problem", ("反馈问题", "发现的问题", "发现问题", "检视问题", "查摆问题", "反馈意见", "交办问题", "督察问题"), 100,
         unless=_NOT_PROBLEM),
    Role("measures", ("措施", "举措", "要求", "目标", "办法", "方案", "思路", "路径", "整改内容"), 55,
         unless=("完成情况", "时限", "时间", "是否")),
    Role("lead", ("领导", "第一责任人", "包保", "挂点", "分管"), 70, unless=_DEPT_NOUNS),
    Role("dept", ("牵头", "主责", "责任", "负责", "承办", "主办", "落实", "整改", "实施"), 70,
         needs=_DEPT_NOUNS, unless=(*_HELPERS, "领导", "人")),
    Role("dept", _DEPT_NOUNS, 45, unless=(*_HELPERS, "领导", "人", "填报")),
    Role("owner", ("责任人", "经办人", "联系人", "承办人", "负责人", "办理人", "整改人", "具体责任人", "直接责任人"), 75,
         unless=("第一责任人", "领导", "主要负责人", "单位", "部门")),
    Role("deadline", ("时限", "期限", "时间节点", "节点", "截止", "计划完成", "要求完成", "预计完成", "限期", "整改时间"),
         80, unless=("实际",)),
    Role("progress", ("进展", "进度", "落实情况", "推进情况", "工作情况", "开展情况", "整改落实"), 70),
    Role("progress", ("情况",), 30, unless=("是否",)),  # 整改情况 beside a 是否完成 column: a narrative
    # a yes/no column (是否完成: 是/否, √/×) is the status, even beside an alias such as 完成情况
    Role("status", ("是否完成", "是否已完成", "是否办结", "是否已办结", "是否整改", "是否已整改", "是否销号",
                   "是否已销号", "是否到位", "完成与否", "办结与否"), 110),
    Role("status", ("状态", "完成情况", "办结情况", "销号情况", "整改情况"), 70, unless=("时间", "日期")),
    Role("completed_on", ("完成时间", "完成日期", "办结时间", "办结日期", "销号时间", "销号日期", "实际完成", "完结时间"),
         75, unless=("计划", "要求", "预计", "时限", "期限")),
    Role("outcome", ("成效", "结果", "效果", "成果"), 60, unless=("是否",)),
    Role("evidence", ("佐证", "证明", "支撑材料", "印证", "附件"), 65),
    Role("evidence", ("材料",), 45),
    Role("remarks", ("备注", "附注", "说明"), 60),
)
# fmt: on

# A header naming two roles joined by 及/和/与/、/／ or with the second in brackets (责任单位（责任人）) is one
# column, and a column serves one field: it takes the first of these its parts name that no column named for one
# role alone claims (责任部门 before 责任人, 整改时限 before 整改进展). What counting needs comes first, then
# what the 通报 shows, then the rest.
COMBINED_ORDER: tuple[str, ...] = ("problem", "status", "dept", "deadline", "measures", "lead", "owner",
                                   "progress", "completed_on", "outcome", "evidence", "dimension", "source",
                                   "remarks", "seq")  # fmt: skip
# below every role score (the least is 情况 → 整改进展, 32): a column named for one role alone always wins
SCORE_COMBINED = 30


def _combined_score(field_id: str, named_first: bool) -> int:
    """Down COMBINED_ORDER in steps of two; when two such columns could take the same field, the one naming
    it first (责任单位（责任人）, not 牵头领导及责任部门) takes it, the other its next role."""
    return SCORE_COMBINED - 2 * COMBINED_ORDER.index(field_id) + (1 if named_first else 0)


_JOINERS = ("及其", "以及", "及", "和", "与", "、", "/", "\\", "+")
_ONE_WORDS = ("参与", "与否", "及时")  # a joiner inside a word joins nothing (参与单位, 完成与否, 是否及时)
_JOINED = re.compile(
    f"(?P<word>{'|'.join(map(re.escape, _ONE_WORDS))})|(?P<join>{'|'.join(map(re.escape, _JOINERS))})"
)

ROLE_MAX_CHARS = 16  # a longer cell (after notes in brackets) is text, not a header named by its words
HEADER_MAX_CHARS = 40  # a longer cell is never a header at all
HEADER_SEARCH_ROWS = 60
MIN_HEADER_FIELDS = 3
_BRACKETED = re.compile(r"[（(【\[〔][^）)】\]〕]*[）)】\]〕]")
_MARKS = str.maketrans("", "", "*＊:：")

# (score, field id, how, the other fields a header naming two roles names)
Candidate = tuple[int, str, str, tuple[str, ...]]


class Scorer:
    """Each distinct header text scored once against every field (a memo per reading)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._memo: dict[str, list[Candidate]] = {}

    def candidates(self, text: str) -> list[Candidate]:
        found = self._memo.get(text)
        if found is None:
            found = self._memo[text] = self._score(text)
        return found

    def _score(self, text: str) -> list[Candidate]:
        if len(text) > HEADER_MAX_CHARS:
            return []
        config = self.config
        correction = config.correction_for(text)
        if correction is not None:
            return [(SCORE_USER, correction.field, BY_USER, ())] if correction.field else []
        key = normalize_text(text)
        alias = config.field_for_header(key)
        if alias is None and len(named := self._combined(key)) > 1:
            return sorted(
                ((_combined_score(f, f == named[0]), f, BY_COMBINED, tuple(o for o in named if o != f))
                 for f in named),
                reverse=True,
            )  # fmt: skip
        cleaned = _BRACKETED.sub("", key).translate(_MARKS)
        if alias is None and cleaned:
            alias = config.field_for_header(cleaned)
        best = self._by_words(cleaned)
        if alias is not None and best.get(alias, (0,))[0] <= SCORE_ALIAS:  # 是否完成 (110) stays a role
            best[alias] = (SCORE_ALIAS, alias, BY_ALIAS, ())
        return sorted(best.values(), reverse=True)

    def _by_words(self, cleaned: str) -> dict[str, Candidate]:
        """Field → the best role score the header's words give it."""
        best: dict[str, Candidate] = {}
        if 0 < len(cleaned) <= ROLE_MAX_CHARS:
            for role in ROLES:
                words = [w for w in role.words if w in cleaned]
                if not words or (role.needs and not any(n in cleaned for n in role.needs)):
                    continue
                if any(u in cleaned for u in role.unless):
                    continue
                score = role.weight + max(map(len, words))
                if score > best.get(role.field, (0,))[0]:
                    best[role.field] = (score, role.field, BY_ROLE, ())
        return best

    def _combined(self, key: str) -> list[str]:
        """The fields the parts of a header name, in their order (one each: 问题（事项） names one field)."""
        pieces = [_BRACKETED.sub(" ", key), *(b[1:-1] for b in _BRACKETED.findall(key))]
        named: list[str] = []
        for piece in pieces:
            for part in split_joined(piece):
                part = part.translate(_MARKS).strip()
                found = self.config.field_for_header(part) if part else None
                if found is None and (scores := self._by_words(part)):
                    found = max(scores.values())[1]
                if found is not None and found not in named:
                    named.append(found)
        return named

    def recognised(self, text: str) -> bool:
        return bool(self.candidates(text))


def assign(texts: dict[int, str], scorer: Scorer) -> tuple[dict[str, int], list[ColumnUse]]:
    """Columns to fields, globally: the best-scored (column, field) pair first, each used once."""
    pairs = sorted(
        (-score, col, field_id, how, also)
        for col, text in texts.items()
        for score, field_id, how, also in scorer.candidates(text)
    )
    columns: dict[str, int] = {}
    taken: dict[int, tuple[str, str, tuple[str, ...]]] = {}
    for _neg, col, field_id, how, also in pairs:
        if field_id in columns or col in taken:
            continue
        columns[field_id] = col
        taken[col] = (field_id, how, also)
    uses = [
        ColumnUse(col, one_line(text), *taken.get(col, (None, "", ()))) for col, text in sorted(texts.items())
    ]
    return dict(sorted(columns.items(), key=lambda kv: kv[1])), uses


def split_joined(text: str) -> list[str]:
    """责任单位及责任人 → [责任单位, 责任人]; a joiner inside a word (参与, 完成与否) splits nothing."""
    parts: list[str] = []
    start = 0
    for match in _JOINED.finditer(text):
        if match.lastgroup == "join":
            parts.append(text[start : match.start()])
            start = match.end()
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def one_line(text: str) -> str:
    """A header as shown in one line: 责任\\n部门 → 责任部门."""
    return "".join(str(text).split())


@dataclass(slots=True)
class Header:
    """Where the header is and how each of its columns was understood."""

    row: int  # 0-based; the upper row of a two-row header
    rows: int  # 1 or 2 (a second row of sub-headers below a merged parent)
    columns: dict[str, int]  # field id → 0-based column
    uses: list[ColumnUse]  # every header cell, in column order
    cells: list[dict[int, str]]  # each header row's own non-empty cells (to find it repeated below)

    @property
    def texts(self) -> dict[str, str]:
        """field id → the header shown for it."""
        by_column = {use.column: use.header for use in self.uses}
        return {f: by_column[c] for f, c in self.columns.items()}


def _text_cells(row: Sequence[object]) -> dict[int, str] | None:
    """The row's non-empty cells when every one is text that is not a number; else None (a data row)."""
    cells: dict[int, str] = {}
    for col, value in enumerate(row):
        if value is None or value == "":
            continue
        if type(value) is not str:
            return None
        stripped = value.strip()
        if not stripped:
            continue
        if stripped.replace(".", "", 1).isdigit():
            return None
        cells[col] = value
    return cells


def _spans_below(merged: Sequence, index: int) -> list[tuple[int, int, int]]:
    """Merges starting on row ``index`` that reach another cell: (first col, last col, last row)."""
    return [(c0, c1, r1) for (r0, c0), (r1, c1) in merged if r0 == index and (c1 > c0 or r1 > r0)]


def _two_rows(
    upper: dict[int, str], lower: dict[int, str], spans: list[tuple[int, int, int]], scorer: Scorer
) -> dict[int, str]:
    """Per column, the header a two-row header gives: the lower cell, else the upper one (merged down)."""
    texts = dict(upper)
    for col, text in lower.items():
        if scorer.recognised(text) or not (parent := _parent(upper, spans, col)):
            texts[col] = text
        else:  # 计划 under 完成时间: the two together say it
            texts[col] = parent + text
    return texts


def _parent(upper: dict[int, str], spans: list[tuple[int, int, int]], col: int) -> str:
    for c0, c1, _r1 in spans:
        if c0 <= col <= c1:
            return upper.get(c0, "")
    return upper.get(col, "")


def _quality(columns: dict[str, int], uses: list[ColumnUse]) -> bool:
    """Enough fields, and when most came from role words, most of the row's cells named something."""
    if len(columns) < MIN_HEADER_FIELDS:
        return False
    sure = sum(1 for u in uses if u.how in (BY_ALIAS, BY_USER))
    return sure >= MIN_HEADER_FIELDS or len(columns) * 2 >= len(uses)


def locate_header(rows: Sequence[Sequence[object]], merged: Sequence, config: Config) -> Header | None:
    """The first row (below any title rows) that names at least three fields; a second header row below a
    merged parent (整改情况 over 完成情况 | 完成时间) is taken with it."""
    scorer = Scorer(config)
    best: Header | None = None
    limit = min(len(rows), HEADER_SEARCH_ROWS)
    for index in range(limit):
        upper = _text_cells(rows[index])
        if not upper or not any(map(scorer.recognised, upper.values())):
            continue
        found = _header_at(rows, index, upper, merged, scorer)
        if found is not None and (best is None or len(found.columns) > len(best.columns)):
            best = found
            if len(found.columns) >= 6:
                break
    return best


def _header_at(
    rows: Sequence[Sequence[object]], index: int, upper: dict[int, str], merged: Sequence, scorer: Scorer
) -> Header | None:
    columns, uses = assign(upper, scorer)
    single = Header(index, 1, columns, uses, [upper]) if _quality(columns, uses) else None
    lower = _text_cells(rows[index + 1]) if index + 1 < len(rows) else None
    if not lower:
        return single
    spans = _spans_below(merged, index)
    if len(upper) < 2 or (not spans and single is None):  # a title above the header is no parent row
        return single
    texts = _two_rows(upper, lower, spans, scorer)
    both, both_uses = assign(texts, scorer)
    if spans:  # a merged parent: the row below is its sub-headers when it names what the parent covers
        under = [c for c in lower if any(c0 <= c <= c1 for c0, c1, _ in spans)]
        if not under or not any(scorer.recognised(lower[c]) for c in under):
            return single
    else:  # no merge seen (some exports): only when the lower row adds two fields by their exact names
        added = {
            f
            for f in both
            if f not in columns and any(u.how in (BY_ALIAS, BY_USER) for u in both_uses if u.field == f)
        }
        if len(added) < 2:
            return single
    if not _quality(both, both_uses) or len(both) <= len(columns):
        return single
    return Header(index, 2, both, both_uses, [upper, lower])


def best_guess(rows: Sequence[Sequence[object]], config: Config) -> tuple[int, list[ColumnUse]] | None:
    """For the message when no header is found: the row that looked most like one, and what it named."""
    scorer = Scorer(config)
    guess: tuple[int, int, int, list[ColumnUse]] | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = _text_cells(row)
        if not cells:
            continue
        columns, uses = assign({c: t for c, t in cells.items() if len(t) <= HEADER_MAX_CHARS}, scorer)
        key = (len(columns), len(uses))
        if uses and (guess is None or key > guess[:2]):
            guess = (*key, index, uses)
    return None if guess is None else (guess[2], guess[3])


def no_header_message(where: str, guess: tuple[int, list[ColumnUse]] | None, config: Config) -> str:
    """One Chinese paragraph: what the reader saw, what it understood, what is missing and how to say it."""
    fix = (
        "请检查表头文字，或用 --sheet 指定台账所在的工作表；表头写法认不出时，可在工作簿中加一个“配置”工作表，"
        "写上两列“台账中的表头 | 对应字段”的表头对照，"
        '或用 --columns "台账中的表头=字段名"（如 --columns "主责单位=责任部门,内容=问题描述"）说明各列'
        f"（也可写在 --config 配置文件的 [columns] 中），字段名有：{config.field_names_hint()}。"
    )
    wanted = [config.spec(f).header for f in ("problem", "status", "dept", "deadline", "measures")]
    if guess is None:
        return f"在{where}中没有找到台账表头（至少要认出“{'”“'.join(wanted[:3])}”等列中的三列）。{fix}"
    index, uses = guess
    seen = "、".join(u.header for u in uses[:20]) + ("等" if len(uses) > 20 else "")
    named = [f"{u.header}→{config.spec(u.field).header}" for u in uses if u.field]
    got = {u.field for u in uses if u.field}
    missing = [
        config.spec(f).header for f in ("problem", "status", "dept", "deadline", "measures") if f not in got
    ]
    understood = f"其中认出{'；'.join(named)}" if named else "其中没有一列能认出"
    present = {normalize_text(u.header) for u in uses}
    strays = [
        c
        for c in config.corrections
        if c.origin in (FROM_COMMAND_LINE, FROM_CONFIG_SHEET) and normalize_text(c.header) not in present
    ]
    stray = (
        f"{strays[0].origin}中的表头“{'”“'.join(c.header for c in strays)}”在这一行中找不到，请照台账中的写法填写。"
        if strays
        else ""
    )
    return (
        f"在{where}中没有找到台账表头：最像表头的是第{index + 1}行（{seen}），{understood}，"
        f"还缺少{'、'.join(missing[:4])}等列（至少要认出三列）。{stray}{fix}"
    )


def _standard(use: ColumnUse, config: Config) -> bool:
    """A column headed exactly as its field is named: nothing for the clerk to check."""
    return use.how == BY_ALIAS and normalize_text(use.header) == normalize_text(config.spec(use.field).header)


def all_standard(uses: Sequence[ColumnUse], config: Config) -> bool:
    """Every column is used and headed as its field is named (our own ledgers): no mapping worth showing."""
    return all(use.field is not None and _standard(use, config) for use in uses)


def mapping_line(uses: Sequence[ColumnUse], config: Config) -> str:
    """ "表头识别：巡察反馈问题→问题描述；牵头单位→责任部门；未使用：配合单位" — columns named as the field
    is named are summed up in a count, so the line stays short on our own ledgers."""
    shown: list[str] = []
    plain = 0
    for use in uses:
        if use.field is None:
            continue
        name = config.spec(use.field).header
        if _standard(use, config):
            plain += 1
            continue
        shown.append(f"{use.header}→{name}{_how_note(use, config)}")
    unused = [use.header for use in uses if use.field is None]
    parts = []
    if shown:
        parts.append("；".join(shown))
    if plain:
        parts.append(f"{'其余 ' if shown else ''}{plain} 列与标准表头一致")
    if unused:
        parts.append("未使用：" + "、".join(unused))
    return "表头识别：" + "；".join(parts) + "。"


def _how_note(use: ColumnUse, config: Config) -> str:
    """What the clerk should know about how a column was understood, in brackets after it."""
    if use.how == BY_USER:
        return "（按表头对照）"
    if use.how == BY_COMBINED:
        return f"（与{'、'.join(config.spec(f).header for f in use.also)}合写）"
    return ""


def mapping_json(uses: Sequence[ColumnUse], config: Config) -> dict[str, dict[str, object]]:
    """Column letter → header, field id, field name, how it was found and, for a header naming two roles, the
    other fields it names (``--json``'s ``columns``)."""
    return {
        column_letter(use.column): {
            "header": use.header,
            "field": use.field,
            "name": config.spec(use.field).header if use.field else None,
            "how": use.how or None,
            "also": list(use.also),
        }
        for use in uses
    }


def check_corrections(header: Header, config: Config) -> None:
    """A correction naming a header the ledger does not have is the clerk's typo: say so, with the headers.

    Only the command line and the workbook's 配置 sheet speak of this one ledger; a TOML file may serve many
    ledgers laid out differently, so its [columns] apply where their header is found.
    """
    if not config.corrections:
        return
    from toolkit.errors import ConfigError

    present = {normalize_text(t) for cells in header.cells for t in cells.values()}
    present |= {normalize_text(u.header) for u in header.uses}
    for correction in config.corrections:
        if correction.origin not in (FROM_COMMAND_LINE, FROM_CONFIG_SHEET):
            continue
        if normalize_text(correction.header) not in present:
            listed = "、".join(u.header for u in header.uses)
            raise ConfigError(
                f"{correction.origin}中的表头“{correction.header}”在台账表头（第{header.row + 1}行：{listed}）中找不到，"
                "请照台账中的写法填写表头。"
            )


def repeated_header_offsets(
    body: Sequence[Sequence[object]], raw: dict[str, Sequence], header: Header
) -> list[int]:
    """Body offsets of the header rows repeated below (stacked tables, a header pasted on every page).

    One column is probed at C speed (``tuple.index``) for the header's own text; only the rows found are
    compared cell by cell.
    """
    found: set[int] = set()
    by_column = {c: f for f, c in header.columns.items()}
    for cells in header.cells:
        probe = next(((c, t) for c, t in sorted(cells.items()) if c in by_column), None)
        if probe is None:
            continue
        col, text = probe
        column = raw[by_column[col]]
        wanted = {c: normalize_text(t) for c, t in cells.items()}
        need = max(2, (len(wanted) + 1) // 2)
        start = 0
        while True:
            try:
                offset = column.index(text, start)
            except ValueError:
                break
            start = offset + 1
            row = body[offset]
            same = sum(
                1
                for c, t in wanted.items()
                if c < len(row) and type(row[c]) is str and normalize_text(row[c]) == t
            )
            if same >= need:
                found.add(offset)
    return sorted(found)


def column_number_row(row: Sequence[object]) -> bool:
    """The row of column numbers some forms print under the header: 1 2 3 … or （1）（2）（3）…"""
    numbers = []
    for value in row:
        if value is None or value == "":
            continue
        text = str(int(value)) if type(value) is float and value.is_integer() else str(value).strip()
        text = text.strip("（()）")
        if not text.isdigit():
            return False
        numbers.append(int(text))
    return (
        len(numbers) >= 3
        and numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        and numbers[0] <= 1
    )
