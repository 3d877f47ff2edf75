"""Benchmark: ``ledger stats DIR --by unit`` against a serial bare python-calamine read of the same files.

Generates 400 unit ledgers of 200 rows each in benchmarks/data/units400/ (git-ignored; kept between runs),
then times, whole process each time and alternating so both see the same machine load:

- ours: ``python -m toolkit stats DIR --by unit --json`` (parallel reads, full read + count per file);
- ours, guarded: the same with LEDGER_CONTAINED_READS=0 (every sheet measured before calamine reads it,
  as ``ledger validate`` does; shows what contained reads save);
- bare: a child python that opens every file with python-calamine and loads every sheet with to_python().

Run by hand: ``python benchmarks/bench_units.py [--files 400] [--rows 200] [--repeat 7] [--format xls]``.
Target: ours no slower than bare. ``--format xls`` or ``ods``: the same ledgers saved by LibreOffice
(soffice converts them once; the folder is kept), which many offices send instead of .xlsx.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from unit_workbooks import write_unit_ledger  # noqa: E402

BARE = """
import sys
from python_calamine import CalamineWorkbook
cells = 0
for name in sorted(sys.argv[1:]):
    book = CalamineWorkbook.from_path(name)
    for sheet in book.sheet_names:
        rows = book.get_sheet_by_name(sheet).to_python()
        cells += sum(len(r) for r in rows)
print(cells)
"""


def generate(folder: Path, files: int, rows: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(files):
        path = folder / f"单位{n:04d}.xlsx"
        if not path.exists():
            done = (n * 37) % (rows + 1)
            write_unit_ledger(path, unit=f"第{n + 1}单位", done=done, total=rows, overdue=min(5, rows - done))
        paths.append(path)
    return paths


def converted(source: Path, fmt: str) -> list[Path]:
    """The ledgers of ``source`` as .xls/.ods, converted once by LibreOffice into a sibling folder."""
    import shutil

    folder = source.with_name(f"{source.name}-{fmt}")
    folder.mkdir(exist_ok=True)
    missing = [p for p in sorted(source.glob("*.xlsx")) if not (folder / f"{p.stem}.{fmt}").exists()]
    exe = shutil.which("soffice")
    if missing and exe is None:
        raise SystemExit("--format needs LibreOffice (soffice) to convert the ledgers")
    profile = folder.parent / "lo-profile"
    for start in range(0, len(missing), 50):  # one soffice run per 50 files: a long run may stop early
        subprocess.run(
            [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", fmt, "--outdir", str(folder), *map(str, missing[start : start + 50])],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
    shutil.rmtree(profile, ignore_errors=True)
    return sorted(folder.glob(f"*.{fmt}"))


def timed(cmd: list[str], **extra_env: str) -> tuple[float, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **extra_env)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)  # fewer rounds: one busy moment decides
    parser.add_argument("--format", choices=("xlsx", "xls", "ods"), default="xlsx")
    args = parser.parse_args()
    # an installed package has its bytecode compiled; a checkout run with PYTHONDONTWRITEBYTECODE
    # would otherwise recompile every edited module on each run
    import compileall

    compileall.compile_dir(str(ROOT / "toolkit"), quiet=1)
    folder = ROOT / "benchmarks" / "data" / f"units{args.files}x{args.rows}"
    start = time.perf_counter()
    paths = generate(folder, args.files, args.rows)
    if args.format != "xlsx":
        paths = converted(folder, args.format)
        folder = paths[0].parent
    print(f"{len(paths)} files × {args.rows} rows in {folder} (ready in {time.perf_counter() - start:.1f} s)")
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    ours_cmd = [sys.executable, "-m", "toolkit", "stats", str(folder), "--by", "unit", "--json"]
    bare_cmd = [sys.executable, "-c", BARE, *map(str, paths)]
    ours, guarded, bare = [], [], []
    for _ in range(args.repeat):
        t, out = timed(bare_cmd)
        bare.append(t)
        t, _ = timed(ours_cmd, LEDGER_CONTAINED_READS="0")
        guarded.append(t)
        t, out = timed(ours_cmd)
        ours.append(t)
    import json

    units = json.loads(out)["units"]
    assert len(units) == args.files, len(units)
    print(f"{'':28}{'min':>8}{'median':>8}  (s, {args.repeat} runs each, alternating)")
    print(f"{'ledger stats --by unit':28}{min(ours):8.2f}{statistics.median(ours):8.2f}")
    print(f"{'  same, all reads guarded':28}{min(guarded):8.2f}{statistics.median(guarded):8.2f}")
    print(f"{'bare calamine, serial':28}{min(bare):8.2f}{statistics.median(bare):8.2f}")
    ratio = statistics.median(ours) / statistics.median(bare)
    verdict = "OK: no slower" if ratio <= 1.0 else "SLOWER than the target"
    print(f"ours / bare (median): {ratio:.2f} — {verdict}")
    # the same per round (each round's runs a second apart): a busy spell spoils a round, not the verdict
    rounds = sorted(o / b for o, b in zip(ours, bare, strict=True))
    print(
        f"ours / bare per round: median {statistics.median(rounds):.2f}, best {rounds[0]:.2f}, worst {rounds[-1]:.2f}"
    )


if __name__ == "__main__":
    main()
