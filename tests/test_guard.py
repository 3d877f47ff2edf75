"""toolkit.guard's shortcuts for small packages: each must give the verdict the long way gives.

The hostile files themselves are in test_bad_input.py (run through the CLI); these tests pin the
equivalences the shortcuts rely on, on real files built here.
"""

from __future__ import annotations

import random
import re
import zipfile
from pathlib import Path

import pytest
from filemakers import build_ledger_xlsx, build_package, header_row_xml, inline, sheet_xml

from toolkit import guard
from toolkit.errors import UnreadableFileError
from toolkit.sources import CalamineSource


def test_the_cheap_reference_search_finds_everything_the_exact_one_does():
    """_UNUSUAL_REF_ANY decides whether _UNUSUAL_REF.findall runs at all: it must match wherever that does,
    and every reference other than one letter and one to five digits must be handed to the exact parse."""
    samples = [
        b'<c r="AA1"/>',
        b'<c r="XFD1048576"/>',
        b'<c r="A100000"/>',
        b'<row r="100000">',
        b'<x:c r="AB12">',
        b'<c r="Z99999"/><c r="A1"/>',
        b'<c r="ZZ9"><v>1</v></c>',
        b'<c r="AAAAAAAAAA1"/>',
        b'<c r="a1"/>',
        b'<c r="A0"/>',
    ]
    rng = random.Random(20261127)
    alphabet = [b' r="', b"A", b"Z", b"Q", b"a", b"1", b"9", b"0", b'"', b"<c", b":"]
    samples += [b"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14))) for _ in range(20000)]
    for data in samples:
        if guard._UNUSUAL_REF.search(data):
            assert guard._UNUSUAL_REF_ANY.search(data), data
        for m in re.finditer(rb' r="([^"]*)"', data):
            if not re.fullmatch(rb"[A-Z]?[1-9][0-9]{0,4}", m[1]):
                assert m[1] in guard._UNUSUAL_REF.findall(data), data
    assert not guard._UNUSUAL_REF_ANY.search(b'<row r="2"><c r="A2" t="s"><v>0</v></c><c r="L99999"/></row>')


def test_parts_read_straight_from_memory_equal_what_zipfile_reads(tmp_path):
    path = build_ledger_xlsx(tmp_path / "台账.xlsx")
    data = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            whole = zf.read(info)
            assert guard._direct_read(data, info) == whole
            assert guard._direct_read(data, info, 2048) == whole[:2048]


def test_a_part_that_fails_its_checksum_is_left_to_zipfile_which_refuses_it(tmp_path):
    """A damaged stored part: the shortcut declines (None) and sniff reports the file as damaged."""
    path = build_package(tmp_path / "台账.xlsx", {})
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    damaged = tmp_path / "损坏.xlsx"
    with zipfile.ZipFile(damaged, "w", zipfile.ZIP_STORED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    raw = bytearray(damaged.read_bytes())
    at = raw.index(b"<sheetData>")
    raw[at + 1] ^= 0x20  # <SheetData>: same size, different CRC
    damaged.write_bytes(bytes(raw))
    with zipfile.ZipFile(damaged) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    assert guard._direct_read(bytes(raw), info) is None
    with pytest.raises(UnreadableFileError, match="损坏"):
        guard.sniff(damaged)


def test_a_local_header_naming_another_part_is_left_to_zipfile(tmp_path):
    path = build_package(tmp_path / "台账.xlsx", {})
    raw = bytearray(path.read_bytes())
    raw[raw.index(b"xl/sharedStrings.xml")] = ord(
        "X"
    )  # the local header's copy of the name, not the directory's
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/sharedStrings.xml")
    assert guard._direct_read(bytes(raw), info) is None
    broken = tmp_path / "改名.xlsx"
    broken.write_bytes(bytes(raw))
    with pytest.raises(UnreadableFileError, match="损坏"):
        guard.sniff(broken)


def test_the_reader_reads_the_bytes_the_guard_checked(tmp_path):
    """A small package is read once: replacing the file after the guard's look changes nothing."""
    rows = header_row_xml() + f'<row r="2">{inline("A2", "1")}{inline("C2", "问题")}</row>'
    path = build_package(tmp_path / "台账.xlsx", {"xl/worksheets/sheet1.xml": sheet_xml(rows)})
    package = guard.sniff(path)
    assert package.data == path.read_bytes() and package.zip is not None
    path.write_bytes(b"PK\x03\x04 not a workbook any more")
    source = CalamineSource(package)
    try:
        grid = source.load(source.sheet_names()[0])[0]
    finally:
        source.close()
    assert grid[1][2] == "问题"


def test_a_big_package_is_not_held_in_memory(tmp_path, monkeypatch):
    path = build_ledger_xlsx(tmp_path / "台账.xlsx")
    monkeypatch.setattr(guard, "IN_MEMORY_BYTES", path.stat().st_size - 1)
    package = guard.sniff(path)
    assert package.data is None and package.zip is None
    assert all(guard.scan_sheet(package, s).max_row for s in package.sheets if s.part)


def test_sheet_refs_resolve_as_before(tmp_path):
    """Relationship targets are joined as text now (no PurePosixPath): the same parts are found."""
    path = build_ledger_xlsx(tmp_path / "台账.xlsx")
    parts = {s.part for s in guard.sniff(Path(path)).sheets}
    assert parts and all(p and p.startswith("xl/worksheets/") for p in parts)


def test_text_that_might_read_as_an_error_value_is_noticed(tmp_path):
    """The scan tells the reader whether "#REF!"-like text can be in a sheet (shared or inline);
    "3#楼" cannot, "#N/A", a "#" run boundary or "&#35;" can."""
    rows = header_row_xml() + '<row r="2">' + inline("A2", "见3#楼") + "</row>"
    plain = guard.sniff(build_package(tmp_path / "plain.xlsx", {"xl/worksheets/sheet1.xml": sheet_xml(rows)}))
    assert plain.shared_strings == ["xl/sharedStrings.xml"]
    assert not guard.scan_sheet(plain, plain.sheets[0]).error_like_text
    for i, text in enumerate(["#N/A", "#RE</t><t>F!", "&#35;REF!"]):
        inline_rows = header_row_xml() + '<row r="2">' + inline("A2", text) + "</row>"
        path = build_package(
            tmp_path / f"inline{i}.xlsx", {"xl/worksheets/sheet1.xml": sheet_xml(inline_rows)}
        )
        package = guard.sniff(path)
        assert guard.scan_sheet(package, package.sheets[0]).error_like_text, text
    sst = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
        'main" count="1" uniqueCount="1"><si><t>#DIV/0!</t></si></sst>'
    )
    shared = guard.sniff(build_package(tmp_path / "sst.xlsx", {"xl/sharedStrings.xml": sst}))
    assert guard.scan_sheet(shared, shared.sheets[0]).error_like_text
