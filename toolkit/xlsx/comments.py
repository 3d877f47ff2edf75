"""The ledger sheet's comments part (xl/commentsN.xml): our notes added, by author 整改台账工具箱, and
taken out again. The user's own notes are never touched; a cell that has one gets a fill only."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from toolkit.xlsx.package import CT_COMMENTS, MAIN_NS, RT_COMMENTS, AddedRel, Package, Rel, add_part
from toolkit.xlsx.plan import AUTHOR, CellMark
from toolkit.xlsx.xmlbytes import Unpatchable, attrs_of, parse_xml, refuse_markup_we_cannot_scan, xml_text

COMMENT_EL_RE = re.compile(
    rb"<comment\b((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(?:/>|>.*?</comment>)", re.S
)
AUTHOR_EL_RE = re.compile(rb"<author>(.*?)</author>|<author\s*/>", re.S)
EMPTY_COMMENTS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<comments xmlns="{MAIN_NS}"><authors></authors><commentList></commentList></comments>'
).encode()


@dataclass(frozen=True)
class CommentsAdded:
    """What adding our notes did to the comments part."""

    part: str
    author_id: int
    created_part: str | None  # the part, when we created it
    author_added: str | None  # our <author> element, when we added it
    rel: AddedRel | None  # the sheet's relationship to a part we created
    content_type: str | None  # its content-type override


def user_comment_refs(pkg: Package, rel: Rel) -> set[str]:
    """The cells that hold a note already, after proving the part is one we can patch by bytes."""
    data = pkg.require(rel.target)
    refuse_markup_we_cannot_scan(data, rel.target)
    root = parse_xml(data, rel.target)
    if root.tag != f"{{{MAIN_NS}}}comments":
        raise Unpatchable("台账工作表的批注部件无法识别")
    authors = [a.text or "" for a in root.iterfind(f"{{{MAIN_NS}}}authors/{{{MAIN_NS}}}author")]
    if any(a.startswith("tc=") for a in authors):
        raise Unpatchable("台账工作表含有新版“批注（线程）”")
    refs = {c.get("ref") for c in root.iterfind(f".//{{{MAIN_NS}}}comment")}
    if len(COMMENT_EL_RE.findall(data)) != len(refs) or len(AUTHOR_EL_RE.findall(data)) != len(authors):
        raise Unpatchable("台账工作表的批注部件写法无法安全修改")
    return refs


def _author_names(data: bytes) -> list[str]:
    """The <author> names of a comments part by bytes, in order: a note's ``authorId`` indexes them."""
    return [(m.group(1) or b"").decode() for m in AUTHOR_EL_RE.finditer(data)]


def comment_xml(ref: str, author_id: int, messages: list[str]) -> bytes:
    """A note in the form Excel writes it: a bold author line, then the message(s)."""
    text = "\n".join(f"{i}. {m}" if len(messages) > 1 else m for i, m in enumerate(messages, 1))
    return (
        f'<comment ref="{ref}" authorId="{author_id}"><text>'
        f'<r><rPr><b/><sz val="9"/></rPr><t>{AUTHOR}:</t></r>'
        f'<r><rPr><sz val="9"/></rPr><t xml:space="preserve">\n{xml_text(text, 30000)}</t></r>'
        "</text></comment>"
    ).encode()


def add_comments(
    pkg: Package, sheet_part: str, sheet_rels: list[Rel], rel: Rel | None, marks: Sequence[CellMark]
) -> CommentsAdded:
    """Append a note for each of ``marks`` (in sheet order) to the sheet's comments part, created when
    the sheet has none."""
    created_rel = content_type = None
    if rel is None:
        part, created_rel, content_type = add_part(
            pkg, sheet_part, sheet_rels, "xl/comments{}.xml", RT_COMMENTS, CT_COMMENTS
        )
        data = EMPTY_COMMENTS
        author_names: list[str] = []
    else:
        part = rel.target
        data = pkg.require(part)
        author_names = _author_names(data)
    author_added = None
    if AUTHOR in author_names:
        author_id = author_names.index(AUTHOR)
    else:
        end = data.find(b"</authors>")
        if end < 0:
            raise Unpatchable("台账工作表的批注部件写法无法安全修改")
        el = f"<author>{AUTHOR}</author>".encode()
        data = data[:end] + el + data[end:]
        author_id = len(author_names)
        author_added = el.decode()
    end = data.rfind(b"</commentList>")
    if end < 0:
        raise Unpatchable("台账工作表的批注部件写法无法安全修改")
    body = b"".join(comment_xml(m.ref, author_id, m.messages) for m in marks)
    data = data[:end] + body + data[end:]
    parse_xml(data, part)  # still well-formed
    pkg.set(part, data)
    return CommentsAdded(
        part, author_id, part if rel is None else None, author_added, created_rel, content_type
    )


def remove_comments(pkg: Package, part: str, refs: set[str], author_added: str | None) -> tuple[int, int]:
    """Take out our notes on ``refs`` (and our <author>, when we added it and no note of ours stays).
    Returns (notes removed, notes remaining)."""
    data = pkg.require(part)
    authors = _author_names(data)
    if AUTHOR not in authors:
        return 0, 1  # none of ours; what remains is not counted
    aid = str(authors.index(AUTHOR))
    pieces, pos, removed, remaining, ours_kept = [], 0, 0, 0, False
    for m in COMMENT_EL_RE.finditer(data):  # one pass: what re.sub would drop, and what stays
        a = attrs_of(m.group(1))
        if a.get("authorId") == aid and a.get("ref") in refs:
            removed += 1
            pieces.append(data[pos : m.start()])
            pos = m.end()
        else:
            remaining += 1
            ours_kept = ours_kept or a.get("authorId") == aid
    pieces.append(data[pos:])
    data = b"".join(pieces)
    if author_added and not ours_kept:
        el = author_added.encode()
        if data.count(el) == 1 and int(aid) == len(authors) - 1:
            data = data.replace(el, b"", 1)
    pkg.set(part, data)
    return removed, remaining
