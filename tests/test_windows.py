"""Windows failure modes that show on any machine: the code page of redirected output, the folder named in
a permission error. (Those that need Windows itself run under Wine: tests/test_wine.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_ledger


def ledger_in_code_page(*args: str | os.PathLike, encoding: str, cwd: Path | None = None):
    """``python -m toolkit …`` with stdout and stderr encoded as on a Chinese PC with output redirected."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING=encoding, PYTHONUTF8="0")
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *map(str, args)], capture_output=True, env=env, cwd=cwd, timeout=120
    )


def ledger_with_emoji(path: Path) -> Path:
    """The sample whose misspelt status (已完城) reads 已完成✅: quoted in the finding; no ✅ in cp936."""
    import openpyxl

    book = openpyxl.load_workbook(ROOT / "workbooks" / "示例台账.xlsx")
    (cell,) = [c for row in book["台账"].iter_rows() for c in row if c.value == "已完城"]
    cell.value = "已完成✅"
    book.save(path)
    return path


def test_redirected_output_in_cp936_replaces_what_it_cannot_hold(tmp_path):
    ledger_with_emoji(tmp_path / "符号.xlsx")
    proc = ledger_in_code_page("validate", tmp_path / "符号.xlsx", "--as-of", "2025-06-30", encoding="cp936")
    assert proc.returncode == 1, proc.stderr.decode("cp936", "replace")
    out = proc.stdout.decode("cp936")
    assert "为“已完成?”，不在状态词表中" in out
    json_out = ledger_in_code_page("validate", tmp_path / "符号.xlsx", "--json", encoding="cp936").stdout
    assert '"value": "已完成?"' in json_out.decode("cp936")
    # what Python chose under Wine for a redirected stdout (surrogateescape fails on ✅ just the same)
    wine_like = ledger_in_code_page("validate", tmp_path / "符号.xlsx", encoding="gbk:surrogateescape")
    assert "为“已完成?”，不在状态词表中" in wine_like.stdout.decode("cp936")


def test_utf8_output_is_left_alone(tmp_path):
    ledger_with_emoji(tmp_path / "符号.xlsx")
    proc = ledger_in_code_page("validate", tmp_path / "符号.xlsx", "--as-of", "2025-06-30", encoding="utf-8")
    assert "“已完成✅”" in proc.stdout.decode("utf-8")


def test_permission_error_names_the_file_and_its_folder():
    """`ledger new 新台账.xlsm` in a folder nobody may write in (even root: /sys is read-only) names the
    folder as the user knows it, not “.”."""
    try:
        with tempfile.NamedTemporaryFile(dir="/sys"):
            pytest.skip("/sys is writable here")
    except OSError as exc:
        if not isinstance(exc, PermissionError) and exc.errno != 30:  # EROFS
            pytest.skip(f"/sys refuses files differently here ({exc})")
    result = run_ledger("new", "新台账.xlsm", "--sample", cwd="/sys")
    assert result.code == 2
    assert result.err.strip() == (
        "没有权限在“/sys”中写入“新台账.xlsm”，原文件未改动，请检查文件夹是否只读或换一个位置。"
    )
