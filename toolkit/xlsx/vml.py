"""The ledger sheet's legacy drawing (xl/drawings/vmlDrawingN.vml): the hidden box of each note.

Excel shows a note only when the drawing has a shape for its cell. VML is not strict XML (Excel writes
it loosely), so shapes are appended before ``</xml>`` and removed by their cell, never parsed as a tree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.errors import UnsafeFileError
from toolkit.guard import EXCEL_MAX_COL, EXCEL_MAX_ROW
from toolkit.model import column_letter
from toolkit.xlsx.package import CT_VML, RT_VML, AddedRel, Package, Rel, add_part
from toolkit.xlsx.plan import CellMark
from toolkit.xlsx.xmlbytes import Unpatchable


@dataclass(frozen=True)
class VmlUndo:
    """What adding note shapes did to the drawing."""

    part: str | None = None  # None: no shapes were added
    created_part: str | None = None  # the drawing, when we created it
    shapetype_added: bool = False  # the note shape type, when we added it to the user's drawing

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.created_part:
            out["created_part"] = self.created_part
        if self.shapetype_added:
            out["shapetype_added"] = True
        if self.part:
            out["part"] = self.part
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> VmlUndo:
        return cls(d.get("part"), d.get("created_part"), bool(d.get("shapetype_added")))


@dataclass(frozen=True)
class ShapesAdded:
    undo: VmlUndo
    rel: AddedRel | None  # the sheet's relationship to a drawing we created
    content_type: str | None  # its content-type override


VML_SHAPE_RE = re.compile(
    rb"<([\w.-]+):shape\b(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*(?:/>|>.*?</\1:shape>)", re.S
)
VML_NAMESPACES = (
    ("v", "urn:schemas-microsoft-com:vml"),
    ("o", "urn:schemas-microsoft-com:office:office"),
    ("x", "urn:schemas-microsoft-com:office:excel"),
)
VML_NS_DECL = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in VML_NAMESPACES)
IDMAP_RE = re.compile(rb"<o:idmap\b[^>]*\bdata=\"([\d,\s]*)\"")
SHAPETYPE_202 = (
    f'<v:shapetype {VML_NS_DECL} id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)


def vml_shape(shape_id: int, row: int, col: int, declare: bool = True) -> bytes:
    """A hidden note box for the cell at 1-based (row, col), as Excel writes one. ``declare`` adds the
    v/o/x namespace declarations, needed when the drawing's root does not bind those prefixes."""
    r0, c0 = row - 1, col - 1
    top = min(max(r0 - 1, 0), EXCEL_MAX_ROW - 5)
    left = min(c0 + 1, EXCEL_MAX_COL - 3)
    anchor = f"{left}, 15, {top}, 10, {left + 2}, 15, {top + 4}, 4"
    return (
        f'<v:shape {VML_NS_DECL if declare else ""} id="_x0000_s{shape_id}" type="#_x0000_t202" '
        'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:180pt;height:80pt;z-index:1;'
        'visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
        '<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
        '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
        '<div style="text-align:left"></div></v:textbox>'
        '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
        f"<x:Anchor>{anchor}</x:Anchor><x:AutoFill>False</x:AutoFill>"
        f"<x:Row>{r0}</x:Row><x:Column>{c0}</x:Column></x:ClientData></v:shape>"
    ).encode()


def new_vml(idmap: int) -> bytes:
    return (
        f"<xml {VML_NS_DECL}>\n"
        f' <o:shapelayout v:ext="edit">\n  <o:idmap v:ext="edit" data="{idmap}"/>\n </o:shapelayout>'
        f"{SHAPETYPE_202}</xml>\n"
    ).encode()


def _idmaps(data: bytes) -> list[int]:
    """The shape-id blocks a drawing claims (``<o:idmap data="1,2">``; its shape ids are block * 1024 + n)."""
    return [int(x) for m in IDMAP_RE.finditer(data) for x in re.findall(rb"\d+", m.group(1))]


def _used_idmaps(pkg: Package) -> set[int]:
    return {i for name in pkg.names() if name.lower().endswith(".vml") for i in _idmaps(pkg.get(name) or b"")}


def _shape_cell(raw: bytes) -> tuple[int, int] | None:
    """The cell a note shape belongs to, as (row, column), both 1-based; None for other shapes."""
    if b'ObjectType="Note"' not in raw:
        return None
    r = re.search(rb"<(?:[\w.-]+:)?Row>\s*(\d+)\s*</(?:[\w.-]+:)?Row>", raw)
    c = re.search(rb"<(?:[\w.-]+:)?Column>\s*(\d+)\s*</(?:[\w.-]+:)?Column>", raw)
    return (int(r.group(1)) + 1, int(c.group(1)) + 1) if r and c else None


def add_note_shapes(
    pkg: Package, sheet_part: str, sheet_rels: list[Rel], rel: Rel | None, marks: Sequence[CellMark]
) -> ShapesAdded:
    """Append a hidden note box for each of ``marks`` to the sheet's drawing, created when it has none."""
    created_rel = content_type = None
    if rel is None:
        part, created_rel, content_type = add_part(
            pkg, sheet_part, sheet_rels, "xl/drawings/vmlDrawing{}.vml", RT_VML, CT_VML
        )
        used = _used_idmaps(pkg)
        idmap = next(i for i in range(1, 10_000) if i not in used)
        data = new_vml(idmap)
        next_id = idmap * 1024 + 1
    else:
        part = rel.target
        data = pkg.require(part)
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            raise UnsafeFileError("台账工作表的绘图部件含有 DTD 声明，疑似恶意文件，已停止处理。")
        ids = [int(x) for x in re.findall(rb"_x0000_s(\d+)", data)]
        next_id = max([*ids, min(_idmaps(data), default=1) * 1024]) + 1
    if data.rfind(b"</xml>") < 0:
        raise Unpatchable("台账工作表的绘图部件写法无法识别")
    added = b""
    shapetype_added = False
    if not re.search(rb"<(?:[\w.-]+:)?shapetype\b[^>]*\bid=\"_x0000_t202\"", data):
        added += SHAPETYPE_202.encode()
        shapetype_added = True
    root_tag = data[: data.find(b">") + 1]
    declared = all(f'xmlns:{p}="{u}"'.encode() in root_tag for p, u in VML_NAMESPACES)
    added += b"".join(vml_shape(next_id + i, m.row, m.col, declare=not declared) for i, m in enumerate(marks))
    end = data.rfind(b"</xml>")
    pkg.set(part, data[:end] + added + data[end:])
    undo = VmlUndo(part, part if rel is None else None, shapetype_added)
    return ShapesAdded(undo, created_rel, content_type)


def remove_note_shapes(pkg: Package, part: str, refs: set[str], undo: VmlUndo) -> int:
    """Take out the note shapes of ``refs`` (and the shape type we added); returns the shapes remaining."""

    def drop(m: re.Match) -> bytes:
        cell = _shape_cell(m.group(0))
        if cell is not None and f"{column_letter(cell[1] - 1)}{cell[0]}" in refs:
            return b""
        return m.group(0)

    data = VML_SHAPE_RE.sub(drop, pkg.require(part))
    remaining = len(VML_SHAPE_RE.findall(data))
    if undo.shapetype_added:
        data = data.replace(SHAPETYPE_202.encode(), b"", 1)
    pkg.set(part, data)
    return remaining
