"""What a file really is, and whether it is safe to hand to the Rust reader.

python-calamine aborts the whole process (no exception) when a sheet claims an absurd
used range or a zip part inflates to gigabytes, so every workbook is sniffed and
measured here first. OOXML sheets are scanned as a byte stream (no XML parser, so no
entity expansion); the same pass collects formula-error cells, which calamine reports
as empty strings.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from toolkit.errors import EncryptedFileError, UnreadableFileError, UnsafeFileError
from toolkit.model import column_index

MAX_PART_BYTES = 1 << 30  # one decompressed part
MAX_TOTAL_BYTES = 2 << 30  # the whole package
MAX_RATIO = 400  # decompressed / compressed for parts over 1 MB
MAX_CELLS = 20_000_000  # used range area calamine will allocate
MAX_FILE_BYTES = 500 << 20
CHUNK = 4 << 20

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(slots=True)
class SheetRef:
    name: str
    part: str | None  # path inside the package for OOXML
    visible: bool = True


@dataclass(slots=True)
class Package:
    """What the sniffing learned: the format and, for OOXML, the sheet parts."""

    path: Path
    kind: str  # ooxml | ods | xls | html
    sheets: list[SheetRef] = field(default_factory=list)
    date1904: bool = False


def sniff(path: Path) -> Package:
    """Identify the file by its bytes, not its extension."""
    name = path.name
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(4096)
    except FileNotFoundError:
        raise UnreadableFileError(f"找不到文件“{path}”，请检查路径是否正确。") from None
    except IsADirectoryError:
        raise UnreadableFileError(f"“{path}”是一个文件夹，请指定台账文件。") from None
    except PermissionError:
        raise UnreadableFileError(f"没有权限读取“{path}”，请检查文件权限。") from None
    if size == 0:
        raise UnreadableFileError(f"文件“{name}”是空文件（0 字节），请确认是否保存成功后重试。")
    if size > MAX_FILE_BYTES:
        raise UnsafeFileError(
            f"文件“{name}”大于 {MAX_FILE_BYTES >> 20} MB，不像是一份台账，请确认文件后重试。"
        )
    if head.startswith(ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        return _sniff_zip(path)
    if head.startswith(OLE_MAGIC):
        if _ole_is_encrypted(path):
            raise EncryptedFileError(
                f"文件“{name}”设有打开密码，本工具无法读取；请在 Excel 中取消密码"
                "（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后另存，再试一次。"
            )
        return Package(path, "xls")
    text = _decode_head(head)
    if text is not None:
        lowered = text.lstrip("\ufeff \t\r\n").lower()
        if lowered.startswith(("<html", "<!doctype html", "<table", "<meta", "<head", "<body")) or (
            "<table" in lowered and lowered[:1] == "<"
        ):
            return Package(path, "html")
        if lowered.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in lowered:
            raise UnreadableFileError(
                f"文件“{name}”是 Excel 2003 XML 表格，本工具不能直接读取；请在 Excel 中打开并另存为 .xlsx 后再试。"
            )
        if "," in text or "\t" in text:
            raise UnreadableFileError(
                f"文件“{name}”实际上是 CSV/文本文件，不是 Excel 工作簿；请在 Excel 中打开并另存为 .xlsx 后再试。"
            )
        raise UnreadableFileError(f"文件“{name}”是纯文本，不是 Excel 工作簿；请确认选择了正确的台账文件。")
    raise UnreadableFileError(
        f"文件“{name}”不是可识别的 Excel 工作簿（.xlsx/.xlsm/.xls/.ods），可能已损坏；请用 Excel 打开并另存后再试。"
    )


def _decode_head(head: bytes) -> str | None:
    if b"\x00" in head[:1024] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    for encoding in ("utf-8", "gb18030", "utf-16"):
        try:
            return head.decode(encoding)
        except UnicodeDecodeError as exc:
            if encoding == "utf-8" and exc.start > len(head) - 4:  # cut inside a character
                return head[: exc.start].decode("utf-8")
    return None


def _ole_is_encrypted(path: Path) -> bool:
    """An encrypted .xlsx is an OLE file with an EncryptedPackage stream; an .xls has a FILEPASS record."""
    with path.open("rb") as fh:
        data = fh.read(min(path.stat().st_size, 64 << 20))
    return "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError):
        raise UnreadableFileError(
            f"文件“{path.name}”已损坏或不完整（可能下载或复制时被截断），请重新获取文件或用 Excel 打开修复后另存。"
        ) from None


def _sniff_zip(path: Path) -> Package:
    with _open_zip(path) as zf:
        infos = zf.infolist()
        _check_sizes(path, infos)
        names = {info.filename for info in infos}
        if "mimetype" in names and zf.read("mimetype").startswith(b"application/vnd.oasis.opendocument"):
            return Package(path, "ods")
        if "xl/workbook.xml" not in names and "[Content_Types].xml" not in names:
            if "word/document.xml" in names:
                raise UnreadableFileError(
                    f"文件“{path.name}”是 Word 文档，不是 Excel 台账；请选择台账工作簿。"
                )
            raise UnreadableFileError(f"文件“{path.name}”是一个压缩包，不是 Excel 工作簿；请选择台账文件。")
        for info in infos:
            if info.filename.endswith((".xml", ".rels", ".vml")):
                _check_no_doctype(zf, info, path)
        return _ooxml_package(path, zf, names)


def _check_sizes(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_PART_BYTES or (info.file_size > (1 << 20) and ratio > MAX_RATIO):
            raise UnsafeFileError(
                f"文件“{path.name}”中的“{info.filename}”解压后异常庞大（{info.file_size >> 20} MB），"
                "可能是损坏或恶意文件（压缩炸弹），已停止读取；请确认文件来源。"
            )
        if info.flag_bits & 0x1:
            raise EncryptedFileError(f"文件“{path.name}”的内容被加密，本工具无法读取；请取消加密后另存再试。")
    if total > MAX_TOTAL_BYTES:
        raise UnsafeFileError(
            f"文件“{path.name}”解压后共 {total >> 20} MB，远超台账应有的大小，可能是压缩炸弹，已停止读取。"
        )


_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT_START = re.compile(rb"<[A-Za-z_]")


def _check_no_doctype(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> None:
    """Office never writes a DTD; one in a package is an entity bomb or an external-entity probe."""
    with zf.open(info) as fh:
        head = fh.read(65536)
    root = _ROOT_START.search(head)
    prolog = head if root is None else head[: root.start()]
    if _DOCTYPE.search(prolog) or (root is None and len(head) == 65536):
        raise UnsafeFileError(
            f"文件“{path.name}”的“{info.filename}”含有 DTD/实体声明（XML 炸弹或外部实体），"
            "Excel 不会生成这样的文件，已拒绝读取；请确认文件来源。"
        )


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)/?>")
_ATTR = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)/?>")


def _attrs(blob: bytes) -> dict[str, str]:
    return {k.decode(): _unescape(v.decode("utf-8", "replace")) for k, v in _ATTR.findall(blob)}


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
        .replace("&amp;", "&")
    )  # fmt: skip


def _ooxml_package(path: Path, zf: zipfile.ZipFile, names: set[str]) -> Package:
    try:
        workbook = zf.read("xl/workbook.xml")
        rels_blob = zf.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
    except KeyError:
        raise UnreadableFileError(
            f"文件“{path.name}”缺少工作簿主体，可能已损坏；请用 Excel 打开修复后另存。"
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError):
        raise UnreadableFileError(
            f"文件“{path.name}”已损坏或不完整，请重新获取文件或用 Excel 修复后另存。"
        ) from None
    targets = {}
    for blob in _REL_TAG.findall(rels_blob):
        attrs = _attrs(blob)
        target = attrs.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        targets[attrs.get("Id", "")] = _normalise_part(resolved)
    sheets = []
    for blob in _SHEET_TAG.findall(workbook):
        attrs = _attrs(blob)
        rid = next((v for k, v in attrs.items() if k.endswith(":id")), "")
        part = targets.get(rid)
        sheets.append(
            SheetRef(
                attrs.get("name", ""),
                part if part in names else None,
                attrs.get("state", "visible") == "visible",
            )
        )
    date1904 = re.search(rb'date1904\s*=\s*"(1|true)"', workbook) is not None
    return Package(path, "ooxml", sheets, date1904)


def _normalise_part(target: str) -> str:
    parts: list[str] = []
    for piece in target.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


# literal prefixes keep these at memchr speed; refs in single quotes are caught apart
# a cell beyond column Z (group 1, 2) or a row/cell beyond row 99999 (group 3)
_BIG_REF = re.compile(rb'r="(?:([A-Z]{2,3})(\d+)|[A-Z]?(\d{6,}))')
_FIRST_REF = re.compile(rb"""<(?:\w+:)?c\b[^>]*?\br=["']([A-Z]{1,3})(\d+)""")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="[A-Z]*\d*:?([A-Z]+)(\d+)"')
_ERROR_CELL = re.compile(
    rb'<(?:\w+:)?c\b(?=[^>]*?\bt="e")[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*>(?:(?!</(?:\w+:)?c>).)*?'
    rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>",
    re.DOTALL,
)


