"""Issue 14, the fault campaign: each malformed input it found, rebuilt with a few lines of zipfile/XML
editing on a ledger the toolkit makes, gives one Chinese sentence and exit 2 (or the documented copy,
exit 3) — never a traceback — and the marks record is treated as untrusted input."""

from __future__ import annotations

import base64
import json
import os
import re
import struct
import zipfile
from pathlib import Path

import pytest
from filemakers import AS_OF, run_limited
from markbooks import read_parts, write_parts

from toolkit.errors import UnsafeFileError
from toolkit.layout import RESULTS_SHEET
from toolkit.xlsx.marks import clear_package, mark_package
from toolkit.xlsx.package import MAIN_NS, Package
from toolkit.xlsx.record import check_record, find_record, record_xml
from toolkit.xlsx.workbookpart import open_workbook
from toolkit.xlsx.xmlbytes import Unpatchable, refuse_markup_we_cannot_scan

TIMEOUT = 60


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> bytes:
    """A ledger as ``ledger new --sample`` writes it (its sample rows hold errors to mark)."""
    from toolkit.workbook import new_ledger

    path = tmp_path_factory.mktemp("made") / "台账.xlsx"
    new_ledger(path, sample=True, year=2024)
    return path.read_bytes()


@pytest.fixture(scope="module")
def marked(made, tmp_path_factory) -> bytes:
    """The same ledger after ``ledger validate --mark``."""
    path = tmp_path_factory.mktemp("marked") / "台账.xlsx"
    path.write_bytes(made)
    run = run_limited("validate", path, "--as-of", AS_OF, "--mark", "--no-history", timeout=TIMEOUT)
    assert run.code == 1, run.err
    return path.read_bytes()


def one_sentence(run, *codes: int) -> str:
    """The run ended with one of ``codes`` and, on stderr, one Chinese sentence and nothing else."""
    assert run.code in codes, (run.code, run.err[-3000:])
    for word in ("Traceback", "Exception ignored", "Warning", "panicked", "内部错误"):
        assert word not in run.err, run.err[-3000:]
    message = run.err.strip()
    if run.code == 2:
        assert "\n" not in message and message.endswith("。"), message
    return message


