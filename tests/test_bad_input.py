"""Bad input: every file a user (or an attacker) can hand us gives exit 2 and one Chinese sentence.

Each file is built here for real. The CLI runs in a child process under a 2 GB address-space
limit, so a guard regression shows up as an abort (negative exit code) instead of eating the
machine; the time bound is the subprocess timeout, not a benchmark.
"""

from __future__ import annotations

import json
import random
import shutil
import zipfile
from pathlib import Path

import pytest
from builders import HEADERS
from filemakers import (
    AS_OF,
    NS,
    WORKBOOK,
    build_bomb,
    build_ledger_xlsx,
    build_package,
    far_cells,
    header_row_xml,
    inline,
    repeated_deflate,
    run_limited,
    sheet_xml,
    soffice_convert,
)

HOSTILE_TIMEOUT = 30  # seconds: far above the real figure (well under 1 s), far below "eats the machine"
office = pytest.mark.office
needs_soffice = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed"
)


def assert_refused(path: Path, *keywords: str) -> str:
    """Exit 2, nothing on stdout, one Chinese sentence naming the problem on stderr."""
    run = run_limited("validate", path, "--as-of", AS_OF, "--json", timeout=HOSTILE_TIMEOUT)
    assert run.code == 2, (run.code, run.err[-2000:])
    assert "Traceback" not in run.err and "panicked" not in run.err, run.err[-2000:]
    assert run.out == ""
    message = run.err.strip()
    assert "\n" not in message, message
    assert message.endswith("。"), message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
    for word in keywords:
        assert word in message, (word, message)
    return message


# --- not a workbook at all -----------------------------------------------------------------------------


