"""The Word 通报: context from the ledger, a GB/T 9704 template, safe rendering, optional PDF.

Heavy libraries (docxtpl, python-docx) are imported inside the functions that use them; the charts are
native Word charts written as XML (toolkit.render.chart), without any plotting library.
"""

from toolkit.render.context import CONTEXT_KEYS, ReportOptions, build_context
from toolkit.render.render import (
    RenderResult,
    convert_to_pdf,
    find_soffice,
    render_document,
    render_report,
    write_default_template,
)

__all__ = [
    "CONTEXT_KEYS",
    "RenderResult",
    "ReportOptions",
    "build_context",
    "convert_to_pdf",
    "find_soffice",
    "render_document",
    "render_report",
    "write_default_template",
]
