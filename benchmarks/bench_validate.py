"""Benchmark: the whole `ledger validate` process against a bare python-calamine read of the same file.

Targets (issue 2): 100k rows within 1.25x the bare read, peak memory under 600 MB; 1k rows cheaper
than `python -c "import pandas"`. Runs alternate so machine noise hits both sides alike; the
minimum of each side is compared.

    python benchmarks/bench_validate.py [--rows 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
sys.path.insert(0, str(ROOT))

BARE_READ = (
    "import sys, python_calamine as pc\n"
    "book = pc.CalamineWorkbook.from_path(sys.argv[1])\n"
    "rows = book.get_sheet_by_index(0).to_python()\n"
)


def build_ledger(path: Path, rows: int) -> Path:
    """A realistic ledger: title rows, shared strings, merged 方面, real and text dates, ~3% faults."""
    if path.exists():
        return path
    import xlsxwriter

    from toolkit.sample import SAMPLE_ROWS

    rng = random.Random(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    headers = ["序号", "问题来源", "方面", "问题描述", "整改措施", "责任领导", "责任部门", "责任人", "整改时限",
               "整改进展", "完成状态", "完成时间", "整改成效", "佐证材料", "备注"]  # fmt: skip
    ws.merge_range(0, 0, 0, len(headers) - 1, "某区2024年度巡察整改台账")
    ws.write_row(1, 0, headers)
    statuses = ["已完成"] * 6 + ["已销号"] * 2 + ["正在整改", "长期坚持", "基本完成", "未启动", "已完城"]
    start = date(2024, 1, 1)
    block = 0
    for i in range(rows):
        r = i + 2
        sample = SAMPLE_ROWS[i % len(SAMPLE_ROWS)]
        status = rng.choice(statuses)
        deadline = start + timedelta(days=rng.randrange(0, 540))
        ws.write_number(r, 0, i + 1)
        ws.write_string(r, 1, sample["source"] or "巡察")
        if i % 20 == 0:
            block_end = min(i + 19, rows - 1) + 2
            if block_end > r:
                ws.merge_range(r, 2, block_end, 2, f"方面{block % 7 + 1}")
            else:
                ws.write_string(r, 2, f"方面{block % 7 + 1}")
            block += 1
        ws.write_string(r, 3, f"{sample['problem']}（第{i + 1}项）")
        ws.write_string(r, 4, sample["measures"])
        ws.write_string(r, 5, sample["lead"] or "王书记")
        ws.write_string(r, 6, sample["dept"] or "党政办")
        ws.write_string(r, 7, "" if rng.random() < 0.01 else (sample["owner"] or "张三"))
        if rng.random() < 0.2:
            ws.write_string(r, 8, f"{deadline.year}年{deadline.month}月底前")
        else:
            ws.write_datetime(r, 8, datetime(deadline.year, deadline.month, deadline.day), date_format)
        ws.write_string(r, 9, sample["progress"] or "正在推进")
        ws.write_string(r, 10, status)
        if status in ("已完成", "已销号") and rng.random() > 0.02:
            done = deadline - timedelta(days=rng.randrange(0, 60))
            ws.write_datetime(r, 11, datetime(done.year, done.month, done.day), date_format)
            ws.write_string(r, 12, sample["outcome"] or "整改到位")
        if status == "已销号" and rng.random() > 0.05:
            ws.write_string(r, 13, "会议记录、制度文件")
    wb.close()
    return path


def adopt_orphans() -> None:
    """Become the subreaper of what we start (Linux): a forked helper that outlives its parent —
    ``ledger validate``'s reading child may still be unmapping memory when the command has ended —
    is then reaped here, so its CPU time and peak memory are counted too."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def run(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds until the command ends; CPU seconds and peak RSS (KB) of all its processes."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    peak = usage.ru_maxrss
    while True:  # descendants left behind (adopted by adopt_orphans)
        try:
            _, _, more = os.wait4(-1, 0)
        except ChildProcessError:
            break
        cpu += more.ru_utime + more.ru_stime
        peak = max(peak, more.ru_maxrss)
    return wall, cpu, peak


