"""Notes on the ledger sheet: a note is a comment (comments.py) plus its box in the sheet's legacy
drawing (vml.py), which the sheet links with ``<legacyDrawing>``. This module writes and clears the
three together and keeps their undo record (stored as "comments" in the marks record)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from toolkit.xlsx.comments import add_comments, remove_comments, user_comment_refs
from toolkit.xlsx.package import (
    REL_EL_RE,
    REL_NS,
    RT_COMMENTS,
    RT_VML,
    AddedRel,
    Package,
    Rel,
    internal_rel,
    read_rels,
    rels_name,
    remove_part,
)
from toolkit.xlsx.plan import CellMark
from toolkit.xlsx.sheetscan import WORKSHEET_TAIL_ORDER, SheetScan, insert_at
from toolkit.xlsx.vml import VmlUndo, add_note_shapes, remove_note_shapes
from toolkit.xlsx.xmlbytes import Edit, TopElement, Unpatchable


@dataclass(frozen=True)
class NotesUndo:
    """What writing our notes did: the cells noted, the parts and elements added."""

    refs: tuple[str, ...] = ()  # the cells that got a note of ours
    created_part: str | None = None  # the comments part, when we created it
    rels: tuple[AddedRel, ...] = ()  # relationships we added (kept for the record; undo finds them by type)
    author_added: str | None = None  # our <author>, when we added it
    legacy: str | None = None  # the <legacyDrawing> element, when we added it to the sheet
    vml: VmlUndo = field(default_factory=VmlUndo)
    rels_created: bool | None = None  # we created the sheet's .rels part; None: no notes were written
    content_types: tuple[str, ...] = ()  # overrides we added (kept for the record)
    part: str | None = None  # the comments part written to
    author_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The record's "comments" entry, its keys in the order version 1 has always written them."""
        out: dict[str, Any] = {
            "refs": list(self.refs),
            "created_part": self.created_part,
            "rels": [r.to_json() for r in self.rels],
            "author_added": self.author_added,
            "legacy": self.legacy,
            "vml": self.vml.to_json(),
        }
        if self.rels_created is None:
            return out
        out["rels_created"] = self.rels_created
        if self.created_part:  # "ct" was first written with a comments part we created…
            out["ct"] = list(self.content_types)
        out["part"] = self.part
        out["author_id"] = self.author_id
        if not self.created_part and self.content_types:  # …else with a drawing we created
            out["ct"] = list(self.content_types)
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> NotesUndo:
        """What undoing needs (``rels`` and ``ct`` are not: the parts are found by relationship type)."""
        return cls(
            refs=tuple(d.get("refs") or ()),
            created_part=d.get("created_part"),
            author_added=d.get("author_added"),
            legacy=d.get("legacy"),
            vml=VmlUndo.from_json(d.get("vml") or {}),
            rels_created=d.get("rels_created"),
            part=d.get("part"),
            author_id=d.get("author_id"),
        )


@dataclass
class NotesWritten:
    undo: NotesUndo
    sheet_edits: list[Edit] = field(default_factory=list)  # the <legacyDrawing> link, when added
    notes: int = 0  # notes added
    skipped: int = 0  # marked cells that hold a user's note: fill only


def _legacy_element(scan: SheetScan) -> TopElement | None:
    return next((e for e in scan.tail if e.name.split(":")[-1] == "legacyDrawing"), None)


