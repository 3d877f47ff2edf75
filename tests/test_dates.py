"""Deadlines as offices write them (issue 12): ranges, Chinese numerals, parts of a year, and the year
a deadline without one is given."""

from __future__ import annotations

from datetime import date

import pytest
from builders import row, write_ledger

from toolkit.dates import parse_text_date
from toolkit.read import read_ledger

AS_OF = "2024-12-31"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a range is its end: the deadline is when the work must be done
        ("2024年3月1日至2024年12月31日", date(2024, 12, 31)),
        ("2024.3-2024.12", date(2024, 12, 31)),
        ("2024年3月—12月", date(2024, 12, 31)),
        ("2024年3月1日-6月30日", date(2024, 6, 30)),
        ("2024年11月至3月", date(2025, 3, 31)),  # the end before the start: the next year
        ("2024年3月~2024年6月底", date(2024, 6, 30)),
        ("2024-06-30", date(2024, 6, 30)),  # a dash inside one date is no range
        # Chinese numerals
        ("二〇二四年六月底", date(2024, 6, 30)),
        ("二〇二四年十二月三十一日", date(2024, 12, 31)),
        ("2024年年中", date(2024, 6, 30)),
        ("2024年第三季度", date(2024, 9, 30)),
        # no year: the hint's (2023 here)
        ("6月30日前", date(2023, 6, 30)),
        ("十二月底前", date(2023, 12, 31)),
        ("年底前", date(2023, 12, 31)),
        ("年内", date(2023, 12, 31)),
        ("上半年", date(2023, 6, 30)),
        ("下半年", date(2023, 12, 31)),
        ("三季度末", date(2023, 9, 30)),
        ("第三季度", date(2023, 9, 30)),
        ("3月—12月", date(2023, 12, 31)),
    ],
)
def test_text_deadlines(text, expected):
    parsed = parse_text_date(text, 2023)
    assert (parsed.kind, parsed.value, parsed.raw) == ("date", expected, text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("2024年3月至长期坚持", "long_term"), ("长期坚持", "long_term"), ("立行立改", "immediate")],
)
def test_ranges_and_words_without_a_date(text, kind):
    assert parse_text_date(text, 2023).kind == kind


def test_without_a_hint_a_yearless_date_is_invalid():
    assert [parse_text_date(t).kind for t in ("年底前", "三季度末", "6月30日前")] == ["invalid"] * 3


def test_a_range_is_judged_by_its_end(tmp_path, ledger_cli):
    """Issue 12: 2024年3月1日至2024年12月31日 was read as its start, giving a false 超期."""
    rows = [row(1, deadline="2024年3月1日至2024年12月31日", status="正在整改", completed_on=None)]
    path = write_ledger(tmp_path / "r.xlsx", rows)
    run = ledger_cli("validate", path, "--as-of", "2024-10-15", "--json")
    assert [i["code"] for i in run.json()["issues"]] == []
    assert read_ledger(path).items[0].deadline.value == date(2024, 12, 31)


def _year_findings(run) -> list[tuple[int, str, str, str]]:
    return [
        (i["row"], i["column"], i["severity"], i["value"])
        for i in run.json()["issues"]
        if i["code"] == "year-guessed"
    ]


def test_year_from_the_title_is_no_guess(tmp_path, ledger_cli):
    rows = [row(1, deadline="年底前", status="正在整改", completed_on=None)]
    path = write_ledger(tmp_path / "t.xlsx", rows, title_rows=["2023年度巡察反馈问题整改台账"])
    assert read_ledger(path).items[0].deadline.value == date(2023, 12, 31)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert _year_findings(run) == []


def test_year_from_the_as_of_date_is_said(tmp_path, ledger_cli):
    rows = [row(n, problem=f"问题{n}", deadline=d, status="正在整改", completed_on=None)
            for n, d in ((1, "三季度末"), (2, "二〇二四年十二月底"), (3, "年底前"))]  # fmt: skip
    path = write_ledger(tmp_path / "a.xlsx", rows)
    ledger = read_ledger(path, as_of=date(2025, 3, 1))
    assert [i.deadline.value for i in ledger.items] == [
        date(2024, 9, 30),
        date(2024, 12, 31),
        date(2024, 12, 31),
    ]
    assert (ledger.year_guess.year, ledger.year_guess.source) == (2024, "deadlines")
    rows = [row(n, problem=f"问题{n}", deadline=d, status="正在整改", completed_on=None)
            for n, d in ((1, "三季度末"), (2, "6月30日前"))]  # fmt: skip
    path = write_ledger(tmp_path / "b.xlsx", rows)
    run = ledger_cli("validate", path, "--as-of", "2025-03-01", "--json")
    assert _year_findings(run) == [(1, "H", "info", "2025")]
    message = next(i["message"] for i in run.json()["issues"] if i["code"] == "year-guessed")
    assert "2025年" in message and "统计日期" in message
    assert [i.deadline.value for i in read_ledger(path, as_of=date(2025, 3, 1)).items] == [
        date(2025, 9, 30),
        date(2025, 6, 30),
    ]


def test_no_finding_when_every_deadline_has_its_year(tmp_path, ledger_cli):
    path = write_ledger(tmp_path / "f.xlsx", [row(1, deadline="2024年6月底前")])
    assert read_ledger(path).year_guess is None
    assert _year_findings(ledger_cli("validate", path, "--as-of", AS_OF, "--json")) == []