@dataclass(slots=True)
class SheetScan:
    max_row: int = 0
    max_col: int = 0
    unreferenced_cells: bool = False
    formula_errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row1, col0) -> text


def scan_sheet(package: Package, sheet: SheetRef) -> SheetScan:
    """Measure a sheet's true extent and collect error cells without parsing its XML."""
    scan = SheetScan()
    if sheet.part is None:
        return scan
    overlap = b""
    seen = 0
    with _open_zip(package.path) as zf:
        info = zf.getinfo(sheet.part)
        try:
            with zf.open(info) as fh:
                while chunk := fh.read(CHUNK):
                    seen += len(chunk)
                    if seen > MAX_PART_BYTES:
                        raise UnsafeFileError(
                            f"文件“{package.path.name}”的工作表“{sheet.name}”解压后异常庞大，可能是压缩炸弹，已停止读取。"
                        )
                    data = overlap + chunk
                    _scan_chunk(data, scan, first=not overlap)
                    overlap = data[-4096:]
        except (zipfile.BadZipFile, EOFError, OSError, ValueError):
            raise UnreadableFileError(
                f"文件“{package.path.name}”的工作表“{sheet.name}”已损坏或不完整，请用 Excel 打开修复后另存。"
            ) from None
    area = scan.max_row * max(scan.max_col, 1)
    if area > MAX_CELLS:
        from toolkit.model import column_letter

        raise UnsafeFileError(
            f"工作表“{sheet.name}”的已用区域异常庞大（到 {column_letter(scan.max_col - 1)}{scan.max_row}，"
            f"约 {area:,} 个单元格），可能是损坏或恶意文件；请在 Excel 中删除多余的行列后另存再试。"
        )
    return scan


