"""Ledger + Stats (+ validation Report) → the plain dict a 通报 template is rendered with.

Everything a template shows is computed here as text or numbers, so templates stay simple and a
clerk editing one in Word only moves variables around. The keys are documented in
docs/模板变量.md and listed in CONTEXT_KEYS (the template check compares against it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from toolkit.config import DEFAULT_CONFIG, Config
from toolkit.errors import LedgerError
from toolkit.layout import INFO_SCALARS
from toolkit.model import Item, Ledger, Report
from toolkit.render.kinds import (
    GENERAL,
    KINDS_BY_ID,
    Kind,
    clean_name,
    kind_choices,
    kind_in,
    kind_named,
    kind_texts,
)
from toolkit.render.typeset import title_display
from toolkit.rules import chinese_date
from toolkit.stats import UNASSIGNED, GroupStats, Stats, compute_stats, format_rate

# top-level names a template may use (besides Jinja's own globals)
CONTEXT_KEYS: dict[str, str] = {
    "title": "通报标题，按整改类型拟定，如“某街道党工委关于2024年度民主生活会查摆问题整改落实情况的通报”"
    "“关于区委第三巡察组反馈问题整改落实情况的通报”",
    "title_display": "排版用的标题：一行放不下时在词语之间换行（如“关于”前、“整改落实情况的通报”前），"
    "使回行词意完整、各行长短相近",
    "unit": "单位（发文机关）",
    "year": "年度，如“2024”",
    "meeting": "会议或检查名称，如“民主生活会”“区委第三巡察组”“区审计局审计”（不含年度和“反馈问题”等字样；"
    "未填写时为空）",
    "kind": "整改类型：民主生活会、组织生活会、巡视巡察反馈、审计发现问题、督察督查反馈、主题教育检视问题、"
    "专项整治、其他整改",
    "date": "成文日期，如“2025年1月15日”",
    "as_of": "统计截止日期，如“2024年12月31日”",
    "signature": "落款（默认同单位）",
    "opening": "开头段落（按整改类型拟定，如“2024年度民主生活会召开以后……”“区委第三巡察组反馈意见后……”）",
    "summary": "总体情况句：共梳理问题…个，已完成整改…个，整改完成率…（台账没有完成状态时说明无法统计）",
    "has_status": "台账能否统计完成情况（有完成状态时为真）",
    "show_table": "是否列分方面汇总表（有完成状态且有两个及以上方面时为真）",
    "measures_text": "台账没有方面时，全部问题的整改措施与成效（一段）；有方面时为空",
    "total": "合计行：total.total、total.completed、total.long_term、total.pending、total.rate 等",
    "dimensions": "各方面列表，每项有 number、name、heading、total、completed、long_term、pending、rate、"
    "counts_text、prose、text、measures、outcomes",
    "chart": "各方面完成率条形图（Word 图表，可编辑数据；关闭图表时为空）",
    "problems": "存在问题（用户填写的各条，已去掉编号）",
    "problems_text": "存在问题段落：一是…。二是…。",
    "facts": "台账数据反映的情况（各句）",
    "facts_text": "台账数据反映的情况（一段）",
    "overdue_depts": "超期未完成问题涉及的部门：每项有 name、count",
    "plans": "下一步打算（各条，用户填写或默认）",
    "plans_lead": "下一步打算的引导句",
    "plans_text": "下一步打算段落：一是…。二是…。",
    "annex": "是否附整改台账明细（真/假）",
    "items": "全部问题明细，每项有 seq、dimension、problem、measures、lead、dept、owner、deadline、"
    "progress、status、completed_on、outcome、evidence、remarks、row",
    "validation": "校验结果：validation.errors、validation.warnings",
    "history": "与上次通报的比较：history.summary（较上次通报……新增完成…项，完成率提高…个百分点。）、"
    "history.newly_overdue_text、history.trend 等；没有历史记录时各项为空",
    "trend_chart": "完成率变化折线图（Word 图表；有三次及以上历史记录时，否则为空）",
    "rate_decimals": "完成率小数位数",
}

DEFAULT_PLANS_TAIL = (
    "对已完成整改的问题开展“回头看”，巩固整改成果，健全长效机制，以整改实效推动各项工作提质增效"
)

# what the 通报信息 sheet calls each key (整改类型 is a row a clerk may add; ledger new does not write it)
INFO_LABELS = {**dict(INFO_SCALARS), "kind": "整改类型"}


@dataclass(frozen=True)
class ReportOptions:
    """What the caller may set; ``None`` means “take it from the workbook, else a default”."""

    unit: str | None = None
    year: str | int | None = None
    meeting: str | None = None
    date: str | date | None = None
    kind: str | None = None  # a label or alias of toolkit.render.kinds (--kind)
    annex: bool = False
    chart: bool = True
    prose_items: int = 12  # items per 方面 written as prose; the rest are pointed to the ledger
    config: Config = DEFAULT_CONFIG
    history: dict | None = None  # toolkit.history.history_context(): the comparison with the last 通报


@dataclass
class Resolved:
    unit: str
    year: str
    meeting: str  # the meeting or source as the kind's sentences need it; "" when nothing names one
    date: str
    kind: Kind
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- text helpers

_DIGITS = "零一二三四五六七八九"
_CN_NUM = "一二三四五六七八九十"
_ENUM = re.compile(
    rf"^\s*(?:[{_CN_NUM}]{{1,3}}是|[{_CN_NUM}]{{1,3}}\s*[、.．]|[（(]\s*[{_CN_NUM}\d]{{1,3}}\s*[)）]"
    r"|\d{1,2}\s*[、.．)）](?!\d)|[①-⑳⑴-⒇])\s*"
)
_SPLIT = re.compile(
    r"\n+"
    rf"|(?<=[；;。！!？?])\s*(?=[{_CN_NUM}]{{1,3}}是|[（(]?[{_CN_NUM}\d]{{1,2}}[、.．)）](?!\d)|[①-⑳⑴-⒇])"
    rf"|(?<=[，,])\s*(?=[二三四五六七八九十]是)"
)
_CJK = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef"
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])[ \t\u3000]+(?=[{_CJK}])")
_TRAIL = "；;，,。.、:： \t"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 15 → 十五, 23 → 二十三 (Arabic from 100 on)."""
    if n <= 0 or n >= 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    head = "" if tens == 1 else _DIGITS[tens]
    return head + "十" + (_DIGITS[ones] if ones else "")


