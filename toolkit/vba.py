"""Build ``xl/vbaProject.bin`` from VBA source text, per [MS-OVBA] and [MS-CFB].

Why write our own: the workbook must carry the xlwings module of the *installed* xlwings plus our
button macros, so the project cannot be a binary blob checked into the repo, and the PyPI
``ms-ovba`` package corrupts modules longer than a few hundred bytes.

What we write is the smallest project Office accepts and compiles from source:

- ``VBA/_VBA_PROJECT`` is the 7-byte header without a performance cache ([MS-OVBA] 2.3.4.1), so
  Office ignores compiled state and compiles the module sources on first use;
- ``VBA/dir`` (compressed) describes the project and its modules ([MS-OVBA] 2.3.4.2);
- every module stream holds only the compressed source (``MODULEOFFSET`` = 0);
- ``PROJECT`` / ``PROJECTwm`` carry the project properties and module names ([MS-OVBA] 2.3.1, 2.3.3);
- all of it packed into a version 3 compound file ([MS-CFB]).

Decisions (see also ``macros/README.md``):

- Code page: the project code page is 1252 and every module source must be ASCII-only. Module text is
  stored as bytes in the project code page and VBA does not reliably convert it when the machine's
  ANSI code page differs (Chinese literals turn into mojibake on a non-Chinese Windows and on Mac
  Excel).  Our macros build their Chinese messages from ``\\uXXXX`` escapes at run time (``ChrW``),
  which shows the same text on every system; the installed ``xlwings.bas`` is ASCII as well.
  ``build_vba_project`` refuses source that does not encode in the chosen code page.
- References: only stdole ("OLE Automation"), which every new Excel project has and every Windows has.
  The Office object library is not referenced: neither our macros nor xlwings.bas need it, and a
  reference pinned to one Office version's MSO.DLL path shows as MISSING elsewhere and can break
  compilation of unrelated code.  The Excel and VBA libraries are implicit and never listed in ``dir``.
- Deterministic output: the project GUID and the encryption seeds of CMG/DPB/GC derive from the
  project contents, so the same sources give the same bytes (the shipped sample workbook stays stable).
"""

from __future__ import annotations

import hashlib
import re
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ModuleKind = Literal["standard", "document", "class"]

CODEPAGE = 1252
_CODEC = {1252: "cp1252", 936: "gbk", 65001: "utf-8"}

# Office writes exactly these attribute lines at the top of document and class modules.
_WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
_WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
_CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"

_STDOLE_LIBID = (
    "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\\Windows\\System32\\stdole2.tlb#OLE Automation"
)

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}\Z")


@dataclass(frozen=True)
class VbaModule:
    """One VBA module: ``kind`` is standard (a .bas), document (ThisWorkbook, a sheet) or class."""

    name: str
    source: str
    kind: ModuleKind = "standard"


# ---------------------------------------------------------------------------------------------
# [MS-OVBA] 2.4.1 compression
# ---------------------------------------------------------------------------------------------

_CHUNK = 4096
_MAX_CHAIN = 256  # candidates tried per position: bounds the time, text still compresses ~2-3x


def _compress_chunk(data: bytes, start: int, end: int) -> bytes | None:
    """CompressedChunkData for ``data[start:end]``, or None if it would exceed 4096 bytes."""
    out = bytearray()
    heads: dict[bytes, list[int]] = {}
    pos = start

    def remember(p: int) -> None:
        if p + 3 <= end:
            heads.setdefault(data[p : p + 3], []).append(p)

    while pos < end:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            best_len = 0
            best_off = 0
            bit_count = 4
            diff = pos - start
            if diff and end - pos >= 3:
                # 2.4.1.3.19.1: the offset/length split of a CopyToken depends on the position in the chunk.
                bit_count = max((diff - 1).bit_length(), 4)
                limit = min((0xFFFF >> bit_count) + 3, end - pos)
                candidates = heads.get(data[pos : pos + 3])
                if candidates:
                    for cand in reversed(candidates[-_MAX_CHAIN:]):
                        length = 3
                        while length < limit and data[cand + length] == data[pos + length]:
                            length += 1
                        if length > best_len:
                            best_len, best_off = length, pos - cand
                            if length == limit:
                                break
            if best_len >= 3:
                token = ((best_off - 1) << (16 - bit_count)) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                for p in range(pos, pos + best_len):
                    remember(p)
                pos += best_len
            else:
                out.append(data[pos])
                remember(pos)
                pos += 1
        out[flag_at] = flags
        if len(out) > _CHUNK:
            return None
    return bytes(out)


