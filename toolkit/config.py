"""The ledger schema as data: fields and their header aliases, the status vocabulary, the dimension list.

Rules read these tables; nothing here is code paths. A TOML file (``--config``) or the workbook's
配置 sheet may extend the aliases and synonyms and set the dimension list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from toolkit.errors import ConfigError

# requirement levels for a field's cell
REQUIRED = "required"  # empty cell is an error
WARN_IF_EMPTY = "warn"  # empty cell is a warning
OPTIONAL = "optional"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    id: str
    header: str
    aliases: tuple[str, ...] = ()
    requirement: str = OPTIONAL

    @property
    def names(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("seq", "序号", ("编号",)),
    FieldSpec("source", "问题来源", ("来源",)),
    FieldSpec("dimension", "方面", ("问题类别", "类别", "问题方面", "整改方面", "维度"), REQUIRED),
    FieldSpec("problem", "问题描述", ("存在问题", "问题表现", "具体表现", "问题清单", "主要问题"), REQUIRED),
    FieldSpec("measures", "整改措施", ("整改举措", "措施"), REQUIRED),
    FieldSpec("lead", "责任领导", ("牵头领导", "分管领导"), WARN_IF_EMPTY),
    FieldSpec("dept", "责任部门", ("责任单位", "牵头部门", "牵头单位", "责任科室"), REQUIRED),
    FieldSpec("owner", "责任人", ("具体责任人", "经办人"), REQUIRED),
    FieldSpec("deadline", "整改时限", ("完成时限", "时限", "整改期限", "完成期限"), REQUIRED),
    FieldSpec("progress", "整改进展", ("进展情况", "整改进展情况", "推进情况")),
    FieldSpec("status", "完成状态", ("完成情况", "整改状态", "整改情况", "状态"), REQUIRED),
    FieldSpec("completed_on", "完成时间", ("完成日期", "办结时间", "销号时间")),
    FieldSpec("outcome", "整改成效", ("成效", "取得成效")),
    FieldSpec("evidence", "佐证材料", ("佐证", "证明材料", "支撑材料")),
    FieldSpec("remarks", "备注", ()),
)

FIELD_LABELS: dict[str, str] = {f.id: f.header for f in FIELDS}

# a correction may say a column is no field at all (配置 表头对照 / --columns "备注2=不使用")
UNUSED_FIELD_NAMES = ("不使用", "无", "忽略", "不统计")
# where a header correction came from; the command line wins over the workbook, the workbook over TOML
FROM_COMMAND_LINE = "命令行 --columns "
FROM_CONFIG_SHEET = "“配置”表的表头对照"


@dataclass(frozen=True, slots=True)
class HeaderCorrection:
    """The clerk's word on one column: the header as written in the ledger → a field id ("" = none)."""

    header: str
    field: str
    origin: str


@dataclass(frozen=True, slots=True)
class StatusSpec:
    id: str
    label: str
    synonyms: tuple[str, ...]
    completed: bool
    counted: bool = True  # False: out of the total (不适用, 已合并)


# fmt: off
STATUSES: tuple[StatusSpec, ...] = (
    StatusSpec("completed", "已完成", ("已整改", "完成整改", "整改到位", "已办结", "完成", "已完成整改",
                                      "已整改到位", "已全部完成", "全部完成", "整改完成", "已整改完成", "办结",
                                      "已落实", "落实到位"), True),
    StatusSpec("closed", "已销号", ("已整改销号", "销号"), True),
    StatusSpec("substantially_done", "基本完成", ("基本整改到位", "基本完成整改"), False),
    StatusSpec("long_term", "长期坚持", ("持续整改", "持续推进", "长期推进", "长期整改", "持续落实"), False),
    StatusSpec("in_progress", "正在整改", ("整改中", "推进中", "正在推进", "部分整改", "进行中", "正在进行",
                                       "正在推进中", "阶段性完成", "部分完成", "未完成", "未办结", "整改未完成",
                                       "正在落实"), False),
    StatusSpec("extended", "申请延期", ("已延期",), False),
    StatusSpec("not_started", "未启动", ("未整改", "尚未启动", "未开始", "尚未整改"), False),
    StatusSpec("undecided", "待定", ("待研究", "待明确"), False),
    StatusSpec("excluded", "不适用", ("已合并",), False, counted=False),
)
# fmt: on

