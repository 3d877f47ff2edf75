"""The workbook part (xl/workbook.xml): its sheet list and the names scoped to a sheet.

Sheets are added and removed as exact byte edits of the ``<sheets>`` list, the defined names and the
active tab, so that the rest of the part keeps its bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.xlsx.package import (
    MAIN_NS,
    REL_NS,
    RT_WORKSHEET,
    STRICT_MAIN_NS,
    Package,
    Rel,
    check_content_types,
    read_rels,
)
from toolkit.xlsx.xmlbytes import Unpatchable, attrs_of, parse_xml, refuse_markup_we_cannot_scan, xml_attr


def ns_of(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


@dataclass
class SheetRef:
    name: str
    sheet_id: str
    rel_id: str
    part: str  # resolved part name ('' when the relationship is missing)
    rel_type: str
    raw: bytes  # exact bytes of the <sheet/> element


@dataclass
class Workbook:
    part: str
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
    if ns_of(root.tag) == STRICT_MAIN_NS:
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
            )
        )
    prefix = next((p for p, u in root.nsmap.items() if u == REL_NS and p), None)
    return Workbook(part, sheets, rels, prefix)


def worksheet(wb: Workbook, name: str) -> SheetRef:
    """The plain worksheet called ``name`` (not a chart sheet, not a dangling entry)."""
    for ref in wb.sheets:
        if ref.name == name:
            if ref.rel_type != RT_WORKSHEET or not ref.part:
                raise Unpatchable(f"“{name}”不是普通工作表")
            return ref
    raise Unpatchable(f"工作簿中找不到工作表“{name}”")


def free_sheet_name(wb: Workbook, wanted: str) -> str:
    """``wanted``, or ``wanted (2)``, ``(3)``… when a sheet of that name (any case) exists."""
    taken = {s.name.lower() for s in wb.sheets}
    name, n = wanted, 2
    while name.lower() in taken:
        name, n = f"{wanted} ({n})", n + 1
    return name


def add_sheet_entry(pkg: Package, wb: Workbook, name: str, rel_id: str) -> tuple[bytes, str]:
    """Append ``<sheet>`` for a new sheet related by ``rel_id``; return its exact bytes and its sheetId."""
    data = pkg.require(wb.part)
    sheet_id = 1 + max((int(s.sheet_id) for s in wb.sheets if s.sheet_id.isdigit()), default=0)
    if wb.r_prefix:
        el = f'<sheet name="{xml_attr(name)}" sheetId="{sheet_id}" {wb.r_prefix}:id="{rel_id}"/>'.encode()
    else:
        el = f'<sheet name="{xml_attr(name)}" sheetId="{sheet_id}" xmlns:r="{REL_NS}" r:id="{rel_id}"/>'.encode()
    end = data.find(b"</sheets>")
    if end < 0:
        raise Unpatchable("工作簿的工作表列表写法无法安全修改")
    pkg.set(wb.part, data[:end] + el + data[end:])
    return el, str(sheet_id)


def remove_sheet_entry(pkg: Package, wb: Workbook, sheet: SheetRef) -> None:
    """Take ``<sheet>`` out of the list, with the names scoped to it; later sheet indexes move down."""
    data = pkg.require(wb.part)
    index = wb.sheets.index(sheet)
    data = data.replace(sheet.raw, b"", 1)
    data = _renumber_local_sheets(data, index)
    data = _fix_active_tab(data, index)
    pkg.set(wb.part, data)


def _renumber_local_sheets(wdata: bytes, removed: int) -> bytes:
    """Names scoped to the removed sheet go (e.g. print titles set on it); later ones move down by one."""
    wdata = re.sub(
        rb'<definedName\b[^>]*?\slocalSheetId="'
        + str(removed).encode()
        + rb'"[^>]*?(?:/>|>.*?</definedName>)',
        b"",
        wdata,
        flags=re.S,
    )

    def fix(m: re.Match) -> bytes:
        n = int(m.group(2))
        return m.group(1) + str(n - 1 if n > removed else n).encode() + m.group(3)

    return re.sub(rb"(\slocalSheetId=\")(\d+)(\")", fix, wdata)


def _fix_active_tab(wdata: bytes, removed: int) -> bytes:
    def fix(m: re.Match) -> bytes:
        n = int(m.group(2))
        if n >= removed and n > 0:
            n -= 1
        return m.group(1) + str(n).encode() + m.group(3)

    return re.sub(rb"(\s(?:activeTab|firstSheet)=\")(\d+)(\")", fix, wdata)