def _scan_chunk(data: bytes, scan: SheetScan, first: bool) -> None:
    """Track the extent calamine will allocate: row count times column count.

    A row or cell below row 99999, or a cell right of column Z, is found by _BIG_REF; everything
    else is inside A1:Z99999 and cannot be dangerous. Cells without a
    reference (Excel never writes them) make the extent unknowable: the sheet is then read in
    a memory-limited child process instead.
    """
    if first:
        if m := _DIMENSION.search(data, 0, 65536):
            scan.max_col = max(scan.max_col, column_index(m[1].decode()) + 1)
            scan.max_row = max(scan.max_row, int(m[2]))
        if m := _FIRST_REF.search(data):
            scan.max_row = max(scan.max_row, int(m[2]))
    scan.max_col = max(scan.max_col, 26)
    scan.max_row = max(scan.max_row, 99999 if scan.max_row > 99999 else scan.max_row)
    for letters, row, tall_row in _BIG_REF.findall(data):
        if letters:
            scan.max_col = max(scan.max_col, column_index(letters.decode()) + 1)
            scan.max_row = max(scan.max_row, int(row))
        else:
            scan.max_row = max(scan.max_row, int(tall_row))
    # every writer we know puts r first: a cell written otherwise is placed by counting instead
    end = data.rfind(b">") + 1  # a start tag cut at the chunk's end is counted in the next window
    if data.count(b"<c ", 0, end) + data.count(b"<c>", 0, end) + data.count(b"<c/>", 0, end) != data.count(
        b'<c r="', 0, end
    ):
        scan.unreferenced_cells = True
    if b't="e"' in data:
        for letters, row, value in _ERROR_CELL.findall(data):
            scan.formula_errors[(int(row), column_index(letters.decode()))] = value.decode("utf-8", "replace")
