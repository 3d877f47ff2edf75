"""Benchmark: ``ledger new`` and the 校验台账 button's Python on a large ledger.

- build: ``build_workbook`` with N rows (the sample rows repeated, every 20th status misspelt);
- button: ``toolkit.excel.validate`` on xlwings' remote engine for that workbook (read, validate, plan and
  queue the marks, the findings sheet) — the Python side of a click, without Excel's own time for applying
  the colours (that depends on the machine and is not measurable here).

    python benchmarks/bench_workbook.py [--rows 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rows(n: int) -> list[dict]:
    from toolkit.sample import SAMPLE_ROWS

    out = []
    for i in range(n):
        row = dict(SAMPLE_ROWS[i % len(SAMPLE_ROWS)])
        row["seq"] = i + 1
        row["problem"] = f"{row['problem']}（{i + 1}）"
        if i % 20 == 7:
            row["status"] = "已完城"
        out.append(row)
    return out


def payload(path: Path) -> dict:
    """What xlwings' VBA client sends: every sheet's values from A1, dates as ISO strings."""
    import openpyxl
    import xlwings as xw

    wb = openpyxl.load_workbook(path, read_only=True)
    sheets = []
    for ws in wb.worksheets:
        values = [
            [v.isoformat(timespec="milliseconds") + "Z" if isinstance(v, dt.datetime) else v for v in row]
            for row in ws.iter_rows(values_only=True)
        ]
        sheets.append({"name": ws.title, "values": values or [[]], "pictures": [], "tables": []})
    return {
        "client": "VBA",
        "version": xw.__version__,
        "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"},
        "names": [],
        "sheets": sheets,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"  # the remote engine, for this measurement only

    from toolkit.sample import SAMPLE_DIMENSIONS
    from toolkit.workbook import WorkbookSpec, build_workbook

    data = rows(args.rows)
    folder = Path(tempfile.mkdtemp(prefix="bench-workbook-"))
    builds = []
    for i in range(args.repeat):
        start = time.perf_counter()
        path = build_workbook(folder / f"台账{i}.xlsx", WorkbookSpec(dimensions=SAMPLE_DIMENSIONS, rows=data))
        builds.append(time.perf_counter() - start)
    print(f"build_workbook, {args.rows} rows: best {min(builds):.2f} s ({path.stat().st_size / 1e6:.1f} MB)")

    import xlwings as xw

    from toolkit import excel

    body = payload(path)
    clicks = []
    for _ in range(args.repeat):
        book = xw.Book(json=body)
        start = time.perf_counter()
        report = excel.validate(book, as_of=dt.date(2024, 12, 31))
        clicks.append(time.perf_counter() - start)
    assert report is not None
    marks = sum(1 for a in book.json()["actions"] if a["func"] == "setRangeColor")
    print(
        f"validate button (remote engine), {args.rows} rows: best {min(clicks):.2f} s; "
        f"{len(report.findings)} findings, {marks} cells to colour"
    )


if __name__ == "__main__":
    main()
