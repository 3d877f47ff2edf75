"""Low-level, surgical access to an OOXML spreadsheet package (.xlsx/.xlsm).

Why not openpyxl: a load-and-save drops or rewrites what it does not model (text boxes, form controls,
Excel 2010 extensions, VBA signatures, the shared-strings table). Here the zip is read part by part, only
the parts we change are parsed (safely: no DTDs, no entities, no network) and patched *as bytes*, and
every other part is written back with exactly the same content.

Whenever a part is in a form the byte-level scanner does not fully understand, ``Unpatchable`` is raised
with a Chinese reason; the caller then writes its results to a separate copy instead of guessing.
"""

from __future__ import annotations

import functools
import io
import itertools
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field

from toolkit.errors import EncryptedFileError, UnreadableFileError, UnsafeFileError

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_MAIN_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"

RT_WORKSHEET = REL_NS + "/worksheet"
RT_STYLES = REL_NS + "/styles"
RT_COMMENTS = REL_NS + "/comments"
RT_VML = REL_NS + "/vmlDrawing"
RT_CUSTOM_XML = REL_NS + "/customXml"
RT_CUSTOM_XML_PROPS = REL_NS + "/customXmlProps"
THREADED_COMMENTS_MARK = "threadedComment"

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_XML = "application/xml"
CT_CUSTOM_XML_PROPS = "application/vnd.openxmlformats-officedocument.customXmlProperties+xml"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class Unpatchable(Exception):
    """The package holds something we cannot patch safely; ``str(exc)`` says what, in Chinese."""


# --------------------------------------------------------------------------- package


@dataclass
class Part:
    name: str
    data: bytes
    info: zipfile.ZipInfo | None = None  # None for parts we add
    changed: bool = False


@dataclass
class Package:
    """The parts of a zip package, in their original order, with their original zip metadata."""

    parts: list[Part] = field(default_factory=list)

    @classmethod
    def from_bytes(cls, raw: bytes, label: str = "") -> Package:
        if raw.startswith(OLE_MAGIC):
            raise EncryptedFileError(
                f"“{label}”设有打开密码或是旧版 .xls 文件，无法直接标记，请去掉密码并另存为 .xlsx 后再试。"
            )
        from toolkit import guard  # one definition of the zip-bomb limits and of a damaged directory

        try:
            zf = zipfile.ZipFile(io.BytesIO(raw))
        except guard.ZIP_ERRORS as exc:
            raise UnreadableFileError(
                f"“{label}”不是有效的 Excel 工作簿（可能已损坏或被截断），请用 Excel 打开确认后再试。"
            ) from exc
        with zf:
            infos = zf.infolist()
            guard.check_zip_directory(label, infos, len(raw))
            guard.check_zip_limits(label, infos)
            seen: set[str] = set()
            pkg = cls()
            for info in infos:
                name = info.filename
                if info.is_dir():  # not a part, but kept so the package stays as it was
                    pkg.parts.append(Part(name, b"", info))
                    continue
                low = name.lower()
                if low in seen or name.startswith("/") or ".." in name.split("/") or "\\" in name:
                    raise UnsafeFileError(f"“{label}”的压缩目录异常（部件“{name}”），已停止处理。")
                seen.add(low)
                try:
                    data = zf.read(info)  # checks the CRC
                except guard.ZIP_ERRORS as exc:
                    raise UnreadableFileError(
                        f"“{label}”中的“{name}”已损坏（校验失败），请先用 Excel 修复并另存后再试。"
                    ) from exc
                pkg.parts.append(Part(name, data, info))
        return pkg

    # -- access (part names are case-insensitive in OPC)

    def _index(self, name: str) -> int | None:
        low = name.lower()
        for i, part in enumerate(self.parts):
            if part.name.lower() == low:
                return i
        return None

    def has(self, name: str) -> bool:
        return self._index(name) is not None

    def get(self, name: str) -> bytes | None:
        i = self._index(name)
        return None if i is None else self.parts[i].data

    def require(self, name: str) -> bytes:
        data = self.get(name)
        if data is None:
            raise Unpatchable(f"工作簿缺少部件“{name}”")
        return data

    def set(self, name: str, data: bytes) -> None:
        i = self._index(name)
        if i is None:
            self.parts.append(Part(name, data))
        elif self.parts[i].data != data:
            self.parts[i].data = data
            self.parts[i].changed = True

    def delete(self, name: str) -> None:
        i = self._index(name)
        if i is not None:
            del self.parts[i]

    def names(self) -> list[str]:
        return [p.name for p in self.parts]

    def to_bytes(self) -> bytes:
        """Write the package; unchanged parts keep their name, date, attributes and compression."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", allowZip64=True) as zf:
            for part in self.parts:
                if part.info is not None:
                    old = part.info
                    info = zipfile.ZipInfo(old.filename, date_time=old.date_time)
                    info.compress_type = old.compress_type
                    info.external_attr = old.external_attr
                    info.create_system = old.create_system
                    info.comment = old.comment
                    info.extra = b""
                else:
                    info = zipfile.ZipInfo(part.name, date_time=(1980, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o600 << 16
                # unchanged parts: the same compression; big parts we wrote: fast deflate
                changed = part.info is None or part.changed
                level = 1 if changed and len(part.data) > (1 << 20) else None
                zf.writestr(info, part.data, compresslevel=level)
        return buf.getvalue()


def verify_written(raw: bytes, expected: Package) -> None:
    """Re-read a written package: every CRC good, every part present with exactly the intended bytes."""
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        bad = zf.testzip()
        if bad is not None:
            raise OSError(f"written package fails its CRC check at {bad}")
        infos = {i.filename: i for i in zf.infolist()}
        if len(infos) != len(expected.parts):
            raise OSError("written package has a different number of parts")
        for part in expected.parts:
            info = infos.get(part.name)
            if info is None or info.file_size != len(part.data) or zlib.crc32(part.data) != info.CRC:
                raise OSError(f"written part {part.name} differs from what was intended")


# --------------------------------------------------------------------------- XML


def check_xml_bytes(data: bytes, part: str) -> None:
    """Refuse DTDs/entities (XML bombs) and anything that is not UTF-8."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UnsafeFileError(f"工作簿部件“{part}”含有 DTD 声明，疑似恶意文件，已停止处理。")
    head = data[:200]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        b"encoding=" in head.split(b"?>")[0] and not re.search(rb"encoding=[\"']utf-8[\"']", head, re.I)
    ):
        raise Unpatchable(f"部件“{part}”不是 UTF-8 编码")


