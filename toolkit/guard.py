"""What a file really is, and whether it is safe to hand to the Rust reader.

python-calamine aborts the whole process (no exception) when a sheet claims an absurd
used range, when sharedStrings.xml claims billions of entries, or when a zip part
inflates to gigabytes, so every workbook is sniffed and measured here first. OOXML
sheets are scanned as a byte stream (no XML parser, so no entity expansion); the same
pass collects formula-error cells, which calamine reports as empty strings.

The guard and calamine must look at the same bytes: duplicate part names, duplicate sheet
names or relationship ids, and part names with "..", "." or backslashes are refused, and
a sheet the guard cannot locate or measure (cells without a plain r="A1") is read in a
memory-limited child process instead. Every XML part's prolog is checked for a DTD
(entity bombs, external entities), which Office never writes.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import (
    EncryptedFileError,
    UnreadableFileError,
    UnsafeFileError,
    held_open,
    in_use_message,
    invalid_name_message,
)
from toolkit.model import column_index, column_letter

# The zip-bomb limits: the one definition, used by the reader's guard and by --mark/clear (toolkit.xlsx.package)
MAX_PART_BYTES = 1 << 30  # one decompressed part
MAX_TOTAL_BYTES = 2 << 30  # the whole package
MAX_RATIO = 400  # decompressed / compressed for parts over 1 MB
MAX_PARTS = 10_000
MAX_CELLS = 20_000_000  # used range area calamine will allocate
MAX_FILE_BYTES = 500 << 20
CHUNK = 4 << 20
EXCEL_MAX_ROW = 1_048_576
EXCEL_MAX_COL = 16_384  # XFD
MAX_INDEX_BYTES = 64 << 20  # workbook.xml and its relationships
IN_MEMORY_BYTES = 4 << 20  # a package up to this size is read once: guard, scan and reader share the bytes

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(slots=True)
class SheetRef:
    name: str
    part: str | None  # path inside the package for OOXML
    visible: bool = True


@dataclass(slots=True)
class Package:
    """What the sniffing learned: the format and, for OOXML, the sheet parts.

    A zip package up to IN_MEMORY_BYTES keeps its bytes and its parsed directory: the sheet scans
    read from them and calamine is handed the very same bytes, so nothing is read twice and the
    file cannot change between the guard's look and the reader's.
    """

    path: Path
    kind: str  # ooxml | ods | xls | html
    sheets: list[SheetRef] = field(default_factory=list)
    date1904: bool = False
    data: bytes | None = field(default=None, repr=False)
    zip: zipfile.ZipFile | None = field(default=None, repr=False)
    small: dict[str, bytes] = field(default_factory=dict, repr=False)  # sheet/sst parts sniff read whole
    shared_strings: list[str] = field(default_factory=list)  # parts whose root is a shared-string table
    _error_like_strings: bool | None = field(default=None, repr=False)


def _unreadable(exc: BaseException, path: Path) -> UnreadableFileError:
    """The one sentence for a user's file that cannot be looked at, opened or read."""
    if isinstance(exc, FileNotFoundError):
        return UnreadableFileError(f"找不到文件“{path}”，请检查路径是否正确。")
    if isinstance(exc, OSError) and held_open(exc, path):  # Windows: Excel or WPS holds it, no read sharing
        return UnreadableFileError(in_use_message(path.name, "无法读取"))
    if isinstance(exc, PermissionError):
        return UnreadableFileError(f"没有权限读取“{path}”，请检查文件权限。")
    if sentence := invalid_name_message(exc):
        return UnreadableFileError(sentence)
    # a name too long, a loop of links, an embedded NUL, an I/O error
    return UnreadableFileError(
        f"无法读取“{path}”（{getattr(exc, 'strerror', None) or exc}），请检查路径和文件后重试。"
    )


def check_user_file(path: Path, what: str = "台账文件", limit: int = MAX_FILE_BYTES) -> os.stat_result:
    """A path a user gave us names a regular file of bounded size: a pipe would block a read forever,
    a device (a link to /dev/zero) never ends, a folder named 台账.xlsx is not a workbook."""
    try:
        info = path.stat()
    except (OSError, ValueError) as exc:
        raise _unreadable(exc, path) from None
    if stat.S_ISDIR(info.st_mode):
        raise UnreadableFileError(f"“{path}”是一个文件夹，请指定{what}。")
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFileError(f"“{path}”不是普通文件（可能是设备或管道），请指定{what}。")
    if info.st_size > limit:
        raise UnsafeFileError(
            f"文件“{path.name}”大于 {limit >> 20} MB，不像是一份{what.removesuffix('文件')}，请确认文件后重试。"
        )
    return info


