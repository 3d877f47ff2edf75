"""The styles part (xl/styles.xml): our fills and the cell formats that use them, appended and taken out.

Formats are appended, never changed: a marked cell gets a clone of its own format with our fill, so its
number format, font and borders stay; an identical fill or format already present is reused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from toolkit.xlsx.package import MAIN_NS, Package
from toolkit.xlsx.plan import FILL_RGB
from toolkit.xlsx.xmlbytes import (
    TAG_RE,
    TopElement,
    Unpatchable,
    apply_edits,
    parse_xml,
    refuse_markup_we_cannot_scan,
    set_attr,
    top_level_elements,
)


@dataclass(frozen=True)
class StylesUndo:
    """What marking appended to the styles part: the original section tags and counts, and our additions."""

    part: str
    fills_tag: str  # the <fills …> start tag before marking (its count attribute)
    xfs_tag: str  # the <cellXfs …> start tag before marking
    fills_n: int  # fills before marking
    xfs_n: int  # cell formats before marking
    added_fills: tuple[str, ...]
    added_xfs: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "fills_tag": self.fills_tag,
            "xfs_tag": self.xfs_tag,
            "fills_n": self.fills_n,
            "xfs_n": self.xfs_n,
            "added_fills": list(self.added_fills),
            "added_xfs": list(self.added_xfs),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StylesUndo:
        return cls(
            d["part"],
            d["fills_tag"],
            d["xfs_tag"],
            d["fills_n"],
            d["xfs_n"],
            tuple(d["added_fills"]),
            tuple(d["added_xfs"]),
        )


class Section(NamedTuple):
    """Where one section of the styles part (``<fills>``, ``<cellXfs>``) sits in its bytes."""

    tag_start: int  # its start tag
    tag_end: int
    close: int  # the start of its end tag
    children: list[TopElement]


def locate_section(data: bytes, name: str, part: str) -> Section:
    """The one <name> section of a styles part, located by bytes."""
    m = re.search(
        rb"<" + name.encode() + rb"\b((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>", data
    )
    if m is None or m.group(2):
        raise Unpatchable(f"样式部件“{part}”中没有可扩展的 {name}")
    close = data.find(b"</" + name.encode() + b">", m.end())
    if close < 0:
        raise Unpatchable(f"样式部件“{part}”不完整")
    return Section(m.start(), m.end(), close, top_level_elements(data, m.end(), close))


DEFAULT_XF = b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'


def fill_xml(rgb: str) -> bytes:
    return (
        f'<fill><patternFill patternType="solid"><fgColor rgb="{rgb}"/><bgColor indexed="64"/>'
        "</patternFill></fill>"
    ).encode()


class StylesPatch:
    """Appends our fills and cloned cell formats to styles.xml, reusing identical ones."""

    def __init__(self, pkg: Package, part: str):
        self.pkg, self.part = pkg, part
        data = pkg.require(part)
        refuse_markup_we_cannot_scan(data, part)
        root = parse_xml(data, part)
        if root.tag != f"{{{MAIN_NS}}}styleSheet":
            raise Unpatchable(f"样式部件“{part}”无法识别")
        self.data = data
        self.fills = locate_section(data, "fills", part)
        self.xfs = locate_section(data, "cellXfs", part)
        n_fills = len(root.findall(f"{{{MAIN_NS}}}fills/{{{MAIN_NS}}}fill"))
        n_xfs = len(root.findall(f"{{{MAIN_NS}}}cellXfs/{{{MAIN_NS}}}xf"))
        if (
            n_fills != len(self.fills.children)
            or n_xfs != len(self.xfs.children)
            or any(e.name != "fill" for e in self.fills.children)
            or any(e.name != "xf" for e in self.xfs.children)
        ):
            raise Unpatchable(f"样式部件“{part}”的写法无法安全修改")
        self.fill_bytes = [data[e.start : e.end] for e in self.fills.children]
        self.xf_bytes = [data[e.start : e.end] for e in self.xfs.children]
        self.orig_fills, self.orig_xfs = len(self.fill_bytes), len(self.xf_bytes)
        if self.orig_fills < 2:  # Excel reserves the first two fills (none, gray125): ours cannot come first
            raise Unpatchable(f"样式部件“{part}”的填充列表不完整")
        if not self.xf_bytes:  # an empty <cellXfs>: a plain format first, so that our clones have a base
            self.xf_bytes.append(DEFAULT_XF)
        self._fill_for: dict[str, int] = {}
        self._xf_for: dict[tuple[int, str], int] = {}

    def fill_index(self, severity: str) -> int:
        if severity not in self._fill_for:
            raw = fill_xml(FILL_RGB[severity])
            if raw in self.fill_bytes:
                self._fill_for[severity] = self.fill_bytes.index(raw)
            else:
                self.fill_bytes.append(raw)
                self._fill_for[severity] = len(self.fill_bytes) - 1
        return self._fill_for[severity]

    def xf_for(self, base: int, severity: str) -> int:
        """Index of a format equal to ``base`` but with our fill for ``severity``."""
        key = (base, severity)
        if key in self._xf_for:
            return self._xf_for[key]
        if not 0 <= base < self.orig_xfs:
            base = 0
        raw = self.xf_bytes[base]
        m = TAG_RE.match(raw)
        if m is None:
            raise Unpatchable("样式写法无法识别")
        tag = raw[: m.end()]
        tag = set_attr(tag, "fillId", str(self.fill_index(severity)))
        tag = set_attr(tag, "applyFill", "1")
        clone = tag + raw[m.end() :]
        if clone in self.xf_bytes:
            index = self.xf_bytes.index(clone)
        else:
            self.xf_bytes.append(clone)
            index = len(self.xf_bytes) - 1
        self._xf_for[key] = index
        return index

    def commit(self) -> StylesUndo:
        """Write styles.xml back; return what is needed to take the additions out again."""
        added_fills = self.fill_bytes[self.orig_fills :]
        added_xfs = self.xf_bytes[self.orig_xfs :]
        undo = StylesUndo(
            part=self.part,
            fills_tag=self.data[self.fills.tag_start : self.fills.tag_end].decode(),
            xfs_tag=self.data[self.xfs.tag_start : self.xfs.tag_end].decode(),
            fills_n=self.orig_fills,
            xfs_n=self.orig_xfs,
            added_fills=tuple(b.decode() for b in added_fills),
            added_xfs=tuple(b.decode() for b in added_xfs),
        )
        if not added_fills and not added_xfs:
            return undo
        edits = []
        for (o_start, o_end, close, _), added, total in (
            (self.fills, added_fills, len(self.fill_bytes)),
            (self.xfs, added_xfs, len(self.xf_bytes)),
        ):
            if not added:
                continue
            tag = self.data[o_start:o_end]
            if re.search(rb"\scount\s*=", tag):
                edits.append((o_start, o_end, set_attr(tag, "count", str(total))))
            edits.append((close, close, b"".join(added)))
        self.pkg.set(self.part, apply_edits(self.data, edits))
        return undo


_CELL_STYLE = re.compile(rb"<(?:c|row)\s[^>]*?\ss=\"(\d+)\"")
_COL_STYLE = re.compile(rb"<col\s[^>]*?\sstyle=\"(\d+)\"")
# Every value the two patterns above find is also found by these (a superset: texts too), and a pattern
# that starts with a literal is several times faster on an 18 MB sheet than one that starts at each "<".
_ANY_S = re.compile(rb's="(\d+)"')
_ANY_STYLE = re.compile(rb'style="(\d+)"')


def _top(values: Iterable[bytes]) -> int:
    return max(map(int, values), default=-1)


def styles_in_use(pkg: Package, sheet_parts: Iterable[str], below: int | None = None) -> int:
    """Highest cell-format index any worksheet uses (cells, rows, columns); -1 when none.

    With ``below``, a sheet whose every ``s="…"``/``style="…"`` anywhere in its bytes is under ``below``
    is not scanned tag by tag: the answer is then only known to be under ``below`` (enough for a caller
    that asks whether any format from ``below`` on is still in use)."""
    top = -1
    for part in sheet_parts:
        data = pkg.get(part) or b""
        if below is not None:
            bound = max(_top(_ANY_S.findall(data)), _top(_ANY_STYLE.findall(data)))
            if bound < below:
                top = max(top, bound)
                continue
        top = max(top, _top(_CELL_STYLE.findall(data)), _top(_COL_STYLE.findall(data)))
    return top


def trim_styles(pkg: Package, undo: StylesUndo, sheet_parts: list[str]) -> bool:
    """Take our added fills/formats out again when nothing uses them any more."""
    part = undo.part
    data = pkg.get(part)
    if data is None or (not undo.added_fills and not undo.added_xfs):
        return False
    try:
        fills = locate_section(data, "fills", part)
        xfs = locate_section(data, "cellXfs", part)
    except Unpatchable:
        return False
    added_fills = [s.encode() for s in undo.added_fills]
    added_xfs = [s.encode() for s in undo.added_xfs]
    cur_fills = [data[e.start : e.end] for e in fills.children]
    cur_xfs = [data[e.start : e.end] for e in xfs.children]
    if (
        len(cur_fills) != undo.fills_n + len(added_fills)
        or len(cur_xfs) != undo.xfs_n + len(added_xfs)
        or cur_fills[undo.fills_n :] != added_fills
        or cur_xfs[undo.xfs_n :] != added_xfs
        or styles_in_use(pkg, sheet_parts, below=undo.xfs_n) >= undo.xfs_n
    ):
        return False
    edits = []
    for (o_start, o_end, close, children), n, tag in (
        (fills, undo.fills_n, undo.fills_tag),
        (xfs, undo.xfs_n, undo.xfs_tag),
    ):
        if len(children) > n:
            edits.append((o_start, o_end, tag.encode()))
            edits.append((children[n].start, close, b""))
    pkg.set(part, apply_edits(data, edits))
    return True


def formats_count(pkg: Package, part: str) -> int:
    """How many cell formats (``<xf>`` of ``<cellXfs>``) the styles part holds now; 0 when unreadable."""
    data = pkg.get(part)
    if data is None:
        return 0
    try:
        return len(locate_section(data, "cellXfs", part).children)
    except Unpatchable:
        return 0
