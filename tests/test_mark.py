"""--mark / clear on real packages: every part we do not concern stays byte-identical; clear gives back
the user's bytes; the marks are what the button writes; unpatchable packages go to a copy."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from filemakers import soffice_convert
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markbooks import (
    X14_DROPDOWN,
    findings_for,
    full_workbook,
    openpyxl_workbook,
    read_parts,
    write_parts,
)

from toolkit.guard import OLE_MAGIC
from toolkit.model import Finding, Ledger, Report, column_letter
from toolkit.xlsx.files import clear_file, mark_file
from toolkit.xlsx.marks import clear_package, mark_package
from toolkit.xlsx.package import MAIN_NS, Package
from toolkit.xlsx.plan import AUTHOR, FILL_RGB, plan_marks
from toolkit.xlsx.resultsheet import RESULT_NOTE, sheet_fingerprint
from toolkit.xlsx.sheetscan import WORKSHEET_TAIL_ORDER, check_patched_sheet, scan_sheet
from toolkit.xlsx.styles import styles_in_use
from toolkit.xlsx.workbookpart import open_workbook
from toolkit.xlsx.xmlbytes import (
    Unpatchable,
    check_scannable,
    check_xml_bytes,
    refuse_markup_we_cannot_scan,
    xml_text,
)

CONCERNED = {
    "[Content_Types].xml",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/styles.xml",
}


def ledger_for(path: Path, sheet: str = "台账") -> Ledger:
    return Ledger(str(path), sheet, 1, {}, {}, [], [])


def report_for(path: Path, findings: list[Finding]) -> Report:
    return Report(str(path), "台账", date(2024, 12, 31), 10, findings)


def sheet_part(parts: dict[str, bytes], name: str = "台账") -> str:
    pkg = Package.from_bytes(write_parts_from(parts))
    wb = open_workbook(pkg)
    return next(s.part for s in wb.sheets if s.name == name)


def write_parts_from(parts: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def cells(sheet: bytes) -> dict[str, tuple[dict[str, str], bytes]]:
    """ref -> (attributes, content) of every <c> of a sheet, from a real XML parse."""
    from lxml import etree

    root = etree.fromstring(sheet)
    out = {}
    for c in root.iter(f"{{{MAIN_NS}}}c"):
        content = b"".join(etree.tostring(ch) for ch in c)
        out[c.get("r")] = (dict(c.attrib), content)
    return out


def strip_sheet_data(sheet: bytes) -> bytes:
    return re.sub(rb"<sheetData>.*</sheetData>", b"", sheet, flags=re.S)


# --------------------------------------------------------------------------- whole packages


@pytest.mark.parametrize("vba", [False, True], ids=["xlsx", "xlsm"])
def test_mark_twice_then_clear_on_full_workbook(tmp_path, vba):
    path = full_workbook(tmp_path, vba=vba)
    raw = path.read_bytes()
    before = read_parts(raw)
    findings = findings_for(12)

    once, stats = mark_package(raw, "台账", findings, label=path.name)
    twice, _ = mark_package(once, "台账", findings, label=path.name)
    assert twice == once  # re-running replaces the marks: same package
    after = read_parts(once)

    ledger = "xl/worksheets/sheet1.xml"
    rels = "xl/worksheets/_rels/sheet1.xml.rels"
    comments = [n for n in before if "comments" in n]
    vml = [n for n in before if n.endswith(".vml") and "sheet1" not in n]
    concerned = CONCERNED | {ledger, rels, *comments, *vml}
    for name, data in before.items():
        if name not in concerned:
            assert after[name] == data, f"{name} changed"
    if vba:
        from oletools.olevba import VBA_Parser

        assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
        (tmp_path / "marked.xlsm").write_bytes(once)
        parser = VBA_Parser(str(tmp_path / "marked.xlsm"))
        names = [name for _, _, name, _ in parser.extract_macros()]
        parser.close()
        assert "xlwings.bas" in names
    new_parts = set(after) - set(before)
    assert {p.split("/")[0] for p in new_parts} <= {"xl", "customXml"}

    # the ledger sheet: same outside sheetData except our <legacyDrawing> (already there: user note)
    assert strip_sheet_data(after[ledger]) == strip_sheet_data(before[ledger])
    assert X14_DROPDOWN.encode() in after[ledger]
    old_cells, new_cells = cells(before[ledger]), cells(after[ledger])
    marked = {m.ref for m in plan_marks(findings).values()}
    assert marked == {"F4", "G3", "H3", "I2", "C2", "E6", "A13", "B17"}
    for ref, (attrs, content) in old_cells.items():
        n_attrs, n_content = new_cells[ref]
        assert n_content == content
        if ref in marked:
            assert {k: v for k, v in n_attrs.items() if k != "s"} == {
                k: v for k, v in attrs.items() if k != "s"
            }
            assert n_attrs["s"] != attrs.get("s")
        else:
            assert n_attrs == attrs
    for ref in set(new_cells) - set(old_cells):
        assert ref in marked and new_cells[ref][1] == b""
    assert stats.cells == 8 and stats.skipped_comments == 1 and stats.comments == 7
    assert stats.sheet_names == ["台账", "其他", "校验结果"]

    cleared, cstats = clear_package(twice, label=path.name)
    assert cstats.found and cstats.sheet_removed and cstats.styles_trimmed
    assert read_parts(cleared) == before  # every part byte-identical, nothing added or lost
    assert cstats.cells == 8 and cstats.comments == 7


def test_marks_as_the_button_writes_them(tmp_path):
    from openpyxl import load_workbook

    path = full_workbook(tmp_path)
    out, _ = mark_package(path.read_bytes(), "台账", findings_for(12), label=path.name)
    marked = tmp_path / "marked.xlsx"
    marked.write_bytes(out)
    wb = load_workbook(marked)
    assert wb.sheetnames == ["台账", "其他", "校验结果"]
    ws = wb["台账"]
    assert ws["F4"].fill.fgColor.rgb == "FFFFC7CE"  # error: light red
    assert ws["G3"].fill.fgColor.rgb == "FFFFEB9C"  # warning: light yellow
    assert ws["H3"].fill.fgColor.rgb == "FFFFC7CE"
    assert ws["G5"].fill.fgColor.rgb != "FFFFEB9C"  # info: no fill
    assert ws["E6"].value == "财务科"
    assert ws["C2"].comment.text == "用户自己的批注：请核实"  # the user's note stays, not ours
    assert ws["F4"].comment.author == AUTHOR and "责任人" in ws["F4"].comment.text
    assert "=H3 状态不在词表中" in ws["H3"].comment.text
    assert ws["C4"].value == "=SUM(A1:A2) 这是文字"  # user text stays text
    res = wb["校验结果"]
    rows = [[c.value for c in row] for row in res.iter_rows()]
    assert rows[0] == ["序号", "级别", "位置", "字段", "问题说明", "单元格内容", "问题代码"]
    assert len(rows) == 1 + len(findings_for(12)) + 1  # the last row says the sheet is rebuilt (issue 14)
    assert rows[-1][4] == RESULT_NOTE
    assert rows[3][4] == "=H3 状态不在词表中" and res.cell(4, 5).data_type == "s"
    assert res["C2"].hyperlink.location == "'台账'!F4"
    assert res["C10"].value == "—" and res["C10"].hyperlink is None
    assert res["B2"].fill.fgColor.rgb == "FFFFC7CE" and res["B3"].fill.fgColor.rgb == "FFFFEB9C"


def test_openpyxl_made_workbook_keeps_user_notes_and_fills(tmp_path):
    from openpyxl import load_workbook

    path = openpyxl_workbook(tmp_path)
    raw = path.read_bytes()
    findings = [
        Finding("missing-value", "error", 3, "C", "problem", "", "C3 有批注"),
        Finding("missing-value", "error", 4, "B", "dimension", "", "B4 用户蓝色"),
        Finding("missing-value", "warning", 5, "I", "completed_on", "", "I5 空"),
    ]
    out, stats = mark_package(raw, "台账", findings, label=path.name)
    assert stats.comments == 2 and stats.skipped_comments == 1
    p = tmp_path / "m.xlsx"
    p.write_bytes(out)
    wb = load_workbook(p)
    ws = wb["台账"]
    assert ws["C3"].comment.text == "用户批注" and ws["C3"].comment.author == "王五"
    assert ws["B4"].comment.author == AUTHOR and ws["B4"].fill.fgColor.rgb == "FFFFC7CE"
    assert ws["I5"].fill.fgColor.rgb == "FFFFEB9C"
    assert wb.sheetnames == ["台账", "说明", "校验结果"]
    assert "区域" in wb.defined_names
    cleared, _ = clear_package(out)
    assert read_parts(cleared) == read_parts(raw)


def test_workbook_without_any_notes_gets_new_parts_and_clear_removes_them(tmp_path):
    import xlsxwriter

    path = tmp_path / "plain.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    ws.write_row(0, 0, ["序号", "方面"])
    ws.write_row(1, 0, [1, "作风"])
    wb.close()
    raw = path.read_bytes()
    out, _ = mark_package(raw, "台账", [Finding("x", "error", 2, "B", None, "", "错")], label=path.name)
    parts = read_parts(out)
    assert b"<legacyDrawing" in parts["xl/worksheets/sheet1.xml"]
    assert any(n.endswith(".vml") for n in parts) and any("comments" in n for n in parts)
    assert read_parts(clear_package(out)[0]) == read_parts(raw)


def test_a_ledger_with_page_breaks_is_marked_in_place_and_cleared(tmp_path):
    """<rowBreaks> starts like <row: the read-back row count must not take it for one."""
    import xlsxwriter

    path = tmp_path / "breaks.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    for r in range(6):
        ws.write_row(r, 0, ["序号", "方面"] if r == 0 else [r, "作风"])
    ws.set_h_pagebreaks([3, 5])
    wb.close()
    raw = path.read_bytes()
    assert b"<rowBreaks" in read_parts(raw)["xl/worksheets/sheet1.xml"]
    findings = [Finding("x", "error", 2, "B", None, "", "错")]
    result = mark_file(path, ledger_for(path), report_for(path, findings), backup=False)
    assert (result.to_copy, result.lossless, result.target) == (False, True, path)
    cleared = clear_file(path, backup=False)
    assert cleared.changed
    assert read_parts(path.read_bytes()) == read_parts(raw)


def test_clear_without_marks_changes_nothing(tmp_path):
    path = full_workbook(tmp_path)
    raw = path.read_bytes()
    out, stats = clear_package(raw)
    assert out == raw and not stats.found


def test_user_changes_after_marking_are_kept_by_clear(tmp_path):
    path = full_workbook(tmp_path)
    raw = path.read_bytes()
    out, _ = mark_package(raw, "台账", findings_for(12), label=path.name)
    parts = read_parts(out)
    sheet = parts["xl/worksheets/sheet1.xml"]
    ours = cells(sheet)["F4"][0]["s"]
    # the user re-formats G3 after marking ...
    sheet, n = re.subn(rb'(<c r="G3"[^>]*?\ss=")\d+(")', rb"\g<1>0\2", sheet)
    assert n == 1
    parts["xl/worksheets/sheet1.xml"] = sheet
    cleared, stats = clear_package(write_parts(out, parts))
    assert stats.kept_cells == ["G3"]
    got = read_parts(cleared)
    assert cells(got["xl/worksheets/sheet1.xml"])["G3"][0]["s"] == "0"
    assert stats.styles_trimmed and got["xl/styles.xml"] == read_parts(raw)["xl/styles.xml"]
    # ... or copies our red format onto A2: then our formats stay in styles.xml
    sheet2 = re.sub(rb'(<c r="A2")', b'\\1 s="' + ours.encode() + b'"', parts["xl/worksheets/sheet1.xml"])
    parts["xl/worksheets/sheet1.xml"] = sheet2
    cleared, stats = clear_package(write_parts(out, parts))
    assert not stats.styles_trimmed
    got = read_parts(cleared)
    assert cells(got["xl/worksheets/sheet1.xml"])["A2"][0]["s"] == ours
    assert got["xl/styles.xml"] == read_parts(out)["xl/styles.xml"]


def test_existing_sheet_named_like_ours_is_left_alone(tmp_path):
    import xlsxwriter

    path = tmp_path / "t.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("台账").write("A1", "序号")
    wb.add_worksheet("校验结果").write("A1", "用户自己的表")
    wb.close()
    raw = path.read_bytes()
    out, stats = mark_package(raw, "台账", [Finding("x", "error", 1, "A", None, "", "m")], label="t.xlsx")
    assert stats.sheet_names == ["台账", "校验结果", "校验结果 (2)"]
    assert read_parts(clear_package(out)[0]) == read_parts(raw)


def test_sheet_moved_by_user_renumbers_local_names_on_clear(tmp_path):
    path = full_workbook(tmp_path)
    out, _ = mark_package(path.read_bytes(), "台账", findings_for(12), label=path.name)
    parts = read_parts(out)
    wbx = parts["xl/workbook.xml"]
    ours = re.search('<sheet name="校验结果"[^>]*/>'.encode(), wbx).group(0)
    wbx = wbx.replace(ours, b"").replace(b"<sheets>", b"<sheets>" + ours)  # user dragged it first
    wbx = re.sub(rb'localSheetId="(\d)"', lambda m: b'localSheetId="%d"' % (int(m.group(1)) + 1), wbx)
    parts["xl/workbook.xml"] = wbx
    cleared, stats = clear_package(write_parts(out, parts))
    assert stats.sheet_removed
    got = read_parts(cleared)["xl/workbook.xml"]
    assert re.findall(rb'localSheetId="(\d)"', got) == re.findall(
        rb'localSheetId="(\d)"', read_parts(path.read_bytes())["xl/workbook.xml"]
    )


# --------------------------------------------------------------------------- what we refuse to patch


def _rewrite_sheet(path: Path, fn) -> None:
    parts = read_parts(path.read_bytes())
    parts["xl/worksheets/sheet1.xml"] = fn(parts["xl/worksheets/sheet1.xml"])
    path.write_bytes(write_parts(path.read_bytes(), parts))


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda s: re.sub(rb'<c r="[A-Z]+\d+"', b"<c", s), "未标明位置"),
        (lambda s: s.replace(b"<sheetData>", b"<sheetData><!-- x -->"), "注释"),
        (lambda s: s.replace(b"<sheetData>", b'<sheetData xmlns:x="urn:x"><x:c r="Z1"/>'), "无法安全修改"),
    ],
    ids=["cells-without-r", "xml-comment", "foreign-cell"],
)
def test_unpatchable_sheet_goes_to_a_copy(tmp_path, damage, reason):
    path = full_workbook(tmp_path)
    _rewrite_sheet(path, damage)
    raw = path.read_bytes()
    with pytest.raises(Unpatchable, match=reason):
        mark_package(raw, "台账", findings_for(12), label=path.name)
    if "foreign" in str(reason):
        return
    report = replace(report_for(path, findings_for(12)), columns_line="表头识别：内容→问题描述。")
    result = mark_file(path, ledger_for(path), report)
    assert path.read_bytes() == raw
    assert result.to_copy and not result.lossless and result.target.name == "台账.校验结果.xlsx"
    assert reason in result.message or "无法安全修改" in result.message
    from openpyxl import load_workbook

    wb = load_workbook(result.target)
    assert wb["台账"]["F4"].fill.fgColor.rgb == "FFFFC7CE"
    assert "校验结果" in wb.sheetnames
    assert [row[4] for row in wb["校验结果"].iter_rows(values_only=True)][-1] == "表头识别：内容→问题描述。"


def test_threaded_comments_go_to_a_copy(tmp_path):
    path = full_workbook(tmp_path)
    parts = read_parts(path.read_bytes())
    rels = parts["xl/worksheets/_rels/sheet1.xml.rels"]
    parts["xl/worksheets/_rels/sheet1.xml.rels"] = rels.replace(
        b"</Relationships>",
        b'<Relationship Id="rId99" Type="http://schemas.microsoft.com/office/2017/10/relationships/'
        b'threadedComment" Target="../threadedComments/threadedComment1.xml"/></Relationships>',
    )
    path.write_bytes(write_parts(path.read_bytes(), parts))
    with pytest.raises(Unpatchable, match="线程"):
        mark_package(path.read_bytes(), "台账", findings_for(12), label=path.name)


def test_strict_ooxml_is_refused(tmp_path):
    path = full_workbook(tmp_path)
    parts = read_parts(path.read_bytes())
    parts["_rels/.rels"] = parts["_rels/.rels"].replace(
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
        b"http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument",
    )
    path.write_bytes(write_parts(path.read_bytes(), parts))
    with pytest.raises(Unpatchable, match="严格"):
        mark_package(path.read_bytes(), "台账", [], label=path.name)


def test_xml_bomb_is_refused(tmp_path):
    from toolkit.errors import UnsafeFileError

    path = full_workbook(tmp_path)
    parts = read_parts(path.read_bytes())
    parts["xl/styles.xml"] = parts["xl/styles.xml"].replace(
        b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>', 1
    )
    path.write_bytes(write_parts(path.read_bytes(), parts))
    with pytest.raises(UnsafeFileError):
        mark_package(path.read_bytes(), "台账", findings_for(12), label=path.name)


def test_not_a_workbook_is_a_clear_error(tmp_path):
    from toolkit.errors import EncryptedFileError, UnreadableFileError

    with pytest.raises(UnreadableFileError):
        mark_package(b"PK\x03\x04 truncated", "台账", [], label="x.xlsx")
    with pytest.raises(EncryptedFileError):
        mark_package(OLE_MAGIC + b"\0" * 600, "台账", [], label="x.xlsx")


def test_text_is_never_a_formula_and_control_chars_are_safe():
    text = '=HYPERLINK("http://x")\x01_x000D_<b>&'
    escaped = xml_text(text)
    assert "\x01" not in escaped and "_x005F_x000D_" in escaped and "&lt;b&gt;&amp;" in escaped


# --------------------------------------------------------------------------- property: mark then clear


@st.composite
def random_ledgers(draw):
    n_rows = draw(st.integers(1, 25))
    n_cols = draw(st.integers(1, 10))
    text = st.text(alphabet=st.sampled_from(list("整改台账=+-@ab1 \n<&'\"")), max_size=8)
    values = draw(
        st.lists(
            st.lists(st.one_of(st.none(), text, st.integers(-5, 99)), min_size=n_cols, max_size=n_cols),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
    fills = draw(st.sets(st.tuples(st.integers(0, n_rows), st.integers(0, n_cols - 1)), max_size=5))
    notes = draw(st.sets(st.tuples(st.integers(0, n_rows), st.integers(0, n_cols - 1)), max_size=3))
    findings = draw(
        st.lists(
            st.builds(
                lambda r, c, sev, msg: Finding("x", sev, r, column_letter(c - 1), None, "", msg),
                st.integers(1, n_rows + 4),
                st.integers(1, n_cols + 3),
                st.sampled_from(["error", "warning", "info"]),
                text,
            ),
            max_size=15,
        )
    )
    builder = draw(st.sampled_from(["xlsxwriter", "openpyxl"]))
    return values, fills, notes, findings, builder


def _build_random(values, fills, notes, builder) -> bytes:
    import io

    buf = io.BytesIO()
    if builder == "openpyxl":
        from openpyxl import Workbook
        from openpyxl.comments import Comment
        from openpyxl.styles import PatternFill

        wb = Workbook()
        ws = wb.active
        ws.title = "台账"
        for r, row in enumerate(values):
            for c, v in enumerate(row):
                if v is not None or (r, c) in fills:
                    cell = ws.cell(r + 1, c + 1)
                    cell.value = v
                    if isinstance(v, str):
                        cell.data_type = "s"  # "=…" stays text
                    if (r, c) in fills:
                        cell.fill = PatternFill("solid", fgColor="FF00FF00")
        for r, c in notes:
            ws.cell(r + 1, c + 1).comment = Comment(f"用户{r}{c}", "用户")
        wb.save(buf)
        return buf.getvalue()
    import xlsxwriter

    wb = xlsxwriter.Workbook(buf)
    ws = wb.add_worksheet("台账")
    fill = wb.add_format({"bg_color": "#00FF00"})
    for r, row in enumerate(values):
        for c, v in enumerate(row):
            if isinstance(v, str):
                ws.write_string(r, c, v, fill if (r, c) in fills else None)
            elif v is not None:
                ws.write_number(r, c, v, fill if (r, c) in fills else None)
            elif (r, c) in fills:
                ws.write_blank(r, c, None, fill)
    for r, c in notes:
        ws.write_comment(r, c, f"用户{r}{c}")
    wb.close()
    return buf.getvalue()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(random_ledgers())
def test_property_mark_then_clear_gives_back_the_original(tmp_path, case):
    import io

    from openpyxl import load_workbook

    values, fills, notes, findings, builder = case
    raw = _build_random(values, fills, notes, builder)
    out, _ = mark_package(raw, "台账", findings, label="p.xlsx")
    marked = load_workbook(io.BytesIO(out))["台账"]
    orig = load_workbook(io.BytesIO(raw))["台账"]
    for row in orig.iter_rows():
        for cell in row:
            assert marked[cell.coordinate].value == cell.value
    plan = plan_marks(findings)
    for mark in plan.values():
        cell = marked.cell(mark.row, mark.col)
        assert cell.fill.fgColor.rgb == FILL_RGB[mark.severity]
        if (mark.row - 1, mark.col - 1) in notes:
            assert cell.comment.author != AUTHOR
        elif mark.messages:
            assert cell.comment.author == AUTHOR
    again, _ = mark_package(out, "台账", findings, label="p.xlsx")
    assert again == out
    cleared, _ = clear_package(again)
    assert read_parts(cleared) == read_parts(raw)


# --------------------------------------------------------------------------- LibreOffice opens the results


@pytest.mark.office
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
@pytest.mark.parametrize("kind", ["xlsx", "xlsm", "openpyxl"])
def test_libreoffice_opens_the_marked_workbook(tmp_path, kind):
    from openpyxl import load_workbook

    if kind == "openpyxl":
        path = openpyxl_workbook(tmp_path)
        out, _ = mark_package(path.read_bytes(), "台账", findings_for(10)[:4], label=path.name)
        marked = tmp_path / "marked.xlsx"
        marked.write_bytes(out)
        wb = load_workbook(soffice_convert(marked, "xlsx", tmp_path / "lo", profile=tmp_path / "profile"))
        assert wb.sheetnames == ["台账", "说明", "校验结果"]
        assert wb["台账"]["F4"].fill.fgColor.rgb.endswith("FFC7CE") and wb["台账"]["F4"].comment is not None
        assert wb["台账"]["C3"].comment.text.startswith("用户批注")
        return
    path = full_workbook(tmp_path, vba=kind == "xlsm")
    out, _ = mark_package(path.read_bytes(), "台账", findings_for(12), label=path.name)
    marked = tmp_path / f"marked{path.suffix}"
    marked.write_bytes(out)
    outdir = tmp_path / "lo"
    csv = soffice_convert(
        marked,
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
        outdir,
        profile=tmp_path / "profile",
    )
    sheets = sorted(os.listdir(outdir))
    assert any("校验结果" in s for s in sheets), sheets
    text = (outdir / next(s for s in sheets if "校验结果" in s)).read_text(encoding="utf-8")
    assert "F4" in text and "=H3 状态不在词表中" in text
    assert csv.parent == outdir
    xlsx = soffice_convert(marked, "xlsx", tmp_path / "lo2", profile=tmp_path / "profile")
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["台账", "其他", "校验结果"]
    assert wb["台账"]["F4"].fill.fgColor.rgb.endswith("FFC7CE")
    assert wb["台账"]["F4"].comment is not None


def test_legacy_drawing_goes_in_schema_order_with_drawing_table_and_extensions(tmp_path):
    import io

    import xlsxwriter
    from lxml import etree
    from markbooks import tiny_png

    path = tmp_path / "t.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    ws.add_table(0, 0, 5, 2, {"columns": [{"header": "序号"}, {"header": "方面"}, {"header": "问题描述"}]})
    ws.insert_image("E2", "x.png", {"image_data": io.BytesIO(tiny_png())})
    ws.conditional_format(1, 0, 5, 0, {"type": "data_bar", "bar_solid": True})
    ws.data_validation(1, 1, 5, 1, {"validate": "list", "source": ["a", "b"]})
    wb.close()
    raw = path.read_bytes()
    out, stats = mark_package(raw, "台账", [Finding("x", "error", 3, "C", None, "", "m")], label="t.xlsx")
    assert stats.comments == 1
    sheet = read_parts(out)["xl/worksheets/sheet1.xml"]
    names = [etree.QName(el).localname for el in etree.fromstring(sheet)]
    order = WORKSHEET_TAIL_ORDER
    tail = names[names.index("sheetData") + 1 :]
    assert tail == sorted(tail, key=order.index)
    assert (
        tail.index("drawing") < tail.index("legacyDrawing") < tail.index("tableParts") < tail.index("extLst")
    )
    assert read_parts(clear_package(out)[0]) == read_parts(raw)


def test_marks_far_right_and_far_down_stay_inside_the_sheet():
    import io

    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf)
    wb.add_worksheet("台账").write("A1", "序号")
    wb.close()
    raw = buf.getvalue()
    far = [
        Finding("x", "error", 1_048_576, "XFD", None, "", "角落"),
        Finding("x", "warning", 2, "ZZZZ", None, "", "无效列：不标记，只列出"),
        Finding("x", "error", 0, "A", None, "", "无效行"),
    ]
    out, stats = mark_package(raw, "台账", far, label="t.xlsx")
    assert stats.cells == 1 and stats.findings == 3
    vml = next(v for n, v in read_parts(out).items() if n.endswith(".vml"))
    anchor = re.search(rb"<x:Anchor>([^<]*)</x:Anchor>", vml).group(1).decode()
    nums = [int(x) for x in anchor.split(",")]
    assert max(nums[0], nums[4]) <= 16383 and max(nums[2], nums[6]) <= 1_048_575
    assert read_parts(clear_package(out)[0]) == read_parts(raw)


def test_a_cell_inside_a_merged_area_marks_its_top_left_cell(tmp_path):
    import xlsxwriter
    from openpyxl import load_workbook

    path = tmp_path / "m.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    ws.write_row(0, 0, ["序号", "方面", "问题描述"])
    ws.merge_range("B2:B4", "作风建设")
    for r in range(1, 4):
        ws.write(r, 0, r)
        ws.write(r, 2, f"问题{r}")
    wb.close()
    raw = path.read_bytes()
    findings = [
        Finding("x", "warning", 3, "B", None, "", "第3行"),
        Finding("x", "error", 4, "B", None, "", "第4行"),
        Finding("x", "error", 3, "C", None, "", "不在合并区"),
    ]
    out, stats = mark_package(raw, "台账", findings, label="m.xlsx")
    assert stats.cells == 2 and stats.comments == 2
    (tmp_path / "o.xlsx").write_bytes(out)
    got = load_workbook(tmp_path / "o.xlsx")["台账"]
    assert got["B2"].fill.fgColor.rgb == "FFFFC7CE"  # worst of the two
    assert "第3行" in got["B2"].comment.text and "第4行" in got["B2"].comment.text
    assert got["C3"].comment is not None
    links = [
        c.hyperlink.location for c in load_workbook(tmp_path / "o.xlsx")["校验结果"]["C"][1:] if c.hyperlink
    ]
    assert links == ["'台账'!B3", "'台账'!B4", "'台账'!C3"]  # the list still points at each cell
    assert read_parts(clear_package(out)[0]) == read_parts(raw)


def test_clear_refuses_when_the_marked_sheet_was_renamed(tmp_path):
    path = full_workbook(tmp_path)
    raw = path.read_bytes()
    out, _ = mark_package(raw, "台账", findings_for(12), label=path.name)
    parts = read_parts(out)
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        'name="台账"'.encode(), 'name="台账2024"'.encode()
    )
    renamed = write_parts(out, parts)
    with pytest.raises(Unpatchable, match="改名"):
        clear_package(renamed)


def test_directory_entries_in_the_zip_are_kept(tmp_path):
    import io
    import zipfile

    path = full_workbook(tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        dst.writestr("xl/", b"")
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    raw = buf.getvalue()
    out, _ = mark_package(raw, "台账", findings_for(12), label="d.xlsx")
    assert "xl/" in zipfile.ZipFile(io.BytesIO(out)).namelist()
    assert read_parts(clear_package(out)[0]) == read_parts(raw)


def _excel_made() -> list[Path]:
    """Workbooks saved by Excel itself (shipped with xlwings): real-world packages, VBA included."""
    import xlwings

    folder = Path(xlwings.__file__).parent
    return [p for p in (folder / "quickstart.xlsm", folder / "quickstart_standalone.xlsm") if p.exists()]


@pytest.mark.parametrize("source", _excel_made(), ids=lambda p: p.name)
def test_excel_made_workbooks_mark_and_clear_exactly(source):
    raw = source.read_bytes()
    findings = [
        Finding("x", "error", 1, "A", None, "", "a"),
        Finding("x", "warning", 3, "C", None, "", "=b"),
        Finding("x", "error", 50, "B", None, "", "c"),
    ]
    out, stats = mark_package(raw, "Sheet1", findings, label=source.name)
    assert stats.cells == 3 and stats.comments == 3
    before, after = read_parts(raw), read_parts(out)
    for name in (
        "xl/vbaProject.bin",
        "xl/worksheets/sheet2.xml",
        "xl/sharedStrings.xml",
        "xl/theme/theme1.xml",
    ):
        assert after[name] == before[name]
    assert mark_package(out, "Sheet1", findings, label=source.name)[0] == out
    assert read_parts(clear_package(out)[0]) == before


def test_rows_written_in_an_unusual_form_are_scanned_in_full(tmp_path):
    path = full_workbook(tmp_path)
    # r last and single-quoted: not the '<row r="' form, so every row is scanned the slow way
    _rewrite_sheet(path, lambda s: re.sub(rb'<row r="(\d+)"([^>]*?)(/?)>', rb"<row\2 r='\1'\3>", s))
    raw = path.read_bytes()
    out, stats = mark_package(raw, "台账", findings_for(12), label=path.name)
    assert stats.cells == 8
    assert read_parts(clear_package(out)[0]) == read_parts(raw)
    _rewrite_sheet(path, lambda s: re.sub(rb"<row([^>]*?) r='\d+'", rb"<row\1", s, count=1))
    with pytest.raises(Unpatchable, match="行号"):
        mark_package(path.read_bytes(), "台账", findings_for(12), label=path.name)


def test_names_the_user_scoped_to_our_sheet_go_with_it(tmp_path):
    path = full_workbook(tmp_path)
    raw = path.read_bytes()
    out, _ = mark_package(raw, "台账", findings_for(12), label=path.name)
    parts = read_parts(out)
    name = '<definedName name="_xlnm.Print_Titles" localSheetId="2">校验结果!$1:$1</definedName>'.encode()
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b"</definedNames>", name + b"</definedNames>")
    cleared, _ = clear_package(write_parts(out, parts))
    assert read_parts(cleared)["xl/workbook.xml"] == read_parts(raw)["xl/workbook.xml"]


def test_ledger_new_workbook_with_buttons_marks_and_clears_exactly(tmp_path):
    """The .xlsm `ledger new` ships: VBA, form buttons in the ledger sheet's VML, dropdowns, a chart."""
    from conftest import run_ledger

    from toolkit.api import check

    path = tmp_path / "台账.xlsm"
    assert run_ledger("new", path, "--sample").code == 0
    raw = path.read_bytes()
    ledger, report = check(path, as_of=date(2024, 12, 31))
    assert report.findings
    once, stats = mark_package(raw, ledger.sheet, report.findings, label=path.name)
    assert stats.cells > 0 and stats.comments > 0
    assert mark_package(once, ledger.sheet, report.findings, label=path.name)[0] == once
    before, after = read_parts(raw), read_parts(once)
    for name in (
        "xl/vbaProject.bin",
        "xl/charts/chart1.xml",
        "xl/drawings/drawing1.xml",
        "xl/sharedStrings.xml",
    ):
        assert after[name] == before[name]
    vml = next(n for n in before if n.endswith(".vml"))
    assert after[vml].startswith(before[vml][: before[vml].rfind(b"</xml>")])  # buttons kept, notes appended
    assert after[vml].count(b'ObjectType="Button"') == before[vml].count(b'ObjectType="Button"')
    # the marked workbook reads back to the same findings
    marked = tmp_path / "marked.xlsm"
    marked.write_bytes(once)
    assert check(marked, as_of=date(2024, 12, 31))[1].flat() == report.flat()
    assert read_parts(clear_package(once)[0]) == before


