"""Deadlines and dates as clerks write them: real Excel dates and Chinese text.

``parse_date`` keeps the raw text beside the parsed value. A range ("2024年3月1日至2024年12月31日",
"2024.3—2024.12", "3月—12月") is its end: the deadline is when the work must be done. Chinese numerals
(二〇二四年六月底) are read as digits. Text without a year ("6月底前", "年底前", "三季度末") takes the
ledger's year from context (see ``toolkit.model.YearGuess``). docs/台账识别.md lists every form.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

from toolkit.model import DATE, EMPTY, IMMEDIATE, INVALID, LONG_TERM, DateValue

_CN_DIGITS = {"〇": "0", "零": "0", "○": "0", "Ｏ": "0", "一": "1", "二": "2", "三": "3", "四": "4",
              "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}  # fmt: skip

_SEP = r"\s*[年./\-/]\s*"
_FULL = re.compile(r"(\d{4})" + _SEP + r"(\d{1,2})" + r"\s*[月./\-/]\s*" + r"(\d{1,2})\s*[日号]?")
_MONTH = re.compile(r"(\d{4})" + _SEP + r"(\d{1,2})(?!\d)\s*月?\s*(上旬|中旬|下旬|初|中|底|末)?")
_QUARTER = re.compile(r"(\d{4})\s*年?\s*(?:第\s*)?([1-4])\s*季度")
_HALF = re.compile(r"(\d{4})\s*年?\s*(上|下)半年")
_YEAR = re.compile(r"(\d{4})\s*年\s*(?:度)?\s*(年底|年末|年内|年中|年终|底|末|内|中|终)?")
# without a year: the ledger's year is taken (only when nothing above matched)
_Q_ONLY = re.compile(r"(?<!\d)(?:第\s*)?([1-4])\s*季度")
_HALF_ONLY = re.compile(r"(上|下)半年")
_YEAR_PART = re.compile(r"年底|年末|年内|年终|全年|本年度?|今年|当年|年中")
_MID_YEAR = frozenset({"中", "年中"})
# a range's separator: the end is the deadline ("-" only between two dates, as in 2024.3-2024.12)
_RANGE_SEP = re.compile(r"\s*(?:至|到|~|～|—+|–+|－+|―+|-)\s*")
_MD = re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_M_END = re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(上旬|中旬|下旬|初|中|底|末|份)?")
_IMMEDIATE = ("立行立改", "立即整改", "即知即改", "立查立改", "马上就改")
_LONG_TERM = ("长期坚持", "长期", "持续整改", "持续推进", "常态化", "持续")
_EXCEL_EPOCH_1900 = date(1899, 12, 30)
_EXCEL_EPOCH_1904 = date(1904, 1, 1)


def _cn_numerals(text: str) -> str:
    """二〇二四年十二月 -> 2024年12月 (only what dates need)."""
    if not any(ch in _CN_DIGITS or ch == "十" for ch in text):
        return text

    def tens(match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        return str((int(_CN_DIGITS[left]) if left else 1) * 10 + (int(_CN_DIGITS[right]) if right else 0))

    text = re.sub(r"([一二三四五六七八九])?十([一二三四五六七八九])?", tens, text)
    return "".join(_CN_DIGITS.get(ch, ch) for ch in text)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _within_month(year: int, month: int, part: str | None) -> date:
    if part in ("上旬", "初"):
        return date(year, month, 10)
    if part in ("中旬", "中"):
        return date(year, month, 20)
    return _month_end(year, month)


def excel_serial_to_date(serial: float, date1904: bool = False) -> date | None:
    if not 1 <= serial < 2958466:
        return None
    epoch = _EXCEL_EPOCH_1904 if date1904 else _EXCEL_EPOCH_1900
    return epoch + timedelta(days=int(serial))


YearHint = int | Callable[[], int] | None


_WRITTEN_YEAR = re.compile(r"(?<!\d)(20\d{2})\s*(?:年|[./\-]\s*\d)")


def written_year(text: str) -> int | None:
    """The year a text names ("2024年度", "二〇二四年", "2024.6"), for the year of dates without one."""
    m = _WRITTEN_YEAR.search(_cn_numerals(text).translate(_FULLWIDTH))
    return int(m[1]) if m else None


def parse_text_date(text: str, year_hint: YearHint = None) -> DateValue:
    raw = text
    text = _cn_numerals(text.strip()).translate(_FULLWIDTH)
    if not text:
        return DateValue(raw, EMPTY)
    if _RANGE_SEP.search(text) and (end := _range_end(text, year_hint)) is not None:
        return DateValue(raw, end.kind, end.value)
    return _single(raw, text, year_hint)


def _range_end(text: str, year_hint: YearHint) -> DateValue | None:
    """The end of a range whose both sides are dates; None when the text is no such range."""
    for sep in reversed(list(_RANGE_SEP.finditer(text))):
        left, right = text[: sep.start()], text[sep.end() :]
        if not left or not right:
            continue
        start = _single(left, left, year_hint)
        if start.value is None:
            continue
        end = _single(right, right, None)
        if end.kind == INVALID:  # no year of its own: the start's ("2024年3月—12月")
            end = _single(right, right, start.value.year)
            if end.value is not None and end.value < start.value:  # 2024年11月至3月: the next year
                end = _single(right, right, start.value.year + 1)
        if end.value is not None or end.kind == LONG_TERM:
            return end
    return None


# forms without a year, tried in this order once none with a year matched: pattern, date in a given year
_WITHOUT_YEAR: tuple[tuple[re.Pattern[str], Callable[[int, re.Match[str]], date]], ...] = (
    (_MD, lambda year, m: date(year, int(m[1]), int(m[2]))),
    (_M_END, lambda year, m: _within_month(year, int(m[1]), m[2])),
    (_Q_ONLY, lambda year, m: _month_end(year, int(m[1]) * 3)),
    (_HALF_ONLY, lambda year, m: _month_end(year, 6 if m[1] == "上" else 12)),
    (_YEAR_PART, lambda year, m: date(year, 6, 30) if m[0] == "年中" else date(year, 12, 31)),
)


def _single(raw: str, text: str, year_hint: YearHint) -> DateValue:
    """One date (no range): the first form that matches, most specific first."""
    try:
        if m := _FULL.search(text):
            return DateValue(raw, DATE, date(int(m[1]), int(m[2]), int(m[3])))
        if m := _QUARTER.search(text):
            return DateValue(raw, DATE, _month_end(int(m[1]), int(m[2]) * 3))
        if m := _HALF.search(text):
            return DateValue(raw, DATE, _month_end(int(m[1]), 6 if m[2] == "上" else 12))
        if m := _MONTH.search(text):
            return DateValue(raw, DATE, _within_month(int(m[1]), int(m[2]), m[3]))
        if m := _YEAR.search(text):
            return DateValue(
                raw, DATE, date(int(m[1]), 6, 30) if m[2] in _MID_YEAR else date(int(m[1]), 12, 31)
            )
        if year_hint is not None:
            for pattern, on_year in _WITHOUT_YEAR:
                if m := pattern.search(text):
                    # computed only for text that really lacks a year
                    year = year_hint() if callable(year_hint) else year_hint
                    return DateValue(raw, DATE, on_year(year, m))
    except ValueError:  # 2024年13月, 2月30日
        return DateValue(raw, INVALID)
    if any(word in text for word in _IMMEDIATE):
        return DateValue(raw, IMMEDIATE)
    if any(word in text for word in _LONG_TERM):
        return DateValue(raw, LONG_TERM)
    return DateValue(raw, INVALID)


_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def parse_date(value: object, year_hint: YearHint = None, date1904: bool = False) -> DateValue:
    """Any cell value to a DateValue; numbers are Excel serials."""
    if value is None or value == "":
        return DateValue("", EMPTY)
    if isinstance(value, datetime):
        return DateValue(value.date().isoformat(), DATE, value.date())
    if isinstance(value, date):
        return DateValue(value.isoformat(), DATE, value)
    if isinstance(value, bool):
        return DateValue(str(value), INVALID)
    if isinstance(value, int | float):
        parsed = excel_serial_to_date(float(value), date1904)
        # only plausible serials (1982..2064) count as dates; 2024 typed alone is a year, not a serial
        if parsed is not None and 30000 <= value <= 60000:
            return DateValue(parsed.isoformat(), DATE, parsed)
        if float(value).is_integer() and 1990 <= value <= 2100:
            return DateValue(str(int(value)), DATE, date(int(value), 12, 31))
        return DateValue(_number_text(value), INVALID)
    return parse_text_date(str(value), year_hint)


def _number_text(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