# A yes/no column (是否完成, 是否办结 …) answers one question: these words are its answers, in any status
# column. "Yes" is 已完成 (已销号 when the header asks 是否销号); "no" is 正在整改: the item is not done and
# nothing says it has not been started.
YES_WORDS: tuple[str, ...] = ("是", "√", "✓", "✔", "☑", "Y", "YES", "已")
NO_WORDS: tuple[str, ...] = ("否", "×", "✗", "✘", "☒", "X", "N", "NO", "未", "不")
YES_STATUS = "completed"
YES_STATUS_BY_HEADER: tuple[tuple[str, str], ...] = (("销号", "closed"),)  # header word → what "yes" means
NO_STATUS = "in_progress"

# Reading a status out of narrative text (整改完成情况 "一是……二是……已全部完成"): it counts as completed
# only when it says so and nothing in it says otherwise. Anything else is not completed, never guessed.
NARRATIVE_DONE: tuple[str, ...] = ("已全部完成", "全部完成", "已完成整改", "完成整改", "已整改到位", "整改到位",
                                   "已整改完成", "整改完成", "已全部整改", "已办结", "已销号", "已完成", "已整改",
                                   "已落实到位", "已落实")  # fmt: skip
NARRATIVE_DOUBT: tuple[str, ...] = ("正在", "持续", "继续", "下一步", "尚未", "未", "没有", "不", "仍", "还",
                                    "将", "拟", "计划", "推进", "部分", "基本", "阶段", "逐步", "长期", "待",
                                    "延期", "争取", "力争", "确保", "预计", "初步", "启动", "前完成", "底前",
                                    "?", "？")  # fmt: skip
# a status cell longer than this (or with sentence punctuation) is narrative text, not a status word
NARRATIVE_MIN_CHARS = 8

STATUS_LABELS: dict[str, str] = {s.id: s.label for s in STATUSES}

# What counting needs: a missing column among these is an error in any ledger (status may be read from
# 整改进展 instead). In a ledger laid out elsewhere every other missing column is a warning; in one made by
# ``ledger new`` (Config.own_layout) every required field's column is an error, as its header promises.
COUNTING_FIELDS: tuple[str, ...] = ("problem", "status")
COMPLETED_STATUSES = frozenset(s.id for s in STATUSES if s.completed)
# still being worked on: judged overdue against a dated deadline (long-term and excluded items never are)
OPEN_STATUSES = frozenset(s.id for s in STATUSES if not s.completed and s.counted and s.id != "long_term")


_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


_HAS_FULL_WIDTH = re.compile("[\uff01-\uff5e]")


def normalize_text(text: str) -> str:
    """Fold what clerks vary without meaning to: full-width forms, spaces, line breaks."""
    if _HAS_FULL_WIDTH.search(text):  # translate() is slow on CJK text: only when there is work to do
        text = text.translate(_FULL_WIDTH)
    return "".join(text.split())


# the range each number in a config may take (a 配置 sheet is untrusted input: 10**20 decimals are no rate)
SCALAR_LIMITS: dict[str, tuple[int, int, str]] = {
    "due_soon_days": (0, 3650, "临期提醒天数"),
    "rate_decimals": (0, 6, "完成率小数位数"),
    "max_findings": (0, 10_000_000, "最多列出的问题数（max_findings）"),
}


