"""Our record of the marks, kept in the workbook itself as a custom XML part (Excel keeps these on save).

The record lists every change marking made (each part patch's undo record), so that a re-run first
undoes the previous marks and ``clear`` gives back the user's bytes. Read back, it is untrusted input:
``check_record`` proves its form before anything is undone on its word.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from toolkit.guard import EXCEL_MAX_COL, EXCEL_MAX_ROW
from toolkit.model import column_index
from toolkit.xlsx.cells import CellUndo, RowUndo
from toolkit.xlsx.notes import NotesUndo
from toolkit.xlsx.package import (
    CT_CUSTOM_XML_PROPS,
    CT_XML,
    RT_CUSTOM_XML,
    RT_CUSTOM_XML_PROPS,
    RT_STYLES,
    Package,
    add_override,
    add_rel,
    internal_rel,
    next_rel_id,
    read_rels,
    rels_name,
    remove_override,
    remove_rel,
    unused_name,
)
from toolkit.xlsx.plan import AUTHOR, FILL_RGB
from toolkit.xlsx.resultsheet import ResultUndo
from toolkit.xlsx.styles import StylesUndo, fill_xml, formats_count
from toolkit.xlsx.workbookpart import Workbook
from toolkit.xlsx.xmlbytes import Unpatchable, attrs_of

RECORD_NS = "urn:zhenggai-toolkit:marks:1"
RECORD_VERSION = 1


@dataclass(frozen=True)
class MarksRecord:
    """Everything one marking did, part by part."""

    ledger_sheet: str
    result_sheet: str
    cells: tuple[CellUndo, ...] = ()
    rows: tuple[RowUndo, ...] = ()
    notes: NotesUndo = field(default_factory=NotesUndo)
    sheet_data_tag: tuple[str, str] | None = None  # an empty <sheetData/> we opened: (before, after)
    styles: StylesUndo | None = None
    result: ResultUndo = field(default_factory=ResultUndo)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": RECORD_VERSION,
            "tool": AUTHOR,
            "ledger_sheet": self.ledger_sheet,
            "result_sheet": self.result_sheet,
            "cells": [c.to_json() for c in self.cells],
            "rows": [r.to_json() for r in self.rows],
            "comments": self.notes.to_json(),
        }
        if self.sheet_data_tag is not None:
            out["sheet_data_tag"] = list(self.sheet_data_tag)
        out["styles"] = None if self.styles is None else self.styles.to_json()
        out["result"] = self.result.to_json()
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MarksRecord:
        """A record that passed ``check_record``."""
        tags = d.get("sheet_data_tag")
        return cls(
            d["ledger_sheet"],
            d["result_sheet"],
            tuple(CellUndo.from_json(c) for c in d.get("cells", [])),
            tuple(RowUndo.from_json(r) for r in d.get("rows", [])),
            NotesUndo.from_json(d.get("comments") or {}),
            (tags[0], tags[1]) if tags else None,
            StylesUndo.from_json(d["styles"]) if d.get("styles") else None,
            ResultUndo.from_json(d.get("result") or {}),
        )


def record_xml(record: dict[str, Any]) -> bytes:
    payload = base64.b64encode(json.dumps(record, ensure_ascii=False).encode()).decode()
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<marks xmlns="{RECORD_NS}" version="{RECORD_VERSION}">{payload}</marks>'
    ).encode()


def write_record(pkg: Package, wb: Workbook, record: MarksRecord) -> None:
    """The record as a custom XML part (with its item properties) related from the workbook."""
    wb_rels = read_rels(pkg, wb.part)
    ipart, n = unused_name(pkg, "customXml/item{}.xml")
    ppart = f"customXml/itemProps{n}.xml"
    if pkg.has(ppart) or pkg.has(rels_name(ipart)):
        raise Unpatchable("自定义 XML 部件命名冲突")
    pkg.set(ipart, record_xml(record.to_json()))
    pkg.set(
        ppart,
        (
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            f'<ds:datastoreItem ds:itemID="{{{str(uuid.uuid5(uuid.NAMESPACE_URL, RECORD_NS)).upper()}}}" '
            'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"><ds:schemaRefs/>'
            "</ds:datastoreItem>"
        ).encode(),
    )
    add_rel(pkg, ipart, "rId1", RT_CUSTOM_XML_PROPS, ppart)
    add_rel(pkg, wb.part, next_rel_id(wb_rels), RT_CUSTOM_XML, ipart)
    add_override(pkg, ipart, CT_XML)
    add_override(pkg, ppart, CT_CUSTOM_XML_PROPS)


def remove_record(pkg: Package, wb: Workbook, ipart: str) -> None:
    """The record part, its item properties and their relationships and content types."""
    for rel in read_rels(pkg, wb.part):
        if rel.type == RT_CUSTOM_XML and rel.target.lower() == ipart.lower():
            remove_rel(pkg, wb.part, rel.id)
    for rel in read_rels(pkg, ipart):
        if rel.type == RT_CUSTOM_XML_PROPS:
            remove_override(pkg, rel.target)
            pkg.delete(rel.target)
    remove_override(pkg, ipart)
    pkg.delete(rels_name(ipart))
    pkg.delete(ipart)


class RecordDoubt(Unpatchable):
    """The marks record does not hold up (damaged, or not matching the workbook): nothing is deleted or
    restyled on its word. ``str(exc)`` says what, in Chinese."""


_RECORD_REF = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")
_ROW_TAG = re.compile(r"<row\b[^<>]*>")
_SHEET_DATA_TAG = re.compile(r"<sheetData\b[^<>]*>")
_LEGACY_EL = re.compile(r'<legacyDrawing(?: xmlns:r="[^"<>]*")? [\w.-]+:id="rId\d+"/>')
_FILLS_TAG = re.compile(r"<fills\b[^<>]*>")
_XFS_TAG = re.compile(r"<cellXfs\b[^<>]*>")
_XF_EL = re.compile(r"<xf\b[^<>]*?(?:/>|>(?:<(?:alignment|protection)\b[^<>]*/>)*</xf>)")
_OUR_PART = {
    "comments": re.compile(r"xl/comments\d+\.xml"),
    "vml": re.compile(r"xl/drawings/vmlDrawing\d+\.vml"),
    "result": re.compile(r"xl/worksheets/sheet\d+\.xml"),
}


def _is_int(value: object, low: int = 0, high: int = 1 << 62) -> bool:
    return type(value) is int and low <= value < high  # bool is not a count


def _is_ref(value: object) -> bool:
    m = _RECORD_REF.fullmatch(value) if isinstance(value, str) else None
    return m is not None and column_index(m[1]) < EXCEL_MAX_COL and int(m[2]) <= EXCEL_MAX_ROW


def _doubt(ok: bool, what: str) -> None:
    if not ok:
        raise RecordDoubt(what)


def check_record(record: dict) -> None:
    """Every field of a record read back from a workbook has the type and form ``mark_package`` writes.

    The record is untrusted input (the file may have been damaged or crafted): a value that could make
    ``clear`` delete or restyle anything we did not add is refused here, before anything is touched (and
    before ``MarksRecord.from_json`` reads it).
    """
    damaged = "标记记录已损坏"
    _doubt(
        isinstance(record.get("ledger_sheet"), str) and isinstance(record.get("result_sheet"), str), damaged
    )
    _doubt(record["ledger_sheet"] != record["result_sheet"], "标记记录中的结果表指向台账工作表")
    cells, rows = record.get("cells", []), record.get("rows", [])
    _doubt(isinstance(cells, list) and isinstance(rows, list), damaged)
    for rec in cells:
        _doubt(isinstance(rec, dict) and _is_ref(rec.get("ref")), f"{damaged}（单元格位置）")
        _doubt(rec.get("kind") in ("attr", "inserted_attr", "new_cell"), damaged)
        _doubt(_is_int(rec.get("ours")) and _is_int(rec.get("base")), f"{damaged}（样式编号）")
        _doubt(rec.get("orig") is None or _is_int(rec.get("orig")), f"{damaged}（样式编号）")
    for rr in rows:
        _doubt(isinstance(rr, dict) and _is_int(rr.get("r"), 1, EXCEL_MAX_ROW + 1), f"{damaged}（行号）")
        _doubt(rr.get("kind") in ("new", "expanded"), damaged)
        if rr["kind"] == "expanded":
            orig, open_tag = rr.get("orig_tag"), rr.get("open_tag")
            _doubt(isinstance(orig, str) and isinstance(open_tag, str), damaged)
            _doubt(bool(_ROW_TAG.fullmatch(orig) and _ROW_TAG.fullmatch(open_tag)), damaged)
            _doubt(orig.endswith("/>") and not open_tag.endswith("/>"), damaged)
            _doubt(attrs_of(orig.encode()).get("r") == str(rr["r"]), damaged)
    crec = record.get("comments") or {}
    _doubt(isinstance(crec, dict), damaged)
    refs = crec.get("refs") or []
    _doubt(isinstance(refs, list) and all(_is_ref(r) for r in refs), f"{damaged}（批注位置）")
    _doubt(set(refs) <= {c["ref"] for c in cells}, f"{damaged}（批注位置）")
    _doubt(crec.get("author_added") in (None, f"<author>{AUTHOR}</author>"), damaged)
    legacy = crec.get("legacy")
    _doubt(legacy is None or (isinstance(legacy, str) and bool(_LEGACY_EL.fullmatch(legacy))), damaged)
    vrec = crec.get("vml") or {}
    _doubt(isinstance(vrec, dict), damaged)
    for created, kind in ((crec.get("created_part"), "comments"), (vrec.get("created_part"), "vml")):
        _doubt(
            created is None or (isinstance(created, str) and bool(_OUR_PART[kind].fullmatch(created))),
            damaged,
        )
    tags = record.get("sheet_data_tag")
    if tags is not None:
        _doubt(isinstance(tags, list) and len(tags) == 2 and all(isinstance(t, str) for t in tags), damaged)
        _doubt(bool(_SHEET_DATA_TAG.fullmatch(tags[0]) and _SHEET_DATA_TAG.fullmatch(tags[1])), damaged)
        _doubt(tags[0].endswith("/>") and not tags[1].endswith("/>"), damaged)
    srec = record.get("styles")
    if srec is not None:
        _doubt(isinstance(srec, dict) and isinstance(srec.get("part"), str), f"{damaged}（样式）")
        _doubt(_is_int(srec.get("fills_n")) and _is_int(srec.get("xfs_n")), f"{damaged}（样式）")
        fills, xfs = srec.get("added_fills"), srec.get("added_xfs")
        _doubt(isinstance(fills, list) and isinstance(xfs, list), f"{damaged}（样式）")
        ours = {fill_xml(rgb).decode() for rgb in FILL_RGB.values()}
        _doubt(all(f in ours for f in fills), f"{damaged}（样式）")
        _doubt(all(isinstance(x, str) and _XF_EL.fullmatch(x) for x in xfs), f"{damaged}（样式）")
        for key, pattern in (("fills_tag", _FILLS_TAG), ("xfs_tag", _XFS_TAG)):
            _doubt(
                isinstance(srec.get(key), str) and bool(pattern.fullmatch(srec[key])), f"{damaged}（样式）"
            )
        top = srec["xfs_n"] + len(xfs)
        for rec in cells:
            _doubt(rec["ours"] < top and rec["base"] < max(srec["xfs_n"], 1), f"{damaged}（样式编号）")
            _doubt(rec["orig"] is None or rec["orig"] < srec["xfs_n"], f"{damaged}（样式编号）")
    else:
        _doubt(not cells, f"{damaged}（样式）")
    rrec = record.get("result") or {}
    _doubt(isinstance(rrec, dict), damaged)
    for key in ("part", "rid", "sheet_el", "sheet_id", "fingerprint"):
        _doubt(rrec.get(key) is None or isinstance(rrec[key], str), damaged)
    _doubt(rrec.get("part") is None or bool(_OUR_PART["result"].fullmatch(rrec["part"])), damaged)


def check_styles_still_fit(pkg: Package, wb: Workbook, record: MarksRecord) -> None:
    """The formats the record would give back exist in the styles table as it is now."""
    undo = record.styles
    if undo is None:
        return
    styles_rel = internal_rel(wb.rels, RT_STYLES)
    if not (styles_rel and styles_rel.target.lower() == undo.part.lower() and pkg.has(undo.part)):
        raise RecordDoubt("标记记录与工作簿的样式部件不符")
    if undo.xfs_n > formats_count(pkg, undo.part):
        raise RecordDoubt("标记记录中的单元格格式超出了工作簿的样式表")


def find_record(pkg: Package) -> tuple[str, dict] | None:
    """The custom XML part holding our record of earlier marks, if any."""
    for name in pkg.names():
        if re.fullmatch(r"customXml/item\d+\.xml", name, re.I):
            data = pkg.get(name) or b""
            if RECORD_NS.encode() not in data[:400]:
                continue
            m = re.search(rb">([A-Za-z0-9+/=\s]*)</marks>", data)
            if not m:
                continue
            try:
                record = json.loads(base64.b64decode(m.group(1)))
            except (ValueError, RecursionError):
                continue
            if isinstance(record, dict) and record.get("version") == RECORD_VERSION:
                return name, record
    return None