def put(tmp_path: Path, raw: bytes, name: str = "台账.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(raw)
    return path


def edit(raw: bytes, part: str, fn) -> bytes:
    parts = read_parts(raw)
    parts[part] = fn(parts[part])
    return write_parts(raw, parts)


def ledger_part(raw: bytes) -> str:
    wb = open_workbook(Package.from_bytes(raw))
    return next(s.part for s in wb.sheets if s.name == "台账")


def all_commands(path: Path) -> list:
    """validate, stats, validate --mark and clear on ``path`` (each on the bytes as they are now)."""
    raw = path.read_bytes()
    runs = []
    for args in (
        ("validate", path, "--as-of", AS_OF, "--no-history"),
        ("stats", path, "--as-of", AS_OF),
        ("validate", path, "--as-of", AS_OF, "--no-history", "--mark"),
        ("clear", path),
    ):
        path.write_bytes(raw)
        runs.append(run_limited(*args, timeout=TIMEOUT))
    return runs


# --------------------------------------------------------------------------- 1, 2: the zip directory


def _eocd(raw: bytes) -> int:
    return raw.rfind(b"PK\x05\x06")


def test_1_negative_local_header_offset_is_one_sentence_in_every_command(tmp_path, made):
    at = _eocd(made) + 16  # "offset of the central directory": larger than it is makes early offsets negative
    (offset,) = struct.unpack_from("<I", made, at)
    raw = made[:at] + struct.pack("<I", offset + 200) + made[at + 4 :]
    path = put(tmp_path, raw)
    for run in all_commands(path):
        assert "已损坏" in one_sentence(run, 2)
    assert path.read_bytes() == raw


def test_2_version_needed_to_extract_8_4_is_one_sentence_in_every_command(tmp_path, made):
    at = made.find(b"PK\x01\x02") + 6  # the first entry of the central directory
    raw = made[:at] + struct.pack("<H", 84) + made[at + 2 :]
    path = put(tmp_path, raw)
    for run in all_commands(path):
        one_sentence(run, 2)
    assert path.read_bytes() == raw


# --------------------------------------------------------------------------- 3: references past XFD1048576


@pytest.mark.parametrize(
    "ref", ["AAAAAAAAAA2", "XFE2", "A1048577", "A0", "a2", "A02", "2A", ""], ids=lambda r: r or "empty"
)
def test_3_malformed_or_far_references_never_reach_calamine(tmp_path, made, ref):
    part = ledger_part(made)
    raw = edit(made, part, lambda d: d.replace(b'<c r="A2"', f'<c r="{ref}"'.encode(), 1))
    run = run_limited("validate", put(tmp_path, raw), "--as-of", AS_OF, "--no-history", timeout=TIMEOUT)
    assert "单元格位置" in one_sentence(run, 2)


@pytest.mark.parametrize("dim", ["A1:AAAAAAAAAA9", "A1:XFD1048577", "A1:B", "A1:B2:C3", ":"])
def test_3_malformed_or_far_dimensions_are_refused(tmp_path, made, dim):
    part = ledger_part(made)
    raw = edit(
        made, part, lambda d: re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{dim}"'.encode(), d)
    )
    run = run_limited("validate", put(tmp_path, raw), "--as-of", AS_OF, "--no-history", timeout=TIMEOUT)
    one_sentence(run, 2)


@pytest.mark.parametrize("ref", ["AAAAAAAAAA1", "A1:XFE2", "A1:A1048577", "A1:", "B2:A0"])
def test_3_malformed_or_far_merged_areas_are_refused(tmp_path, made, ref):
    part = ledger_part(made)
    merge = f'<mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'.encode()
    raw = edit(made, part, lambda d: re.sub(rb"(</sheetData>)", rb"\1" + merge, d, count=1))
    assert merge in read_parts(raw)[part]
    run = run_limited("validate", put(tmp_path, raw), "--as-of", AS_OF, "--no-history", timeout=TIMEOUT)
    assert "单元格位置" in one_sentence(run, 2)


# --------------------------------------------------------------------------- 4: styles


def _empty_cell_xfs(data: bytes) -> bytes:
    return re.sub(rb"<cellXfs\b[^>]*>.*?</cellXfs>", b'<cellXfs count="0"></cellXfs>', data, flags=re.S)


def test_4_empty_cell_xfs_with_styled_cells_goes_to_a_copy_or_a_sentence(tmp_path, made):
    raw = edit(made, "xl/styles.xml", _empty_cell_xfs)
    path = put(tmp_path, raw)
    run = run_limited("validate", path, "--as-of", AS_OF, "--no-history", "--mark", timeout=TIMEOUT)
    one_sentence(run, 2, 3)
    assert path.read_bytes() == raw


def test_4_empty_cell_xfs_without_styled_cells_is_marked_in_place(made):
    part = ledger_part(made)
    raw = edit(made, "xl/styles.xml", _empty_cell_xfs)
    raw = edit(raw, part, lambda d: re.sub(rb'(<(?:c|row)\b[^>]*?) s="\d+"', rb"\1", d))
    raw = edit(raw, part, lambda d: re.sub(rb'(<col\b[^>]*?) style="\d+"', rb"\1", d))
    finding = filemarks_finding(2, "C")
    out, stats = mark_package(raw, "台账", [finding], label="台账.xlsx")
    assert stats.cells == 1
    styles = read_parts(out)["xl/styles.xml"]
    assert re.search(rb'<cellXfs count="3">', styles), styles  # the plain base, then our clones
    assert clear_package(out)[0] != out


def filemarks_finding(row: int, col: str, severity: str = "error"):
    from toolkit.model import Finding

    return Finding("missing-value", severity, row, col, "problem", "", f"{col}{row} 为空。")


# --------------------------------------------------------------------------- 5, 6: the openpyxl fallback


def test_5_6_a_drawing_the_rels_name_but_the_package_lacks_is_one_sentence(tmp_path):
    """The buttons' VML drawing of a ``ledger new`` .xlsm taken out of the package: the patch refuses,
    and the openpyxl fallback cannot save either (it copies the drawing the sheet names)."""
    import io

    from toolkit.workbook import new_ledger

    made = new_ledger(tmp_path / "made.xlsm", sample=True, year=2024).read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(made)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        assert any(i.filename.endswith(".vml") for i in src.infolist())
        for info in src.infolist():
            if not info.filename.endswith(".vml"):
                dst.writestr(info.filename, src.read(info))
    raw = buf.getvalue()
    path = put(tmp_path, raw, "台账.xlsm")
    run = run_limited("validate", path, "--as-of", AS_OF, "--no-history", "--mark", timeout=TIMEOUT)
    assert "副本" in one_sentence(run, 2)
    assert path.read_bytes() == raw
    assert sorted(p.name for p in tmp_path.iterdir()) == ["made.xlsm", "台账.xlsm"]  # no copy, no temp


# --------------------------------------------------------------------------- 7, 8, 9: the record


def _record(raw: bytes) -> tuple[str, dict]:
    found = find_record(Package.from_bytes(raw))
    assert found is not None
    return found


def _with_record(raw: bytes, change) -> bytes:
    name, record = _record(raw)
    change(record)
    return edit(raw, name, lambda _: record_xml(record))


def _set(path: list, value):
    def change(record: dict) -> None:
        target = record
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


DAMAGES = {
    "ref-malformed": _set(["cells", 0, "ref"], "1A"),
    "ref-far": _set(["cells", 0, "ref"], "XFE1"),
    "ref-number": _set(["cells", 0, "ref"], 7),
    "count-null": _set(["styles", "xfs_n"], None),
    "fills-null": _set(["styles", "fills_n"], None),
    "orig-float": _set(["cells", 0, "orig"], 1.5),
    "orig-string": _set(["cells", 0, "orig"], "1.5"),
    "orig-huge": _set(["cells", 0, "orig"], 99999),
    "ours-negative": _set(["cells", 0, "ours"], -1),
    "base-bool": _set(["cells", 0, "base"], True),
    "cells-dict": _set(["cells"], {"a": 1}),
    "rows-bad": _set(["rows"], [{"r": "x", "kind": "new"}]),
    "comment-ref": _set(["comments", "refs"], ["ZZZZ1"]),
    "created-part": _set(["comments", "created_part"], "xl/workbook.xml"),
    "result-is-ledger": _set(["result_sheet"], "台账"),
    "added-xf-foreign": _set(["styles", "added_xfs"], ["<xf/><xf/>"]),
}


@pytest.mark.parametrize("damage", DAMAGES, ids=str)
def test_7_8_9_a_damaged_record_leaves_the_workbook_as_it_is(tmp_path, marked, damage):
    raw = _with_record(marked, DAMAGES[damage])
    path = put(tmp_path, raw)
    run = run_limited("clear", path, timeout=TIMEOUT)
    assert "标记" in one_sentence(run, 2)
    assert path.read_bytes() == raw
    run = run_limited("validate", path, "--as-of", AS_OF, "--no-history", "--mark", timeout=TIMEOUT)
    one_sentence(run, 2, 3)
    assert path.read_bytes() == raw


def test_8_a_style_index_outside_the_styles_table_is_never_written_back(marked):
    styles = read_parts(marked)["xl/styles.xml"]
    n_xfs = len(re.findall(rb"<xf\b", re.search(rb"<cellXfs.*?</cellXfs>", styles, re.S)[0]))
    _, record = _record(marked)
    fake = dict(record["styles"], xfs_n=n_xfs + 5)  # the record claims more formats than the file has
    raw = _with_record(marked, _set(["styles"], fake))
    raw = _with_record(raw, _set(["cells", 0, "orig"], n_xfs + 2))
    with pytest.raises(Unpatchable):
        clear_package(raw)


def test_9_a_user_sheet_at_the_recorded_part_is_not_deleted(tmp_path, marked):
    """The user deleted our 校验结果 and made one of their own, which Excel stored at the same part."""
    _, record = _record(marked)
    part = record["result"]["part"]
    own = (
        f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>我的笔记</t>'
        "</is></c></row></sheetData></worksheet>"
    ).encode()
    raw = edit(marked, part, lambda _: own)
    out, stats = clear_package(raw)
    assert not stats.sheet_removed
    assert read_parts(out)[part] == own
    names = [s.name for s in open_workbook(Package.from_bytes(out)).sheets]
    assert RESULTS_SHEET in names and "台账" in names
    path = put(tmp_path, raw)
    run = run_limited("clear", path, timeout=TIMEOUT)
    assert run.code == 0 and "保留" in run.out, (run.out, run.err)


def test_9_a_sheet_whose_id_is_not_the_recorded_one_is_not_deleted(marked):
    wb = open_workbook(Package.from_bytes(marked))
    ours = next(s for s in wb.sheets if s.name == RESULTS_SHEET)
    raw = edit(
        marked, wb.part, lambda d: d.replace(ours.raw, ours.raw.replace(b'sheetId="', b'sheetId="9', 1))
    )
    out, stats = clear_package(raw)
    assert not stats.sheet_removed
    assert RESULTS_SHEET in [s.name for s in open_workbook(Package.from_bytes(out)).sheets]


def test_9_the_result_sheet_says_it_is_rebuilt_on_every_run(marked):
    _, record = _record(marked)
    sheet = read_parts(marked)[record["result"]["part"]].decode()
    assert "重新校验" in sheet


# --------------------------------------------------------------------------- 10, 13: what a user path is


@pytest.mark.parametrize("kind", ["fifo", "zero", "folder"])
def test_10_13_clear_and_mark_read_only_regular_files(tmp_path, kind):
    path = tmp_path / "台账.xlsx"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    for args in (("clear", path), ("validate", path, "--mark", "--no-history")):
        run = run_limited(*args, timeout=20)
        message = one_sentence(run, 2)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message) and "Usage" not in message, message