def write_notes(
    pkg: Package, sheet_part: str, sheet_rels: list[Rel], scan: SheetScan, marks: Iterable[CellMark]
) -> NotesWritten:
    """A note on each marked cell that has messages and no note of the user's."""
    marks = list(marks)
    comments_rel = internal_rel(sheet_rels, RT_COMMENTS)
    vml_rel = internal_rel(sheet_rels, RT_VML)
    legacy = _legacy_element(scan)
    user_noted: set[str] = set()
    if comments_rel is not None:
        user_noted = user_comment_refs(pkg, comments_rel)
        if vml_rel is None or legacy is None:
            raise Unpatchable("台账工作表的批注缺少对应的绘图部件")
    to_note = [m for m in marks if m.ref not in user_noted and m.messages]
    skipped = sum(1 for m in marks if m.ref in user_noted)
    if legacy is not None and vml_rel is None:
        raise Unpatchable("台账工作表的绘图部件缺失")
    if legacy is None and vml_rel is not None:  # a drawing part the sheet does not show: not ours to guess
        raise Unpatchable("台账工作表的绘图部件未被引用")
    if not to_note:
        return NotesWritten(NotesUndo(), skipped=skipped)
    rels_created = not pkg.has(rels_name(sheet_part))
    in_order = sorted(to_note, key=lambda m: (m.row, m.col))
    comments = add_comments(pkg, sheet_part, sheet_rels, comments_rel, in_order)
    shapes = add_note_shapes(pkg, sheet_part, read_rels(pkg, sheet_part), vml_rel, in_order)
    added_rels = tuple(r for r in (comments.rel, shapes.rel) if r is not None)
    edits: list[Edit] = []
    legacy_el = None
    if legacy is None:  # then the drawing is new too (checked above): link the sheet to it
        el = _legacy_drawing_xml(scan, shapes.rel.id)
        for e in scan.tail:
            if e.name.split(":")[-1] not in WORKSHEET_TAIL_ORDER and e.name != "mc:AlternateContent":
                raise Unpatchable(f"台账工作表含有无法识别的部分“{e.name}”")
        at = insert_at(scan, "legacyDrawing")
        edits.append((at, at, el))
        legacy_el = el.decode()
    undo = NotesUndo(
        refs=tuple(m.ref for m in to_note),
        created_part=comments.created_part,
        rels=added_rels,
        author_added=comments.author_added,
        legacy=legacy_el,
        vml=shapes.undo,
        rels_created=rels_created,
        content_types=tuple(c for c in (comments.content_type, shapes.content_type) if c is not None),
        part=comments.part,
        author_id=comments.author_id,
    )
    return NotesWritten(undo, edits, len(to_note), skipped)


def _legacy_drawing_xml(scan: SheetScan, rel_id: str) -> bytes:
    if scan.r_prefix:
        return f'<legacyDrawing {scan.r_prefix}:id="{rel_id}"/>'.encode()
    return f'<legacyDrawing xmlns:r="{REL_NS}" r:id="{rel_id}"/>'.encode()


def clear_notes(pkg: Package, sheet_part: str, undo: NotesUndo) -> tuple[int, bool]:
    """Remove our notes and their shapes, and the parts we created when they are empty again.
    Returns (notes removed, whether the sheet's <legacyDrawing> we added must go too)."""
    refs = set(undo.refs)
    if not refs:
        return 0, False
    rels = read_rels(pkg, sheet_part)
    comments_rel = internal_rel(rels, RT_COMMENTS)
    vml_rel = internal_rel(rels, RT_VML)
    removed = 0
    if comments_rel is not None and pkg.has(comments_rel.target):
        removed, remaining = remove_comments(pkg, comments_rel.target, refs, undo.author_added)
        if _ours(undo.created_part, comments_rel.target) and remaining == 0:
            remove_part(pkg, sheet_part, comments_rel.id, comments_rel.target)
    if vml_rel is not None and pkg.has(vml_rel.target):
        remaining = remove_note_shapes(pkg, vml_rel.target, refs, undo.vml)
        if _ours(undo.vml.created_part, vml_rel.target) and remaining == 0:
            remove_part(pkg, sheet_part, vml_rel.id, vml_rel.target)
    data = pkg.get(rels_name(sheet_part))
    if undo.rels_created and data is not None and not REL_EL_RE.search(data):
        pkg.delete(rels_name(sheet_part))  # we created it, and it is empty again
    gone = undo.legacy is not None and not any(r.type == RT_VML for r in read_rels(pkg, sheet_part))
    return removed, gone


def _ours(created: str | None, part: str) -> bool:
    return bool(created) and created.lower() == part.lower()


def unlink_drawing_edits(scan: SheetScan, undo: NotesUndo) -> list[Edit]:
    """The sheet edit that takes out the <legacyDrawing> we added."""
    if not undo.legacy:
        return []
    raw = undo.legacy.encode()
    return [(e.start, e.end, b"") for e in scan.tail if scan.data[e.start : e.end] == raw]
