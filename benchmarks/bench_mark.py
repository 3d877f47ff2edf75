"""--mark on a 10k-row ledger vs an openpyxl load+save round trip of the same file, side by side.

Target (issue 5): marking costs at most a fifth of the openpyxl round trip.

    python benchmarks/bench_mark.py [--rows 10000] [--fault-rate 0.07] [--repeat 3] [--inline]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from toolkit import xlsx
from toolkit.config import FIELDS
from toolkit.model import Finding, Ledger, Report, column_letter


def build(path: Path, rows: int, inline: bool = False) -> None:
    """``inline``: XlsxWriter's constant_memory mode, which stores every text as an inline string
    (as many export systems do): ~18 MB of sheet XML for 10k rows instead of a shared-string table."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True} if inline else {})
    ws = wb.add_worksheet("台账")
    ws.write_row(0, 0, [f.header for f in FIELDS])
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    rnd = random.Random(1)
    for r in range(1, rows + 1):
        ws.write_number(r, 0, r)
        ws.write_row(
            r,
            1,
            ["民主生活会", ["思想政治", "作风建设", "制度落实"][r % 3], f"问题描述第{r}条，学习不够深入"],
        )
        ws.write_row(
            r, 4, ["加强学习，健全制度", "李书记", "办公室", f"张{r % 50}", "2024年6月底前", "按计划推进"]
        )
        ws.write_string(r, 10, rnd.choice(["已完成", "整改中", "已销号", "长期坚持"]))
        ws.write_datetime(r, 11, datetime(2024, 5, r % 28 + 1), date_fmt)
        ws.write_row(r, 12, ["成效明显", "会议记录", ""])
    ws.data_validation(1, 10, rows, 10, {"validate": "list", "source": ["已完成", "整改中", "已销号"]})
    ws.freeze_panes(1, 0)
    ws.write_comment("C2", "用户批注")
    wb.add_worksheet("说明").write("A1", "说明")
    wb.close()


def findings(rows: int, cols: int, rate: float) -> list[Finding]:
    rnd = random.Random(2)
    out = []
    for r in range(2, rows + 2):
        for c in range(cols):
            if rnd.random() < rate:
                sev = "error" if rnd.random() < 0.6 else "warning"
                out.append(
                    Finding("x", sev, r, column_letter(c), None, "", f"第{r}行第{c + 1}列有问题，请核对。")
                )
    return out


def interleaved(fns: list, repeat: int) -> list[float]:
    """Median time of each function, run in turns so that load on a shared machine hits all alike."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t)
    return [statistics.median(t) for t in times]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--fault-rate", type=float, default=0.07)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--cap",
        type=int,
        default=0,
        help="cap the findings like validate does (default config: 1000); 0 = all",
    )
    ap.add_argument("--inline", action="store_true", help="texts as inline strings (constant_memory)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-mark-"))
    try:
        src = tmp / "台账.xlsx"
        build(src, args.rows, args.inline)
        fs = findings(args.rows, len(FIELDS), args.fault_rate)
        ledger = Ledger(str(src), "台账", 1, {}, {}, [], [])
        if args.cap:  # what `ledger validate --mark` writes: the report is capped (config.max_findings)
            report = Report(
                str(src), "台账", date(2024, 12, 31), args.rows, fs[: args.cap], len(fs) - args.cap
            )
        else:
            report = Report(str(src), "台账", date(2024, 12, 31), args.rows, fs)
        work = tmp / "work" / "台账.xlsx"
        work.parent.mkdir()

        def round_trip() -> None:
            from openpyxl import load_workbook

            wb = load_workbook(src)
            wb.save(tmp / "openpyxl.xlsx")

        def mark() -> None:
            shutil.copyfile(src, work)
            xlsx.mark_file(work, ledger, report, backup=True)

        def mark_again() -> None:  # a re-run: undo the previous marks, then mark
            xlsx.mark_file(work, ledger, report, backup=True)

        def clear() -> None:
            xlsx.clear_file(work)

        t_open, t_mark, t_again, t_clear = interleaved([round_trip, mark, mark_again, clear], args.repeat)
        cells = len({(f.row, f.column) for f in report.findings})
        print(
            f"ledger: {args.rows} rows x {len(FIELDS)} columns, {src.stat().st_size / 1e6:.2f} MB; "
            f"{len(fs)} faulty cells ({args.fault_rate:.0%}), {len(report.findings)} findings marked on {cells} cells"
        )
        print(f"openpyxl load+save : {t_open:7.3f} s")
        print(f"mark_file (first)  : {t_mark:7.3f} s   ratio {t_mark / t_open:.3f}  (target <= 0.200)")
        print(f"mark_file (re-run) : {t_again:7.3f} s   ratio {t_again / t_open:.3f}")
        print(f"clear_file         : {t_clear:7.3f} s   ratio {t_clear / t_open:.3f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
