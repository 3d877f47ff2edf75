"""Read stage: any real ledger workbook → a Ledger of Items.

Finds the ledger sheet and its header row below title rows, maps headers through the
aliases, fills vertically merged cells down, takes dimensions from section-title rows,
skips blank, 合计 and note rows, and parses statuses and dates — keeping the raw text.
The cell grids come from toolkit.sources (after toolkit.guard has sniffed the file); the columns are
read whole by toolkit.columns.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from toolkit.columns import (
    ERROR_TOKENS,
    DateColumns,
    Fills,
    Merge,
    NumberTexts,
    blank_or_text,
    cell_text,
    fill_columns,
    grid_columns,
    merges_below,
    per_value,
    seq_column,
    text_column,
)
from toolkit.config import DEFAULT_CONFIG, OPTIONAL, Config, normalize_text
from toolkit.dates import written_year
from toolkit.errors import NoLedgerError
from toolkit.guard import sniff
from toolkit.headers import (
    Header,
    best_guess,
    check_corrections,
    column_number_row,
    locate_header,
    no_header_message,
    repeated_header_offsets,
)
from toolkit.layout import AUX_SHEETS, CONFIG_SHEET, INFO_LISTS, INFO_SCALARS, INFO_SHEET, config_from_rows
from toolkit.model import ItemColumns, LazyTexts, Ledger, YearGuess
from toolkit.sources import Merged, Source, open_source
from toolkit.status import FALLBACK_FIELD, StatusReader, status_field

_CN_NUM = "一二三四五六七八九十"
_SECTION = re.compile(
    rf"^(?:[{_CN_NUM}]+\s*[、.．]|[（(]\s*[{_CN_NUM}\d]+\s*[)）]|第[{_CN_NUM}\d]+(?:部分|方面|类)\s*[：:、.．]?|"
    r"[A-Za-z][、.．]|[【〔\[])\s*"
)
_SECTION_TAIL = re.compile(
    r"[】〕\]]?\s*(?:[（(]\s*共?\s*\d+\s*[项个条件]\s*[)）]|共\s*\d+\s*[项个条件])?\s*"
    r"(?:方面)?(?:存在的?问题|的问题|问题)?[：:。;；\s】〕\]]*$"
)
# a count beside a section title (一、理论学习方面 | 共5项): it does not make the row an item
_COUNT = re.compile(r"^(?:共\s*\d+\s*[项个条件]?|\d+\s*[项个条件])$")
_COUNT_TAIL = re.compile(r"\s*(?:[（(]\s*共?\s*\d+\s*[项个条件]\s*[)）]|共\s*\d+\s*[项个条件])\s*$")
_ARABIC = re.compile(r"^\d{1,2}\s*[、.．]\s*")
# a section's number alone in its cell (一 | 理论学习方面: the number in 序号, the name beside it)
_SECTION_NUMBER = re.compile(
    rf"^(?:[{_CN_NUM}]+\s*[、.．]?|[（(]\s*[{_CN_NUM}]+\s*[)）]|第[{_CN_NUM}\d]+(?:部分|方面|类)\s*[：:、.．]?)$"
)
_SUM_ROW = re.compile(r"^(?:合\s*计|总\s*计|小\s*计|共\s*计)")
_NOTE_ROW = re.compile(
    r"^(?:备\s*注|注|说\s*明|填\s*[表报]\s*说\s*明|附\s*[件表]?|填\s*[表报]\s*人?|制\s*表\s*人?|审\s*[核批]\s*人?|联\s*系\s*(?:人|电\s*话|方\s*式)?|"
    r"签\s*发\s*人?|负\s*责\s*人|填\s*[表报]\s*(?:日期|时间))\s*[：:\d、.．]"
)
# a lone sentence under the table about the table itself (本表数据截至…, （此页无正文）): no item
_TAIL_NOTE = re.compile(
    r"^(?:本\s*表|此\s*表|以\s*上|上\s*述|数\s*据\s*截\s*[至止]|截\s*[至止]|[（(]?\s*此页无正文)"
)
# the labels of the signature lines under a table (填报人：… 审核人：… 联系电话：… 日期：…)
_SIGNATURE = re.compile(
    r"^(?:填\s*[表报]\s*(?:人|单位|日期|时间)|制\s*表\s*(?:人|日期)?|审\s*[核批定]\s*人?|联\s*系\s*(?:人|电\s*话|方\s*式)|"
    r"电\s*话|手\s*机|签\s*发\s*人?|(?:主要|单位|分管)?\s*负\s*责\s*人|分\s*管\s*领\s*导|日\s*期|时\s*间|"
    r"(?:单\s*位\s*)?[（(]?\s*盖\s*章\s*[)）]?)\s*[：:]"
)
# a stacked table's title (表二 专项任务, 表一 理论学习方面问题整改台账): its number and the kind of list it is
# say nothing of its items, the rest is their 方面; 续表 and page lines carry the 方面 above on
_TABLE_NUMBER = re.compile(rf"^(?:附\s*)?表\s*(?:[{_CN_NUM}]+|\d+)\s*[：:、.．\-—]?\s*")
_TABLE_KIND = re.compile(
    r"(?:存在的?)?(?:问题)?(?:整改|整治)?(?:落实)?(?:情况)?(?:台账|清单|一览表|明细表|统计表|汇总表|任务表)$"
)
_CONTINUED = re.compile(r"^[（(]?\s*(?:续\s*上?\s*表|接\s*上\s*表|第\s*\d+\s*页)")
_SUM_FIRST = frozenset(" 合总小共\u3000")
# first characters that make a row worth a look: a 合计 line, or a blank-looking first cell
_CHECK_FIRST = _SUM_FIRST | frozenset(c for c in map(chr, range(0x3001)) if c.isspace())

# 通报信息 keys: the labels ``ledger new`` writes (toolkit.layout), and other words clerks use for them
INFO_KEYS = {label: key for key, label in (*INFO_SCALARS, *INFO_LISTS)} | {
    "填报单位": "unit", "单位名称": "unit", "发文单位": "unit",
    "年份": "year",
    "会议名称": "meeting", "整改来源": "meeting", "巡察组": "meeting", "巡视组": "meeting",
    "整改类型": "kind", "整改类别": "kind", "问题来源类型": "kind",
    "日期": "date", "通报日期": "date",
    "存在的问题": "problems",
    "下一步工作打算": "plans", "下一步工作": "plans",
}  # fmt: skip
LIST_INFO = frozenset(key for key, _ in INFO_LISTS)


def read_ledger(
    path: str | Path, sheet: str | None = None, config: Config = DEFAULT_CONFIG, *, as_of: date | None = None
) -> Ledger:
    """Read the ledger in ``path``; raise a LedgerError subclass when it cannot be used.

    ``as_of``: the date it will be judged on (the year of last resort for "6月底前")."""
    path = Path(path)
    package = sniff(path)
    source = open_source(package)
    try:
        return _read_from_source(source, path, sheet, config, as_of)
    finally:
        source.close()


def _read_from_source(
    source: Source, path: Path, sheet: str | None, config: Config, as_of: date | None = None
) -> Ledger:
    names = source.sheet_names()
    info_rows = source.load(INFO_SHEET)[0] if INFO_SHEET in names else None
    if CONFIG_SHEET in names:  # the workbook's own settings (ledger new writes them) go on top
        config = config_from_rows(source.load(CONFIG_SHEET)[0], base=config)
    if sheet is not None:
        if sheet not in names:
            raise NoLedgerError(
                f"工作簿“{path.name}”中没有名为“{sheet}”的工作表，现有工作表：{'、'.join(names)}。"
            )
        candidates = [sheet]
    else:
        candidates = [n for n in source.ordered_names() if n not in AUX_SHEETS]
    tried = []
    guess: tuple[str, tuple[int, list]] | None = None
    for name in candidates:
        rows, merged, errors = source.load(name)
        if (header := locate_header(rows, merged, config)) is None:
            tried.append(name)
            seen = best_guess(rows, config)
            if seen is not None and (guess is None or _guess_key(seen) > _guess_key(guess[1])):
                guess = (name, seen)
            continue
        return ledger_from_rows(
            rows,
            sheet=name,
            path=str(path),
            merged=merged,
            info_rows=info_rows,
            config=config,
            formula_errors=errors,
            date1904=source.date1904,
            sheet_names=names,
            error_like_text=source.error_like_text(name),
            found_header=header,
            as_of=as_of,
        )
    if guess is not None:
        where = f"工作表“{guess[0]}”" + (f"（共查看了 {len(tried)} 个工作表）" if len(tried) > 1 else "")
        raise NoLedgerError(no_header_message(where, guess[1], config))
    shown = "、".join(tried[:5]) + (f"等 {len(tried)} 个工作表" if len(tried) > 5 else "")
    where = f"工作表“{shown}”" if tried else f"工作簿“{path.name}”"
    raise NoLedgerError(no_header_message(where, None, config))


def _guess_key(guess: tuple[int, list]) -> tuple[int, int]:
    uses = guess[1]
    return sum(1 for u in uses if u.field), len(uses)


# --- from a grid to a Ledger ---------------------------------------------------------------------


def section_name(text: str) -> str | None:
    """ "一、理论学习方面" / "（二）作风建设" → the dimension; None when not a section title."""
    stripped = text.strip()
    if len(stripped) > 60:
        return None
    match = _SECTION.match(stripped)
    if match is None:
        if not normalize_text(_COUNT_TAIL.sub("", stripped)).endswith("方面"):
            return None
        match = _ARABIC.match(stripped)  # 1、理论学习方面: numbered, and named a 方面
    name = stripped[match.end() :] if match else stripped
    return clean_dimension(name) or None


def table_title(text: str) -> str | None:
    """A stacked table's title → the 方面 of its items ("" when it names none: 表二 alone); None when the row
    is no title (续表, a page line, a note) and the 方面 above goes on."""
    stripped = text.strip()
    if len(stripped) > 60 or _CONTINUED.match(stripped):
        return None
    if not _TABLE_NUMBER.match(stripped) and _is_note(stripped):  # 附表1 is a table, 附件：… a note
        return None
    if (name := section_name(stripped)) is not None:
        return name
    name = _TABLE_KIND.sub("", _TABLE_NUMBER.sub("", _COUNT_TAIL.sub("", stripped)).strip())
    return clean_dimension(name) if name.strip() else ""


def _is_note(text: str) -> bool:
    """注：…, 合计, 填报人：…, 本表数据截至…: a line about the table, never its title."""
    return bool(
        _SUM_ROW.match(text) or _NOTE_ROW.match(text) or _SIGNATURE.match(text) or _TAIL_NOTE.match(text)
    )


def _first_table_title(rows: Sequence[Sequence[object]], header: int) -> str:
    """The first of stacked tables: its title is the one-cell row just above its header, when that is
    numbered as a table or section (表一, 一、) or the sheet's own title stands above it."""
    above = header - 1
    while above >= 0 and not _row_texts(rows[above]):
        above -= 1
    texts = _row_texts(rows[above]) if above >= 0 else []
    if len(texts) != 1:
        return ""
    numbered = _TABLE_NUMBER.match(texts[0]) or section_name(texts[0]) is not None
    if not numbered and not any(_row_texts(r) for r in rows[:above]):
        return ""  # a lone title over the first table is the sheet's: 某局整改台账
    return table_title(texts[0]) or ""