def parse_xml(data: bytes, part: str):
    """Parse one part with lxml, never resolving entities, never touching the network."""
    from lxml import etree

    check_xml_bytes(data, part)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False
    )
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise Unpatchable(f"部件“{part}”不是有效的 XML") from exc


def local(tag: object) -> str:
    return tag.split("}", 1)[1] if isinstance(tag, str) and "}" in tag else str(tag)


def ns_of(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


_PLAIN = re.compile(r"[^\x00-\x1f&<>_\ufffe\uffff]*")
_EXCEL_ESCAPE = re.compile(r"_[xX]([0-9a-fA-F]{4})_")
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@functools.lru_cache(maxsize=8192)
def xml_text(text: str, limit: int = 32000) -> str:
    """Escape user text for element content: no invalid chars, Excel's _xHHHH_ escape neutralised."""
    text = str(text)
    if _PLAIN.fullmatch(text) and len(text) <= limit:
        return text
    text = _INVALID_XML.sub("\ufffd", text)
    if "_x" in text or "_X" in text:
        text = _EXCEL_ESCAPE.sub(r"_x005F_x\1_", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_attr(text: str) -> str:
    return xml_text(text, 2000).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;")


# A start/end/empty tag with properly quoted attributes (attribute values may hold '>').
TAG_RE = re.compile(rb"<(/?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>")
ATTR_RE = re.compile(rb"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def attrs_of(raw: bytes) -> dict[str, str]:
    out = {}
    for m in ATTR_RE.finditer(raw):
        val = m.group(2) if m.group(2) is not None else m.group(3)
        out[m.group(1).decode()] = unescape_attr(val.decode("utf-8"))
    return out


def unescape_attr(value: str) -> str:
    if "&" not in value:
        return value
    import html

    return html.unescape(value)


def _body_start(data: bytes, part: str) -> int:
    """Where a part's content starts: after a byte-order mark and the XML declaration, if any. An offset,
    not a slice, so that an 18 MB sheet is not copied to look past its first line."""
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if not data.startswith(b"<?xml", _LEADING_SPACE.match(data, start).end()):
        return start
    end = data.find(b"?>", start)
    if end < 0:  # the declaration never ends: a part cut short
        raise UnreadableFileError(
            f"工作簿中的部件“{part}”已损坏（不完整），请用 Excel 打开修复并另存后再试。"
        )
    return end + 2


_LEADING_SPACE = re.compile(rb"[ \t\n\r\x0b\x0c]*")  # what bytes.lstrip() strips


def refuse_markup_we_cannot_scan(data: bytes, part: str) -> None:
    """Comments, CDATA and processing instructions could hide text that looks like tags."""
    _refuse_hidden_markup(data, part, b"<!" in data)


def check_scannable(data: bytes, part: str) -> None:
    """``refuse_markup_we_cannot_scan`` then ``check_xml_bytes``, with the same answers: a part without
    any "<!" holds neither comments, CDATA, a DTD nor entities, and one search for it on a big sheet
    costs less than the four it replaces."""
    bang = b"<!" in data
    _refuse_hidden_markup(data, part, bang)
    check_xml_bytes(data if bang else data[:200], part)  # without "<!", the encoding from the head alone


def _refuse_hidden_markup(data: bytes, part: str, bang: bool) -> None:
    body = _body_start(data, part)
    hidden = (b"<!--", b"<![CDATA[", b"<?") if bang else (b"<?",)
    if any(data.find(marker, body) >= 0 for marker in hidden):
        raise Unpatchable(f"部件“{part}”含有注释、CDATA 或处理指令")


@dataclass
class TopElement:
    name: str
    start: int
    end: int  # offset just past the element
    attrs: dict[str, str]


def top_level_elements(data: bytes, begin: int, stop: int) -> list[TopElement]:
    """Direct children found between ``begin`` and ``stop`` (both at depth one of the root)."""
    out: list[TopElement] = []
    depth = 0
    current: TopElement | None = None
    pos = begin
    while True:
        lt = data.find(b"<", pos, stop)
        if lt < 0:
            break
        m = TAG_RE.match(data, lt, stop)
        if m is None:
            raise Unpatchable("无法识别的标记")
        closing, name, raw_attrs, empty = m.group(1), m.group(2).decode(), m.group(3), m.group(4)
        if closing:
            depth -= 1
            if depth == 0 and current is not None:
                current.end = m.end()
                out.append(current)
                current = None
            if depth < 0:
                raise Unpatchable("标记嵌套不完整")
        elif empty:
            if depth == 0:
                out.append(TopElement(name, lt, m.end(), attrs_of(raw_attrs)))
        else:
            if depth == 0:
                current = TopElement(name, lt, -1, attrs_of(raw_attrs))
            depth += 1
        pos = m.end()
    if depth != 0:
        raise Unpatchable("标记嵌套不完整")
    return out


def apply_edits(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Replace non-overlapping byte ranges [start, end) by new bytes."""
    edits = sorted(edits, key=lambda e: (e[0], e[1]))
    out = []
    pos = 0
    for start, end, new in edits:
        if start < pos:
            raise Unpatchable("内部错误：修改区域重叠")
        out.append(data[pos:start])
        out.append(new)
        pos = end
    out.append(data[pos:])
    return b"".join(out)


# --------------------------------------------------------------------------- relationships


@dataclass
class Rel:
    id: str
    type: str
    target: str  # resolved part name, or the raw target when external
    external: bool
    raw: bytes  # the element's exact bytes


def rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve_target(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target)).lstrip("/")


def relative_target(source_part: str, part: str) -> str:
    return posixpath.relpath(part, posixpath.dirname(source_part) or ".")


REL_EL_RE = re.compile(rb"<Relationship\b(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*/>")


def read_rels(pkg: Package, source_part: str) -> list[Rel]:
    name = rels_name(source_part) if source_part else "_rels/.rels"
    data = pkg.get(name)
    if data is None:
        return []
    root = parse_xml(data, name)
    if root.tag != f"{{{PKG_REL_NS}}}Relationships":
        raise Unpatchable(f"部件“{name}”不是关系部件")
    raws = REL_EL_RE.findall(data)
    children = [c for c in root if isinstance(c.tag, str)]
    if len(raws) != len(children):
        raise Unpatchable(f"部件“{name}”的写法无法安全修改")
    out = []
    for raw, el in zip(raws, children, strict=True):
        a = attrs_of(raw)
        if a.get("Id") != el.get("Id"):
            raise Unpatchable(f"部件“{name}”的写法无法安全修改")
        external = el.get("TargetMode") == "External"
        target = el.get("Target", "")
        out.append(
            Rel(
                el.get("Id"),
                el.get("Type", ""),
                target if external else resolve_target(source_part, target),
                external,
                raw,
            )
        )
    return out


def next_rel_id(rels: list[Rel]) -> str:
    used = {r.id for r in rels}
    n = 1 + max((int(m.group(1)) for r in rels if (m := re.fullmatch(r"rId(\d+)", r.id))), default=0)
    while f"rId{n}" in used:
        n += 1
    return f"rId{n}"


def add_rel(pkg: Package, source_part: str, rel_id: str, rel_type: str, target_part: str) -> bytes:
    """Append one relationship element; return the exact bytes inserted (for a later exact removal)."""
    name = rels_name(source_part)
    el = (
        f'<Relationship Id="{rel_id}" Type="{rel_type}" Target="{relative_target(source_part, target_part)}"/>'
    ).encode()
    data = pkg.get(name)
    if data is None:
        data = (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b"</Relationships>"
        )
    end = data.rfind(b"</Relationships>")
    if end < 0:
        raise Unpatchable(f"部件“{name}”的写法无法安全修改")
    pkg.set(name, data[:end] + el + data[end:])
    return el


def remove_rel(pkg: Package, source_part: str, rel_id: str) -> bool:
    name = rels_name(source_part)
    data = pkg.get(name)
    if data is None:
        return False
    for raw in REL_EL_RE.findall(data):
        if attrs_of(raw).get("Id") == rel_id:
            pkg.set(name, data.replace(raw, b"", 1))
            return True
    return False


# --------------------------------------------------------------------------- content types

OVERRIDE_RE = re.compile(rb"<Override\b(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*/>")


def add_override(pkg: Package, part: str, content_type: str) -> bytes:
    data = pkg.require("[Content_Types].xml")
    el = f'<Override PartName="/{part}" ContentType="{content_type}"/>'.encode()
    end = data.rfind(b"</Types>")
    if end < 0:
        raise Unpatchable("部件“[Content_Types].xml”的写法无法安全修改")
    pkg.set("[Content_Types].xml", data[:end] + el + data[end:])
    return el


def remove_override(pkg: Package, part: str) -> bool:
    data = pkg.get("[Content_Types].xml")
    if data is None:
        return False
    for raw in OVERRIDE_RE.findall(data):
        if attrs_of(raw).get("PartName", "").lstrip("/").lower() == part.lower():
            pkg.set("[Content_Types].xml", data.replace(raw, b"", 1))
            return True
    return False


def check_content_types(pkg: Package) -> None:
    data = pkg.require("[Content_Types].xml")
    root = parse_xml(data, "[Content_Types].xml")
    if root.tag != f"{{{CT_NS}}}Types":
        raise Unpatchable("部件“[Content_Types].xml”无法识别")


def unused_name(pkg: Package, pattern: str, start: int = 1) -> tuple[str, int]:
    """First free part name of the form pattern.format(n), e.g. 'xl/comments{}.xml'."""
    n = start
    while pkg.has(pattern.format(n)):
        n += 1
    return pattern.format(n), n


# --------------------------------------------------------------------------- workbook


@dataclass
class SheetRef:
    name: str
    sheet_id: str
    rel_id: str
    part: str  # resolved part name ('' when the relationship is missing)
    rel_type: str
    raw: bytes  # exact bytes of the <sheet/> element
    state: str = "visible"


@dataclass
class Workbook:
    part: str
    root_ns: str
    sheets: list[SheetRef]
    rels: list[Rel]
    r_prefix: str | None  # prefix bound to the relationships namespace on the root, if any


SHEET_EL_RE = re.compile(rb"<sheet\b(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*/>")


def open_workbook(pkg: Package) -> Workbook:
    check_content_types(pkg)
    root_rels = read_rels(pkg, "")
    docs = [r for r in root_rels if r.type.endswith("/officeDocument") and not r.external]
    if not docs:
        raise Unpatchable("找不到工作簿主部件")
    doc = docs[0]
    if "purl.oclc.org" in doc.type:
        raise Unpatchable("这是“严格 Open XML”格式的工作簿")
    part = doc.target
    data = pkg.require(part)
    root = parse_xml(data, part)
    ns = ns_of(root.tag)
    if ns == STRICT_MAIN_NS:
        raise Unpatchable("这是“严格 Open XML”格式的工作簿")
    if root.tag != f"{{{MAIN_NS}}}workbook":
        raise Unpatchable("工作簿主部件无法识别")
    refuse_markup_we_cannot_scan(data, part)
    rels = read_rels(pkg, part)
    by_id = {r.id: r for r in rels}
    sheets_el = root.find(f"{{{MAIN_NS}}}sheets")
    if sheets_el is None:
        raise Unpatchable("工作簿没有工作表列表")
    els = list(sheets_el.iterchildren(f"{{{MAIN_NS}}}sheet"))
    raws = SHEET_EL_RE.findall(data)
    if len(raws) != len(els):
        raise Unpatchable("工作簿的工作表列表写法无法安全修改")
    sheets = []
    for raw, el in zip(raws, els, strict=True):
        rid = el.get(f"{{{REL_NS}}}id", "")
        if attrs_of(raw).get("name") != el.get("name"):
            raise Unpatchable("工作簿的工作表列表写法无法安全修改")
        rel = by_id.get(rid)
        sheets.append(
            SheetRef(
                el.get("name", ""),
                el.get("sheetId", ""),
                rid,
                rel.target if rel and not rel.external else "",
                rel.type if rel else "",
                raw,
                el.get("state", "visible"),
            )
        )
    prefix = next((p for p, u in root.nsmap.items() if u == REL_NS and p), None)
    return Workbook(part, ns, sheets, rels, prefix)


# --------------------------------------------------------------------------- worksheet scanning

ROW_R_RE = re.compile(rb"(?<=\s)r\s*=\s*[\"']([0-9]{1,7})[\"']")
ROW_RE = re.compile(rb"<(/?)row(?=[\s/>])([^>]*)>")
C_OPEN_TAG_RE = re.compile(rb"<c(?=[\s/>])([^>]*)>")
C_OPEN_RE = re.compile(rb"<c(?=[\s/>])")
C_REF_RE = re.compile(rb"<c\s[^>]*?(?<=\s)r\s*=\s*[\"']([^\"']*)[\"']")
R_ATTR_RE = re.compile(rb"(?<=\s)r\s*=\s*[\"']([A-Z]{1,3})([0-9]{1,7})[\"']")
S_ATTR_RE = re.compile(rb"(?<=\s)s\s*=\s*[\"']([^\"']*)[\"']")
REF_RE = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


def col_index(letters: str) -> int:
    value = 0
    for ch in letters:
        value = value * 26 + ord(ch) - 64
    return value  # 1-based


def col_letters(index: int) -> str:
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


class CellTag:
    """One <c> start (or empty) tag; the style and emptiness are read only for the cells we touch."""

    __slots__ = ("attrs_raw", "col", "end", "ref", "start")

    def __init__(self, ref: str, col: int, start: int, end: int, attrs_raw: bytes):
        self.ref, self.col, self.start, self.end, self.attrs_raw = ref, col, start, end, attrs_raw

    @property
    def s(self) -> str | None:
        m = S_ATTR_RE.search(self.attrs_raw)
        return m.group(1).decode() if m else None

    @property
    def empty(self) -> bool:
        return self.attrs_raw.endswith(b"/")

    @property
    def attrs(self) -> dict[str, str]:
        return attrs_of(self.attrs_raw)


_COL_CACHE: dict[bytes, int] = {}


def _col_of(letters: bytes) -> int:
    col = _COL_CACHE.get(letters)
    if col is None:
        col = _COL_CACHE[letters] = col_index(letters.decode())
    return col


class RowTag:
    """One <row> of sheetData; its cells are scanned only when asked for (most rows never are)."""

    __slots__ = ("_cells", "attrs_raw", "close_start", "data", "empty", "end", "r", "start", "tag_end")

    def __init__(self, data: bytes, r: int, start: int, tag_end: int, empty: bool, attrs_raw: bytes):
        self.data, self.r, self.start, self.tag_end = data, r, start, tag_end
        self.close_start = self.end = tag_end
        self.empty, self.attrs_raw = empty, attrs_raw
        self._cells: list[CellTag] | None = None

    @property
    def attrs(self) -> dict[str, str]:
        return attrs_of(self.attrs_raw)

    @property
    def cells(self) -> list[CellTag]:
        if self._cells is None:
            self._cells = [] if self.empty else _scan_cells(self.data, self)
        return self._cells

    def find_cell(self, ref: str) -> CellTag | None:
        """The cell ``ref`` of this row: a direct byte search for the common ``<c r="A1"`` form first
        (``<`` never occurs in text, so a hit is a tag), the full row scan otherwise."""
        if self._cells is None and not self.empty:
            needle = b'<c r="' + ref.encode() + b'"'
            at = self.data.find(needle, self.tag_end, self.close_start)
            if at >= 0:
                end = self.data.find(b">", at + len(needle), self.close_start)
                if end >= 0:
                    return CellTag(ref, 0, at, end + 1, self.data[at + 2 : end])
        return next((c for c in self.cells if c.ref == ref), None)


def _scan_cells(data: bytes, row: RowTag) -> list[CellTag]:
    out = []
    row_digits = str(row.r).encode()
    r_search = R_ATTR_RE.search
    for t in C_OPEN_TAG_RE.finditer(data, row.tag_end, row.close_start):
        raw = t.group(1)
        rm = r_search(raw)
        if rm is None or rm.group(2) != row_digits:
            raise Unpatchable("工作表中有未标明位置的单元格")
        out.append(
            CellTag((rm.group(1) + row_digits).decode(), _col_of(rm.group(1)), t.start(), t.end(), raw)
        )
    cols = [c.col for c in out]
    if any(a >= b for a, b in itertools.pairwise(cols)):
        raise Unpatchable("工作表中单元格顺序异常")
    return out


@dataclass
class SheetScan:
    data: bytes
    data_start: int  # just after <sheetData>
    data_end: int  # start of </sheetData>
    tail: list[TopElement]  # top-level elements after sheetData
    worksheet_end: int  # start of </worksheet>
    r_prefix: str | None
    cols: list[tuple[int, int, int | None]]  # (min, max, style) from <cols>
    empty_tag: tuple[int, int] | None = None  # span of a self-closing <sheetData/>
    n_cells: int = 0  # <c> elements in sheetData
    n_rows: int = 0  # <row> elements in sheetData
    plain_rows: bool = False  # every row starts '<row r="' (then a row is found by a byte search)
    _rows: list[RowTag] | None = None
    _by_r: dict[int, RowTag] | None = None
    _found: dict[int, RowTag | None] = field(default_factory=dict)
    _cursor: tuple[int, int] = (0, 0)  # (row number, offset after it) of the last row found
    _misses: int = 0

    @property
    def rows(self) -> list[RowTag]:
        """Every row, in order (a full scan, done once and only when needed)."""
        if self._rows is None:
            self._rows = _scan_rows(self.data, self.data_start, self.data_end)
            self._by_r = {r.r: r for r in self._rows}
        return self._rows

    def row(self, r: int) -> RowTag | None:
        """The row numbered ``r``, or None when the sheet has no such row."""
        if self._by_r is not None or not self.plain_rows:
            self.rows  # noqa: B018 - fills _by_r
            return self._by_r.get(r)
        if r not in self._found:
            if self._misses > 8 or len(self._found) > 20_000:
                self.rows  # noqa: B018 - many lookups or misses: one full scan is cheaper
                return self._by_r.get(r)
            self._found[r] = self._find_row(r)
        return self._found[r]

    def _find_row(self, r: int) -> RowTag | None:
        # Every row tag starts '<row r="' (checked by counting), '<' never occurs in text, and the
        # closing quote is part of the needle: a hit is exactly row r.
        data = self.data
        needle = b'<row r="%d"' % r
        at = -1
        if r > self._cursor[0]:  # rows are in ascending order: look on from the last hit first
            at = data.find(needle, self._cursor[1], self.data_end)
        if at < 0:
            at = data.find(needle, self.data_start, self.data_end)
        if at < 0:
            self._misses += 1
            return None
        gt = data.find(b">", at + len(needle), self.data_end)
        if gt < 0:
            raise Unpatchable("工作表行标记不完整")
        raw = data[at + 4 : gt]
        row = RowTag(data, r, at, gt + 1, raw.endswith(b"/"), raw)
        if not row.empty:
            close = data.find(b"</row>", gt, self.data_end)
            nxt = data.find(b"<row", gt, self.data_end)
            if close < 0 or 0 <= nxt < close:
                raise Unpatchable("工作表行标记不完整")
            row.close_start, row.end = close, close + len(b"</row>")
        self._cursor = (r, row.end)
        return row


_ROW_START = re.compile(rb"<row[ \t\r\n>/]")


def count_rows(seg: bytes) -> int:
    """Start tags ``<row`` followed by white space, ">" or "/" (not ``<rowBreaks``): one regex pass with
    a literal prefix, several times faster than counting each ending apart on an 18 MB sheet."""
    return sum(1 for _ in _ROW_START.finditer(seg))


def _scan_rows(data: bytes, data_start: int, data_end: int) -> list[RowTag]:
    rows: list[RowTag] = []
    current: RowTag | None = None
    for t in ROW_RE.finditer(data, data_start, data_end):
        closing, raw = t.group(1), t.group(2)
        if closing:
            if current is None:
                raise Unpatchable("工作表行标记不完整")
            current.close_start = t.start()
            current.end = t.end()
            rows.append(current)
            current = None
            continue
        if current is not None:
            raise Unpatchable("工作表行标记不完整")
        if raw[:4] == b' r="' and (q := raw.find(b'"', 4)) > 4 and raw[4:q].isdigit():
            r_num = int(raw[4:q])  # the usual form, read without a regex
        else:
            rm = ROW_R_RE.search(raw)
            if rm is None:
                raise Unpatchable("工作表中有未标明行号的行")
            r_num = int(rm.group(1))
        row = RowTag(data, r_num, t.start(), t.end(), raw.endswith(b"/"), raw)
        if row.empty:
            rows.append(row)
        else:
            current = row
    if current is not None:
        raise Unpatchable("工作表行标记不完整")
    numbers = [r.r for r in rows]
    if any(a >= b for a, b in itertools.pairwise(numbers)):
        raise Unpatchable("工作表中行的顺序异常")
    return rows


def scan_sheet(data: bytes, part: str) -> SheetScan:
    """Locate every row and cell tag of a worksheet by bytes.

    The byte scan is sound because the guards below rule out everything that could make bytes and XML
    disagree (comments, CDATA, processing instructions, DTDs, namespace re-declarations inside the
    data, prefixed elements); ``check_patched_sheet`` then proves it on the result with a real parser.
    """
    check_scannable(data, part)
    root_m = re.search(rb"<([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*>", data)
    if root_m is None or root_m.group(1) != b"worksheet":
        raise Unpatchable(f"部件“{part}”不是普通工作表")
    root_attrs = attrs_of(root_m.group(2))
    if root_attrs.get("xmlns") != MAIN_NS:
        raise Unpatchable(f"部件“{part}”不是普通工作表")
    m = re.search(rb"<sheetData\b[^>]*?(/?)>", data)
    if m is None:
        raise Unpatchable("工作表没有数据区")
    data_start = m.end()
    if m.group(1):  # <sheetData/>: no rows at all
        data_end = tail_start = data_start
        empty_tag: tuple[int, int] | None = (m.start(), m.end())
    else:
        empty_tag = None
        data_end = data.find(b"</sheetData>", data_start)
        if data_end < 0:
            raise Unpatchable("工作表数据区不完整")
        tail_start = data_end + len(b"</sheetData>")
    seg = data[data_start:data_end]
    if b"xmlns" in seg:
        raise Unpatchable("工作表的写法无法安全修改")
    # The usual sheet: every "<c" starts '<c r="' (so there is no "<c:" and no other tag named c…) and
    # every "<row" starts '<row r="'. Two plain counts each prove it, faster than one regex pass.
    n_cells = seg.count(b'<c r="')
    if seg.count(b"<c") != n_cells:
        if b"<c:" in seg:
            raise Unpatchable("工作表的写法无法安全修改")
        plain_cells = n_cells
        n_cells = len(C_OPEN_RE.findall(seg))
        if plain_cells != n_cells and len(C_REF_RE.findall(seg)) != n_cells:
            raise Unpatchable("工作表中有未标明位置的单元格")
    n_rows = seg.count(b'<row r="')
    plain_rows = seg.count(b"<row") == n_rows
    if not plain_rows:
        n_rows = count_rows(seg)
        plain_rows = seg.count(b'<row r="') == n_rows
    end_m = data.rfind(b"</worksheet>")
    if end_m < 0:
        raise Unpatchable("工作表不完整")
    tail = top_level_elements(data, tail_start, end_m)
    head = top_level_elements(data, data.index(b">", data.index(b"<worksheet")) + 1, m.start())
    cols: list[tuple[int, int, int | None]] = []
    for el in head:
        if el.name == "cols":
            for c in re.finditer(
                rb"<col\b((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*/?>", data[el.start : el.end]
            ):
                a = attrs_of(c.group(1))
                try:
                    cols.append((int(a["min"]), int(a["max"]), int(a["style"]) if "style" in a else None))
                except (KeyError, ValueError):
                    continue
    prefix = next((k[6:] for k, v in root_attrs.items() if k.startswith("xmlns:") and v == REL_NS), None)
    scan = SheetScan(
        data, data_start, data_end, tail, end_m, prefix, cols, empty_tag, n_cells, n_rows, plain_rows
    )
    if not plain_rows:
        scan.rows  # noqa: B018 - unusual row tags: scan (and check) them all now
        if len(scan.rows) != n_rows:
            raise Unpatchable("工作表的写法无法安全修改")
    return scan


def check_patched_sheet(data: bytes, part: str, rows: int, cells: int, styles: dict[str, str | None]) -> None:
    """Prove a patched worksheet with a real XML parser: well-formed, the expected numbers of rows and
    cells (so the byte scan saw what the parser sees), and the style of every cell we touched.

    The parse streams: each row is checked when it ends and then emptied, so the tree of an 18 MB sheet
    is never held whole (building and freeing it cost more than the parse itself)."""
    from lxml import etree

    check_xml_bytes(data, part)
    wanted: dict[str, dict[str, str | None]] = {}
    for ref, s in styles.items():
        m = REF_RE.fullmatch(ref)
        wanted.setdefault(m.group(2), {})[ref] = s
    ws_tag, sd_tag = f"{{{MAIN_NS}}}worksheet", f"{{{MAIN_NS}}}sheetData"
    row_tag, c_tag = f"{{{MAIN_NS}}}row", f"{{{MAIN_NS}}}c"
    refused = Unpatchable("工作表的写法无法安全修改")
    parser = etree.XMLPullParser(
        events=("end",),
        tag=row_tag,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
    )
    parents: set = set()  # the element(s) holding the rows seen: must be the one <sheetData>
    n_rows = n_cells = 0

    def take(events) -> None:
        nonlocal n_rows, n_cells
        for _, row in events:
            parent = row.getparent()
            if parent is None or parent.tag != sd_tag:
                raise refused
            parents.add(parent)
            n_rows += 1
            n_cells += len(row)
            want = wanted.get(row.get("r"))
            if want is not None:
                for c in row:
                    ref = c.get("r")
                    if ref in want and (c.tag != c_tag or c.get("s") != want.pop(ref)):
                        raise refused
                if want:
                    raise refused
            row.clear(keep_tail=True)  # an empty shell stays, so that sheetData's children can be checked

    step = 1 << 16
    try:
        for at in range(0, len(data), step):
            parser.feed(data[at : at + step])
            take(parser.read_events())
        root = parser.close()
        take(parser.read_events())
    except etree.XMLSyntaxError as exc:
        raise Unpatchable(f"部件“{part}”不是有效的 XML") from exc
    if root.tag != ws_tag:
        raise Unpatchable(f"部件“{part}”不是普通工作表")
    sd = root.find(sd_tag)
    if sd is None or parents - {sd} or len(sd) != rows or n_rows != rows or n_cells != cells:
        raise refused
    if any(r.tag != row_tag for r in sd):
        raise refused
    if any(wanted.values()):
        raise refused


# Order of a worksheet's children after sheetData (CT_Worksheet), to insert at the right place.
WORKSHEET_TAIL_ORDER = [
    "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
    "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
    "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
    "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
    "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
    "webPublishItems", "tableParts", "extLst",
]  # fmt: skip
