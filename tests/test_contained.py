"""Contained reads: roll-up workers let calamine read small files unmeasured, under limits (real files).

Whatever a contained read meets, the roll-up must say what the guarded read says: the same counts for
good files, the guard's sentence for hostile ones, and nothing from calamine on the terminal.
"""

from __future__ import annotations

import faulthandler
import os
import re
import signal
from datetime import date
from pathlib import Path

import pytest
from filemakers import NS, build_package, far_cells, header_row_xml, inline, sheet_xml
from unit_workbooks import write_unit_ledger

import toolkit.guard as guard
from toolkit import fastpath
from toolkit.units import FORKED_WORKERS, collect_files, run_many, summarize_file

pytestmark = pytest.mark.skipif(not FORKED_WORKERS, reason="contained reads happen in forked workers")

AS_OF = date(2024, 12, 1)


def _ledger_rows(status_cell: str, with_refs: bool = True) -> str:
    """The header and one item (its 完成状态 cell given as XML), with or without r="…" references."""
    values = ["1", "理论学习", "学习不深入", "制定计划", "张三", "党政办", "李四", "2024年6月30日"]
    rows = (
        header_row_xml() + '<row r="2">' + "".join(inline(f"{chr(65 + i)}2", v) for i, v in enumerate(values))
    )
    rows += status_cell + "</row>"
    if not with_refs:
        rows = re.sub(r' r="[A-Z]*\d+"', "", rows)
    return rows


def _prefixed(rows: str) -> str:
    """The same sheet with every element under a namespace prefix (XML allows it; Excel never writes it)."""
    for tag in ("c", "is", "t", "row"):
        rows = rows.replace(f"<{tag} ", f"<x:{tag} ").replace(f"<{tag}>", f"<x:{tag}>")
        rows = rows.replace(f"</{tag}>", f"</x:{tag}>")
    xml = sheet_xml(rows).replace("<sheetData>", "<x:sheetData>").replace("</sheetData>", "</x:sheetData>")
    return xml.replace(f'<worksheet xmlns="{NS}">', f'<x:worksheet xmlns:x="{NS}">').replace(
        "</worksheet>", "</x:worksheet>"
    )


@pytest.fixture(scope="module")
def mixed_dir(tmp_path_factory) -> Path:
    """Good units, hostile used ranges in several spellings, and odd but harmless sheets."""
    d = tmp_path_factory.mktemp("contained")
    write_unit_ledger(d / "01甲.xlsx", unit="甲街道", done=17, total=17)
    write_unit_ledger(d / "02乙.xlsx", unit="乙街道", done=12, total=17, overdue=3)
    sheet = "xl/worksheets/sheet1.xml"
    build_package(d / "03远端单元格.xlsx", {sheet: sheet_xml(far_cells())})
    build_package(d / "04单引号.xlsx", {sheet: sheet_xml(far_cells(quote="'"))})
    build_package(d / "05等号空格.xlsx", {sheet: sheet_xml(far_cells(eq=" = "))})
    build_package(d / "06前缀.xlsx", {sheet: _prefixed(far_cells())})
    wide = '<row r="2">' + "".join(inline(f"{c}2", "x") for c in ("AA", "ZZ", "AMJ")) + "</row>"
    tall = '<row r="1048576">' + inline("A1048576", "x") + "</row>"
    build_package(d / "07宽行加高行.xlsx", {sheet: sheet_xml(header_row_xml() + wide + tall)})
    error = '<c r="I2" t="e"><f>1/0</f><v>#DIV/0!</v></c>'  # 完成状态 shows an error value
    build_package(d / "08状态出错.xlsx", {sheet: sheet_xml(_ledger_rows(error))})
    build_package(
        d / "09无引用.xlsx", {sheet: sheet_xml(_ledger_rows(inline("I2", "已完成"), with_refs=False))}
    )
    write_unit_ledger(d / "10丙.xlsx", unit="丙社区", done=9, total=10, overdue=1)
    return d


def _outcomes(results) -> list[tuple]:
    return [(Path(r.file).name, r.unit, r.reason, r.total and r.total.as_dict()) for r in results]


def test_contained_workers_say_what_the_guarded_read_says(mixed_dir, capfd):
    files = collect_files([mixed_dir])
    serial = _outcomes(run_many(files, AS_OF, jobs=1))  # in this process: guarded, nothing contained
    parallel = _outcomes(run_many(files, AS_OF, jobs=2))
    assert parallel == serial
    reasons = {name: reason for name, _, reason, _ in parallel}
    for name in ("03远端单元格.xlsx", "04单引号.xlsx", "05等号空格.xlsx", "06前缀.xlsx", "07宽行加高行.xlsx"):
        assert "异常庞大" in reasons[name] or "异常退出" in reasons[name], (name, reasons[name])
    assert "XFD1048576" in reasons["03远端单元格.xlsx"]
    for name in ("01甲.xlsx", "02乙.xlsx", "08状态出错.xlsx", "09无引用.xlsx", "10丙.xlsx"):
        assert reasons[name] == "", (name, reasons[name])
    totals = {name: total for name, _, _, total in parallel}
    assert totals["08状态出错.xlsx"]["unknown"] == 1
    # the error value is seen as one (a finding of its own), not as a blank 完成状态 (missing-value)
    erring = list(run_many([mixed_dir / "08状态出错.xlsx"] * 3, AS_OF, "merge", jobs=2))
    assert [r.findings for r in erring] == [{"formula-error": 1}] * 3
    assert totals["09无引用.xlsx"]["completed"] == 1
    err = capfd.readouterr().err
    assert "memory allocation" not in err and "backtrace" not in err, err[-2000:]


