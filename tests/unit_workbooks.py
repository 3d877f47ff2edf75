"""Real unit ledger workbooks for the multi-unit tests and the benchmark, written with XlsxWriter."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from builders import HEADERS

# the common columns and 整改进展 after 整改时限
UNIT_HEADERS = [*HEADERS[:8], "整改进展", *HEADERS[8:]]
DIMENSIONS = ["理论学习", "作风建设", "担当作为", "廉洁自律"]


def write_unit_ledger(
    path: Path,
    *,
    unit: str | None,
    done: int,
    total: int,
    overdue: int = 0,
    deadline: date = date(2024, 12, 31),
    past_deadline: date = date(2024, 6, 30),
    dimensions: list[str] = DIMENSIONS,
    extra_problem: str = "",
    measures: str = "制定专项学习计划，每月开展一次集中研讨",
    error_status: int | None = None,
) -> Path:
    """``total`` rows: the first ``done`` completed, the next ``overdue`` open with a past deadline.

    Dimensions rotate over the rows. With ``unit`` the workbook has a 通报信息 sheet naming the unit.
    ``error_status``: the item number whose 完成状态 is a formula showing #DIV/0!.
    """
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("整改台账")
    sheet.write_string(0, 0, f"{unit or path.stem}民主生活会整改台账")
    for col, header in enumerate(UNIT_HEADERS):
        sheet.write_string(1, col, header)
    for n in range(1, total + 1):
        r = n + 1
        dim = dimensions[(n - 1) % len(dimensions)]
        is_done = n <= done
        is_overdue = not is_done and n <= done + overdue
        sheet.write_number(r, 0, n)
        sheet.write_string(r, 1, dim)
        sheet.write_string(r, 2, f"{dim}方面问题{n}：{extra_problem}学习研讨不够深入，联系实际不够紧密")
        sheet.write_string(r, 3, measures)
        sheet.write_string(r, 4, "张三")
        sheet.write_string(r, 5, ["党政办公室", "组织科", "纪检监察室"][n % 3])
        sheet.write_string(r, 6, "李四")
        sheet.write_datetime(
            r, 7, datetime.combine(past_deadline if is_overdue else deadline, datetime.min.time()), date_fmt
        )
        sheet.write_string(r, 8, "已按计划推进")
        if n == error_status:
            sheet.write_formula(r, 9, "=1/0", None, "#DIV/0!")
        else:
            sheet.write_string(r, 9, "已完成" if is_done else "正在整改")
        if is_done:
            sheet.write_datetime(r, 10, datetime(2024, 5, 20), date_fmt)
            sheet.write_string(r, 11, "会议记录、学习台账")
    if unit is not None:
        info = book.add_worksheet("通报信息")
        info.write_string(0, 0, "项目")
        info.write_string(0, 1, "内容")
        info.write_string(1, 0, "单位")
        info.write_string(1, 1, unit)
        info.write_string(2, 0, "年度")
        info.write_string(2, 1, "2024")
    book.close()
    return path


def write_no_ledger(path: Path) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("说明")
    sheet.write_string(0, 0, "这不是台账，只是一段说明文字。")
    sheet.write_string(1, 0, "联系人：王五")
    book.close()
    return path


def write_encrypted_looking(path: Path) -> Path:
    """An OLE compound file (CFB) header and the directory entries of a password-protected workbook."""
    header = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 16 + bytes.fromhex("3E000300FEFF0900")
    entries = "EncryptionInfo".encode("utf-16-le").ljust(128, b"\x00")
    entries += "EncryptedPackage".encode("utf-16-le").ljust(128, b"\x00")
    path.write_bytes(header.ljust(512, b"\x00") + entries + b"\xff" * 1536)
    return path


def write_broken(path: Path) -> Path:
    """A truncated .xlsx: the first bytes of a real zip, then nothing."""
    path.write_bytes(b"PK\x03\x04" + b"\x14\x00\x06\x00" + b"\x00" * 40)
    return path
