"""Layout after rendering: table column widths from what the cells hold, and the 落款 placed and kept with
body text (GB/T 9704 7.3.5).

A template fixes its tables' widths before it knows the ledger: a 方面 column of 30% wraps the long 方面
names of a real ledger (“学懂弄通做实习近平新时代中国特色社会主义思想，……方面”) into rows of seven lines,
while the number columns keep room they never use. Once rendered, each table named by its alternative text
(``SUMMARY_CAPTION``, ``ANNEX_CAPTION``) gets widths from its cells, its total width as the template set it:

- everything fits on one line: each column its widest text, the rest shared evenly;
- otherwise each column starts at what must never wrap (a number, a date, a short word such as 党政办 or
  已完成; a header of four characters may take two lines, “长期⏎坚持”), and the rest goes, half a character
  at a time, where it saves the most lines (the rows' heights first, then all cells' lines): the long
  方面 names of a summary table take what the numbers do not need, and in the annex 问题描述 and 整改措施
  take most, 方面 wrapping within the height those rows have anyway.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence

from toolkit.render import docxfmt as fmt
from toolkit.render.template import (
    ANNEX_CAPTION,
    STYLE_BODY_LAST,
    STYLE_DATE,
    STYLE_SIGNATURE,
    SUMMARY_CAPTION,
)
from toolkit.render.typeset import text_width

DEFAULT_CELL_MARGINS = 216  # Word's default left + right cell margins, in twips
SLACK_CHARS = 0.4  # glyphs a little wider than text_width says (“%”, quotes): no wrap from rounding
SHORT_CHARS = 6.0  # a cell text this wide (with slack) never wraps: 城市管理办, 正在整改, 100.0%
STEP_CHARS = 0.5
TEXT_HEIGHT_TWIPS = round((297 - 37 - 35) / 25.4 * 1440)  # GB/T 9704 type area: 225 mm
SAMPLE_ROWS = 400  # rows looked at in a long annex (evenly spread): widths need not read 100k rows
_UNBREAKABLE = re.compile(r"[0-9A-Za-z.,%/:+\-]+")


def header_width(text: str) -> float:
    """A header of four or more characters may wrap into two even lines; a shorter one stays whole."""
    width = text_width(text)
    return math.ceil(width / 2) if width >= 4 else width


def _floor(header: str, lines: Sequence[float], tokens: Sequence[float]) -> float:
    """The width a column never goes below: its header (wrapped), numbers and dates, and the short words
    most of its cells hold (党政办 stays whole though one cell says 党政办、组织办、宣传办)."""
    ordered = sorted(lines)
    most = ordered[(len(ordered) * 4) // 5] + SLACK_CHARS if ordered else 0.0
    least = most if most <= SHORT_CHARS else 2.0 + SLACK_CHARS
    return max(header_width(header) + SLACK_CHARS, max(tokens, default=0.0) + SLACK_CHARS, least)


def _line_count(widths: Sequence[float], column_width: float) -> int:
    usable = max(column_width - SLACK_CHARS, 0.5)
    return sum(max(1, math.ceil(w / usable - 1e-9)) for w in widths) if widths else 1


def _lines(widths: Sequence[float], column_width: float) -> tuple[int, float]:
    """Lines a cell takes (whole), and the same unrounded: the measure that still moves on a plateau."""
    usable = max(column_width - SLACK_CHARS, 0.5)
    return _line_count(widths, column_width), sum(max(1.0, w / usable) for w in widths) if widths else 1.0


def fit_widths(headers: Sequence[str], rows: Sequence[Sequence[str]], room: float) -> list[float]:
    """Column widths in characters (summing to ``room``) for a header row and body rows of cell texts."""
    columns = len(headers)
    table = [list(headers), *(list(row) for row in rows)]
    # each cell as the widths of its lines (paragraphs), each column's unbreakable pieces
    cells = [[[text_width(line) for line in text.split("\n")] for text in row] for row in table]
    full = [max(max(cell[c]) for cell in cells) + SLACK_CHARS for c in range(columns)]
    if sum(full) <= room:
        return [w + (room - sum(full)) / columns for w in full]
    floors = [
        _floor(
            headers[c],
            [w for cell in cells[1:] for w in cell[c]],
            [text_width(m.group(0)) for row in rows for m in _UNBREAKABLE.finditer(row[c])],
        )
        for c in range(columns)
    ]
    widths = list(floors)
    if sum(widths) >= room:  # nothing to share: scale down evenly (a template with too many columns)
        return [w * room / sum(widths) for w in widths]
    counts = [[_lines(cell[c], widths[c]) for c in range(columns)] for cell in cells]

    def cost(column: int, width: float) -> tuple[int, float, float]:
        """What widening ``column`` to ``width`` changes: rows' heights, then unrounded, then all cells."""
        height = smooth = cells_lines = 0.0
        for cell, count in zip(cells, counts, strict=True):
            new = _lines(cell[column], width)
            others = [n for c, n in enumerate(count) if c != column]
            height += max(new[0], *(n[0] for n in others)) - max(n[0] for n in count) if others else 0
            smooth += max(new[1], *(n[1] for n in others)) - max(n[1] for n in count) if others else 0
            cells_lines += new[1] - count[column][1]
        return int(height), smooth, cells_lines

    left = room - sum(widths)
    while left >= STEP_CHARS:
        step = min(STEP_CHARS, left)
        useful = [
            (cost(c, widths[c] + step), widths[c] - full[c], c) for c in range(columns) if widths[c] < full[c]
        ]
        if not useful:
            break
        best = min(useful)[2]
        widths[best] += step
        left -= step
        for cell, count in zip(cells, counts, strict=True):
            count[best] = _lines(cell[best], widths[best])
    # width that saves no whole line (“长期坚⏎持” instead of “长期⏎坚持”) goes back, to the long texts first
    for c in range(columns):
        narrowest = _narrowest(cells, c, widths[c], floors[c])
        left += widths[c] - narrowest
        widths[c] = narrowest
    for c in sorted(range(columns), key=lambda c: widths[c] - full[c]):
        grant = min(left, max(full[c] - widths[c], 0.0))
        kept = _narrowest(cells, c, widths[c] + grant, widths[c])  # part of a line saves nothing
        left -= kept - widths[c]
        widths[c] = kept
    # what no column can use (all on one line already): shared evenly
    return [w + left / columns for w in widths]