def compress(data: bytes) -> bytes:
    """[MS-OVBA] 2.4.1 CompressedContainer for ``data``.

    Each 4096-byte chunk is LZ-compressed; a full chunk that does not shrink below 4096 bytes is
    stored raw (flag 0).  A raw chunk always stands for exactly 4096 bytes, so a *final* partial
    chunk that does not fit compressed (only possible for >3640 bytes of incompressible data, never
    for source text) is split into two compressed chunks instead of being zero-padded: decoders
    restart the position-dependent token split at each chunk, so the bytes round-trip exactly.
    """
    out = bytearray(b"\x01")
    pos = 0
    n = len(data)
    pending: list[tuple[int, int]] = []
    while pos < n:
        pending.append((pos, min(pos + _CHUNK, n)))
        pos += _CHUNK
    while pending:
        start, end = pending.pop(0)
        body = _compress_chunk(data, start, end)
        if body is not None:
            out += struct.pack("<H", 0xB000 | (len(body) - 1))  # size-3, signature 0b011, flag 1
            out += body
        elif end - start == _CHUNK:
            out += struct.pack("<H", 0x3FFF)  # size 4095 (+3 = 4098), signature 0b011, flag 0
            out += data[start:end]
        else:
            mid = start + (end - start) // 2
            pending[:0] = [(start, mid), (mid, end)]
    return bytes(out)


