"""Low-level WordprocessingML helpers: fonts, spacing, sections, footers, tables.

python-docx covers the common properties but not the ones GB/T 9704 needs (East Asian fonts on
``w:rFonts/@w:eastAsia``, indents in characters, exact line pitch, odd/even footers with a PAGE
field). Everything that touches raw XML lives here so the template code above reads as layout.
"""

from __future__ import annotations

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

# GB/T 9704-2012 numbers
PAGE_WIDTH = Mm(210)
PAGE_HEIGHT = Mm(297)
MARGIN_TOP = Mm(37)
MARGIN_BOTTOM = Mm(35)
MARGIN_LEFT = Mm(28)
MARGIN_RIGHT = Mm(26)
BODY_SIZE = 16  # 3号
TITLE_SIZE = 22  # 2号
PAGE_NUMBER_SIZE = 14  # 4号
LINE_PITCH_TWIPS = 578  # 28.9 pt: 22 lines in the 225 mm text area
# 156 mm of text width = 442.2 pt; 28 characters of 16 pt need 448 pt, so every character gives up
# 0.25 pt (28 × 15.75 = 441 pt). Word and LibreOffice both honour w:spacing on runs, while a
# "linesAndChars" document grid is Word-only and lays out 14 characters a line in some LibreOffice setups.
BODY_CHAR_SPACING_TWIPS = -5

FONT_TITLE = "方正小标宋简体"
FONT_BODY = "仿宋_GB2312"
FONT_HEI = "黑体"
FONT_KAI = "楷体_GB2312"
FONT_SONG = "宋体"
FONT_LATIN = "Times New Roman"


def _child(parent, tag: str, *, first: bool = False):
    """The child element ``tag`` of ``parent``, created (in schema-tolerant order) when missing."""
    found = parent.find(qn(tag))
    if found is None:
        found = OxmlElement(tag)
        if first:
            parent.insert(0, found)
        else:
            parent.append(found)
    return found


_STYLE_ORDER = [
    "w:name", "w:aliases", "w:basedOn", "w:next", "w:link", "w:autoRedefine", "w:hidden", "w:uiPriority",
    "w:semiHidden", "w:unhideWhenUsed", "w:qFormat", "w:locked", "w:personal", "w:personalCompose",
    "w:personalReply", "w:rsid", "w:pPr", "w:rPr", "w:tblPr", "w:trPr", "w:tcPr", "w:tblStylePr",
]  # fmt: skip


def get_rpr(element):
    """``w:rPr`` of a run, a style or a default block (created when missing, in schema order)."""
    if element.tag == qn("w:r"):
        return element.get_or_add_rPr()
    if element.tag == qn("w:style"):
        return ordered_child(element, "w:rPr", _STYLE_ORDER)
    return _child(element, "w:rPr")


def get_ppr(element):
    if element.tag == qn("w:p"):
        return element.get_or_add_pPr()
    if element.tag == qn("w:style"):
        return ordered_child(element, "w:pPr", _STYLE_ORDER)
    return _child(element, "w:pPr")


# w:rPr children must follow the schema order or Word refuses the file.
RPR_ORDER = [
    "w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps", "w:strike",
    "w:dstrike", "w:outline", "w:shadow", "w:emboss", "w:imprint", "w:noProof", "w:snapToGrid",
    "w:vanish", "w:webHidden", "w:color", "w:spacing", "w:w", "w:kern", "w:position", "w:sz",
    "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign",
    "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath",
]  # fmt: skip
PPR_ORDER = [
    "w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl",
    "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens",
    "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
    "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
    "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
]  # fmt: skip


def ordered_child(parent, tag: str, order: list[str]):
    """Get or insert child ``tag`` at its schema position within ``parent``."""
    found = parent.find(qn(tag))
    if found is not None:
        return found
    new = OxmlElement(tag)
    position = order.index(tag)
    for index, existing in enumerate(parent):
        local = existing.tag
        name = next((n for n in order if qn(n) == local), None)
        if name is not None and order.index(name) > position:
            parent.insert(index, new)
            return new
    parent.append(new)
    return new


def add_style(document, name: str, style_type):
    """``document.styles.add_style`` without its check that ``name`` is new, which reads the name of
    every style (a new document has 164, a 12-style template paid that 12 times): ours are new."""
    from docx.styles.style import StyleFactory

    return StyleFactory(document.styles.element.add_style_of_type(name, style_type, False))


def style_ids(document, *names: str) -> list[str | None]:
    """The style ids of the styles called ``names`` (None for a missing one), looked up once: comparing a
    paragraph's ``w:pStyle`` with them is free, while ``paragraph.style`` searches every style each time."""
    styles = document.styles.element
    return [None if (style := styles.get_by_name(name)) is None else style.styleId for name in names]


def set_paragraph_style(paragraph, name: str) -> None:
    """``w:pStyle`` for the style called ``name``, which must exist: python-docx's ``paragraph.style = …``
    and ``document.styles[name]`` search every style by XPath on each call (70 calls were most of
    building the template)."""
    from docx.oxml.styles import styleId_from_name

    paragraph._p.style = styleId_from_name(name)


