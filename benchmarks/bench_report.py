"""Report speed, by hand: ``python benchmarks/bench_report.py [--big 100000]``.

Targets (issue 3): rendering the 通报 of a 1k-row ledger, chart included, in under 1 s of in-process
time; on a 100k-row ledger the report adds at most 1 s to reading it. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

AS_OF = date(2024, 12, 31)
HEADERS = ["序号", "方面", "问题描述", "整改措施", "责任领导", "责任部门", "责任人", "整改时限", "整改进展",
           "完成情况", "完成时间", "整改成效", "佐证材料"]  # fmt: skip
DIMENSIONS = [
    "理论学习和政治能力",
    "坚持和加强党的全面领导",
    "履职尽责担当作为",
    "科学谋划补齐短板",
    "全面从严治党",
]
STATUSES = ["已完成", "已完成", "已销号", "长期坚持", "正在整改", "未启动"]


def rows(n: int) -> list[list[object]]:
    out: list[list[object]] = [["某街道党工委2024年度民主生活会整改台账"], HEADERS]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=100_000)
    args = parser.parse_args()

    from toolkit.read import ledger_from_rows, read_ledger
    from toolkit.render import render_document

    ledger = ledger_from_rows(rows(args.small), sheet="台账")
    assert len(ledger.items) == args.small
    cold, _ = timed(lambda: render_document(ledger, as_of=AS_OF))
    warm, result = timed(lambda: render_document(ledger, as_of=AS_OF), repeat=5)
    print(f"{args.small} 行台账生成通报（含图表）：首次 {cold:.2f} s（含导入 docxtpl/matplotlib），之后 {warm:.2f} s；"
          f"文档 {len(result[0]) / 1024:.0f} KB")  # fmt: skip
    annex, result = timed(
        lambda: render_document(
            ledger, as_of=AS_OF, options=__import__("toolkit.render").render.ReportOptions(annex=True)
        )
    )
    print(f"{args.small} 行台账加附件明细表：{annex:.2f} s；文档 {len(result[0]) / 1024:.0f} KB")

    if args.big:
        import xlsxwriter

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "大台账.xlsx")
            workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
            ws = workbook.add_worksheet("台账")
            for r, row in enumerate(rows(args.big)):
                for c, value in enumerate(row):
                    if isinstance(value, datetime):
                        ws.write_datetime(r, c, value)
                    elif value not in (None, ""):
                        ws.write(r, c, value)
            workbook.close()
            read_time, big = timed(lambda: read_ledger(path))
            report_time, result = timed(lambda: render_document(big, as_of=AS_OF))
            print(f"{args.big} 行台账：读取 {read_time:.2f} s，生成通报另加 {report_time:.2f} s"
                  f"（文档 {len(result[0]) / 1024:.0f} KB）")  # fmt: skip


if __name__ == "__main__":
    main()