def test_small_files_are_read_unmeasured_in_the_workers(mixed_dir, tmp_path, monkeypatch):
    """The point of containing: no extent measuring for good small files (it would fail this test)."""
    log = tmp_path / "measured.log"
    real = guard._measure_chunk

    def logged(data, scan, first):
        with log.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(data, scan, first)

    monkeypatch.setattr(guard, "_measure_chunk", logged)
    good = [mixed_dir / n for n in ("01甲.xlsx", "02乙.xlsx", "08状态出错.xlsx", "10丙.xlsx")]
    results = list(run_many(good, AS_OF, jobs=2))
    assert all(r.ok for r in results)
    assert not log.exists()
    monkeypatch.setenv("LEDGER_CONTAINED_READS", "0")  # the way out: every read guarded
    assert all(r.ok for r in run_many(good, AS_OF, jobs=2))
    assert log.exists()  # the guarded read does measure (and the stand-in works)


def test_a_runaway_contained_read_is_stopped_and_read_again_guarded(mixed_dir, monkeypatch):
    """A CPU budget too small for anything: every worker is killed by its timer, every file read again."""
    monkeypatch.setattr(fastpath, "CONTAINED_SECONDS", 1e-6)
    monkeypatch.setattr(fastpath, "CONTAINED_SECONDS_PER_MB", 0.0)
    files = collect_files([mixed_dir])
    assert _outcomes(run_many(files, AS_OF, jobs=2)) == _outcomes(run_many(files, AS_OF, jobs=1))


def test_running_out_of_contained_memory_reads_the_file_again_unconstrained(mixed_dir, monkeypatch):
    """No room beyond what the worker has mapped: calamine's allocations fail and it aborts; the worker
    ends and each file is read again without the limit, with the same results."""
    monkeypatch.setattr(fastpath, "CONTAINED_MEMORY", 0)
    files = [mixed_dir / n for n in ("01甲.xlsx", "02乙.xlsx", "03远端单元格.xlsx", "10丙.xlsx")]
    assert _outcomes(run_many(files, AS_OF, jobs=2)) == _outcomes(run_many(files, AS_OF, jobs=1))


@pytest.mark.parametrize("failure", [MemoryError, ImportError])
def test_an_unexpected_failure_under_containment_is_not_the_files_fault(mixed_dir, monkeypatch, failure):
    """MemoryError while contained means the worker's limit, not the machine's; anything unexpected (a
    library that could not be mapped under the limit) may be the limits' doing too: read the file again."""
    import toolkit.units.summary

    real = toolkit.units.summary._read

    def failing_when_contained(path, config, *rest):
        if fastpath.contained():
            raise failure("failed to map segment from shared object")
        return real(path, config, *rest)

    monkeypatch.setattr(toolkit.units.summary, "_read", failing_when_contained)
    files = [mixed_dir / n for n in ("01甲.xlsx", "02乙.xlsx", "10丙.xlsx")]
    parallel = _outcomes(run_many(files, AS_OF, jobs=2))
    assert parallel == _outcomes(run_many(files, AS_OF, jobs=1))
    assert all(reason == "" for _, _, reason, _ in parallel)


def test_a_range_that_fits_but_is_too_big_is_refused_on_what_calamine_read(mixed_dir, monkeypatch):
    """Below the memory limit calamine manages; the extent is then checked on its sheet, same sentence."""
    monkeypatch.setattr(guard, "MAX_CELLS", 100)  # a 17-row unit ledger now counts as absurd
    files = [mixed_dir / "01甲.xlsx", mixed_dir / "02乙.xlsx", mixed_dir / "10丙.xlsx"]
    serial = _outcomes(run_many(files, AS_OF, jobs=1))
    assert all("异常庞大" in reason for _, _, reason, _ in serial)
    assert _outcomes(run_many(files, AS_OF, jobs=2)) == serial


