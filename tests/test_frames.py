"""pandas frames of a ledger, its findings, its counts and the district roll-up, checked against the
numbers the toolkit itself reports (real workbooks: the shipped sample, unit ledgers written by XlsxWriter)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from unit_workbooks import write_broken, write_unit_ledger

from toolkit import frames
from toolkit.district import district_context
from toolkit.read import read_ledger
from toolkit.sample import SAMPLE_AS_OF
from toolkit.stats import ledger_stats
from toolkit.units import collect_files, run_many, stats_by_unit
from toolkit.validate import validate_ledger

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "workbooks" / "示例台账.xlsx"
AS_OF = date(2024, 12, 1)


@pytest.fixture(scope="module")
def sample():
    return read_ledger(str(SAMPLE), as_of=SAMPLE_AS_OF)


@pytest.fixture(scope="module")
def units_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("frames-units")
    write_unit_ledger(d / "01甲.xlsx", unit="甲街道", done=17, total=17)
    write_unit_ledger(d / "02乙.xlsx", unit="乙街道", done=12, total=17, overdue=3)
    write_unit_ledger(
        d / "03丙社区.xlsx", unit=None, done=9, total=10, overdue=1, dimensions=["理论学习", "作风建设"]
    )
    write_broken(d / "04丁.xlsx")
    return d


def test_ledger_frame_one_row_per_item_counts_as_stats_do(sample):
    stats = ledger_stats(sample, SAMPLE_AS_OF)
    items = frames.ledger_frame(sample, SAMPLE_AS_OF)
    assert list(items.index) == [item.row for item in sample.items] and items.index.name == "行号"
    assert list(items.columns[:4]) == ["序号", "问题来源", "方面", "问题描述"]
    assert list(items.columns[-5:]) == ["状态", "已完成", "整改时限日期", "完成时间日期", "超期"]
    counted = items[items["状态"] != "不适用"]
    assert len(counted) == stats.total.total
    per_dimension = counted.groupby("方面", sort=False)["已完成"].agg(["size", "sum"])
    assert [(name, int(n), int(done)) for name, (n, done) in per_dimension.iterrows()] == [
        (g.name, g.total, g.completed) for g in stats.groups
    ]
    assert list(items.index[items["超期"]]) == stats.total.overdue_rows
    assert (items["状态"] == "已销号").sum() == stats.total.closed
    assert str(items["整改时限日期"].dtype).startswith("datetime64")
    first = sample.items[0]
    assert items.loc[first.row, "整改时限日期"] == pd.Timestamp(first.deadline.value)
    assert items.loc[first.row, "问题描述"] == first.get("problem")


def test_ledger_frame_keeps_the_ledgers_own_columns(units_dir):
    ledger = read_ledger(str(units_dir / "02乙.xlsx"), as_of=AS_OF)
    items = frames.ledger_frame(ledger)
    assert "问题来源" not in items.columns and "超期" not in items.columns  # no such column; no as_of
    assert items["已完成"].sum() == 12 and len(items) == 17
    assert items["状态"].value_counts().to_dict() == {"已完成": 12, "正在整改": 5}
    assert items["完成时间日期"].isna().sum() == 5


def test_findings_frame_follows_the_report(sample):
    report = validate_ledger(sample, SAMPLE_AS_OF)
    table = frames.findings_frame(report)
    assert len(table) == len(report.findings) > 0
    assert list(zip(table["行"], table["列"], table["代码"], strict=True)) == report.flat()
    assert (table["级别"] == "错误").sum() == report.errors
    assert (table["级别"] == "提醒").sum() == report.warnings
    assert list(table["说明"]) == [f.message for f in report.findings]
    assert table.loc[0, "单元格"] == report.findings[0].cell


@pytest.mark.parametrize("by", ["dimension", "dept"])
def test_stats_frame_is_ledger_stats(sample, by):
    stats = ledger_stats(sample, SAMPLE_AS_OF, by)
    table = frames.stats_frame(stats)
    assert table.index.name == {"dimension": "方面", "dept": "责任部门"}[by]
    assert list(table.index) == [g.name for g in stats.groups] + ["合计"]
    for group in [*stats.groups, stats.total]:
        row = table.loc["合计" if group is stats.total else group.name]
        expected = group.as_dict(stats.decimals)
        assert (
            row["问题数"],
            row["已完成"],
            row["已销号"],
            row["长期坚持"],
            row["正在推进"],
            row["超期"],
        ) == (
            expected["total"],
            expected["completed"],
            expected["closed"],
            expected["long_term"],
            expected["pending"],
            expected["overdue"],
        )
        assert row["完成率"] == expected["rate"] and row["按期完成率"] == expected["on_time_rate"]


def test_district_frame_is_the_roll_up_across_dimensions(units_dir):
    results = list(run_many(collect_files([units_dir]), AS_OF, "report", jobs=1))
    table = frames.district_frame(results)
    assert list(table.index) == ["甲街道", "乙街道", "03丙社区", "合计"] and table.index.name == "单位"
    assert list(table.columns.levels[0]) == sorted(frames.DISTRICT_MEASURES)
    dimensions = ["理论学习", "作风建设", "担当作为", "廉洁自律", "合计"]
    assert list(table["完成率"].columns) == dimensions

    # each unit's cells are its own counts per 方面; a 方面 it does not have counts 0 and has no rate
    for result in results[:3]:
        for group in result.dimensions:
            cell = table.loc[result.unit, (slice(None), group.name)]
            assert list(cell) == [
                group.total,
                group.completed,
                group.overdue,
                pytest.approx(group.rate * 100, abs=0.05),
            ]
    assert table.loc["03丙社区", ("问题数", "担当作为")] == 0
    assert pd.isna(table.loc["03丙社区", ("完成率", "担当作为")])

    # the 合计 column is the units roll-up, the 合计 row the district 通报's figures
    rollup = stats_by_unit([units_dir], AS_OF, jobs=1).as_dict()
    assert [(u["name"], u["total"], u["completed"], u["overdue"], u["rate"]) for u in rollup["units"]] == [
        (name, *table.loc[name, (slice(None), "合计")]) for name in ["甲街道", "乙街道", "03丙社区"]
    ]
    context = district_context(results=results, as_of=AS_OF)
    assert [
        (d["name"], d["total"], d["completed"], d["overdue"], d["rate"]) for d in context["dimensions"]
    ] == [(name, *table.loc["合计", (slice(None), name)]) for name in dimensions[:-1]]
    assert tuple(table.loc["合计", (slice(None), "合计")]) == (
        context["total"],
        context["completed"],
        context["overdue_total"],
        context["rate"],
    )


def test_pandas_stays_off_the_adapters_and_validate(tmp_path):
    """Importing the adapters (cli, excel) and running ``ledger validate`` never import pandas."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env["PYTHONIOENCODING"] = "utf-8"
    check = "import sys, toolkit.cli, toolkit.excel, toolkit.frames; print(sorted(m for m in sys.modules if m.split('.')[0] == 'pandas'))"
    imported = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, env=env, check=True
    )
    assert imported.stdout.strip() == "[]"
    ledger = shutil.copy(SAMPLE, tmp_path / "台账.xlsx")
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "toolkit", "validate", ledger, "--as-of", "2024-12-31"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )
    assert run.returncode == 1, run.stderr[-2000:]  # the sample has errors on purpose
    assert "import time:" in run.stderr
    assert not re.search(r"\|\s+pandas(\.|$)", run.stderr, re.MULTILINE)
