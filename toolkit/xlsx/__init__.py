"""Validation marks written into the workbook file itself (``ledger validate --mark`` / ``ledger clear``).

The marks match the 校验台账 button: a fill on each faulty cell (errors light red FFC7CE, warnings light
yellow FFEB9C, info none), a note on it with the message(s) by author "整改台账工具箱", and a 校验结果
sheet with one row per finding linking to its cell.

Everything is an exact, recorded patch of the OOXML package, part by part:

    files.py        which file is written, and how (backup, temp file, a copy when held open)
    marks.py        mark / clear: the part patches composed, undo first
    plan.py         findings grouped by cell, merged areas
    cells.py        the ledger sheet's cells        styles.py    fills and cell formats
    notes.py        notes = comments.py + vml.py    resultsheet.py  the 校验结果 sheet
    record.py       the record of the marks, kept in the workbook (a custom XML part)
    workbookpart.py the sheet list      sheetscan.py  a worksheet located by bytes
    package.py      the zip package, relationships, content types
    xmlbytes.py     XML as bytes: safe parsing, escaping, tag scanning
    fallback.py     an openpyxl copy, when the package cannot be patched safely

Each patch returns a typed undo record; together they are the record, so that a re-run first undoes
the previous marks and ``clear`` gives back the user's bytes. Anything we cannot patch safely raises
``Unpatchable`` and the marks go to a copy beside the file instead.
"""

from toolkit.xlsx.files import ClearResult, MarkResult, clear_file, copy_path, make_verifier, mark_file
from toolkit.xlsx.marks import ClearStats, MarkStats, clear_package, mark_package
from toolkit.xlsx.plan import AUTHOR, FILL_RGB, CellMark, plan_marks
from toolkit.xlsx.xmlbytes import Unpatchable

__all__ = [
    "AUTHOR",
    "FILL_RGB",
    "CellMark",
    "ClearResult",
    "ClearStats",
    "MarkResult",
    "MarkStats",
    "Unpatchable",
    "clear_file",
    "clear_package",
    "copy_path",
    "make_verifier",
    "mark_file",
    "mark_package",
    "plan_marks",
]
