"""Safe saving: the original survives every failure, lock files send the marks to a copy, backups rotate."""

from __future__ import annotations

import errno
import importlib.util
import os
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
from conftest import run_ledger
from markbooks import findings_for, full_workbook, read_parts

from toolkit import safesave, xlsx
from toolkit.errors import OutputError
from toolkit.model import Ledger, Report

ROOT = Path(__file__).resolve().parents[1]


def ledger_and_report(path: Path):
    return Ledger(str(path), "台账", 1, {}, {}, [], []), Report(
        str(path), "台账", date(2024, 12, 31), 12, findings_for(12)
    )


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.fixture
def book(tmp_path) -> Path:
    return full_workbook(tmp_path)


def sample(tmp_path: Path) -> Path:
    spec = importlib.util.spec_from_file_location("build_sample", ROOT / "workbooks" / "build_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_sample(tmp_path / "示例台账.xlsx")


# --------------------------------------------------------------------------- the happy path


def test_mark_file_replaces_atomically_with_backup(book):
    raw = book.read_bytes()
    mode = 0o640
    os.chmod(book, mode)
    result = xlsx.mark_file(book, *ledger_and_report(book))
    assert not result.to_copy and result.target == book
    assert result.backup.read_bytes() == raw  # the backup is the user's file as it was
    assert result.backup.parent.name == safesave.BACKUP_DIR
    assert (book.stat().st_mode & 0o777) == mode and (result.backup.stat().st_mode & 0o777) == mode
    assert "校验结果" in result.message and "备份" in result.message
    with zipfile.ZipFile(book) as zf:
        assert zf.testzip() is None
    assert leftovers(book.parent) == []
    cleared = xlsx.clear_file(book)
    assert cleared.changed and read_parts(book.read_bytes()) == read_parts(raw)


def test_backups_keep_the_last_five(book):
    contents = []
    for i in range(7):
        contents.append(book.read_bytes())
        safesave.replace_file(
            book, contents[-1] + b"" if i == 0 else book.read_bytes(), original=book.read_bytes()
        )
        book.write_bytes(book.read_bytes() + bytes([i]))  # the user edits between runs
    backups = sorted((book.parent / safesave.BACKUP_DIR).iterdir())
    assert len(backups) == 5
    assert all(b.name.startswith("台账-") and b.suffix == ".xlsx" for b in backups)


def test_clear_on_unmarked_file_writes_nothing(book):
    raw = book.read_bytes()
    result = xlsx.clear_file(book)
    assert not result.changed and "没有" in result.message
    assert book.read_bytes() == raw and not (book.parent / safesave.BACKUP_DIR).exists()


# --------------------------------------------------------------------------- open elsewhere


@pytest.mark.parametrize("lock", ["~$台账.xlsx", ".~lock.台账.xlsx#"], ids=["excel-wps", "libreoffice"])
def test_lock_file_sends_marks_to_a_copy(book, lock):
    (book.parent / lock).write_bytes(b"user")
    raw = book.read_bytes()
    result = xlsx.mark_file(book, *ledger_and_report(book))
    assert book.read_bytes() == raw
    assert result.to_copy and result.lossless and result.target == book.with_name("台账.校验结果.xlsx")
    assert "关闭" in result.message and "原文件未改动" in result.message
    parts = read_parts(result.target.read_bytes())
    assert any(n.startswith("customXml/") for n in parts)
    for name, data in read_parts(raw).items():  # the copy is the full workbook, VBA/drawings and all
        if not name.startswith(
            (
                "xl/worksheets/sheet1",
                "xl/workbook",
                "xl/_rels",
                "xl/styles",
                "[Content",
                "xl/comments",
                "xl/drawings/vml",
            )
        ):
            assert parts[name] == data
    with pytest.raises(safesave.FileInUseError, match="关闭"):
        safesave.replace_file(book, b"x", original=raw)
    assert book.read_bytes() == raw


def test_cli_mark_with_lock_file_exits_3(tmp_path):
    path = sample(tmp_path)
    raw = path.read_bytes()
    (tmp_path / "~$示例台账.xlsx").write_bytes(b"")
    run = run_ledger("validate", path, "--as-of", "2024-12-31", "--mark")
    assert run.code == 3, run.err
    assert path.read_bytes() == raw
    assert "示例台账.校验结果.xlsx" in run.err and "关闭" in run.err
    assert (tmp_path / "示例台账.校验结果.xlsx").exists()


# --------------------------------------------------------------------------- failures


def test_read_only_file(book):
    raw = book.read_bytes()
    os.chmod(book, 0o444)
    try:
        with pytest.raises(OutputError, match="只读"):
            xlsx.mark_file(book, *ledger_and_report(book))
    finally:
        os.chmod(book, 0o644)
    assert book.read_bytes() == raw and leftovers(book.parent) == []


def test_cli_read_only_file_is_one_sentence_exit_2(tmp_path):
    path = sample(tmp_path)
    raw = path.read_bytes()
    os.chmod(path, 0o444)
    try:
        run = run_ledger("validate", path, "--as-of", "2024-12-31", "--mark")
    finally:
        os.chmod(path, 0o644)
    assert run.code == 2 and "只读" in run.err and "Traceback" not in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert path.read_bytes() == raw


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_real(book):
    raw = book.read_bytes()
    os.chmod(book.parent, 0o555)
    try:
        with pytest.raises(OutputError, match="没有权限"):
            xlsx.mark_file(book, *ledger_and_report(book))
    finally:
        os.chmod(book.parent, 0o755)
    assert book.read_bytes() == raw


def test_read_only_folder_simulated(book, monkeypatch):
    raw = book.read_bytes()

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(safesave.tempfile, "mkstemp", refuse)
    with pytest.raises(OutputError, match="没有权限"):
        xlsx.mark_file(book, *ledger_and_report(book))
    assert book.read_bytes() == raw


def test_disk_full_halfway_through_the_write(book, monkeypatch):
    raw = book.read_bytes()
    real = safesave._write_all

    def half_then_full(fd, data):
        real(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safesave, "_write_all", half_then_full)
    with pytest.raises(OutputError, match="磁盘空间不足"):
        xlsx.mark_file(book, *ledger_and_report(book))
    assert book.read_bytes() == raw and leftovers(book.parent) == []


def test_replace_fails(book, monkeypatch):
    raw = book.read_bytes()
    real = os.replace

    def fail_on_original(src, dst):
        if Path(dst) == book:
            raise OSError(errno.EIO, "I/O error")
        return real(src, dst)

    monkeypatch.setattr(safesave.os, "replace", fail_on_original)
    with pytest.raises(OutputError, match="原文件未改动"):
        xlsx.mark_file(book, *ledger_and_report(book))
    assert book.read_bytes() == raw and leftovers(book.parent) == []


def test_zip_write_raises_midway(book, monkeypatch):
    raw = book.read_bytes()
    calls = {"n": 0}
    real = zipfile.ZipFile.writestr

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(errno.EIO, "boom")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", flaky)
    with pytest.raises(OSError):
        xlsx.mark_file(book, *ledger_and_report(book))
    assert book.read_bytes() == raw and leftovers(book.parent) == []


def test_failed_read_back_keeps_the_original(book):
    raw = book.read_bytes()

    def verify(tmp: Path) -> None:
        raise ValueError("not what we wrote")

    with pytest.raises(OutputError, match="读回检查"):
        safesave.replace_file(book, b"broken", original=raw, verify=verify)
    assert book.read_bytes() == raw and leftovers(book.parent) == []


def test_read_back_catches_a_broken_package(book):
    raw = book.read_bytes()
    verify = xlsx.make_verifier(["台账", "其他"], "台账", 13)
    with pytest.raises(OutputError):
        safesave.replace_file(book, raw[: len(raw) // 2], original=raw, verify=verify)
    assert book.read_bytes() == raw


def test_file_changed_while_we_worked(book):
    raw = book.read_bytes()

    def user_saves_meanwhile(tmp: Path) -> None:
        book.write_bytes(raw + b"user")

    with pytest.raises(safesave.FileChangedError, match="被修改"):
        safesave.replace_file(book, raw, original=raw, verify=user_saves_meanwhile)
    assert book.read_bytes() == raw + b"user"
    assert leftovers(book.parent) == []


def test_only_xlsx_and_xlsm_are_marked(tmp_path):
    path = tmp_path / "台账.xls"
    path.write_bytes(b"whatever")
    with pytest.raises(OutputError, match=r"另存为 \.xlsx"):
        xlsx.mark_file(path, *ledger_and_report(path))


# --------------------------------------------------------------------------- end to end through the CLI


def test_cli_mark_twice_then_clear_on_the_sample(tmp_path):
    path = sample(tmp_path)
    raw = path.read_bytes()
    first = run_ledger("validate", path, "--as-of", "2024-12-31", "--mark")
    assert first.code == 1, first.err  # the sample has errors
    assert "已标记" in first.out and "备份" in first.out
    once = path.read_bytes()
    second = run_ledger("validate", path, "--as-of", "2024-12-31", "--mark", "--json")
    assert second.code == 1 and second.json()["errors"] > 0 and "已标记" in second.err
    assert read_parts(path.read_bytes()) == read_parts(once)
    # the marked workbook still validates to the same findings (our sheet and marks are invisible to it)
    again = run_ledger("validate", path, "--as-of", "2024-12-31", "--json")
    assert again.json()["issues"] == second.json()["issues"]
    cleared = run_ledger("clear", path)
    assert cleared.code == 0 and "已清除" in cleared.out
    assert read_parts(path.read_bytes()) == read_parts(raw)
    backups = sorted((tmp_path / safesave.BACKUP_DIR).iterdir())
    assert len(backups) == 3
    assert any(b.read_bytes() == raw for b in backups)
    shutil.rmtree(tmp_path / safesave.BACKUP_DIR)


def test_cli_clear_on_an_open_workbook_leaves_it_alone(tmp_path):
    path = sample(tmp_path)
    assert run_ledger("validate", path, "--as-of", "2024-12-31", "--mark").code == 1
    marked = path.read_bytes()
    lock = tmp_path / ".~lock.示例台账.xlsx#"
    lock.write_text("x")
    run = run_ledger("clear", path)
    assert run.code == 2 and "关闭" in run.err and "Traceback" not in run.err
    assert path.read_bytes() == marked
    lock.unlink()
    assert run_ledger("clear", path).code == 0


def test_cli_clear_of_a_missing_file(tmp_path):
    run = run_ledger("clear", tmp_path / "没有.xlsx")
    assert run.code == 2 and "找不到" in run.err and "Traceback" not in run.err


def test_a_symlinked_workbook_stays_a_link(book, tmp_path):
    link = tmp_path / "link" / "台账.xlsx"
    link.parent.mkdir()
    link.symlink_to(book)
    raw = book.read_bytes()
    result = xlsx.mark_file(link, *ledger_and_report(link))
    assert link.is_symlink() and not result.to_copy
    assert book.read_bytes() != raw and result.backup.read_bytes() == raw
    assert result.backup.parent == book.parent / safesave.BACKUP_DIR


def test_no_findings_still_replaces_old_marks(book):
    raw = book.read_bytes()
    xlsx.mark_file(book, *ledger_and_report(book))
    ledger, _ = ledger_and_report(book)
    result = xlsx.mark_file(book, ledger, Report(str(book), "台账", date(2024, 12, 31), 12, []))
    assert result.stats.cells == 0 and result.stats.comments == 0
    from openpyxl import load_workbook

    wb = load_workbook(book)
    assert [[c.value for c in r] for r in wb["校验结果"].iter_rows()][1][4] == "未发现问题。"
    assert wb["台账"]["F4"].comment is None
    xlsx.clear_file(book)
    assert read_parts(book.read_bytes()) == read_parts(raw)


def test_the_lock_of_another_workbook_does_not_count(book):
    (book.parent / "~$账.xlsx").write_bytes(b"")  # locks of other workbooks
    (book.parent / "~$其他.xlsx").write_bytes(b"")
    assert safesave.lock_files(book) == []
    result = xlsx.mark_file(book, *ledger_and_report(book))
    assert not result.to_copy