def _sheet(sheet_data: str, after: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><sheetData>{sheet_data}</sheetData>'
        f"{after}</worksheet>"
    ).encode()


_CHECKED = _sheet(
    '<row r="1"><c r="A1" s="2"/><c r="B1" t="inlineStr"><is><t>x</t></is></c></row><row r="2"/>'
)


@pytest.mark.parametrize(
    ("data", "rows", "cells", "styles", "refused"),
    [
        (_CHECKED, 2, 2, {"A1": "2", "B1": None}, False),
        (_CHECKED, 2, 2, {"A1": "3"}, True),  # a touched cell without the style we gave it
        (_CHECKED, 2, 2, {"C1": "3"}, True),  # a touched cell the parser does not see
        (_CHECKED, 3, 2, {}, True),
        (_CHECKED, 2, 3, {}, True),
        (_sheet('<row r="1"><c r="A1"/></row><foo/>'), 1, 1, {}, True),  # not a row in sheetData
        (_sheet('<row r="1"><row r="5"/></row>'), 1, 1, {}, True),  # a row inside a row
        (_sheet('<row r="1"/>', '<extLst><row r="3"/></extLst>'), 1, 0, {}, True),  # a row elsewhere
        (_CHECKED[:-5], 2, 2, {}, True),  # cut short
        (_CHECKED.replace(b"worksheet", b"chartsheet"), 2, 2, {}, True),
    ],
)
def test_patched_sheet_check_refuses_what_the_byte_scan_could_misread(data, rows, cells, styles, refused):
    try:
        check_patched_sheet(data, "xl/worksheets/sheet1.xml", rows, cells, styles)
    except Unpatchable:
        assert refused
    else:
        assert not refused


