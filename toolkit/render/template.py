"""The default 通报 template, built by code with python-docx (no binary file in the repository).

The document carries GB/T 9704 formatting in named styles, so a clerk who edits the template in Word
(``ledger template 通报模板.docx``) keeps the format by using the styles: 公文标题, 一级标题, 正文 (Normal),
楷体小标题 (character style for （一）), 表格文字, 落款, 成文日期, 附件标识. The Jinja tags in it are the
variables documented in docs/模板变量.md.
"""

from __future__ import annotations

import functools
import io

from toolkit.render import docxfmt as fmt

STYLE_TITLE = "公文标题"
STYLE_H1 = "一级标题"
STYLE_H2_CHAR = "楷体小标题"
STYLE_TABLE = "表格文字"
STYLE_TABLE_HEAD = "表头文字"
STYLE_FIGURE = "图表"
STYLE_SIGNATURE = "落款"
STYLE_DATE = "成文日期"
STYLE_ANNEX_MARK = "附件标识"
STYLE_ANNEX_TITLE = "附件标题"
STYLE_ANNEX_TABLE = "附件表格文字"
STYLE_ANNEX_HEAD = "附件表头文字"

# 156 mm of text width in twips (1 mm = 56.7 twips)
SUMMARY_COLUMNS = (("方面", 2645), ("问题数", 1240), ("已完成", 1240), ("长期坚持", 1240), ("正在推进", 1240),
                   ("完成率", 1240))  # fmt: skip
SUMMARY_FIELDS = ("name", "total", "completed", "long_term", "pending", "rate")
ANNEX_COLUMNS = (("序号", 520), ("方面", 1000), ("问题描述", 2040), ("整改措施", 2185), ("责任部门", 960),
                 ("整改时限", 1180), ("完成状态", 960))  # fmt: skip
ANNEX_FIELDS = ("seq", "dimension", "problem", "measures", "dept", "deadline", "status")


def _body_format(element, *, size: float = fmt.BODY_SIZE, font: str = fmt.FONT_BODY) -> None:
    fmt.set_fonts(element, font)
    fmt.set_size(element, size)
    fmt.set_lang(element)
    fmt.set_kern_off(element)


def _paragraph_style(document, name: str, *, base=None):
    from docx.enum.style import WD_STYLE_TYPE

    style = fmt.add_style(document, name, WD_STYLE_TYPE.PARAGRAPH)
    style.element.basedOn_val = "Normal" if base is None else base.style_id
    style.quick_style = True
    return style