def _row_texts(row: Sequence[object]) -> list[str]:
    return [t for t in (cell_text(v).strip() for v in row) if t]


def clean_dimension(text: str) -> str:
    """One spelling per dimension: no numbering, no trailing 方面/问题 or punctuation."""
    name = text.strip()
    if m := _SECTION.match(name):
        name = name[m.end() :]
    name = _SECTION_TAIL.sub("", _COUNT_TAIL.sub("", name)).strip()  # 作风方面存在的问题（共2项）
    return name.removesuffix("方面").strip() or text.strip()


def read_info(rows: Iterable[Sequence[object]] | None) -> dict[str, object]:
    """The 通报信息 sheet (项目 | 内容, list keys repeated or left blank on continuation rows)."""
    info: dict[str, object] = {}
    if rows is None:
        return info
    current: str | None = None
    for row in rows:
        key_text = normalize_text(cell_text(row[0])) if row else ""
        value = row[1] if len(row) > 1 else None
        if key_text:
            current = INFO_KEYS.get(key_text.rstrip(":："))
            if current is None:
                continue
        elif current not in LIST_INFO:
            continue
        if current is None:
            continue
        text = cell_text(value).strip() if not isinstance(value, date) else value
        if current in LIST_INFO:
            if text:
                info.setdefault(current, []).append(text)  # type: ignore[union-attr]
        elif text:
            info[current] = text
    return info


