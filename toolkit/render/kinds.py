"""The kinds of 整改 a 通报 reports on, as data: how each is recognised, named, titled and opened.

A 巡察 feedback is not “召开”, an audit finds problems (审计发现的问题), a 督察 gives 反馈意见: each kind
has its own title and opening, written here as patterns over a few fields, never as ``if`` chains.

Fields a pattern may use:

- ``{unit}``: the issuing unit (may be empty);
- ``{name}``: the meeting or source as the sentence needs it — “民主生活会”, “区委第三巡察组”,
  “区审计局审计” (the kind's ``suffix`` added when missing, its feedback words removed);
- ``{dated}``: ``{year}年度{name}`` for the kinds held once a year (民主生活会, 组织生活会), else ``{name}``.

``KIND_TAGS`` maps the same fields to template variables, so ``ledger template --kind …`` writes the
wording of one kind as editable text (“关于{{ meeting }}反馈问题整改落实情况的通报”).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GENERAL = "general"


@dataclass(frozen=True)
class Kind:
    id: str
    label: str  # what --kind and the 整改类型 row say
    words: tuple[str, ...]  # words in a title, a 整改类型 or a meeting name that name this kind
    default_name: str  # {name} when nothing gives one
    title: str
    opening: str
    dated: bool = False  # {dated} carries the year
    suffix: str = ""  # appended to {name} when it does not end with it
    title_unnamed: str = ""  # title when no name is known (else ``title`` with ``default_name``)
    opening_unnamed: str = ""


OPENING_TAIL = "现将整改落实情况通报如下："

KINDS: tuple[Kind, ...] = (
    Kind(
        "democratic_life", "民主生活会", ("民主生活会",), "民主生活会",
        "{unit}关于{dated}查摆问题整改落实情况的通报",
        "{dated}召开以后，{unit}领导班子主动反思，对照整改清单，做到边学习、边查找、边改进。" + OPENING_TAIL,
        dated=True,
    ),
    Kind(
        "organizational_life", "组织生活会", ("组织生活会",), "组织生活会",
        "{unit}关于{dated}查摆问题整改落实情况的通报",
        "{dated}召开以后，{unit}对照会上查摆的问题和党员群众提出的意见建议，逐项制定整改措施，"
        "明确责任和时限，推动整改落实。" + OPENING_TAIL,
        dated=True,
    ),
    Kind(
        "inspection", "巡视巡察反馈", ("巡视", "巡察"), "巡察组",
        "{unit}关于{name}反馈问题整改落实情况的通报",
        "{name}反馈意见后，{unit}把反馈问题整改作为重要政治任务，对照反馈问题逐条制定整改措施，"
        "明确责任领导、责任部门和整改时限，扎实推进整改落实。" + OPENING_TAIL,
    ),
    Kind(
        "audit", "审计发现问题", ("审计",), "审计",
        "{unit}关于{name}发现问题整改落实情况的通报",
        "针对{name}发现的问题，{unit}逐项研究制定整改措施，明确责任部门和整改时限，建立整改台账，"
        "扎实推进整改落实。" + OPENING_TAIL,
        suffix="审计",
    ),
    Kind(
        "supervision", "督察督查反馈", ("督察", "督查"), "督查",
        "{unit}关于{name}反馈意见整改落实情况的通报",
        "{name}反馈意见后，{unit}对照反馈的问题，逐项制定整改措施，明确责任领导、责任部门和整改时限，"
        "扎实推进整改落实。" + OPENING_TAIL,
    ),
    Kind(
        "theme_education", "主题教育检视问题", ("主题教育",), "主题教育",
        "{unit}关于{name}检视问题整改落实情况的通报",
        "{name}开展以来，{unit}坚持边学习、边对照、边检视、边整改，对检视出的问题逐项建立台账、"
        "制定措施、明确时限，推动整改落实。" + OPENING_TAIL,
    ),
    Kind(
        "special_campaign", "专项整治", ("专项整治", "集中整治", "整治"), "专项整治",
        "{unit}关于{name}排查问题整改落实情况的通报",
        "{name}开展以来，{unit}对照整治任务，深入排查问题，逐项建立台账、明确责任、限期整改。" + OPENING_TAIL,
    ),
    Kind(
        GENERAL, "其他整改", (), "",
        "{unit}关于{name}发现问题整改落实情况的通报",
        "针对{name}发现的问题，{unit}逐项制定整改措施，明确责任领导、责任部门和整改时限，扎实推进整改落实。"
        + OPENING_TAIL,
        title_unnamed="{unit}关于{year}年度问题整改落实情况的通报",
        opening_unnamed="为推动问题整改落实落地，{unit}对照整改台账，逐项明确责任领导、责任部门和整改时限，"
        "扎实推进整改工作。" + OPENING_TAIL,
    ),
)  # fmt: skip

KINDS_BY_ID = {kind.id: kind for kind in KINDS}

# what --kind and 整改类型 accept besides the labels (several kinds share none of these)
KIND_ALIASES = {
    "民主生活会": "democratic_life", "专题民主生活会": "democratic_life",
    "组织生活会": "organizational_life", "专题组织生活会": "organizational_life",
    "巡视": "inspection", "巡察": "inspection", "巡视巡察": "inspection", "巡视反馈": "inspection",
    "巡察反馈": "inspection", "巡视整改": "inspection", "巡察整改": "inspection",
    "审计": "audit", "审计整改": "audit", "审计发现": "audit",
    "督察": "supervision", "督查": "supervision", "督察反馈": "supervision", "督查反馈": "supervision",
    "督察督查": "supervision", "督察/督查反馈": "supervision",
    "主题教育": "theme_education", "主题教育检视": "theme_education",
    "专项整治": "special_campaign", "集中整治": "special_campaign",
    "其他": GENERAL, "一般": GENERAL, "一般整改": GENERAL, "通用": GENERAL,
}  # fmt: skip

# template variables for the pattern fields (ledger template --kind)
KIND_TAGS = {"unit": "{{ unit }}", "name": "{{ meeting }}", "year": "{{ year }}"}

# words after the name that the sentence supplies itself (“区委第三巡察组反馈问题” → “区委第三巡察组”)
_NAME_TAIL = re.compile(
    r"(?:(?:反馈|发现|检视|查摆|排查|指出|提出|交办)(?:的)?(?:问题|意见)?|(?:的)?问题|意见)"
    r"(?:整改(?:落实)?(?:工作)?(?:情况)?)?$"
)


def _key(text: str) -> str:
    return re.sub(r"[\s/、，,·]+", "", text or "")


def kind_named(text: str) -> Kind | None:
    """The kind a --kind value or a 整改类型 cell names (a label, an alias or an id), else None."""
    key = _key(text)
    if not key:
        return None
    if key in KINDS_BY_ID:
        return KINDS_BY_ID[key]
    for kind in KINDS:
        if key == _key(kind.label):
            return kind
    if key in KIND_ALIASES:
        return KINDS_BY_ID[KIND_ALIASES[key]]
    return kind_in(key)


def kind_in(text: str) -> Kind | None:
    """The first kind (in KINDS order: a 主题教育专题民主生活会 is a 民主生活会) whose word the text contains."""
    for kind in KINDS:
        if any(word in (text or "") for word in kind.words):
            return kind
    return None


def kind_choices() -> str:
    return "、".join(kind.label for kind in KINDS)


def clean_name(text: str, kind: Kind, year: str = "") -> str:
    """The meeting or source as the patterns need it: no year prefix, no feedback words, the kind's suffix."""
    name = re.sub(r"\s+", "", text or "")
    for prefix in (f"{year}年度", f"{year}年") if year else ():
        name = name.removeprefix(prefix)
    previous = None
    while name and name != previous:
        previous = name
        name = _NAME_TAIL.sub("", name)
    if name and kind.suffix and not name.endswith(kind.suffix):
        name += kind.suffix
    return name


