"""The ledger workbook's layout: sheet names, rows, columns, colours and the 配置 sheet read back.

One definition shared by the writer (``toolkit.workbook``), the reader (``toolkit.read``), the buttons
(``toolkit.excel``) and the validation marks (``toolkit.xlsx``): the sheet layout is a contract between
them, so it lives here and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from toolkit.config import DEFAULT_CONFIG, FROM_CONFIG_SHEET, Config, normalize_text
from toolkit.errors import ConfigError

# sheet names (user-visible, Chinese)
LEDGER_SHEET = "台账"
STATS_SHEET = "统计"
INFO_SHEET = "通报信息"
CONFIG_SHEET = "配置"
MARKS_SHEET = "_整改台账标记"  # hidden: the cells the 校验台账 button coloured
RESULTS_SHEET = "校验结果"  # created by the button, one row per finding
XLWINGS_CONF_SHEET = "xlwings.conf"  # read by xlwings' VBA module: key in A, value in B, from A1 down

# VBA code names of the sheets, in sheet order; the VBA project must hold one document module per entry
WORKBOOK_CODENAME = "ThisWorkbook"
SHEET_CODENAMES: dict[str, str] = {
    LEDGER_SHEET: "Sheet1",
    STATS_SHEET: "Sheet2",
    INFO_SHEET: "Sheet3",
    CONFIG_SHEET: "Sheet4",
    MARKS_SHEET: "Sheet5",
    XLWINGS_CONF_SHEET: "Sheet6",
}

# captions of the buttons on 台账, left to right; the Sub each runs is toolkit.vba.BUTTON_MACROS[caption]
BUTTON_CAPTIONS: tuple[str, ...] = ("校验台账", "生成通报", "清除标记")

# 台账 layout (1-based Excel rows): title and buttons on row 1, header on row 2, data from row 3
TITLE_ROW = 1
HEADER_ROW = 2
FIRST_DATA_ROW = 3
DATA_ROWS = 5000  # rows covered by dropdowns, date checks, colours and the 统计 formulas
LAST_DATA_ROW = FIRST_DATA_ROW + DATA_ROWS - 1
BUTTON_COL = 6  # buttons sit on the title row from column G

COLUMN_WIDTHS: dict[str, float] = {
    "seq": 6,
    "source": 12,
    "dimension": 22,
    "problem": 40,
    "measures": 40,
    "lead": 10,
    "dept": 14,
    "owner": 10,
    "deadline": 13,
    "progress": 30,
    "status": 11,
    "completed_on": 12,
    "outcome": 30,
    "evidence": 20,
    "remarks": 16,
}

# 配置 layout: three blocks side by side, each under a header cell found by its text
CONFIG_DIMENSIONS_HEADER = "方面列表"
CONFIG_STATUS_HEADERS = ("完成状态", "同义词（用顿号分隔，可增加）", "计入完成率")
CONFIG_PARAM_HEADERS = ("参数", "值")
# 表头对照 (optional, added by the clerk for a ledger laid out elsewhere): two columns under these headers
CONFIG_COLUMNS_HEADERS = ("台账中的表头", "对应字段")
CONFIG_MAX_DIMENSIONS = 200
PARAMS: tuple[tuple[str, str], ...] = (("临期提醒天数", "due_soon_days"), ("完成率小数位数", "rate_decimals"))
# a list parameter (not written by ledger new): the columns whose absence is an error, by their Chinese names
REQUIRED_COLUMNS_PARAM = "必需列"
DIM_COL, STATUS_COL, PARAM_COL, NOTE_COL = 0, 2, 6, 9  # A, C, G, J

# defined names the dropdowns and colours use
NAME_DIMENSIONS = "方面列表"
NAME_STATUSES = "状态列表"
NAME_DUE_SOON = "临期天数"

# 通报信息: key in column A, value in column B; a list key may leave column A blank on continuation rows
INFO_SCALARS: tuple[tuple[str, str], ...] = (
    ("unit", "单位"),
    ("year", "年度"),
    ("meeting", "会议"),
    ("date", "成文日期"),
)
INFO_LISTS: tuple[tuple[str, str], ...] = (("problems", "存在问题"), ("plans", "下一步打算"))

# fill colours shared with the buttons (toolkit.excel) so the legend matches
ERROR_FILL = "#FFC7CE"
WARNING_FILL = "#FFEB9C"
DONE_FILL = "#C6EFCE"

# the hidden marks sheet: one row per cell the 校验台账 button coloured
MARKS_HEADERS = ("工作表", "单元格", "原底色", "标记底色", "添加批注")

# what a finding's severity is called wherever a clerk reads it
SEVERITY_LABELS = {"error": "错误", "warning": "提醒", "info": "提示"}

# sheets the toolkit writes or reads besides the ledger; never taken for a ledger table
AUX_SHEETS = frozenset(
    {INFO_SHEET, CONFIG_SHEET, STATS_SHEET, RESULTS_SHEET, XLWINGS_CONF_SHEET, MARKS_SHEET}
)


# --- the 配置 sheet read back --------------------------------------------------------------------------

_SYNONYM_SPLIT = re.compile(r"[、，,；;／/\s]+")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _find(rows: Sequence[Sequence[object]], header: str) -> tuple[int, int] | None:
    target = normalize_text(header)
    for r, row in enumerate(rows[:20]):
        for c, value in enumerate(row):
            if isinstance(value, str) and normalize_text(value) == target:
                return r, c
    return None


def _cell(rows: Sequence[Sequence[object]], r: int, c: int) -> object:
    if r < len(rows) and c < len(rows[r]):
        return rows[r][c]
    return None


def config_from_rows(
    rows: Sequence[Sequence[object]], base: Config = DEFAULT_CONFIG, *, source: str = "工作簿的“配置”表"
) -> Config:
    """Turn the 配置 sheet grid (row 0 = Excel row 1) back into a Config.

    Honoured: the 方面列表 (replaces ``base.dimensions`` when not empty), extra synonyms per status label
    (appended), and the parameters 临期提醒天数 / 完成率小数位数. Status labels and the 计入完成率 column
    are fixed by the counting rules; an unknown label raises ConfigError. Blocks are found by their header
    text, so inserted columns or rows above do not break it. A grid without any of the headers returns
    ``base`` unchanged.
    """
    dimensions: list[str] | None = None
    found = _find(rows, CONFIG_DIMENSIONS_HEADER)
    if found:
        r0, c = found
        dims = [_text(_cell(rows, r, c)) for r in range(r0 + 1, len(rows))]
        dims = list(dict.fromkeys(d for d in dims if d))
        dimensions = dims or None

    synonyms: dict[str, list[str]] = {}
    found = _find(rows, CONFIG_STATUS_HEADERS[0])
    if found:
        r0, c = found
        for r in range(r0 + 1, len(rows)):
            label = _text(_cell(rows, r, c))
            extra = _text(_cell(rows, r, c + 1))
            if not label:
                if extra:
                    raise ConfigError(
                        f"“{CONFIG_SHEET}”表第 {r + 1} 行填了同义词“{extra}”但没有完成状态，"
                        "请补上状态名称或删除该行。"
                    )
                continue
            words = [w for w in _SYNONYM_SPLIT.split(extra) if w]
            own = next((st for st in base.statuses if label in (st.label, st.id)), None)
            if own is None:
                raise ConfigError(
                    f"“{CONFIG_SHEET}”表中的完成状态“{label}”无法识别；状态名称由统计规则决定，"
                    f"请改回以下之一：{'、'.join(st.label for st in base.statuses)}。"
                )
            for word in words:
                holder = base.status_for(word)
                if holder is None:
                    synonyms.setdefault(label, []).append(word)
                elif holder != own.id:
                    raise ConfigError(
                        f"“{CONFIG_SHEET}”表中“{label}”的同义词“{word}”已经属于“{base.status_spec(holder).label}”，"
                        "请删去其中一处。"
                    )

    scalars: dict[str, int] = {}
    required: list[str] | None = None
    found = _find(rows, CONFIG_PARAM_HEADERS[0])
    if found:
        r0, c = found
        known = dict(PARAMS)
        for r in range(r0 + 1, len(rows)):
            name = _text(_cell(rows, r, c))
            raw = _cell(rows, r, c + 1)
            if not name:
                continue
            if name == REQUIRED_COLUMNS_PARAM:
                required = [w for w in _SYNONYM_SPLIT.split(_text(raw)) if w] or None
                continue
            if name not in known:
                raise ConfigError(
                    f"“{CONFIG_SHEET}”表中的参数“{name}”无法识别，可用的参数有："
                    f"{'、'.join([*known, REQUIRED_COLUMNS_PARAM])}。"
                )
            if raw is None or raw == "":
                continue
            value = _int_param(raw)
            if value is None:
                raise ConfigError(
                    f"“{CONFIG_SHEET}”表中的“{name}”应为不小于 0 的整数，现在是“{_text(raw)}”。"
                )
            scalars[known[name]] = value

    corrections: list[tuple[str, str]] = []
    found = _find(rows, CONFIG_COLUMNS_HEADERS[0])
    if found:  # 表头对照: the ledger's own header | the field it is (Chinese name)
        r0, c = found
        for r in range(r0 + 1, len(rows)):
            header, name = _text(_cell(rows, r, c)), _text(_cell(rows, r, c + 1))
            if header or name:
                corrections.append((header, name))

    # the status block with its 计入完成率 column is what ledger new writes: this workbook is laid out by us
    own_layout = _find(rows, CONFIG_STATUS_HEADERS[2]) is not None
    if (
        dimensions is None
        and not synonyms
        and not scalars
        and required is None
        and not own_layout
        and not corrections
    ):
        return base
    try:
        config = base.with_overrides(
            synonyms=synonyms or None,
            dimensions=dimensions,
            source=source,
            required_columns=required,
            own_layout=own_layout or None,
            **scalars,
        )
    except ConfigError as exc:
        raise ConfigError(f"“{CONFIG_SHEET}”表：{exc}") from None
    return config.with_corrections(corrections, FROM_CONFIG_SHEET) if corrections else config


def _int_param(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        try:
            value = float(normalize_text(str(raw)))
        except ValueError:
            return None
    if not value.is_integer() or value < 0:
        return None
    return int(value)