def _year_hint(
    info: dict[str, object], title: str, deadlines: Sequence[object], as_of: date | None = None
) -> YearGuess:
    """The year for dates written without one: 通报信息's 年度, the title, the 成文日期, the year most
    deadlines name, the as-of date, today (toolkit.model.YEAR_SOURCES)."""
    info_year = info.get("year")
    if info_year is not None and (m := re.search(r"20\d{2}", str(info_year))):
        return YearGuess(int(m.group()), "info")
    if year := written_year(title):
        return YearGuess(year, "title")
    written = info.get("date")
    if isinstance(written, date):
        return YearGuess(written.year, "info_date")
    if written is not None and (year := written_year(str(written))):
        return YearGuess(year, "info_date")
    years: Counter[int] = Counter()
    for value in deadlines[:2000]:
        if isinstance(value, date):
            years[value.year] += 1
        elif type(value) is str and (year := written_year(value)):
            years[year] += 1
    if years:
        return YearGuess(years.most_common(1)[0][0], "deadlines")
    if as_of is not None:
        return YearGuess(as_of.year, "as_of")
    return YearGuess(date.today().year, "today")


def ledger_from_rows(
    rows: list[list[object]],
    *,
    sheet: str,
    path: str = "",
    merged: Merged = (),
    info_rows: list[list[object]] | None = None,
    config: Config = DEFAULT_CONFIG,
    formula_errors: dict[tuple[int, int], str] | None = None,
    date1904: bool = False,
    sheet_names: Sequence[str] = (),
    origin: tuple[int, int] = (0, 0),
    error_like_text: bool = True,
    found_header: Header | None = None,
    as_of: date | None = None,
) -> Ledger:
    """The read logic on a grid whose first row is Excel row 1 (the xlwings binding uses this).

    ``error_like_text=False`` (the guard's scan saw no text that could read "#REF!") lets the
    optional text columns wait untouched until someone asks for their texts. ``found_header``:
    what locate_header gave for these rows, when the caller has looked already. ``as_of``: the date the
    ledger is judged on, the year of last resort for dates written without one.

    A 100k-row ledger is 1.5M cells, and every pass over a column costs about as much as the
    next, so each column is read once at C speed: text columns through one join, the others
    (status, 方面, dates, 序号) through one lookup of each distinct value. Python loops run only
    over distinct values and over the few rows that need a closer look (titles, notes, 合计).
    """
    found = found_header or locate_header(rows, merged, config)
    if found is None:
        raise NoLedgerError(no_header_message(f"工作表“{sheet}”", best_guess(rows, config), config))
    check_corrections(found, config)
    header = found.row
    columns = dict(found.columns)
    headers = found.texts
    first_data = header + found.rows
    if first_data < len(rows) and column_number_row(rows[first_data]):  # 1 2 3 … under the header
        first_data += 1
    title = next(
        (cell_text(v).strip() for r in rows[:header] for v in r if type(v) is str and v.strip()),
        "",
    )
    info = read_info(info_rows)
    if formula_errors:
        rows = _with_errors(rows, formula_errors)
    end = _end_of_table(rows, first_data)
    if end < len(rows):  # notes and signatures below the table: as if the sheet ended above them
        rows = rows[:end]
    body = rows[first_data:]
    raw = grid_columns(body, columns)
    repeats = repeated_header_offsets(body, raw, found) if body else []
    # stacked tables with no 方面 column: each table's title gives the 方面 of its items
    titles: dict[int, str] = {}
    drop = _around_repeats(body, repeats, None if "dimension" in columns else titles)
    first_section = _first_table_title(rows, header) if titles else ""
    merges = merges_below(rows, merged, first_data)
    fills = fill_columns(raw, columns, merges, len(body))

    # text columns: one join each tells whether all cells are text, which look blank, which are tokens
    texts: dict[str, Sequence[str]] = {}
    no_blanks: set[str] = set()
    tokens: dict[str, list[tuple[int, str]]] = {}
    unspaced: set[str] = set()
    joined: dict[str, str] = {}
    for f in columns:
        if f not in _VALUE_FIELDS and (
            error_like_text or f in _JUDGED or config.spec(f).requirement != OPTIONAL
        ):
            texts[f], tokens[f], has_blank, has_space, whole = text_column(
                raw[f], probe_spaces=f == "problem"
            )
            if whole is not None and f in _KEEP_JOINED:
                joined[f] = whole
            if not has_blank:
                no_blanks.add(f)
            if not has_space:
                unspaced.add(f)
    # value columns: each distinct cell value is judged once
    status_from = status_field(columns)
    reader = StatusReader(
        config,
        headers.get(status_from or "", ""),
        fallback=status_from == FALLBACK_FIELD,
        skip=ERROR_TOKENS,
        to_text=cell_text,
    )
    statuses = per_value(
        raw.get(status_from) if status_from else None,
        reader,
        tokens.setdefault("status", []) if status_from == "status" else [],
    )
    dim_names = per_value(
        raw.get("dimension"),
        lambda v: clean_dimension(t) if (t := blank_or_text(v)).strip() else "",
        tokens.setdefault("dimension", []),
    )
    seq_values, plain_numbers = seq_column(raw.get("seq"), tokens.setdefault("seq", []))
    deadline_raw = raw.get("deadline")
    # only text like "6月底前" needs the ledger's year: work it out the first time it is asked for
    year_guess = functools.cache(lambda: _year_hint(info, title, deadline_raw or (), as_of))
    dates = DateColumns(lambda: year_guess().year, date1904)
    deadlines = dates.parse(deadline_raw, tokens.setdefault("deadline", []))
    completions = dates.parse(raw.get("completed_on"), tokens.setdefault("completed_on", []))

    numbers_only = {"seq"} if plain_numbers else set()
    kept, sections = _item_rows(
        body, raw, texts, columns, fills, merges, no_blanks, numbers_only, drop, titles, first_section
    )
    starts = sorted({kept[i] for r in repeats if (i := bisect.bisect_right(kept, r)) < len(kept)})

    def pick(column: Sequence) -> Sequence:
        return [column[o] for o in kept] if len(kept) != len(column) else column

    n = len(kept)
    dims = (
        [name or section for name, section in zip(pick(dim_names), sections, strict=True)]
        if dim_names is not None
        else sections
    )
    cells: dict[str, Sequence[str] | LazyTexts] = {
        f: pick(texts[f])
        if f in texts
        else (NumberTexts if f in numbers_only else LazyTexts)(pick(raw[f]), blank_or_text)
        for f in columns
    }
    items = ItemColumns(
        list(map((first_data + 1 + origin[0]).__add__, kept)),
        cells,
        dims,
        pick(statuses) if statuses is not None else [None] * n,
        pick(deadlines) if deadlines is not None else [dates.empty] * n,
        pick(completions) if completions is not None else [dates.empty] * n,
        pick(seq_values) if seq_values is not None else [None] * n,
        no_blanks=no_blanks,  # dropping title or note rows cannot make a cell blank
        unspaced=unspaced,
        joined=joined if len(kept) == len(body) else {},
    )
    error_cells = {
        (first_data + offset + 1 + origin[0], columns[f] + origin[1]): token
        for f, found_tokens in tokens.items()
        for offset, token in found_tokens
    }
    if origin != (0, 0):
        columns = {f: c + origin[1] for f, c in columns.items()}
    return Ledger(
        path=path,
        sheet=sheet,
        header_row=header + 1 + origin[0],
        columns=columns,
        headers=headers,
        items=items,
        dimensions=[d for d in dict.fromkeys(dims) if d],
        title=title,
        info=info,
        formula_errors=_error_cells(formula_errors, error_cells, first_data, origin),
        sheet_names=list(sheet_names),
        config=config,
        mapping=[replace(u, column=u.column + origin[1]) for u in found.uses] if origin[1] else found.uses,
        table_starts=[first_data + 1 + origin[0] + o for o in starts],
        status_readings=reader.narratives,
        year_guess=year_guess() if year_guess.cache_info().currsize else None,
    )