def set_fonts(element, east_asia: str, latin: str = FONT_LATIN) -> None:
    """Set the East Asian font (what Chinese text uses) and the Latin font of a run or style."""
    rpr = get_rpr(element)
    fonts = ordered_child(rpr, "w:rFonts", RPR_ORDER)
    for attr in list(fonts.attrib):
        if attr.endswith("Theme"):
            del fonts.attrib[attr]
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:hint"), "eastAsia")


def set_size(element, points: float) -> None:
    rpr = get_rpr(element)
    half = str(round(points * 2))
    ordered_child(rpr, "w:sz", RPR_ORDER).set(qn("w:val"), half)
    ordered_child(rpr, "w:szCs", RPR_ORDER).set(qn("w:val"), half)


def set_char_spacing(element, twips: int) -> None:
    """Expand (positive) or condense (negative) every character by ``twips`` twentieths of a point."""
    rpr = get_rpr(element)
    ordered_child(rpr, "w:spacing", RPR_ORDER).set(qn("w:val"), str(twips))


def set_kern_off(element) -> None:
    rpr = get_rpr(element)
    ordered_child(rpr, "w:kern", RPR_ORDER).set(qn("w:val"), "0")


def set_lang(element, east_asia: str = "zh-CN", latin: str = "en-US") -> None:
    rpr = get_rpr(element)
    lang = ordered_child(rpr, "w:lang", RPR_ORDER)
    lang.set(qn("w:val"), latin)
    lang.set(qn("w:eastAsia"), east_asia)
    lang.set(qn("w:bidi"), "ar-SA")


def set_line_exact(element, twips: int = LINE_PITCH_TWIPS, before: int = 0, after: int = 0) -> None:
    """Fixed line height (w:lineRule="exact"); no space before/after, so lines sit on a 28.9 pt pitch."""
    ppr = get_ppr(element)
    spacing = ordered_child(ppr, "w:spacing", PPR_ORDER)
    for attr in list(spacing.attrib):
        del spacing.attrib[attr]
    spacing.set(qn("w:before"), str(before))
    spacing.set(qn("w:after"), str(after))
    spacing.set(qn("w:line"), str(twips))
    spacing.set(qn("w:lineRule"), "exact")


def set_indent_chars(
    element,
    first_line: int = 0,
    left: int = 0,
    right: int = 0,
    *,
    first_line_twips: int | None = None,
    left_twips: int | None = None,
    right_twips: int | None = None,
) -> None:
    """Indents in hundredths of a character (200 = two characters), with twips as fallback.

    Word uses the *Chars attributes; LibreOffice reads them too but older builds fall back to the
    twips values, so both are written.
    """
    ppr = get_ppr(element)
    ind = ordered_child(ppr, "w:ind", PPR_ORDER)
    for attr in list(ind.attrib):
        del ind.attrib[attr]
    if first_line:
        ind.set(qn("w:firstLineChars"), str(first_line))
        if first_line_twips is not None:
            ind.set(qn("w:firstLine"), str(first_line_twips))
    elif first_line_twips:
        ind.set(qn("w:firstLine"), str(first_line_twips))
    if left:
        ind.set(qn("w:leftChars"), str(left))
    if left_twips is not None:
        ind.set(qn("w:left"), str(left_twips))
    if right:
        ind.set(qn("w:rightChars"), str(right))
    if right_twips is not None:
        ind.set(qn("w:right"), str(right_twips))
    if not first_line and not first_line_twips:
        # explicit zeros: an empty w:ind would inherit Normal's two-character indent
        ind.set(qn("w:firstLineChars"), "0")
        ind.set(qn("w:firstLine"), "0")
    if not left and left_twips is None:
        ind.set(qn("w:leftChars"), "0")
        ind.set(qn("w:left"), "0")
    if not right and right_twips is None:
        ind.set(qn("w:rightChars"), "0")
        ind.set(qn("w:right"), "0")


def set_jc(element, value: str) -> None:
    """Paragraph alignment: left, center, right, both (justify)."""
    ppr = get_ppr(element)
    ordered_child(ppr, "w:jc", PPR_ORDER).set(qn("w:val"), value)


def set_flag(element, tag: str, on: bool = True) -> None:
    """A boolean paragraph property such as w:keepNext, w:pageBreakBefore, w:widowControl."""
    ppr = get_ppr(element)
    ordered_child(ppr, tag, PPR_ORDER).set(qn("w:val"), "1" if on else "0")


