"""Counts and rates, through the CLI, on the shipped sample and on built ledgers."""

from __future__ import annotations

from datetime import date

from builders import row, write_ledger
from hypothesis import given
from hypothesis import strategies as st

from toolkit.read import read_ledger
from toolkit.sample import SAMPLE_AS_OF
from toolkit.stats import format_rate, ledger_stats, percent, percent_of

AS_OF = "2024-12-31"


def test_sample_counts_per_dimension(ledger_cli):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "workbooks" / "示例台账.xlsx"
    run = ledger_cli("stats", sample, "--as-of", SAMPLE_AS_OF.isoformat(), "--json")
    assert run.code == 0, run.err
    data = run.json()
    assert data["as_of"] == "2024-12-31"
    rows = [(d["name"], d["total"], d["completed"], d["rate"]) for d in data["dimensions"]]
    assert rows == [
        ("理论学习和政治能力", 7, 5, 71.4),
        ("坚持和加强党的全面领导", 6, 3, 50.0),
        ("履职尽责担当作为", 7, 5, 71.4),
        ("科学谋划补齐短板", 6, 4, 66.7),
        ("全面从严治党", 7, 5, 71.4),
    ]
    total = data["total"]
    assert (total["total"], total["completed"], total["long_term"], total["overdue"], total["rate"]) == (
        33,
        22,
        3,
        1,
        66.7,
    )
    assert total["unknown"] == 1 and total["closed"] == 9
    for key in ("name", "total", "completed", "long_term", "in_progress", "not_started", "overdue", "rate"):
        assert key in data["dimensions"][0]


def test_by_dept_and_lead(tmp_path, ledger_cli):
    rows = [
        row(1, dept="党政办", lead="王书记"),
        row(
            2,
            problem="二",
            dept="党政办",
            lead="李主任",
            status="正在整改",
            completed_on=None,
            deadline=date(2024, 9, 1),
        ),
        row(3, problem="三", dept="组织办", lead="李主任", status="长期坚持", completed_on=None),
        row(4, problem="四", dept="组织办", lead="李主任", status="不适用", completed_on=None),
    ]
    path = write_ledger(tmp_path / "d.xlsx", rows)
    by_dept = ledger_cli("stats", path, "--by", "dept", "--as-of", AS_OF, "--json").json()
    assert [
        (g["name"], g["total"], g["completed"], g["overdue"], g["rate"]) for g in by_dept["dimensions"]
    ] == [
        ("党政办", 2, 1, 1, 50.0),
        ("组织办", 1, 0, 0, 0.0),
    ]
    assert by_dept["dimensions"][1]["excluded"] == 1 and by_dept["by"] == "dept"
    by_lead = ledger_cli("stats", path, "--by", "lead", "--as-of", AS_OF, "--json").json()
    assert [g["name"] for g in by_lead["dimensions"]] == ["王书记", "李主任"]
    text = ledger_cli("stats", path, "--by", "lead", "--as-of", AS_OF)
    assert "责任领导" in text.out and "合计" in text.out and "66.7%" not in text.out


def test_on_time_and_closed_rates(tmp_path):
    rows = [
        row(1, deadline=date(2024, 6, 30), completed_on=date(2024, 6, 1)),
        row(2, problem="二", deadline=date(2024, 6, 30), completed_on=date(2024, 7, 15)),
        row(3, problem="三", status="已销号", deadline=date(2024, 6, 30), completed_on=date(2024, 6, 30)),
        row(4, problem="四", status="正在整改", completed_on=None, deadline=date(2025, 6, 30)),
    ]
    ledger = read_ledger(write_ledger(tmp_path / "r.xlsx", rows))
    total = ledger_stats(ledger, date(2024, 12, 31)).total
    assert (total.total, total.completed, total.closed, total.on_time) == (4, 3, 1, 2)
    assert format_rate(total.rate) == "75.0%"
    assert format_rate(total.on_time_rate) == "66.7%"
    assert format_rate(total.closed_rate) == "25.0%"


def test_rounding_is_half_up():
    assert percent(0.7055) == 70.6
    assert percent(2 / 3) == 66.7
    assert format_rate(None) == "—"
    assert format_rate(12 / 17, 2) == "70.59%"


def test_every_status_synonym_counts_as_designed(tmp_path, ledger_cli):
    from toolkit.config import STATUSES

    rows = []
    expected_completed = 0
    expected_excluded = 0
    n = 0
    for status in STATUSES:
        for word in (status.label, *status.synonyms):
            n += 1
            done = status.completed
            expected_completed += done
            expected_excluded += not status.counted
            rows.append(
                row(n, problem=f"问题{n}", status=word, completed_on=date(2024, 6, 1) if done else None)
            )
    path = write_ledger(tmp_path / "st.xlsx", rows)
    run = ledger_cli("validate", path, "--as-of", AS_OF, "--json")
    assert [i["code"] for i in run.json()["issues"] if i["code"] == "unknown-status"] == []
    total = ledger_cli("stats", path, "--as-of", AS_OF, "--json").json()["total"]
    assert total["completed"] == expected_completed
    assert total["excluded"] == expected_excluded
    assert total["total"] == n - expected_excluded


@given(st.integers(0, 10**6), st.integers(1, 10**6), st.integers(0, 3))
def test_percent_of_counts_equals_percent_of_the_fraction(part, whole, decimals):
    assert percent_of(part, whole, decimals) == percent(part / whole, decimals)


def test_percent_of_rounds_half_up_and_knows_nothing_of_nothing():
    assert percent_of(1411, 2000) == 70.6  # 70.55
    assert percent_of(1, 8, 2) == 12.5
    assert percent_of(1, 3, 0) == 33.0
    assert percent_of(0, 0) is None
