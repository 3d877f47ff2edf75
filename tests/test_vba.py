"""The VBA project writer, checked against independent readers (oletools/olevba, olefile, LibreOffice)."""

from __future__ import annotations

import importlib
import importlib.util
import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import olefile
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, VBA_Project, decompress_stream

from toolkit import vba
from toolkit.vba import VbaModule

ROOT = Path(__file__).resolve().parents[1]
SHEETS = ("Sheet1", "Sheet2")
BAS = ROOT / "macros" / "LedgerButtons.bas"


def olevba_decompress(data: bytes) -> bytes:
    return bytes(decompress_stream(bytearray(data)))


def big_module(target: int = 30_000) -> VbaModule:
    """A standard module over 20 KB whose last function returns a value only a correct decode gives."""
    lines = ['Attribute VB_Name = "BigModule"', "Option Explicit", ""]
    i = 0
    while sum(len(line) + 2 for line in lines) < target:
        lines += [
            f"Public Function Part{i:04d}(ByVal x As Long) As Long",
            f"    ' filler {i} {'abcdefghijklmnopqrstuvwxyz'[i % 26] * (i % 37)} end",
            f"    Part{i:04d} = x * {i % 97} + {i}",
            "End Function",
            "",
        ]
        i += 1
    lines += [
        "Public Function BigTotal() As Long",
        "    Dim k As Long, t As Long",
        f"    For k = 0 To {i - 1} Step {max(1, i // 7)}",
        "        t = t + k",
        "    Next k",
        f"    BigTotal = t + Part{i - 1:04d}(2)",
        "End Function",
    ]
    return VbaModule("BigModule", "\r\n".join(lines) + "\r\n")


def big_total(module: VbaModule) -> int:
    n = len(re.findall(r"^Public Function Part", module.source, re.M))
    return sum(range(0, n, max(1, n // 7))) + 2 * ((n - 1) % 97) + (n - 1)


def strip_attributes(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("Attribute "))


# ----------------------------------------------------------------------------- compression


SPEC_VECTORS = [
    # [MS-OVBA] 3.2.1 (no compression possible) and 3.2.2 (normal compression).
    (
        b"abcdefghijklmnopqrstuv.",
        "01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E",
    ),
    (
        b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa",
        "01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 30"
        " 6D 6E 6F 70 06 71 02 70 04 10 72 73 74 75 76 10 77 78 79 7A 00 3C",
    ),
]


@pytest.mark.parametrize(("plain", "compressed"), SPEC_VECTORS)
def test_spec_examples_decompress(plain: bytes, compressed: str) -> None:
    data = bytes.fromhex(compressed)
    assert vba.decompress(data) == plain
    assert vba.decompress(vba.compress(plain)) == plain
    assert olevba_decompress(vba.compress(plain)) == plain


def test_literal_only_matches_spec_byte_for_byte() -> None:
    plain, compressed = SPEC_VECTORS[0]
    assert vba.compress(plain) == bytes.fromhex(compressed)


def _samples() -> list[tuple[str, bytes]]:
    rnd = random.Random(4)
    text = vba.installed_xlwings_bas().encode("cp1252")
    return [
        ("empty", b""),
        ("one", b"a"),
        ("run", b"a" * 70_000),
        ("repetitive", b'Attribute VB_Name = "x"\r\n' * 2000),
        ("random-4095", rnd.randbytes(4095)),
        ("random-4096", rnd.randbytes(4096)),
        ("random-4097", rnd.randbytes(4097)),
        ("random-3700-tail", rnd.randbytes(4096 * 2 + 3700)),  # incompressible final chunk > 3640 bytes
        ("random-50k", rnd.randbytes(50_000)),
        ("half-random", b"".join(rnd.randbytes(64) + b"x" * 64 for _ in range(300))),
        ("xlwings.bas", text),
        ("all-bytes", bytes(range(256)) * 40),
    ]


@pytest.mark.parametrize(("label", "data"), _samples(), ids=[label for label, _ in _samples()])
def test_compression_round_trips_through_oletools(label: str, data: bytes) -> None:
    packed = vba.compress(data)
    assert olevba_decompress(packed) == data
    assert vba.decompress(packed) == data


def test_chunk_layout() -> None:
    rnd = random.Random(7)
    noise = rnd.randbytes(4096 * 3)
    packed = vba.compress(noise)
    # three raw chunks: header 0x3FFF then exactly 4096 bytes each
    assert len(packed) == 1 + 3 * 4098
    assert all(struct.unpack_from("<H", packed, 1 + i * 4098)[0] == 0x3FFF for i in range(3))
    text = (b"Public Sub Foo()\r\n    MsgBox 1\r\nEnd Sub\r\n" * 400)[:10_000]
    packed = vba.compress(text)
    assert len(packed) < len(text) // 10
    pos, sizes = 1, []
    while pos < len(packed):
        header = struct.unpack_from("<H", packed, pos)[0]
        assert header & 0x8000 and (header >> 12) & 7 == 3
        sizes.append((header & 0xFFF) + 3)
        pos += sizes[-1]
    assert pos == len(packed) and len(sizes) == 3  # 4096 + 4096 + 1808 bytes of text


def test_copy_tokens_use_the_position_dependent_split() -> None:
    """A long match late in a chunk needs a 12-bit offset / 4-bit length token: decodes exactly."""
    rnd = random.Random(11)
    head = rnd.randbytes(3000)
    data = head + head[:200]  # match at offset 3000: BitCount 12, lengths capped at 18
    packed = vba.compress(data)
    assert olevba_decompress(packed) == data
    assert len(packed) < len(head) + len(head) // 8 + 100


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b"ab", b"End Sub\r\n", b"\x00", b"\xff", b"xyz"]), max_size=3000),
    st.binary(max_size=300),
)
def test_compression_property(pieces: list[bytes], noise: bytes) -> None:
    data = b"".join(pieces) + noise
    packed = vba.compress(data)
    assert vba.decompress(packed) == data
    assert olevba_decompress(packed) == data