@pytest.mark.parametrize(
    "sheet",
    [
        '<cols><col min="1" max="1" style="9"/></cols><sheetData><row r="1" s="3"><c r="A1" s="7"/></row>',
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>s="99" style="98"</t></is></c></row>',
        '<sheetData><row r="1"><c r="A1" s="4"/><c r="B1"/></row>',
    ],
)
def test_styles_in_use_with_a_bound_answers_as_the_full_scan(sheet):
    pkg = Package()
    pkg.set("s.xml", (sheet + "</sheetData>").encode())
    exact = styles_in_use(pkg, ["s.xml"])
    for below in range(0, 101):
        assert (styles_in_use(pkg, ["s.xml"], below=below) >= below) == (exact >= below)


_RICH = '<is><r><rPr><color rgb="FFFF0000"/><charset val="134"/></rPr><t>红</t></r></is>'


@pytest.mark.parametrize(
    ("sheet_data", "counted"),
    [
        ('<row r="1"><c r="A1"/><c r="B1"><v>1</v></c></row><row r="2"/>', (2, 2, True)),
        (f'<row r="1"><c r="A1" t="inlineStr">{_RICH}</c><c r="B1"/></row>', (1, 2, True)),
        ('<row r="1"><c s="1" r="A1"/><c\tr="B1"/></row>', (1, 2, True)),
        ('<row r=\'1\'><c r="A1"/></row><row\nr="2"/>', (2, 1, False)),
        ('<row r="1"><c r="A1"/><c:c r="B1"/></row>', "无法安全修改"),
        ('<row r="1"><c r="A1"/><c t="n"/></row>', "未标明位置"),
    ],
    ids=["plain", "rich-text", "r-not-first", "rows-unusual", "prefixed-cell", "cell-without-r"],
)
def test_sheet_scan_counts_cells_and_rows_whatever_the_form(sheet_data, counted):
    data = (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}" xmlns:c="{MAIN_NS}">'
        f"<sheetData>{sheet_data}</sheetData></worksheet>"
    ).encode()
    if isinstance(counted, str):
        with pytest.raises(Unpatchable, match=counted):
            scan_sheet(data, "xl/worksheets/sheet1.xml")
        return
    scan = scan_sheet(data, "xl/worksheets/sheet1.xml")
    assert (scan.n_rows, scan.n_cells, scan.plain_rows) == counted


