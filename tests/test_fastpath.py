"""toolkit.fastpath: the speed tricks change nothing a clerk sees, and LEDGER_FASTPATH=0 turns them all off."""

from __future__ import annotations

import gc
import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from builders import row, write_ledger
from conftest import run_ledger

from toolkit import fastpath

AS_OF = ("--as-of", "2024-12-31")


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    """A sample ledger as ``ledger new --sample`` writes it, with a few faults added by hand."""
    folder = tmp_path_factory.mktemp("fastpath")
    sample = folder / "样例.xlsx"
    assert run_ledger("new", sample, "--unit", "某街道", "--sample").code == 0
    faulty = [row(1), row(2, problem="二", status="已完城"), row(3, problem="三", owner="#REF!")]
    write_ledger(folder / "出错.xlsx", faulty, info=[("项目", "内容"), ("年度", "2024")])
    return folder


def _runs(folder: Path, tmp_path: Path, tag: str) -> list[tuple]:
    """validate (text, JSON, recording history), stats and validate --mark on copies of each workbook:
    what each says (command, exit code, stdout, stderr), then what --mark wrote into the file."""
    said: list[tuple] = []
    here = tmp_path / tag
    here.mkdir()
    backup_time = re.compile(r"-\d{8}-\d{6}")  # the backup's name says when it was made
    for source in sorted(folder.glob("*.xlsx")):
        path = Path(shutil.copy(source, here))
        history = ("--history", here / "history.sqlite")
        for args in (
            ("validate", *AS_OF, "--no-history"),
            ("validate", *AS_OF, "--json", "--no-history"),
            ("validate", *AS_OF, *history),
            ("stats", *AS_OF),
            ("stats", *AS_OF, "--by", "dept", "--json"),
            ("validate", *AS_OF, "--mark", "--no-history"),
        ):
            run = run_ledger(args[0], path, *args[1:])
            out = backup_time.sub("", run.out.replace(str(here), ""))
            said.append((source.name, str(args).replace(str(here), ""), run.code, out, run.err))
        with zipfile.ZipFile(path) as marked:
            said.append(
                (source.name, {n: marked.read(n) for n in marked.namelist() if not n.startswith("docProps/")})
            )
    return said


@pytest.mark.parametrize("scan_beside", [False, True], ids=["in-order", "scan-beside"])
def test_outputs_are_the_same_with_and_without_the_tricks(workbook, tmp_path, monkeypatch, scan_beside):
    if scan_beside:
        if not hasattr(os, "fork"):
            pytest.skip("needs fork")
        monkeypatch.setenv("LEDGER_PARALLEL_SCAN_BYTES", "0")  # every workbook counts as big
    monkeypatch.setenv(fastpath.SWITCH, "1")
    fast = _runs(workbook, tmp_path, "fast")
    monkeypatch.setenv(fastpath.SWITCH, "0")
    plain = _runs(workbook, tmp_path, "plain")
    assert fast == plain
    assert {said[2] for said in fast if len(said) == 5} >= {0, 1}  # clean and faulty ledgers both seen


def test_switched_off_nothing_forks_exits_early_or_stops_the_collector(workbook, monkeypatch):
    monkeypatch.setenv(fastpath.SWITCH, "0")
    monkeypatch.setenv("LEDGER_PARALLEL_SCAN_BYTES", "0")

    def no_fork() -> int:
        raise AssertionError("forked with LEDGER_FASTPATH=0")

    monkeypatch.setattr(os, "fork", no_fork, raising=False)
    monkeypatch.setattr(os, "_exit", no_fork)
    assert not fastpath.enabled()
    fastpath.read_one_workbook(workbook / "样例.xlsx")
    assert fastpath._kept is None and not fastpath.scanning_beside()
    fastpath.start_command()
    assert gc.isenabled()
    with pytest.raises(SystemExit) as ended:
        fastpath.exit_now(1)
    assert ended.value.code == 1


def test_the_switch_reads_the_environment(monkeypatch):
    monkeypatch.delenv(fastpath.SWITCH, raising=False)
    assert fastpath.enabled()
    monkeypatch.setenv(fastpath.SWITCH, "0")
    assert not fastpath.enabled()