@dataclass(frozen=True)
class Config:
    fields: tuple[FieldSpec, ...] = FIELDS
    statuses: tuple[StatusSpec, ...] = STATUSES
    dimensions: tuple[str, ...] = ()  # empty: any dimension is accepted
    due_soon_days: int = 7
    rate_decimals: int = 1
    max_findings: int = 1000
    source: str = "内置默认配置"
    corrections: tuple[HeaderCorrection, ...] = ()
    # columns whose absence is an error; None: COUNTING_FIELDS, or every required field when own_layout
    required_columns: tuple[str, ...] | None = None
    own_layout: bool = False  # the workbook was made by ``ledger new`` (its 配置 sheet says so)
    _header_index: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    _status_index: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    _correction_index: dict[str, HeaderCorrection] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        headers: dict[str, str] = {}
        for spec in self.fields:
            for name in spec.names:
                headers.setdefault(normalize_text(name), spec.id)
        statuses: dict[str, str] = {}
        for status in self.statuses:
            for name in (status.label, *status.synonyms):
                statuses.setdefault(normalize_text(name), status.id)
        corrections: dict[str, HeaderCorrection] = {}
        for correction in self.corrections:  # later wins, except over the command line's
            key = normalize_text(correction.header)
            held = corrections.get(key)
            if held is None or held.origin != FROM_COMMAND_LINE or correction.origin == FROM_COMMAND_LINE:
                corrections[key] = correction
        object.__setattr__(self, "_header_index", headers)
        object.__setattr__(self, "_status_index", statuses)
        object.__setattr__(self, "_correction_index", corrections)

    def field_for_header(self, text: str) -> str | None:
        return self._header_index.get(normalize_text(text))

    def correction_for(self, text: str) -> HeaderCorrection | None:
        """The clerk's correction for a header as written, if any (spacing and full-width forms aside)."""
        return self._correction_index.get(normalize_text(text)) if self._correction_index else None

    def field_named(self, name: str) -> str | None:
        """A field id from what a clerk calls it: 责任部门, an alias such as 责任单位, or the id; "" for 不使用."""
        key = normalize_text(str(name))
        return "" if key in UNUSED_FIELD_NAMES else self.field_id(key)

    def field_names_hint(self) -> str:
        """The field names a correction may use, for messages."""
        return "、".join(spec.header for spec in self.fields) + f"（或“{UNUSED_FIELD_NAMES[0]}”）"

    def with_corrections(self, pairs: list[tuple[str, str]], origin: str) -> Config:
        """A new config whose listed headers map to the named fields (Chinese names, aliases or ids)."""
        added = []
        for header, name in pairs:
            if not normalize_text(str(name)):
                raise ConfigError(
                    f"{origin}中“{header}”没有写对应的字段，请写上字段名或删去这一项；字段名有：{self.field_names_hint()}。"
                )
            field_id = self.field_named(name)
            if field_id is None:
                raise ConfigError(
                    f"{origin}中“{header}”对应的字段“{name}”无法识别，请改用以下字段名之一：{self.field_names_hint()}。"
                )
            if not normalize_text(header):
                raise ConfigError(
                    f"{origin}中有一项没有写台账中的表头（对应“{name}”），请补上表头或删去这一项。"
                )
            added.append(HeaderCorrection(str(header).strip(), field_id, origin))
        return replace(self, corrections=self.corrections + tuple(added))

    def status_for(self, text: str) -> str | None:
        return self._status_index.get(normalize_text(text))

    def columns_required(self) -> frozenset[str]:
        """The fields whose missing column is an error (see COUNTING_FIELDS)."""
        if self.required_columns is not None:
            return frozenset(self.required_columns)
        if self.own_layout:
            return frozenset(f.id for f in self.fields if f.requirement == REQUIRED)
        return frozenset(COUNTING_FIELDS)

    def field_id(self, name: str) -> str | None:
        """A field named by its id or any of its header names (问题描述, 责任人 …)."""
        if any(f.id == name for f in self.fields):
            return name
        return self.field_for_header(name)

    def spec(self, field_id: str) -> FieldSpec:
        for spec in self.fields:
            if spec.id == field_id:
                return spec
        raise KeyError(field_id)

    def status_spec(self, status_id: str) -> StatusSpec:
        for spec in self.statuses:
            if spec.id == status_id:
                return spec
        raise KeyError(status_id)

    def with_overrides(
        self,
        *,
        aliases: dict[str, list[str]] | None = None,
        synonyms: dict[str, list[str]] | None = None,
        dimensions: list[str] | None = None,
        source: str | None = None,
        required_columns: list[str] | None = None,
        own_layout: bool | None = None,
        **scalars: int,
    ) -> Config:
        """A new config with extra aliases/synonyms appended and scalars replaced."""
        for key, value in scalars.items():
            low, high, label = SCALAR_LIMITS[key]
            if not low <= value <= high:
                raise ConfigError(f"{label}应在 {low} 到 {high} 之间，现在是“{value}”，请修改后重试。")
        fields = self.fields
        if aliases:
            by_id: dict[str, list[str]] = {}
            for key, words in aliases.items():
                field_id = self.field_named(key)
                if not field_id:
                    raise ConfigError(
                        f"配置中的字段“{key}”无法识别，请使用以下字段名之一："
                        f"{'、'.join(f'{f.header}（{f.id}）' for f in fields)}。"
                    )
                by_id.setdefault(field_id, []).extend(str(a) for a in words)
            fields = tuple(replace(f, aliases=f.aliases + tuple(by_id.get(f.id, ()))) for f in fields)
        statuses = self.statuses
        if synonyms:
            known = {s.id for s in statuses} | {s.label for s in statuses}
            for key in synonyms:
                if key not in known:
                    raise ConfigError(
                        f"配置中的状态“{key}”无法识别，请使用以下状态之一："
                        f"{'、'.join(s.label for s in statuses)}。"
                    )
            statuses = tuple(
                replace(
                    s,
                    synonyms=s.synonyms
                    + tuple(str(x) for x in synonyms.get(s.id, ()))
                    + tuple(str(x) for x in synonyms.get(s.label, ())),
                )
                for s in statuses
            )
        return Config(
            fields=fields,
            statuses=statuses,
            dimensions=tuple(dimensions) if dimensions is not None else self.dimensions,
            due_soon_days=int(scalars.get("due_soon_days", self.due_soon_days)),
            rate_decimals=int(scalars.get("rate_decimals", self.rate_decimals)),
            max_findings=int(scalars.get("max_findings", self.max_findings)),
            source=source or self.source,
            corrections=self.corrections,
            required_columns=self._required_ids(required_columns)
            if required_columns is not None
            else self.required_columns,
            own_layout=self.own_layout if own_layout is None else own_layout,
        )

    def _required_ids(self, names: list[str]) -> tuple[str, ...]:
        ids = []
        for name in names:
            field_id = self.field_id(str(name).strip())
            if field_id is None:
                raise ConfigError(
                    f"必需列中的“{name}”无法识别，请写列名，例如：{'、'.join(f.header for f in self.fields[:4])}。"
                )
            ids.append(field_id)
        return tuple(dict.fromkeys(ids))