def _setup_styles(document) -> None:
    from docx.enum.style import WD_STYLE_TYPE

    styles_el = document.styles.element
    defaults = styles_el.find(fmt.qn("w:docDefaults"))
    rpr_default = defaults.find(fmt.qn("w:rPrDefault"))
    _body_format(rpr_default)
    ppr_default = defaults.find(fmt.qn("w:pPrDefault"))
    fmt.set_line_exact(ppr_default)

    normal = document.styles["Normal"]
    el = normal.element
    _body_format(el)
    fmt.set_char_spacing(el, fmt.BODY_CHAR_SPACING_TWIPS)
    fmt.set_line_exact(el)
    fmt.set_indent_chars(el, first_line=200, first_line_twips=640)
    fmt.set_jc(el, "both")
    # widow/orphan control moves single lines to the next page and breaks the 22-line page
    fmt.set_flag(el, "w:widowControl", False)
    # Word's default, written out: LibreOffice maps an explicit overflowPunct="1" to "no hanging
    # punctuation"; left to its own default it hangs a line-end comma in justified text and drops it
    fmt.set_flag(el, "w:overflowPunct", True)

    title = _paragraph_style(document, STYLE_TITLE)
    _body_format(title.element, size=fmt.TITLE_SIZE, font=fmt.FONT_TITLE)
    fmt.set_char_spacing(title.element, 0)
    fmt.set_indent_chars(title.element)
    fmt.set_jc(title.element, "center")
    fmt.set_line_exact(title.element, 700)  # 35 pt: 2号 title lines, as in GB/T 9704 samples

    h1 = _paragraph_style(document, STYLE_H1)
    _body_format(h1.element, font=fmt.FONT_HEI)
    fmt.set_flag(h1.element, "w:keepNext", True)
    ppr = fmt.get_ppr(h1.element)
    outline = fmt.ordered_child(ppr, "w:outlineLvl", fmt.PPR_ORDER)
    outline.set(fmt.qn("w:val"), "0")

    kai = fmt.add_style(document, STYLE_H2_CHAR, WD_STYLE_TYPE.CHARACTER)
    kai.quick_style = True
    fmt.set_fonts(kai.element, fmt.FONT_KAI)

    table = _paragraph_style(document, STYLE_TABLE)
    _body_format(table.element, size=14)
    fmt.set_char_spacing(table.element, 0)
    fmt.set_indent_chars(table.element)
    fmt.set_line_exact(table.element, 440)
    fmt.set_jc(table.element, "center")

    head = _paragraph_style(document, STYLE_TABLE_HEAD, base=table)
    fmt.set_fonts(head.element, fmt.FONT_HEI)

    figure = _paragraph_style(document, STYLE_FIGURE)
    fmt.set_indent_chars(figure.element)
    fmt.set_jc(figure.element, "center")
    spacing = fmt.ordered_child(fmt.get_ppr(figure.element), "w:spacing", fmt.PPR_ORDER)
    spacing.attrib.clear()
    spacing.set(fmt.qn("w:before"), "120")
    spacing.set(fmt.qn("w:after"), "120")
    spacing.set(fmt.qn("w:line"), "240")
    spacing.set(fmt.qn("w:lineRule"), "auto")  # an exact line height would crop the picture

    signature = _paragraph_style(document, STYLE_SIGNATURE)
    fmt.set_indent_chars(signature.element, right=200, right_twips=640)
    fmt.set_jc(signature.element, "right")
    date = _paragraph_style(document, STYLE_DATE)
    fmt.set_indent_chars(date.element, right=400, right_twips=1280)
    fmt.set_jc(date.element, "right")
    for style in (signature, date):
        # no extra space between Chinese and digits, so the GB/T 9704 offsets come out exact
        fmt.set_flag(style.element, "w:autoSpaceDE", False)
        fmt.set_flag(style.element, "w:autoSpaceDN", False)

    mark = _paragraph_style(document, STYLE_ANNEX_MARK)
    fmt.set_fonts(mark.element, fmt.FONT_HEI)
    fmt.set_indent_chars(mark.element)
    fmt.set_jc(mark.element, "left")
    fmt.set_flag(mark.element, "w:pageBreakBefore", True)

    annex_title = _paragraph_style(document, STYLE_ANNEX_TITLE, base=title)
    fmt.set_flag(annex_title.element, "w:keepNext", True)

    annex = _paragraph_style(document, STYLE_ANNEX_TABLE, base=table)
    fmt.set_size(annex.element, 10.5)
    fmt.set_line_exact(annex.element, 300)
    annex_head = _paragraph_style(document, STYLE_ANNEX_HEAD, base=annex)
    fmt.set_fonts(annex_head.element, fmt.FONT_HEI)


def _table(document, columns, *, head_style: str, body_style: str, rows: list[list[str]]):
    table = document.add_table(rows=1 + len(rows), cols=len(columns))
    fmt.set_table_borders(table)
    fmt.set_cell_margins(table, top=30, bottom=30)
    for cell, (label, _width) in zip(table.rows[0].cells, columns, strict=True):
        fmt.set_paragraph_style(cell.paragraphs[0], head_style)
        cell.paragraphs[0].add_run(label)
        fmt.set_cell_valign(cell)
    fmt.set_repeat_header(table.rows[0])
    for row, texts in zip(table.rows[1:], rows, strict=True):
        fmt.set_cant_split(row)
        for cell, text in zip(row.cells, texts, strict=False):
            fmt.set_paragraph_style(cell.paragraphs[0], body_style)
            if text:
                cell.paragraphs[0].add_run(text)
            fmt.set_cell_valign(cell)
    fmt.set_table_width(table, [w for _label, w in columns])
    return table


def _headed_paragraphs(document, collection: str) -> None:
    """One paragraph per entry of ``collection``: its heading run-in (（一）……) then its text."""
    _para(document, f"{{%p for d in {collection} %}}")
    sub = document.add_paragraph()
    sub.add_run("{{ d.heading }}", style=STYLE_H2_CHAR)
    sub.add_run("{{ d.text }}")
    _para(document, "{%p endfor %}")