def setup_section(section) -> None:
    """A4 portrait, GB/T 9704 margins, footer 7 mm under the text area, no character grid."""
    section.page_width = PAGE_WIDTH
    section.page_height = PAGE_HEIGHT
    section.top_margin = MARGIN_TOP
    section.bottom_margin = MARGIN_BOTTOM
    section.left_margin = MARGIN_LEFT
    section.right_margin = MARGIN_RIGHT
    section.header_distance = Mm(15)
    # the page number line sits about 7 mm below the text area: 35 − 7 − 5 (line height) ≈ 23 mm
    section.footer_distance = Mm(23)
    section.gutter = Mm(0)
    sect = section._sectPr
    grid = sect.find(qn("w:docGrid"))
    if grid is not None:
        sect.remove(grid)
    grid = OxmlElement("w:docGrid")
    # type="default": no character grid (LibreOffice and Word agree); line pitch only as a hint
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))
    sect.append(grid)


def enable_odd_even_footers(document) -> None:
    """w:evenAndOddHeaders in settings: Word and LibreOffice then use the even-page footer."""
    document.settings.odd_and_even_pages_header_footer = True


def add_page_field(paragraph) -> None:
    """Append a PAGE field (fldChar begin / instrText / separate / result / end) to ``paragraph``."""

    def run_with(child):
        run = paragraph.add_run()
        run._r.append(child)
        return run

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    runs = [run_with(begin)]
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    runs.append(run_with(instr))
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    runs.append(run_with(sep))
    runs.append(paragraph.add_run("1"))
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    runs.append(run_with(end))
    for run in runs:
        style_page_number_run(run._r)


def style_page_number_run(r) -> None:
    set_fonts(r, FONT_SONG, FONT_SONG)
    set_size(r, PAGE_NUMBER_SIZE)


def write_page_number(paragraph, *, align: str) -> None:
    """'— 1 —' in 4号 宋体; odd pages right with one character's indent, even pages left."""
    p = paragraph._p
    for child in list(p):
        if child.tag != qn("w:pPr"):
            p.remove(child)
    set_jc(p, align)
    set_line_exact(p, 360)
    if align == "right":
        set_indent_chars(p, right=100, right_twips=280)
    else:
        set_indent_chars(p, left=100, left_twips=280)
    style_page_number_run(paragraph.add_run("— ")._r)
    add_page_field(paragraph)
    style_page_number_run(paragraph.add_run(" —")._r)


TBL_PR_ORDER = [
    "w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual", "w:tblStyleRowBandSize",
    "w:tblStyleColBandSize", "w:tblW", "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd",
    "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription",
]  # fmt: skip


def set_cell_margins(table, top: int = 0, bottom: int = 0, left: int = 60, right: int = 60) -> None:
    mar = ordered_child(table._tbl.tblPr, "w:tblCellMar", TBL_PR_ORDER)
    for side, value in (("top", top), ("left", left), ("bottom", bottom), ("right", right)):
        el = mar.find(qn(f"w:{side}"))
        if el is None:
            el = OxmlElement(f"w:{side}")
            mar.append(el)
        el.set(qn("w:w"), str(value))
        el.set(qn("w:type"), "dxa")


def set_table_borders(table, size: int = 4) -> None:
    """Single black borders on every edge and between cells (size in eighths of a point)."""
    borders = ordered_child(table._tbl.tblPr, "w:tblBorders", TBL_PR_ORDER)
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = borders.find(qn(f"w:{edge}"))
        if el is None:
            el = OxmlElement(f"w:{edge}")
            borders.append(el)
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), str(size))
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")


def set_table_width(table, widths_twips: list[int]) -> None:
    """Fixed layout with explicit column widths (both on the grid and on each cell)."""
    tbl = table._tbl
    tbl_pr = tbl.tblPr
    ordered_child(tbl_pr, "w:tblLayout", TBL_PR_ORDER).set(qn("w:type"), "fixed")
    width = ordered_child(tbl_pr, "w:tblW", TBL_PR_ORDER)
    width.set(qn("w:w"), str(sum(widths_twips)))
    width.set(qn("w:type"), "dxa")
    ordered_child(tbl_pr, "w:jc", TBL_PR_ORDER).set(qn("w:val"), "center")
    grid = tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_twips, strict=False):
        col.set(qn("w:w"), str(w))
    for row in table.rows:
        for cell, w in zip(row.cells, widths_twips, strict=False):
            tc_pr = cell._tc.get_or_add_tcPr()
            tcw = tc_pr.find(qn("w:tcW"))
            if tcw is None:
                tcw = OxmlElement("w:tcW")
                tc_pr.insert(0, tcw)
            tcw.set(qn("w:w"), str(w))
            tcw.set(qn("w:type"), "dxa")


def set_table_caption(table, caption: str) -> None:
    """The table's alternative text (Word: 表格属性 → 可选文字), which also names it for the layout step."""
    ordered_child(table._tbl.tblPr, "w:tblCaption", TBL_PR_ORDER).set(qn("w:val"), caption)


def set_cell_valign(cell, value: str = "center") -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    v = tc_pr.find(qn("w:vAlign"))
    if v is None:
        v = OxmlElement("w:vAlign")
        tc_pr.append(v)
    v.set(qn("w:val"), value)


def set_repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "1")
    tr_pr.append(el)


def set_cant_split(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "1")
    tr_pr.insert(0, el)


def pt(value: float):
    return Pt(value)
