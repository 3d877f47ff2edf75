"""XML parts handled as bytes: safe parsing, escaping of user text, tag scanning and exact byte edits.

Why bytes: a part we change is patched in place, so that everything we do not touch keeps its exact
bytes. The scanners here are sound only on markup they fully understand; anything else raises
``Unpatchable`` with a Chinese reason, and the caller writes its results to a copy instead of guessing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from toolkit.errors import UnreadableFileError, UnsafeFileError


class Unpatchable(Exception):
    """The package holds something we cannot patch safely; ``str(exc)`` says what, in Chinese."""


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


Edit = tuple[int, int, bytes]  # replace data[start:end] by these bytes


def apply_edits(data: bytes, edits: list[Edit]) -> bytes:
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


def set_attr(tag: bytes, name: str, value: str) -> bytes:
    """Set one attribute of a start tag, in place when present, else appended."""
    pat = re.compile(rb"(\s" + re.escape(name.encode()) + rb"\s*=\s*)(\"[^\"]*\"|'[^']*')")
    if pat.search(tag):
        return pat.sub(lambda m: m.group(1) + b'"' + value.encode() + b'"', tag, count=1)
    cut = len(tag) - (2 if tag.endswith(b"/>") else 1)
    return tag[:cut].rstrip() + b" " + name.encode() + b'="' + value.encode() + b'"' + tag[cut:]