def _end_of_table(rows: list[list[object]], first_data: int) -> int:
    """Where the items end: notes (注：…), signature lines (填报人：… 审核人：… 联系电话：…) and 合计 below
    the table are no items, however many cells they fill. A few rows from the bottom are looked at."""
    end = len(rows)
    while end > first_data:
        texts = _row_texts(rows[end - 1])
        if texts and not (
            _SUM_ROW.match(texts[0])
            or _NOTE_ROW.match(texts[0])
            or _signature_row(texts)
            or (len(texts) == 1 and _TAIL_NOTE.match(texts[0]))
        ):
            break
        end -= 1
    return end


def _signature_row(texts: list[str]) -> bool:
    """填报人：张三 | 审核人：李四 | 联系电话：… — at least half of the cells are such labels."""
    labelled = sum(1 for t in texts if _SIGNATURE.match(t))
    return labelled > 0 and labelled * 2 >= len(texts)


def _around_repeats(
    body: list[list[object]], repeats: list[int], titles: dict[int, str] | None = None
) -> set[int]:
    """Rows that go with a repeated header: itself, the column numbers under it, and a table's title
    just above it (表二 …; a section title such as 二、…方面 is left to give the 方面 of the items below).

    ``titles`` (a ledger with no 方面 column): filled with body offset → the 方面 each table's title gives,
    section titles included, so that the caller knows the tables are titled."""
    drop = set(repeats)
    for offset in repeats:
        if offset + 1 < len(body) and column_number_row(body[offset + 1]):
            drop.add(offset + 1)
        above = offset - 1
        while above >= 0 and above not in drop and not any(cell_text(v).strip() for v in body[above]):
            above -= 1
        if above >= 0 and above not in drop:
            texts = _row_texts(body[above])
            if len(texts) != 1:
                continue
            if titles is not None and (name := table_title(texts[0])) is not None:
                titles[above] = name
                drop.add(above)
            elif section_name(texts[0]) is None:
                drop.add(above)
    return drop