def _outcome(check, data: bytes) -> str:
    try:
        check(data, "p")
    except Exception as exc:  # the kind and sentence are what is compared
        return f"{type(exc).__name__}: {exc}"
    return "ok"


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><a/>',
        b'\xef\xbb\xbf  <?xml version="1.0"?><a/>',
        b'<?xml version="1.0"',
        b'<?xml version="1.0"?><a><?pi x?></a>',
        b"<a><!-- c --></a>",
        b"<!DOCTYPE a><a/>",
        b"<a><![CDATA[x]]></a>",
        b'<?xml version="1.0" encoding="GBK"?><a/>',
        b"\xff\xfe<a/>",
        b"<a/><?x?>",
        b'  \n<?xml version="1.0" encoding="utf-8"?><a/>',
        b'<?xml version="1.0"?><!ENTITY x "y"><a/>',
        b"<a>?></a><?x",
    ],
)
def test_one_pass_scannable_check_answers_as_the_two_checks(data):
    def both(d: bytes, part: str) -> None:
        refuse_markup_we_cannot_scan(d, part)
        check_xml_bytes(d, part)

    assert _outcome(check_scannable, data) == _outcome(both, data)


def test_result_sheet_fingerprint_is_the_one_earlier_versions_recorded():
    """Records written by earlier versions hold this digest: computing it differently must not change it,
    or their 校验结果 sheets would no longer be recognised (and cleared) as ours."""
    pkg = Package()
    pkg.set(
        "xl/worksheets/sheet9.xml",
        (
            f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">'
            '<c r="A1" t="inlineStr"><is><r><t>a</t></r><r><t/></r><t>b<x/>c</t></is></c>'
            '<c r="B1"><v/><v>2</v></c><c r="E1"/>'
            '<c r="F1"><f>1+1</f><v>2</v></c><c><v>9</v></c><c r="G1" t="inlineStr"><is><t>问题</t></is></c>'
            "</row></sheetData></worksheet>"
        ).encode(),
    )
    assert sheet_fingerprint(pkg, "xl/worksheets/sheet9.xml") == (
        "8763693a84f632ccaf81a4f6091afe42864dbf27bfdd12a95d72793ad3558cd7"
    )


