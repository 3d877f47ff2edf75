"""Report speed, by hand: ``python benchmarks/bench_report.py [--rounds 15] [--big 100000]``.

Targets: ``ledger report`` as a whole process within 3x ``ledger validate`` on the same ledger (issue 13),
measured side by side: the two commands alternate, each round's ratio is printed beside the ratio of the
medians, on the 33-row sample, the seed-shaped ledger (five long 方面 names) and a 1k-row ledger.
In-process (issue 3): rendering the 通报 of a 1k-row ledger, chart included, in under 1 s; on a 100k-row
ledger the report adds at most 1 s to reading it. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT, ROOT / "benchmarks", ROOT / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from report_ledgers import REPORT_HEADERS  # noqa: E402  (tests/ is on the path from here)

AS_OF = date(2024, 12, 31)
DIMENSIONS = [
    "理论学习和政治能力",
    "坚持和加强党的全面领导",
    "履职尽责担当作为",
    "科学谋划补齐短板",
    "全面从严治党",
]
STATUSES = ["已完成", "已完成", "已销号", "长期坚持", "正在整改", "未启动"]


def rows(n: int) -> list[list[object]]:
    out: list[list[object]] = [["某街道党工委2024年度民主生活会整改台账"], REPORT_HEADERS]
    for i in range(1, n + 1):
        status = STATUSES[i % len(STATUSES)]
        done = status in ("已完成", "已销号")
        out.append([
            i, DIMENSIONS[(i * 5) // max(n, 1) % 5], f"第{i}个问题：学习不够深入，学用结合不够",
            f"1.制定第{i}项学习计划；2.开展专题研讨；3.建立学习台账，纳入年度述职",
            "李四", f"第{i % 12 + 1}科室", "王五", datetime(2024, 6, 30), "按计划推进",
            status, datetime(2024, 6, 20) if done else None, f"集中学习{i % 30 + 1}次，成效明显" if done else "",
            "会议纪要" if status == "已销号" else "",
        ])  # fmt: skip
    return out


def timed(func, repeat: int = 1) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def write_rows(path: Path, table: list[list[object]]) -> Path:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    ws = workbook.add_worksheet("台账")
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                ws.write_datetime(r, c, value)
            elif value not in (None, ""):
                ws.write(r, c, value)
    workbook.close()
    return path


def process_ratio(label: str, ledger: Path, rounds: int, *history: str) -> None:
    """``ledger report`` against ``ledger validate`` on ``ledger``, alternating, whole processes."""
    from bench_validate import run

    command = [sys.executable, "-m", "toolkit"]
    validate = [*command, "validate", "--as-of", str(AS_OF), *history, str(ledger)]
    out = ledger.with_name("通报.docx")
    report = [
        *command,
        "report",
        "--as-of",
        str(AS_OF),
        "--allow-errors",
        "-o",
        str(out),
        *history,
        str(ledger),
    ]
    run(validate), run(report)  # warm the disk cache; a history file now holds today's snapshot
    times: dict[str, list[tuple[float, float, int]]] = {"validate": [], "report": []}
    for _ in range(rounds):
        times["validate"].append(run(validate))
        times["report"].append(run(report))
    (v, r), (v_cpu, r_cpu) = (
        [statistics.median(t[k] for t in times[side]) for side in ("validate", "report")] for k in (0, 1)
    )
    per_round = sorted(b[0] / a[0] for a, b in zip(times["validate"], times["report"], strict=True))
    print(f"{label}：ledger report {r:.3f} s，ledger validate {v:.3f} s（墙钟中位数），{r / v:.2f} 倍"
          f"（目标 ≤ 3 倍；逐轮 {per_round[0]:.2f}–{per_round[-1]:.2f}，逐轮中位数 "
          f"{statistics.median(per_round):.2f}）；CPU {r_cpu:.3f} s 对 {v_cpu:.3f} s，{r_cpu / v_cpu:.2f} 倍")  # fmt: skip


def whole_processes(rounds: int, small: int) -> None:
    from bench_validate import adopt_orphans
    from report_ledgers import INFO, SEED_ROWS, write_report_ledger

    os.environ["PYTHONPATH"] = str(ROOT)
    adopt_orphans()
    import compileall

    compileall.compile_dir(str(ROOT / "toolkit"), quiet=1)  # as installed: bytecode already compiled
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        ledgers = {
            "33 行示例台账": shutil.copy(ROOT / "workbooks" / "示例台账.xlsx", Path(tmp, "示例台账.xlsx")),
            "种子形台账（5 个长方面名）": write_report_ledger(
                Path(tmp, "种子形台账.xlsx"), SEED_ROWS, info=INFO
            ),
            f"{small} 行台账": write_rows(Path(tmp, f"{small}行台账.xlsx"), rows(small)),
        }
        for label, path in ledgers.items():
            folder = Path(tmp, label)
            folder.mkdir()
            ledger = Path(shutil.move(path, folder))
            process_ratio(label, ledger, rounds)
            process_ratio(f"{label}，--no-history", ledger, rounds, "--no-history")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--rounds", type=int, default=15, help="alternating rounds of the whole-process ratio"
    )
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--processes-only", action="store_true", help="only the report/validate ratio")
    args = parser.parse_args()

    whole_processes(args.rounds, args.small)
    if args.processes_only:
        return

    from toolkit.read import ledger_from_rows, read_ledger
    from toolkit.render import render_document

    ledger = ledger_from_rows(rows(args.small), sheet="台账")
    assert len(ledger.items) == args.small
    cold, _ = timed(lambda: render_document(ledger, as_of=AS_OF))
    warm, result = timed(lambda: render_document(ledger, as_of=AS_OF), repeat=5)
    print(f"{args.small} 行台账生成通报（含图表）：首次 {cold:.2f} s（含导入 docxtpl），之后 {warm:.2f} s；"
          f"文档 {len(result[0]) / 1024:.0f} KB")  # fmt: skip
    annex, result = timed(
        lambda: render_document(
            ledger, as_of=AS_OF, options=__import__("toolkit.render").render.ReportOptions(annex=True)
        )
    )
    print(f"{args.small} 行台账加附件明细表：{annex:.2f} s；文档 {len(result[0]) / 1024:.0f} KB")

    if args.big:
        with tempfile.TemporaryDirectory() as tmp:
            path = write_rows(Path(tmp, "大台账.xlsx"), rows(args.big))
            read_time, big = timed(lambda: read_ledger(path))
            report_time, result = timed(lambda: render_document(big, as_of=AS_OF))
            print(f"{args.big} 行台账：读取 {read_time:.2f} s，生成通报另加 {report_time:.2f} s"
                  f"（文档 {len(result[0]) / 1024:.0f} KB）")  # fmt: skip


if __name__ == "__main__":
    main()