# columns read as parsed values (one lookup per distinct value) rather than as text
_VALUE_FIELDS = frozenset({"status", "dimension", "seq", "deadline", "completed_on"})
# optional text columns the rules still read whole (duplicates are found in 问题描述)
_JUDGED = frozenset({"problem"})
# columns whose join is kept on the ItemColumns (``joined``): a history snapshot stores them whole,
# and joining 100k cells again costs ~10 ms a column (more than keeping the text costs)
_KEEP_JOINED = frozenset({"problem", "dept"})


def _item_rows(
    body: list[list[object]],
    raw: dict[str, Sequence],
    texts: dict[str, Sequence[str]],
    columns: dict[str, int],
    fills: Fills,
    merges: list[Merge],
    no_blanks: Collection[str],
    numbers_only: Collection[str],
    drop: Collection[int] = (),
    titles: dict[int, str] | None = None,
    section: str = "",
) -> tuple[list[int], list[str]]:
    """Which body rows are items, and the section title above each.

    A row with three own non-empty text cells is an item unless it is a 合计 line; only the other
    rows (titles, notes, blank lines, sparse items) and possible 合计 lines are looked at one by
    one. The runs between them are items of the current section: ``section`` at first, then the one each
    section row or stacked table's title (``titles``, among the ``drop`` rows) names.
    """
    height = len(body)
    names = list(columns)
    proof = [f for f in _PROOF_FIELDS if f in texts][:3]
    if len(proof) == 3:
        if all(f in no_blanks for f in proof):  # known from the joins: no need to look again
            full = [True] * height
        else:
            full = list(map(all, zip(*(texts[f] for f in proof), strict=True)))
        for f in proof:  # a copy from a merged cell is not the row's own
            for first, last in fills.spans.get(f, ()):
                full[first : last + 1] = [False] * (last - first + 1)
        for offset in fills.blank_rows:
            full[offset] = False
        sparse = list(itertools.compress(range(height), map(operator.not_, full)))
    else:
        sparse = list(range(height))

    def text_row(offset: int) -> list[str]:
        return [texts[f][offset] if f in texts else blank_or_text(raw[f][offset]) for f in names]

    # rows with few own cells: count exactly (序号 does not count; merged copies are allowed for)
    short = []
    for offset in sparse:
        row_texts = text_row(offset)
        filled = sum(1 for t in row_texts if t) - (
            1 if "seq" in columns and row_texts[names.index("seq")] else 0
        )
        if filled <= 2 + fills.counts[offset]:
            short.append(offset)
    # a 合计 line starts with 合/总/小/共 (or its first cell is blank); numbers and dates never do
    maybe_sum = (
        []
        if names[0] in numbers_only
        else [
            o
            for o, v in enumerate(raw[names[0]])
            if v is None or (type(v) is str and (not v or v[0] in _CHECK_FIRST))
        ]
    )
    special = sorted(set(short).union(maybe_sum, drop))
    short_set = set(short)
    copies = _filled_cells(special, merges) if merges and short else {}
    kept: list[int] = []
    sections: list[str] = []
    start = 0
    for offset in special:
        kept.extend(range(start, offset))
        sections.extend([section] * (offset - start))
        start = offset + 1
        if offset in drop:
            if titles and offset in titles:
                section = titles[offset]
            continue
        row_texts = text_row(offset)
        if offset in short_set:
            row = _filled_row(body[offset], copies.get(offset, {}))
            kind, name = _classify_short_row(row, row_texts, names, columns, copies.get(offset, {}))
            if kind == "section":
                section = name
                continue
            if kind == "skip":
                continue
        first_text = row_texts[0] or next((t for t in row_texts if t), "")
        if first_text[:1] in _SUM_FIRST and _SUM_ROW.match(first_text.lstrip()):
            continue
        kept.append(offset)
        sections.append(section)
    kept.extend(range(start, height))
    sections.extend([section] * (height - start))
    return kept, sections