# --------------------------------------------------------------------------- 12: long names


def test_12_a_name_near_the_byte_limit_is_marked_with_backup_and_history(tmp_path, made):
    stem = "某街道党工委关于民主生活会查摆问题整改落实情况的台账" * 3
    stem = (stem * 2)[:80]
    assert len((stem + ".xlsx").encode()) <= 255
    path = put(tmp_path, made, stem + ".xlsx")
    run = run_limited("validate", path, "--as-of", AS_OF, "--mark", timeout=TIMEOUT)
    assert run.code == 1, run.err
    assert "提示" not in run.err, run.err  # the history was written too
    backups = list((tmp_path / "整改台账备份").iterdir())
    assert len(backups) == 1 and backups[0].read_bytes() == made
    assert all(len(p.name.encode()) <= 255 for p in tmp_path.iterdir())
    run = run_limited("validate", path, "--as-of", AS_OF, "--mark", timeout=TIMEOUT)
    assert run.code == 1, run.err
    run = run_limited("clear", path, timeout=TIMEOUT)
    assert run.code == 0, run.err
    assert path.read_bytes() == made
    assert len(list((tmp_path / "整改台账备份").iterdir())) == 3


def test_12_shortened_names_stay_apart_and_are_pruned_as_their_own(tmp_path):
    from toolkit import safesave

    a = tmp_path / (("甲" * 79) + "一.xlsx")
    b = tmp_path / (("甲" * 79) + "二.xlsx")
    a.write_bytes(b"a")
    b.write_bytes(b"b")
    pa, pb = safesave.backup_path(a), safesave.backup_path(b)
    assert pa.name[:-22] != pb.name[:-22] and len(pa.name.encode()) <= 255
    for i in range(7):
        safesave.make_backup(a, b"a%d" % i)
        safesave.make_backup(b, b"b%d" % i)
    names = [p.name for p in pa.parent.iterdir()]
    assert len(names) == 2 * safesave.KEEP_BACKUPS