# ----------------------------------------------------------------------------- compound file


def _read_directory(data: bytes) -> list[dict]:
    """Minimal independent parse of the directory entries (enough to check the tree)."""
    first_dir = struct.unpack_from("<I", data, 48)[0]
    fat_sectors = [s for s in struct.unpack_from("<109I", data, 76) if s != 0xFFFFFFFF]
    fat: list[int] = []
    for s in fat_sectors:
        fat += struct.unpack_from("<128I", data, 512 * (s + 1))
    chain, s = [], first_dir
    while s != 0xFFFFFFFE:
        chain.append(s)
        s = fat[s]
    blob = b"".join(data[512 * (s + 1) : 512 * (s + 2)] for s in chain)
    entries = []
    for off in range(0, len(blob), 128):
        name_len = struct.unpack_from("<H", blob, off + 64)[0]
        kind, color = blob[off + 66], blob[off + 67]
        left, right, child = struct.unpack_from("<III", blob, off + 68)
        if kind:
            name = blob[off : off + name_len - 2].decode("utf-16-le")
            entries.append(
                {
                    "name": name,
                    "kind": kind,
                    "black": color == 1,
                    "left": left,
                    "right": right,
                    "child": child,
                }
            )
        else:
            entries.append(None)
    return entries


def _check_tree(entries: list[dict], root_id: int) -> list[str]:
    """In-order names of a storage's children; asserts BST order and red-black rules."""
    names: list[str] = []

    def walk(i: int, parent_red: bool) -> int:
        if i == 0xFFFFFFFF:
            return 1
        e = entries[i]
        assert not (parent_red and not e["black"]), "red node with red child"
        left = walk(e["left"], not e["black"])
        names.append(e["name"])
        right = walk(e["right"], not e["black"])
        assert left == right, "unequal black height"
        return left + (1 if e["black"] else 0)

    top = entries[root_id]["child"]
    if top != 0xFFFFFFFF:
        assert entries[top]["black"], "tree root must be black"
        walk(top, False)
    keys = [(len(n), n.upper()) for n in names]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    return names


def test_cfb_small_and_large_streams_read_back_with_olefile() -> None:
    rnd = random.Random(3)
    streams = {
        "tiny": b"x",
        "empty": b"",
        "below": rnd.randbytes(4095),
        "at": rnd.randbytes(4096),
        "above": rnd.randbytes(70_001),
        "Store/inner": rnd.randbytes(100),
        "Store/Deeper/leaf": rnd.randbytes(9000),
    }
    data = vba.build_compound_file(streams)
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1") and len(data) % 512 == 0
    assert struct.unpack_from("<HH", data, 24) == (0x3E, 3)
    ole = olefile.OleFileIO(io.BytesIO(data))
    for path, content in streams.items():
        assert ole.get_size(path) == len(content)
        assert ole.openstream(path).read() == content
    assert ole.get_type("Store") == olefile.STGTY_STORAGE
    assert ole.get_type("Store/Deeper") == olefile.STGTY_STORAGE
    # streams below the cutoff live in the mini stream, the others in normal sectors
    for path, content in streams.items():
        sid = ole._find(path)
        entry = ole.direntries[sid]
        if 0 < len(content) < 4096:
            assert entry.is_minifat, path
        elif content:
            assert not entry.is_minifat, path
    entries = _read_directory(data)
    assert _check_tree(entries, 0) == ["at", "tiny", "above", "below", "empty", "Store"]


