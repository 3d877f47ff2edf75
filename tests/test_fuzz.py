"""A seeded, structure-aware fuzz of validate, stats, validate --mark and clear (issue 14).

Each case takes a ledger the toolkit makes (plain, or marked once), applies one to three mutations of
the kinds the fault campaign used — parts deleted or duplicated, numbers made huge, negative or
fractional, cell types swapped, shared strings broken, relationships pointing outside the package,
bad style indices, the 1904 flag, references past XFD1048576, a damaged marks record, damaged zip
headers, flipped or cut bytes — and runs one command on it in-process. Every run must end with exit
0, 1 or 2 (3 only for the documented copy), with no traceback or warning text, and the file must be
either untouched or marked/cleared and readable by calamine and openpyxl with the ledger's values.
"""

from __future__ import annotations

import base64
import datetime as dt
import gc
import io
import json
import os
import random
import re
import struct
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit import xlsx
from toolkit.cli import main

SEED = int(os.environ.get("FUZZ_SEED", "20261207"))
CASES = int(os.environ.get("FUZZ_CASES", "600"))
AS_OF = "2024-12-31"
COMMANDS = (
    ("validate", "--as-of", AS_OF, "--no-history", "--json"),
    ("stats", "--as-of", AS_OF),
    ("validate", "--as-of", AS_OF, "--no-history", "--mark"),
    ("clear",),
)
FORBIDDEN = ("Traceback", "Exception ignored", "Warning", "内部错误", "panicked", "Error:")


# --------------------------------------------------------------------------- the package as parts


