"""Builders for the real files the format and bad-input tests feed to the CLI.

Every file is made here from scratch (XlsxWriter, zipfile, raw deflate, LibreOffice), never
mocked. Hostile packages are written part by part so a test can plant exactly one fault.
"""

from __future__ import annotations

import io
import os
import resource
import shutil
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from builders import HEADERS

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2024-12-31"
CHILD_LIMIT = 2 << 30  # address space of the CLI process under test

# --- running the CLI with bounded memory ------------------------------------------------------------


@dataclass
class Limited:
    code: int
    out: str
    err: str
    seconds: float


def _limit_memory() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_LIMIT, CHILD_LIMIT))


def run_limited(*args: str | os.PathLike, timeout: float = 60) -> Limited:
    """``python -m toolkit …`` under a 2 GB address-space limit, so a regression aborts instead of
    eating the machine (an abort shows up as a negative exit code)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("RUST_BACKTRACE", None)
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=env,
        timeout=timeout,
        preexec_fn=_limit_memory,
    )
    return Limited(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)


# --- a small, honest ledger ---------------------------------------------------------------------------

# (dimension, problem, measures, lead, dept, owner, deadline, status, completed_on, evidence)
LEDGER_ROWS: list[tuple] = [
    ("理论学习", "理论学习不够深入系统，学用结合不紧密", "一是制定学习计划；二是开展专题研讨", "张三", "党政办",
     "李四", date(2024, 6, 30), "已完成", date(2024, 6, 20), ""),
    ("理论学习", "学习形式单一，以读文件为主，互动研讨不足", "一是创新学习形式；二是开展交流", "张三", "党政办",
     "王五", date(2024, 9, 30), "正在推进", None, ""),
    ("作风建设", "深入基层调研不够，解决群众急难愁盼问题不及时", "一是建立联系点制度；二是定期走访", "赵六",
     "社区办", "钱七", "2024年6月底前", "已完成", date(2024, 7, 15), ""),
    ("作风建设", "文山会海问题仍然存在，基层负担较重", "一是精简会议文件；二是统筹督查检查", "赵六", "党政办",
     "孙八", "长期坚持", "长期坚持", None, ""),
    ("作风建设", "个别干部担当精神不强，遇到难题绕道走", "一是开展谈心谈话；二是完善考核办法", "赵六", "组织办",
     "周九", date(2024, 3, 31), "已销号", date(2024, 3, 1), "谈心谈话记录"),
]  # fmt: skip
LEDGER_TITLE = "某街道党工委2024年度民主生活会查摆问题整改台账"
LEDGER_DIMENSIONS = ["理论学习", "作风建设"]
FIRST_ROW = 2  # 0-based: Excel row 3 holds the first item
# what validate must find in LEDGER_ROWS on AS_OF: (Excel row, column, code)
LEDGER_FINDINGS = [(4, "H", "overdue"), (5, "J", "late-completion")]


def write_ledger_sheet(workbook, name: str = "台账", rows: list[tuple] | None = None, merge: bool = True):
    """A ledger sheet as a clerk lays it out: title row, header row, data from Excel row 3."""
    rows = LEDGER_ROWS if rows is None else rows
    sheet = workbook.add_worksheet(name)
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write(0, 0, LEDGER_TITLE)
    sheet.write_row(1, 0, HEADERS)
    for i, row in enumerate(rows):
        r = FIRST_ROW + i
        sheet.write_number(r, 0, i + 1)
        for c, value in enumerate(row, start=1):
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, date_format)
            elif value is None or value == "":
                continue
            else:
                sheet.write_string(r, c, value)
    if merge:  # 方面 merged down its rows, as clerks do
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or rows[i][0] != rows[start][0]:
                if i - 1 > start:
                    sheet.merge_range(FIRST_ROW + start, 1, FIRST_ROW + i - 1, 1, rows[start][0])
                start = i
    return sheet


def build_ledger_xlsx(
    path: Path, *, cover: bool = False, date_1904: bool = False, vba: bytes | None = None
) -> Path:
    import xlsxwriter

    options = {"date_1904": True} if date_1904 else {}
    workbook = xlsxwriter.Workbook(str(path), options)
    if cover:
        cover_sheet = workbook.add_worksheet("封面")
        cover_sheet.write(0, 0, LEDGER_TITLE)
        cover_sheet.write(2, 0, "填报单位：某街道党工委")
        cover_sheet.write(3, 0, "填报日期：2024年12月31日")
    write_ledger_sheet(workbook)
    if vba is not None:
        workbook.add_vba_project(io.BytesIO(vba), is_stream=True)
    workbook.close()
    return path


# --- soffice ---------------------------------------------------------------------------------------------


def soffice_convert_all(
    sources: Sequence[Path], fmt: str, out_dir: Path, *, profile: Path | None = None, timeout: float = 180
) -> list[Path]:
    """``soffice --convert-to`` in one LibreOffice run, with a private profile (``out_dir/lo-profile``
    unless given: a prepared one sets options such as recalculation on load); returns the converted
    files. A filter that writes one file per sheet names them ``stem-sheet.ext`` beside the returned path."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    assert exe is not None
    profile = out_dir / "lo-profile" if profile is None else profile
    proc = subprocess.run(
        [exe, f"-env:UserInstallation={profile.absolute().as_uri()}", "--headless", "--norestore",
         "--convert-to", fmt, "--outdir", str(out_dir), *map(str, sources)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )  # fmt: skip
    ext = fmt.split(":")[0]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for source in sources:
        assert any(out_dir.glob(f"{source.stem}*.{ext}")), proc.stdout + proc.stderr
    return [out_dir / f"{source.stem}.{ext}" for source in sources]


def soffice_convert(source: Path, fmt: str, out_dir: Path, *, profile: Path | None = None) -> Path:
    """One file through ``soffice_convert_all``; returns the converted file."""
    return soffice_convert_all([source], fmt, out_dir, profile=profile)[0]


# --- OOXML packages written part by part -------------------------------------------------------------

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<workbook xmlns="{NS}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
EMPTY_SST = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{NS}" count="0" uniqueCount="0"/>'
)