def _narrowest(cells: Sequence[Sequence[Sequence[float]]], column: int, width: float, floor: float) -> float:
    """The narrowest width, down to ``floor``, at which every cell of the column keeps its number of lines."""
    wanted = [_line_count(cell[column], width) for cell in cells]
    narrowest = width
    candidate = width - 0.1
    while candidate >= floor - 1e-9:
        if [_line_count(cell[column], candidate) for cell in cells] != wanted:
            break
        narrowest = candidate
        candidate -= 0.1
    return narrowest


def _cell_margins(tbl) -> int:
    margins = tbl.tblPr.find(fmt.qn("w:tblCellMar"))
    if margins is None:
        return DEFAULT_CELL_MARGINS
    total = 0
    for side in ("left", "right"):
        el = margins.find(fmt.qn(f"w:{side}"))
        total += int(el.get(fmt.qn("w:w"), "108")) if el is not None else 108
    return total


def _font_twips_of(paragraph) -> int:
    """Twips per character of a paragraph's text (its style chain's font size)."""
    style = paragraph.style
    while style is not None:
        if style.font.size is not None:
            return round(style.font.size.pt * 20)
        style = style.base_style
    return fmt.BODY_SIZE * 20


def _font_twips(table) -> int:
    """Twips per character of the table's body text (its first body cell's paragraph)."""
    rows = table.rows
    return _font_twips_of((rows[1] if len(rows) > 1 else rows[0]).cells[0].paragraphs[0])


def row_lines(row: Sequence[str], widths: Sequence[float]) -> int:
    """Lines of the tallest cell of a row at these column widths (characters), as ``fit_widths`` counts."""
    return max(
        (_line_count([text_width(line) for line in text.split("\n")], width)
         for text, width in zip(row, widths, strict=False)),
        default=1,
    )  # fmt: skip