def test_empty_file(tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(b"")
    assert_refused(path, "台账.xlsx", "空文件")


def test_missing_path(tmp_path):
    assert_refused(tmp_path / "不存在.xlsx", "找不到", "不存在.xlsx")


def test_directory(tmp_path):
    folder = tmp_path / "台账.xlsx"
    folder.mkdir()
    assert_refused(folder, "文件夹")


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_not_a_regular_file(tmp_path, kind):
    """A named pipe would block the first read forever; /dev/zero never ends."""
    import os

    if kind == "fifo":
        path = tmp_path / "台账.xlsx"
        os.mkfifo(path)
    else:
        path = tmp_path / "台账.xlsx"
        path.symlink_to("/dev/zero")
    assert_refused(path, "不是普通文件")


def test_csv_renamed_to_xlsx(tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_text(
        "序号,方面,问题描述,整改措施,完成状态\n1,理论学习,学习不深入,制定计划,已完成\n", encoding="gbk"
    )
    assert_refused(path, "CSV", "另存为")


def test_utf8_csv_with_bom_renamed_to_xlsx(tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_text("\ufeff" + ",".join(HEADERS) + "\n" + "1,理论学习,学习不深入\n" * 500, encoding="utf-8")
    assert_refused(path, "CSV")


def test_html_page_without_table_renamed_to_xlsx(tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>登录</title></head>'
        "<body><p>会话已过期，请重新登录。</p></body></html>",
        encoding="utf-8",
    )
    assert_refused(path, "网页", "没有表格")


def test_html_page_with_long_style_head_is_not_taken_for_csv(tmp_path):
    """A system export whose <style> block fills the first 4 KB must still be recognised as a web page."""
    style = "td { font-family: '宋体', serif; border: 1px solid #000, }\n" * 200
    path = tmp_path / "台账.xlsx"
    path.write_text(f"<html><head><style>{style}</style></head><body>无数据</body></html>", encoding="utf-8")
    assert_refused(path, "网页")


def test_word_document_renamed_to_xlsx(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("关于整改落实情况的通报")
    path = tmp_path / "台账.xlsx"
    document.save(str(path))
    assert_refused(path, "Word")


def test_random_bytes(tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(random.Random(2024).randbytes(64 * 1024))
    assert_refused(path, "台账.xlsx", "Excel")


def test_plain_zip(tmp_path):
    path = tmp_path / "台账.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("说明.txt", "这是一个普通压缩包")
        zf.writestr("照片/1.jpg", b"\xff\xd8\xff\xe0" + bytes(100))
    assert_refused(path, "压缩包")


def test_truncated_xlsx(tmp_path):
    whole = build_ledger_xlsx(tmp_path / "whole.xlsx")
    data = whole.read_bytes()
    path = tmp_path / "台账.xlsx"
    path.write_bytes(data[: len(data) // 2])
    assert_refused(path, "损坏")


def test_xlsx_with_a_truncated_part(tmp_path):
    """The central directory is intact but the sheet's deflate stream ends early (a bad copy)."""
    whole = build_ledger_xlsx(tmp_path / "whole.xlsx")
    source = zipfile.ZipFile(whole)
    path = tmp_path / "台账.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2]
            zf.writestr(info.filename, data)
    assert_refused(path, "损坏")


# --- passwords -------------------------------------------------------------------------------------------


def test_encrypted_xlsx(tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = build_ledger_xlsx(tmp_path / "plain.xlsx")
    path = tmp_path / "加密台账.xlsx"
    with plain.open("rb") as source, path.open("wb") as target:
        OOXMLFile(source).encrypt("123456", target)
    assert path.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")
    assert_refused(path, "加密台账.xlsx", "密码")


def _encrypt_with_libreoffice(source: Path, target: Path, filter_name: str) -> None:
    """Save ``source`` with an opening password through LibreOffice's UNO API (Debian's python3)."""
    import subprocess

    script = f"""
import subprocess, time, uno
from com.sun.star.beans import PropertyValue
def prop(name, value):
    p = PropertyValue(); p.Name = name; p.Value = value; return p
office = subprocess.Popen(["soffice", "-env:UserInstallation=file://{target.parent}/lo-uno", "--headless",
    "--norestore", "--accept=pipe,name=hostile{id(target)};urp;"])
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(120):
        try:
            ctx = resolver.resolve("uno:pipe,name=hostile{id(target)};urp;StarOffice.ComponentContext"); break
        except Exception:
            time.sleep(0.5)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl("{source}"), "_blank", 0, (prop("Hidden", True),))
    doc.storeToURL(uno.systemPathToFileUrl("{target}"),
                   (prop("FilterName", "{filter_name}"), prop("Password", "123456")))
    doc.close(True)
    try:
        desktop.terminate()
    except Exception:
        pass
finally:
    office.wait(timeout=60) if office.poll() is None and not office.kill() else None
"""
    proc = subprocess.run(["/usr/bin/python3", "-c", script], capture_output=True, text=True, timeout=240)
    if not target.exists():
        pytest.skip(f"LibreOffice could not save an encrypted file: {proc.stderr[-500:]}")


@office
@needs_soffice
def test_encrypted_xls(tmp_path):
    plain = build_ledger_xlsx(tmp_path / "plain.xlsx")
    path = tmp_path / "加密台账.xls"
    _encrypt_with_libreoffice(plain, path, "MS Excel 97")
    assert_refused(path, "加密台账.xls", "密码")


# --- zip bombs --------------------------------------------------------------------------------------------

SHEET_HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{NS}"><sheetData>'.encode()
SHEET_TAIL = b"</sheetData></worksheet>"
MB = 1 << 20


def test_zip_bomb_declared_2_gb(tmp_path):
    """sheet1.xml inflates to 2 GB of spaces and says so: refused from the directory alone."""
    stream = repeated_deflate(SHEET_HEAD, b" " * MB, 2048, SHEET_TAIL)
    path = build_bomb(tmp_path / "炸弹.xlsx", "xl/worksheets/sheet1.xml", stream)
    assert path.stat().st_size < 4 * MB
    assert_refused(path, "压缩炸弹")


def test_zip_bomb_shared_strings_declared_large(tmp_path):
    """Shared strings are loaded when the workbook opens, before any sheet is measured."""
    block = b"<si><t>x</t></si>" * 65536
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{NS}">'.encode()
    stream = repeated_deflate(head, block, 1200, b"</sst>")
    path = build_bomb(tmp_path / "炸弹.xlsx", "xl/sharedStrings.xml", stream)
    assert_refused(path, "压缩炸弹")


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"])
def test_zip_bomb_lying_about_its_size(tmp_path, part):
    """The directory declares 300 bytes; the stream really holds 1 GB. Nothing may inflate past the lie."""
    if part.endswith("sheet1.xml"):
        row = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>x</t></is></c>' for i in range(20))
        stream = repeated_deflate(
            SHEET_HEAD, (f'<row r="2">{row}</row>' * 1000).encode()[:MB], 1024, SHEET_TAIL
        )
    else:
        head = f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{NS}">'.encode()
        stream = repeated_deflate(head, b"<si><t>x</t></si>" * 65536, 1000, b"</sst>")
    path = build_bomb(tmp_path / "炸弹.xlsx", part, stream, declared=300)
    assert_refused(path, "损坏")


def test_zip_with_duplicate_part_names(tmp_path):
    """Two sheet1.xml entries: the guard and the reader must not be able to see different ones."""
    path = build_package(tmp_path / "台账.xlsx", {})
    with zipfile.ZipFile(path, "a") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("xl/worksheets/sheet1.xml", sheet_xml(header_row_xml() + "<row r=\"1048576\">"
                                                            + inline("XFD1048576", "x") + "</row>"))  # fmt: skip
    assert_refused(path, "台账.xlsx")


# --- XML bombs and external entities ------------------------------------------------------------------------

LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    + "]>"
)
PASSWD = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_billion_laughs(tmp_path, part):
    doctype = LAUGHS
    if part == "xl/sharedStrings.xml":
        body = f'<?xml version="1.0"?>\n{doctype}<sst xmlns="{NS}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
        parts = {
            part: body,
            "xl/worksheets/sheet1.xml": sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'),
        }
    elif part == "xl/worksheets/sheet1.xml":
        parts = {part: sheet_xml('<row r="1">' + inline("A1", "&lol9;") + "</row>", prolog=doctype)}
    else:
        parts = {
            part: WORKBOOK.replace("<workbook", doctype + "<workbook").replace('name="台账"', 'name="&lol9;"')
        }
    path = build_package(tmp_path / "台账.xlsx", parts)
    assert_refused(path, "实体")


def test_doctype_hidden_behind_a_comment(tmp_path):
    """A comment that looks like an element must not hide the DTD behind it from the guard."""
    body = sheet_xml('<row r="1">' + inline("A1", "&lol9;") + "</row>")
    body = body.replace("<worksheet", "<!-- <a> -->" + LAUGHS + "<worksheet")
    path = build_package(tmp_path / "台账.xlsx", {"xl/worksheets/sheet1.xml": body})
    assert_refused(path, "实体")


def test_external_entity_is_never_resolved(tmp_path):
    passwd = (
        Path("/etc/passwd").read_text(errors="replace").splitlines()[0]
        if Path("/etc/passwd").exists()
        else ""
    )
    sst = f'<?xml version="1.0"?>\n{PASSWD}<sst xmlns="{NS}" count="1" uniqueCount="1"><si><t>&e;</t></si></sst>'
    rows = header_row_xml() + '<row r="2"><c r="C2" t="s"><v>0</v></c></row>'
    path = build_package(
        tmp_path / "台账.xlsx", {"xl/sharedStrings.xml": sst, "xl/worksheets/sheet1.xml": sheet_xml(rows)}
    )
    run = run_limited("validate", path, "--as-of", AS_OF, "--json", timeout=HOSTILE_TIMEOUT)
    assert "root:" not in run.out + run.err
    if passwd:
        assert passwd not in run.out + run.err
    assert_refused(path, "实体")


def test_external_entity_in_an_html_xls(tmp_path):
    """The HTML reader does not expand DTD entities either."""
    html = (
        f'{PASSWD}<html><head><meta charset="utf-8"></head><body><table>'
        f"<tr>{''.join(f'<td>{h}</td>' for h in HEADERS)}</tr>"
        "<tr><td>1</td><td>理论学习</td><td>&e;</td><td>措施</td><td>张三</td><td>党政办</td><td>李四</td>"
        "<td>2024年6月30日</td><td>已完成</td><td>2024年6月1日</td><td></td></tr></table></body></html>"
    )
    path = tmp_path / "台账.xls"
    path.write_text(html, encoding="utf-8")
    run = run_limited("validate", path, "--as-of", AS_OF, "--json", timeout=HOSTILE_TIMEOUT)
    assert "root:" not in run.out + run.err
    assert run.code in (0, 1, 2) and "Traceback" not in run.err


# --- absurd used ranges (python-calamine would ask for hundreds of GB and abort the process) ---------------


def test_cells_at_a1_and_xfd1048576(tmp_path):
    path = build_package(tmp_path / "台账.xlsx", {"xl/worksheets/sheet1.xml": sheet_xml(far_cells())})
    assert path.stat().st_size < 4096
    assert_refused(path, "XFD1048576", "异常庞大")


def test_cells_at_a1_and_a1048576_with_a_wide_row(tmp_path):
    wide = '<row r="2">' + "".join(inline(f"{c}2", "x") for c in ("AA", "ZZ", "AMJ")) + "</row>"
    rows = header_row_xml() + wide + '<row r="1048576">' + inline("A1048576", "x") + "</row>"
    path = build_package(tmp_path / "台账.xlsx", {"xl/worksheets/sheet1.xml": sheet_xml(rows)})
    assert_refused(path, "异常庞大")


def test_far_cell_written_by_xlsxwriter(tmp_path):
    import xlsxwriter

    path = tmp_path / "台账.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("台账")
    sheet.write_row(0, 0, HEADERS)
    sheet.write(1048575, 16383, "x")
    workbook.close()
    assert_refused(path, "异常庞大")


@pytest.mark.parametrize(
    "variant", ["single-quotes", "spaces-around-equals", "newline-before-equals", "namespace-prefix"]
)
def test_far_cells_spelled_unusually(tmp_path, variant):
    """Attribute spellings Excel never writes but XML allows must not slip past the byte scan."""
    if variant == "single-quotes":
        rows = far_cells(quote="'")
    elif variant == "spaces-around-equals":
        rows = far_cells(eq=" = ")
    elif variant == "newline-before-equals":
        rows = far_cells(eq="\n=")
    else:
        rows = far_cells().replace("<c ", "<x:c ").replace("</c>", "</x:c>").replace("<is>", "<x:is>")
        rows = rows.replace("</is>", "</x:is>").replace("<t>", "<x:t>").replace("</t>", "</x:t>")
        rows = rows.replace("<row", "<x:row").replace("</row>", "</x:row>")
        xml = (
            sheet_xml(rows).replace("<sheetData>", "<x:sheetData>").replace("</sheetData>", "</x:sheetData>")
        )
        xml = xml.replace(f'<worksheet xmlns="{NS}">', f'<x:worksheet xmlns:x="{NS}">').replace(
            "</worksheet>", "</x:worksheet>"
        )
        path = build_package(tmp_path / "台账.xlsx", {"xl/worksheets/sheet1.xml": xml})
        assert_refused(path, "异常庞大")
        return
    path = build_package(tmp_path / "台账.xlsx", {"xl/worksheets/sheet1.xml": sheet_xml(rows)})
    assert_refused(path)


def test_far_cells_in_a_sheet_the_workbook_lists_with_single_quotes(tmp_path):
    workbook = WORKBOOK.replace('name="台账" sheetId="1" r:id="rId1"', "name='台账' sheetId='1' r:id='rId1'")
    path = build_package(tmp_path / "台账.xlsx", {"xl/workbook.xml": workbook,
                                                   "xl/worksheets/sheet1.xml": sheet_xml(far_cells())})  # fmt: skip
    assert_refused(path, "异常庞大")


def test_far_cells_in_a_sheet_the_guard_cannot_locate(tmp_path):
    """The relationship target is spelled so our resolver misses it: the sheet must still be measured."""
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'worksheet" Target="/xl/worksheets/./sheet1.xml"/></Relationships>'
    )
    path = build_package(tmp_path / "台账.xlsx", {"xl/_rels/workbook.xml.rels": rels,
                                                   "xl/worksheets/sheet1.xml": sheet_xml(far_cells())})  # fmt: skip
    run = run_limited("validate", path, "--as-of", AS_OF, "--json", timeout=HOSTILE_TIMEOUT)
    assert run.code == 2 and "Traceback" not in run.err and "\n" not in run.err.strip(), run.err[-2000:]


def test_shared_strings_claiming_billions_of_entries(tmp_path):
    """calamine reserves uniqueCount strings up front: a 4-billion claim aborts it when the workbook opens."""
    sst = (
        f'<?xml version="1.0"?>\n<sst xmlns="{NS}" count="1" uniqueCount="4000000000"><si><t>x</t></si></sst>'
    )
    path = build_package(tmp_path / "台账.xlsx", {"xl/sharedStrings.xml": sst})
    assert_refused(path, "台账.xlsx")


def test_merged_range_over_the_whole_sheet(tmp_path):
    """One merge A1:XFD1048576 over a real ledger must not be filled cell by cell."""
    rows = header_row_xml() + "".join(
        f'<row r="{r}">' + inline(f"B{r}", "理论学习") + inline(f"C{r}", f"问题{r}") + inline(f"D{r}", "措施")
        + inline(f"I{r}", "正在推进") + "</row>"
        for r in range(2, 2002)
    )  # fmt: skip
    xml = sheet_xml(rows, after='<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>')
    path = build_package(tmp_path / "台账.xlsx", {"xl/worksheets/sheet1.xml": xml})
    run = run_limited("validate", path, "--as-of", AS_OF, "--json", timeout=HOSTILE_TIMEOUT)
    # Excel shows one giant cell: reading it as such (or refusing it) is fine, filling 17 G cells is not
    assert run.code in (0, 1, 2) and "Traceback" not in run.err, (run.code, run.err[-2000:])
    if run.code == 2:
        assert "\n" not in run.err.strip()


# --- cells Excel never writes: handled in the memory-limited child, not refused -------------------------------


def _small_ledger_rows(quote: str = '"', with_refs: bool = True) -> str:
    q = quote
    values = [
        "1",
        "理论学习",
        "学习不深入",
        "制定计划",
        "张三",
        "党政办",
        "李四",
        "2024年6月30日",
        "已完成",
        "2024年6月1日",
        "",
    ]

    def cell(ref: str, text: str) -> str:
        attr = f"r={q}{ref}{q} " if with_refs else ""
        return f"<c {attr}t={q}inlineStr{q}><is><t>{text}</t></is></c>"

    header = "".join(cell(f"{chr(65 + i)}1", h) for i, h in enumerate(HEADERS))
    body = "".join(cell(f"{chr(65 + i)}2", v) for i, v in enumerate(values) if v or not with_refs)
    return (
        f"<row>{header}</row><row>{body}</row>"
        if not with_refs
        else f"<row r={q}1{q}>{header}</row><row r={q}2{q}>{body}</row>"
    )


@pytest.mark.parametrize("variant", ["single-quoted-r", "cells-without-r"])
def test_unusual_but_harmless_sheet_is_read(tmp_path, variant):
    rows = (
        _small_ledger_rows(quote="'") if variant == "single-quoted-r" else _small_ledger_rows(with_refs=False)
    )
    path = build_package(tmp_path / "台账.xlsx", {"xl/worksheets/sheet1.xml": sheet_xml(rows)})
    run = run_limited("validate", path, "--as-of", AS_OF, "--json", timeout=HOSTILE_TIMEOUT)
    assert run.code in (0, 1), (run.code, run.err[-2000:])
    report = json.loads(run.out)
    assert report["rows"] == 1
    assert report["errors"] == 0, report["issues"]


# --- the same tricks in other formats -------------------------------------------------------------------------


def _absurd_xlsx(tmp_path: Path) -> Path:
    import xlsxwriter

    path = tmp_path / "absurd.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("台账")
    sheet.write_row(0, 0, HEADERS)
    sheet.write_row(
        1, 0, [1, "理论学习", "学习不深入", "制定计划", "张三", "党政办", "李四", "2024年6月30日", "已完成"]
    )
    sheet.write(1048575, 16383, "x")
    workbook.close()
    return path


@office
@needs_soffice
@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_absurd_range_in_other_formats(tmp_path, fmt):
    """LibreOffice keeps the far cell (ods) or clips it to IV65536 (xls); either way: no abort, no traceback."""
    path = soffice_convert(_absurd_xlsx(tmp_path), fmt, tmp_path)
    run = run_limited("validate", path, "--as-of", AS_OF, "--json", timeout=120)
    assert run.code in (0, 1, 2), (run.code, run.err[-2000:])
    assert "Traceback" not in run.err and "panicked" not in run.err
    if run.code == 2:
        assert "\n" not in run.err.strip() and run.err.strip().endswith("。"), run.err


@office
@needs_soffice
def test_ods_with_repeated_rows_and_columns(tmp_path):
    """content.xml can repeat an empty-but-styled cell 16384 x 1048576 times in a few bytes."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        "<office:body><office:spreadsheet><table:table table:name=\"台账\">"
        + "<table:table-row>" + "".join(f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>'
                for h in HEADERS)
        + "</table:table-row>"
        '<table:table-row table:number-rows-repeated="1048575"><table:table-cell '
        'table:number-columns-repeated="16384" office:value-type="string"><text:p>x</text:p></table:table-cell>'
        "</table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )  # fmt: skip
    path = tmp_path / "台账.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
        zf.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>',
        )
    assert_refused(path, "台账.ods")


# --- a real workbook without a ledger ---------------------------------------------------------------------------


def test_workbook_without_a_ledger(tmp_path):
    import xlsxwriter

    path = tmp_path / "工资表.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("工资")
    sheet.write_row(0, 0, ["姓名", "部门", "基本工资", "绩效", "合计"])
    sheet.write_row(1, 0, ["张三", "党政办", 5000, 1200, 6200])
    workbook.add_worksheet("Sheet2")
    workbook.close()
    message = assert_refused(path, "问题描述", "整改措施", "完成状态", "--sheet", "--config")
    assert "工资" in message


def test_named_sheet_that_does_not_exist(tmp_path):
    path = build_ledger_xlsx(tmp_path / "台账.xlsx")
    run = run_limited("validate", path, "--sheet", "第二季度", "--json", timeout=HOSTILE_TIMEOUT)
    assert run.code == 2 and "第二季度" in run.err and "台账" in run.err and "Traceback" not in run.err


def test_wide_cell_and_a_five_digit_row(tmp_path):
    """XFD1 and A99999: neither is "big" alone, together they are 1.6 G cells."""
    rows = header_row_xml() + '<row r="2">' + inline("XFD2", "x") + '</row><row r="99999">'
    rows += inline("A99999", "x") + "</row>"
    path = build_package(tmp_path / "台账.xlsx", {"xl/worksheets/sheet1.xml": sheet_xml(rows)})
    assert_refused(path, "XFD99999", "异常庞大")


# --- more things people pick by mistake ---------------------------------------------------------------------


def test_excel_2003_xml_renamed_to_xls(tmp_path):
    path = tmp_path / "台账.xls"
    path.write_text(
        '<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="台账"><Table>'
        '<Row><Cell><Data ss:Type="String">问题描述</Data></Cell></Row></Table></Worksheet></Workbook>',
        encoding="utf-8",
    )
    assert_refused(path, "Excel 2003 XML", "另存为 .xlsx")


def test_xlsb_is_named_as_such(tmp_path):
    path = tmp_path / "台账.xlsb"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
        zf.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00")
    assert_refused(path, ".xlsb", "另存为 .xlsx")


@office
@needs_soffice
def test_word_97_document_renamed_to_xls(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("关于整改落实情况的通报：Workbook")
    source = tmp_path / "通报.docx"
    document.save(str(source))
    doc = soffice_convert(source, "doc", tmp_path)
    path = tmp_path / "台账.xls"
    doc.rename(path)
    assert_refused(path, "Word")


def test_file_larger_than_any_ledger(tmp_path):
    path = tmp_path / "台账.xlsx"
    with path.open("wb") as fh:  # sparse: costs no disk
        fh.write(b"PK\x03\x04")
        fh.seek(600 << 20)
        fh.write(b"\0")
    assert_refused(path, "500 MB")


def test_package_with_a_part_path_outside_the_package(tmp_path):
    path = build_package(
        tmp_path / "台账.xlsx", {"xl/worksheets/../worksheets/sheet1.xml": sheet_xml(far_cells())}
    )
    assert_refused(path, "路径异常")


def test_package_with_tens_of_thousands_of_parts(tmp_path):
    path = build_package(tmp_path / "台账.xlsx", {f"xl/media/image{i}.png": b"" for i in range(12_000)})
    assert_refused(path, "部件")


# --- hostile HTML "xls" -------------------------------------------------------------------------------------------

HTML_HEAD = '<html><head><meta charset="utf-8"></head><body><table><tr>'


def test_html_spans_creating_too_many_cells(tmp_path):
    path = tmp_path / "导出.xls"
    cells = '<td rowspan="1000" colspan="1000">x</td>' * 30
    path.write_text(HTML_HEAD + cells + "</tr></table></body></html>", encoding="utf-8")
    assert_refused(path, "远超")


def test_html_rowspans_reaching_millions_of_rows(tmp_path):
    path = tmp_path / "导出.xls"
    rows = "<tr>" + '<td rowspan="1000">x</td>' * 1000 + "</tr>"
    path.write_text(HTML_HEAD.removesuffix("<tr>") + rows * 3 + "</table></body></html>", encoding="utf-8")
    assert_refused(path, "异常庞大")


@pytest.mark.parametrize("pattern", ["</", "<?", "<!", "<a ", "<td a='x"])
def test_html_that_makes_htmlparser_quadratic(tmp_path, pattern):
    """Python 3.11's HTMLParser needs minutes on a megabyte of these; our tokenizer is linear."""
    path = tmp_path / "导出.xls"
    path.write_text(HTML_HEAD + "<td>" + pattern * (1_000_000 // len(pattern)), encoding="utf-8")
    run = run_limited("validate", path, "--as-of", AS_OF, "--json", timeout=HOSTILE_TIMEOUT)
    assert run.code == 2 and "Traceback" not in run.err, (run.code, run.err[-2000:])
    assert "\n" not in run.err.strip()


def test_html_with_deeply_nested_and_countless_tables(tmp_path):
    path = tmp_path / "导出.xls"
    path.write_text(HTML_HEAD + "<td><table><tr>" * 50_000 + "<table><tr><td>x</td></tr></table>" * 20_000,
                    encoding="utf-8")  # fmt: skip
    assert_refused(path, "表格")


def test_html_larger_than_any_export(tmp_path):
    path = tmp_path / "导出.xls"
    with path.open("wb") as fh:  # sparse after a text head
        fh.write(HTML_HEAD.encode() + b" " * 8192)
        fh.seek(300 << 20)
        fh.write(b"</table>")
    assert_refused(path, "MB")


@office
@needs_soffice
def test_encrypted_ods(tmp_path):
    plain = build_ledger_xlsx(tmp_path / "plain.xlsx")
    path = tmp_path / "加密台账.ods"
    _encrypt_with_libreoffice(plain, path, "calc8")
    assert_refused(path, "加密台账.ods", "密码")


def test_billion_laughs_in_an_ods(tmp_path):
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{LAUGHS}<office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
        '<table:table table:name="台账"><table:table-row><table:table-cell office:value-type="string">'
        "<text:p>&lol9;</text:p></table:table-cell></table:table-row></table:table>"
        "</office:spreadsheet></office:body></office:document-content>"
    )
    path = tmp_path / "台账.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
    assert_refused(path, "实体")


def test_sheet_relationship_pointing_outside_the_package(tmp_path):
    """An external target must never be opened: the file names a sheet at file:///etc/passwd."""
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'worksheet" Target="file:///etc/passwd" TargetMode="External"/></Relationships>'
    )
    path = build_package(tmp_path / "台账.xlsx", {"xl/_rels/workbook.xml.rels": rels})
    run = run_limited("validate", path, "--as-of", AS_OF, "--json", timeout=HOSTILE_TIMEOUT)
    assert "root:" not in run.out + run.err
    assert_refused(path, "台账.xlsx")


def _two_sheets(first: str, second: str, names: tuple[str, str], rids: tuple[str, str]) -> dict[str, str]:
    sheets = "".join(
        f'<sheet name="{n}" sheetId="{i + 1}" r:id="{rid}"/>'
        for i, (n, rid) in enumerate(zip(names, rids, strict=True))
    )
    workbook = WORKBOOK.replace('<sheet name="台账" sheetId="1" r:id="rId1"/>', sheets)
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="{rid}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
            for i, rid in enumerate(rids)
        )
        + "</Relationships>"
    )
    return {
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": rels,
        "xl/worksheets/sheet1.xml": first,
        "xl/worksheets/sheet2.xml": second,
    }


def test_two_sheets_with_the_same_name(tmp_path):
    """calamine reads the first of two same-named sheets: the guard must not measure only the second."""
    parts = _two_sheets(
        sheet_xml(far_cells()), sheet_xml(header_row_xml()), ("台账", "台账"), ("rId1", "rId2")
    )
    assert_refused(build_package(tmp_path / "台账.xlsx", parts), "工作表名", "重复")


def test_two_relationships_with_the_same_id(tmp_path):
    parts = _two_sheets(
        sheet_xml(header_row_xml()), sheet_xml(far_cells()), ("台账", "附表"), ("rId1", "rId1")
    )
    assert_refused(build_package(tmp_path / "台账.xlsx", parts), "关系编号", "重复")