# --------------------------------------------------------------------------- 13: the smaller ones


def test_13_history_and_save_both_failing_is_one_sentence(tmp_path, made):
    path = put(tmp_path, made)
    history = tmp_path / "history-is-a-folder"
    history.mkdir()
    os.chmod(path, 0o444)
    run = run_limited("validate", path, "--as-of", AS_OF, "--mark", "--history", history, timeout=TIMEOUT)
    message = one_sentence(run, 2)
    assert "只读" in message and "历史" in message, message


# --------------------------------------------------------------------------- 14: one set of limits


def test_14_mark_and_validate_refuse_the_same_part_count(made):
    import io

    from toolkit import guard

    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(made)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for i in range(guard.MAX_PARTS + 1 - len(src.infolist())):
            dst.writestr(f"customXml/x{i}.bin", b"")
    with pytest.raises(UnsafeFileError):
        Package.from_bytes(buf.getvalue(), "x.xlsx")
    assert Package.from_bytes(made, "x.xlsx")  # the same ledger, without the extra parts


def test_record_reads_back_as_written(marked):
    """Sanity for the helpers above: the record round-trips and passes its own check."""
    name, record = _record(marked)
    payload = re.search(rb">([A-Za-z0-9+/=]*)</marks>", read_parts(marked)[name])[1]
    assert json.loads(base64.b64decode(payload)) == record
    check_record(record)


# --------------------------------------------------------------------------- 11: killed in the write phase


def _ours(folder: Path) -> list[str]:
    from toolkit.safesave import TEMP_PREFIX

    return (
        sorted(p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)) if folder.is_dir() else []
    )