def _para(document, text: str = "", style: str | None = None):
    paragraph = document.add_paragraph()
    if style is not None:
        fmt.set_paragraph_style(paragraph, style)
    if text:
        paragraph.add_run(text)
    return paragraph


def _left(paragraph) -> None:
    fmt.set_jc(paragraph._p, "left")


def new_document(title: str, variables_doc: str):
    """An empty GB/T 9704 document: our styles, A4 margins, odd/even page numbers, properties."""
    import docx

    document = docx.Document()
    _setup_styles(document)
    section = document.sections[0]
    fmt.setup_section(section)
    fmt.enable_odd_even_footers(document)
    fmt.write_page_number(section.footer.paragraphs[0], align="right")
    fmt.write_page_number(section.even_page_footer.paragraphs[0], align="left")
    props = document.core_properties
    props.author = "整改台账工具箱"
    props.title = title
    props.comments = f"由整改台账工具箱生成；变量说明见 {variables_doc}"
    return document


def build_document():
    """The default template as a python-docx Document (tags still unrendered)."""
    document = new_document("整改落实情况通报", "docs/模板变量.md")

    _para(document, "{{ title_display }}", STYLE_TITLE)
    _para(document)
    _para(document, "{{ opening }}")
    _para(document, "一、对照问题台账，抓好整改落实", STYLE_H1)
    _para(document, "{{ summary }}{{ history.summary }}各方面整改完成情况见下表。")

    rows = [
        ["{%tr for d in dimensions %}", "", "", "", "", ""],
        [f"{{{{ d.{name} }}}}" for name in SUMMARY_FIELDS],
        ["{%tr endfor %}", "", "", "", "", ""],
        [f"{{{{ total.{name} }}}}" for name in SUMMARY_FIELDS],
    ]
    table = _table(document, SUMMARY_COLUMNS, head_style=STYLE_TABLE_HEAD, body_style=STYLE_TABLE, rows=rows)
    _left(table.rows[2].cells[0].paragraphs[0])

    _para(document, "{%p if chart %}", STYLE_FIGURE)
    _para(document, "{{ chart }}", STYLE_FIGURE)
    _para(document, "{%p endif %}", STYLE_FIGURE)
    _para(document, "{%p if trend_chart %}", STYLE_FIGURE)
    _para(document, "{{ trend_chart }}", STYLE_FIGURE)
    _para(document, "{%p endif %}", STYLE_FIGURE)

    _headed_paragraphs(document, "dimensions")

    _para(document, "二、存在问题", STYLE_H1)
    _para(document, "{%p if problems_text %}")
    _para(document, "{{ problems_text }}")
    _para(document, "{%p endif %}")
    _para(document, "{%p if history.newly_overdue_text %}")
    _para(document, "{{ history.newly_overdue_text }}")
    _para(document, "{%p endif %}")
    _para(document, "{%p if facts_text %}")
    _para(document, "{{ facts_text }}")
    _para(document, "{%p endif %}")

    _para(document, "三、下一步打算", STYLE_H1)
    _para(document, "{{ plans_lead }}{{ plans_text }}")

    _para(document, "{%p if annex %}")
    _para(document)
    _para(document, "附件：整改台账明细")
    _para(document, "{%p endif %}")
    _para(document)
    _para(document, "{{ signature }}", STYLE_SIGNATURE)
    _para(document, "{{ date }}", STYLE_DATE)

    _para(document, "{%p if annex %}")
    _para(document, "附件", STYLE_ANNEX_MARK)
    _para(document, "整改台账明细", STYLE_ANNEX_TITLE)
    _para(document)
    annex_rows = [
        ["{%tr for it in items %}", *[""] * (len(ANNEX_COLUMNS) - 1)],
        [f"{{{{ it.{name} }}}}" for name in ANNEX_FIELDS],
        ["{%tr endfor %}", *[""] * (len(ANNEX_COLUMNS) - 1)],
    ]
    annex = _table(document, ANNEX_COLUMNS, head_style=STYLE_ANNEX_HEAD, body_style=STYLE_ANNEX_TABLE,
                   rows=annex_rows)  # fmt: skip
    for cell in annex.rows[2].cells[1:4]:
        _left(cell.paragraphs[0])
    _para(document, "{%p endif %}")
    return document


@functools.cache
def default_template_bytes() -> bytes:
    """The default template as .docx bytes (built once per process)."""
    buffer = io.BytesIO()
    build_document().save(buffer)
    return buffer.getvalue()