def _contained_child(path: Path) -> tuple[int, str]:
    """summarize_file under contained_read in a forked child: (wait status, reason or "ok")."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            faulthandler.disable()  # as the roll-up's workers do: the abort is expected
            with fastpath.contained_read(path.stat().st_size):
                result = summarize_file(str(path), AS_OF)
            os.write(write_end, (result.reason or "ok").encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        said = fh.read().decode()
    _, status = os.waitpid(pid, 0)
    return status, said


def test_calamine_aborting_on_a_hostile_range_ends_only_the_contained_process(mixed_dir):
    status, said = _contained_child(mixed_dir / "03远端单元格.xlsx")
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGABRT, (status, said)
    assert said == ""
    status, said = _contained_child(mixed_dir / "01甲.xlsx")
    assert os.WIFEXITED(status) and said == "ok"


def test_contained_read_restores_the_process_as_it_was(mixed_dir, monkeypatch):
    """Limits, timer, the SIGPROF handler (a profiler's, say) and stderr are as they were afterwards."""
    import resource

    def profilers_handler(signum, frame) -> None:
        pass

    monkeypatch.setattr(fastpath, "_contained", False)
    original = signal.signal(signal.SIGPROF, profilers_handler)
    stderr_target = os.readlink("/proc/self/fd/2") if os.path.exists("/proc/self/fd/2") else None
    before = (
        resource.getrlimit(resource.RLIMIT_AS),
        signal.getitimer(signal.ITIMER_PROF),
        signal.getsignal(signal.SIGPROF),
    )
    with fastpath.contained_read(1000):
        assert fastpath.contained()
        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        assert fastpath._mapped_bytes() <= limit <= fastpath._mapped_bytes() + fastpath.CONTAINED_MEMORY
    assert not fastpath.contained()
    after = (
        resource.getrlimit(resource.RLIMIT_AS),
        signal.getitimer(signal.ITIMER_PROF),
        signal.getsignal(signal.SIGPROF),
    )
    try:
        assert after == before
        assert after[2] is profilers_handler
        if stderr_target is not None:
            assert os.readlink("/proc/self/fd/2") == stderr_target
    finally:
        signal.signal(signal.SIGPROF, original)


def test_the_roll_up_runs_with_no_stderr_at_all(mixed_dir, ledger_cli):
    """Scheduled jobs sometimes close stderr (2>&-): containing must not need it, nor must the exit."""
    import json

    from conftest import run_ledger_without_stderr

    args = ("stats", mixed_dir, "--by", "unit", "--json", "--as-of", "2024-12-01")
    normal, closed = ledger_cli(*args), run_ledger_without_stderr(*args)
    assert closed.code == normal.code == 1  # the hostile files are listed as failures
    assert json.loads(closed.out) == json.loads(normal.out)


@pytest.fixture(scope="module")
def converted_dir(tmp_path_factory) -> Path:
    """Unit ledgers saved by LibreOffice as .xls and .ods (a status cell showing #DIV/0! in each)."""
    import shutil

    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) not installed")
    from filemakers import soffice_convert

    d = tmp_path_factory.mktemp("converted")
    source = write_unit_ledger(d / "src.xlsx", unit="丁街道", done=5, total=8, overdue=2, error_status=7)
    for fmt in ("xls", "ods"):
        converted = soffice_convert(source, fmt, d)
        for n in range(3):
            shutil.copy(converted, d / f"{n}丁街道.{fmt}")
        converted.unlink()
    source.unlink()
    return d


@pytest.mark.office
def test_xls_and_ods_are_read_in_the_contained_worker_as_the_child_reads_them(
    converted_dir, tmp_path, monkeypatch
):
    """A contained worker is a limited child already: no child per sheet (a fork each), same results."""
    import toolkit.sources

    log = tmp_path / "children.log"
    real = toolkit.sources._child_call

    def logged(*args):
        with log.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(*args)

    monkeypatch.setattr(toolkit.sources, "_child_call", logged)
    files = collect_files([converted_dir])
    assert len(files) == 6
    parallel = list(run_many(files, AS_OF, "merge", jobs=2))  # merge: findings per file come back too
    assert not log.exists()
    serial = list(run_many(files, AS_OF, "merge", jobs=1))
    assert log.exists()  # the guarded way does use a child (and the stand-in works)
    assert _outcomes(parallel) == _outcomes(serial)
    assert [(r.findings, r.rows) for r in parallel] == [(r.findings, r.rows) for r in serial]
    for result in parallel:
        assert (result.unit, result.reason) == ("丁街道", ""), result.file
        assert (result.total.total, result.total.completed) == (8, 5), result.file
        assert result.findings == {"overdue": 1, "formula-error": 1}, result.file  # #DIV/0! seen, not blank


def test_calamine_short_of_memory_under_containment_means_a_guarded_second_try(mixed_dir, monkeypatch):
    """A MemoryError out of calamine (not an abort) while contained is the limit's doing, not the file's."""
    import toolkit.sources

    real_open = toolkit.sources._open_book

    class ShortOfMemory:
        def __init__(self, book) -> None:
            self.book = book

        def __getattr__(self, name):
            return getattr(self.book, name)

        def get_sheet_by_name(self, name):
            if fastpath.contained():
                raise MemoryError
            return self.book.get_sheet_by_name(name)

    monkeypatch.setattr(toolkit.sources, "_open_book", lambda *args: ShortOfMemory(real_open(*args)))
    files = [mixed_dir / n for n in ("01甲.xlsx", "02乙.xlsx", "10丙.xlsx")]
    parallel = _outcomes(run_many(files, AS_OF, jobs=2))
    assert parallel == _outcomes(run_many(files, AS_OF, jobs=1))
    assert all(reason == "" for _, _, reason, _ in parallel)
