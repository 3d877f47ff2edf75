"""The buttons record history like the CLI: toolkit.excel on xlwings' remote engine, a workbook on disk."""

from __future__ import annotations

import shutil

from tests.conftest import run_ledger
from tests.test_excel import Client, fix_sample_errors, remote_engine  # noqa: F401  (autouse fixture)
from toolkit import excel
from toolkit.history import load_history
from toolkit.sample import SAMPLE_AS_OF


def test_buttons_record_snapshots_beside_a_saved_workbook(tmp_path, monkeypatch):
    folder = tmp_path / "台账"
    folder.mkdir()
    path = folder / "示例台账.xlsx"
    assert run_ledger("new", path, "--sample").code == 0
    # the remote engine has no real path: the book is known by its name (relative to the working folder)
    # and the 通报 goes to the temp folder; both are the workbook's folder here, as on a desktop
    monkeypatch.chdir(folder)
    monkeypatch.setattr("tempfile.tempdir", str(folder))

    client = Client(path)
    assert excel.validate(client.book(), as_of=SAMPLE_AS_OF) is not None
    assert excel.validate(client.book(), as_of=SAMPLE_AS_OF) is not None  # unchanged: same snapshot
    fix_sample_errors(client)  # edited in Excel, not saved: the items hash tells the states apart
    assert excel.report(client.book(), as_of=SAMPLE_AS_OF) is not None

    snaps = load_history(path)
    assert [s.command for s in snaps] == ["button-validate", "button-report"]
    assert all(s.content_hash.startswith("items:") for s in snaps)
    assert snaps[0].content_hash != snaps[1].content_hash
    assert snaps[0].as_of == SAMPLE_AS_OF and snaps[0].total > 0


def test_buttons_skip_history_for_a_workbook_not_on_disk(tmp_path, monkeypatch):
    source = tmp_path / "src"
    source.mkdir()
    path = source / "示例台账.xlsx"
    assert run_ledger("new", path, "--sample").code == 0
    elsewhere = tmp_path / "tmp"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the book's name is not a file here
    monkeypatch.setattr("tempfile.tempdir", str(elsewhere))
    assert excel.validate(Client(path).book(), as_of=SAMPLE_AS_OF) is not None
    assert not list(elsewhere.iterdir()) and not list(source.glob(".*"))
    shutil.rmtree(elsewhere)