DEFAULT_CONFIG = Config()

_TOML_KEYS = {
    "dimensions",
    "aliases",
    "statuses",
    "columns",
    "due_soon_days",
    "rate_decimals",
    "max_findings",
    "required_columns",
}


def load_config(path: str | Path | None, base: Config = DEFAULT_CONFIG) -> Config:
    """Read a TOML config; see README 配置文件 for the keys."""
    if path is None:
        return base
    import tomllib  # only with --config: the click path stays light

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件“{path}”，请检查路径。") from None
    except IsADirectoryError:
        raise ConfigError(f"“{path}”是一个文件夹，请指定 .toml 配置文件。") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"配置文件“{path}”格式有误（{exc}），请按 TOML 格式修改后重试。") from None
    unknown = set(data) - _TOML_KEYS
    if unknown:
        raise ConfigError(
            f"配置文件“{path}”中的“{'、'.join(sorted(unknown))}”无法识别，"
            f"可用的项目有：{'、'.join(sorted(_TOML_KEYS))}。"
        )
    scalars: dict[str, int] = {}
    for key in ("due_soon_days", "rate_decimals", "max_findings"):
        if key in data:
            value = data[key]
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"配置文件“{path}”中的 {key} 应为非负整数，现在是“{value}”。")
            scalars[key] = value
    dimensions = data.get("dimensions")
    if dimensions is not None and (
        not isinstance(dimensions, list) or not all(isinstance(d, str) and d.strip() for d in dimensions)
    ):
        raise ConfigError(f'配置文件“{path}”中的 dimensions 应为文字列表，例如 dimensions = ["理论学习"]。')
    required = data.get("required_columns")
    if required is not None and (
        not isinstance(required, list) or not all(isinstance(r, str) for r in required)
    ):
        raise ConfigError(
            f'配置文件“{path}”中的 required_columns 应为列名列表，例如 required_columns = ["问题描述", "完成状态"]。'
        )
    for key in ("aliases", "statuses"):
        table = data.get(key, {})
        if not isinstance(table, dict) or not all(isinstance(v, list) for v in table.values()):
            raise ConfigError(f"配置文件“{path}”中的 [{key}] 每一项应为文字列表。")
    columns = data.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise ConfigError(f'配置文件“{path}”中的 [columns] 每一项应写成 "台账中的表头" = "字段名"。')
    config = base.with_overrides(
        aliases=data.get("aliases"),
        synonyms=data.get("statuses"),
        dimensions=[d.strip() for d in dimensions] if dimensions is not None else None,
        source=str(path),
        required_columns=required,
        **scalars,
    )
    return (
        config.with_corrections(list(columns.items()), f"配置文件“{path}”的 [columns] ")
        if columns
        else config
    )


def parse_columns_option(text: str) -> list[tuple[str, str]]:
    """ "主责单位=责任部门,内容=问题描述" → pairs (full-width ，＝；、 accepted: clerks type them)."""
    pairs = []
    for piece in re.split(r"[,，;；、\n]+", text):
        header, sep, name = piece.replace("＝", "=").partition("=")
        if not piece.strip():
            continue
        if not sep or not header.strip() or not name.strip():
            raise ConfigError(
                f"--columns 中的“{piece.strip()}”看不懂：每一项应写成“台账中的表头=字段名”，"
                '例如 --columns "主责单位=责任部门,内容=问题描述"。'
            )
        pairs.append((header.strip(), name.strip()))
    return pairs
