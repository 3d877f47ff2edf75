"""The Windows bundle's set-up, uninstall and drag-and-drop actions (toolkit/winsetup.py), on a user folder
laid out as Windows lays it out. What only Windows can show (pythonw.exe starting, Explorer's SendTo menu,
cmd.exe running the .bat files) is the Wine smoke test's; here: which bytes land where, and what is kept."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import ROOT
from toolkit import winsetup
from toolkit.winsetup import INTERPRETER_VALUE, KIT_NAME, Places, SetupError

SAMPLE = ROOT / "workbooks" / "示例台账.xlsx"


def make_kit(folder: Path, guide: str = "说明 v1") -> Path:
    """An unzipped kit as the bundle lays it out (the interpreter's files are stand-ins: nothing here runs them)."""
    kit = folder / KIT_NAME
    (kit / "python" / "Lib" / "site-packages").mkdir(parents=True)
    for name in ("python.exe", "pythonw.exe", "python312.dll"):
        (kit / "python" / name).write_bytes(b"MZ" + name.encode())
    for name in ("ledger.bat", "安装.bat", "卸载.bat", "校验台账.bat", "生成通报.bat", "清除标记.bat"):
        (kit / name).write_bytes(b"@echo off\r\n")
    (kit / "台账.xlsm").write_bytes(b"blank workbook")
    (kit / "使用说明.txt").write_text(guide, "utf-8")
    return kit


@pytest.fixture
def places(tmp_path: Path) -> Places:
    """A Chinese user's folders (the user name is Chinese, as it often is)."""
    home = tmp_path / "Users" / "张三"
    return Places(home / "AppData" / "Local", home / "AppData" / "Roaming", home)


def conf_lines(places: Places) -> list[str]:
    return places.conf.read_bytes().decode("cp936").split("\r\n")


def test_install_copies_kit_writes_conf_in_ansi_with_variable_unexpanded_and_sendto(tmp_path, places):
    source = make_kit(tmp_path / "U盘 目录")
    message = winsetup.install(source, places, run_python=False)

    assert message.startswith("安装完成") and message.count("。") == 1
    assert (places.kit / "python" / "pythonw.exe").read_bytes() == b"MZpythonw.exe"
    assert (places.kit / "台账.xlsm").read_bytes() == b"blank workbook"
    # the value xlwings expands itself: the Chinese user name never passes through a code page
    raw = places.conf.read_bytes()
    expected = '"INTERPRETER_WIN","%LOCALAPPDATA%\\整改台账工具箱\\python\\pythonw.exe"\r\n'
    assert raw == expected.encode("cp936")
    assert "张三".encode("cp936") not in raw
    sendto = {p.name: p.read_bytes() for p in places.sendto.iterdir()}
    assert sorted(sendto) == sorted(winsetup.SENDTO_ENTRIES)
    assert sendto["整改台账 校验台账.bat"].decode("cp936").splitlines()[-1] == (
        'call "%LOCALAPPDATA%\\整改台账工具箱\\校验台账.bat" %*'
    )
    assert winsetup.self_check(places, run_python=False) == []


def test_install_merges_with_an_existing_conf_and_uninstall_restores_it(tmp_path, places):
    places.conf.parent.mkdir(parents=True)
    theirs = '"PYTHONPATH","D:\\我的脚本"\r\n"Interpreter_Win","C:\\Python311\\pythonw.exe"\r\n"UDF Modules","m"\r\n'
    places.conf.write_bytes(theirs.encode("cp936"))

    winsetup.install(make_kit(tmp_path / "src"), places, run_python=False)
    assert conf_lines(places) == [
        '"PYTHONPATH","D:\\我的脚本"',
        '"UDF Modules","m"',
        f'"INTERPRETER_WIN","{INTERPRETER_VALUE}"',
        "",
    ]
    winsetup.install(make_kit(tmp_path / "src2"), places, run_python=False)  # again: one entry, backup kept
    assert conf_lines(places).count(f'"INTERPRETER_WIN","{INTERPRETER_VALUE}"') == 1
    assert places.conf.with_name("xlwings.conf.bak").read_bytes() == theirs.encode("cp936")

    winsetup.uninstall(places)
    assert conf_lines(places) == [
        '"PYTHONPATH","D:\\我的脚本"',
        '"UDF Modules","m"',
        '"INTERPRETER_WIN","C:\\Python311\\pythonw.exe"',
        "",
    ]
    assert not places.conf.with_name("xlwings.conf.bak").exists()


def test_a_utf8_conf_is_read_as_utf8_and_written_back_in_the_ansi_code_page(tmp_path, places):
    places.conf.parent.mkdir(parents=True)
    places.conf.write_bytes('"PYTHONPATH","D:\\整改脚本"\n'.encode())
    winsetup.install(make_kit(tmp_path / "src"), places, run_python=False)
    assert conf_lines(places)[0] == '"PYTHONPATH","D:\\整改脚本"'


def test_a_code_page_without_chinese_is_refused_with_one_sentence(tmp_path):
    places = Places(tmp_path / "L", tmp_path / "R", tmp_path / "U", ansi="cp1252", oem="cp437")
    with pytest.raises(SetupError) as caught:
        winsetup.install(make_kit(tmp_path / "src"), places, run_python=False)
    assert str(caught.value).count("。") == 1 and "cp1252" in str(caught.value)
    assert not places.conf.exists()


def test_install_refuses_a_folder_that_is_not_the_kit(tmp_path, places):
    with pytest.raises(SetupError, match="完整解压"):
        winsetup.install(tmp_path, places, run_python=False)
    assert not places.kit.exists()


def test_update_keeps_the_users_files_and_takes_the_new_kit(tmp_path, places):
    winsetup.install(make_kit(tmp_path / "v1", guide="说明 v1"), places, run_python=False)
    (places.kit / "台账.xlsm").write_bytes(b"filled in by the clerk")
    (places.kit / "通报" / "2024年通报.docx").parent.mkdir()
    (places.kit / "通报" / "2024年通报.docx").write_bytes(b"report")

    winsetup.install(make_kit(tmp_path / "v2", guide="说明 v2"), places, run_python=False)
    assert (places.kit / "使用说明.txt").read_text("utf-8") == "说明 v2"
    assert (places.kit / "台账.xlsm").read_bytes() == b"filled in by the clerk"
    assert (places.kit / "通报" / "2024年通报.docx").read_bytes() == b"report"
    assert sorted(p.name for p in places.localappdata.iterdir()) == [KIT_NAME]  # no .new/.old left


def test_uninstall_removes_ours_and_keeps_the_users_and_foreign_sendto_entries(tmp_path, places):
    winsetup.install(make_kit(tmp_path / "src"), places, run_python=False)
    (places.kit / "我的台账.xlsm").write_bytes(b"mine")
    (places.kit / "python" / "__pycache__").mkdir()
    (places.kit / "python" / "__pycache__" / "x.pyc").write_bytes(b"")
    foreign = places.sendto / "记事本.lnk"
    foreign.write_bytes(b"shortcut")

    message = winsetup.uninstall(places)
    assert message.count("。") == 1 and "我的台账.xlsm" in message
    remaining = sorted(p.relative_to(places.localappdata).as_posix() for p in places.localappdata.rglob("*"))
    assert remaining == [KIT_NAME, f"{KIT_NAME}/我的台账.xlsm"]
    assert sorted(p.name for p in places.sendto.iterdir()) == ["记事本.lnk"]
    assert not places.conf.exists()
    assert winsetup.uninstall(places).startswith("卸载完成")  # twice is harmless


def test_self_check_names_what_is_missing(tmp_path, places):
    winsetup.install(make_kit(tmp_path / "src"), places, run_python=False)
    places.conf.write_bytes(b'"INTERPRETER_WIN","C:\\Python311\\pythonw.exe"\r\n')
    (places.sendto / "整改台账 生成通报.bat").unlink()
    problems = winsetup.self_check(places, run_python=False)
    assert [p.split(" ")[0] for p in problems] == ["xlwings", "“发送到”菜单缺少“整改台账"]


def run_action(*args: str | os.PathLike) -> subprocess.CompletedProcess[str]:
    """What a dropped file does: the .bat runs ``python -X utf8 -m toolkit.winsetup ACTION FILE…``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    env.pop("PYTHONUNBUFFERED", None)  # as on the clerk's PC
    return subprocess.run(
        [sys.executable, "-X", "utf8", "-m", "toolkit.winsetup", *map(str, args)],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300,
    )  # fmt: skip


def test_drag_and_drop_validate_marks_each_file_and_clear_removes_the_marks(tmp_path):
    folder = tmp_path / "整改 台账"
    folder.mkdir()
    first, second = folder / "一.xlsx", folder / "二.xlsx"
    shutil.copy(SAMPLE, first)
    shutil.copy(SAMPLE, second)

    proc = run_action("validate", first, second)
    assert proc.returncode == 1, proc.stderr  # the sample has errors: the same code as `ledger validate`
    headers = [line for line in proc.stdout.splitlines() if line.startswith("【")]
    assert headers == [f"【1/2】{first}", f"【2/2】{second}"] and proc.stdout.startswith(headers[0])
    assert proc.stdout.index(headers[1]) > proc.stdout.index("一-")  # the first file's backup comes before
    for path in (first, second):
        assert "校验结果" in openpyxl.load_workbook(path).sheetnames

    assert run_action("clear", first).returncode == 0
    assert "校验结果" not in openpyxl.load_workbook(first).sheetnames
    assert "校验结果" in openpyxl.load_workbook(second).sheetnames


def test_drag_and_drop_report_writes_the_report_despite_errors_and_says_so(tmp_path):
    ledger = tmp_path / "台账.xlsx"
    shutil.copy(SAMPLE, ledger)
    proc = run_action("report", ledger)
    assert proc.returncode == 0, proc.stderr
    assert "数字可能不准确" in proc.stderr
    assert [p.suffix for p in tmp_path.iterdir() if p != ledger and p.suffix == ".docx"] == [".docx"]


def test_drag_and_drop_without_a_file_or_with_a_bad_file_says_what_to_do(tmp_path):
    proc = run_action("validate")
    assert (proc.returncode, proc.stdout.count("。")) == (2, 1)
    bad = tmp_path / "不是台账.xlsx"
    bad.write_text("hello", "utf-8")
    proc = run_action("validate", bad)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr + proc.stdout


def test_ledger_new_from_the_bundle_leaves_the_interpreter_to_the_set_up(tmp_path, monkeypatch):
    """`ledger.bat new 台账.xlsm` runs the unzipped folder's python.exe: writing that path into the workbook
    would break the buttons once the folder is moved or deleted (the guide says it may be)."""
    from toolkit.workbook import default_interpreter, new_ledger

    kit = make_kit(tmp_path / "解压 目录")
    (kit / "python" / "python312._pth").write_bytes(b"python312.zip\r\n.\r\nimport site\r\n")
    monkeypatch.setattr(sys, "executable", str(kit / "python" / "python.exe"))
    assert default_interpreter() is None
    path = new_ledger(tmp_path / "新台账.xlsm")
    conf = openpyxl.load_workbook(path)["xlwings.conf"]
    assert [row[0] for row in conf.iter_rows(values_only=True) if str(row[0]).startswith("Interpreter")] == []

    (kit / "ledger.bat").unlink()  # a Python that is not the bundle's: its own path, as before
    assert default_interpreter() == str(kit / "python" / "python.exe")


def test_a_kit_whose_python_cannot_run_fails_the_self_check_in_one_sentence(tmp_path, places):
    """The self-check starts the installed python.exe; the stand-in here cannot run, as a damaged copy."""
    with pytest.raises(SetupError) as caught:
        winsetup.install(make_kit(tmp_path / "src"), places, run_python=True)
    message = str(caught.value)
    assert message.startswith("安装未完成") and "无法运行" in message and message.count("。") == 1