def parts_of(raw: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def zip_of(parts: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            with __import__("warnings").catch_warnings():
                __import__("warnings").simplefilter("ignore")  # a duplicated name, on purpose
                zf.writestr(name, data)
    return buf.getvalue()


NUMBERS = [b"-1", b"0", b"1.5", b"99999", b"4294967296", b"99999999999999999999", b"", b"NaN", b"1e9", b" 1"]
TYPES = [b"s", b"n", b"b", b"e", b"str", b"inlineStr", b"d", b"x", b""]
REFS = [b"AAAAAAAAAA1", b"XFE1", b"A1048577", b"A0", b"a1", b"1A", b"", b"XFD1048576", b"A01", b"ZZZ9999999"]
OUTSIDE = [
    b"../../../../etc/passwd",
    b"/etc/passwd",
    b"file:///etc/passwd",
    b"http://127.0.0.1/x",
    b"..\\..\\x",
]


def _xml_parts(parts):
    return [i for i, (name, _) in enumerate(parts) if name.endswith((".xml", ".rels", ".vml"))]


def _sub_one(rng: random.Random, data: bytes, pattern: bytes, make) -> bytes:
    found = list(re.finditer(pattern, data))
    if not found:
        return data
    m = rng.choice(found)
    return data[: m.start(1)] + make(m) + data[m.end(1) :]


def m_delete(rng, parts):
    if len(parts) > 1:
        del parts[rng.randrange(len(parts))]


def m_duplicate(rng, parts):
    name, data = rng.choice(parts)
    parts.insert(
        rng.randrange(len(parts) + 1), (name, data if rng.random() < 0.5 else data[: len(data) // 2])
    )


def m_number(rng, parts):
    i = rng.choice(_xml_parts(parts))
    name, data = parts[i]
    parts[i] = (name, _sub_one(rng, data, rb'\s[\w:]+="(-?\d+(?:\.\d+)?)"', lambda m: rng.choice(NUMBERS)))


def m_cell_type(rng, parts):
    for i, (name, data) in enumerate(parts):
        if name.startswith("xl/worksheets/") and rng.random() < 0.7:
            data = _sub_one(rng, data, rb'<c\b[^>]*?\st="(\w*)"', lambda m: rng.choice(TYPES))
            parts[i] = (
                name,
                _sub_one(rng, data, rb"<v>([^<]*)</v>", lambda m: rng.choice([*NUMBERS, b"abc"])),
            )


def m_shared_strings(rng, parts):
    for i, (name, data) in enumerate(parts):
        if name.endswith("sharedStrings.xml"):
            choice = rng.randrange(4)
            if choice == 0:
                data = data[: rng.randrange(len(data))]
            elif choice == 1:
                data = re.sub(rb"<si>.*?</si>", b"", data, count=rng.randint(1, 50), flags=re.S)
            elif choice == 2:
                data = re.sub(rb'uniqueCount="\d+"', b'uniqueCount="4000000000"', data)
            else:
                data = data.replace(b"<t>", b"<t><r>", 3)
            parts[i] = (name, data)


def m_rel_outside(rng, parts):
    rels = [i for i, (name, _) in enumerate(parts) if name.endswith(".rels")]
    i = rng.choice(rels)
    name, data = parts[i]
    data = _sub_one(rng, data, rb'Target="([^"]*)"', lambda m: rng.choice(OUTSIDE))
    if rng.random() < 0.3:
        data = data.replace(b"/>", b' TargetMode="External"/>', 1)
    parts[i] = (name, data)


def m_style_index(rng, parts):
    for i, (name, data) in enumerate(parts):
        if name.startswith("xl/worksheets/sheet"):
            parts[i] = (name, _sub_one(rng, data, rb'<c\b[^>]*?\ss="(\d+)"', lambda m: rng.choice(NUMBERS)))
        elif name == "xl/styles.xml" and rng.random() < 0.3:
            data = re.sub(
                rb"<cellXfs\b[^>]*>.*?</cellXfs>", b'<cellXfs count="0"></cellXfs>', data, flags=re.S
            )
            parts[i] = (name, data)


def m_1904(rng, parts):
    for i, (name, data) in enumerate(parts):
        if name == "xl/workbook.xml":
            if b"<workbookPr" in data:
                data = data.replace(b"<workbookPr", b'<workbookPr date1904="1"', 1)
            else:
                data = data.replace(b"<sheets>", b'<workbookPr date1904="true"/><sheets>', 1)
            parts[i] = (name, data)


def m_reference(rng, parts):
    sheets = [i for i, (name, _) in enumerate(parts) if name.startswith("xl/worksheets/sheet")]
    i = rng.choice(sheets)
    name, data = parts[i]
    pattern = rng.choice(
        [rb'<c r="([^"]*)"', rb'<row r="([^"]*)"', rb'<dimension ref="([^"]*)"', rb'<mergeCell ref="([^"]*)"']
    )
    parts[i] = (name, _sub_one(rng, data, pattern, lambda m: rng.choice(REFS)))


def m_cut_xml(rng, parts):
    i = rng.choice(_xml_parts(parts))
    name, data = parts[i]
    parts[i] = (name, data[: rng.randrange(max(len(data), 1))])


def m_record(rng, parts):
    for i, (name, data) in enumerate(parts):
        m = re.search(rb">([A-Za-z0-9+/=]+)</marks>", data)
        if m is None:
            continue
        record = json.loads(base64.b64decode(m[1]))
        _damage(rng, record)
        payload = base64.b64encode(json.dumps(record, ensure_ascii=False).encode())
        parts[i] = (name, data[: m.start(1)] + payload + data[m.end(1) :])


def _damage(rng: random.Random, node) -> None:
    """Replace one value somewhere in the record with something of another type or size."""
    path = []
    while isinstance(node, (dict, list)) and node:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, key))
        if rng.random() < 0.4:
            break
        node = node[key]
    if not path:
        return
    parent, key = path[-1]
    parent[key] = rng.choice(
        [None, -1, 1.5, "1.5", 99999, "AAAA1", "台账", [], {}, True, '<row r="1">', "x" * 300]
    )


def m_zip_header(rng, parts):
    return "zip"  # applied on the bytes, see mutate()


MUTATORS = [
    m_delete, m_duplicate, m_number, m_cell_type, m_shared_strings, m_rel_outside, m_style_index,
    m_1904, m_reference, m_cut_xml, m_record, m_record, m_zip_header,
]  # fmt: skip


def damage_zip(rng: random.Random, raw: bytes) -> bytes:
    raw = bytearray(raw)
    choice = rng.randrange(5)
    if choice == 0:  # version needed to extract, in the central directory
        at = raw.find(b"PK\x01\x02") + 6
        struct.pack_into("<H", raw, at, rng.choice([84, 63, 0xFFFF]))
    elif choice == 1:  # offset of the central directory: local headers land before the file
        at = raw.rfind(b"PK\x05\x06") + 16
        struct.pack_into(
            "<I", raw, at, min(struct.unpack_from("<I", raw, at)[0] + rng.randint(1, 5000), 2**32 - 1)
        )
    elif choice == 2:  # a compression method, in the central directory
        starts = [m.start() for m in re.finditer(b"PK\x01\x02", raw)]
        struct.pack_into("<H", raw, rng.choice(starts) + 10, rng.choice([1, 6, 12, 14, 99, 98]))
    elif choice == 3:  # flipped bytes
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
    else:  # cut short
        raw = raw[: rng.randrange(len(raw))]
    return bytes(raw)


def mutate(rng: random.Random, raw: bytes) -> tuple[bytes, list[str]]:
    parts = parts_of(raw)
    names = []
    to_zip = False
    for mutator in rng.sample(MUTATORS, rng.randint(1, 3)):
        names.append(mutator.__name__)
        if mutator(rng, parts) == "zip":
            to_zip = True
    out = zip_of(parts)
    return (damage_zip(rng, out) if to_zip else out), names


# --------------------------------------------------------------------------- reading results back


def _norm(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value)


def calamine_values(path: Path, sheet: str) -> list[list] | None:
    """The sheet as ``validate`` reads it (the guard first, then calamine); None when it refuses."""
    from toolkit.errors import LedgerError
    from toolkit.guard import sniff
    from toolkit.sources import CalamineSource

    try:
        source = CalamineSource(sniff(path))
        try:
            rows = source.load(sheet)[0]
        finally:
            source.close()
    except LedgerError:
        return None
    return _trim([[_norm(v) for v in row] for row in rows])


def openpyxl_values(path: Path, sheet: str) -> list[list]:
    import warnings

    from openpyxl import load_workbook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = load_workbook(path, read_only=True, data_only=True)
        rows = [[_norm(v) for v in row] for row in wb[sheet].iter_rows(values_only=True)]
        wb.close()
    return _trim(rows)


def _or_none(read, path: Path):
    try:
        return read(path, "台账")
    except Exception:
        return None


def _trim(rows: list[list]) -> list[list]:
    rows = [row[: max((i + 1 for i, v in enumerate(row) if v is not None), default=0)] for row in rows]
    while rows and not rows[-1]:
        rows.pop()
    return rows


# --------------------------------------------------------------------------- the corpus and the run


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[bytes]:
    from markbooks import findings_for, full_workbook

    from toolkit.workbook import new_ledger

    folder = tmp_path_factory.mktemp("corpus")
    made = new_ledger(
        folder / "made.xlsx", sample=True, year=2024, created=dt.datetime(2024, 1, 2)
    ).read_bytes()
    marked, _ = xlsx.mark_package(made, "台账", _findings(made), label="made.xlsx")
    full = _fixed_times(full_workbook(folder).read_bytes())
    full_marked, _ = xlsx.mark_package(full, "台账", findings_for(12), label="full.xlsx")
    return [made, marked, full, full_marked]


def _fixed_times(raw: bytes) -> bytes:
    """The same bytes on every run (the seed must pick the same mutations): no creation time."""
    parts = [
        (n, re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-02T00:00:00Z", d)) for n, d in parts_of(raw)
    ]
    return zip_of(parts)


def _findings(raw: bytes) -> list:
    from toolkit.model import Finding

    return [Finding("missing-value", s, r, c, "owner", "", f"{c}{r}") for r, c, s in
            [(3, "C", "error"), (4, "H", "warning"), (5, "L", "error"), (40, "B", "error")]]  # fmt: skip


def run_case(runner: CliRunner, folder: Path, raw: bytes, command: tuple) -> tuple:
    path = folder / "台账.xlsx"
    for leftover in folder.iterdir():
        if leftover.is_file():
            leftover.unlink()
    path.write_bytes(raw)
    args = [command[0], str(path), *command[1:]]
    result = runner.invoke(main, args, catch_exceptions=True)
    gc.enable()  # the command turns the collector off for its short life; the test process lives on
    return result, path


def check_case(result, path: Path, raw: bytes, command: tuple, before: tuple | None) -> None:
    text = (result.stdout or "") + (result.stderr or "")
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    for word in FORBIDDEN:
        assert word not in text, text[-2000:]
    code = result.exit_code
    assert code in (0, 1, 2) or (code == 3 and "结果另存为" in text and "--mark" in command), (
        code,
        text[-2000:],
    )
    if code == 2:
        message = result.stderr.strip().splitlines()[-1]
        assert message.endswith("。") and any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    now = path.read_bytes()
    if now == raw:
        return
    assert command[0] == "clear" or "--mark" in command, "only --mark and clear write"
    assert code in (0, 1), (code, text[-1000:])
    assert before is not None and before[0] is not None  # a file calamine could not read was changed
    got = calamine_values(path, "台账")
    assert got == before[0]
    if before[1] is not None:  # a part openpyxl cannot parse is copied as it was: not made worse, not mended
        assert openpyxl_values(path, "台账") == before[1]
    assert zipfile.ZipFile(path).testzip() is None


def test_fuzz_every_command_on_mutated_ledgers(tmp_path, corpus):
    rng = random.Random(SEED)
    runner = CliRunner()
    folder = tmp_path / "case"
    folder.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    start = time.monotonic()
    outcomes: dict[int, int] = {}
    for case in range(CASES):
        base = corpus[case % len(corpus)]
        raw, names = mutate(rng, base)
        command = COMMANDS[rng.randrange(len(COMMANDS))]
        before = None
        if command[0] == "clear" or "--mark" in command:
            (scratch / "台账.xlsx").write_bytes(raw)
            before = (
                calamine_values(scratch / "台账.xlsx", "台账"),
                _or_none(openpyxl_values, scratch / "台账.xlsx"),
            )
        result, path = run_case(runner, folder, raw, command)
        try:
            check_case(result, path, raw, command, before)
        except Exception as exc:
            if os.environ.get("FUZZ_DUMP"):
                Path(os.environ["FUZZ_DUMP"], "raw.xlsx").write_bytes(raw)
                Path(os.environ["FUZZ_DUMP"], "now.xlsx").write_bytes(path.read_bytes())
            raise AssertionError(
                f"case {case} ({names}, {command[0]} {' '.join(command[1:])}): {exc}"
            ) from None
        outcomes[result.exit_code] = outcomes.get(result.exit_code, 0) + 1
    seconds = time.monotonic() - start
    print(f"fuzz: {CASES} cases in {seconds:.1f} s, exit codes {dict(sorted(outcomes.items()))}")
    assert outcomes.get(2, 0) > CASES // 10 and outcomes.get(0, 0) + outcomes.get(1, 0) > CASES // 10