def sheet_xml(rows: str, prolog: str = "", before: str = "", after: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{prolog}<worksheet xmlns="{NS}">{before}'
        f"<sheetData>{rows}</sheetData>{after}</worksheet>"
    )


def inline(ref: str, text: str, quote: str = '"') -> str:
    q = quote
    return f"<c r={q}{ref}{q} t={q}inlineStr{q}><is><t>{text}</t></is></c>"


def header_row_xml(row: int = 1, quote: str = '"') -> str:
    """The ledger header as inline strings, so a hostile cell is the only thing wrong with the sheet."""
    cells = "".join(inline(f"{chr(65 + i)}{row}", h, quote) for i, h in enumerate(HEADERS))
    return f"<row r={quote}{row}{quote}>{cells}</row>"


def far_cells(quote: str = '"', eq: str = "=") -> str:
    """The ledger header at row 1 and one cell at XFD1048576: calamine would ask for ~400 GB."""
    q = quote
    return (
        header_row_xml(quote=quote).replace("r=", f"r{eq}")
        + f"<row r{eq}{q}1048576{q}><c r{eq}{q}XFD1048576{q} t{eq}{q}inlineStr{q}><is><t>x</t></is></c></row>"
    )


def minimal_parts() -> dict[str, str | bytes]:
    """The parts of the smallest workbook calamine and Excel accept: one sheet holding the ledger header."""
    return {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/sharedStrings.xml": EMPTY_SST,
        "xl/worksheets/sheet1.xml": sheet_xml(header_row_xml()),
    }


def build_package(path: Path, parts: dict[str, str | bytes]) -> Path:
    """A minimal OOXML workbook; ``parts`` overrides or adds package parts."""
    base = minimal_parts()
    base.update(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in base.items():
            zf.writestr(name, data)
    return path


# --- zip bombs: deflate streams written by hand so the test file stays small -----------------------------


def repeated_deflate(prefix: bytes, block: bytes, count: int, suffix: bytes) -> tuple[bytes, int, int]:
    """Raw deflate of prefix + block*count + suffix without compressing every repeat.

    After a full flush the compressor forgets its history, so every repeat of ``block`` compresses
    to the same bytes; those are emitted ``count`` times. Returns (stream, crc32, size).
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(prefix) + comp.flush(zlib.Z_FULL_FLUSH)
    first = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    assert first == again, "deflate repeat is not stable"
    tail = comp.compress(suffix) + comp.flush()
    stream = head + first * count + tail
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(suffix, crc)
    check = zlib.decompressobj(-15)
    assert check.decompress(head + first + first) == prefix + block + block
    return stream, crc & 0xFFFFFFFF, len(prefix) + len(block) * count + len(suffix)


def write_raw_zip(path: Path, entries: list[tuple[str, bytes, int, int, int]]) -> Path:
    """entries: (name, raw deflate data, crc32, declared uncompressed size, method)."""
    out = bytearray()
    central = bytearray()
    for name, data, crc, size, method in entries:
        encoded = name.encode("utf-8")
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, method, 0, 0x21, crc, len(data), size,
                           len(encoded), 0) + encoded + data  # fmt: skip
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, method, 0, 0x21, crc, len(data),
                               size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded  # fmt: skip
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), start, 0)
    path.write_bytes(bytes(out))
    return path


def deflated(data: str | bytes) -> tuple[bytes, int, int]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return comp.compress(raw) + comp.flush(), zlib.crc32(raw) & 0xFFFFFFFF, len(raw)


def build_bomb(path: Path, part: str, stream: tuple[bytes, int, int], declared: int | None = None) -> Path:
    """A minimal workbook whose ``part`` is the given deflate stream, optionally lying about its size."""
    parts = minimal_parts()
    entries = []
    for name, text in parts.items():
        if name == part:
            data, crc, size = stream
            entries.append((name, data, crc, size if declared is None else declared, 8))
        else:
            entries.append((name, *deflated(text), 8))
    return write_raw_zip(path, entries)