def _kill_in_write_phase(path: Path, watch: Path, attempts: int = 8) -> bool:
    """Start ``validate --mark`` and SIGKILL it the moment a temporary file of ours shows in ``watch``."""
    import subprocess
    import sys

    from filemakers import ROOT

    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    args = [
        sys.executable,
        "-m",
        "toolkit",
        "validate",
        str(path),
        "--as-of",
        AS_OF,
        "--mark",
        "--no-history",
    ]
    for _ in range(attempts):
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while proc.poll() is None:
                if _ours(watch):
                    proc.kill()
                    proc.wait()
                    return True
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return False


def _values(raw: bytes) -> list[tuple]:
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(raw), read_only=True)["台账"]
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def test_11_kill_in_the_write_phase_keeps_the_file_and_the_next_run_cleans_up(tmp_path, made):
    import time

    path = put(tmp_path, made)
    backups = tmp_path / "整改台账备份"
    original = _values(made)
    kills = 0
    for watch in (tmp_path, backups, tmp_path, backups):
        if not _kill_in_write_phase(path, watch):
            continue
        kills += 1
        now = path.read_bytes()
        assert now == made or (_values(now) == original and find_record(Package.from_bytes(now)))
    assert kills >= 2  # the write phase was hit (beside the file and in the backup folder)
    assert _ours(tmp_path) or _ours(backups)  # what a kill leaves: full hidden copies
    time.sleep(0.05)
    run = run_limited("validate", path, "--as-of", AS_OF, "--mark", "--no-history", timeout=TIMEOUT)
    assert run.code == 1, run.err
    assert _ours(tmp_path) == [] and _ours(backups) == []
    assert _values(path.read_bytes()) == original
    for backup in backups.iterdir():
        assert backup.read_bytes() == made or find_record(Package.from_bytes(backup.read_bytes()))


def test_11_a_live_run_keeps_its_temporary_file(tmp_path):
    from toolkit import safesave

    live = tmp_path / f"{safesave.TEMP_PREFIX}{os.getpid()}-abc.tmp"
    gone = tmp_path / f"{safesave.TEMP_PREFIX}{2**22 + 12345}-abc.tmp"  # above any pid_max: no such process
    other = tmp_path / "~$台账.xlsx"
    for p in (live, gone, other):
        p.write_bytes(b"x")
        os.utime(p, (safesave._STARTED - 10, safesave._STARTED - 10))
    assert safesave.remove_stale_temps(tmp_path) == [gone]
    assert live.exists() and other.exists()


def test_numbers_of_a_config_sheet_are_bounded():
    """Found by the fuzz test: 完成率小数位数 = 10**20 in a 配置 sheet made ``stats`` fail inside decimal."""
    from toolkit.config import DEFAULT_CONFIG
    from toolkit.errors import ConfigError

    with pytest.raises(ConfigError, match="完成率小数位数"):
        DEFAULT_CONFIG.with_overrides(rate_decimals=10**20)
    assert DEFAULT_CONFIG.with_overrides(rate_decimals=2).rate_decimals == 2


def test_a_part_cut_inside_its_xml_declaration_is_one_sentence(made):
    """Found by the fuzz test: a comments part cut short inside ``<?xml … ?>``."""
    from toolkit.errors import UnreadableFileError

    with pytest.raises(UnreadableFileError):
        refuse_markup_we_cannot_scan(b'<?xml version="1.0" encod', "xl/comments1.xml")


def test_13_notes_typed_into_the_result_sheet_survive_the_next_run(marked):
    """The clerk wrote a reply into 校验结果: the next --mark keeps that sheet and says so."""
    _, record = _record(marked)
    part = record["result"]["part"]
    raw = edit(
        marked,
        part,
        lambda d: d.replace(b"</t></is></c></row>", "（已整改，见附件）</t></is></c></row>".encode(), 1),
    )
    finding = filemarks_finding(2, "C")
    out, stats = mark_package(raw, "台账", [finding], label="台账.xlsx")
    assert stats.kept_result == RESULTS_SHEET
    names = [s.name for s in open_workbook(Package.from_bytes(out)).sheets]
    assert names[-2:] == [RESULTS_SHEET, f"{RESULTS_SHEET} (2)"]
    assert "（已整改，见附件）".encode() in read_parts(out)[part]
    from toolkit.xlsx.files import MarkResult

    result = MarkResult(Path("台账.xlsx"), Path("台账.xlsx"), False, "", None, stats)
    assert "已保留" in result.message
