"""The 校验结果 sheet: one row per finding, written as a new worksheet part, recognised again by what it
shows, and removed only when it is provably the one we wrote, unchanged."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.layout import SEVERITY_LABELS
from toolkit.model import column_letter
from toolkit.xlsx.package import (
    CT_WORKSHEET,
    MAIN_NS,
    REL_NS,
    RT_WORKSHEET,
    Package,
    add_part,
    rels_name,
    remove_part,
)
from toolkit.xlsx.workbookpart import SheetRef, Workbook, add_sheet_entry, open_workbook, remove_sheet_entry
from toolkit.xlsx.xmlbytes import parse_xml, xml_attr, xml_text


@dataclass(frozen=True)
class ResultUndo:
    """The result sheet we added: its part, relationship, content type, <sheet> entry and content."""

    part: str | None = None
    rel: str | None = None  # the workbook relationship element
    rid: str | None = None
    ct: str | None = None  # the content-type override element
    sheet_el: str | None = None  # the <sheet> element in workbook.xml
    sheet_id: str | None = None
    fingerprint: str | None = None  # ``sheet_fingerprint`` of what we wrote

    def to_json(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "rel": self.rel,
            "rid": self.rid,
            "ct": self.ct,
            "sheet_el": self.sheet_el,
            "sheet_id": self.sheet_id,
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ResultUndo:
        return cls(*(d.get(k) for k in ("part", "rel", "rid", "ct", "sheet_el", "sheet_id", "fingerprint")))


RESULT_HEADERS = ("序号", "级别", "位置", "字段", "问题说明", "单元格内容", "问题代码")
RESULT_NOTE = (
    "说明：本表由校验自动生成，重新校验或清除标记时整表替换；请不要在本表中填写内容"
    "（改动过的本表会被保留，不再自动删除）。"
)


def result_sheet_xml(
    findings: list,
    ledger_sheet: str,
    xf_for: dict[str, int],
    truncated: int,
    field_labels: dict[str, str],
    notes: Sequence[str] = (),
) -> bytes:
    """One row per finding; the 位置 cell links to the cell in the ledger. Text is inline, never a formula."""
    widths = [6, 6, 8, 12, 60, 30, 24]

    def text_cell(ref: str, value: str, s: int | None = None) -> str:
        style = f' s="{s}"' if s else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{xml_text(value)}</t></is></c>'

    rows = [
        '<row r="1">'
        + "".join(text_cell(f"{column_letter(i)}1", h) for i, h in enumerate(RESULT_HEADERS))
        + "</row>"
    ]
    links = []
    quoted = "'" + ledger_sheet.replace("'", "''") + "'"
    r = 1
    for n, f in enumerate(findings, 1):
        r += 1
        where = f"{f.column or ''}{f.row or ''}"
        label = field_labels.get(f.field or "", f.field or "")
        cells = [
            f'<c r="A{r}"><v>{n}</v></c>',
            text_cell(f"B{r}", SEVERITY_LABELS.get(f.severity, f.severity), xf_for.get(f.severity)),
            text_cell(f"C{r}", where or "—"),
            text_cell(f"D{r}", label),
            text_cell(f"E{r}", f.message or ""),
            text_cell(f"F{r}", "" if f.value is None else str(f.value)),
            text_cell(f"G{r}", f.code or ""),
        ]
        rows.append(f'<row r="{r}">' + "".join(cells) + "</row>")
        if f.row and f.column and re.fullmatch(r"[A-Za-z]{1,3}", str(f.column)):
            loc = xml_attr(f"{quoted}!{str(f.column).upper()}{int(f.row)}")
            links.append(f'<hyperlink ref="C{r}" location="{loc}" display="{xml_attr(where)}"/>')
    if not findings:
        r += 1
        rows.append(f'<row r="{r}">' + text_cell(f"E{r}", "未发现问题。") + "</row>")
    if truncated:
        r += 1
        rows.append(f'<row r="{r}">' + text_cell(f"E{r}", f"另有 {truncated} 条问题未列出。") + "</row>")
    for note in [n for n in notes if n] + [RESULT_NOTE]:
        r += 1
        rows.append(f'<row r="{r}">' + text_cell(f"E{r}", note) + "</row>")
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        f'<dimension ref="A1:G{r}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols>"
        f"<sheetData>{''.join(rows)}</sheetData>"
        + (f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else "")
        + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    ).encode()


def sheet_fingerprint(pkg: Package, part: str) -> str:
    """A digest of what a sheet shows (each cell's reference and text), not of its bytes: a save by
    Excel or WPS rewrites the XML (inline strings become shared ones) but keeps the fingerprint, while
    a sheet a user made or typed into has another one."""
    data = pkg.get(part)
    if data is None:
        return ""
    root = parse_xml(data, part)
    c_tag, t_tag, v_tag = f"{{{MAIN_NS}}}c", f"{{{MAIN_NS}}}t", f"{{{MAIN_NS}}}v"
    shared: list[str] | None = None
    pieces: list[str] = []  # hashed at once: the same digest as one update per cell, for less work
    for c in root.iter(c_tag):
        kind = c.get("t")
        if kind == "inlineStr":
            text = "".join([t.text or "" for t in c.iter(t_tag)])
        else:
            text = c.findtext(v_tag) or ""  # the first <v> child's text; "" when it has none
            if kind == "s":
                if shared is None:
                    shared = _shared_strings(pkg)
                index = int(text) if text.isdigit() else -1
                text = shared[index] if 0 <= index < len(shared) else "\x00"
        pieces.append(f"{c.get('r')}\x1f{text}\x1e")
    return hashlib.sha256("".join(pieces).encode()).hexdigest()


def _shared_strings(pkg: Package) -> list[str]:
    wb = open_workbook(pkg)
    rel = next((r for r in wb.rels if r.type.endswith("/sharedStrings") and not r.external), None)
    data = pkg.get(rel.target) if rel is not None else None
    if data is None:
        return []
    ns = f"{{{MAIN_NS}}}"
    root = parse_xml(data, rel.target)
    return [
        "".join(t.text or "" for t in si.iter(f"{ns}t") if t.getparent().tag != f"{ns}rPh") for si in root
    ]


def is_our_result_sheet(pkg: Package, sheet: SheetRef, undo: ResultUndo) -> bool:
    """The sheet named in the record is the one we wrote: same part, same sheetId, same content."""
    return bool(
        undo.part
        and undo.sheet_id
        and undo.fingerprint
        and sheet.rel_type == RT_WORKSHEET
        and sheet.part.lower() == undo.part.lower()
        and sheet.sheet_id == undo.sheet_id
        and sheet_fingerprint(pkg, sheet.part) == undo.fingerprint
    )


def add_result_sheet(pkg: Package, wb: Workbook, name: str, xml: bytes) -> ResultUndo:
    """Add the worksheet ``xml`` as the last sheet, called ``name``."""
    part, rel, ct = add_part(pkg, wb.part, wb.rels, "xl/worksheets/sheet{}.xml", RT_WORKSHEET, CT_WORKSHEET)
    pkg.set(part, xml)
    el, sheet_id = add_sheet_entry(pkg, wb, name, rel.id)
    return ResultUndo(part, rel.raw, rel.id, ct, el.decode(), sheet_id, sheet_fingerprint(pkg, part))


def remove_result_sheet(pkg: Package, wb: Workbook, sheet: SheetRef) -> None:
    """Take the sheet out: its entry and scoped names, relationship, content type, part and its rels."""
    remove_sheet_entry(pkg, wb, sheet)
    remove_part(pkg, wb.part, sheet.rel_id, sheet.part)
    pkg.delete(rels_name(sheet.part))