def read_user_file(path: Path, what: str = "台账文件", limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a user's file, after check_user_file; at most ``limit`` bytes are ever read."""
    check_user_file(path, what, limit)
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except (OSError, ValueError) as exc:
        raise _unreadable(exc, path) from None
    if len(data) > limit:  # it grew after the check
        raise UnsafeFileError(f"文件“{path.name}”大于 {limit >> 20} MB，请确认文件后重试。")
    return data


def sniff(path: Path) -> Package:
    """Identify the file by its bytes, not its extension."""
    name = path.name
    size = check_user_file(path).st_size
    try:
        with path.open("rb") as fh:
            if 0 < size <= IN_MEMORY_BYTES:
                data: bytes | None = fh.read(size + 1)  # one byte more tells a file that grew meanwhile
                head = data[:4096]
            else:
                data, head = None, fh.read(4096)
    except (OSError, ValueError) as exc:
        raise _unreadable(exc, path) from None
    if size == 0:
        raise UnreadableFileError(f"文件“{name}”是空文件（0 字节），请确认是否保存成功后重试。")
    if head.startswith(ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        return _sniff_zip(path, data if data is not None and len(data) == size else None)
    if head.startswith(OLE_MAGIC):
        kind = _ole_kind(path)
        if kind == "encrypted":
            raise EncryptedFileError(
                f"文件“{name}”设有打开密码，本工具无法读取；请在 Excel 中取消密码"
                "（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后另存，再试一次。"
            )
        if kind == "word":
            raise UnreadableFileError(
                f"文件“{name}”是 Word 文档（.doc），不是 Excel 台账；请选择台账工作簿。"
            )
        if kind == "powerpoint":
            raise UnreadableFileError(
                f"文件“{name}”是 PowerPoint 演示文稿，不是 Excel 台账；请选择台账工作簿。"
            )
        if kind != "xls":
            raise UnreadableFileError(
                f"文件“{name}”是 Office 复合文档，但其中没有 Excel 工作表；请确认选择了正确的台账文件。"
            )
        return Package(path, "xls")
    text = _decode_head(head)
    if text is not None:
        lowered = text.lstrip("\ufeff \t\r\n").lower()
        if lowered.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in lowered:
            raise UnreadableFileError(
                f"文件“{name}”是 Excel 2003 XML 表格，本工具不能直接读取；请在 Excel 中打开并另存为 .xlsx 后再试。"
            )
        if lowered[:1] == "<" and any(tag in lowered for tag in _HTML_TAGS):
            return Package(path, "html")
        if "," in text or "\t" in text or "，" in text:
            raise UnreadableFileError(
                f"文件“{name}”实际上是 CSV/文本文件，不是 Excel 工作簿；请在 Excel 中打开并另存为 .xlsx 后再试。"
            )
        raise UnreadableFileError(f"文件“{name}”是纯文本，不是 Excel 工作簿；请确认选择了正确的台账文件。")
    raise UnreadableFileError(
        f"文件“{name}”不是可识别的 Excel 工作簿（.xlsx/.xlsm/.xls/.ods），可能已损坏；请用 Excel 打开并另存后再试。"
    )


_HTML_TAGS = ("<html", "<table", "<body", "<head", "<meta", "<style", "<!doctype html", "<tr", "<td")


def _decode_head(head: bytes) -> str | None:
    """The first bytes as text, or None when they are binary; tolerant of a character cut at the end."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[: len(head) // 2 * 2].decode("utf-16", "replace")
    if b"\x00" in head[:1024]:
        return None
    for encoding in ("utf-8", "gb18030"):
        for cut in range(4):  # a 4 KB head may end inside a multi-byte character
            try:
                return head[: len(head) - cut].decode(encoding)
            except UnicodeDecodeError:
                if len(head) < 4096:
                    break
    return None


def _ole_entry(name: str) -> bytes:
    return (name + "\0").encode("utf-16-le")  # a directory entry's name is NUL-terminated UTF-16


_OLE_KINDS = (
    ("encrypted", (_ole_entry("EncryptedPackage"), _ole_entry("EncryptionInfo"))),
    ("word", (_ole_entry("WordDocument"),)),
    ("powerpoint", (_ole_entry("PowerPoint Document"),)),
    ("xls", (_ole_entry("Workbook"), _ole_entry("Book"))),
)


def _ole_kind(path: Path) -> str:
    """What an OLE compound file holds, from its directory entry names.

    An encrypted .xlsx is an OLE file with EncryptedPackage/EncryptionInfo streams (an encrypted
    .xls has a FILEPASS record, which calamine reports in the child); .doc and .ppt files renamed
    to .xls are told apart so the user hears what they picked.
    """
    with path.open("rb") as fh:
        data = fh.read(64 << 20)
    for kind, names in _OLE_KINDS:
        if any(entry in data for entry in names):
            return kind
    return "unknown"


# everything zipfile (and zlib, struct beneath it) raises on a damaged or hostile package
ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,  # "negative seek value", a bad date or name in the directory
    NotImplementedError,  # "zip file version 8.4", an unknown compression method
    RuntimeError,  # "File … is encrypted, password required"
    OverflowError,
    KeyError,
    IndexError,
    UnicodeError,
)
# compression methods zipfile implements; Office writes only the first two
_KNOWN_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


def damaged_zip_message(name: str) -> str:
    return f"文件“{name}”已损坏或不完整（可能下载或复制时被截断），请重新获取文件或用 Excel 打开修复后另存。"


def reader_died(path: Path) -> UnsafeFileError:
    """The sentence for a reading process that died: calamine aborts a process on what it cannot allocate."""
    return UnsafeFileError(
        f"读取文件“{path.name}”时读取程序异常退出（需要的内存超出上限），可能是损坏或恶意文件；"
        "请在 Excel 中打开、删除多余行列后另存再试。"
    )


def check_zip_directory(name: str, infos: list[zipfile.ZipInfo], size: int) -> None:
    """Refuse a central directory that zipfile would fail on only later, part by part, in ways that
    differ from reader to reader: local headers outside the file, a "version needed to extract" or a
    compression method zipfile does not implement, sizes that are not numbers of bytes."""
    for info in infos:
        if (
            not 0 <= info.header_offset <= size - 30
            or info.compress_size < 0
            or info.file_size < 0
            or info.compress_size > size
            or info.extract_version > zipfile.MAX_EXTRACT_VERSION
            or info.compress_type not in _KNOWN_METHODS
        ):
            raise UnreadableFileError(damaged_zip_message(name))


def check_zip_limits(name: str, infos: list[zipfile.ZipInfo]) -> None:
    """The zip-bomb limits (part count, each part, the whole, the ratio) and encryption, for one package."""
    _check_sizes(Path(name), infos)


def _open_zip(path: Path, data: bytes | None = None) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(path if data is None else io.BytesIO(data))
    except ZIP_ERRORS:
        raise UnreadableFileError(damaged_zip_message(path.name)) from None
    try:
        size = len(data) if data is not None else path.stat().st_size
        check_zip_directory(path.name, zf.infolist(), size)
    except BaseException:
        zf.close()
        raise
    return zf


@contextlib.contextmanager
def package_zip(package: Package) -> Iterator[zipfile.ZipFile]:
    """The package's zip: the one sniff opened on the bytes in memory, else the file opened anew."""
    if package.zip is not None:
        yield package.zip
    else:
        with _open_zip(package.path) as zf:
            yield zf


def _sniff_zip(path: Path, data: bytes | None) -> Package:
    zf = _open_zip(path, data)
    try:
        package = _sniff_open_zip(path, zf, data)
    except BaseException:
        zf.close()
        raise
    if data is None:
        zf.close()
    else:
        package.data, package.zip = data, zf
    return package


def _sniff_open_zip(path: Path, zf: zipfile.ZipFile, data: bytes | None) -> Package:
    small: dict[str, bytes] = {}  # parts the prolog check read whole (index, rels, small sheets)
    sst_parts: list[str] = []
    infos = zf.infolist()
    _check_sizes(path, infos)
    names = {info.filename for info in infos}
    if len(names) != len(infos):
        # the guard and the reader could each pick a different copy of a part
        raise UnsafeFileError(
            f"文件“{path.name}”的压缩包中有重名的部件，Excel 不会生成这样的文件，可能是损坏或恶意文件，已拒绝读取。"
        )
    for info in infos:
        if _odd_name(info.filename):
            raise UnsafeFileError(
                f"文件“{path.name}”含有路径异常的部件“{info.filename}”，Excel 不会生成这样的文件，"
                "可能是恶意文件，已拒绝读取。"
            )
        if (part := _check_xml_part(zf, info, path, data, sst_parts)) is not None:
            small[info.filename] = part
    if "mimetype" in names and _read_part(zf, "mimetype", path, 100, data).startswith(
        b"application/vnd.oasis.opendocument"
    ):
        manifest = "META-INF/manifest.xml"
        if manifest in names and b"encryption-data" in _read_part(zf, manifest, path, MAX_INDEX_BYTES, data):
            raise EncryptedFileError(
                f"文件“{path.name}”设有打开密码，本工具无法读取；请在 WPS 或 LibreOffice 中取消密码后另存再试。"
            )
        return Package(path, "ods")
    if "xl/workbook.xml" not in names:
        if "word/document.xml" in names:
            raise UnreadableFileError(f"文件“{path.name}”是 Word 文档，不是 Excel 台账；请选择台账工作簿。")
        if "ppt/presentation.xml" in names:
            raise UnreadableFileError(
                f"文件“{path.name}”是 PowerPoint 演示文稿，不是 Excel 台账；请选择台账工作簿。"
            )
        if "xl/workbook.bin" in names:
            raise UnreadableFileError(
                f"文件“{path.name}”是 Excel 二进制工作簿（.xlsb），本工具不能读取；请在 Excel 中另存为 .xlsx 后再试。"
            )
        if "[Content_Types].xml" in names:
            raise UnreadableFileError(
                f"文件“{path.name}”缺少工作簿主体（xl/workbook.xml），可能已损坏；请用 Excel 打开修复后另存。"
            )
        raise UnreadableFileError(f"文件“{path.name}”是一个压缩包，不是 Excel 工作簿；请选择台账文件。")
    package = _ooxml_package(path, zf, names, data, small)
    package.shared_strings = sst_parts
    package.small.update((p, small[p]) for p in sst_parts if p in small)  # looked at again by the scan
    return package


def _odd_name(name: str) -> bool:
    """Names that resolve differently in different readers ("a/../b", "/x", "a\\b") let the guard and
    the reader look at different parts; Excel never writes them."""
    if name.startswith("/") or "\\" in name:
        return True
    return any(piece in ("", ".", "..") for piece in name.rstrip("/").split("/"))


def _read_part(
    zf: zipfile.ZipFile, name: str | zipfile.ZipInfo, path: Path, limit: int = -1, data: bytes | None = None
) -> bytes:
    """A part's bytes (or its first ``limit`` bytes); a broken stream is a broken file, not a traceback."""
    if data is not None:
        try:
            info = name if isinstance(name, zipfile.ZipInfo) else zf.getinfo(name)
        except KeyError:
            info = None  # zipfile says so below
        if info is not None and (direct := _direct_read(data, info, limit)) is not None:
            return direct
    try:
        with zf.open(name) as fh:
            return fh.read(limit)
    except ZIP_ERRORS:
        raise UnreadableFileError(
            f"文件“{path.name}”中的“{getattr(name, 'filename', name)}”已损坏或不完整（可能下载或复制时被截断），"
            "请重新获取文件或用 Excel 打开修复后另存。"
        ) from None


_LOCAL_HEADER = struct.Struct("<4s2xH18xHH")  # signature, flags, file name length, extra field length
_DIRECT = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def _direct_read(data: bytes, info: zipfile.ZipInfo, limit: int = -1) -> bytes | None:
    """A part (or its first ``limit`` bytes) inflated straight from the package bytes in memory.

    zipfile's per-part machinery costs more than inflating a small part; this does the same checks
    (local header signature and name, declared size as the cap, CRC when the whole part is read) and
    returns None whenever anything is unusual, so that zipfile reads the part and reports the fault.
    """
    if info.compress_type not in _DIRECT or info.flag_bits & 0x61:  # encrypted, patched, strong encryption
        return None
    start = info.header_offset
    if not 0 <= start <= len(data) - 30:
        return None
    signature, flags, name_length, extra_length = _LOCAL_HEADER.unpack_from(data, start)
    name = data[start + 30 : start + 30 + name_length]
    expected = info.orig_filename.encode("utf-8" if flags & 0x800 else "cp437", "replace")
    if signature != ZIP_MAGIC or name != expected:
        return None
    begin = start + 30 + name_length + extra_length
    raw = memoryview(data)[begin : begin + info.compress_size]
    if len(raw) != info.compress_size:
        return None
    want = info.file_size if limit < 0 else min(limit, info.file_size)
    if info.compress_type == zipfile.ZIP_STORED:
        out = bytes(raw[:want])
    else:
        try:
            out = zlib.decompressobj(-15).decompress(raw, want)
        except zlib.error:
            return None
    if len(out) != want or (want == info.file_size and zlib.crc32(out) != info.CRC):
        return None
    return out


def _check_sizes(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_PARTS:
        raise UnsafeFileError(
            f"文件“{path.name}”的压缩包含有 {len(infos)} 个部件，远超工作簿应有的数量，可能是恶意文件，已停止读取。"
        )
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
            raise EncryptedFileError(
                f"文件“{path.name}”的内容被加密（设有密码），本工具无法读取；请取消加密后另存再试。"
            )
    if total > MAX_TOTAL_BYTES:
        raise UnsafeFileError(
            f"文件“{path.name}”解压后共 {total >> 20} MB，远超台账应有的大小，可能是压缩炸弹，已停止读取。"
        )


XML_HEAD = 65536
XML_PEEK = 2048  # an Office part's prolog and root tag fit in the first 2 KB


def _prolog_done(head: bytes) -> bool:
    """The peek holds the whole prolog and the root start tag (so nothing more needs reading)."""
    if head[:2] in _UTF16:
        return False
    root = _prolog_end(head)
    return root is not None and (root < 0 or head.find(b">", root) >= 0)


_ROOT_TAG = re.compile(rb"<([\w.:-]+)([^>]*)")
_UNIQUE_COUNT = re.compile(rb"""\buniqueCount\s*=\s*["']\s*(\d+)""")
_UTF16 = {b"\xff\xfe": "utf-16", b"\xfe\xff": "utf-16", b"<\x00": "utf-16-le", b"\x00<": "utf-16-be"}


def _check_xml_part(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    path: Path,
    data: bytes | None = None,
    sst_parts: list[str] | None = None,
) -> bytes | None:
    """Office never writes a DTD: one in a package is an entity bomb or an external-entity probe.

    Only the prolog is read (the first 64 KB of each part; comments and processing instructions
    are skipped properly, so a comment cannot hide a DTD). The shared-string table's root tag is
    checked too: python-calamine reserves ``uniqueCount`` strings when the workbook opens.
    Returns the part when what was read is all of it (small parts: nobody needs to read them again).
    """
    if info.is_dir() or info.file_size == 0:
        return None
    whole = head = _read_part(zf, info, path, XML_PEEK, data)
    if len(head) == XML_PEEK and not _prolog_done(head):  # an unusual prolog: look at all of it
        whole = head = _read_part(zf, info, path, XML_HEAD, data)
    if (encoding := _UTF16.get(head[:2])) is not None:
        head = head[: len(head) // 2 * 2].decode(encoding, "replace").encode("utf-8")
    root = _prolog_end(head)
    if root is None:
        if len(head) < XML_HEAD:  # the whole part and no element: not XML; the reader decides
            return None
        raise UnsafeFileError(
            f"文件“{path.name}”的“{info.filename}”开头 64 KB 内没有任何内容，Excel 不会生成这样的文件，"
            "可能是恶意文件，已拒绝读取。"
        )
    if root < 0:
        raise UnsafeFileError(
            f"文件“{path.name}”的“{info.filename}”含有 DTD/实体声明（XML 炸弹或外部实体），"
            "Excel 不会生成这样的文件，已拒绝读取；请确认文件来源。"
        )
    tag = _ROOT_TAG.match(head, root)
    if tag is not None and tag[1].rsplit(b":", 1)[-1] == b"sst":
        if sst_parts is not None:
            sst_parts.append(info.filename)
        count = _UNIQUE_COUNT.search(tag[2])
        if count is not None and int(count[1]) > MAX_CELLS:
            raise UnsafeFileError(
                f"文件“{path.name}”声称含有 {int(count[1]):,} 个不同的文本，远超台账可能的数量，"
                "可能是损坏或恶意文件，已拒绝读取；请确认文件来源。"
            )
    return whole if len(whole) == info.file_size else None


def _prolog_end(head: bytes) -> int | None:
    """Offset of the root element; -1 when a DTD comes first; None when the prolog does not end."""
    i = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    n = len(head)
    while True:
        while i < n and head[i] in b" \t\r\n":
            i += 1
        if i >= n:
            return None
        if head.startswith(b"<?", i):
            end = head.find(b"?>", i + 2)
            if end < 0:
                return None
            i = end + 2
        elif head.startswith(b"<!--", i):
            end = head.find(b"-->", i + 4)
            if end < 0:
                return None
            i = end + 3
        elif head.startswith(b"<!", i):
            return -1  # <!DOCTYPE …> or <!ENTITY …>: nothing else may start with <! before the root
        else:
            return i  # the root element, or not XML at all (images, vbaProject.bin): no DTD either way


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)/?>")
_ATTR = re.compile(rb'([\w:]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)/?>")


def _attrs(blob: bytes) -> dict[str, str]:
    return {k.decode(): _unescape((v or w).decode("utf-8", "replace")) for k, v, w in _ATTR.findall(blob)}


def _unescape(text: str) -> str:
    """XML references in attribute values, numeric ones included (calamine resolves them too)."""
    if "&" not in text:
        return text
    import html

    return html.unescape(text)


def _ooxml_package(
    path: Path, zf: zipfile.ZipFile, names: set[str], data: bytes | None, small: dict[str, bytes]
) -> Package:
    workbook = small.get("xl/workbook.xml")
    if workbook is None:
        workbook = _read_part(zf, "xl/workbook.xml", path, MAX_INDEX_BYTES, data)
    rels_name = "xl/_rels/workbook.xml.rels"
    rels_blob = small.get(rels_name)
    if rels_blob is None:
        rels_blob = _read_part(zf, rels_name, path, MAX_INDEX_BYTES, data) if rels_name in names else b""
    targets = {}
    for blob in _REL_TAG.findall(rels_blob):
        attrs = _attrs(blob)
        target = attrs.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else "xl/" + target  # normalised below
        rid = attrs.get("Id", "")
        if rid in targets:
            raise _ambiguous(path, f"关系编号“{rid}”")
        targets[rid] = _normalise_part(resolved)
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
    seen: set[str] = set()
    for sheet in sheets:  # calamine reads the first of two same-named sheets, a dict keeps the last
        key = sheet.name.casefold()
        if key in seen:
            raise _ambiguous(path, f"工作表名“{sheet.name}”")
        seen.add(key)
    date1904 = re.search(rb'date1904\s*=\s*["\']\s*(1|true)', workbook) is not None
    package = Package(path, "ooxml", sheets, date1904)
    package.small = {s.part: small[s.part] for s in sheets if s.part in small}
    return package


def _ambiguous(path: Path, what: str) -> UnsafeFileError:
    """Two entries the guard and the reader could resolve differently: Excel never writes them."""
    return UnsafeFileError(
        f"文件“{path.name}”中的{what}重复出现，Excel 不会生成这样的文件，可能是损坏或恶意文件，已拒绝读取。"
    )


def _normalise_part(target: str) -> str:
    parts: list[str] = []
    for piece in target.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


# literal prefixes keep these at memchr speed; refs in single quotes are caught apart (see _check_references).
# " r=" is an attribute of <c> and <row> only. A reference that is not one letter and one to five digits
# (a cell right of Z, a row below 99999, or no plain reference at all) is rare: this one search proves
# the usual sheet has none; when it finds one, _UNUSUAL_REF.findall hands exactly those to Python
_UNUSUAL_REF_ANY = re.compile(rb' r="(?![A-Z]?[1-9]\d{0,4}")')
_UNUSUAL_REF = re.compile(rb' r="(?![A-Z]?[1-9]\d{0,4}")([^"]*)"')
_PLAIN_REF = re.compile(rb"([A-Z]{0,3})([1-9]\d{0,6})")  # a row number, or a cell; checked against XFD1048576
_FIRST_REF = re.compile(rb"""<(?:\w+:)?c\b[^>]*?\br=["']([A-Z]{1,3})(\d+)""")
_DIMENSION = re.compile(rb"""<(?:\w+:)?dimension\b[^>]*?\bref\s*=\s*(?:"([^"]*)"|'([^']*)')""")


_MERGE_REF = re.compile(rb"""<(?:\w+:)?mergeCell\b[^>]*?\bref\s*=\s*["']([^"']*)["']""")


class _BadReference(Exception):
    """A cell or row reference that is malformed or beyond XFD1048576 (its text is the argument)."""


_ERROR_CELL = re.compile(
    rb'<(?:\w+:)?c\b(?=[^>]*?\bt="e")[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*>(?:(?!</(?:\w+:)?c>).)*?'
    rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>",
    re.DOTALL,
)


@dataclass(slots=True)
class SheetScan:
    max_row: int = 0
    max_col: int = 0
    unreferenced_cells: bool = False  # some cell lacks a plain r="A1" reference: read in the child
    formula_errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row1, col0) -> text
    # some text the sheet can show (its own, or a shared string) might read "#REF!", "#N/A" …:
    # when False, the reader need not look for error values typed as text
    error_like_text: bool = False


def scan_sheet(package: Package, sheet: SheetRef, *, measure: bool = True) -> SheetScan:
    """Measure a sheet's true extent and collect error cells without parsing its XML.

    ``measure=False`` (a contained read, see toolkit.fastpath.contained_read): only the error cells and
    the error-like text are looked for; the extent is checked on what calamine read instead (check_extent).
    """
    scan = SheetScan()
    if sheet.part is None:
        scan.unreferenced_cells = True  # a part we cannot locate is never handed to calamine unmeasured
        return scan
    try:
        for i, data in enumerate(sheet_chunks(package, sheet)):
            _scan_chunk(data, scan, first=i == 0, measure=measure)
    except _BadReference as exc:
        raise UnsafeFileError(
            f"文件“{package.path.name}”的工作表“{sheet.name}”中有写法异常或超出 Excel 范围（最大 XFD1048576）的"
            f"单元格位置“{exc.args[0][:40]}”，Excel 不会生成这样的文件，可能是损坏或恶意文件，已拒绝读取。"
        ) from None
    scan.error_like_text = scan.error_like_text or _error_like_strings(package)
    if measure and scan.max_col * 99999 > MAX_CELLS and scan.max_row < 99999:
        # wide cells seen, and rows below 99999 are not tracked by the fast pass: measure them exactly
        for data in sheet_chunks(package, sheet):
            for row in _ANY_REF_ROW.findall(data):
                scan.max_row = max(scan.max_row, int(row))
    check_extent(sheet.name, scan.max_row, scan.max_col)
    return scan


def sheet_part_sizes(package: Package) -> dict[str, int]:
    """The uncompressed size of each sheet part the package locates."""
    parts = {s.part for s in package.sheets if s.part}
    with package_zip(package) as zf:
        return {i.filename: i.file_size for i in zf.infolist() if i.filename in parts}


def check_workbook(path: Path) -> Package:
    """What the reader would refuse is refused before a command rewrites the file too (``clear``): the
    package as ``sniff`` judges it and every worksheet's references and extent."""
    package = sniff(path)
    for sheet in package.sheets:
        scan_sheet(package, sheet)
    return package


def check_extent(sheet_name: str, max_row: int, max_col: int) -> None:
    """Refuse a used range calamine should not be asked to fill (rows and columns counted from A1).

    The byte scan does not track columns inside A:Z, so every sheet counts as at least 26 wide; a
    contained read checks what calamine read the same way, so that both refuse the same sheets.
    """
    max_col = max(max_col, 26)
    area = max_row * max_col
    if area > MAX_CELLS:
        raise UnsafeFileError(
            f"工作表“{sheet_name}”的已用区域异常庞大（到 {column_letter(max_col - 1)}{max_row}，"
            f"约 {area:,} 个单元格），可能是损坏或恶意文件；请在 Excel 中删除多余的行列后另存再试。"
        )


def sheet_chunks(package: Package, sheet: SheetRef) -> Iterator[bytes]:
    """The part in 4 MB chunks, each starting with the last 4 KB of the one before."""
    if (whole := package.small.get(sheet.part or "")) is not None:  # read whole by sniff already
        yield whole
        return
    if package.data is not None and package.zip is not None:  # a small part of a package in memory: at once
        info = package.zip.NameToInfo.get(sheet.part or "")
        if (
            info is not None
            and info.file_size <= CHUNK
            and (whole := _direct_read(package.data, info)) is not None
        ):
            yield whole
            return
    overlap = b""
    seen = 0
    with package_zip(package) as zf:
        try:
            with zf.open(zf.getinfo(sheet.part)) as fh:
                while chunk := fh.read(CHUNK):
                    seen += len(chunk)
                    if seen > MAX_PART_BYTES:
                        raise UnsafeFileError(
                            f"文件“{package.path.name}”的工作表“{sheet.name}”解压后异常庞大，可能是压缩炸弹，已停止读取。"
                        )
                    data = overlap + chunk
                    yield data
                    overlap = data[-4096:]
        except ZIP_ERRORS:
            raise UnreadableFileError(
                f"文件“{package.path.name}”的工作表“{sheet.name}”已损坏或不完整，请用 Excel 打开修复后另存。"
            ) from None


_ANY_REF_ROW = re.compile(rb'r="[A-Z]{0,3}(\d+)"')
_HASH_REFERENCE = re.compile(rb"&#(?:0*35|x0*23);")


def _error_like(data: bytes) -> bool:
    """Text that might read as an error value (#REF!, #N/A …): "#" before a capital letter or a tag
    (a rich-text run boundary), or "#" written as a character reference; "3#楼" does not count.
    One memchr-speed pass for "#", which sheets and string tables rarely hold."""
    at = data.find(b"#")
    while at >= 0:
        follower = data[at + 1 : at + 2]
        if follower.isupper() or follower == b"<":
            return True
        if data[at - 1 : at] == b"&" and _HASH_REFERENCE.match(data, at - 1):
            return True
        at = data.find(b"#", at + 1)
    return False


def _error_like_strings(package: Package) -> bool:
    """Whether any shared string might read as an error value (looked at once per package)."""
    if package._error_like_strings is None:
        package._error_like_strings = any(
            _error_like(data)
            for part in package.shared_strings
            for data in sheet_chunks(package, SheetRef(part, part, False))
        )
    return package._error_like_strings


_ERROR_TYPE = re.compile(rb't="e"')  # a compiled literal scans faster than bytes.__contains__
# one regex each (literal prefixes keep them fast): a cell without a leading r="…"
_ODD_CELL = re.compile(rb'<c(?! r=")[\s>/]')
_ODD_PREFIXED_CELL = re.compile(rb':c(?! r=")[\s>/]')


def _scan_chunk(data: bytes, scan: SheetScan, first: bool, measure: bool = True) -> None:
    """Error cells (calamine reads them as empty), text that might read as one, and (``measure``) the extent."""
    if measure:
        _measure_chunk(data, scan, first)
    if not scan.error_like_text and _error_like(data):  # inline strings, formula results
        scan.error_like_text = True
    if b"mergeCell" in data:  # the merged areas calamine reads: every corner a cell inside XFD1048576
        for value in _MERGE_REF.findall(data):
            for ref in value.split(b":", 1):
                _cell_position(ref, cell=True, shown=value)
    if _ERROR_TYPE.search(data):
        for letters, row, value in _ERROR_CELL.findall(data):
            scan.formula_errors[(int(row), column_index(letters.decode()))] = value.decode("utf-8", "replace")


def _measure_chunk(data: bytes, scan: SheetScan, first: bool) -> None:
    """Track the extent calamine will allocate: row count times column count.

    A cell right of column Z or below row 99999 is found by _BIG_REF; everything else is inside
    A1:Z99999 and cannot be dangerous on its own (wide sheets get an exact second pass). The
    measure only holds when every cell carries a plain ``r="A1"`` as its first attribute, as every
    writer we know emits. Anything else (no reference, single quotes, spaces around "=") makes the
    extent unknowable, and the sheet is read in a memory-limited child process instead.
    """
    if first:
        if m := _DIMENSION.search(data, 0, 65536):
            for ref in (m[1] if m[1] is not None else m[2]).split(b":"):  # "A1" or "A1:K7", nothing else
                _extend(scan, *_cell_position(ref, cell=True))
        if m := _FIRST_REF.search(data):
            scan.max_row = max(scan.max_row, int(m[2]))
    scan.max_col = max(scan.max_col, 26)
    for value in _UNUSUAL_REF.findall(data) if _UNUSUAL_REF_ANY.search(data) else ():
        _extend(scan, *_cell_position(value, cell=False))
    if not scan.unreferenced_cells:
        _check_references(data, scan)


def _cell_position(ref: bytes, *, cell: bool, shown: bytes | None = None) -> tuple[int, int]:
    """(row, 1-based column; 0 for a bare row number) of one reference, parsed whole: a malformed one or
    one past XFD1048576 is no reference Excel can write (``cell``: a column is required)."""
    m = _PLAIN_REF.fullmatch(ref) if len(ref) <= 20 else None
    row, col = (int(m[2]), column_index(m[1].decode()) + 1 if m[1] else 0) if m else (0, 0)
    if m is None or (cell and not col) or row > EXCEL_MAX_ROW or col > EXCEL_MAX_COL:
        raise _BadReference((shown or ref)[:40].decode("utf-8", "replace"))
    return row, col


def _extend(scan: SheetScan, row: int, col: int) -> None:
    scan.max_row = max(scan.max_row, row)
    scan.max_col = max(scan.max_col, col)


def _check_references(data: bytes, scan: SheetScan) -> None:
    """Flag any cell element (prefixed or not) whose first attribute is not a plain r="…".

    An element named exactly "c" is followed by whitespace, ">" or "/", so "<color" never
    matches. A match in the last bytes may be a tag cut by the chunk end: the next chunk,
    which starts with this one's tail, decides.
    """
    for pattern in (_ODD_CELL, _ODD_PREFIXED_CELL):
        if (m := pattern.search(data)) is not None and m.start() < len(data) - 8:
            scan.unreferenced_cells = True
            return