def _fields(kind: Kind, unit: str, year: str, name: str) -> dict[str, str]:
    dated = f"{year}年度{name}" if kind.dated and year else name
    return {"unit": unit, "year": year, "name": name, "dated": dated}


def kind_texts(kind: Kind, *, unit: str, year: str, name: str) -> tuple[str, str]:
    """(title, opening) of a 通报 of this kind; ``name`` already cleaned (may be empty)."""
    title, opening = kind.title, kind.opening
    if not name:
        name = kind.default_name
        title = kind.title_unnamed or title
        opening = kind.opening_unnamed or opening
    fields = _fields(kind, unit, year, name)
    return title.format(**fields), opening.format(**fields)


def kind_template_texts(kind: Kind) -> tuple[str, str]:
    """(title, opening) with template variables in place of the values, for ``ledger template --kind``."""
    fields = dict(KIND_TAGS)
    fields["dated"] = f"{KIND_TAGS['year']}年度{KIND_TAGS['name']}" if kind.dated else KIND_TAGS["name"]
    if not kind.default_name:  # nothing to name (其他整改): the wording that needs no name
        return (kind.title_unnamed or kind.title).format(**fields), (
            kind.opening_unnamed or kind.opening
        ).format(**fields)
    return kind.title.format(**fields), kind.opening.format(**fields)