def _line_twips(paragraph) -> int:
    """The exact line height of a cell paragraph (its style chain), else 1.2 × its font size."""
    style = paragraph.style
    while style is not None:
        spacing = style.paragraph_format.line_spacing
        if spacing is not None and not isinstance(spacing, float):
            return round(spacing.pt * 20)
        style = style.base_style
    return round(_font_twips_of(paragraph) * 1.2)


def let_tall_rows_break(table, texts: Sequence[Sequence[str]], widths: Sequence[float]) -> int:
    """Rows taller than a quarter page may break across pages (w:cantSplit off): kept whole they would leave
    the bottom of a page empty. Returns how many rows may break."""
    if len(table.rows) < 2:
        return 0
    line = _line_twips(table.rows[1].cells[0].paragraphs[0])
    limit = TEXT_HEIGHT_TWIPS // 4
    count = 0
    for row, cells in zip(table.rows[1:], texts, strict=False):
        if row_lines(cells, widths) * line > limit:
            tr_pr = row._tr.trPr
            found = tr_pr.find(fmt.qn("w:cantSplit")) if tr_pr is not None else None
            if found is not None:
                tr_pr.remove(found)
                count += 1
    return count


def fit_table(table) -> list[int] | None:
    """Set one table's column widths from its cells (twips); None when it is not a plain grid."""
    rows = [row.cells for row in table.rows]  # python-docx builds a row's cells anew on each call
    columns = len(table.columns)
    if len(rows) < 2 or any(len(cells) != columns for cells in rows):
        return None  # merged cells: leave the template's widths
    grid = table._tbl.tblGrid.findall(fmt.qn("w:gridCol"))
    total_twips = sum(int(col.get(fmt.qn("w:w"), "0")) for col in grid)
    if not total_twips:
        return None
    per_char = _font_twips(table)
    margins = _cell_margins(table._tbl)
    room = (total_twips - margins * columns) / per_char
    if room <= 0:
        return None
    headers = [cell.text.strip() for cell in rows[0]]
    texts = [[cell.text.strip() for cell in cells] for cells in rows[1:]]
    sample = texts
    if len(texts) > SAMPLE_ROWS:
        sample = [texts[i * len(texts) // SAMPLE_ROWS] for i in range(SAMPLE_ROWS)]
    chars = fit_widths(headers, sample, room)
    let_tall_rows_break(table, texts, chars)
    widths = [round(c * per_char) + margins for c in chars]
    widths[widths.index(max(widths))] += total_twips - sum(widths)  # rounding: keep the table's width
    fmt.set_table_width(table, widths)
    return widths


def fit_tables(document, captions: Sequence[str]) -> None:
    """Fit every table whose alternative text is one of ``captions`` (the default template's tables)."""
    for table in document.tables:
        caption = table._tbl.tblPr.find(fmt.qn("w:tblCaption"))
        if caption is not None and caption.get(fmt.qn("w:val")) in captions:
            fit_table(table)


# ---------------------------------------------------------------- the 落款 with body text

BODY_CHARS_PER_LINE = 28  # GB/T 9704: 28 characters a line of 3号 body text
KEEP_LINES = 4  # the most body lines that go to the next page with the 落款
_POINT = re.compile(r"[一二三四五六七八九十]+是")
_SENTENCE_END = re.compile(r"(?<=[。；！？])")
_CLAUSE_END = re.compile(r"(?<=[，、：])")


def body_lines(text: str) -> int:
    """Lines a body paragraph takes: two characters of first-line indent, 28 characters a line."""
    return math.ceil((2 + text_width(text)) / BODY_CHARS_PER_LINE)


def tail_split(text: str, keep_lines: int = KEEP_LINES) -> int | None:
    """Where to start a last paragraph of at most ``keep_lines`` lines, or None when the text is short enough
    or has no place to break: before the last points (三是……), else after a sentence, else after a clause."""
    if body_lines(text) <= keep_lines:
        return None
    for pattern in (_POINT, _SENTENCE_END, _CLAUSE_END):
        places = [m.start() for m in pattern.finditer(text) if 0 < m.start() < len(text)]
        fitting = [at for at in places if body_lines(text[at:]) <= keep_lines]
        if fitting:
            return min(fitting)
    return None


def _split_paragraph(paragraph, at: int):
    """Split a paragraph of plain text runs at character ``at``; the new second paragraph follows it."""
    import copy

    tail = copy.deepcopy(paragraph._p)
    paragraph._p.addnext(tail)
    for element, keep_head in ((paragraph._p, True), (tail, False)):
        seen = 0
        for run in list(element.iterchildren(fmt.qn("w:r"))):
            texts = run.findall(fmt.qn("w:t"))
            text = "".join(t.text or "" for t in texts)
            start, end = seen, seen + len(text)
            seen = end
            if (end <= at) if keep_head else (start >= at):
                continue  # wholly on this side
            if (start >= at) if keep_head else (end <= at):
                element.remove(run)
                continue
            piece = text[: at - start] if keep_head else text[at - start :].lstrip()
            texts[0].text = piece
            texts[0].set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            for extra in texts[1:]:
                run.remove(extra)
    return tail


def keep_signature_with_body(document, body_last: str, signature: str) -> int:
    """GB/T 9704 7.3.5: the 落款 never alone on a page. The template keeps its last body paragraph (style
    ``body_last``) with the 落款; LibreOffice then moves that paragraph whole, and a long one leaves most of a
    page empty or the 成文日期 alone on the next. So a long last paragraph is split: its last points (or
    sentences) become a paragraph of at most ``KEEP_LINES`` lines that goes with the 落款, the rest flows as
    ordinary body text. Returns how many paragraphs were split."""
    body_last_id, signature_id = fmt.style_ids(document, body_last, signature)
    if body_last_id is None or signature_id is None:
        return 0
    paragraphs = document.paragraphs
    signatures = [i for i, p in enumerate(paragraphs) if p._p.style == signature_id]
    if not signatures:
        return 0
    from docx.enum.style import WD_STYLE_TYPE

    plain = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)  # Normal (正文), whatever its name
    split = 0
    for paragraph in paragraphs[: signatures[0]]:
        if paragraph._p.style != body_last_id:
            continue
        runs = paragraph._p.findall(fmt.qn("w:r"))
        if any(child.tag not in (fmt.qn("w:rPr"), fmt.qn("w:t")) for run in runs for child in run):
            continue  # tabs, breaks, pictures: not plain text to split
        at = tail_split(paragraph.text)
        if at is None:
            continue
        _split_paragraph(paragraph, at)
        paragraph.style = plain  # the head flows as ordinary body text
        split += 1
    return split


# ---------------------------------------------------------------- the 落款 and the whole document


def _set_right_indent(paragraph, chars: float) -> None:
    fmt.set_indent_chars(paragraph._p, right=round(chars * 100), right_twips=round(chars * 320))


def place_signature(document) -> None:
    """GB/T 9704 7.3.5.2: signature right-indented two characters, the date starting two characters further
    right; when the date is longer, the date keeps two characters and the signature moves left."""
    signature_id, date_id = fmt.style_ids(document, STYLE_SIGNATURE, STYLE_DATE)
    if signature_id is None or date_id is None:
        return
    for first, second in itertools.pairwise(document.paragraphs):
        if first._p.style != signature_id or second._p.style != date_id:
            continue
        s, d = text_width(first.text.strip()), text_width(second.text.strip())
        if not s or not d:
            continue
        signature_right = max(2.0, 4.0 + d - s)
        date_right = signature_right + s - 2.0 - d
        _set_right_indent(first, signature_right)
        _set_right_indent(second, max(date_right, 0.0))


def fit_summary_and_annex(document) -> None:
    """Layout once the text is known: the default template's tables (found by their alternative text) get
    widths from their cells; a long last paragraph is split so the 落款 keeps body text without LibreOffice
    moving the whole paragraph."""
    fit_tables(document, (SUMMARY_CAPTION, ANNEX_CAPTION))
    keep_signature_with_body(document, STYLE_BODY_LAST, STYLE_SIGNATURE)