# text fields whose three non-empty own cells prove a row is an item, most often filled first
_PROOF_FIELDS = ("problem", "measures", "dept", "owner", "lead", "progress", "source", "outcome", "notes",
                 "evidence")  # fmt: skip


def _filled_cells(offsets: list[int], merges: list[Merge]) -> dict[int, dict[int, object]]:
    """For the given body rows: column → merged value copied into it (the value's own cell excluded)."""
    filled: dict[int, dict[int, object]] = {}
    for block in merges:
        lo = bisect.bisect_left(offsets, block.first)
        hi = bisect.bisect_right(offsets, block.last)
        for offset in offsets[lo:hi]:
            cells = filled.setdefault(offset, {})
            for c in block.cols:
                if not (offset == block.top_left and c == block.cols.start):
                    cells[c] = block.value
    return filled


def _filled_row(row: list[object], copies: dict[int, object]) -> list[object]:
    """The row as it looks with merged cells copied in."""
    if not copies:
        return row
    row = list(row)
    need = max(copies) + 1
    if need > len(row):
        row.extend([""] * (need - len(row)))
    for c, value in copies.items():
        row[c] = value
    return row


def _classify_short_row(
    row: Sequence[object],
    text_row: Sequence[str],
    names: Sequence[str],
    columns: dict[str, int],
    filled: Collection[int],
) -> tuple[str, str]:
    """A row with few own cells: ("skip", ""), ("section", name) or ("item", "")."""
    own = [t for f, t in zip(names, text_row, strict=True)
           if t.strip() and columns[f] not in filled
           and not (f == "seq" and _is_number_text(t))]  # fmt: skip
    if not own and not any(type(v) is str and v.strip() for v in row):
        return "skip", ""
    if len(own) <= 2:
        texts = {cell_text(v).strip() for v in row if v is not None and v != ""}
        texts.discard("")
        if len(texts) == 2 and len(counts := {t for t in texts if _COUNT.match(t)}) == 1:
            texts -= counts  # 一、理论学习方面 | 共5项
        if len(texts) == 2 and (name := _split_section(row)) is not None:
            return "section", name
        if len(texts) == 1:
            only = next(iter(texts))
            name = section_name(only)
            if name is not None:
                return "section", name
            if _SUM_ROW.match(only) or _NOTE_ROW.match(only):
                return "skip", ""
        first_text = next((t for t in (cell_text(v).strip() for v in row) if t), "")
        if _NOTE_ROW.match(first_text) and len(texts) <= 2:
            return "skip", ""
    return "item", ""


