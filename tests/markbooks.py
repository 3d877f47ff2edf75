"""Real workbooks for the marks tests, built with XlsxWriter and openpyxl, and package comparison helpers."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

from builders import HEADERS

from toolkit.model import Finding

# nine columns: the common ones without 责任领导 and 佐证材料
HEADERS_NO_LEAD_OR_EVIDENCE = [h for h in HEADERS if h not in ("责任领导", "佐证材料")]


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def ledger_vba() -> bytes:
    """The real vbaProject.bin of the ledger workbook (macros + xlwings), as ``toolkit.vba`` builds it."""
    from toolkit.vba import ledger_vba_project

    return ledger_vba_project(("Sheet1", "Sheet2"))


X14_DROPDOWN = (
    '<ext xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" '
    'uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"><x14:dataValidations count="1" '
    'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><x14:dataValidation type="list" '
    'allowBlank="1" showInputMessage="1" showErrorMessage="1"><x14:formula1><xm:f>其他!$A$1:$A$3</xm:f>'
    "</x14:formula1><xm:sqref>B2:B200</xm:sqref></x14:dataValidation></x14:dataValidations></ext>"
)


def full_workbook(tmp: Path, *, vba: bool = False, rows: int = 12, name: str = "台账") -> Path:
    """Every feature the issue lists, on the ledger sheet or beside it."""
    import xlsxwriter

    path = tmp / (f"{name}.xlsm" if vba else f"{name}.xlsx")
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    other = wb.add_worksheet("其他")
    bold = wb.add_format({"bold": True, "border": 1})
    user_fill = wb.add_format({"bg_color": "#C6EFCE"})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, HEADERS_NO_LEAD_OR_EVIDENCE, bold)
    for r in range(1, rows + 1):
        ws.write_number(r, 0, r)
        ws.write_string(r, 1, ["思想政治", "作风建设", "制度落实"][r % 3])
        ws.write_string(r, 2, f"问题{r}：学习不够深入" if r != 3 else "=SUM(A1:A2) 这是文字")
        ws.write_string(r, 3, "+加强学习" if r == 4 else "加强学习")
        ws.write_string(r, 4, "办公室")
        ws.write_string(r, 5, "张三" if r % 4 else "")
        ws.write_string(r, 6, "2024年6月底前")
        ws.write_string(r, 7, "已完成" if r % 2 else "整改中")
        if r % 2:
            ws.write_datetime(r, 8, __import__("datetime").datetime(2024, 5, r % 28 + 1), date_fmt)
    ws.write_string(5, 4, "财务科", user_fill)  # a user's own fill
    ws.write_comment("C2", "用户自己的批注：请核实")  # a user's own note
    ws.data_validation(1, 7, 200, 7, {"validate": "list", "source": ["已完成", "整改中", "未启动"]})
    ws.conditional_format(
        1, 7, 200, 7, {"type": "cell", "criteria": "==", "value": '"未启动"', "format": bold}
    )
    ws.conditional_format(1, 0, rows, 0, {"type": "data_bar", "bar_solid": True})
    ws.add_sparkline(0, 10, {"range": f"台账!A2:A{rows + 1}"})
    ws.insert_textbox("K3", "说明：本表为整改台账", {"width": 200, "height": 60})
    ws.insert_image("K8", "logo.png", {"image_data": io.BytesIO(tiny_png())})
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, rows, len(HEADERS_NO_LEAD_OR_EVIDENCE) - 1)
    if vba:
        ws.insert_button("M2", {"macro": "校验台账", "caption": "校验台账", "width": 90, "height": 30})
    other.write_column(0, 0, ["已完成", "整改中", "未启动"])
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": f"=台账!$A$2:$A${rows + 1}"})
    other.insert_chart("C2", chart)
    wb.define_name("状态列表", "=其他!$A$1:$A$3")
    wb.define_name("台账!本表区域", f"=台账!$A$1:$I${rows + 1}")
    if vba:
        vba_file = tmp / "vbaProject.bin"
        vba_file.write_bytes(ledger_vba())
        wb.add_vba_project(str(vba_file))
        wb.set_vba_name()
    wb.close()
    # an Excel 2010 dropdown (x14 extension list), as Excel writes it for cross-sheet lists
    parts = read_parts(path.read_bytes())
    sheet = parts["xl/worksheets/sheet1.xml"]
    sheet = sheet.replace(b"</extLst>", X14_DROPDOWN.encode() + b"</extLst>", 1)
    parts["xl/worksheets/sheet1.xml"] = sheet
    path.write_bytes(write_parts(path.read_bytes(), parts))
    return path


def openpyxl_workbook(tmp: Path, rows: int = 10) -> Path:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill
    from openpyxl.workbook.defined_name import DefinedName

    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(HEADERS_NO_LEAD_OR_EVIDENCE)
    for r in range(1, rows + 1):
        ws.append([r, "作风建设", f"问题{r}", "措施", "办公室", "李四", "2024年底", "整改中", None])
    ws["B4"].fill = PatternFill("solid", fgColor="FF00B0F0")
    ws["C3"].comment = Comment("用户批注", "王五")
    ws.freeze_panes = "A2"
    wb.create_sheet("说明")["A1"] = "其他内容"
    wb.defined_names["区域"] = DefinedName("区域", attr_text="台账!$A$1:$I$11")
    path = tmp / "openpyxl台账.xlsx"
    wb.save(path)
    return path


def read_parts(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def write_parts(template: bytes, parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        names = [i.filename for i in src.infolist()]
        for name in names:
            if name in parts:
                dst.writestr(name, parts[name])
        for name, data in parts.items():
            if name not in names:
                dst.writestr(name, data)
    return buf.getvalue()


def findings_for(rows: int) -> list[Finding]:
    """A realistic mix: existing cells, a commented cell, empty cells that have no <c>, info."""
    return [
        Finding("missing-value", "error", 4, "F", "owner", "", "F4 的“责任人”为空，请填写。"),
        Finding("overdue", "warning", 3, "G", "deadline", "2024年6月底前", "G3 已超过整改时限，请更新进展。"),
        Finding("unknown-status", "error", 3, "H", "status", "整改中", "=H3 状态不在词表中"),
        Finding("missing-completion-date", "error", 2, "I", "completed_on", "", "I2 缺少完成时间。"),
        Finding("missing-value", "error", 2, "C", "problem", "", "C2 有用户批注，只上色。"),
        Finding("due-soon", "info", 5, "G", "deadline", "", "G5 即将到期。"),
        Finding("duplicate-problem", "warning", 6, "E", "dept", "财务科", "E6 用户填了颜色的单元格。"),
        Finding("seq-gap", "warning", rows + 1, "A", "seq", "", "序号不连续。"),
        Finding("missing-column", "error", None, None, None, "", "缺少“责任领导”列。"),
        Finding("missing-value", "error", rows + 5, "B", "dimension", "", "表格下方的空行。"),
    ]