def tidy(text: object) -> str:
    """Cell text with runs of spaces collapsed and spaces next to Chinese characters removed."""
    if text is None:
        return ""
    value = str(text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [" ".join(line.split()) for line in value.split("\n")]
    value = "\n".join(line for line in lines if line)
    return _SPACE_NEAR_CJK.sub("", value).strip()


def clauses(text: object) -> list[str]:
    """Split a cell into its points, dropping the clerk's numbering (一是/1./（1）/①) and end punctuation."""
    value = tidy(text)
    if not value:
        return []
    out = []
    for piece in _SPLIT.split(value):
        piece = _ENUM.sub("", piece.strip(), count=1).strip().rstrip(_TRAIL).strip()
        if piece:
            out.append(piece)
    return out


def sentence(parts: Sequence[str], joiner: str = "；") -> str:
    """Join clauses into one sentence ending in 。 (unless it already ends in ！ or ？)."""
    text = joiner.join(p for p in parts if p)
    if not text:
        return ""
    return text if text[-1] in "。！？!?" else text + "。"


def enumerate_points(points: Iterable[str]) -> str:
    """'一是…。二是…。' the way a 通报 lists its points."""
    out = []
    for index, point in enumerate(points, start=1):
        body = "；".join(clauses(point)) or tidy(point).rstrip(_TRAIL)
        if body:
            out.append(f"{chinese_number(index)}是{sentence([body])}")
    return "".join(out)


def format_cn_date(value: object) -> str:
    """2024-12-31 / 2024/12/31 / 2024.12.31 / a date → '2024年12月31日'; other text stays as written."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return chinese_date(value)
    text = tidy(value)
    match = re.fullmatch(
        r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+0?0:00(?::00)?)?", text
    )
    if match:
        y, m, d = (int(g) for g in match.groups())
        try:
            return format_cn_date(date(y, m, d))
        except ValueError:
            return text
    return text


def normalize_year(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    match = re.search(r"(\d{4})", str(value))
    return match.group(1) if match else tidy(value).removesuffix("年度").removesuffix("年")


_TITLE_TAIL = re.compile(
    r"(?:(?:检视|查摆|反馈|发现|指出|排查)(?:的)?)?(?:问题|意见)?整改(?:落实)?(?:工作)?(?:情况)?"
    r"(?:台账|清单|明细表?|一览表|统计表|销号表)"
)
_TITLE_YEAR = re.compile(r"(\d{4})\s*年度?")


def parse_title(title: str) -> dict[str, str]:
    """Unit, year, meeting (or source) and kind read off a ledger title.

    '党工委2024年度民主生活会整改台账' → 党工委 / 2024 / 民主生活会 / democratic_life;
    '区委第三巡察组反馈问题整改落实台账' → meeting 区委第三巡察组, kind inspection (no unit: a title
    without a year does not say where the unit ends).
    """
    text = tidy(title).replace("\n", "")
    tail = _TITLE_TAIL.search(text)
    if not tail:
        return {}
    head = text[: tail.start()].strip(" -—_：:")
    found: dict[str, str] = {}
    if "关于" in head:
        found["unit"], head = head.split("关于", 1)
    year = _TITLE_YEAR.search(head)
    kind = kind_in(head)
    if year:
        found.setdefault("unit", head[: year.start()])
        found["year"] = year.group(1)
        head = head[year.end() :]
    elif kind is not None and kind.dated and "unit" not in found:
        at = min(head.find(word) for word in kind.words if word in head)
        at -= 2 if head[max(at - 2, 0) : at] == "专题" else 0
        found["unit"], head = head[:at], head[at:]
    found["meeting"] = head
    if kind is not None:
        found["kind"] = kind.id
    found = {k: v.strip(" -—_：:") for k, v in found.items()}
    return {k: v for k, v in found.items() if v}


# ---------------------------------------------------------------- resolution of 单位/年度/会议/日期


def _sheet_value(info: dict, key: str) -> str:
    value = info.get(key)
    if isinstance(value, list):
        value = "".join(str(v) for v in value)
    if key == "date":
        return format_cn_date(value) if value not in (None, "") else ""
    if key == "year":
        return normalize_year(value)
    return tidy(value).replace("\n", "")


def resolve_kind(
    ledger: Ledger, options: ReportOptions, meeting: str, guess: dict[str, str]
) -> tuple[Kind, list[str]]:
    """The kind of 整改: --kind, the 通报信息 sheet's 整改类型, the ledger title, the meeting name, else 其他整改."""
    notes: list[str] = []
    if options.kind:
        found = kind_named(str(options.kind))
        if found is None:
            raise LedgerError(f"无法识别的整改类型“{options.kind}”，请改为以下之一：{kind_choices()}。")
        return found, notes
    sheet = _sheet_value(ledger.info or {}, "kind")
    if sheet:
        found = kind_named(sheet)
        if found is not None:
            return found, notes
        notes.append(f"通报信息表的整改类型“{sheet}”无法识别（可填：{kind_choices()}），已按台账标题判断。")
    if guess.get("kind"):
        return KINDS_BY_ID[guess["kind"]], notes
    return kind_in(meeting) or KINDS_BY_ID[GENERAL], notes


def resolve_info(ledger: Ledger, options: ReportOptions, as_of: date) -> Resolved:
    """单位/年度/会议/成文日期: the 通报信息 sheet first, then the options, then the ledger title, then defaults;
    the kind of 整改 by ``resolve_kind``."""
    info = ledger.info or {}
    guess = parse_title(ledger.title or "")
    notes: list[str] = []
    values: dict[str, str] = {}
    defaults = {"unit": "", "year": str(as_of.year), "meeting": "", "date": format_cn_date(as_of)}
    given: dict[str, str] = {}
    for key in ("unit", "year", "meeting", "date"):
        sheet = _sheet_value(info, key)
        raw_option = getattr(options, key)
        option = ""
        if raw_option not in (None, ""):
            option = {"date": format_cn_date, "year": normalize_year}.get(key, tidy)(raw_option)
        if sheet:
            given[key] = sheet
            if option and option != sheet:
                notes.append(
                    f"通报信息表已填写{INFO_LABELS[key]}“{sheet}”，命令行给出的“{option}”未采用，"
                    f"如需更改请修改通报信息表。"
                )
        elif option:
            given[key] = option
        values[key] = given.get(key) or guess.get(key) or defaults[key]
    kind, kind_notes = resolve_kind(ledger, options, given.get("meeting", ""), guess)
    notes += kind_notes
    # the title's meeting names this kind's meeting only when the title is of this kind
    title_kind = guess.get("kind", GENERAL)
    name = given.get("meeting") or (guess.get("meeting", "") if title_kind == kind.id else "")
    year = values["year"]
    return Resolved(values["unit"], year, clean_name(name, kind, year), values["date"], kind, notes)


# ---------------------------------------------------------------- counts as prose


def counts_text(g: GroupStats, decimals: int, *, lead: str = "共") -> str:
    """'共梳理问题17个，已完成整改12个，整改完成率70.6%；长期坚持3个，正在推进2个'."""
    if g.total == 0:
        return f"{lead}梳理问题0个"
    if _no_status_at_all(g):  # never a silent 0%: say that nothing tells whether they are done
        return f"{lead}梳理问题{g.total}个，均未注明是否完成整改，无法计算整改完成率"
    text = f"{lead}梳理问题{g.total}个，已完成整改{g.completed}个，整改完成率{format_rate(g.rate, decimals)}"
    rest = []
    if g.long_term:
        rest.append(f"长期坚持{g.long_term}个")
    if g.pending:
        rest.append(f"正在推进{g.pending}个")
    if rest:
        text += "；" + "，".join(rest)
    return text


def _item_sentence(item: Item, config: Config) -> tuple[str, list[str], list[str]]:
    measures = clauses(item.get("measures"))
    outcome = clauses(item.get("outcome"))
    done = item.status in ("completed", "closed")
    tail = outcome
    if not tail and not done:
        # the progress column, unless it only repeats a status word
        tail = [c for c in clauses(item.get("progress")) if config.status_for(c) is None]
    body = "；".join(measures)
    if tail:
        body = f"{body}，{'；'.join(tail)}" if body else "；".join(tail)
    return sentence([body]), measures, outcome


def _prose_key(item: Item) -> tuple[str, str, str]:
    done = item.status in ("completed", "closed")
    return item.get("measures"), item.get("outcome"), "" if done else item.get("progress")


def dimension_prose(
    items: Sequence[Item], limit: int, config: Config, *, annex: bool
) -> tuple[str, list[str], list[str]]:
    """The measures and outcomes of a 方面's first ``limit`` distinct items as running text.

    Only the items written out are parsed, so a 100k-row ledger costs no more than a small one.
    """
    distinct: dict[tuple[str, str, str], Item] = {}
    for item in items:
        key = _prose_key(item)
        if key not in distinct and any(key):
            distinct[key] = item
    seen: set[str] = set()
    sentences: list[str] = []
    measures: list[str] = []
    outcomes: list[str] = []
    for item in list(distinct.values())[:limit]:
        text, item_measures, item_outcomes = _item_sentence(item, config)
        measures.extend(item_measures)
        outcomes.extend(item_outcomes)
        if text and text not in seen:
            seen.add(text)
            sentences.append(text)
    prose = "".join(sentences)
    rest = len(distinct) - limit
    if rest > 0:
        where = "附件" if annex else "整改台账"
        prose += f"其余{rest}个问题的整改措施详见{where}。"
    return prose, measures, outcomes


# ---------------------------------------------------------------- 存在问题 and 下一步打算


def _no_status_at_all(g: GroupStats) -> bool:
    """No item of the group says whether it is done (blank status, or no status column at all)."""
    return g.total > 0 and g.no_status >= g.total


def missing_status_text(stats: Stats) -> str:
    """The sentence a 通报 adds when status is missing for some items: how many, and why."""
    n = stats.total.no_status
    if not n:
        return ""
    if stats.status_from is None:
        return f"台账未设完成状态列，{n}个问题无法判断是否完成整改，未计入完成率。"
    where = "完成状态" if stats.status_from == "status" else "整改进展"
    return f"其中{n}个问题的{where}未填写，无法判断是否完成整改，按未完成计。"


def _status_breakdown(g: GroupStats) -> str:
    parts = []
    if g.long_term:
        parts.append(f"长期坚持{g.long_term}个")
    if g.pending:
        detail = []
        if g.not_started:
            detail.append(f"尚未启动{g.not_started}个")
        if g.extended:
            detail.append(f"申请延期{g.extended}个")
        if g.unknown:
            detail.append(f"状态未填写或无法识别{g.unknown}个")
        text = f"正在推进{g.pending}个"
        if detail:
            text += f"（含{'、'.join(detail)}）"
        parts.append(text)
    return "、".join(parts)


def facts(
    ledger: Ledger, stats: Stats, as_of: date, decimals: int, config: Config
) -> tuple[list[str], list[dict]]:
    """What the data shows: unfinished items, overdue ones with their departments, the weakest 方面."""
    total = stats.total
    as_of_text = format_cn_date(as_of)
    out: list[str] = []
    unfinished = total.total - total.completed
    if total.total == 0:
        return [f"截至{as_of_text}，台账中暂无需要统计的问题。"], []
    if _no_status_at_all(total):
        out.append(f"从台账情况看，{total.total}个问题均未注明是否完成整改，需逐项核实、补记完成状态。")
        return out, []
    if unfinished == 0:
        out.append(f"从台账情况看，截至{as_of_text}，所列{total.total}个问题已全部完成整改。")
        return out, []
    out.append(
        f"从台账情况看，截至{as_of_text}，尚有{unfinished}个问题未完成整改，其中{_status_breakdown(total)}。"
    )
    depts: list[dict] = []
    if total.overdue:
        overdue_rows = set(total.overdue_rows)
        overdue_items = [item for item in ledger.items if item.row in overdue_rows]
        by_dept = compute_stats(overdue_items, as_of, by="dept", config=config)
        depts = [
            {"name": g.name, "count": g.overdue}
            for g in sorted(by_dept.groups, key=lambda g: -g.overdue)
            if g.overdue
        ]
        names = "、".join(f"{d['name']}（{d['count']}个）" for d in depts[:8])
        more = f"等{len(depts)}个部门" if len(depts) > 8 else ""
        out.append(f"已超过整改时限仍未完成的问题{total.overdue}个，涉及{names}{more}，需加快推进。")
    rated = [g for g in stats.groups if g.rate is not None]
    if len(rated) > 1:
        low = min(rated, key=lambda g: g.rate)
        high = max(rated, key=lambda g: g.rate)
        if low.rate < high.rate:
            out.append(f"从各方面看，{low.name}方面整改完成率为{format_rate(low.rate, decimals)}，相对较低。"
                       .replace("方面方面", "方面"))  # fmt: skip
    return out, depts


def default_plans(stats: Stats) -> list[str]:
    total = stats.total
    plans = []
    pending = total.pending
    if _no_status_at_all(total):
        plans.append(f"对台账所列{total.total}个问题逐项核实整改完成情况，补记完成状态，确保底数清、情况明")
        pending = 0
    if pending:
        plans.append(
            f"对尚未完成整改的{pending}个问题，逐项明确责任领导、责任部门和完成时限，"
            "挂账督办、跟踪问效，完成一个、销号一个，确保按期整改到位"
        )
    if total.overdue:
        plans.append(
            f"对已超过整改时限的{total.overdue}个问题，逐项分析原因，倒排工期、压实责任，限期整改到位"
        )
    if total.long_term:
        plans.append(
            f"对需要长期坚持的{total.long_term}个问题，建立常态化工作机制，定期调度、持续推进，"
            "防止问题反弹回潮"
        )
    if total.completed or not plans:  # a 回头看 needs something done; never an empty 下一步打算
        plans.append(DEFAULT_PLANS_TAIL)
    return plans


def _list_value(info: dict, key: str) -> list[str]:
    value = info.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split("\n")
    out = []
    for v in value:
        text = tidy(v)
        if text:
            out.append(text)
    return out


# ---------------------------------------------------------------- the context


def _group_dict(g: GroupStats, decimals: int) -> dict:
    return {
        "name": g.name,
        "total": g.total,
        "completed": g.completed,
        "closed": g.closed,
        "long_term": g.long_term,
        "pending": g.pending,
        "in_progress": g.in_progress,
        "not_started": g.not_started,
        "overdue": g.overdue,
        "excluded": g.excluded,
        "rate": format_rate(g.rate, decimals),
    }


def heading_for(number: int, name: str) -> str:
    """'（一）理论学习方面。' — the name as in the ledger, '方面' added unless it is there already."""
    clean = tidy(name).replace("\n", "").rstrip(_TRAIL)
    if not clean.endswith("方面"):
        clean += "方面"
    return f"（{chinese_number(number)}）{clean}。"


def item_dict(index: int, item: Item, config: Config) -> dict:
    values = {key: tidy(item.get(key)) for key in (
        "seq", "source", "problem", "measures", "lead", "dept", "owner", "deadline", "progress",
        "completed_on", "outcome", "evidence", "remarks")}  # fmt: skip
    values["dimension"] = tidy(item.dimension)
    status_text = tidy(item.get("status"))
    if item.status is not None:
        status_text = config.status_spec(item.status).label
    values["status"] = status_text
    values["seq"] = values["seq"] or str(index)
    values["row"] = item.row
    return values


UNASSIGNED_NAME = "其他"  # the heading of the items whose 方面 is blank, beside 方面 that are filled in


def build_context(
    ledger: Ledger,
    stats: Stats,
    *,
    as_of: date,
    report: Report | None = None,
    options: ReportOptions | None = None,
) -> tuple[dict, list[str]]:
    """The template context and notes for the user (e.g. a command-line value that was not used).

    Thin ledgers get sensible text: no 方面 (every item unassigned) → no per-方面 sections, the measures in
    one paragraph; no status → one sentence saying so instead of a 0% rate; fewer than two 方面 (one item) →
    no summary table.
    """
    options = options or ReportOptions()
    config = options.config
    decimals = config.rate_decimals
    resolved = resolve_info(ledger, options, as_of)
    info = ledger.info or {}
    unit, year, meeting = resolved.unit, resolved.year, resolved.meeting
    as_of_text = format_cn_date(as_of)
    title, opening = kind_texts(resolved.kind, unit=unit, year=year, name=meeting)
    unknown = _no_status_at_all(stats.total)  # nothing says whether any item is done: no rates, no table
    has_dimensions = any(g.name != UNASSIGNED for g in stats.groups if g.total)

    by_dimension: dict[str, list[Item]] = {}
    for item in ledger.items:
        if item.status == "excluded":
            continue
        by_dimension.setdefault(item.dimension or UNASSIGNED, []).append(item)

    dimensions = []
    for number, g in enumerate((g for g in stats.groups if g.total and has_dimensions), start=1):
        items = by_dimension.get(g.name, [])
        prose, measures, outcomes = dimension_prose(items, options.prose_items, config, annex=options.annex)
        counts = sentence([counts_text(g, decimals, lead="该方面共")])
        entry = _group_dict(g, decimals)
        entry.update(
            number=f"（{chinese_number(number)}）",
            heading=heading_for(number, UNASSIGNED_NAME if g.name == UNASSIGNED else g.name),
            counts_text=counts,
            prose=prose,
            text=counts + prose,
            measures=measures,
            outcomes=outcomes,
        )
        dimensions.append(entry)
    measures_text = ""
    if not has_dimensions:
        all_items = [item for items in by_dimension.values() for item in items]
        measures_text = dimension_prose(all_items, options.prose_items, config, annex=options.annex)[0]

    summary = f"截至{as_of_text}，{counts_text(stats.total, decimals)}。"
    if not unknown:
        summary += missing_status_text(stats)
    elif stats.status_from is None:
        summary += "台账未设完成状态列。"
    if stats.total.excluded:
        summary += f"另有{stats.total.excluded}个问题已合并或不适用，未计入总数。"

    problems = _list_value(info, "problems")
    fact_list, overdue_depts = facts(ledger, stats, as_of, decimals, config)
    plans = _list_value(info, "plans") or default_plans(stats)
    subject = unit or "我们"
    context = {
        "title": title,
        "title_display": title_display(title, unit, year),
        "unit": unit,
        "year": year,
        "meeting": meeting,
        "kind": resolved.kind.label,
        "date": resolved.date,
        "as_of": as_of_text,
        "signature": unit,
        "opening": opening,
        "summary": summary,
        "has_status": not unknown,
        "show_table": bool(not unknown and len(dimensions) >= 2),
        "total": _group_dict(stats.total, decimals),
        "dimensions": dimensions,
        "measures_text": measures_text,
        "chart": "",
        "problems": problems,
        "problems_text": enumerate_points(problems),
        "facts": fact_list,
        "facts_text": "".join(fact_list),
        "overdue_depts": overdue_depts,
        "plans": plans,
        "plans_lead": f"{subject}将继续采取有力措施，确保整改取得实效。",
        "plans_text": enumerate_points(plans),
        "annex": bool(options.annex),
        "items": [item_dict(i, item, config) for i, item in enumerate(ledger.items, start=1)]
        if options.annex
        else [],
        "validation": {
            "errors": report.errors if report else 0,
            "warnings": report.warnings if report else 0,
        },
        "rate_decimals": decimals,
        "history": options.history or _empty_history(),
        "trend_chart": "",
    }
    assert set(context) == set(CONTEXT_KEYS), set(context) ^ set(CONTEXT_KEYS)
    return context, resolved.notes


def _empty_history() -> dict:
    from toolkit.history import empty_history_context

    return empty_history_context()