def _split_section(row: Sequence[object]) -> str | None:
    """一 | 理论学习方面 (the number in its own cell, the name in the next): the section's name, else None."""
    texts = _row_texts(row)
    if len(texts) != 2 or not _SECTION_NUMBER.match(texts[0]):
        return None
    number, name = texts
    return section_name(number + ("" if number[-1] in "、.．)）：:" else "、") + name)


def _error_cells(
    scanned: dict[tuple[int, int], str] | None,
    tokens: dict[tuple[int, int], str],
    first_data: int,
    origin: tuple[int, int],
) -> dict[tuple[int, int], str]:
    """Error cells of the item rows: from the scan (formulas) and error tokens typed or pasted as text."""
    cells = dict(tokens)
    for (row1, col), text in (scanned or {}).items():
        if row1 > first_data:
            cells[(row1 + origin[0], col + origin[1])] = text
    return cells


def _is_number_text(text: str) -> bool:
    return text.strip().replace(".", "", 1).isdigit()


def _with_errors(rows: list[list[object]], errors: dict[tuple[int, int], str]) -> list[list[object]]:
    """calamine reads error cells as empty strings; put the error text back where the scan saw it."""
    for (row1, col), text in errors.items():
        if row1 - 1 < len(rows):
            row = rows[row1 - 1]
            if col < len(row):
                row[col] = text
    return rows