@pytest.mark.parametrize("count", [1, 2, 3, 7, 8, 20, 100])
def test_cfb_directory_tree_is_ordered_and_red_black(count: int) -> None:
    rnd = random.Random(count)
    names = {"".join(rnd.choice("abcXYZ_09") for _ in range(rnd.randint(1, 31))) for _ in range(count)}
    names = {n for n in names if n.upper() not in {m.upper() for m in names if m != n}}
    streams = {n: n.encode() * 3 for n in names}
    data = vba.build_compound_file(streams)
    ole = olefile.OleFileIO(io.BytesIO(data))
    assert sorted("/".join(p) for p in ole.listdir()) == sorted(names)
    assert sorted(_check_tree(_read_directory(data), 0)) == sorted(names)


def test_cfb_needs_difat_sectors_beyond_109_fat_sectors() -> None:
    """Over ~7 MB the FAT no longer fits the header's 109 DIFAT slots: DIFAT sectors take over."""
    big = bytes(range(256)) * (8 * 1024 * 1024 // 256)
    data = vba.build_compound_file({"big": big, "small": b"s" * 10})
    n_difat = struct.unpack_from("<I", data, 72)[0]
    assert n_difat >= 1
    ole = olefile.OleFileIO(io.BytesIO(data))
    assert ole.openstream("big").read() == big
    assert ole.openstream("small").read() == b"s" * 10


# ----------------------------------------------------------------------------- the VBA project


def ledger_bin() -> bytes:
    return vba.ledger_vba_project(SHEETS)


def test_project_streams_and_header() -> None:
    data = ledger_bin()
    ole = olefile.OleFileIO(io.BytesIO(data))
    paths = {"/".join(p) for p in ole.listdir()}
    modules = ["ThisWorkbook", *SHEETS, "LedgerButtons", "xlwings", "Dictionary"]
    assert paths == {"PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir", *(f"VBA/{m}" for m in modules)}
    # _VBA_PROJECT without performance cache: Office compiles from source
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100")
    # the xlwings module is larger than the mini stream cutoff, the document modules are below it
    assert ole.get_size("VBA/xlwings") >= 4096 and ole.get_size("VBA/Sheet1") < 4096

    project = ole.openstream("PROJECT").read().decode("cp1252")
    lines = project.split("\r\n")
    assert re.fullmatch(r'ID="\{[0-9A-F-]{36}\}"', lines[0])
    assert lines[1:6] == [
        "Document=ThisWorkbook/&H00000000",
        "Document=Sheet1/&H00000000",
        "Document=Sheet2/&H00000000",
        "Module=LedgerButtons",
        "Module=xlwings",
    ]
    assert lines[6] == "Class=Dictionary"
    assert 'Name="VBAProject"' in lines and "[Host Extender Info]" in lines
    props = dict(line.split("=", 1) for line in lines if line.startswith(("CMG=", "DPB=", "GC=")))
    proj_key = sum(lines[0][4:-1].encode()) & 0xFF
    assert vba.decrypt(props["CMG"].strip('"')) == (proj_key, b"\0\0\0\0")  # not protected
    assert vba.decrypt(props["DPB"].strip('"')) == (proj_key, b"\0")  # no password
    assert vba.decrypt(props["GC"].strip('"')) == (proj_key, b"\xff")  # visible

    wm = ole.openstream("PROJECTwm").read()
    expected = b"".join(m.encode() + b"\0" + m.encode("utf-16-le") + b"\0\0" for m in modules) + b"\0\0"
    assert wm == expected


def test_decrypt_reads_what_office_wrote() -> None:
    """CMG/DPB/GC of a project saved by Excel (xlwings' quickstart.xlsm) decrypt with our inverse."""
    import xlwings

    book = Path(xlwings.__file__).with_name("quickstart.xlsm")
    with zipfile.ZipFile(book) as z:
        ole = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    text = ole.openstream("PROJECT").read().decode("cp1252")
    pid = re.search(r'ID="(\{[^"]+\})"', text).group(1)
    key = sum(pid.encode()) & 0xFF
    values = dict(re.findall(r'^(CMG|DPB|GC)="([0-9A-F]+)"', text, re.M))
    assert vba.decrypt(values["CMG"]) == (key, b"\0\0\0\0")
    assert vba.decrypt(values["GC"]) == (key, b"\xff")
    # and our encryption of the same data decrypts the same way for every seed
    for seed in range(256):
        assert vba.decrypt(vba._encrypt(b"\xff", pid, seed)) == (key, b"\xff")


def test_dir_stream_as_olevba_reads_it() -> None:
    ole = olefile.OleFileIO(io.BytesIO(ledger_bin()))
    project = VBA_Project(ole, "", "PROJECT", "VBA/dir")
    project.parse_project_stream()
    list(project.parse_modules())
    assert (project.codepage, project.lcid, project.lcidinvoke) == (1252, 0x409, 0x409)
    assert project.projectname == "VBAProject"
    got = [(m.name, m.streamname, m.type, m.textoffset) for m in project.modules]
    assert got == [
        ("ThisWorkbook", "ThisWorkbook", 0x22, 0),
        ("Sheet1", "Sheet1", 0x22, 0),
        ("Sheet2", "Sheet2", 0x22, 0),
        ("LedgerButtons", "LedgerButtons", 0x21, 0),
        ("xlwings", "xlwings", 0x21, 0),
        ("Dictionary", "Dictionary", 0x22, 0),
    ]
    raw = vba.decompress(ole.openstream("VBA/dir").read())
    # records Office needs: SYSKIND, LCID, LCIDINVOKE, CODEPAGE, then a stdole reference and the modules
    assert raw.startswith(struct.pack("<HII", 1, 4, 1) + struct.pack("<HII", 2, 4, 0x409))
    assert b"stdole" in raw and b"{00020430-0000-0000-C000-000000000046}#2.0#0#" in raw
    assert raw.count(struct.pack("<HI", 0x21, 0)) == 2  # two procedural modules
    assert raw.count(struct.pack("<HI", 0x22, 0)) == 4  # three document modules and a class
    assert raw.endswith(struct.pack("<HI", 0x10, 0))


def test_every_module_round_trips_through_olevba() -> None:
    modules = [
        *vba.ledger_modules(SHEETS),
        big_module(),
        VbaModule("Helper", "Sub X()\r\nEnd Sub\r\n", "class"),
    ]
    data = vba.build_vba_project(modules)
    parser = VBA_Parser("vbaProject.bin", data=data)
    got = {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    assert set(got) == {m.name for m in modules}
    for module in modules:
        assert got[module.name].encode("cp1252") == vba.module_source(module).encode("cp1252"), module.name
    # the bodies are the sources themselves
    xlwings_text = vba.installed_xlwings_bas()
    assert strip_attributes(got["xlwings"]) == strip_attributes(xlwings_text).rstrip("\r\n") + "\r\n"
    bas = BAS.read_bytes().decode("ascii")
    assert strip_attributes(got["LedgerButtons"]) == strip_attributes(bas)
    assert len(got["BigModule"]) > 20_000 and len(got["xlwings"]) > 40_000
    # document and class modules carry the attribute block Office writes
    this = got["ThisWorkbook"].split("\r\n")
    assert this[:3] == [
        'Attribute VB_Name = "ThisWorkbook"',
        'Attribute VB_Base = "0{00020819-0000-0000-C000-000000000046}"',
        "Attribute VB_GlobalNameSpace = False",
    ]
    assert 'Attribute VB_Base = "0{00020820-0000-0000-C000-000000000046}"' in got["Sheet1"]
    assert "Attribute VB_PredeclaredId = True" in got["Sheet1"]
    assert got["Helper"].startswith(
        'Attribute VB_Name = "Helper"\r\nAttribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"\r\n'
    )


def test_xlwings_module_is_the_installed_one() -> None:
    import xlwings

    installed = Path(xlwings.__file__).with_name("xlwings.bas").read_bytes().decode("cp1252")
    module = next(m for m in vba.ledger_modules(SHEETS) if m.name == "xlwings")
    assert module.source == installed
    assert not (ROOT / "macros" / "xlwings.bas").exists()


def test_class_module_attributes_match_what_excel_wrote() -> None:
    """xlwings' quickstart_standalone.xlsm (saved by Excel) holds the same Dictionary class we add."""
    import xlwings

    book = Path(xlwings.__file__).with_name("quickstart_standalone.xlsm")
    office = {n.rsplit(".", 1)[0]: c for _, _, n, c in VBA_Parser(str(book)).extract_macros()}["Dictionary"]
    ours = next(m for m in vba.ledger_modules(SHEETS) if m.name == "Dictionary")
    text = vba.module_source(ours)
    assert text.split("\r\n")[:9] == office.split("\r\n")[:9]
    # the VBA editor re-cases identifiers it knows (err -> Err) when saving; otherwise identical
    assert text.lower() == office.lower()
    assert ours.source == vba.installed_xlwings_file("addin/Dictionary.cls")


def test_class_export_header_is_dropped() -> None:
    exported = (
        "VERSION 1.0 CLASS\r\nBEGIN\r\n  MultiUse = -1  'True\r\nEND\r\n"
        'Attribute VB_Name = "Counter"\r\nAttribute VB_Exposed = True\r\nPrivate n As Long\r\n'
    )
    text = vba.module_source(VbaModule("Counter", exported, "class"))
    assert text.startswith('Attribute VB_Name = "Counter"\r\n')
    assert "VERSION" not in text and "Attribute VB_Exposed = True" in text
    assert "Attribute VB_Exposed = False" not in text


def test_build_is_deterministic_and_content_addressed() -> None:
    assert ledger_bin() == ledger_bin()
    other = vba.build_vba_project([VbaModule("M", "Sub A()\r\nEnd Sub\r\n")])
    assert other != vba.build_vba_project([VbaModule("M", "Sub B()\r\nEnd Sub\r\n")])


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        ([VbaModule("M", 'MsgBox "校验"\r\n')], "code page 1252"),
        ([VbaModule("1M", "")], "invalid VBA module name"),
        ([VbaModule("M", ""), VbaModule("m", "")], "duplicate"),
        ([VbaModule("M", 'Attribute VB_Name = "Other"\r\n')], "declares"),
        ([VbaModule("M", "", "form")], "unknown module kind"),  # type: ignore[arg-type]
    ],
)
def test_rejects_what_office_could_not_load(modules: list[VbaModule], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        vba.build_vba_project(modules)


def test_code_page_936_keeps_chinese_literals() -> None:
    module = VbaModule("M", 'Public Const T = "校验台账"\r\n')
    data = vba.build_vba_project([module], codepage=936)
    parser = VBA_Parser("vbaProject.bin", data=data)
    (_, _, _, code), *_ = list(parser.extract_macros())
    assert "校验台账" in code


# ----------------------------------------------------------------------------- the macros


def _subs(source: str) -> dict[str, str]:
    found = re.findall(
        r"^Public (Sub|Function) (\w+)\(.*?\)(?: As \w+)?\r\n(.*?)^End \1", source, re.M | re.S
    )
    return {name: body for _, name, body in found}


def _zh(literal: str) -> str:
    return re.sub(r"\\u([0-9A-Fa-f]{4})", lambda m: chr(int(m.group(1), 16)), literal)


def test_macro_source_is_ascii_crlf_and_messages_decode_to_chinese() -> None:
    raw = BAS.read_bytes()
    raw.decode("ascii")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    text = raw.decode("ascii")
    literals = re.findall(r'Zh\("([^"]*)"\)', text)
    assert len(literals) >= 10
    decoded = [_zh(lit) for lit in literals]
    assert all("\\" not in d for d in decoded)
    joined = "".join(decoded)
    for phrase in (
        "整改台账工具箱",
        "WPS 表格",
        "找不到 Python 解释器",
        "pip install zhenggai-toolkit",
        "校验台账",
    ):
        assert phrase in joined, phrase
    assert "No module named 'toolkit'" in joined


def test_button_subs_guard_and_run_the_toolkit() -> None:
    subs = _subs(BAS.read_bytes().decode("ascii"))
    assert set(vba.BUTTON_MACROS.values()) | {"LedgerSelfTest"} <= set(subs)
    for sub, target in vba.RUNPYTHON_TARGETS.items():
        body = subs[sub]
        module, func = target.rsplit(".", 1)
        assert re.findall(r'RunPython\("([^"]*)"\)', body) == [f"import {module}; {module}.{func}()"]
        guard = body.index("ReadyForPython(")  # host (WPS) and interpreter checks come first
        assert guard < body.index("RunPython(") and "On Error GoTo Failed" in body
    assert set(vba.RUNPYTHON_TARGETS) == set(vba.BUTTON_MACROS.values())


def test_runpython_targets_import_and_are_callable() -> None:
    """Each RunPython command names an importable module and a callable in it."""
    commands = re.findall(r'RunPython\("([^"]*)"\)', BAS.read_bytes().decode("ascii"))
    assert len(commands) == 3
    for command in commands:
        m = re.fullmatch(r"import ([\w.]+); \1\.(\w+)\(\)", command)
        assert m, command
        module, func = m.groups()
        assert f"{module}.{func}" in vba.RUNPYTHON_TARGETS.values()
        if importlib.util.find_spec("toolkit.excel") is None:
            continue  # the binding lands from another branch; the names are pinned by RUNPYTHON_TARGETS
        assert callable(getattr(importlib.import_module(module), func))
    assert sorted(vba.RUNPYTHON_TARGETS.values()) == [
        "toolkit.excel.clear_marks",
        "toolkit.excel.report",
        "toolkit.excel.validate",
    ]


def build_xlsm(path: Path, project: bytes, sheet_codenames: tuple[str, ...] = ("Sheet1",)) -> None:
    """A macro workbook the way the workbook builder makes it: XlsxWriter, code names, buttons."""
    book = xlsxwriter.Workbook(str(path))
    book.set_vba_name("ThisWorkbook")
    sheets = []
    for i, code in enumerate(sheet_codenames):
        sheet = book.add_worksheet("台账" if i == 0 else f"表{i + 1}")
        sheet.set_vba_name(code)
        sheets.append(sheet)
    book.add_vba_project(io.BytesIO(project), is_stream=True)
    sheets[0].write("A1", "序号")
    for i, (caption, macro) in enumerate(vba.BUTTON_MACROS.items()):
        sheets[0].insert_button(
            1, 2 + 2 * i, {"macro": macro, "caption": caption, "width": 100, "height": 30}
        )
    book.close()


def test_xlsm_buttons_are_bound_to_existing_subs(tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsm"
    build_xlsm(path, ledger_bin(), SHEETS)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert "xl/vbaProject.bin" in names
        vml = z.read(next(n for n in names if n.startswith("xl/drawings/vmlDrawing"))).decode()
        workbook_xml = z.read("xl/workbook.xml").decode()
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert 'codeName="ThisWorkbook"' in workbook_xml and 'codeName="Sheet1"' in sheet_xml
    bound = dict(re.findall(r"<font[^>]*>([^<]+)</font>.*?<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml, re.S))
    assert bound == vba.BUTTON_MACROS
    parser = VBA_Parser(str(path))
    sources = {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    for macro in bound.values():
        assert macro in _subs(sources["LedgerButtons"])
    assert (
        strip_attributes(sources["xlwings"]).rstrip()
        == strip_attributes(vba.installed_xlwings_bas()).rstrip()
    )


def test_macros_dir_is_the_repository_copy() -> None:
    assert vba.macros_dir() == ROOT / "macros"
    assert sorted(p.name for p in vba.macros_dir().glob("*.bas")) == ["LedgerButtons.bas"]


# ----------------------------------------------------------------------------- LibreOffice


SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("lo_vba_probe.py")
SELF_TEST_URL = f"vnd.sun.star.script:VBAProject.{vba.SELF_TEST_MACRO}?language=Basic&location=document"


def _have_uno() -> bool:
    if not shutil.which("soffice") or not os.path.exists(SYSTEM_PYTHON):
        return False
    return (
        subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=30).returncode == 0
    )


def run_libreoffice(book: Path, tmp_path: Path, *macros: str) -> dict:
    profile = tmp_path / "lo-profile"
    proc = subprocess.run(
        [SYSTEM_PYTHON, str(PROBE), str(book), str(profile), *macros],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _lo_body(text: str) -> str:
    """An imported module in LibreOffice: 'Rem Attribute VBA_ModuleType=…', 'Option VBASupport 1', body."""
    lines = text.replace("\r\n", "\n").split("\n")
    assert lines[0].startswith("Rem Attribute VBA_ModuleType=") and lines[1] == "Option VBASupport 1"
    return "\n".join(lines[2:]).strip("\n")


office = pytest.mark.skipif(not _have_uno(), reason="needs LibreOffice (soffice) and python3-uno")


@pytest.mark.office
@office
def test_libreoffice_imports_the_ledger_project_and_binds_the_buttons(tmp_path: Path) -> None:
    book = tmp_path / "台账.xlsm"
    build_xlsm(book, vba.ledger_vba_project(("Sheet1",)))
    result = run_libreoffice(book, tmp_path)
    assert "VBAProject" in result["libraries"] and result["vba_mode"]
    assert set(result["modules"]) == {"ThisWorkbook", "Sheet1", "LedgerButtons", "xlwings", "Dictionary"}
    # LibreOffice's own decompressor and dir parser read every module back, including 46 KB of xlwings
    source = BAS.read_bytes().decode("ascii")
    assert _lo_body(result["module_text"]["LedgerButtons"]) == strip_attributes(source).replace(
        "\r\n", "\n"
    ).strip("\n")
    xlwings_body = strip_attributes(vba.installed_xlwings_bas()).replace("\r\n", "\n").strip("\n")
    assert _lo_body(result["module_text"]["xlwings"]) == xlwings_body
    buttons = {b["label"]: b["events"] for b in result["buttons"]}
    assert set(buttons) == set(vba.BUTTON_MACROS)
    for caption, sub in vba.BUTTON_MACROS.items():
        codes = [e["code"] for e in buttons[caption] if e["method"] == "actionPerformed"]
        assert codes == [
            f"vnd.sun.star.script:VBAProject.LedgerButtons.{sub}?language=Basic&location=document"
        ], caption


COUNTER_CLASS = (
    "VERSION 1.0 CLASS\r\nBEGIN\r\n  MultiUse = -1  'True\r\nEND\r\n"
    'Attribute VB_Name = "Counter"\r\n'
    "Option Explicit\r\nPrivate total As Long\r\n"
    "Public Sub Add(ByVal n As Long)\r\n    total = total + n\r\nEnd Sub\r\n"
    "Public Property Get Value() As Long\r\n    Value = total\r\nEnd Property\r\n"
)
USE_CLASS = (
    "Public Function CountTo(ByVal n As Long) As Long\r\n"
    "    Dim c As New Counter, i As Long\r\n"
    "    For i = 1 To n\r\n        c.Add i\r\n    Next i\r\n"
    "    CountTo = c.Value\r\nEnd Function\r\n"
    "Public Function CountToTen() As Long\r\n    CountToTen = CountTo(10)\r\nEnd Function\r\n"
)


@pytest.mark.office
@office
def test_libreoffice_runs_the_self_test_a_large_module_and_a_class(tmp_path: Path) -> None:
    """The project compiles and runs in a real office suite.

    LibreOffice Basic cannot compile xlwings.bas or xlwings' Dictionary class (xlwings does not support
    LibreOffice; the same happens with xlwings' own Excel-saved quickstart_standalone.xlsm), and one
    module that fails to compile stops the whole library there. So this workbook carries the same
    button module and document modules, plus a >20 KB module and a class module, without those two.
    """
    big = big_module()
    modules = [m for m in vba.ledger_modules(("Sheet1",)) if m.name not in ("xlwings", "Dictionary")]
    modules += [big, VbaModule("Counter", COUNTER_CLASS, "class"), VbaModule("UseClass", USE_CLASS)]
    book = tmp_path / "selftest.xlsm"
    build_xlsm(book, vba.build_vba_project(modules))
    url = "vnd.sun.star.script:VBAProject.{}?language=Basic&location=document".format
    calls = run_libreoffice(
        book,
        tmp_path,
        SELF_TEST_URL,
        url("BigModule.BigTotal"),
        url("UseClass.CountToTen"),
        url("LedgerButtons.LedgerHostCheck"),
    )["calls"]
    assert calls[SELF_TEST_URL] == "LEDGER-VBA-OK 55 校验台账"
    assert calls[url("BigModule.BigTotal")] == big_total(big)
    assert calls[url("UseClass.CountToTen")] == 55
    # LibreOffice is not Excel: the buttons would refuse politely and point to the CLI
    message = calls[url("LedgerButtons.LedgerHostCheck")]
    assert "只能在 Microsoft Excel 中使用" in message and "WPS 表格" in message, message
    assert message.rstrip().endswith('selftest.xlsm" --mark') and "ledger validate " in message, message