def test_drawing_part_the_sheet_does_not_show_goes_to_a_copy(tmp_path):
    """A sheet with a VML drawing but neither comments nor <legacyDrawing> (a user's note removed by
    another tool): the notes cannot be attached safely, so the marks go to a copy, not a traceback."""
    import subprocess
    import sys

    from openpyxl import Workbook
    from openpyxl.comments import Comment

    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["序号", "方面", "问题描述", "整改措施", "责任部门", "整改时限", "完成状态", "完成时间"])
    ws.append([1, "一、学习", "问题甲", "措施", "办公室", "2024-01-01", "正在推进", None])
    ws.append([2, "一、学习", "问题乙", "措施", "办公室", "2099-01-01", "已完成", None])
    ws["J1"].comment = Comment("用户批注", "user")
    path = tmp_path / "台账.xlsx"
    wb.save(path)
    parts = read_parts(path.read_bytes())
    parts["xl/worksheets/sheet1.xml"] = re.sub(
        rb"<legacyDrawing[^>]*/>", b"", parts["xl/worksheets/sheet1.xml"]
    )
    rels = "xl/worksheets/_rels/sheet1.xml.rels"
    parts[rels] = re.sub(rb'<Relationship[^>]*relationships/comments"[^>]*/>', b"", parts[rels])
    assert b"vmlDrawing" in parts[rels]
    path.write_bytes(write_parts(path.read_bytes(), parts))
    raw = path.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "validate", str(path), "--mark", "--no-history"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert done.returncode == 3, done.stderr  # 3: marked, in a copy (as for every unpatchable workbook)
    assert "内部错误" not in done.stderr and "绘图部件未被引用" in done.stderr
    assert path.read_bytes() == raw
    assert (tmp_path / "台账.校验结果.xlsx").exists()


def test_marking_keeps_the_garbage_collector_when_the_speed_tricks_are_off(tmp_path, monkeypatch):
    """``LEDGER_FASTPATH=0`` is the one switch for the speed tricks (toolkit.fastpath): with it, marking
    and clearing run with the collector as it was, like everything else."""
    import gc

    from toolkit.xlsx import marks

    raw = full_workbook(tmp_path).read_bytes()
    seen: list[bool] = []
    for name in ("_mark_ledger_sheet", "_clear_in"):
        real = getattr(marks, name)

        def spy(*args, _real=real, **kwargs):
            seen.append(gc.isenabled())
            return _real(*args, **kwargs)

        monkeypatch.setattr(marks, name, spy)
    gc.enable()
    monkeypatch.setenv("LEDGER_FASTPATH", "0")
    out, _ = mark_package(raw, "台账", findings_for(12))
    clear_package(out)
    assert seen and all(seen)
    monkeypatch.setenv("LEDGER_FASTPATH", "1")
    seen.clear()
    mark_package(raw, "台账", findings_for(12))
    assert seen and not any(seen)
    assert gc.isenabled()
