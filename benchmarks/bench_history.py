"""Benchmark: what a history snapshot of a 100k-row ledger costs, schema 2 (one blob) beside schema 1 (a row
per item, the module as of commit 9455dcf, loaded from git when the checkout has it).

In one process, CPU seconds (minimum of the runs, schema 1 and 2 alternating): building the snapshot from
the ledger, recording it into a new history file, loading its items back; and the history file's size per
snapshot. Three kinds of problem text, because the size depends on how repetitive the text is:

- ``bench``: the ledger of bench_validate.py (33 sample problems, each with a running number appended);
- ``phrases``: every problem a different mix of 3–6 phrases cut from the sample problems (closer to a real
  ledger, where the same wording recurs but whole sentences rarely do);
- ``random``: every problem 57 random common Chinese characters (the worst case: nothing repeats).

    python benchmarks/bench_history.py [--rows 100000] [--repeat 3] [--texts bench,phrases,random]
                                       [--first-snapshot 5]

Then (``--first-snapshot RUNS``) what the first snapshot of a day adds to validation in one process: recorded
after validation with full statistics (as before format 2), with only its own counts, and begun before
validation with its zlib work overlapping the rules (what ``ledger validate`` does).

``ledger validate`` end to end (with and without history, side by side) is in bench_validate.py.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

V1_COMMIT = "9455dcf"
AS_OF = date(2024, 12, 31)


def schema_1_module():
    """toolkit/history.py as it was when it wrote a row per item, or None."""
    from history_helpers import module_from_git

    return module_from_git(V1_COMMIT, "toolkit/history.py")


def problem_texts(kind: str, count: int) -> list[str] | None:
    """Replacement problem texts (None: keep the ledger's own)."""
    if kind == "bench":
        return None
    from toolkit.sample import SAMPLE_ROWS

    rng = random.Random(7)
    if kind == "phrases":
        phrases = sorted({p for row in SAMPLE_ROWS for p in re.split("[，。；]", str(row["problem"])) if p})
        return ["，".join(rng.sample(phrases, rng.randint(3, 6))) + "。" for _ in range(count)]
    common = [chr(c) for c in range(0x4E00, 0x4E00 + 3500)]
    return ["".join(rng.choices(common, k=57)) for _ in range(count)]


def cpu(action, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.process_time()
        result = action()
        best = min(best, time.process_time() - start)
    return best, result


def file_size(db: Path) -> int:
    return sum(os.path.getsize(f"{db}{s}") for s in ("", "-wal") if os.path.exists(f"{db}{s}"))


def measure(module, ledger, stats, folder: Path, label: str, repeat: int) -> dict:
    """Build, record into a fresh file (twice: two as-of dates), load back; sizes after one and two."""
    snap_cpu, snap = cpu(
        lambda: module.snapshot_from_ledger(ledger, stats, AS_OF, content_hash="bench"), repeat
    )
    runs = iter(range(10_000))

    def record_fresh():
        db = folder / f"{label}-{next(runs)}.sqlite"
        with module.HistoryStore(db) as store:
            store.record(snap)
        return db

    record_cpu, db = cpu(record_fresh, repeat)
    one = file_size(db)
    second = module.snapshot_from_ledger(ledger, stats, date(2025, 1, 31), content_hash="bench")
    with module.HistoryStore(db) as store:
        store.record(second)
    two = file_size(db)

    def load():
        with module.HistoryStore(db, readonly=True) as store:
            first = store.snapshots()[0]
            return len(list(store.load_details(first).items))

    load_cpu, count = cpu(load, repeat)
    assert count == len(ledger.items)
    return {"snapshot": snap_cpu, "record": record_cpu, "load": load_cpu, "one": one, "per": two - one}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--texts", default="bench,phrases,random")
    parser.add_argument("--first-snapshot", type=int, default=5, metavar="RUNS", help="0: skip")
    args = parser.parse_args()

    from bench_validate import build_ledger

    from toolkit import history
    from toolkit.read import read_ledger
    from toolkit.stats import ledger_stats

    old = schema_1_module()
    if old is None:
        print(f"(schema 1 not measured: commit {V1_COMMIT} is not in this checkout)")
    path = build_ledger(DATA / f"ledger-{args.rows}.xlsx", args.rows)
    ledger = read_ledger(path)
    originals = [item.values.get("problem", "") for item in ledger.items]
    stats = ledger_stats(ledger, AS_OF, "dimension", ledger.config)
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.texts.split(","):
            texts = problem_texts(kind, len(originals)) or originals
            # the reader's column store: its problem column (and the join the reader keeps) replaced
            ledger.items._cells["problem"] = texts
            ledger.items.joined["problem"] = "\x00".join(texts)
            for item, text in zip(ledger.items, texts, strict=True):  # and the Items made from it
                item.values["problem"] = text
            mb = sum(len(t.encode()) for t in texts) / 1e6
            print(f"{args.rows} items, problem texts '{kind}' ({mb:.1f} MB of UTF-8):")
            for name, module in (("schema 1", old), ("schema 2", history)):
                if module is None:
                    continue
                got = measure(module, ledger, stats, Path(tmp), f"{kind}-{name[-1]}", args.repeat)
                print(
                    f"  {name}: build {got['snapshot']:.3f} s  record {got['record']:.3f} s  "
                    f"load {got['load']:.3f} s CPU;  file {got['one'] / 1e6:6.2f} MB after one snapshot, "
                    f"+{got['per'] / 1e6:.2f} MB per further snapshot"
                )

    if args.first_snapshot:
        first_snapshot(path, args.first_snapshot)


def first_snapshot(path: Path, repeat: int) -> None:
    """What ``ledger validate`` adds for the first snapshot of a day, in one process (less noisy than whole
    commands): validation alone; validation, then the snapshot recorded (full statistics, as up to format 1;
    only what it keeps); the snapshot begun before validation and compressed while it runs (the CLI's way).
    A fresh ledger each run (columns are worked out once and then kept), medians over the runs."""
    import gc
    import statistics

    from toolkit import history
    from toolkit.read import read_ledger
    from toolkit.stats import ledger_stats
    from toolkit.validate import validate_ledger

    gc.disable()  # as the CLI
    history.file_hash(path)  # the CLI's warm-up thread hashes the file while calamine parses
    with tempfile.TemporaryDirectory() as tmp:
        dbs = iter(Path(tmp, f"{n}.sqlite") for n in range(10_000))

        def validate(ledger) -> None:
            validate_ledger(ledger, AS_OF, ledger.config)

        def with_stats(ledger) -> None:
            validate(ledger)
            stats = ledger_stats(ledger, AS_OF, "dimension", ledger.config)
            history.write_snapshot(ledger, stats, AS_OF, next(dbs))

        def counted(ledger) -> None:
            validate(ledger)
            history.write_snapshot(ledger, None, AS_OF, next(dbs))

        def begun(ledger) -> None:
            db = next(dbs)
            started = history.begin_snapshot(ledger, AS_OF, db)
            validate(ledger)
            history.write_begun(started, db)

        ways = {
            "validation alone": validate,
            "+ snapshot after it, full statistics": with_stats,
            "+ snapshot after it, its own counts": counted,
            "+ snapshot begun before it (CLI)": begun,
        }
        walls: dict[str, list[float]] = {name: [] for name in ways}
        cpus: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(repeat):
            for name, way in ways.items():
                ledger = read_ledger(path)
                wall, cpu = time.perf_counter(), time.process_time()
                way(ledger)
                walls[name].append(time.perf_counter() - wall)
                cpus[name].append(time.process_time() - cpu)
    base_wall = statistics.median(walls["validation alone"])
    base_cpu = statistics.median(cpus["validation alone"])
    print(f"first snapshot of a day, in one process ({repeat} runs, medians):")
    for name in ways:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(
            f"  {name:38s} wall {wall * 1000:6.1f} ms ({(wall - base_wall) * 1000:+6.1f})  "
            f"CPU {cpu * 1000:6.1f} ms ({(cpu - base_cpu) * 1000:+6.1f})"
        )


if __name__ == "__main__":
    main()
