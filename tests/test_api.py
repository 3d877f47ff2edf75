"""toolkit.api: the calls the CLI and the buttons share, driven end to end on real workbook files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import docx
from unit_workbooks import write_unit_ledger

from toolkit import api
from toolkit.history import load_history

NOV1 = date(2024, 11, 1)
DEC1 = date(2024, 12, 1)


def text_of(path: str | Path) -> str:
    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def test_record_then_compare(tmp_path):
    wb = tmp_path / "台账.xlsx"
    write_unit_ledger(wb, unit="某某街道", done=10, total=17, deadline=date(2024, 11, 15))
    ledger, _ = api.check(wb, as_of=NOV1)
    assert api.compare_with_history(ledger, NOV1)["has_previous"] is False
    assert api.record_history(ledger, NOV1, command="report") is None
    write_unit_ledger(wb, unit="某某街道", done=12, total=17, deadline=date(2024, 11, 15))
    ledger, _ = api.check(wb, as_of=DEC1)
    context = api.compare_with_history(ledger, DEC1)
    assert context["summary"] == (
        "较上次通报（2024年11月1日）新增完成2项，完成率提高11.8个百分点，新增超期未完成5项。"
    )
    assert [s.completed for s in load_history(wb)] == [10]  # comparing writes nothing


def test_record_history_tells_why_it_could_not(tmp_path):
    wb = tmp_path / "台账.xlsx"
    write_unit_ledger(wb, unit="某某街道", done=10, total=17)
    ledger, _ = api.check(wb, as_of=NOV1)
    blocker = tmp_path / "是文件"
    blocker.write_text("x")
    failure = api.record_history(ledger, NOV1, command="validate", history_path=blocker / "h.sqlite")
    assert failure is not None and failure.endswith("本次结果未记入历史，其他结果不受影响。")


def test_open_workbook_not_on_disk_has_no_history(tmp_path):
    wb = tmp_path / "台账.xlsx"
    write_unit_ledger(wb, unit="某某街道", done=10, total=17)
    ledger, _ = api.check(wb, as_of=NOV1)
    ledger.path = str(tmp_path / "云端" / "台账.xlsx")  # a cloud workbook: no file of ours
    assert api.compare_with_history(ledger, NOV1, open_workbook=True) is None
    assert api.record_history(ledger, NOV1, command="button-validate", open_workbook=True) is None
    assert not list(tmp_path.glob("**/*.sqlite"))


def test_report_compares_and_records(tmp_path):
    wb = tmp_path / "台账.xlsx"
    for n, (as_of, done) in enumerate(((NOV1, 10), (DEC1, 12))):
        write_unit_ledger(wb, unit="某某街道", done=done, total=17, deadline=date(2024, 11, 15))
        ledger, checked = api.check(wb, as_of=as_of)
        result = api.report(ledger, checked, as_of, out=tmp_path / f"通报{n}.docx")
        assert Path(result.path) == tmp_path / f"通报{n}.docx"
    assert "较上次通报（2024年11月1日）新增完成2项" in text_of(tmp_path / "通报1.docx")
    assert [(s.completed, s.command) for s in load_history(wb)] == [(10, "report"), (12, "report")]


def test_report_without_recording_into_a_folder(tmp_path):
    wb = tmp_path / "台账.xlsx"
    write_unit_ledger(wb, unit="某某街道", done=10, total=17)
    ledger, checked = api.check(wb, as_of=NOV1)
    out_dir = tmp_path / "通报"
    out_dir.mkdir()
    result = api.report(ledger, checked, NOV1, folder=out_dir, record_as=None)
    assert Path(result.path).parent == out_dir and Path(result.path).suffix == ".docx"
    assert load_history(wb) == []


def test_report_into_a_folder_keeps_the_ledger_and_its_history(tmp_path):
    wb = tmp_path / "台账.xlsx"
    write_unit_ledger(wb, unit="某某街道", done=10, total=17)
    ledger, checked = api.check(wb, as_of=NOV1)
    out_dir = tmp_path / "通报"
    out_dir.mkdir()
    result = api.report(ledger, checked, NOV1, folder=out_dir)
    assert Path(result.path).parent == out_dir
    assert ledger.path == str(wb)  # the caller's ledger still names its workbook
    assert [s.command for s in load_history(wb)] == ["report"]  # recorded beside the workbook
    assert not list(out_dir.glob("*.sqlite"))


def test_check_and_record_is_check_then_a_snapshot(tmp_path):
    wb = tmp_path / "台账.xlsx"
    write_unit_ledger(wb, unit="某某街道", done=10, total=17, deadline=date(2024, 11, 15))
    ledger, checked, failure = api.check_and_record(wb, NOV1, command="validate")
    plain_ledger, plain = api.check(wb, as_of=NOV1)
    assert failure is None and checked.as_dict() == plain.as_dict()
    assert len(ledger.items) == len(plain_ledger.items) == 17
    assert [(s.completed, s.command) for s in load_history(wb)] == [(10, "validate")]
    blocker = tmp_path / "是文件"
    blocker.write_text("x")
    _, _, failure = api.check_and_record(wb, NOV1, command="validate", history_path=blocker / "h.sqlite")
    assert failure is not None and failure.endswith("本次结果未记入历史，其他结果不受影响。")
