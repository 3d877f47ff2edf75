"""The scan that runs beside the read for big workbooks (toolkit.fastpath.scan_alongside)."""

from __future__ import annotations

import os
import zipfile

import pytest
from builders import row, write_ledger
from conftest import run_ledger

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


@pytest.fixture
def run_forced(monkeypatch):
    """Every workbook counts as big: the job runs in a forked child beside the scan."""

    def run(*args):
        with monkeypatch.context() as patch:
            patch.setenv("LEDGER_PARALLEL_SCAN_BYTES", "0")
            return run_ledger(*args)

    return run


def test_same_findings_beside_and_in_order(tmp_path, run_forced):
    info = [("项目", "内容"), ("年度", "2024")]
    rows = [row(1), row(2, problem="二", status="已完城"), row(3, problem="三", owner="#REF!")]
    path = write_ledger(tmp_path / "t.xlsx", rows, info=info)
    plain = run_ledger("validate", path, "--as-of", "2024-12-31", "--json", "--no-history")
    beside = run_forced("validate", path, "--as-of", "2024-12-31", "--json", "--no-history")
    assert plain.code == beside.code == 1
    assert plain.out == beside.out


def test_absurd_extent_found_beside_the_read(tmp_path, run_forced):
    """The parent's scan refuses the file; calamine in the child never gets to allocate 512 GB."""
    path = write_ledger(tmp_path / "ok.xlsx", [row(1)])
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
                )
            dst.writestr(info, data)
    run = run_forced("validate", bad, "--no-history")
    assert run.code == 2, run.err
    assert "异常庞大" in run.err or "异常退出" in run.err
    assert "Traceback" not in run.err and run.out == ""