def compare(label: str, ours: list[str], theirs: list[str], repeat: int, before=None) -> None:
    """``before`` runs ahead of each of our runs (not timed): e.g. removing the history file."""
    results: dict[str, list[tuple[float, float, int]]] = {"ours": [], "theirs": []}
    for _ in range(repeat):
        if before is not None:
            before()
        results["ours"].append(run(ours))
        results["theirs"].append(run(theirs))
    o_wall = min(r[0] for r in results["ours"])
    t_wall = min(r[0] for r in results["theirs"])
    o_cpu = min(r[1] for r in results["ours"])
    t_cpu = min(r[1] for r in results["theirs"])
    o_mem = max(r[2] for r in results["ours"]) / 1024
    print(f"{label}")
    print(f"  ours   : wall {o_wall:6.3f} s  cpu {o_cpu:6.3f} s  peak {o_mem:7.1f} MB")
    print(
        f"  theirs : wall {t_wall:6.3f} s  cpu {t_cpu:6.3f} s  peak {max(r[2] for r in results['theirs']) / 1024:7.1f} MB"
    )
    print(f"  ratio  : wall {o_wall / t_wall:5.2f}x  cpu {o_cpu / t_cpu:5.2f}x")
    print(f"  diff   : wall {o_wall - t_wall:+6.3f} s  cpu {o_cpu - t_cpu:+6.3f} s")


def remove_history(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    env_python = sys.executable
    os.environ["PYTHONPATH"] = str(ROOT)
    adopt_orphans()
    # an installed package has its bytecode compiled; a checkout run with PYTHONDONTWRITEBYTECODE
    # would otherwise recompile every edited module on each run
    import compileall

    compileall.compile_dir(str(ROOT / "toolkit"), quiet=1)
    big = build_ledger(DATA / f"ledger-{args.rows}.xlsx", args.rows)
    small = build_ledger(DATA / "ledger-1000.xlsx", 1000)
    ledger = [env_python, "-m", "toolkit", "validate", "--as-of", "2024-12-31"]
    compare(
        f"{args.rows} rows: ledger validate --no-history vs bare calamine read (target <= 1.25x, < 600 MB)",
        [*ledger, "--no-history", str(big)],
        [env_python, "-c", BARE_READ, str(big)],
        args.repeat,
    )
    # what the speed tricks (toolkit.fastpath) save: the same command the plain way
    compare(
        f"{args.rows} rows: ledger validate --no-history vs the same with LEDGER_FASTPATH=0",
        [*ledger, "--no-history", str(big)],
        ["env", "LEDGER_FASTPATH=0", *ledger, "--no-history", str(big)],
        args.repeat,
    )
    # the default also records a history snapshot (issue 6): what the first snapshot of a file adds,
    # side by side with the same command without history (a fresh history file before each run) ...
    db = DATA / "bench-history.sqlite"
    compare(
        f"{args.rows} rows: ledger validate, first snapshot (new history file) vs --no-history",
        [*ledger, "--history", str(db), str(big)],
        [*ledger, "--no-history", str(big)],
        args.repeat,
        before=lambda: remove_history(db),
    )
    print(f"  history file after one snapshot: {db.stat().st_size / 1e6:.2f} MB")
    # ... and what judging the same file on the same day again adds (only the time is refreshed)
    compare(
        f"{args.rows} rows: ledger validate, same file and day again vs --no-history",
        [*ledger, "--history", str(db), str(big)],
        [*ledger, "--no-history", str(big)],
        args.repeat,
    )
    compare(
        f"{args.rows} rows: ledger validate (with its history snapshot) vs bare calamine read",
        [*ledger, "--history", str(db), str(big)],
        [env_python, "-c", BARE_READ, str(big)],
        args.repeat,
        before=lambda: remove_history(db),
    )
    compare(
        "1000 rows: ledger validate vs python -c 'import pandas' (target < 1x)",
        [*ledger, "--no-history", str(small)],
        [env_python, "-c", "import pandas"],
        args.repeat * 2,
    )


if __name__ == "__main__":
    main()