def decompress(container: bytes) -> bytes:
    """[MS-OVBA] 2.4.1.3.1 decompression (used by our own tests and to read back projects)."""
    if not container or container[0] != 1:
        raise ValueError("not a CompressedContainer (signature byte must be 0x01)")
    out = bytearray()
    pos = 1
    while pos < len(container):
        header = struct.unpack_from("<H", container, pos)[0]
        size = (header & 0x0FFF) + 3
        if (header >> 12) & 0b111 != 0b011:
            raise ValueError(f"bad chunk signature at {pos}")
        chunk_end = min(pos + size, len(container))
        pos += 2
        chunk_start = len(out)
        if not header & 0x8000:
            out += container[pos : pos + _CHUNK]
            pos += _CHUNK
            continue
        while pos < chunk_end:
            flags = container[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if flags & (1 << bit):
                    token = struct.unpack_from("<H", container, pos)[0]
                    pos += 2
                    diff = len(out) - chunk_start
                    bit_count = max((diff - 1).bit_length(), 4)
                    length = (token & (0xFFFF >> bit_count)) + 3
                    offset = (token >> (16 - bit_count)) + 1
                    src = len(out) - offset
                    if src < chunk_start:
                        raise ValueError("copy token points before the chunk")
                    for i in range(length):
                        out.append(out[src + i])
                else:
                    out.append(container[pos])
                    pos += 1
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# [MS-CFB] compound file writer (version 3, 512-byte sectors)
# ---------------------------------------------------------------------------------------------

_SECTOR = 512
_MINI = 64
_CUTOFF = 4096
_FREESECT, _ENDOFCHAIN, _FATSECT, _DIFSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC
_NOSTREAM = 0xFFFFFFFF


@dataclass
class _Node:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    data: bytes = b""
    children: dict[str, _Node] | None = None
    left: int = _NOSTREAM
    right: int = _NOSTREAM
    child: int = _NOSTREAM
    black: bool = True
    start: int = _ENDOFCHAIN
    size: int = 0


def _cfb_key(name: str) -> tuple[int, str]:
    """[MS-CFB] 2.6.4: shorter names first, then code-point order of the upper-cased names."""
    return (len(name.encode("utf-16-le")) // 2, name.upper())


def _chain(fat: list[int], first: int, count: int) -> None:
    for i in range(count):
        fat[first + i] = first + i + 1 if i + 1 < count else _ENDOFCHAIN


def build_compound_file(streams: dict[str, bytes]) -> bytes:
    """A version 3 compound file holding ``streams`` (paths like ``"VBA/dir"``; storages implied).

    Streams shorter than 4096 bytes go to the mini stream; each storage's children form a
    balanced binary search tree coloured as a valid red-black tree (deepest partial level red).
    """
    root = _Node("Root Entry", 5, children={})
    for path, data in streams.items():
        parts = path.split("/")
        node = root
        for part in parts[:-1]:
            assert node.children is not None
            node = node.children.setdefault(part, _Node(part, 1, children={}))
            if node.kind != 1:
                raise ValueError(f"{path}: {part} is a stream, not a storage")
        assert node.children is not None
        if parts[-1] in node.children:
            raise ValueError(f"duplicate stream {path}")
        for part in parts:
            if not part or len(part) > 31 or any(c in part for c in "/\\:!"):
                raise ValueError(f"invalid compound file name {part!r}")
        node.children[parts[-1]] = _Node(parts[-1], 2, data=bytes(data))

    entries: list[_Node] = [root]

    def add_tree(storage: _Node) -> None:
        assert storage.children is not None
        kids = sorted(storage.children.values(), key=lambda n: _cfb_key(n.name))
        if not kids:
            return
        ids = {}
        for kid in kids:
            ids[kid.name] = len(entries)
            entries.append(kid)
        depth_of: dict[str, int] = {}

        def build(lo: int, hi: int, depth: int) -> int:
            if lo >= hi:
                return _NOSTREAM
            mid = (lo + hi) // 2
            node = kids[mid]
            depth_of[node.name] = depth
            node.left = build(lo, mid, depth + 1)
            node.right = build(mid + 1, hi, depth + 1)
            return ids[node.name]

        storage.child = build(0, len(kids), 0)
        max_depth = max(depth_of.values())
        perfect = len(kids) == 2 ** (max_depth + 1) - 1
        for kid in kids:
            kid.black = perfect or depth_of[kid.name] < max_depth
        for kid in kids:
            if kid.kind == 1:
                add_tree(kid)

    add_tree(root)

    # Mini stream (streams < 4096 bytes) and its mini FAT.
    mini = bytearray()
    minifat: list[int] = []
    big: list[_Node] = []
    for node in entries:
        if node.kind != 2:
            continue
        node.size = len(node.data)
        if node.size == 0:
            node.start = _ENDOFCHAIN
        elif node.size < _CUTOFF:
            first = len(mini) // _MINI
            count = -(-node.size // _MINI)
            node.start = first
            minifat.extend([0] * count)
            _chain(minifat, first, count)
            mini += node.data + b"\0" * (count * _MINI - node.size)
        else:
            big.append(node)

    def sectors(n: int) -> int:
        return -(-n // _SECTOR)

    n_dir = -(-len(entries) // 4)
    n_minifat = sectors(len(minifat) * 4)
    n_mini = sectors(len(mini))
    n_data = n_dir + n_minifat + n_mini + sum(sectors(n.size) for n in big)
    n_fat = n_difat = 0
    while True:
        need_fat = -(-(n_data + n_fat + n_difat) // 128)
        need_difat = 0 if need_fat <= 109 else -(-(need_fat - 109) // 127)
        if (need_fat, need_difat) == (n_fat, n_difat):
            break
        n_fat, n_difat = need_fat, need_difat

    fat = [_FREESECT] * (n_fat * 128)
    for i in range(n_fat):
        fat[i] = _FATSECT
    for i in range(n_difat):
        fat[n_fat + i] = _DIFSECT
    cursor = n_fat + n_difat
    dir_start = cursor
    _chain(fat, cursor, n_dir)
    cursor += n_dir
    minifat_start = cursor if n_minifat else _ENDOFCHAIN
    _chain(fat, cursor, n_minifat)
    cursor += n_minifat
    root.start = cursor if n_mini else _ENDOFCHAIN
    root.size = len(mini)
    _chain(fat, cursor, n_mini)
    cursor += n_mini
    for node in big:
        count = sectors(node.size)
        node.start = cursor
        _chain(fat, cursor, count)
        cursor += count

    def pad(buf: bytes | bytearray, fill: bytes = b"\0") -> bytes:
        rest = -len(buf) % _SECTOR
        return bytes(buf) + fill * (rest // len(fill))

    fat_ids = list(range(n_fat))
    header = bytearray()
    header += bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 16
    header += struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6) + b"\0" * 6
    header += struct.pack(
        "<IIIIIIIII",
        0,  # directory sectors (must be 0 in version 3)
        n_fat,
        dir_start,
        0,  # transaction signature
        _CUTOFF,
        minifat_start,
        n_minifat,
        n_fat if n_difat else _ENDOFCHAIN,  # DIFAT sectors follow the FAT sectors
        n_difat,
    )
    header += struct.pack("<109I", *(fat_ids[:109] + [_FREESECT] * (109 - min(109, n_fat))))
    assert len(header) == _SECTOR

    out = bytearray(header)
    out += struct.pack(f"<{len(fat)}I", *fat)
    rest = fat_ids[109:]
    for i in range(n_difat):
        part = rest[i * 127 : (i + 1) * 127]
        nxt = n_fat + i + 1 if i + 1 < n_difat else _ENDOFCHAIN
        out += struct.pack("<128I", *(part + [_FREESECT] * (127 - len(part)) + [nxt]))
    dir_bytes = bytearray()
    for node in entries:
        name16 = node.name.encode("utf-16-le") + b"\0\0"
        dir_bytes += name16.ljust(64, b"\0")
        dir_bytes += struct.pack(
            "<HBBIII", len(name16), node.kind, 1 if node.black else 0, node.left, node.right, node.child
        )
        dir_bytes += b"\0" * 16 + struct.pack("<I", 0) + b"\0" * 16  # CLSID, state bits, times
        start = node.start if node.kind != 1 else 0
        dir_bytes += struct.pack("<IQ", start, node.size if node.kind != 1 else 0)
    empty = b"\0" * 64 + struct.pack("<HBBIII", 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM) + b"\0" * 48
    while len(dir_bytes) % _SECTOR:
        dir_bytes += empty
    out += dir_bytes
    if n_minifat:
        out += pad(struct.pack(f"<{len(minifat)}I", *minifat), struct.pack("<I", _FREESECT))
    out += pad(mini)
    for node in big:
        out += pad(node.data)
    assert len(out) == _SECTOR * (1 + cursor)
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# [MS-OVBA] project streams
# ---------------------------------------------------------------------------------------------


def _rec(rec_id: int, data: bytes) -> bytes:
    return struct.pack("<HI", rec_id, len(data)) + data


def _normalize_source(module: VbaModule) -> str:
    """The module text exactly as Office stores it: attribute lines on top, CRLF line ends."""
    lines = module.source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    # A class exported by the VBE starts with a VERSION/BEGIN…END block that is not part of the stream.
    if lines and lines[0].upper().startswith("VERSION ") and "CLASS" in lines[0].upper():
        end = next((i for i, line in enumerate(lines) if line.strip().upper() == "END"), None)
        if end is None:
            raise ValueError(f"module {module.name}: VERSION block without END")
        lines = lines[end + 1 :]
    attrs: list[str] = []
    while lines and lines[0].startswith("Attribute "):
        attrs.append(lines.pop(0))
    name_attr = f'Attribute VB_Name = "{module.name}"'
    found: dict[str, str] = {}
    for attr in attrs:
        key, _, value = attr[len("Attribute ") :].partition("=")
        found.setdefault(key.strip(), f"Attribute {key.strip()} = {value.strip()}")
    declared = found.pop("VB_Name", None)
    if declared is not None and declared.replace(" ", "") != name_attr.replace(" ", ""):
        raise ValueError(f"module {module.name}: source declares {declared!r}")
    if module.kind == "standard":
        head = [name_attr]
    else:
        # The block Office writes for document and class modules, in Office's order; values the
        # source states (e.g. VB_Exposed = True on an exported class) win over these defaults.
        base = _CLASS_BASE
        if module.kind == "document":
            base = _WORKBOOK_BASE if module.name == "ThisWorkbook" else _WORKSHEET_BASE
        document = module.kind == "document"
        defaults = [
            ("VB_Base", f'"{base}"'),
            ("VB_GlobalNameSpace", "False"),
            ("VB_Creatable", "False"),
            ("VB_PredeclaredId", "True" if document else "False"),
            ("VB_Exposed", "True" if document else "False"),
            ("VB_TemplateDerived", "False"),
            ("VB_Customizable", "True" if document else "False"),
        ]
        head = [name_attr] + [found.pop(key, f"Attribute {key} = {value}") for key, value in defaults]
    attrs = head + list(found.values())
    return "".join(line + "\r\n" for line in attrs + lines)


def module_source(module: VbaModule) -> str:
    """The text stored (compressed) in the module's stream, as olevba and the VBE will show it."""
    return _normalize_source(module)


def _encrypt(data: bytes, project_id: str, seed: int) -> str:
    """[MS-OVBA] 2.4.3.2 Data Encryption, as used by CMG/DPB/GC in the PROJECT stream."""
    version = 2
    proj_key = sum(project_id.encode("ascii")) & 0xFF
    out = bytearray([seed, seed ^ version, seed ^ proj_key])
    unencrypted_1, encrypted_1, encrypted_2 = proj_key, seed ^ proj_key, seed ^ version
    ignored = (seed & 6) // 2
    for byte in bytes(ignored) + struct.pack("<I", len(data)) + data:
        enc = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(enc)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, enc, byte
    return out.hex().upper()


def decrypt(hex_text: str) -> tuple[int, bytes]:
    """Inverse of the Data Encryption: returns (ProjKey, data). Used by tests on real files."""
    enc = bytes.fromhex(hex_text)
    seed = enc[0]
    if seed ^ enc[1] != 2:
        raise ValueError("unknown encryption version")
    proj_key = seed ^ enc[2]
    unencrypted_1, encrypted_1, encrypted_2 = proj_key, enc[2], enc[1]
    plain = bytearray()
    for byte in enc[3:]:
        dec = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        plain.append(dec)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte, dec
    ignored = (seed & 6) // 2
    length = struct.unpack_from("<I", plain, ignored)[0]
    return proj_key, bytes(plain[ignored + 4 : ignored + 4 + length])


def _dir_stream(project_name: str, modules: Sequence[VbaModule], codec: str, codepage: int) -> bytes:
    def mbcs(text: str) -> bytes:
        return text.encode(codec)

    def utf16(text: str) -> bytes:
        return text.encode("utf-16-le")

    d = bytearray()
    d += _rec(0x0001, struct.pack("<I", 1))  # PROJECTSYSKIND: 32-bit Windows (Office recompiles anyway)
    d += _rec(0x0002, struct.pack("<I", 0x409))  # PROJECTLCID (must be 0x409)
    d += _rec(0x0014, struct.pack("<I", 0x409))  # PROJECTLCIDINVOKE (must be 0x409)
    d += _rec(0x0003, struct.pack("<H", codepage))  # PROJECTCODEPAGE
    d += _rec(0x0004, mbcs(project_name))  # PROJECTNAME
    d += _rec(0x0005, b"") + _rec(0x0040, b"")  # PROJECTDOCSTRING + unicode
    d += _rec(0x0006, b"") + _rec(0x003D, b"")  # PROJECTHELPFILEPATH 1 and 2
    d += _rec(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    d += _rec(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS
    d += struct.pack("<HIIH", 0x0009, 4, 1, 0)  # PROJECTVERSION: Reserved=4, major, minor (6 bytes!)
    d += _rec(0x000C, b"") + _rec(0x003C, b"")  # PROJECTCONSTANTS + unicode
    # PROJECTREFERENCES: stdole only (see module docstring).
    d += _rec(0x0016, mbcs("stdole")) + _rec(0x003E, utf16("stdole"))  # REFERENCENAME
    libid = _STDOLE_LIBID.encode(codec)
    d += _rec(0x000D, struct.pack("<I", len(libid)) + libid + struct.pack("<IH", 0, 0))  # REFERENCEREGISTERED
    d += struct.pack("<HIH", 0x000F, 2, len(modules))  # PROJECTMODULES
    d += struct.pack("<HIH", 0x0013, 2, 0xFFFF)  # PROJECTCOOKIE
    for module in modules:
        d += _rec(0x0019, mbcs(module.name)) + _rec(0x0047, utf16(module.name))  # MODULENAME (+unicode)
        d += _rec(0x001A, mbcs(module.name)) + _rec(0x0032, utf16(module.name))  # MODULESTREAMNAME
        d += _rec(0x001C, b"") + _rec(0x0048, b"")  # MODULEDOCSTRING
        d += _rec(0x0031, struct.pack("<I", 0))  # MODULEOFFSET: no performance cache
        d += _rec(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        d += struct.pack("<HIH", 0x002C, 2, 0xFFFF)  # MODULECOOKIE
        d += struct.pack("<HI", 0x0021 if module.kind == "standard" else 0x0022, 0)  # MODULETYPE
        d += struct.pack("<HI", 0x002B, 0)  # module Terminator
    d += struct.pack("<HI", 0x0010, 0)  # dir Terminator
    return bytes(d)


def _project_stream(project_name: str, project_id: str, modules: Sequence[VbaModule], seed: bytes) -> str:
    cmg = _encrypt(struct.pack("<I", 0), project_id, seed[0])
    dpb = _encrypt(bytes([0]), project_id, seed[1])
    gc = _encrypt(bytes([0xFF]), project_id, seed[2])
    lines = [f'ID="{project_id}"']
    for module in modules:
        if module.kind == "document":
            lines.append(f"Document={module.name}/&H00000000")
        elif module.kind == "class":
            lines.append(f"Class={module.name}")
        else:
            lines.append(f"Module={module.name}")
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        # Not protected, no password, visible ([MS-OVBA] 2.3.1.15-2.3.1.17).
        f'CMG="{cmg}"',
        f'DPB="{dpb}"',
        f'GC="{gc}"',
        "",
        "[Host Extender Info]",
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "",
        "[Workspace]",
    ]
    lines += [f"{module.name}=0, 0, 0, 0, C" for module in modules]
    return "".join(line + "\r\n" for line in lines)


def build_vba_project(
    modules: Sequence[VbaModule], project_name: str = "VBAProject", codepage: int = CODEPAGE
) -> bytes:
    """The bytes of a ``vbaProject.bin`` holding ``modules``, compiled by Office from source on load."""
    if codepage not in _CODEC:
        raise ValueError(f"unsupported code page {codepage}")
    codec = _CODEC[codepage]
    if not _IDENT.match(project_name):
        raise ValueError(f"invalid VBA project name {project_name!r}")
    seen: set[str] = set()
    texts: list[bytes] = []
    for module in modules:
        if not _IDENT.match(module.name):
            raise ValueError(f"invalid VBA module name {module.name!r}")
        if module.name.upper() in seen or module.name.upper() == project_name.upper():
            raise ValueError(f"duplicate VBA name {module.name!r}")
        if module.kind not in ("standard", "document", "class"):
            raise ValueError(f"unknown module kind {module.kind!r}")
        seen.add(module.name.upper())
        text = _normalize_source(module)
        try:
            texts.append(text.encode(codec))
        except UnicodeEncodeError as exc:
            bad = text[exc.start : exc.end]
            raise ValueError(
                f"module {module.name}: {bad!r} is not in code page {codepage}; build it with ChrW"
            ) from exc

    digest = hashlib.sha256(
        b"\0".join(
            [
                project_name.encode(),
                *(m.name.encode() + b"\1" + t for m, t in zip(modules, texts, strict=True)),
            ]
        )
    ).digest()
    project_id = "{" + str(uuid.UUID(bytes=digest[:16])).upper() + "}"

    streams: dict[str, bytes] = {
        "PROJECT": _project_stream(project_name, project_id, modules, digest[16:19]).encode(codec),
        "PROJECTwm": b"".join(
            m.name.encode(codec) + b"\0" + m.name.encode("utf-16-le") + b"\0\0" for m in modules
        )
        + b"\0\0",
        # [MS-OVBA] 2.3.4.1: Reserved1 0x61CC, Version 0xFFFF ("MUST be 0xFFFF on write": performance
        # caches are ignored and Office compiles from source), Reserved2 0x00, Reserved3 (undefined;
        # 0x0001 as in the spec's example 3.1.1), no PerformanceCache ("MUST NOT be present on write").
        "VBA/_VBA_PROJECT": struct.pack("<HHBH", 0x61CC, 0xFFFF, 0x00, 0x0001),
        "VBA/dir": compress(_dir_stream(project_name, modules, codec, codepage)),
    }
    for module, text in zip(modules, texts, strict=True):
        streams[f"VBA/{module.name}"] = compress(text)
    return build_compound_file(streams)


# ---------------------------------------------------------------------------------------------
# The ledger workbook's project
# ---------------------------------------------------------------------------------------------

#: Button captions and the Sub each one runs (the workbook builder places the buttons).
BUTTON_MACROS: dict[str, str] = {
    "校验台账": "ValidateLedger",
    "生成通报": "GenerateReport",
    "清除标记": "ClearMarks",
}
#: What each button's Sub passes to RunPython: module and callable in ``toolkit.excel``.
RUNPYTHON_TARGETS: dict[str, str] = {
    "ValidateLedger": "toolkit.excel.validate",
    "GenerateReport": "toolkit.excel.report",
    "ClearMarks": "toolkit.excel.clear_marks",
}
#: Pure-VBA Sub that proves the project compiles and runs (used by the LibreOffice test).
SELF_TEST_MACRO = "LedgerButtons.LedgerSelfTest"


def macros_dir() -> Path:
    """Where the ``.bas`` sources live: ``macros/`` in a checkout or editable install, else the wheel copy.

    The repository keeps them in ``macros/`` (the only copy); ``pyproject.toml`` maps that directory
    into the wheel as ``toolkit/macros`` so an installed toolkit finds them too.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "macros", here / "macros"):
        if candidate.is_dir() and any(candidate.glob("*.bas")):
            return candidate
    raise FileNotFoundError("VBA sources (macros/*.bas) not found next to the toolkit package")


def installed_xlwings_file(relative: str) -> str:
    """A VBA source file shipped inside the installed xlwings package (never copied into the repository)."""
    import importlib.util

    spec = importlib.util.find_spec("xlwings")  # locate without importing (xlwings' import is slow)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"xlwings is not installed: its VBA source {relative} is needed")
    return (Path(spec.origin).parent / relative).read_bytes().decode("cp1252")


def installed_xlwings_bas() -> str:
    """The VBA module of the installed xlwings package."""
    return installed_xlwings_file("xlwings.bas")


def ledger_modules(sheet_codenames: Sequence[str] = ("Sheet1",)) -> list[VbaModule]:
    """Modules of the ledger workbook: ThisWorkbook, a document module per sheet, macros/*.bas, xlwings."""
    modules = [VbaModule("ThisWorkbook", "", "document")]
    modules += [VbaModule(name, "", "document") for name in sheet_codenames]
    for path in sorted(macros_dir().glob("*.bas")):
        modules.append(VbaModule(path.stem, path.read_bytes().decode("ascii"), "standard"))
    modules.append(VbaModule("xlwings", installed_xlwings_bas(), "standard"))
    # xlwings' own standalone workbooks add this class next to xlwings.bas: on Mac, xlwings.bas declares
    # "Dim d As Dictionary" and does not compile without it.
    modules.append(VbaModule("Dictionary", installed_xlwings_file("addin/Dictionary.cls"), "class"))
    return modules


def ledger_vba_project(sheet_codenames: Sequence[str] = ("Sheet1",)) -> bytes:
    """``vbaProject.bin`` for the ledger workbook; ``sheet_codenames`` must match the sheets' code names."""
    return build_vba_project(ledger_modules(sheet_codenames))
