"""The district-level 通报 across units: ``ledger report 各单位台账/``.

The numbers come from ``district_context`` (plain data over the units' summaries, read in parallel by
toolkit.units); the wording is added to them and rendered through the same machinery as the single-unit
通报 (``toolkit.render``): the GB/T 9704 styles of the default template, the sandboxed autoescaping Jinja
environment, the template checks, the signature placement and the atomic write. The district template is built by code like the unit one; a
clerk may save it with ``ledger template --district`` and pass an edited copy with ``-t``.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from toolkit.config import DEFAULT_CONFIG, Config
from toolkit.errors import OutputError, TemplateError
from toolkit.rules import chinese_date
from toolkit.stats import GroupStats, format_rate, percent
from toolkit.units import (
    NothingReadError,
    UnitResult,
    collect_files,
    nothing_read_message,
    repeated_units,
    repeated_units_notes,
    run_many,
    sum_groups,
)

LOW_RATE = 80.0  # percent: "under 80%" in the district report
OVERDUE_ITEMS_PER_UNIT = 10  # listed by name in the 通报; the merged ledger has them all

# top-level names a district template may use
DISTRICT_KEYS: dict[str, str] = {
    "title": "通报标题，如“关于各单位民主生活会整改落实情况的通报”",
    "issuer": "发文单位（落款）",
    "meeting": "会议或检查名称",
    "date": "成文日期，如“2025年1月15日”",
    "as_of": "统计截止日期，如“2024年12月31日”",
    "signature": "落款（默认同发文单位）",
    "opening": "开头段落",
    "summary": "总体情况：共…个单位报送台账，梳理问题…个，已完成…个，整体完成率…",
    "unit_count": "读取成功的单位数",
    "total": "合计行：total.total、total.completed、total.overdue、total.rate",
    "ranking": "各单位按完成率排名，每项有 rank、name、total、completed、pending、overdue、rate（如“70.6%”）",
    "ranking_text": "排名情况句：完成率达到100%的单位…个；低于80%的单位…个",
    "full_count": "完成率达到100%的单位数",
    "low_count": "完成率低于80%的单位数",
    "chart": "各单位完成率条形图（Word 图表，可编辑数据；单位过多或关闭图表时为空）",
    "lagging": "整改相对滞后的方面，每项有 heading（如“（一）作风建设方面。”）、text",
    "lagging_none": "没有滞后方面时的说明句（有滞后方面时为空）",
    "overdue_total": "超期未完成问题总数",
    "overdue_units": "有超期问题的单位，每项有 heading（如“（一）乙街道（3个）。”）、name、count、text",
    "failures_text": "未能读取的台账（文件名），没有时为空",
    "plans_text": "下一步工作要求段落：一是…。二是…。",
}

RANKING_COLUMNS = (("排名", 900), ("单位", 2845), ("问题数", 1275), ("已完成", 1275), ("超期", 1275),
                   ("完成率", 1275))  # fmt: skip
RANKING_FIELDS = ("rank", "name", "total", "completed", "overdue", "rate")


@dataclass(slots=True)
class DistrictOptions:
    issuer: str | None = None  # 发文单位
    meeting: str | None = None
    date: date | None = None  # 成文日期
    chart: bool = True
    config: Config = DEFAULT_CONFIG
    jobs: int | None = None
    progress: bool | None = None


@dataclass(slots=True)
class DistrictResult:
    path: Path
    title: str
    units: int
    failures: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0


# ---------------------------------------------------------------- the numbers


def district_context(
    paths: Iterable[str | os.PathLike] | None = None,
    as_of: date | None = None,
    config: Config = DEFAULT_CONFIG,
    *,
    results: Sequence[UnitResult] | None = None,
    jobs: int | None = None,
    progress: bool | None = None,
    low_rate: float = LOW_RATE,
) -> dict:
    """Plain data for the district-level 通报 across units (no rendering here).

    Pass ``paths`` (read in parallel) or ready ``results`` (``run_many`` in "report" mode). The keys are
    those returned below (``tests/test_units.py`` checks them); every rate is a percentage (float) plus a
    ``*_text`` form ("70.6%").
    """
    as_of = as_of or date.today()
    d = config.rate_decimals
    if results is None:
        files = collect_files(paths or ())
        results = list(run_many(files, as_of, "report", config, jobs=jobs, progress=progress))
    units = [r for r in results if r.ok and r.total is not None]
    failures = [r for r in results if not r.ok]
    if not units:
        raise NothingReadError(nothing_read_message(failures))
    total = sum_groups("合计", (u.total for u in units if u.total is not None))

    def unit_row(u: UnitResult) -> dict:
        assert u.total is not None
        rate = percent(u.total.rate, d)
        return {
            "name": u.unit,
            "file": Path(u.file).name,
            "total": u.total.total,
            "completed": u.total.completed,
            "pending": u.total.pending,
            "long_term": u.total.long_term,
            "overdue": u.total.overdue,
            "no_status": u.total.no_status,
            "rate": rate,
            "rate_text": format_rate(u.total.rate, d),
        }

    rows = [unit_row(u) for u in units]
    ranked = sorted(rows, key=lambda r: (r["rate"] is None, -(r["rate"] or 0), r["overdue"], r["name"]))
    previous_rate: float | None = None
    rank = 0
    for position, row in enumerate(ranked, start=1):
        if row["rate"] != previous_rate:
            rank = position  # ties share a rank (1, 2, 2, 4)
            previous_rate = row["rate"]
        row["rank"] = rank
    full = [r for r in ranked if r["rate"] is not None and r["rate"] >= 100]
    low = [r for r in ranked if r["rate"] is not None and r["rate"] < low_rate]

    # dimensions across units: summed counts; "lagging" = below the overall rate
    by_dim: dict[str, list[GroupStats]] = {}
    for u in units:
        for g in u.dimensions:
            by_dim.setdefault(g.name, []).append(g)
    overall = percent(total.rate, d)
    dimensions = []
    for name, groups in by_dim.items():
        g = sum_groups(name, groups)
        rate = percent(g.rate, d)
        dimensions.append(
            {
                "name": name,
                "units": len(groups),
                "total": g.total,
                "completed": g.completed,
                "pending": g.pending,
                "overdue": g.overdue,
                "rate": rate,
                "rate_text": format_rate(g.rate, d),
                "lagging": rate is not None and overall is not None and rate < overall,
            }
        )
    lagging = sorted((x for x in dimensions if x["lagging"]), key=lambda x: (x["rate"], x["name"]))

    overdue_units = sorted(
        (
            {
                "name": u.unit,
                "file": Path(u.file).name,
                "count": len(u.overdue_items),
                "items": u.overdue_items,
            }
            for u in units
            if u.overdue_items
        ),
        key=lambda x: (-x["count"], x["name"]),
    )
    overdue_total = sum(x["count"] for x in overdue_units)
    date_text = chinese_date(as_of)
    summary = (
        f"截至{date_text}，共{len(units)}个单位报送整改台账，梳理问题{total.total}个，"
        f"已完成{total.completed}个，整体完成率{format_rate(total.rate, d)}。"
        f"其中完成率达到100%的单位{len(full)}个，低于{low_rate:g}%的单位{len(low)}个；"
        f"超期未完成问题{overdue_total}个，涉及{len(overdue_units)}个单位。"
    )
    unsaid = [r for r in rows if r["no_status"]]
    if unsaid:  # never a silent 0%: say whose items could not be judged
        names = "、".join(f"{r['name']}{r['no_status']}个" for r in unsaid)
        summary += f"另有{names}问题未注明完成状态，无法判断是否完成，按未完成计入整体完成率。"
    return {
        "as_of": as_of.isoformat(),
        "date_text": date_text,
        "unit_count": len(units),
        "total": total.total,
        "completed": total.completed,
        "pending": total.pending,
        "long_term": total.long_term,
        "rate": overall,
        "rate_text": format_rate(total.rate, d),
        "rate_decimals": d,  # of every rate_text here: the chart's labels write them alike
        "ranking": ranked,
        "full_count": len(full),
        "full_units": [r["name"] for r in full],
        "low_threshold": low_rate,
        "low_count": len(low),
        "low_units": [r["name"] for r in low],
        "dimensions": dimensions,
        "lagging_dimensions": lagging,
        "overdue_total": overdue_total,
        "overdue_units": overdue_units,
        "no_status": total.no_status,
        "failures": [{"file": Path(f.file).name, "reason": f.reason} for f in failures],
        "repeated_units": repeated_units(units),
        "summary": summary,
    }


# ---------------------------------------------------------------- wording


def _names(names: list[str], limit: int = 20) -> str:
    shown = "、".join(names[:limit])
    return shown + (f"等{len(names)}个单位" if len(names) > limit else "")


def _chinese_number(n: int) -> str:
    from toolkit.render.context import chinese_number

    return chinese_number(n)


def district_document_context(data: dict, options: DistrictOptions) -> dict:
    """Turn ``district_context`` numbers into the sentences of the district 通报."""
    as_of = date.fromisoformat(data["as_of"])
    issuer = (options.issuer or "").strip()
    meeting = (options.meeting or "").strip()
    subject = meeting or "问题"
    title = f"关于各单位{subject}整改落实情况的通报"
    low = f"{data['low_threshold']:g}%"
    as_of_text = chinese_date(as_of)
    opening = (
        f"为推动{meeting + '查摆' if meeting else '各单位查摆'}问题整改落地见效，"
        f"{issuer or '我们'}对各单位报送的整改台账进行了汇总分析。现将截至{as_of_text}的整改落实情况通报如下："
    )
    ranking_text = f"从各单位整改完成率看，完成率达到100%的单位{data['full_count']}个"
    if data["full_count"]:
        ranking_text += f"（{_names(data['full_units'])}）"
    ranking_text += f"；低于{low}的单位{data['low_count']}个"
    if data["low_count"]:
        ranking_text += f"（{_names(data['low_units'])}）"
    ranking_text += "。各单位整改情况见下表。"

    lagging = []
    for number, d in enumerate(data["lagging_dimensions"], start=1):
        lagging.append(
            {
                "heading": f"（{_chinese_number(number)}）{d['name']}方面。",
                "name": d["name"],
                "text": (
                    f"涉及{d['units']}个单位，共有问题{d['total']}个，已完成{d['completed']}个，"
                    f"完成率{d['rate_text']}，低于整体完成率{data['rate_text']}"
                    + (f"，其中超期未完成{d['overdue']}个。" if d["overdue"] else "。")
                ),
            }
        )
    lagging_none = "" if lagging else "各方面整改进度基本均衡，没有明显低于整体水平的方面。"

    overdue_units = []
    for number, u in enumerate(data["overdue_units"], start=1):
        lines = []
        for n, item in enumerate(u["items"][:OVERDUE_ITEMS_PER_UNIT], start=1):
            deadline = item.get("deadline_date")
            if deadline:
                item = {**item, "deadline": chinese_date(date.fromisoformat(deadline))}
            details = "，".join(
                x
                for x in (item.get("dept", ""), f"整改时限{item['deadline']}" if item.get("deadline") else "")
                if x
            )
            problem = str(item.get("problem", "")).strip().rstrip("。；;")
            lines.append(f"{n}.{problem}" + (f"（{details}）" if details else ""))
        more = len(u["items"]) - OVERDUE_ITEMS_PER_UNIT
        text = "；".join(lines) + ("。" if lines else "")
        if more > 0:
            text += f"另有{more}个超期问题，详见汇总台账。"
        overdue_units.append(
            {
                "heading": f"（{_chinese_number(number)}）{u['name']}（{u['count']}个）。",
                "name": u["name"],
                "count": u["count"],
                "text": text,
            }
        )

    failures_text = ""
    if data["failures"]:
        files = "、".join(f["file"] for f in data["failures"][:10]) + (
            "等" if len(data["failures"]) > 10 else ""
        )
        failures_text = f"另有{len(data['failures'])}份台账未能读取（{files}），未计入以上统计，请相关单位核对后重新报送。"

    plans = []
    if data["low_count"]:
        plans.append(
            f"完成率低于{low}的{data['low_count']}个单位要逐项分析原因，倒排工期、挂图作战，确保按期完成整改任务"
        )
    if data["overdue_total"]:
        plans.append(
            f"对{data['overdue_total']}个超期未完成问题，责任单位要说明原因、明确新的完成时限，"
            "能立即整改的立即整改，一时难以完成的制定阶段性目标，持续推进"
        )
    if lagging:
        names = "、".join(d["name"] for d in lagging[:5])
        plans.append(f"聚焦{names}等整改相对滞后的方面，加强督促指导，推动整改工作整体均衡推进")
    plans.append("已完成整改的单位要巩固整改成果，建立健全长效机制，防止问题反弹")
    plans.append("各单位要按时更新整改台账，如实填写整改进展、完成时间和佐证材料，确保台账数据真实准确")
    plans_text = "".join(f"{_chinese_number(n)}是{p}。" for n, p in enumerate(plans, start=1))

    total = {
        "total": data["total"],
        "completed": data["completed"],
        "overdue": data["overdue_total"],
        "rate": data["rate_text"],
    }
    ranking = [
        {
            "rank": r["rank"],
            "name": r["name"],
            "total": r["total"],
            "completed": r["completed"],
            "pending": r["pending"],
            "overdue": r["overdue"],
            "rate": r["rate_text"],
        }
        for r in data["ranking"]
    ]
    doc_date = chinese_date(options.date) if options.date else as_of_text
    return {
        "title": title,
        "issuer": issuer,
        "meeting": meeting,
        "date": doc_date,
        "as_of": as_of_text,
        "signature": issuer,
        "opening": opening,
        "summary": data["summary"],
        "unit_count": data["unit_count"],
        "total": total,
        "ranking": ranking,
        "ranking_text": ranking_text,
        "full_count": data["full_count"],
        "low_count": data["low_count"],
        "chart": "",
        "lagging": lagging,
        "lagging_none": lagging_none,
        "overdue_total": data["overdue_total"],
        "overdue_units": overdue_units,
        "failures_text": failures_text,
        "plans_text": plans_text,
    }


# ---------------------------------------------------------------- the template


def build_district_document():
    """The default district template as a python-docx Document (tags unrendered), GB/T 9704 styles."""

    from toolkit.render import template as unit_template
    from toolkit.render.template import (
        STYLE_DATE,
        STYLE_FIGURE,
        STYLE_H1,
        STYLE_H2_CHAR,
        STYLE_SIGNATURE,
        STYLE_TABLE,
        STYLE_TABLE_HEAD,
        STYLE_TITLE,
    )

    para = unit_template._para
    document = unit_template.new_document("各单位整改落实情况通报", "docs/历史记录与多单位.md")

    para(document, "{{ title }}", STYLE_TITLE)
    para(document)
    para(document, "{{ opening }}")
    para(document, "一、总体情况", STYLE_H1)
    para(document, "{{ summary }}")
    para(document, "二、各单位整改完成情况", STYLE_H1)
    para(document, "{{ ranking_text }}")
    rows = [
        ["{%tr for r in ranking %}", *[""] * (len(RANKING_COLUMNS) - 1)],
        [f"{{{{ r.{name} }}}}" for name in RANKING_FIELDS],
        ["{%tr endfor %}", *[""] * (len(RANKING_COLUMNS) - 1)],
        ["合计", "", "{{ total.total }}", "{{ total.completed }}", "{{ total.overdue }}", "{{ total.rate }}"],
    ]
    unit_template._table(
        document, RANKING_COLUMNS, head_style=STYLE_TABLE_HEAD, body_style=STYLE_TABLE, rows=rows
    )
    para(document, "{%p if chart %}", STYLE_FIGURE)
    para(document, "{{ chart }}", STYLE_FIGURE)
    para(document, "{%p endif %}", STYLE_FIGURE)

    para(document, "三、整改相对滞后的方面", STYLE_H1)
    unit_template._headed_paragraphs(document, "lagging")
    para(document, "{%p if lagging_none %}")
    para(document, "{{ lagging_none }}")
    para(document, "{%p endif %}")

    para(document, "四、超期未完成问题", STYLE_H1)
    para(document, "{%p if overdue_units %}")
    para(document, "截至{{ as_of }}，共有超期未完成问题{{ overdue_total }}个，分布如下：")
    para(document, "{%p for u in overdue_units %}")
    unit = document.add_paragraph()
    unit.add_run("{{ u.heading }}", style=STYLE_H2_CHAR)
    unit.add_run("{{ u.text }}")
    para(document, "{%p endfor %}")
    para(document, "{%p else %}")
    para(document, "截至{{ as_of }}，各单位没有超期未完成的问题。")
    para(document, "{%p endif %}")
    para(document, "{%p if failures_text %}")
    para(document, "{{ failures_text }}")
    para(document, "{%p endif %}")

    para(document, "五、下一步工作要求", STYLE_H1)
    para(document, "{{ plans_text }}")
    para(document)
    para(document, "{{ signature }}", STYLE_SIGNATURE)
    para(document, "{{ date }}", STYLE_DATE)
    return document


@functools.cache
def district_template_bytes() -> bytes:
    buffer = io.BytesIO()
    build_district_document().save(buffer)
    return buffer.getvalue()


def write_district_template(path: str | os.PathLike, *, force: bool = False) -> Path:
    from toolkit.render.render import write_atomic

    target = Path(path)
    if target.exists() and not force:
        raise OutputError(f"“{target}”已存在；如需覆盖，请加 --force。")
    return write_atomic(district_template_bytes(), target, backup=False)


# ---------------------------------------------------------------- rendering


def _check_names(tpl, env) -> set[str]:
    """Syntax and unknown-variable check of a district template (the unit one checks its own keys)."""
    from jinja2 import TemplateSyntaxError, meta

    from toolkit.render.render import check_punctuation, patched_xml, template_parts

    parts = list(template_parts(tpl))
    check_punctuation(parts)
    used: set[str] = set()
    for part in parts:
        try:
            ast = env.parse(patched_xml(tpl, part))
        except TemplateSyntaxError as exc:
            raise TemplateError(f"通报模板有语法错误（{exc.message}），请修改模板后重试。") from None
        used |= meta.find_undeclared_variables(ast)
    unknown = sorted(used - set(DISTRICT_KEYS) - set(env.globals))
    if unknown:
        names = "、".join(f"“{n}”" for n in unknown)
        raise TemplateError(
            f"模板中的变量{names}无法识别，请检查拼写（可用变量见 docs/历史记录与多单位.md）。"
        )
    return used


def _chart(context: dict, data: dict, tpl) -> list[str]:
    from toolkit.render.chart import MAX_BARS, Bar, rate_chart, wrap_label
    from toolkit.render.render import ChartImage

    ranking = data["ranking"]
    if len(ranking) > MAX_BARS:
        return [f"单位超过 {MAX_BARS} 个，通报中省略了完成率图表（排名见表格）。"]
    bars = [Bar(wrap_label(r["name"]), None if r["rate"] is None else r["rate"] / 100) for r in ranking]
    chart = rate_chart(bars, title="各单位整改完成率", decimals=data["rate_decimals"])
    if chart is not None:
        context["chart"] = ChartImage(tpl, chart)
    return []


def render_district_document(
    data: dict, *, template: str | os.PathLike | None = None, options: DistrictOptions | None = None
) -> tuple[bytes, dict, list[str]]:
    """District context numbers → .docx bytes (nothing written)."""
    from toolkit.render.render import (
        clean_strings,
        load_template_bytes,
        make_environment,
        open_template,
        render_checked,
    )

    options = options or DistrictOptions()
    if template is None:
        raw, name = district_template_bytes(), "默认区级通报模板"
    else:
        raw, name = load_template_bytes(template)
    tpl = open_template(raw, name)
    env = make_environment()
    used = _check_names(tpl, env)
    context = clean_strings(district_document_context(data, options))
    notes: list[str] = []
    if options.chart and "chart" in used:
        notes += _chart(context, data, tpl)
    return render_checked(tpl, env, context, name), context, notes


def render_district_report(
    paths,
    *,
    as_of: date,
    out: str | os.PathLike | None = None,
    template: str | os.PathLike | None = None,
    options: DistrictOptions | None = None,
) -> DistrictResult:
    """Read every unit's ledger (in parallel), write the district 通报, say where it went."""
    from toolkit.render.render import safe_filename, write_atomic

    options = options or DistrictOptions()
    data = district_context(paths, as_of, options.config, jobs=options.jobs, progress=options.progress)
    raw, context, notes = render_district_document(data, template=template, options=options)
    notes += repeated_units_notes(data["repeated_units"])
    if out is None:
        first = Path(next(iter(paths)))
        folder = first if first.is_dir() else first.parent
        target = folder / f"{safe_filename(context['title'])}.docx"
    else:
        target = Path(out)
    if target.suffix.lower() != ".docx":
        raise OutputError(f"输出文件“{target.name}”应以 .docx 结尾，请修改文件名后重试。")
    write_atomic(raw, target)
    return DistrictResult(target, context["title"], data["unit_count"], data["failures"], notes)
