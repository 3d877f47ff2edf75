"""The zip package of a workbook: its parts in their original order and zip metadata, its relationships
and content types.

Why not openpyxl: a load-and-save drops or rewrites what it does not model (text boxes, form controls,
Excel 2010 extensions, VBA signatures, the shared-strings table). Here the zip is read part by part and
every part we do not change is written back with exactly the same content. The zip-bomb limits and the
check of a damaged directory are ``toolkit.guard``'s, the one definition.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field

from toolkit import guard  # one definition of the zip-bomb limits, a damaged directory, an OLE file
from toolkit.errors import EncryptedFileError, UnreadableFileError, UnsafeFileError
from toolkit.xlsx.xmlbytes import Unpatchable, attrs_of, parse_xml

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
        if raw.startswith(guard.OLE_MAGIC):
            raise EncryptedFileError(
                f"“{label}”设有打开密码或是旧版 .xls 文件，无法直接标记，请去掉密码并另存为 .xlsx 后再试。"
            )
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


def internal_rel(rels: list[Rel], rel_type: str) -> Rel | None:
    """The first relationship of a type that points at a part inside the package."""
    return next((r for r in rels if r.type == rel_type and not r.external), None)


@dataclass(frozen=True)
class AddedRel:
    """A relationship we added: its id and the exact element bytes (text), for an exact removal."""

    id: str
    raw: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "raw": self.raw}


def add_part(pkg: Package, source_part: str, rels: list[Rel], pattern: str, rel_type: str, content_type: str):
    """Name a new part (the first free ``pattern.format(n)``) and relate it from ``source_part`` with its
    content type; the part's bytes are the caller's to set. Returns (part name, relationship, override)."""
    part, _ = unused_name(pkg, pattern)
    rel_id = next_rel_id(rels)
    rel = AddedRel(rel_id, add_rel(pkg, source_part, rel_id, rel_type, part).decode())
    return part, rel, add_override(pkg, part, content_type).decode()


def remove_part(pkg: Package, source_part: str, rel_id: str, part: str) -> None:
    """Take a part out with its relationship from ``source_part`` and its content type."""
    remove_rel(pkg, source_part, rel_id)
    remove_override(pkg, part)
    pkg.delete(part)
